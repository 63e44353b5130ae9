"""Seeding a twin from the ledger (``suanli twin run ... --from-ledger``, and the operating
report's twin section).

Two steps, so that each reader of the ledger feeds the same rule:

- a :class:`LedgerSeed` holds what the ledger says on the effective date ``today`` about one
  SKU: the purchase prices of its installed servers, its leases in force and its GPU-hour list
  prices. :func:`read_seed` reads it through the services (the servers' and contracts' current
  state, for a twin run today); the report reads it as it stood at a period's end
  (:mod:`suanli.services.reports.twin`);
- :func:`seed_overrides` (pure) turns a seed into overrides on a twin scenario:

  - **fleet:** the installed servers (delivered and not retired or cancelled) arrive in grid
    month 0, at their average purchase price when the ledger has one;
  - **calendar:** grid month 0 is ``today``'s month, so the twin starts next month;
  - **contracts in force:** every lease that runs past the end of this month becomes a booked
    lease from month 1 for its remaining whole months (rounded up), at its contract rent quoted
    as the scenario quotes rents (VAT added when ``taxes.prices_include_vat``), for its
    customer;
  - **price list:** the GPU-hour list prices of the ``standard`` and ``spot`` classes in force
    today become the pool's prices (quoted the same way).

  - **demand** (:func:`calibrate`): when the ledger has at least ``MIN_HISTORY`` leases of the
    SKU signed in the ``HISTORY_MONTHS`` up to ``today``, new lease requests follow them: the
    arrival rate is their count over the months observed (from the first lease ever signed,
    at most ``HISTORY_MONTHS``), sizes and terms their empirical distributions, and the market
    rent their server-weighted contract rent. With less history the scenario's demand stays,
    and the report says which it used. Requests the ledger never saw (lost on price or
    capacity) are not in it, so calibrated demand is a floor.
  - **renewals** (:func:`calibrate_renewal`): a lease *term end* is an end a renewal extended
    (the renewal's ``previous_end``, agreed by ``today``) or a lease's last end reached by the
    end of ``today``'s month without renewal (a termination counts as not renewed). With at
    least ``MIN_TERM_ENDS`` term ends in the ``HISTORY_MONTHS`` before the twin's month 1, the
    renewal probability is the share renewed; otherwise the scenario's stays.
  - **willingness to pay** (:func:`calibrate_wtp`): with the demand calibrated and at least two
    distinct contract rents among the window's leases, each lease's rent over the calibrated
    market rent (their server-weighted average; the ledger keeps no server-month list price)
    is a ratio, and willingness to pay is uniform from the lowest ratio to the highest.
  - **request rate**: the ledger's leases are the requests that *accepted*, so with calibrated
    demand the request rate is the signed rate divided by the share that would pay the market
    rent under the willingness to pay in force (calibrated or the scenario's; :func:`acceptance`,
    ``(high - 1) / (high - low)`` for a uniform, at least ``MIN_ACCEPTANCE``): the twin then
    signs the ledger's rate at the market rent.

:func:`ledger_overrides` is both steps on today's ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from suanli.core.billing import add_months
from suanli.core.contracts import Contract
from suanli.core.fleet import Server, ServerState
from suanli.core.money import round_money
from suanli.economics.scenario import Dist
from suanli.services.container import Services
from suanli.services.fleet.servers import ServerFilter
from suanli.simulation.twin.scenario import TwinScenario

NOT_INSTALLED = frozenset({ServerState.ORDERED, ServerState.RETIRED, ServerState.CANCELLED})
PAGE = 500
MIN_HISTORY = 3  # leases signed in the window before demand is calibrated from the ledger
HISTORY_MONTHS = 12
MIN_TERM_ENDS = 3  # lease term ends (renewed or not) before renewals are calibrated
MIN_ACCEPTANCE = 0.1  # floor of the share of requests taken to accept the market rent
DAYS_PER_MONTH = 365.25 / 12
POOL_CLASSES = (("standard", "standard_per_gpu_hour"), ("spot", "spot_per_gpu_hour"))


@dataclass(frozen=True, slots=True)
class SeedLease:
    """A lease of the seed's SKU: ``end`` is its last day + 1 (termination included)."""

    start: date
    end: date
    servers: int
    monthly_rent: Decimal  # net of VAT, per server-month
    vat_rate: Decimal
    customer: str
    renewed_ends: tuple[date, ...] = ()  # the ends renewals agreed by ``today`` extended


@dataclass(frozen=True, slots=True)
class SeedPrice:
    gpu_hour_price: Decimal  # net of VAT
    vat_rate: Decimal


