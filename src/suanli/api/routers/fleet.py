"""/api/v1: sites, cabinets, servers (filters, pagination), lifecycle transitions, server import."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from suanli.api.deps import ServicesDep, out
from suanli.core.fleet import parse_state
from suanli.services.fleet import NewServer, ServerFilter

router = APIRouter(tags=["fleet"])


class SiteIn(BaseModel):
    code: str
    name: str
    city: str | None = None


class CabinetIn(BaseModel):
    site: str
    code: str
    power_budget_kw: Decimal


class ServerIn(BaseModel):
    serial: str
    sku: str
    purchase_price: Decimal | None = None
    currency: str | None = None
    supplier: str | None = None
    network_group: str | None = None
    state: str = "ordered"
    actor: str = "api"
    reason: str = "registered"


class TransitionIn(BaseModel):
    to_state: str
    reason: str
    actor: str = "api"
    cabinet: str | None = Field(default=None, description="SITE/CABINET, when racking")


class CsvIn(BaseModel):
    csv: str
    actor: str = "api"
    source: str = "API upload"


@router.get("/sites")
def list_sites(svc: ServicesDep) -> dict[str, Any]:
    return {"items": out(svc.fleet.list_sites())}


@router.post("/sites", status_code=status.HTTP_201_CREATED)
def add_site(body: SiteIn, svc: ServicesDep) -> Any:
    return out(svc.fleet.add_site(body.code, body.name, body.city))


@router.get("/cabinets")
def list_cabinets(svc: ServicesDep, site: str | None = None) -> dict[str, Any]:
    return {"items": out(svc.fleet.list_cabinets(site))}


@router.post("/cabinets", status_code=status.HTTP_201_CREATED)
def add_cabinet(body: CabinetIn, svc: ServicesDep) -> Any:
    return out(svc.fleet.add_cabinet(body.site, body.code, body.power_budget_kw))


@router.get("/cabinets/{site}/{code}")
def get_cabinet(site: str, code: str, svc: ServicesDep) -> Any:
    return out(svc.fleet.get_cabinet(f"{site}/{code}"))


@router.get("/servers")
def list_servers(
    svc: ServicesDep,
    state: str | None = None,
    sku: str | None = None,
    site: str | None = None,
    cabinet: Annotated[str | None, Query(description="SITE/CABINET")] = None,
    supplier: str | None = None,
    network_group: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    flt = ServerFilter(
        parse_state(state) if state else None, sku, site, cabinet, supplier, network_group
    )
    return out(svc.fleet.list_servers(flt, limit, offset))


@router.post("/servers", status_code=status.HTTP_201_CREATED)
def add_server(body: ServerIn, svc: ServicesDep) -> Any:
    spec = NewServer(
        body.serial,
        body.sku,
        body.purchase_price,
        body.currency,
        body.supplier,
        body.network_group,
        parse_state(body.state),
    )
    return out(svc.fleet.add_server(spec, body.actor, body.reason))


@router.post("/servers/import", status_code=status.HTTP_201_CREATED)
def import_servers(body: CsvIn, svc: ServicesDep) -> Any:
    return out(svc.imports.import_servers(body.csv, body.actor, body.source))


@router.get("/servers/{serial}")
def get_server(serial: str, svc: ServicesDep) -> Any:
    return out(svc.fleet.get_server(serial))


@router.post("/servers/{serial}/transitions", status_code=status.HTTP_201_CREATED)
def transition(serial: str, body: TransitionIn, svc: ServicesDep) -> Any:
    target = parse_state(body.to_state, "to_state")
    return out(svc.fleet.transition(serial, target, body.actor, body.reason, body.cabinet))


@router.get("/servers/{serial}/transitions")
def server_transitions(
    serial: str,
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    return out(svc.fleet.transitions(serial, limit, offset))


@router.get("/transitions")
def all_transitions(
    svc: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    return out(svc.fleet.transitions(None, limit, offset))
