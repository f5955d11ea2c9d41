"""Domain errors that services raise; the API maps each to one HTTP status."""

from __future__ import annotations


class EngageError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(EngageError):
    status = 404


class Conflict(EngageError):
    status = 409


class Unprocessable(EngageError):
    """The request is well-formed but breaks a rule (not enough points, invalid phone …)."""

    status = 422