@dataclass(frozen=True, slots=True)
class LedgerSeed:
    """What the ledger says about one SKU on ``today``."""

    today: date
    purchase_prices: tuple[Decimal | None, ...]  # one per installed server
    leases: tuple[SeedLease, ...] = ()
    prices: Mapping[str, SeedPrice] = field(default_factory=dict)  # class → price in force

    @property
    def servers(self) -> int:
        return len(self.purchase_prices)

    @property
    def month_one(self) -> date:
        """The first day of the twin's month 1 (the month after ``today``)."""
        return add_months(date(self.today.year, self.today.month, 1), 1)

    def leases_in_force(self) -> list[SeedLease]:
        """Leases started by ``today`` that run past the end of ``today``'s month."""
        return [c for c in self.leases if c.start <= self.today and c.end > self.month_one]


@dataclass(frozen=True, slots=True)
class Calibration:
    """Lease demand as the ledger saw it in the months before the seed's ``today``."""

    requests: int  # leases signed in the window
    months: int  # months observed (the window, or since the first lease ever signed)
    sizes: dict[int, int]  # servers → leases
    terms: dict[int, int]  # whole months → leases
    market_rent: Decimal  # net of VAT, per server-month, server-weighted
    vat_rate: Decimal  # of the newest lease in the window

    @property
    def arrival_rate(self) -> float:
        return self.requests / self.months


