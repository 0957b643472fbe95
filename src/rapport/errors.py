"""Errors a person can act on: each message names what was wrong and where."""

from __future__ import annotations


class RapportError(Exception):
    """Base of every error we show to a person (UI message, API JSON, CLI exit code 2)."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(RapportError):
    """The input breaks a rule; ``field`` says which part, when one part is to blame."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(RapportError):
    status_code = 404


class PermissionDenied(RapportError):
    status_code = 403


class Conflict(RapportError):
    status_code = 409
