"""Translation of coded errors to HTTP: ``{"code", "message", "fields"}`` with the right status."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(SuanliError, _suanli_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
