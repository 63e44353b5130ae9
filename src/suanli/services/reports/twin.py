"""Report section *twin*: risk factors from the digital twin, seeded from the ledger as it stood
at the period's end.

What it owns: reading the :class:`~suanli.services.twin_seed.LedgerSeed` at a period's end
(:func:`read_seed_at`), the twin it runs (:func:`twin_scenario`) and the section's figures and
sentences (:func:`twin_section`). The seed goes through the same rule as
``suanli twin run --from-ledger`` (:func:`~suanli.services.twin_seed.seed_overrides`).

- **Seed at the end.** Installed servers: servers of the twin's SKU whose last transition before
  the period's end left them delivered and not retired or cancelled (the state log, not today's
  state). Leases: leases of that SKU started by the period's last day, with their end as known at
  the period's end (renewals and terminations agreed later are left out, as in the contract
  book). GPU-hour list prices only when the scenario runs a pool (the bundled case does not).
  Grid month 0 is the period's last month, so the twin's month 1 is the month after the period.
- **Scenario.** The bundled :data:`TWIN_SCENARIO` (the article's market: small, short requests,
  rents falling 20 % a year) over :data:`HORIZON_MONTHS`; :data:`PATHS` paths from seed
  :data:`SEED` (path ``i`` uses ``SEED + i``). Each sentence names these assumptions.
- **Not archived.** The twin's figures are projections of a model, not facts of the ledger: the
  section is marked ``archived=False``, so its figures are left out of the archived figures and
  of the page's figures digest, and a change of model or scenario is never a restatement. The
  page stays byte-identical for a closed period because the run is seeded and reads the ledger
  only as it stood at the period's end.

Vocabulary: *ahead* is the twin's months ``1 .. AHEAD_MONTHS`` (the year after the period);
*revenue* is billed net of VAT after SLA credits; *revenue at risk* is the mean over paths
minus the 5th percentile (nearest rank); *contracted* is the leases in force at their contract
rents for their remaining whole months (rounded up), as the twin books them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.economics.loader import merge
from suanli.services.reports.book import leases_as_known
from suanli.services.reports.capacity import last_transitions
from suanli.services.reports.model import Figure, Message, Section, cents, pct
from suanli.services.reports.period import ReportPeriod
from suanli.services.twin_seed import (
    NOT_INSTALLED,
    LedgerSeed,
    SeedLease,
    SeedPrice,
    calibrate,
    remaining_months,
    seed_overrides,
)
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.run import TwinRun, run_twin
from suanli.simulation.twin.scenario import TwinScenario
from suanli.store.models import PriceRow, ServerRow, ServerTransitionRow

TWIN_SCENARIO = "fragmented-demand"  # i18n's ``twin.basis`` words its demand: keep them together
HORIZON_MONTHS = 36
PATHS = 32
SEED = 19
AHEAD_MONTHS = 12
_INSTALLED_OUT = sorted(s.value for s in NOT_INSTALLED)

T = TypeVar("T", Decimal, float)


@dataclass(frozen=True, slots=True)
class TwinInputs:
    """The seed of the twin's SKU at the period's end, and what the twin leaves out."""

    sku: str
    seed: LedgerSeed
    other_servers: int  # installed servers of other SKUs (not modelled)


def _installed_at_end(s: Session, period: ReportPeriod) -> list[tuple[str, Decimal | None]]:
    """(sku, purchase price) of every server installed at the period's end, by server id."""
    last = last_transitions(period)
    rows = s.execute(
        select(ServerRow.sku, ServerRow.purchase_price)
        .join(last, last.c.server_id == ServerRow.id)
        .join(ServerTransitionRow, ServerTransitionRow.id == last.c.tid)
        .where(ServerTransitionRow.to_state.not_in(_INSTALLED_OUT))
        .order_by(ServerRow.id)
    ).all()
    return [(sku, price) for sku, price in rows]


