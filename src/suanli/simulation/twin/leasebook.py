"""The bare-metal lease book of the twin, month by month on the economics grid (pure, seeded).

Owns :func:`simulate_book`: deliveries (with supplier shortfall and delay), the list-rent path,
lease requests (booked and random), acceptance (price and capacity), renewals, failures and
the monthly bill of every lease. Prices are never computed here: each lease-month is billed by
the ledger's own pure rules in :mod:`suanli.core.billing` (``prorated``, ``downtime_seconds``,
``credited_seconds``, ``sla_credit_amount``, ``line_amount``), so the twin and the invoice run
agree by construction.

Grid (as in :mod:`suanli.economics.plan`): month ``t = 0 .. H``; month 0 is the calendar month
``twin.start`` and carries only capex; servers delivered in month ``d`` can be leased from
month ``d + 1``. Leases start on the first day of a month and run whole months, so rent is
``monthly_rent × servers`` per month; SLA credits follow the contract's uptime promise.

Order of events in month ``t``: leases ending at ``t`` renew or end → booked leases starting at
``t`` → random requests (arrived during ``t - 1``) in arrival order → failures during ``t`` →
the month's bill. A dynamic pool (``twin.pool.split = "dynamic"``) runs after the last month,
borrowing in each month the servers no lease held (:meth:`_Book.idle`). Randomness comes from four independent streams (prices, deliveries, demand,
failures) spawned from the seed, so two policies compared on one seed see the same demand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from suanli.core.billing import (
    Period,
    add_months,
    credited_seconds,
    downtime_seconds,
    line_amount,
    midnight,
    month_of,
    prorated,
    sla_credit_amount,
)
from suanli.core.money import round_money
from suanli.economics.montecarlo import sample
from suanli.economics.scenario import Delivery, Dist
from suanli.simulation.failures import FailureModel
from suanli.simulation.twin.inference import InferenceMonth, free_nodes, simulate_inference
from suanli.simulation.twin.pool import PoolMonth, PoolPrices, plan_pool, run_pool
from suanli.simulation.twin.scenario import Choice, Prices, TwinScenario

ZERO = Decimal(0)


@dataclass(slots=True)
class Lease:
    customer: str
    start: int  # first grid month in force
    end: int  # first grid month no longer in force
    servers: int
    rent: Decimal  # net of VAT, per server-month
    max_rent: Decimal  # the customer's willingness to pay, net, per server-month
    term: int
    ident: int = 0
    renewals: int = 0


@dataclass(frozen=True, slots=True)
class MonthRow:
    """One month of the book. Money is net of VAT and exact to the cent."""

    month: int
    period: str
    active_servers: int
    leased_servers: int
    list_rent: Decimal  # net, per server-month
    rent: Decimal
    sla_credits: Decimal  # <= 0
    vat: Decimal
    signed: int
    renewed: int
    ended: int
    lost_price: int
    lost_capacity: int
    downtime_hours: float
    pool: PoolMonth = field(default_factory=PoolMonth)
    inference: InferenceMonth = field(default_factory=InferenceMonth)

    @property
    def occupied_servers(self) -> float:
        """Leased servers plus the pool's busy share (utilisation × pool servers) plus the
        inference service's (its nodes and the valley's training)."""
        return self.leased_servers + self.pool.busy_servers + self.inference.busy_servers

    @property
    def unleased_busy_servers(self) -> float:
        """Busy servers that are not leased (the pool's and inference's): they pay no fees."""
        return self.pool.busy_servers + self.inference.busy_servers

    @property
    def occupancy(self) -> float:
        return self.occupied_servers / self.active_servers if self.active_servers else 0.0

    @property
    def bare_metal_occupancy(self) -> float:
        servers = self.active_servers - self.pool.servers - self.inference.servers
        return self.leased_servers / servers if servers > 0 else 0.0

    @property
    def lease_billed(self) -> Decimal:
        return self.rent + self.sla_credits

    @property
    def billed(self) -> Decimal:
        """Everything billed in the month, net of VAT: rent after SLA credits, the pool, and
        inference (tokens and the valley's training)."""
        return self.rent + self.sla_credits + self.pool.revenue + self.inference.billed


@dataclass(frozen=True, slots=True)
class BookResult:
    schedule: list[Delivery]  # the deliveries that actually happened
    months: list[MonthRow]
    bills: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (customer, period) → net


def period_of(start: date, t: int) -> Period:
    return month_of(add_months(start, t))


def list_factor(prices: Prices, months: int, rng: np.random.Generator) -> np.ndarray:
    """The market factor per grid month (1.0 at month 0), floored at ``prices.floor``."""
    t = np.arange(months + 1, dtype=np.float64)
    if prices.path == "series":
        s = np.asarray(prices.series, dtype=np.float64)
        f = np.concatenate((s, np.full(max(0, months + 1 - s.size), s[-1])))[: months + 1]
    else:
        f = (1.0 - prices.decline_annual) ** (t / 12.0)
        if prices.path == "random" and prices.volatility_annual > 0:
            sd = prices.volatility_annual / math.sqrt(12.0)
            steps = rng.normal(-0.5 * sd * sd, sd, size=months)
            f = f * np.exp(np.concatenate(([0.0], np.cumsum(steps))))
    out: np.ndarray = np.maximum(f, prices.floor)
    return out


def _one(dist: Dist | None, default: float, rng: np.random.Generator) -> float:
    """One draw of ``dist`` (the economics Monte Carlo's sampler); ``default`` when unset."""
    return float(sample(dist, default, rng, 1)[0, 0])


def realised_schedule(sc: TwinScenario, rng: np.random.Generator) -> list[Delivery]:
    """Each batch of the fleet plan after the supplier's shortfall (share never delivered,
    rounded to whole servers) and delay (whole months, kept inside the horizon)."""
    fleet = sc.economics.fleet
    assert fleet is not None
    risk = sc.twin.delivery
    last = sc.economics.horizon_months - 1
    out: dict[int, int] = {}
    for batch in fleet.schedule():
        short = float(np.clip(_one(risk.shortfall, 0.0, rng), 0.0, 1.0))
        count = round(batch.count * fleet.delivered_fraction * (1.0 - short))
        delay = max(0, round(_one(risk.delay_months, 0.0, rng)))
        month = min(batch.month + delay, last)
        if count:
            out[month] = out.get(month, 0) + count
    return [Delivery(month=m, count=c) for m, c in sorted(out.items())]


def _draw(choice: Choice, rng: np.random.Generator) -> int:
    w = np.asarray(choice.weights, dtype=np.float64)
    return int(choice.values[int(rng.choice(len(w), p=w / w.sum()))])


def net_rent(quoted: float, prices_include_vat: bool, vat: Decimal) -> Decimal:
    """Contract rent net of VAT from a quoted rent, to the cent."""
    amount = Decimal(repr(quoted))
    return round_money(amount / (1 + vat) if prices_include_vat else amount)


class _Book:
    """Mutable state of one path; :func:`simulate_book` is its only user."""

    def __init__(
        self, sc: TwinScenario, seed: int, timer: Callable[[], float] | None = None
    ) -> None:
        streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)]
        self.price_rng, self.delivery_rng, self.demand_rng, self.failure_rng = streams[:4]
        self.pool_rng = streams[4]
        self.sc = sc
        econ = sc.economics
        self.months = econ.horizon_months
        self.vat = Decimal(repr(econ.taxes.vat_rate))
        self.start = date(int(sc.twin.start[:4]), int(sc.twin.start[5:]), 1)
        self.schedule = realised_schedule(sc, self.delivery_rng)
        delivered = np.zeros(self.months + 1, dtype=np.int64)
        for d in self.schedule:
            delivered[d.month] += d.count
        self.active = np.concatenate(([0], np.cumsum(delivered)[:-1]))
        factor = list_factor(sc.twin.prices, self.months, self.price_rng)
        include = econ.taxes.prices_include_vat
        asked, market = sc.quoted_rent, sc.market_rent
        self.list_rent = [net_rent(asked * float(f), include, self.vat) for f in factor]
        self.market_rent = [net_rent(market * float(f), include, self.vat) for f in factor]
        pool = sc.twin.pool
        pool_vat = Decimal(repr(pool.vat_rate))
        self.pool_prices = [  # GPU-hour prices follow the same market path as the rent
            PoolPrices(
                net_rent(pool.standard_per_gpu_hour * float(f), include, pool_vat),
                net_rent(pool.spot_per_gpu_hour * float(f), include, pool_vat),
                pool_vat,
            )
            for f in factor
        ]
        rate = sc.twin.failures.rate_per_1000_node_days
        self.periods = [period_of(self.start, t) for t in range(self.months + 1)]
        self.pool, self.pool_work = plan_pool(pool, self.active, self.periods, self.pool_rng)
        self.pool_failures = FailureModel(rate_per_1000_node_days=rate) if rate > 0 else None
        self.timer = timer
        self.pool_months: list[PoolMonth] = []
        self.inference, self.inference_months = simulate_inference(
            sc.twin.inference,
            [int(a) - int(p) for a, p in zip(self.active, self.pool, strict=True)],
            [period_of(self.start, t) for t in range(self.months + 1)],
            include,
            [float(f) for f in factor],
            self.pool_prices,
        )
        self.valley: list[list[int]] | None = None
        if sc.twin.inference.valley == "pool":
            self.valley = [
                free_nodes(sc.twin.inference, n, t) for t, n in enumerate(self.inference)
            ]
        if pool.split == "static":  # a dynamic pool runs after the lease book
            self.run_pool()
        self.leases: list[Lease] = []  # in force
        self.signed: list[Lease] = []  # every lease ever signed (index = ident)
        self.seq = 0
        self.failures = FailureModel(
            rate_per_1000_node_days=sc.twin.failures.rate_per_1000_node_days
        )
        self.sla = Decimal(repr(sc.twin.failures.sla_uptime))
        # (lease ident, server index) → outages as seconds since the start of month 0
        self.outages: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def leased(self) -> int:
        return sum(lease.servers for lease in self.leases)

    def run_pool(self, lent: np.ndarray | None = None) -> None:
        self.pool_months = run_pool(
            self.sc.twin.pool,
            self.pool_work,
            self.periods,
            self.pool_failures,
            self.pool_prices,
            self.pool_rng,
            self.timer,
            lent,
            self.valley,
        )

    def idle(self, t: int) -> int:
        """Bare-metal servers no lease holds in month ``t`` (what a dynamic pool borrows)."""
        return int(self.active[t]) - int(self.pool[t]) - self.inference[t] - self.leased()

    def customer(self) -> str:
        self.seq += 1
        return f"c{self.seq:05d}"


