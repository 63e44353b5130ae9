"""Report section *twin*: risk factors from the digital twin, seeded from the ledger as it stood
at the period's end, one twin per SKU added path by path.

What it owns: reading one :class:`~suanli.services.twin_seed.LedgerSeed` per SKU at a period's
end (:func:`read_seeds_at`), the twin each SKU runs (:func:`twin_scenario`), adding them up
(:func:`combine`) and the section's figures and sentences (:func:`twin_section`). Each seed goes
through the same rule as ``suanli twin run --from-ledger``
(:func:`~suanli.services.twin_seed.seed_overrides`: fleet, book, prices, and demand, renewals
and willingness to pay calibrated from the ledger when it has enough of them).

- **Seed at the end.** Installed servers: servers whose last transition before the period's end
  left them delivered and not retired or cancelled (the state log, not today's state), grouped
  by SKU. Leases: leases of that SKU started by the period's last day, with their end as known
  at the period's end (renewals and terminations agreed later are left out, as in the contract
  book) and the ends their earlier renewals extended. GPU-hour list prices only when the
  scenario runs a pool (the bundled case does not). Grid month 0 is the period's last month,
  so the twin's month 1 is the month after the period.
- **One twin per SKU** (:func:`sku_overrides`): the bundled scenario with the SKU (its power
  draw from the catalog), its servers, and its share of the fixed costs (staff, bandwidth) by
  server count. Without calibrated demand (fewer than 3 leases of the SKU in the last 12
  months) the scenario's requests are taken per server (its rate × servers / its fleet of 100)
  at the SKU's own rent: the server-weighted rent of its leases, else the scenario's rent
  scaled by the SKU's average purchase price (:func:`own_rent`).
- **Added path by path** (:func:`combine`): path ``i`` of every SKU runs on seed ``SEED + i``;
  occupancy is occupied over active servers of all SKUs, revenue, net income and NPV are sums,
  payback is that of the summed cumulative cash. Income tax is each SKU's own (a loss on one
  SKU does not offset another), and the sentence says so.
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
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.money import round_money
from suanli.economics.loader import merge
from suanli.economics.metrics import payback
from suanli.services.reports.book import leases_as_known
from suanli.services.reports.capacity import last_transitions
from suanli.services.reports.model import Figure, Message, Section, Table, cents, pct
from suanli.services.reports.period import ReportPeriod
from suanli.services.twin_seed import (
    HISTORY_MONTHS,
    MIN_TERM_ENDS,
    NOT_INSTALLED,
    LedgerSeed,
    SeedLease,
    SeedPrice,
    acceptance,
    calibrate,
    calibrate_renewal,
    calibrate_wtp,
    demand_overrides,
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
    """The seed of one SKU at the period's end."""

    sku: str
    seed: LedgerSeed


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


def read_seeds_at(s: Session, period: ReportPeriod) -> list[TwinInputs]:
    """The ledger at the period's end, one seed per SKU with servers installed then (most
    servers first; list prices only when the scenario runs a pool: nothing else reads them)."""
    base = load_twin(TWIN_SCENARIO)
    installed = _installed_at_end(s, period)
    skus = sorted(
        {k for k, _ in installed}, key=lambda k: (-sum(1 for x, _ in installed if x == k), k)
    )
    out = []
    for sku in skus:
        leases = tuple(
            SeedLease(c.start_date, end, c.server_count, c.monthly_rent, c.vat_rate,
                      c.customer.code, renewed)
            for c, end, renewed in leases_as_known(s, period, sku)
        )  # fmt: skip
        prices = _prices_at(s, sku, period) if base.twin.pool.servers > 0 else {}
        seed = LedgerSeed(
            period.last_day, tuple(p for k, p in installed if k == sku), leases, prices
        )
        out.append(TwinInputs(sku, seed))
    return out


