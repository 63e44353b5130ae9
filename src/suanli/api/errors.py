"""Translation of coded errors to HTTP: ``{"code", "message", "fields"}`` with the right status.

A value the database itself refuses (SQLSTATE class 22, ``sqlalchemy.exc.DataError``: a NUL
character in text on PostgreSQL, a number out of the column's range) is the caller's bad input:
422 ``request.invalid_value``, never a 500. The transaction has been rolled back by then.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SuanliError, _suanli_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(DataError, _data_error)
