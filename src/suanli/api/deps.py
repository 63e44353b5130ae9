"""Request dependencies: the service bundle built by :func:`suanli.api.app.create_app`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from suanli.core.serialize import to_jsonable
from suanli.services.container import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def out(value: Any) -> Any:
    """Domain value → JSON-safe data (money as decimal strings, never floats)."""
    return to_jsonable(value)
