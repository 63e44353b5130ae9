"""The dashboard's cost of revenue depreciates as the economics engine does (method, life,
salvage) from the delivery date, not from when the server was entered (hand-worked figures)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from suanli.core.billing import month_of
from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.services.fleet.procurement import NewLine, NewOrder
from suanli.web.money_views import cost_of_revenue, depreciation_in

# the reference scenario: straight line over 5 years down to 5 % salvage
MONTHLY = [0.95 / 60] * 60


def test_depreciation_starts_the_month_after_delivery_and_stops_after_the_life() -> None:
    price, delivered = Decimal("1200000"), date(2024, 3, 10)
    # 1,200,000 x 0.95 / 60 = 19,000.00 a month, April 2024 .. March 2029
    dep = [
        depreciation_in(price, delivered, month_of(day), MONTHLY).quantize(Decimal("0.01"))
        for day in (date(2024, 3, 31), date(2024, 4, 1), date(2029, 3, 1), date(2029, 4, 1))
    ]
    assert dep == [Decimal("0"), Decimal("19000.00"), Decimal("19000.00"), Decimal("0")]


def test_cost_of_revenue_counts_from_the_delivery_date(engine: Engine, clock: SimClock) -> None:
    svc = build_services(engine, clock, "CNY")  # the clock says 2024-04-01: the audit date
    svc.procurement.add_supplier("New H3C")
    line = NewLine("HGX-H800-8", 1, "2100000", date(2024, 1, 31))
    svc.procurement.create_order(NewOrder("PO-1", "New H3C", date(2023, 11, 1), [line]))
    svc.procurement.deliver("PO-1", 1, ["S1"], "wh", delivered_on=date(2024, 1, 10))
    servers = svc.fleet.list_servers().items
    months = (date(2023, 12, 1), date(2024, 1, 1), date(2024, 2, 1))
    dec, jan, feb = (cost_of_revenue(svc, month_of(m), servers) for m in months)
    assert dec == Decimal("0.00")  # not delivered yet
    assert jan > 0  # power and colocation from the delivery month
    # depreciation from February: 2,100,000 x (1 - 5 %) / 60 months = 33,250.00
    assert feb - jan == Decimal("33250.00")
