"""Auditor: read everything, change nothing."""