def _prices_at(s: Session, sku: str, period: ReportPeriod) -> dict[str, SeedPrice]:
    in_force: dict[str, SeedPrice] = {}
    for p in s.scalars(
        select(PriceRow)
        .where(PriceRow.sku == sku, PriceRow.valid_from <= period.last_day)
        .order_by(PriceRow.valid_from, PriceRow.id)
    ):
        in_force[p.priority_class] = SeedPrice(p.gpu_hour_price, p.vat_rate)  # newest wins
    return in_force


def read_seed_at(s: Session, period: ReportPeriod) -> TwinInputs:
    """The ledger at the period's end, as a seed for the twin's SKU (list prices only when the
    scenario runs a pool: nothing else reads them)."""
    base = load_twin(TWIN_SCENARIO)
    assert base.economics.fleet is not None  # the bundled scenario has a fleet
    sku = base.economics.fleet.sku
    installed = _installed_at_end(s, period)
    leases = tuple(
        SeedLease(c.start_date, end, c.server_count, c.monthly_rent, c.vat_rate, c.customer.code)
        for c, end in leases_as_known(s, period, sku)
    )
    seed = LedgerSeed(
        period.last_day,
        tuple(price for k, price in installed if k == sku),
        leases,
        _prices_at(s, sku, period) if base.twin.pool.servers > 0 else {},
    )
    return TwinInputs(sku, seed, sum(1 for k, _ in installed if k != sku))


def twin_scenario(seed: LedgerSeed) -> TwinScenario:
    """The bundled twin with the seed's fleet, book and prices, over the report's horizon."""
    base = load_twin(TWIN_SCENARIO)
    return load_twin(
        TWIN_SCENARIO, merge(seed_overrides(seed, base), {"horizon_months": HORIZON_MONTHS})
    )


def run_report_twin(sc: TwinScenario) -> TwinRun:
    """The report's run: :data:`PATHS` seeded paths from :data:`SEED`."""
    return run_twin(sc, seed=SEED, paths=PATHS)


