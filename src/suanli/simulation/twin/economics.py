"""The twin's hand-off to the economics engine: its own occupancy and revenue, the engine's costs.

Owns :func:`project_book`. The twin decides how many servers arrived, when, and what they
billed; the economics engine (:func:`suanli.economics.cashflow.project`) turns that into the
cash-flow table with the scenario's costs (power with PUE on idle and leased servers, cabinet,
O&M, staff, depreciation, financing, income tax, receivables and bad debt). Nothing of the
engine is re-implemented: the twin builds the engine's ``Plan`` from the scenario with the
*realised* delivery schedule, switches off the engine's own occupancy ramp and contract
re-pricing (the twin's lease book replaces them) and passes its monthly occupancy and the
realised net rent per leased server as the engine's per-path ``Draws``:

    occupancy[t]    = occupied servers / active servers
    price_factor[t] = billed net[t] × vat_divisor / (occupied servers × quoted rent)

where occupied servers are the leased ones plus the pool's busy share (utilisation × pool
servers) and the inference service's busy servers (its nodes and the valley's training), and
billed is rent after SLA credits plus the pool's GPU-hour and inference's token and training
revenue (less the pass-through fees the engine would add for the pool's and inference's busy
servers, which pay none)

so that the engine's ``revenue = active × occupancy × price × quoted / vat_divisor`` equals the
twin's billed rent (after SLA credits) exactly. Cabinet and O&M pass-through fees stay the
engine's (``pass_through_per_server_month`` per leased server).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from suanli.economics.cashflow import CashFlows, Draws, project
from suanli.economics.metrics import irr, payback, ratio
from suanli.economics.plan import build_plan
from suanli.economics.scenario import Delivery, Fleet, Scenario
from suanli.simulation.twin.leasebook import BookResult


@dataclass(frozen=True, slots=True)
class Metrics:
    npv: float
    irr_annual: float | None
    irr_status: str
    static_payback_months: float | None
    dynamic_payback_months: float | None
    ebitda_margin: float | None
    net_margin: float | None
    total_revenue: float
    total_net_income: float
    total_capex: float

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def realised_scenario(econ: Scenario, schedule: list[Delivery]) -> Scenario:
    """``econ`` with the fleet that actually arrived (all of it, on the realised dates)."""
    fleet = econ.fleet
    assert fleet is not None
    count = sum(d.count for d in schedule)
    realised = Fleet.model_construct(
        sku=fleet.sku,
        count=count,
        unit_price=fleet.unit_price,
        delivery=list(schedule),
        delivered_fraction=1.0,
    )
    return econ.model_copy(update={"fleet": realised})


def project_book(econ: Scenario, book: BookResult) -> CashFlows:
    """The economics engine's cash-flow table for one path of the lease book."""
    plan = build_plan(realised_scenario(econ, book.schedule))
    n = plan.months + 1
    ones = np.ones(n)
    ones[0] = 0.0
    plan = replace(
        plan,
        ramp_a=np.zeros(n),
        ramp_b=ones,
        ceiling=1.0,
        contract_months=1,
        shock_factor=np.ones(n),
        level=0.0,
    )
    leased = np.array([row.occupied_servers for row in book.months], dtype=np.float64)
    active = plan.active_prop
    billed = np.array([float(row.billed) for row in book.months], dtype=np.float64)
    occupancy = np.divide(leased, active, out=np.zeros(n), where=active > 0)
    busy = np.array([row.unleased_busy_servers for row in book.months], dtype=np.float64)
    denominator = leased * plan.unit_revenue
    # the engine adds pass-through fees per occupied server; the pool's busy servers pay none
    gross = billed * plan.vat_divisor - busy * plan.pass_through
    factor = np.divide(gross, denominator, out=np.zeros(n), where=denominator > 0)
    draws = Draws(
        level=occupancy[None, :],
        price_factor=factor[None, :],
        delivered=np.ones((1, 1)),
        bad_debt_pct=np.full((1, 1), plan.bad_debt_pct),
    )
    return project(plan, draws)


def _finite(x: float) -> float | None:
    return None if math.isnan(x) or math.isinf(x) else float(x)


def metrics_of(flows: CashFlows) -> Metrics:
    """Headline figures of a one-path table, defined as in :mod:`suanli.economics.evaluate`."""
    result = irr(flows.fcf[0])
    revenue = float(flows.revenue[0].sum())
    net = float(flows.net_income[0].sum())
    return Metrics(
        npv=float(flows.discounted_cumulative[0, -1]),
        irr_annual=result.annual,
        irr_status=result.status,
        static_payback_months=_finite(float(payback(flows.cumulative)[0])),
        dynamic_payback_months=_finite(float(payback(flows.discounted_cumulative)[0])),
        ebitda_margin=ratio(float(flows.ebitda[0].sum()), revenue),
        net_margin=ratio(net, revenue),
        total_revenue=revenue,
        total_net_income=net,
        total_capex=float(flows.capex[0].sum()),
    )
