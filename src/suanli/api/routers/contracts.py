"""/api/v1: lease and reserved-capacity contracts, termination and renewal, SLA downtime of leased
servers, and the on-demand price list."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from suanli.api.auth import IdempotencyKey, PrincipalDep, idempotent, requires
from suanli.api.deps import PagingDep, ServicesDep, out, page_out
from suanli.api.schemas import Items, answers
from suanli.core.contracts import Contract, SlaEvent
from suanli.services.billing.leasing import LeaseSpec, ReservedSpec
from suanli.services.billing.metering import Price
from suanli.services.common import Page
from suanli.services.tenancy import Role

router = APIRouter(tags=["contracts"])
Money = Annotated[Decimal, Field(ge=0, le=Decimal("1e15"), decimal_places=2)]
Share = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class LeaseIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "customer": "acme", "sku": "HGX-H800-8", "count": 10, "monthly_rent": "70000.00",
        "start": "2024-04-01", "term_months": 12, "cabinet_fee": "3000.00", "om_fee": "1500.00",
        "deposit": "140000.00", "notice_days": 30, "early_termination_months": "3"}]}}  # fmt: skip
    customer: str = Field(max_length=64)
    sku: str = Field(max_length=64)
    count: int | None = Field(
        default=None, ge=1, le=10000, description="N servers chosen by the system"
    )
    serials: list[str] = Field(
        default_factory=list, max_length=10000, description="or these servers"
    )
    monthly_rent: Money
    start: Day
    term_months: int = Field(ge=1, le=120)
    cabinet_fee: Money = Decimal(0)
    om_fee: Money = Decimal(0)
    fees_as_agent: bool = False
    deposit: Money = Decimal(0)
    prepayment: Money = Decimal(0)
    notice_days: int = Field(default=30, ge=0, le=365)
    auto_renew: bool = False
    early_termination_months: Annotated[Decimal, Field(ge=0, le=120, decimal_places=4)] = Decimal(3)
    sla_uptime: Annotated[Decimal, Field(ge=Decimal("0.5"), le=1, decimal_places=4)] = Decimal(
        "0.995"
    )
    vat_rate: Share = Decimal("0.13")
    fee_vat_rate: Share = Decimal("0.06")
    actor: str = Field(default="api", max_length=128)


class ReservedIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{
        "customer": "acme", "sku": "HGX-H800-8", "committed_gpus": 64, "gpu_hour_rate": "12.50",
        "start": "2024-04-01", "term_months": 6, "min_commitment": "0.8"}]}}  # fmt: skip
    customer: str = Field(max_length=64)
    sku: str = Field(max_length=64)
    committed_gpus: int = Field(ge=1, le=100000)
    gpu_hour_rate: Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), decimal_places=8)]
    start: Day
    term_months: int = Field(ge=1, le=120)
    min_commitment: Share = Decimal("0.8")
    deposit: Money = Decimal(0)
    prepayment: Money = Decimal(0)
    vat_rate: Share = Decimal("0.06")
    actor: str = Field(default="api", max_length=128)


class TerminateIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"effective": "2024-09-01", "reason": "customer request"}]
        }
    }
    effective: Day
    reason: str = Field(max_length=2000)
    on: Day | None = Field(default=None, description="day notice was given (default today)")
    actor: str = Field(default="api", max_length=128)


class RenewIn(BaseModel):
    months: int = Field(ge=1, le=120)
    on: Day | None = Field(default=None, description="day the renewal was agreed (default today)")
    actor: str = Field(default="api", max_length=128)


class OutageIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"reason": "GPU 3 Xid 79"}]}}
    reason: str = Field(default="failure", max_length=2000)
    actor: str = Field(default="api", max_length=128)
    at: str | None = Field(
        default=None,
        max_length=40,
        description="when it happened (YYYY-MM-DD = 00:00 UTC, or ISO datetime with offset); "
        "default now",
    )


class PriceIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "sku": "HGX-H800-8",
                    "priority_class": "spot",
                    "gpu_hour_price": "6.00",
                    "valid_from": "2024-01-01",
                }
            ]
        }
    }
    sku: str = Field(max_length=64)
    priority_class: Literal["high", "standard", "spot"]
    gpu_hour_price: Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), decimal_places=8)]
    valid_from: Day
    vat_rate: Share = Decimal("0.06")


class ReleaseIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"at": "2024-06-01"}]}}
    at: str | None = Field(
        default=None,
        max_length=40,
        description="effective date: leases ended by then are released (YYYY-MM-DD = 00:00 UTC, "
        "or ISO datetime with offset); default now",
    )


class ReleasedOut(BaseModel):
    released: int = Field(description="servers returned to available")


LEASE_OUT = {
    "number": "L-000001", "customer": "acme", "kind": "lease", "status": "active", "sku": "HGX-H800-8",
    "server_count": 2, "start_date": "2024-04-01", "end_date": "2025-04-01", "term_months": 12,
    "monthly_rent": "70000.00", "cabinet_fee": "3000.00", "om_fee": "1500.00", "fees_as_agent": False,
    "deposit": "0.00", "prepayment": "0.00", "notice_days": 30, "auto_renew": False,
    "early_termination_months": "3", "sla_uptime": "0.995", "vat_rate": "0.13", "fee_vat_rate": "0.06",
    "committed_gpus": 0, "gpu_hour_rate": "0", "min_commitment": "0", "terminated_on": None,
    "termination_penalty": None, "servers": ["SN000", "SN001"],
}  # fmt: skip
LEASE_ERRORS = {
    404: {"code": "customer.not_found", "message": "no customer 'zeta'", "fields": {"customer": "zeta"}},
    409: {"code": "lease.capacity_unavailable", "message": "10 HGX-H800-8 servers requested, 3 available", "fields": {"count": "at most 3"}},
}  # fmt: skip
LEASE_WHY = {
    404: "unknown customer or server (or another tenant's)",
    409: "not enough free servers, or overlapping booking",
}


@router.post("/contracts/leases", dependencies=[requires(Role.OPERATOR)], status_code=status.HTTP_201_CREATED,
             responses=answers(201, 401, 403, 404, 409, 413, 422, body=Contract, example=LEASE_OUT,
                               why=LEASE_WHY, error_examples=LEASE_ERRORS))  # fmt: skip
def create_lease(
    body: LeaseIn,
    request: Request,
    svc: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Any:
    """Sign a bare-metal lease: allocates ``count`` free servers of the SKU, or ``serials``."""
    principal.require(Role.OPERATOR)
    data = body.model_dump(exclude={"actor", "serials"})
    spec = LeaseSpec(**data, serials=tuple(body.serials))
    return idempotent(request, svc, principal, key, body.model_dump(mode="json"),
                      lambda: svc.money.leasing.create_lease(spec, body.actor))  # fmt: skip


@router.post(
    "/contracts/reserved",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Contract),
    dependencies=[requires(Role.OPERATOR)],
    status_code=status.HTTP_201_CREATED,
)
def create_reserved(
    body: ReservedIn,
    request: Request,
    svc: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Any:
    principal.require(Role.OPERATOR)
    spec = ReservedSpec(**body.model_dump(exclude={"actor"}))
    return idempotent(request, svc, principal, key, body.model_dump(mode="json"),
                      lambda: svc.money.leasing.create_reserved(spec, body.actor))  # fmt: skip


@router.get("/contracts", responses=answers(200, 401, 404, 422, body=Page[Contract]))
def list_contracts(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    kind: Literal["lease", "reserved"] | None = None,
    status: Literal["active", "terminated", "ended"] | None = None,
) -> Any:  # fmt: skip
    return page_out(
        svc.money.leasing.list_contracts(principal, customer, kind, status, page.limit, page.offset)
    )


@router.get("/contracts/{number}", responses=answers(200, 401, 404, 422, body=Contract))
def get_contract(number: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    return out(svc.money.leasing.get_contract(number, principal))


@router.post(
    "/contracts/{number}/terminate",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=Contract),
    dependencies=[requires(Role.OPERATOR)],
)
def terminate(number: str, body: TerminateIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR)
    return out(
        svc.money.leasing.terminate(number, body.effective, body.actor, body.reason, body.on)
    )


@router.post(
    "/contracts/{number}/renew",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=Contract),
    dependencies=[requires(Role.OPERATOR)],
)
def renew(number: str, body: RenewIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR)
    return out(svc.money.leasing.renew(number, body.months, body.actor, body.on))


@router.post(
    "/leasing/servers/{serial}/failure",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=SlaEvent),
    dependencies=[requires(Role.OPERATOR)],
    status_code=status.HTTP_201_CREATED,
)
def server_failed(serial: str, body: OutageIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """A leased server failed: moves it to ``failed`` and opens an SLA downtime record."""
    principal.require(Role.OPERATOR)
    return out(svc.money.leasing.server_failed(serial, body.actor, body.reason, body.at))


@router.post(
    "/leasing/servers/{serial}/restore",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=SlaEvent),
    dependencies=[requires(Role.OPERATOR)],
)
def server_restored(serial: str, body: OutageIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR)
    return out(svc.money.leasing.server_restored(serial, body.actor, body.reason, body.at))


@router.post(
    "/leasing/servers/{serial}/deliver",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=Contract),
    dependencies=[requires(Role.OPERATOR)],
)
def deliver(serial: str, body: OutageIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Put a server leased before its delivery into service."""
    principal.require(Role.OPERATOR)
    return out(svc.money.leasing.deliver(serial, body.actor, body.at))


