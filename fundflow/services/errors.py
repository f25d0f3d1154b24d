"""Domain errors. Each carries an HTTP-like status, a snake_case code and, for validation
failures, messages per field, so that forms and the JSON API can both report them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


class DomainError(Exception):
    """A refusal the user can be told about. A subclass names its status and code in its
    class line: ``class NotFound(DomainError, status=404, code="not_found")``."""

    status = 400
    code = "bad_request"

    def __init_subclass__(cls, *, status: int | None = None, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, code: str | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(DomainError, status=404, code="not_found"): ...


class NotPermitted(DomainError, status=403, code="forbidden"): ...


class InvalidTransition(DomainError, status=409, code="invalid_state"): ...


class Conflict(DomainError, status=409, code="conflict"): ...


class Throttled(DomainError, status=429, code="too_many_attempts"): ...


class AuthenticationFailed(DomainError, status=401, code="unauthorized"): ...


class ValidationFailed(DomainError, status=422, code="validation_failed"):
    """One or more rules failed; ``fields`` maps each field to its messages."""

    def __init__(
        self,
        fields: Mapping[str, Iterable[str]] | None = None,
        message: str | None = None,
        *,
        code: str | None = None,
    ):
        self.fields = {name: list(messages) for name, messages in (fields or {}).items()}
        first = next((m for ms in self.fields.values() for m in ms), None)
        super().__init__(message or first or "Check the details you gave", code=code)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], *, code: str | None = None):
        fields: dict[str, list[str]] = {}
        for name, message in pairs:
            fields.setdefault(name, []).append(message)
        return cls(fields, code=code)


class Problems:
    """Collects (field, message) pairs while validating, then raises them all at once."""

    def __init__(self) -> None:
        self.pairs: list[tuple[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.pairs.append((field, message))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def raise_if_any(self) -> None:
        if self.pairs:
            raise ValidationFailed.from_pairs(self.pairs)
