"""/api/v1: suppliers, purchase orders, deliveries, cancellations, order import, reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, Field

from suanli.api.deps import ServicesDep, out
from suanli.services.procurement import NewLine, NewOrder

router = APIRouter(tags=["procurement"])


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
    actor: str = "api"


class CancelIn(BaseModel):
    reason: str
    line_no: int | None = Field(default=None, description="omit to cancel every line's remainder")
    actor: str = "api"


class OrdersCsvIn(BaseModel):
    csv: str


@router.get("/suppliers")
def list_suppliers(svc: ServicesDep) -> dict[str, Any]:
    return {"items": out(svc.procurement.list_suppliers())}


@router.post("/suppliers", status_code=status.HTTP_201_CREATED)
def add_supplier(body: SupplierIn, svc: ServicesDep) -> Any:
    return out(svc.procurement.add_supplier(body.name, body.country))


@router.get("/purchase-orders")
def list_orders(svc: ServicesDep, supplier: str | None = None) -> dict[str, Any]:
    return {"items": out(svc.procurement.list_orders(supplier))}


@router.post("/purchase-orders", status_code=status.HTTP_201_CREATED)
def create_order(body: OrderIn, svc: ServicesDep) -> Any:
    lines = [NewLine(ln.sku, ln.quantity, ln.unit_price, ln.promised_on) for ln in body.lines]
    spec = NewOrder(body.number, body.supplier, body.ordered_on, lines, body.currency, body.note)
    return out(svc.procurement.create_order(spec))


@router.post("/purchase-orders/import", status_code=status.HTTP_201_CREATED)
def import_orders(body: OrdersCsvIn, svc: ServicesDep) -> Any:
    return out(svc.imports.import_orders(body.csv))


@router.get("/purchase-orders/{number}")
def get_order(number: str, svc: ServicesDep) -> Any:
    return out(svc.procurement.get_order(number))


@router.post("/purchase-orders/{number}/deliveries", status_code=status.HTTP_201_CREATED)
def deliver(number: str, body: DeliveryIn, svc: ServicesDep) -> dict[str, Any]:
    serials = svc.procurement.deliver(
        number, body.line_no, body.serials, body.actor, body.delivered_on, body.network_group
    )
    return {"number": number, "line_no": body.line_no, "delivered": serials}


@router.get("/purchase-orders/{number}/deliveries")
def order_deliveries(number: str, svc: ServicesDep) -> dict[str, Any]:
    return {"items": out(svc.procurement.deliveries(number))}


@router.post("/purchase-orders/{number}/cancellations")
def cancel(number: str, body: CancelIn, svc: ServicesDep) -> Any:
    return out(svc.procurement.cancel_remainder(number, body.line_no, body.reason, body.actor))


@router.get("/deliveries")
def all_deliveries(svc: ServicesDep) -> dict[str, Any]:
    return {"items": out(svc.procurement.deliveries())}


@router.get("/reports/procurement/summary")
def report_summary(svc: ServicesDep, supplier: str | None = None) -> Any:
    return out(svc.procurement.summary(supplier))


@router.get("/reports/procurement/overdue")
def report_overdue(svc: ServicesDep, as_of: date | None = None) -> dict[str, Any]:
    return {"items": out(svc.procurement.overdue(as_of))}


@router.get("/reports/procurement/prices")
def report_prices(svc: ServicesDep, sku: str | None = None) -> dict[str, Any]:
    return {"items": out(svc.procurement.prices(sku))}