def _renewals(book: _Book, t: int) -> tuple[int, int]:
    leases = book.sc.twin.leases
    renewed = ended = 0
    keep: list[Lease] = []
    for lease in book.leases:
        if lease.end != t:
            keep.append(lease)
            continue
        price = book.list_rent[t]
        if book.demand_rng.random() < leases.renewal_probability and price <= lease.max_rent:
            lease.start, lease.end, lease.rent = t, t + lease.term, price
            lease.renewals += 1
            keep.append(lease)
            renewed += 1
        else:
            ended += 1
    book.leases = keep
    return renewed, ended


def _sign(book: _Book, t: int, lease: Lease) -> bool:
    if lease.servers > book.idle(t):
        return False
    lease.ident = len(book.signed)
    book.signed.append(lease)
    book.leases.append(lease)
    return True


def _booked(book: _Book, t: int) -> tuple[int, int]:
    signed = lost = 0
    include = book.sc.economics.taxes.prices_include_vat
    for b in book.sc.twin.book:
        if b.start_month != t:
            continue
        quoted = b.rent_per_server_month
        rent = book.list_rent[t] if quoted is None else net_rent(quoted, include, book.vat)
        lease = Lease(
            b.customer or book.customer(),
            t,
            t + b.term_months,
            b.servers,
            rent,
            rent,
            b.term_months,
        )
        if _sign(book, t, lease):
            signed += 1
        else:
            lost += 1
    return signed, lost