def sku_overrides(seed: LedgerSeed, sku: str, pooled: LedgerSeed,
                  base: TwinScenario) -> dict[str, Any]:  # fmt: skip
    """Overrides of one SKU's twin on top of :func:`seed_overrides` (see the module's
    docstring): its SKU, its share of the fixed costs, and, without demand calibrated from its
    own leases, the whole ledger's demand (or else the scenario's) per server at its own rent."""
    fleet = base.economics.fleet
    assert fleet is not None
    opex = base.economics.opex
    share = seed.servers / pooled.servers
    out: dict[str, Any] = {
        "horizon_months": HORIZON_MONTHS,
        "fleet": {"sku": sku},
        "opex": {"staff_per_month": opex.staff_per_month * share,
                 "bandwidth_per_month": opex.bandwidth_per_month * share},
    }  # fmt: skip
    if calibrate(seed) is not None:
        return out
    whole = calibrate(pooled)
    if whole is not None:
        demand = demand_overrides(whole, base.economics.taxes.prices_include_vat)["twin"]["leases"]
        rate = whole.arrival_rate * share / acceptance(base.twin.leases.willingness_to_pay)
        out["twin"] = {"leases": {**demand, "arrival_rate_per_month": rate}}
    else:
        rate = base.twin.leases.arrival_rate_per_month * seed.servers / fleet.count
        out["twin"] = {"leases": {"arrival_rate_per_month": rate}}
    rent = own_rent(seed, base)
    if rent is not None:
        out["form"] = {"rent_per_server_month": rent}
    return out


def own_rent(seed: LedgerSeed, base: TwinScenario) -> float | None:
    """The SKU's market rent without calibrated demand, quoted as the scenario quotes rents:
    the server-weighted rent of its leases, else the scenario's rent scaled by the SKU's
    average purchase price (``None``: neither is known, the scenario's rent stays)."""
    include = base.economics.taxes.prices_include_vat
    if seed.leases:
        servers = sum(c.servers for c in seed.leases)
        net = sum((c.monthly_rent * c.servers for c in seed.leases), Decimal(0)) / servers
        vat = seed.leases[-1].vat_rate
        return float(round_money(net * (1 + vat)) if include else round_money(net))
    prices = [p for p in seed.purchase_prices if p is not None]
    fleet = base.economics.fleet
    if not prices or fleet is None or not fleet.unit_price:
        return None
    avg = float(sum(prices, Decimal(0)) / len(prices))
    return round(base.quoted_rent * avg / fleet.unit_price, 2)


def pooled_seed(inputs: Sequence[TwinInputs]) -> LedgerSeed:
    """Every SKU's servers and leases as one seed (the whole ledger's demand)."""
    first = inputs[0].seed
    return LedgerSeed(
        first.today,
        tuple(p for i in inputs for p in i.seed.purchase_prices),
        tuple(sorted((c for i in inputs for c in i.seed.leases), key=lambda c: c.start)),
    )


def twin_scenario(inputs: TwinInputs, pooled: LedgerSeed) -> TwinScenario:
    """The bundled twin for one SKU's seed, over the report's horizon."""
    base = load_twin(TWIN_SCENARIO)
    overrides = merge(seed_overrides(inputs.seed, base),
                      sku_overrides(inputs.seed, inputs.sku, pooled, base))  # fmt: skip
    return load_twin(TWIN_SCENARIO, overrides)


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


@dataclass(frozen=True, slots=True)
class Combined:
    """The SKUs' twins added path by path (path ``i`` of every SKU ran on seed ``SEED + i``)."""

    occupancy_ahead: list[float]  # per path: occupied over active servers, months 1..AHEAD
    occupancy_horizon: float  # mean over paths and months 1..horizon
    revenue_ahead: list[Decimal]  # per path, billed net of VAT
    net_income: list[float]
    npv: list[float]
    payback: list[float | None]  # static payback of the summed cumulative cash, months


def combine(runs: Sequence[TwinRun]) -> Combined:
    """Path-wise sums of the runs (one per SKU, same paths and horizon)."""
    n = len(runs[0].paths)
    occ_ahead, occ_all, revenue, net, npv, paid = [], [], [], [], [], []
    for i in range(n):
        paths = [r.paths[i] for r in runs]
        months = len(paths[0].book.months)
        occupied = [sum(p.book.months[t].occupancy * p.book.months[t].active_servers for p in paths)
                    for t in range(months)]  # fmt: skip
        active = [sum(p.book.months[t].active_servers for p in paths) for t in range(months)]
        occ = [o / a if a else 0.0 for o, a in zip(occupied, active, strict=True)]
        occ_ahead.append(sum(occ[1 : AHEAD_MONTHS + 1]) / len(occ[1 : AHEAD_MONTHS + 1]))
        occ_all.append(occ[1:])
        revenue.append(sum((m.billed for p in paths for m in p.book.months[1 : AHEAD_MONTHS + 1]),
                           Decimal(0)))  # fmt: skip
        net.append(sum(p.metrics.total_net_income for p in paths))
        npv.append(sum(p.metrics.npv for p in paths))
        cum = np.sum([p.cumulative for p in paths], axis=0)
        back = float(payback(cum)[0])
        paid.append(None if math.isnan(back) else back)
    return Combined(occ_ahead, float(np.mean(occ_all)) if occ_all[0] else 0.0, revenue, net,
                    npv, paid)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SkuTwin:
    inputs: TwinInputs
    scenario: TwinScenario
    run: TwinRun
    pooled: LedgerSeed  # every SKU's servers and leases (the whole ledger's demand)


