"""/api/v1: invoice runs, invoices and credit notes, payments, and the finance reports (AR aging,
revenue, reconciliation)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from suanli.api.auth import IdempotencyKey, PrincipalDep, idempotent, requires
from suanli.api.deps import PagingDep, ServicesDep, out, page_out
from suanli.api.schemas import Items, answers
from suanli.core.billing import parse_period
from suanli.core.ledger import Invoice, Payment
from suanli.services.billing.invoicing import RunResult
from suanli.services.billing.receivables import AgingRow, Reconciliation
from suanli.services.billing.writeoffs import Recovery, WriteOff
from suanli.services.common import Page
from suanli.services.tenancy import Role

router = APIRouter(tags=["invoices"])
RUN_OUT = {
    "period": "2024-04",
    "created": ["INV-2024-000001", "INV-2024-000002"],
    "skipped": [],
    "empty": [],
    "to_credit": [],
}
PeriodKey = Annotated[
    str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM", examples=["2024-04"])
]
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1e15"), decimal_places=2)]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class RunIn(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"period": "2024-04"}]}}
    period: str = Field(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")
    customer: str | None = Field(default=None, max_length=64)
    issue_date: date | None = Field(
        default=None, description="effective issue date (default today); on or after the period"
    )
    supplementary: bool = Field(
        default=False,
        description="customers already invoiced for the period get a supplementary invoice "
        "with only what is still unbilled",
    )


class CreditNoteIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"reason": "goodwill for the outage", "lines": {"1": "1000.00"}}]
        }
    }
    reason: str = Field(max_length=2000)
    lines: (
        dict[int, Annotated[Decimal, Field(ge=0, le=Decimal("1e15"), decimal_places=2)]] | None
    ) = Field(
        default=None,
        description="line number → net amount to credit; omit to credit the whole invoice",
    )
    issue_date: Day | None = Field(
        default=None, description="effective issue date (default today); not before the invoice"
    )


class RecoveryIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {"on": "2024-10-20", "reason": "administrator's dividend", "amount": "500.00"}
            ]
        }
    }
    on: Day = Field(description="effective date: on or after the write-off, not in the future")
    reason: str = Field(max_length=2000)
    amount: Money | None = Field(
        default=None, description="gross; omit to recover all that is still unrecovered"
    )


class WriteOffIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [{"on": "2024-09-30", "reason": "customer insolvent", "amount": "1000.00"}]
        }
    }
    on: Day = Field(description="effective date: on or after the issue date, not in the future")
    reason: str = Field(max_length=2000)
    amount: Money | None = Field(
        default=None, description="gross; omit to write off all that is open"
    )


class FapiaoIn(BaseModel):
    fapiao_number: str = Field(max_length=64)


class AgingOut(BaseModel):
    as_of: date
    items: list[AgingRow]


class RevenueOut(BaseModel):
    period: str = Field(description="YYYY-MM")
    by_kind: dict[str, str] = Field(description="line kind → net revenue (decimal string)")


class PaymentIn(BaseModel):
    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "customer": "acme",
                    "amount": "50000.00",
                    "received_on": "2024-05-10",
                    "reference": "bank 8812",
                }
            ]
        }
    }
    customer: str = Field(max_length=64)
    amount: Money
    received_on: Day
    kind: Literal["payment", "prepayment", "deposit"] = "payment"
    reference: str | None = Field(default=None, max_length=200)
    contract: str | None = Field(default=None, max_length=32)


@router.post("/invoice-runs", dependencies=[requires(Role.FINANCE)], status_code=status.HTTP_201_CREATED,
             responses=answers(201, 401, 403, 404, 409, 413, 422, body=RunResult, example=RUN_OUT))  # fmt: skip
def run(
    body: RunIn,
    request: Request,
    svc: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Any:
    """Invoice a month; running it again creates nothing for customers already invoiced, unless
    ``supplementary``: then they get a supplementary invoice for what is still unbilled."""
    principal.require(Role.FINANCE)
    period = parse_period(body.period)
    return idempotent(request, svc, principal, key, body.model_dump(),
                      lambda: svc.money.billing.run(period, customer=body.customer, issue_date=body.issue_date,
                                                    supplementary=body.supplementary))  # fmt: skip


@router.get("/invoices", responses=answers(200, 401, 404, 422, body=Page[Invoice]))
def list_invoices(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    period: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
    kind: Literal["invoice", "credit_note"] | None = None,
    unpaid: bool = False,
) -> Any:  # fmt: skip
    return page_out(
        svc.money.ledger.list_invoices(
            principal, customer, period, kind, unpaid, page.limit, page.offset
        )
    )


INVOICE_OUT = {
    "number": "INV-2024-000001", "kind": "invoice", "customer": "acme", "period": "2024-04",
    "issue_date": "2024-05-01", "due_date": "2024-05-31", "currency": "CNY", "net": "70180.00",
    "tax": "9110.80", "gross": "79290.80", "outstanding": "29290.80", "credited_invoice": None,
    "reason": None, "fapiao_number": None,
    "lines": [
        {"line_no": 1, "kind": "rent", "description": "L-000001 rent HGX-H800-8, 30 server-days", "quantity": "30.000",
         "unit": "server-day", "unit_price": "2333.33333333", "net": "70000.00", "vat_rate": "0.1300",
         "tax": "9100.00", "gross": "79100.00", "service_start": "2024-04-01", "service_end": "2024-04-30"},
        {"line_no": 2, "kind": "usage", "description": "HGX-H800-8 standard GPU-hours, 2024-04", "quantity": "12.000",
         "unit": "gpu-hour", "unit_price": "15.00000000", "net": "180.00", "vat_rate": "0.0600",
         "tax": "10.80", "gross": "190.80", "service_start": None, "service_end": None},
    ],
}  # fmt: skip
RUN_OUT = {
    "period": "2024-04",
    "created": ["INV-2024-000001", "INV-2024-000002"],
    "skipped": [],
    "empty": [],
    "to_credit": [],
}


@router.get(
    "/invoices/{number}",
    responses=answers(200, 401, 404, 422, body=Invoice, example=INVOICE_OUT),
)
def get_invoice(number: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    return out(svc.money.ledger.get_invoice(number, principal))


@router.post(
    "/invoices/{number}/credit-notes",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Invoice),
    dependencies=[requires(Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def credit_note(number: str, body: CreditNoteIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.FINANCE)
    lines = {k: v for k, v in body.lines.items()} if body.lines is not None else None
    return out(svc.money.ledger.credit_note(number, body.reason, lines, body.issue_date))  # type: ignore[arg-type]


@router.post(
    "/invoices/{number}/write-offs",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=WriteOff),
    dependencies=[requires(Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def write_off(number: str, body: WriteOffIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Write off (part of) an invoice's open balance as uncollectable, with a reason."""
    principal.require(Role.FINANCE)
    return out(
        svc.money.writeoffs.write_off(number, body.on, body.reason, principal.name, body.amount)
    )