def calibrate(seed: LedgerSeed) -> Calibration | None:
    """The ledger's lease demand up to ``seed.today`` (``None``: fewer than ``MIN_HISTORY``
    leases signed in the last ``HISTORY_MONTHS``)."""
    since = add_months(seed.month_one, -HISTORY_MONTHS)
    window = sorted(
        (c for c in seed.leases if since <= c.start <= seed.today), key=lambda c: c.start
    )
    if len(window) < MIN_HISTORY:
        return None
    first = min(c.start for c in seed.leases)
    observed = (seed.month_one.year - first.year) * 12 + seed.month_one.month - first.month
    sizes: dict[int, int] = {}
    terms: dict[int, int] = {}
    for c in window:
        sizes[c.servers] = sizes.get(c.servers, 0) + 1
        term = max(1, round((c.end - c.start).days / DAYS_PER_MONTH))
        terms[term] = terms.get(term, 0) + 1
    servers = sum(c.servers for c in window)
    rent = round_money(sum((c.monthly_rent * c.servers for c in window), Decimal(0)) / servers)
    return Calibration(
        len(window), max(1, min(HISTORY_MONTHS, observed)), dict(sorted(sizes.items())),
        dict(sorted(terms.items())), rent, window[-1].vat_rate,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class RenewalFit:
    """Lease term ends in the window before the twin's month 1, and how many were renewed."""

    term_ends: int
    renewed: int

    @property
    def probability(self) -> float:
        return self.renewed / self.term_ends


def term_ends(seed: LedgerSeed) -> list[tuple[date, bool]]:
    """(end, renewed) of every lease term end in the window (see the module's docstring)."""
    since = add_months(seed.month_one, -HISTORY_MONTHS)
    out: list[tuple[date, bool]] = []
    for c in seed.leases:
        out += [(e, True) for e in c.renewed_ends if e >= since]
        if since <= c.end <= seed.month_one and c.start <= seed.today:
            out.append((c.end, False))
    return sorted(out)


def calibrate_renewal(seed: LedgerSeed) -> tuple[RenewalFit, bool]:
    """The ledger's renewals, and whether there are enough (``MIN_TERM_ENDS``) to use them."""
    ends = term_ends(seed)
    fit = RenewalFit(len(ends), sum(1 for _, renewed in ends if renewed))
    return fit, fit.term_ends >= MIN_TERM_ENDS


@dataclass(frozen=True, slots=True)
class WtpFit:
    """Willingness to pay as multiples of the market rent, from the window's contract rents."""

    leases: int
    low: float
    high: float

    @property
    def acceptance(self) -> float:
        """The share of requests that would pay the market rent (at least MIN_ACCEPTANCE)."""
        return acceptance(Dist(dist="uniform", low=self.low, high=self.high))


def calibrate_wtp(seed: LedgerSeed, cal: Calibration | None) -> WtpFit | None:
    """Willingness to pay from the calibrated window's rents (``None``: no calibrated demand,
    or every lease paid the same rent)."""
    if cal is None or not cal.market_rent:
        return None
    since = add_months(seed.month_one, -HISTORY_MONTHS)
    ratios = [float(c.monthly_rent / cal.market_rent) for c in seed.leases
              if since <= c.start <= seed.today]  # fmt: skip
    low, high = round(min(ratios), 4), round(max(ratios), 4)
    return WtpFit(len(ratios), low, high) if low < high else None


def acceptance(wtp: Dist) -> float:
    """The share of requests whose willingness to pay reaches the market rent (the twin asks
    the market rent), at least ``MIN_ACCEPTANCE``: exact for ``fixed`` and ``uniform``; other
    distributions are taken as 1 (no correction)."""
    if wtp.dist == "fixed":
        share = 1.0 if (wtp.value or 0.0) >= 1.0 else 0.0
    elif wtp.dist == "uniform" and wtp.low is not None and wtp.high is not None:
        span = wtp.high - wtp.low
        share = (1.0 if wtp.low >= 1.0 else 0.0) if span <= 0 else (wtp.high - 1.0) / span
    else:
        return 1.0
    return min(1.0, max(MIN_ACCEPTANCE, share))


def behaviour_overrides(
    seed: LedgerSeed, cal: Calibration | None, sc: TwinScenario
) -> dict[str, Any]:
    """The ``twin.leases`` overrides of the calibrated renewals and willingness to pay, and
    the request rate that makes the twin sign the ledger's rate at the market rent."""
    out: dict[str, Any] = {}
    renewal, enough = calibrate_renewal(seed)
    if enough:
        out["renewal_probability"] = renewal.probability
    wtp = calibrate_wtp(seed, cal)
    if wtp is not None:
        out["willingness_to_pay"] = {"dist": "uniform", "low": wtp.low, "high": wtp.high}
    if cal is not None:
        used = Dist(**out["willingness_to_pay"]) if wtp else sc.twin.leases.willingness_to_pay
        out["arrival_rate_per_month"] = cal.arrival_rate / acceptance(used)
    return out


def demand_overrides(cal: Calibration, include_vat: bool) -> dict[str, Any]:
    """Overrides putting ``cal``'s requests and market rent into a twin scenario."""
    return {
        "form": {"rent_per_server_month": _quote(cal.market_rent, cal.vat_rate, include_vat)},
        "twin": {
            "leases": {
                "arrival_rate_per_month": cal.arrival_rate,
                "sizes": {"values": list(cal.sizes), "weights": [float(n) for n in cal.sizes.values()]},
                "terms": {"values": list(cal.terms), "weights": [float(n) for n in cal.terms.values()]},
            }
        },
    }  # fmt: skip


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


def read_seed(svc: Services, sku: str, today: date) -> LedgerSeed:
    """The seed from the ledger's current state: servers installed now, active leases, and the
    list prices valid on ``today``."""
    installed = [s for s in _servers(svc, sku) if s.state not in NOT_INSTALLED]
    leases = tuple(
        SeedLease(c.start_date, c.terminated_on or c.end_date, c.server_count, c.monthly_rent,
                  c.vat_rate, c.customer)
        for c in _leases(svc)
        if c.sku == sku
    )  # fmt: skip
    in_force: dict[str, SeedPrice] = {}  # list_prices is sorted by valid_from: the newest wins
    for price in svc.money.metering.list_prices(sku):
        if price.valid_from <= today:
            in_force[price.priority_class] = SeedPrice(price.gpu_hour_price, price.vat_rate)
    return LedgerSeed(today, tuple(s.purchase_price for s in installed), leases, in_force)


def seed_overrides(seed: LedgerSeed, sc: TwinScenario) -> dict[str, Any]:
    """Overrides that put ``seed``'s fleet, contracts and prices into the twin ``sc`` (pure)."""
    include = sc.economics.taxes.prices_include_vat
    today = seed.today
    out: dict[str, Any] = {"twin": {"start": f"{today.year:04d}-{today.month:02d}", "book": []}}
    if seed.servers:
        fleet_doc: dict[str, Any] = {
            "count": seed.servers,
            "delivery": [{"month": 0, "count": seed.servers}],
        }
        prices = [p for p in seed.purchase_prices if p is not None]
        if prices:
            fleet_doc["unit_price"] = float(round_money(sum(prices, Decimal(0)) / len(prices)))
        out["fleet"] = fleet_doc
    for c in seed.leases_in_force():
        out["twin"]["book"].append(
            {
                "start_month": 1,
                "servers": c.servers,
                "term_months": remaining_months(c.end, seed.month_one),
                "rent_per_server_month": _quote(c.monthly_rent, c.vat_rate, include),
                "customer": c.customer,
            }
        )
    pool = {
        key: _quote(seed.prices[klass].gpu_hour_price, seed.prices[klass].vat_rate, include)
        for klass, key in POOL_CLASSES
        if klass in seed.prices
    }
    if pool:
        out["twin"]["pool"] = pool
    cal = calibrate(seed)
    if cal is not None:
        demand = demand_overrides(cal, include)
        out["form"] = demand["form"]
        out["twin"]["leases"] = demand["twin"]["leases"]
    behaviour = behaviour_overrides(seed, cal, sc)
    if behaviour:
        out["twin"]["leases"] = {**out["twin"].get("leases", {}), **behaviour}
    return out


def ledger_overrides(svc: Services, sc: TwinScenario, today: date) -> dict[str, Any]:
    """Overrides that put today's fleet, contracts and prices into the twin ``sc``."""
    fleet = sc.economics.fleet
    assert fleet is not None
    return seed_overrides(read_seed(svc, fleet.sku, today), sc)