def _basis(one: SkuTwin) -> tuple[Message, ...]:
    """The sentences saying what one SKU's twin was seeded and calibrated with."""
    seed, sc, sku = one.inputs.seed, one.scenario, one.inputs.sku
    in_force = seed.leases_in_force()
    prices = [p for p in seed.purchase_prices if p is not None]
    avg_price = sum(prices, Decimal(0)) / len(prices) if prices else None
    leases = sc.twin.leases
    basis = {
        "scenario": TWIN_SCENARIO, "as_of": seed.today.isoformat(), "sku": sku,
        "servers": str(seed.servers),
        "unit_price": "n/a" if avg_price is None else cents(avg_price),
        "leases": str(len(in_force)), "leased": str(sum(c.servers for c in in_force)),
        "market_rent": cents(Decimal(str(sc.market_rent))),
        "vat_basis": "incl_vat" if sc.economics.taxes.prices_include_vat else "net",
        "decline": _p1(sc.twin.prices.decline_annual * 100),
        "arrivals": f"{leases.arrival_rate_per_month:.2f}",
        "horizon": str(HORIZON_MONTHS), "start": seed.month_one.strftime("%Y-%m"),
        "paths": str(PATHS), "seed": str(SEED), "history": str(HISTORY_MONTHS),
    }  # fmt: skip
    cal = calibrate(seed)
    whole = None if cal is not None else calibrate(one.pooled)
    used = cal or whole
    if used is not None:  # demand from the ledger's leases (twin_seed.calibrate)
        basis |= {
            "requests": str(used.requests), "history": str(used.months),
            "signed_rate": f"{used.arrival_rate:.2f}", "all_servers": str(one.pooled.servers),
            "sizes": ", ".join(f"{k}:{v}" for k, v in used.sizes.items()),
            "terms": ", ".join(f"{k}:{v}" for k, v in used.terms.items()),
        }  # fmt: skip
    renewal, enough = calibrate_renewal(seed)
    wtp = calibrate_wtp(seed, cal)
    wtp_params = {"low": f"{wtp.low:.3f}", "high": f"{wtp.high:.3f}", "n": str(wtp.leases),
                  "accept": _p1(wtp.acceptance * 100)} if wtp else {
                  "low": _p1(leases.willingness_to_pay.low),
                  "high": _p1(leases.willingness_to_pay.high),
                  "accept": _p1(acceptance(leases.willingness_to_pay) * 100)}  # fmt: skip
    key = "twin.basis_ledger" if cal else "twin.basis_pooled" if whole else "twin.basis"
    return (
        Message(key, basis),
        Message("twin.renewal_ledger" if enough else "twin.renewal_scenario",
                {**basis, "history": str(HISTORY_MONTHS),
                 "term_ends": str(renewal.term_ends), "renewed": str(renewal.renewed),
                 "renewal": _p1(leases.renewal_probability * 100),
                 "minimum": str(MIN_TERM_ENDS)}),
        Message("twin.wtp_ledger" if wtp else "twin.wtp_scenario", {**basis, **wtp_params}),
    )  # fmt: skip


