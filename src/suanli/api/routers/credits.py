"""/api/v1: a customer's credit balance (credit notes on paid invoices), applied to a later open
invoice or refunded. Reading needs any token (a customer sees only its own); using needs the
finance role."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from suanli.api.auth import PrincipalDep, requires
from suanli.api.deps import ServicesDep, out
from suanli.api.schemas import Items, answers
from suanli.services.billing.credits import CreditBalance, CreditUse
from suanli.services.tenancy import Role

router = APIRouter(tags=["invoices"])
Money = Annotated[Decimal, Field(gt=0, le=Decimal("1e15"), decimal_places=2)]
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class ApplyIn(BaseModel):
    model_config = {
        "json_schema_extra": {"examples": [{"invoice": "INV-2024-000003", "on": "2024-06-05"}]}
    }
    invoice: str = Field(max_length=32, description="an open invoice of the same customer")
    on: Day = Field(
        description="effective date: on or after the invoice's issue date, not in the future"
    )
    amount: Money | None = Field(
        default=None, description="gross; omit to apply as much as the balance and invoice allow"
    )


class RefundIn(BaseModel):
    model_config = {
        "json_schema_extra": {"examples": [{"on": "2024-06-10", "reference": "bank 9"}]}
    }
    on: Day = Field(description="effective date of the refund, not in the future")
    amount: Money | None = Field(default=None, description="gross; omit to refund all of it")
    reference: str | None = Field(default=None, max_length=200)


@router.get("/customers/{code}/credit", responses=answers(200, 401, 404, 422, body=CreditBalance))
def credit_balance(
    code: str, svc: ServicesDep, principal: PrincipalDep,
    as_of: Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))] = None,
) -> Any:  # fmt: skip
    """The customer's credit balance on ``as_of`` (default today)."""
    return out(svc.money.credits.balance(code, as_of, principal))


@router.post(
    "/customers/{code}/credit/applications",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=CreditUse),
    dependencies=[requires(Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def apply_credit(code: str, body: ApplyIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Apply the customer's credit balance to one of its open invoices."""
    principal.require(Role.FINANCE)
    return out(svc.money.credits.apply(code, body.invoice, body.on, principal.name, body.amount))


@router.post(
    "/customers/{code}/credit/refunds",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=CreditUse),
    dependencies=[requires(Role.FINANCE)],
    status_code=status.HTTP_201_CREATED,
)
def refund_credit(code: str, body: RefundIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Pay (part of) the customer's credit balance back in cash."""
    principal.require(Role.FINANCE)
    return out(svc.money.credits.refund(code, body.on, principal.name, body.amount, body.reference))


@router.get("/credit-uses", responses=answers(200, 401, 404, 422, body=Items[CreditUse]))
def list_credit_uses(
    svc: ServicesDep, principal: PrincipalDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    """Credit applied and refunded, oldest first (a customer sees only its own)."""
    return {"items": out(svc.money.credits.list_uses(principal, customer))}
