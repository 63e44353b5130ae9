"""The one error hierarchy of Suanli.

Every user-facing failure is a :class:`SuanliError` with a stable dotted ``code``
(``server.invalid_transition``, ``lease.capacity_unavailable`` ...), a human message and an
optional mapping ``fields`` of field name -> what was expected. Interfaces translate it:
the API to ``{"code", "message", "fields"}`` with :attr:`SuanliError.status`, the CLI to one
line on stderr and a non-zero exit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class SuanliError(Exception):
    """Base of all coded errors. ``status`` is the HTTP status the API answers with."""

    status: ClassVar[int] = 400

    def __init__(self, code: str, message: str, fields: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields: dict[str, Any] = dict(fields or {})

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "fields": self.fields}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ValidationError(SuanliError):
    """Input does not have the expected shape or range (HTTP 422)."""

    status = 422


class NotFoundError(SuanliError):
    """A named entity does not exist, or is not visible to the caller (HTTP 404)."""

    status = 404


class ConflictError(SuanliError):
    """The request is well-formed but clashes with current state (HTTP 409)."""

    status = 409


class UnauthorizedError(SuanliError):
    """Missing or invalid credentials (HTTP 401)."""

    status = 401


class ForbiddenError(SuanliError):
    """Authenticated, but the role may not do this (HTTP 403)."""

    status = 403


class NotMigratedError(SuanliError):
    """The database schema is missing or behind the code (HTTP 503)."""

    status = 503