def _arrivals(book: _Book, t: int) -> tuple[int, int, int]:
    spec = book.sc.twin.leases
    rng = book.demand_rng
    signed = lost_price = lost_capacity = 0
    n = int(rng.poisson(spec.arrival_rate_per_month)) if spec.arrival_rate_per_month else 0
    for _ in range(n):
        size, term = _draw(spec.sizes, rng), _draw(spec.terms, rng)
        wtp = max(0.0, _one(spec.willingness_to_pay, 1.0, rng))
        price = book.list_rent[t]
        max_rent = round_money(book.market_rent[t] * Decimal(repr(wtp)))
        if price > max_rent:
            lost_price += 1
            continue
        lease = Lease(book.customer(), t, t + term, size, price, max_rent, term)
        if _sign(book, t, lease):
            signed += 1
        else:
            lost_capacity += 1
    return signed, lost_price, lost_capacity


def _failures(book: _Book, t: int, period: Period) -> float:
    """Draw this month's outages of leased servers; return the hours started this month."""
    if book.failures.rate_per_1000_node_days <= 0:
        return 0.0
    rng = book.failure_rng
    lam = book.failures.rate_per_1000_node_days / 1000.0 * period.days
    t0 = (midnight(period.start) - midnight(book.start)).total_seconds()
    drawn: list[tuple[float, float, tuple[int, int]]] = []
    for lease in book.leases:
        count = int(rng.poisson(lam * lease.servers))
        for _ in range(count):
            server = int(rng.integers(lease.servers))
            at = t0 + float(rng.uniform(0.0, period.seconds))
            repair = book.failures.repair_time(rng)
            drawn.append((at, at + repair, (lease.ident, server)))
    hours = 0.0
    # in time order, a server that is already down cannot fail: such a draw is dropped (summing
    # overlapping outages credited one server's downtime twice; the ledger cannot record it)
    for at, until, key in sorted(drawn):
        spans = book.outages.setdefault(key, [])
        if any(a <= at < b for a, b in spans):
            continue
        spans.append((at, until))
        hours += (until - at) / 3600.0
    return hours


