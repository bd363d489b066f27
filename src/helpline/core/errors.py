"""Domain errors. Each dialect maps them onto its own error shape and HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the core can give; ``message`` is meant for the caller to read."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The state moved under the caller (another agent accepted first, the conversation ended...)."""

    status = 409


class Invalid(DomainError):
    """Well-formed request that the rules refuse (inactive department, finished conversation...)."""

    status = 422
