"""/api/v1: suppliers, purchase orders, deliveries, cancellations, order import, reports.

Access (every route needs a token): admin and operator write; finance reads. Procurement is
staff data: a customer user gets 403 on every collection and report and 404 ``po.not_found`` on
any purchase order, exactly as for one that does not exist. When ``actor`` is omitted the
calling user's name is recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from suanli.api.auth import AUTHENTICATED, Operator, PrincipalDep, StaffReader, hide_from_customers
from suanli.api.deps import ServicesDep, out
from suanli.api.schemas import Items, answers
from suanli.core.errors import NotFoundError
from suanli.core.procurement import Delivery, OverdueLine, PricePoint, PurchaseOrder, Supplier
from suanli.services.fleet.imports import ImportResult
from suanli.services.fleet.procurement import NewLine, NewOrder, SummaryReport
from suanli.services.tenancy import Principal

router = APIRouter(tags=["procurement"], dependencies=AUTHENTICATED)
Actor = Annotated[str | None, Field(max_length=128, description="default: the calling user")]


class SupplierIn(BaseModel):
    name: str
    country: str | None = None


class LineIn(BaseModel):
    sku: str
    quantity: int
    unit_price: Decimal
    promised_on: date


class OrderIn(BaseModel):
    number: str
    supplier: str
    ordered_on: date
    lines: list[LineIn]
    currency: str | None = None
    note: str | None = None


class DeliveryIn(BaseModel):
    line_no: int = 1
    serials: list[str]
    delivered_on: date | None = None
    network_group: str | None = None
    actor: Actor = None


class CancelIn(BaseModel):
    reason: str
    line_no: int | None = Field(default=None, description="omit to cancel every line's remainder")
    actor: Actor = None


class OrdersCsvIn(BaseModel):
    csv: str


class DeliveredOut(BaseModel):
    number: str
    line_no: int
    delivered: list[str] = Field(description="the serials received")


def _hide_order(principal: Principal, number: str) -> None:
    hide_from_customers(
        principal,
        NotFoundError("po.not_found", f"no purchase order {number!r}", {"number": number}),
    )


@router.get("/suppliers", responses=answers(200, 401, 403, body=Items[Supplier]))
def list_suppliers(svc: ServicesDep, _: StaffReader) -> Any:
    return {"items": out(svc.procurement.list_suppliers())}


@router.post(
    "/suppliers",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 409, 413, 422, body=Supplier),
)
def add_supplier(body: SupplierIn, svc: ServicesDep, _: Operator) -> Any:
    return out(svc.procurement.add_supplier(body.name, body.country))


@router.get(
    "/purchase-orders", responses=answers(200, 401, 403, 404, 422, body=Items[PurchaseOrder])
)
def list_orders(svc: ServicesDep, _: StaffReader, supplier: str | None = None) -> Any:
    return {"items": out(svc.procurement.list_orders(supplier))}


@router.post(
    "/purchase-orders",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=PurchaseOrder),
)
def create_order(body: OrderIn, svc: ServicesDep, _: Operator) -> Any:
    lines = [NewLine(ln.sku, ln.quantity, ln.unit_price, ln.promised_on) for ln in body.lines]
    spec = NewOrder(body.number, body.supplier, body.ordered_on, lines, body.currency, body.note)
    return out(svc.procurement.create_order(spec))


@router.post(
    "/purchase-orders/import",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=ImportResult),
)
def import_orders(body: OrdersCsvIn, svc: ServicesDep, _: Operator) -> Any:
    return out(svc.imports.import_orders(body.csv))


@router.get("/purchase-orders/{number}", responses=answers(200, 401, 404, 422, body=PurchaseOrder))
def get_order(number: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    _hide_order(principal, number)
    return out(svc.procurement.get_order(number))


@router.post(
    "/purchase-orders/{number}/deliveries",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=DeliveredOut),
)
def deliver(number: str, body: DeliveryIn, svc: ServicesDep, principal: Operator) -> Any:
    serials = svc.procurement.deliver(
        number,
        body.line_no,
        body.serials,
        body.actor or principal.name,
        body.delivered_on,
        body.network_group,
    )
    return {"number": number, "line_no": body.line_no, "delivered": serials}


@router.get(
    "/purchase-orders/{number}/deliveries",
    responses=answers(200, 401, 404, 422, body=Items[Delivery]),
)
def order_deliveries(number: str, svc: ServicesDep, principal: PrincipalDep) -> Any:
    _hide_order(principal, number)
    return {"items": out(svc.procurement.deliveries(number))}


@router.post(
    "/purchase-orders/{number}/cancellations",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=PurchaseOrder),
)
def cancel(number: str, body: CancelIn, svc: ServicesDep, principal: Operator) -> Any:
    return out(
        svc.procurement.cancel_remainder(
            number, body.line_no, body.reason, body.actor or principal.name
        )
    )


@router.get("/deliveries", responses=answers(200, 401, 403, body=Items[Delivery]))
def all_deliveries(svc: ServicesDep, _: StaffReader) -> Any:
    return {"items": out(svc.procurement.deliveries())}


@router.get(
    "/reports/procurement/summary", responses=answers(200, 401, 403, 404, 422, body=SummaryReport)
)
def report_summary(svc: ServicesDep, _: StaffReader, supplier: str | None = None) -> Any:
    return out(svc.procurement.summary(supplier))


@router.get(
    "/reports/procurement/overdue", responses=answers(200, 401, 403, 422, body=Items[OverdueLine])
)
def report_overdue(svc: ServicesDep, _: StaffReader, as_of: date | None = None) -> Any:
    return {"items": out(svc.procurement.overdue(as_of))}


@router.get(
    "/reports/procurement/prices",
    responses=answers(200, 401, 403, 404, 422, body=Items[PricePoint]),
)
def report_prices(svc: ServicesDep, _: StaffReader, sku: str | None = None) -> Any:
    return {"items": out(svc.procurement.prices(sku))}