def nearest_rank(values: Sequence[T], q: float) -> T:
    """The ``q`` quantile by nearest rank: an observed value, exact for Decimals."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _p1(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def payback_quantile(values: Sequence[float | None], q: float) -> str:
    """A payback quantile in months; ``n/a`` when that path never pays back."""
    rank = nearest_rank([math.inf if v is None else v for v in values], q)
    return "n/a" if math.isinf(rank) else f"{rank:.0f}"


def contracted_ahead(seed: LedgerSeed) -> Decimal:
    """Rent of the leases in force over the months ahead, net of VAT."""
    return sum(
        (c.monthly_rent * c.servers * min(remaining_months(c.end, seed.month_one), AHEAD_MONTHS)
         for c in seed.leases_in_force()),
        Decimal(0),
    )  # fmt: skip


def twin_section(inputs: TwinInputs, sc: TwinScenario, run: TwinRun) -> Section:
    seed = inputs.seed
    in_force = seed.leases_in_force()
    leased = sum(c.servers for c in in_force)
    prices = [p for p in seed.purchase_prices if p is not None]
    avg_price = sum(prices, Decimal(0)) / len(prices) if prices else None
    market = sc.twin.prices.rent_per_server_month
    form_rent = getattr(sc.economics.form, "rent_per_server_month", None)
    basis = {
        "scenario": TWIN_SCENARIO, "as_of": seed.today.isoformat(), "sku": inputs.sku,
        "servers": str(seed.servers), "other_servers": str(inputs.other_servers),
        "unit_price": "n/a" if avg_price is None else cents(avg_price),
        "leases": str(len(in_force)), "leased": str(leased),
        "market_rent": cents(Decimal(str(market if market is not None else form_rent or 0))),
        "vat_basis": "incl_vat" if sc.economics.taxes.prices_include_vat else "net",
        "decline": _p1(sc.twin.prices.decline_annual * 100),
        "arrivals": _p1(sc.twin.leases.arrival_rate_per_month),
        "horizon": str(HORIZON_MONTHS), "start": seed.month_one.strftime("%Y-%m"),
        "paths": str(PATHS), "seed": str(SEED), "ahead": str(AHEAD_MONTHS),
    }  # fmt: skip
    cal = calibrate(seed)
    if cal is not None:  # demand from the ledger's own leases (twin_seed.calibrate)
        basis |= {
            "requests": str(cal.requests), "history": str(cal.months),
            "sizes": ", ".join(f"{k}:{v}" for k, v in cal.sizes.items()),
            "terms": ", ".join(f"{k}:{v}" for k, v in cal.terms.items()),
        }  # fmt: skip
    ahead = [p.book.months[1 : AHEAD_MONTHS + 1] for p in run.paths]
    occ = [sum(m.occupancy for m in ms) / len(ms) for ms in ahead]
    occ_mean = sum(occ) / len(occ)
    revenue = [sum((m.billed for m in ms), Decimal(0)) for ms in ahead]
    rev_mean = sum(revenue, Decimal(0)) / len(revenue)
    rev_p5 = nearest_rank(revenue, 0.05)
    contracted = contracted_ahead(seed)
    summary = run.summary()
    npv_q = summary["npv_quantiles"]
    payback = [p.metrics.static_payback_months for p in run.paths]
    sentences = (
        Message("twin.basis" if cal is None else "twin.basis_ledger", basis),
        Message("twin.occupancy", {**basis, "occupancy": _p1(occ_mean * 100),
                                   "p5": _p1(nearest_rank(occ, 0.05) * 100),
                                   "p95": _p1(nearest_rank(occ, 0.95) * 100),
                                   "horizon_occupancy": _p1(summary["mean_occupancy"] * 100),
                                   "contracted": pct(leased, seed.servers)}),
        Message("twin.loss", {**basis, "p_loss": _p1(summary["probability_of_loss"] * 100),
                              "p_npv_negative": _p1(summary["probability_npv_negative"] * 100),
                              "npv_p5_m": _p1(npv_q["0.05"] / 1e6),
                              "npv_p50_m": _p1(npv_q["0.5"] / 1e6),
                              "npv_p95_m": _p1(npv_q["0.95"] / 1e6)}),
        Message("twin.payback", {**basis, "p10": payback_quantile(payback, 0.1),
                                 "p50": payback_quantile(payback, 0.5),
                                 "p90": payback_quantile(payback, 0.9),
                                 "never": _p1(summary["never_pays_back"] * 100)}),
        Message("twin.revenue", {**basis, "mean": cents(rev_mean), "p5": cents(rev_p5),
                                 "at_risk": cents(rev_mean - rev_p5),
                                 "at_risk_share": pct(rev_mean - rev_p5, rev_mean),
                                 "contracted": cents(contracted),
                                 "contracted_share": pct(contracted, rev_mean)}),
    )  # fmt: skip
    figures = (
        Figure("twin_servers", str(seed.servers), "units"),
        Figure("twin_occupancy_ahead", _p1(occ_mean * 100), "%"),
        Figure("p_loss", _p1(summary["probability_of_loss"] * 100), "%"),
        Figure("twin_p_npv_negative", _p1(summary["probability_npv_negative"] * 100), "%"),
        Figure("payback_p50_months", payback_quantile(payback, 0.5), "months"),
        Figure("twin_revenue_ahead_mean", cents(rev_mean), "CNY"),
        Figure("twin_revenue_ahead_p5", cents(rev_p5), "CNY"),
        Figure("twin_revenue_at_risk", cents(rev_mean - rev_p5), "CNY"),
        Figure("twin_revenue_contracted", cents(contracted), "CNY"),
    )
    return Section("twin", figures, sentences=sentences, notes=(Message("twin.projection"),),
                   archived=False)  # fmt: skip