def _bill(
    book: _Book, t: int, period: Period
) -> tuple[Decimal, Decimal, Decimal, dict[str, Decimal]]:
    rent_total = credit_total = vat_total = ZERO
    per_customer: dict[str, Decimal] = {}
    base = midnight(book.start)
    for lease in book.leases:
        rent = line_amount(prorated(lease.rent, lease.servers * period.days, period), book.vat)
        credited = 0
        for server in range(lease.servers):
            spans = book.outages.get((lease.ident, server), [])
            outages = [(base + timedelta(seconds=a), base + timedelta(seconds=b)) for a, b in spans]
            down = downtime_seconds(period, outages, period.end_at)
            credited += credited_seconds(period, down, book.sla)
        credit = line_amount(sla_credit_amount(lease.rent, credited, period), book.vat)
        rent_total += rent.net
        credit_total += credit.net
        vat_total += rent.tax + credit.tax
        per_customer[lease.customer] = (
            per_customer.get(lease.customer, ZERO) + rent.net + credit.net
        )
    return rent_total, credit_total, vat_total, per_customer


def simulate_book(
    sc: TwinScenario, seed: int = 0, timer: Callable[[], float] | None = None
) -> BookResult:
    """One path of the lease book (and the pool) over the horizon; ``timer`` (a clock such as
    ``time.perf_counter``) makes the pool's job simulator time its scheduling cycles."""
    book = _Book(sc, seed, timer)
    rows: list[MonthRow] = [
        MonthRow(
            0,
            period_of(book.start, 0).key,
            0,
            0,
            book.list_rent[0],
            ZERO,
            ZERO,
            ZERO,
            0,
            0,
            0,
            0,
            0,
            0.0,
        )
    ]
    bills: dict[tuple[str, str], Decimal] = {}
    dynamic = sc.twin.pool.split == "dynamic"
    lent = np.zeros(book.months + 1, dtype=np.int64)
    for t in range(1, book.months + 1):
        period = book.periods[t]
        renewed, ended = _renewals(book, t)
        signed_b, lost_b = _booked(book, t)
        signed_r, lost_price, lost_cap = _arrivals(book, t)
        lent[t] = book.idle(t)
        hours = _failures(book, t, period)
        rent, credits, vat, per_customer = _bill(book, t, period)
        for customer, amount in per_customer.items():
            bills[(customer, period.key)] = amount
        rows.append(
            MonthRow(
                t,
                period.key,
                int(book.active[t]),
                book.leased(),
                book.list_rent[t],
                rent,
                credits,
                vat,
                signed_b + signed_r,
                renewed,
                ended,
                lost_price,
                lost_b + lost_cap,
                hours,
                PoolMonth(),
                book.inference_months[t],
            )
        )
    if dynamic:
        book.run_pool(lent)
    rows = [replace(row, pool=book.pool_months[row.month]) for row in rows]
    return BookResult(book.schedule, rows, bills)
