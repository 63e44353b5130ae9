"""Request dependencies: the service bundle built by :func:`suanli.api.app.create_app`, and the
one pagination dependency every list endpoint uses. Both are ``async``: they do no I/O, so
they run on the event loop instead of costing a threadpool hop per request.

Pagination bounds: ``limit`` 1..500 (:data:`~suanli.services.common.MAX_LIMIT`), ``offset``
0..10^9 (:data:`~suanli.services.common.MAX_OFFSET`). Anything outside is a 422
``request.invalid`` naming the parameter, before a query is built (an offset beyond 2^63 would
otherwise overflow SQLite's INTEGER).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from suanli.core.serialize import to_jsonable
from suanli.services.common import MAX_LIMIT, MAX_OFFSET
from suanli.services.container import Services


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    offset: int


async def paging(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")] = 0,
) -> Paging:
    return Paging(limit, offset)


PagingDep = Annotated[Paging, Depends(paging)]


def out(value: Any) -> Any:
    """Domain value → JSON-safe data (money as decimal strings, never floats)."""
    return to_jsonable(value)


def page_out(value: Any) -> JSONResponse:
    """:func:`out` as a 200 response. The data is already JSON-safe, so this skips the second
    pass FastAPI's ``jsonable_encoder`` makes over a returned value (a third of the CPU time
    of a 50-item list request). The ``-> Any`` routes' OpenAPI entries are unchanged."""
    return JSONResponse(out(value))
