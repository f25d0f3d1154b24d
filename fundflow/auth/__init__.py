"""Signing in and out, passwords, and the API's bearer tokens."""
