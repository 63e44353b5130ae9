"""/api/v1: sites, cabinets, servers (filters, pagination), lifecycle transitions, server import.

Access (every route needs a token): admin and operator write; finance reads. A customer user
sees only servers that are or were in its own leases (``GET /servers``, ``GET /servers/{serial}``;
any other serial answers 404 ``server.not_found``), without purchase price, supplier or order;
sites, cabinets and transition logs are staff data: collections answer 403, objects 404.
When ``actor`` is omitted the calling user's name is recorded.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from suanli.api.auth import (
    AUTHENTICATED,
    Operator,
    PrincipalDep,
    StaffReader,
    hide_from_customers,
)
from suanli.api.deps import PagingDep, ServicesDep, out
from suanli.api.schemas import Items, answers
from suanli.core.errors import NotFoundError
from suanli.core.fleet import Cabinet, Server, Site, Transition, parse_state
from suanli.services.common import Page
from suanli.services.fleet.imports import ImportResult
from suanli.services.fleet.servers import NewServer, ServerFilter
from suanli.services.tenancy import Principal, Role

router = APIRouter(tags=["fleet"], dependencies=AUTHENTICATED)
Actor = Annotated[str | None, Field(max_length=128, description="default: the calling user")]


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
    actor: Actor = None
    reason: str = "registered"


class TransitionIn(BaseModel):
    to_state: str
    reason: str
    actor: Actor = None
    cabinet: str | None = Field(default=None, description="SITE/CABINET, when racking")
    at: str | None = Field(
        default=None,
        max_length=40,
        description="when it happened (YYYY-MM-DD = 00:00 UTC, or ISO datetime with offset); "
        "default now",
        examples=["2024-04-20T08:00:00+00:00"],
    )


class CsvIn(BaseModel):
    csv: str
    actor: Actor = None
    source: str = "API upload"


def _seen_by(principal: Principal, server: Server) -> Server:
    """What a customer may see of its own server: no procurement data."""
    if principal.role is not Role.CUSTOMER:
        return server
    return replace(server, purchase_price=None, supplier=None, po_number=None, po_line_no=None)


def _leased_to(principal: Principal) -> int | None:
    return principal.customer_id if principal.role is Role.CUSTOMER else None


@router.get("/sites", responses=answers(200, 401, 403, body=Items[Site]))
def list_sites(svc: ServicesDep, _: StaffReader) -> Any:
    return {"items": out(svc.fleet.list_sites())}


@router.post(
    "/sites",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 409, 413, 422, body=Site),
)
def add_site(body: SiteIn, svc: ServicesDep, _: Operator) -> Any:
    return out(svc.fleet.add_site(body.code, body.name, body.city))


@router.get("/cabinets", responses=answers(200, 401, 403, 422, body=Items[Cabinet]))
def list_cabinets(svc: ServicesDep, _: StaffReader, site: str | None = None) -> Any:
    return {"items": out(svc.fleet.list_cabinets(site))}


@router.post(
    "/cabinets",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Cabinet),
)
def add_cabinet(body: CabinetIn, svc: ServicesDep, _: Operator) -> Any:
    return out(svc.fleet.add_cabinet(body.site, body.code, body.power_budget_kw))


@router.get("/cabinets/{site}/{code}", responses=answers(200, 401, 404, 422, body=Cabinet))
def get_cabinet(site: str, code: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    ref = f"{site}/{code}"
    hide_from_customers(
        principal,
        NotFoundError(
            "cabinet.not_found", f"no cabinet {ref!r}", {"cabinet": "an existing SITE/CABINET"}
        ),
    )
    return out(svc.fleet.get_cabinet(ref))


@router.get("/servers", responses=answers(200, 401, 403, 422, body=Page[Server]))
def list_servers(
    svc: ServicesDep,
    principal: PrincipalDep,
    page: PagingDep,
    state: str | None = None,
    sku: str | None = None,
    site: str | None = None,
    cabinet: Annotated[str | None, Query(description="SITE/CABINET")] = None,
    supplier: str | None = None,
    network_group: str | None = None,
) -> Any:
    if supplier is not None and principal.role is Role.CUSTOMER:
        principal.require(Role.OPERATOR, Role.FINANCE)  # suppliers are staff data: 403
    flt = ServerFilter(
        parse_state(state) if state else None,
        sku,
        site,
        cabinet,
        supplier,
        network_group,
        leased_to=_leased_to(principal),
    )
    result = svc.fleet.list_servers(flt, page.limit, page.offset)
    return out(replace(result, items=[_seen_by(principal, s) for s in result.items]))


@router.post(
    "/servers",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Server),
)
def add_server(body: ServerIn, svc: ServicesDep, principal: Operator) -> Any:
    spec = NewServer(
        body.serial,
        body.sku,
        body.purchase_price,
        body.currency,
        body.supplier,
        body.network_group,
        parse_state(body.state),
    )
    return out(svc.fleet.add_server(spec, body.actor or principal.name, body.reason))


@router.post(
    "/servers/import",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=ImportResult),
)
def import_servers(body: CsvIn, svc: ServicesDep, principal: Operator) -> Any:
    return out(svc.imports.import_servers(body.csv, body.actor or principal.name, body.source))


@router.get("/servers/{serial}", responses=answers(200, 401, 404, 422, body=Server))
def get_server(serial: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    return out(_seen_by(principal, svc.fleet.get_server(serial, _leased_to(principal))))


@router.post(
    "/servers/{serial}/transitions",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Transition),
)
def transition(serial: str, body: TransitionIn, svc: ServicesDep, principal: Operator) -> Any:
    target = parse_state(body.to_state, "to_state")
    actor = body.actor or principal.name
    return out(svc.fleet.transition(serial, target, actor, body.reason, body.cabinet, body.at))


@router.get(
    "/servers/{serial}/transitions",
    responses=answers(200, 401, 403, 404, 422, body=Page[Transition]),
)
def server_transitions(
    serial: str, svc: ServicesDep, principal: PrincipalDep, page: PagingDep
) -> Any:
    if principal.role is Role.CUSTOMER:
        svc.fleet.get_server(serial, principal.customer_id)  # another tenant's: 404
        principal.require(Role.OPERATOR, Role.FINANCE)  # its own: the log is staff data, 403
    return out(svc.fleet.transitions(serial, page.limit, page.offset))


@router.get("/transitions", responses=answers(200, 401, 403, 422, body=Page[Transition]))
def all_transitions(svc: ServicesDep, _: StaffReader, page: PagingDep) -> Any:
    return out(svc.fleet.transitions(None, page.limit, page.offset))