@router.get(
    "/write-offs",
    responses=answers(200, 401, 403, 422, body=Items[WriteOff]),
    dependencies=[requires(Role.FINANCE)],
)
def list_write_offs(
    svc: ServicesDep, principal: PrincipalDep, customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    principal.require(Role.FINANCE)
    return {"items": out(svc.money.writeoffs.list_write_offs(principal, customer))}


@router.post(
    "/write-offs/{ref}/recoveries",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Recovery),
    dependencies=[requires(Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def recover(ref: str, body: RecoveryIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Reinstate (part of) a write-off as recovered; unapplied cash is then applied."""
    principal.require(Role.FINANCE)
    return out(svc.money.writeoffs.recover(ref, body.on, body.reason, principal.name, body.amount))


@router.get(
    "/recoveries",
    responses=answers(200, 401, 403, 422, body=Items[Recovery]),
    dependencies=[requires(Role.FINANCE)],
)
def list_recoveries(
    svc: ServicesDep, principal: PrincipalDep, customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    principal.require(Role.FINANCE)
    return {"items": out(svc.money.writeoffs.list_recoveries(principal, customer))}


@router.put(
    "/invoices/{number}/fapiao",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=Invoice),
    dependencies=[requires(Role.FINANCE)],
)
def set_fapiao(number: str, body: FapiaoIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.FINANCE)
    return out(svc.money.ledger.set_fapiao(number, body.fapiao_number))


@router.post(
    "/payments",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Payment),
    dependencies=[requires(Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def record_payment(body: PaymentIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    principal.require(Role.FINANCE)
    return out(
        svc.money.ledger.record_payment(
            body.customer, body.amount, body.received_on, body.kind, body.reference, body.contract
        )
    )


@router.get("/payments", responses=answers(200, 401, 404, 422, body=Page[Payment]))
def list_payments(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep, customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    return page_out(svc.money.ledger.list_payments(principal, customer, page.limit, page.offset))


@router.get("/reports/aging", responses=answers(200, 401, 404, 422, body=AgingOut))
def aging(
    svc: ServicesDep, principal: PrincipalDep, as_of: Annotated[date, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))],
    customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    """Open receivables in buckets of 0–30, 31–60, 61–90 and 90+ days since the invoice date."""
    return {
        "as_of": as_of.isoformat(),
        "items": out(svc.money.ledger.aging(as_of, principal, customer)),
    }


@router.get(
    "/reports/revenue",
    responses=answers(200, 401, 403, 422, body=RevenueOut),
    dependencies=[requires(Role.FINANCE)],
)
def revenue(svc: ServicesDep, principal: PrincipalDep, period: PeriodKey) -> Any:
    principal.require(Role.FINANCE)
    return {"period": period, "by_kind": out(svc.money.billing.revenue(parse_period(period)))}


@router.get(
    "/reports/reconciliation",
    responses=answers(200, 401, 403, 422, body=Reconciliation),
    dependencies=[requires(Role.FINANCE)],
)
def reconciliation(svc: ServicesDep, principal: PrincipalDep, period: PeriodKey) -> Any:
    """Billed, recognised and collected in the month, with receivables and deferred revenue."""
    principal.require(Role.FINANCE)
    return out(svc.money.ledger.reconcile(parse_period(period)))
