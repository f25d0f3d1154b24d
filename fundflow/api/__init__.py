"""The JSON API (API.md): ``bp`` under ``/api/v1``, bearer tokens only, CSRF-exempt."""

from . import openapi, routes
from .core import bp

__all__ = ["bp", "openapi", "routes"]
