"""Seeding a twin from today's ledger (``suanli twin run ... --from-ledger``).

Owns :func:`ledger_overrides`: the scenario inputs the ledger knows, as overrides on a twin,
read on the effective date ``today``:

- **fleet:** the servers of the twin's SKU that are installed (delivered and not retired or
  cancelled) and arrive in grid month 0, at their average purchase price when the ledger has one;
- **calendar:** grid month 0 is ``today``'s month, so the twin starts next month;
- **contracts in force:** every active lease of the SKU that runs past the end of this month
  becomes a booked lease from month 1 for its remaining whole months (rounded up), at its
  contract rent quoted as the scenario quotes rents (VAT added when
  ``taxes.prices_include_vat``), for its customer;
- **price list:** the GPU-hour list prices of the SKU's ``standard`` and ``spot`` classes in
  force today become the pool's prices (quoted the same way).

Demand beyond the contracts in force (new requests, renewals) stays the scenario's.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from suanli.core.billing import add_months
from suanli.core.contracts import Contract
from suanli.core.fleet import Server, ServerState
from suanli.core.money import round_money
from suanli.services.container import Services
from suanli.services.fleet.servers import ServerFilter
from suanli.simulation.twin.scenario import TwinScenario

NOT_INSTALLED = frozenset({ServerState.ORDERED, ServerState.RETIRED, ServerState.CANCELLED})
PAGE = 500


def _servers(svc: Services, sku: str) -> list[Server]:
    out: list[Server] = []
    while True:
        page = svc.fleet.list_servers(ServerFilter(sku=sku), limit=PAGE, offset=len(out))
        out.extend(page.items)
        if len(out) >= page.total or not page.items:
            return out


def _leases(svc: Services) -> list[Contract]:
    out: list[Contract] = []
    while True:
        page = svc.money.leasing.list_contracts(
            kind="lease", status="active", limit=PAGE, offset=len(out)
        )
        out.extend(page.items)
        if len(out) >= page.total or not page.items:
            return out


def remaining_months(end: date, month_start: date) -> int:
    """Whole months from ``month_start`` (a first of month) until ``end``, rounded up."""
    months = 0
    while add_months(month_start, months) < end:
        months += 1
    return months


def _quote(net: Decimal, vat: Decimal, include_vat: bool) -> float:
    return float(round_money(net * (1 + vat)) if include_vat else net)


def ledger_overrides(svc: Services, sc: TwinScenario, today: date) -> dict[str, Any]:
    """Overrides that put today's fleet, contracts and prices into the twin ``sc``."""
    fleet = sc.economics.fleet
    assert fleet is not None
    sku = fleet.sku
    include = sc.economics.taxes.prices_include_vat
    installed = [s for s in _servers(svc, sku) if s.state not in NOT_INSTALLED]
    out: dict[str, Any] = {"twin": {"start": f"{today.year:04d}-{today.month:02d}", "book": []}}
    if installed:
        fleet_doc: dict[str, Any] = {
            "count": len(installed),
            "delivery": [{"month": 0, "count": len(installed)}],
        }
        prices = [s.purchase_price for s in installed if s.purchase_price is not None]
        if prices:
            fleet_doc["unit_price"] = float(round_money(sum(prices, Decimal(0)) / len(prices)))
        out["fleet"] = fleet_doc
    month_one = add_months(date(today.year, today.month, 1), 1)
    for c in _leases(svc):
        end = c.terminated_on or c.end_date
        if c.sku != sku or end <= month_one or c.start_date > today:
            continue
        out["twin"]["book"].append(
            {
                "start_month": 1,
                "servers": c.server_count,
                "term_months": remaining_months(end, month_one),
                "rent_per_server_month": _quote(c.monthly_rent, c.vat_rate, include),
                "customer": c.customer,
            }
        )
    pool: dict[str, Any] = {}
    in_force = {}  # class → the newest price valid today (list_prices is sorted by valid_from)
    for price in svc.money.metering.list_prices(sku):
        if price.valid_from <= today:
            in_force[price.priority_class] = price
    for klass, key in (("standard", "standard_per_gpu_hour"), ("spot", "spot_per_gpu_hour")):
        if klass in in_force:
            p = in_force[klass]
            pool[key] = _quote(p.gpu_hour_price, p.vat_rate, include)
    if pool:
        out["twin"]["pool"] = pool
    return out