@router.get("/sla-events", responses=answers(200, 401, 404, 422, body=Page[SlaEvent]))
def list_sla_events(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep, customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    return page_out(svc.money.leasing.list_sla_events(principal, customer, page.limit, page.offset))


@router.put(
    "/prices",
    responses=answers(200, 401, 403, 413, 422, body=Price),
    dependencies=[requires(Role.OPERATOR, Role.FINANCE)],
)
def set_price(body: PriceIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR, Role.FINANCE)
    return out(
        svc.money.metering.set_price(
            body.sku, body.priority_class, body.gpu_hour_price, body.valid_from, body.vat_rate
        )
    )


@router.get("/prices", responses=answers(200, 401, 422, body=Items[Price]))
def list_prices(
    svc: ServicesDep,
    principal: PrincipalDep,
    sku: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    return {"items": out(svc.money.metering.list_prices(sku))}


@router.post(
    "/leasing/release",
    responses=answers(200, 401, 403, 413, 422, body=ReleasedOut),
    dependencies=[requires(Role.OPERATOR)],
)
def release_due(svc: ServicesDep, principal: PrincipalDep, body: ReleaseIn | None = None) -> Any:
    """Return the servers of leases ended or terminated by ``at`` to ``available``."""
    principal.require(Role.OPERATOR)
    at = body.at if body is not None else None
    return {"released": svc.money.leasing.release_due(principal.name, at)}
