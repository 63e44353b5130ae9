"""Report section *risks*: quantified risk factors from the economics engine, on a scenario
calibrated to the ledger.

The scenario is the bundled :data:`BASE_SCENARIO` with the fleet, price and occupancy the ledger
shows at the end of the period: servers in service and their average purchase price, the
average net monthly rent of leases running at the end, not terminated by then (VAT-exclusive), and the measured
occupancy (clamped to 1..95 %). Each sentence carries its number and these assumptions; the
Monte Carlo run is seeded (:data:`PATHS`, :data:`SEED`), so the sentences are reproducible.
Delivery risk on open orders is read from procurement directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import run_montecarlo
from suanli.economics.sensitivity import tornado
from suanli.services.reports.capacity import LineState
from suanli.services.reports.model import Figure, Message, Section, cents, pct
from suanli.store.models import ContractRow, DeliveryRow, ServerRow

BASE_SCENARIO = "h800-bare-metal-2p1m"
PATHS = 2000
SEED = 19


@dataclass(frozen=True, slots=True)
class Calibration:
    servers: int
    unit_price: Decimal
    rent: Decimal
    occupancy: Decimal  # 0..1

    def overrides(self) -> dict[str, Any]:
        return {"fleet.count": self.servers, "fleet.unit_price": float(self.unit_price),
                "form.rent_per_server_month": float(self.rent),
                "form.occupancy": float(self.occupancy), "taxes.prices_include_vat": False}  # fmt: skip


def _average(s: Session, column: Any, *where: Any) -> Decimal | None:
    """Mean of a money column to the cent. Summed in SQL through the column's type and divided
    here: SQL ``AVG`` would bypass the type (on SQLite it averages integer cents, 100× too big)."""
    total, n = s.execute(select(func.sum(column), func.count(column)).where(*where)).one()
    return None if not n else (Decimal(total) / n).quantize(Decimal("0.01"))


def calibrate(s: Session, end: date, servers: int, occupancy_pct: Decimal | None) -> Calibration:
    base = load_bundled(BASE_SCENARIO)
    delivered = select(DeliveryRow.server_id).where(DeliveryRow.delivered_on < end)
    price = _average(s, ServerRow.purchase_price, ServerRow.purchase_price.is_not(None),
                     ServerRow.id.in_(delivered))  # fmt: skip
    rent = _average(s, ContractRow.monthly_rent, ContractRow.kind == "lease",
                    ContractRow.start_date < end, ContractRow.end_date > end,
                    or_(ContractRow.terminated_on.is_(None), ContractRow.terminated_on > end))  # fmt: skip
    occ = Decimal("0.8") if occupancy_pct is None else occupancy_pct / 100
    return Calibration(
        servers=max(servers, 1),
        unit_price=price if price else Decimal(str(base.fleet.unit_price)),  # type: ignore[union-attr]
        rent=rent if rent else Decimal(100000),
        occupancy=min(max(occ, Decimal("0.01")), Decimal("0.95")).quantize(Decimal("0.0001")),
    )  # fmt: skip


def breakeven_occupancy(cal: Calibration) -> Decimal | None:
    """Break-even occupancy (NPV = 0) of the calibrated scenario, in %."""
    value = evaluate(
        with_overrides(load_bundled(BASE_SCENARIO), cal.overrides())
    ).breakeven_occupancy
    return None if value is None else Decimal(str(round(value * 100, 4)))


def _f(value: float | None, places: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{places}f}"


def risks_section(cal: Calibration, open_lines: list[LineState], end: date) -> Section:
    scenario = with_overrides(load_bundled(BASE_SCENARIO), cal.overrides())
    assumptions = {"scenario": BASE_SCENARIO, "servers": str(cal.servers),
                   "unit_price": cents(cal.unit_price), "rent": cents(cal.rent),
                   "occupancy": pct(cal.occupancy, 1), "paths": str(PATHS), "seed": str(SEED)}  # fmt: skip
    mc = run_montecarlo(scenario, PATHS, SEED).summary()
    payback = mc["static_payback_months"]
    bars = {
        b.input: b
        for b in tornado(scenario, ["form.rent_per_server_month", "form.occupancy"], 0.2).bars
    }
    rent_bar, occ_bar = bars["form.rent_per_server_month"], bars["form.occupancy"]
    base_npv = evaluate(scenario, with_breakeven=False).npv
    open_units = sum(ln.outstanding for ln in open_lines)
    overdue = [ln for ln in open_lines if ln.outstanding and ln.promised_on < end]
    open_value = sum((ln.outstanding * ln.unit_price for ln in open_lines), Decimal(0))
    overdue_value = sum((ln.outstanding * ln.unit_price for ln in overdue), Decimal(0))
    sentences = (
        Message("risk.loss", {**assumptions, "p_loss": _f(mc["probability_of_loss"] * 100),
                              "p_npv_negative": _f(mc["probability_npv_negative"] * 100)}),
        Message("risk.payback", {**assumptions, "p10": _f(payback["p10"], 0), "p50": _f(payback["p50"], 0),
                                 "p90": _f(payback["p90"], 0),
                                 "never": _f(mc["share_never_paying_back"] * 100)}),
        Message("risk.rent", {**assumptions, "base_npv_m": _f(base_npv / 1e6),
                              "npv_m": _f((rent_bar.low_metric or 0) / 1e6)}),
        Message("risk.occupancy", {**assumptions, "base_npv_m": _f(base_npv / 1e6),
                                   "npv_m": _f((occ_bar.low_metric or 0) / 1e6)}),
        Message("risk.delivery", {"open_units": str(open_units), "open_value": cents(open_value),
                                  "overdue_units": str(sum(ln.outstanding for ln in overdue)),
                                  "overdue_value": cents(overdue_value),
                                  "overdue_share": pct(overdue_value, open_value)}),
    )  # fmt: skip
    figures = (
        Figure("p_loss", _f(mc["probability_of_loss"] * 100), "%"),
        Figure("payback_p50_months", _f(payback["p50"], 0), "months"),
        Figure("npv_base_m", _f(base_npv / 1e6), "M CNY"),
        Figure("open_order_value", cents(open_value), "CNY"),
    )
    return Section("risks", figures, sentences=sentences)
