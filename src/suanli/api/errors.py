"""Translation of coded errors to HTTP: ``{"code", "message", "fields"}`` with the right status.

A value the database itself refuses (SQLSTATE class 22, ``sqlalchemy.exc.DataError``: a NUL
character in text on PostgreSQL, a number out of the column's range) is the caller's bad input:
422 ``request.invalid_value``, never a 500. The transaction has been rolled back by then.

Races the services do not pre-check end at the database too, and answer like the pre-check would:

- ``IntegrityError`` (a unique key or rule another request won first: two desks creating the
  same customer, user, site, server, order or price at once) → 409 ``conflict.exists``.
- ``OperationalError`` "database is locked" (SQLite's writer waited past its busy timeout under
  concurrent writes) → 503 ``db.busy`` with ``Retry-After: 1``; the request changed nothing.
- Anything else → 500 ``internal.error`` with ``Connection: close``, so a client does not reuse
  a connection the server is about to drop.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from suanli.core.errors import SuanliError


async def _suanli_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SuanliError)
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def _request_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = {
        ".".join(str(p) for p in err["loc"] if p != "body"): err["msg"] for err in exc.errors()
    }
    return JSONResponse(
        {"code": "request.invalid", "message": "request validation failed", "fields": fields},
        status_code=422,
    )


async def _data_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DataError)
    reason = str(exc.orig).splitlines()[0] if exc.orig is not None else "value refused"
    return JSONResponse(
        {
            "code": "request.invalid_value",
            "message": f"the database refused a value: {reason}",
            "fields": {},
        },
        status_code=422,
    )


def _first_line(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig if orig is not None else exc).splitlines()[0][:300]


async def _integrity_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    return JSONResponse(
        {
            "code": "conflict.exists",
            "message": f"conflicts with a record written concurrently: {_first_line(exc)}",
            "fields": {},
        },
        status_code=409,
    )


async def _operational_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OperationalError)
    if "database is locked" not in _first_line(exc):
        return await _internal_error(request, exc)
    return JSONResponse(
        {"code": "db.busy", "message": "the database is busy: retry shortly", "fields": {}},
        status_code=503,
        headers={"Retry-After": "1"},
    )


async def _internal_error(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"code": "internal.error", "message": "internal error (logged)", "fields": {}},
        status_code=500,
        headers={"Connection": "close"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SuanliError, _suanli_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(OperationalError, _operational_error)
    app.add_exception_handler(Exception, _internal_error)