def twin_section(twins: Sequence[SkuTwin]) -> Section:
    seeds = [t.inputs.seed for t in twins]
    servers = sum(s.servers for s in seeds)
    leased = sum(c.servers for s in seeds for c in s.leases_in_force())
    c = combine([t.run for t in twins])
    rev_mean = sum(c.revenue_ahead, Decimal(0)) / len(c.revenue_ahead)
    rev_p5 = nearest_rank(c.revenue_ahead, 0.05)
    contracted = sum((contracted_ahead(s) for s in seeds), Decimal(0))
    p_loss = float(np.mean([v < 0.0 for v in c.net_income]))
    p_npv = float(np.mean([v < 0.0 for v in c.npv]))
    npv = np.array(c.npv)
    never = float(np.mean([p is None for p in c.payback]))
    common = {"horizon": str(HORIZON_MONTHS), "ahead": str(AHEAD_MONTHS),
              "skus": ", ".join(f"{t.inputs.sku} ({t.inputs.seed.servers})" for t in twins),
              "servers": str(servers), "paths": str(PATHS), "seed": str(SEED)}  # fmt: skip
    sentences = (
        *(m for t in twins for m in _basis(t)),
        Message("twin.combined", common),
        Message("twin.occupancy", {**common, "occupancy": _p1(float(np.mean(c.occupancy_ahead)) * 100),
                                   "p5": _p1(nearest_rank(c.occupancy_ahead, 0.05) * 100),
                                   "p95": _p1(nearest_rank(c.occupancy_ahead, 0.95) * 100),
                                   "horizon_occupancy": _p1(c.occupancy_horizon * 100),
                                   "contracted": pct(leased, servers)}),
        Message("twin.loss", {**common, "p_loss": _p1(p_loss * 100),
                              "p_npv_negative": _p1(p_npv * 100),
                              "npv_p5_m": _p1(float(np.quantile(npv, 0.05)) / 1e6),
                              "npv_p50_m": _p1(float(np.quantile(npv, 0.5)) / 1e6),
                              "npv_p95_m": _p1(float(np.quantile(npv, 0.95)) / 1e6)}),
        Message("twin.payback", {**common, "p10": payback_quantile(c.payback, 0.1),
                                 "p50": payback_quantile(c.payback, 0.5),
                                 "p90": payback_quantile(c.payback, 0.9),
                                 "never": _p1(never * 100)}),
        Message("twin.revenue", {**common, "mean": cents(rev_mean), "p5": cents(rev_p5),
                                 "at_risk": cents(rev_mean - rev_p5),
                                 "at_risk_share": pct(rev_mean - rev_p5, rev_mean),
                                 "contracted": cents(contracted),
                                 "contracted_share": pct(contracted, rev_mean)}),
    )  # fmt: skip
    figures = (
        Figure("twin_servers", str(servers), "units"),
        Figure("twin_occupancy_ahead", _p1(float(np.mean(c.occupancy_ahead)) * 100), "%"),
        Figure("p_loss", _p1(p_loss * 100), "%"),
        Figure("twin_p_npv_negative", _p1(p_npv * 100), "%"),
        Figure("payback_p50_months", payback_quantile(c.payback, 0.5), "months"),
        Figure("twin_revenue_ahead_mean", cents(rev_mean), "CNY"),
        Figure("twin_revenue_ahead_p5", cents(rev_p5), "CNY"),
        Figure("twin_revenue_at_risk", cents(rev_mean - rev_p5), "CNY"),
        Figure("twin_revenue_contracted", cents(contracted), "CNY"),
    )
    by_sku = tuple(
        (t.inputs.sku, str(t.inputs.seed.servers), cents(Decimal(str(t.scenario.market_rent))),
         f"{t.scenario.twin.leases.arrival_rate_per_month:.2f}",
         _p1(t.scenario.twin.leases.renewal_probability * 100),
         f"{t.scenario.twin.leases.willingness_to_pay.low}-{t.scenario.twin.leases.willingness_to_pay.high}")
        for t in twins
    )  # fmt: skip
    columns = (
        "sku",
        "twin_servers_sku",
        "market_rent",
        "requests_per_month",
        "renewal_pct",
        "wtp_range",
    )
    return Section("twin", figures, (Table("twin_by_sku", columns, by_sku),), sentences=sentences,
                   notes=(Message("twin.projection"),), archived=False)  # fmt: skip


def report_twins(inputs: Sequence[TwinInputs]) -> tuple[SkuTwin, ...]:
    """One seeded twin per SKU with servers (the report's runs)."""
    if not inputs:
        return ()
    pooled = pooled_seed(inputs)
    out = []
    for i in inputs:
        if i.seed.servers:
            sc = twin_scenario(i, pooled)
            out.append(SkuTwin(i, sc, run_report_twin(sc), pooled))
    return tuple(out)
