"""Replaying a twin's lease book through the real ledger and comparing the invoices to the cent.

Owns :func:`replay` (``suanli twin run SCENARIO --through-ledger``): one seeded path of the twin's
bare-metal book is re-enacted through the services, in date order on a :class:`SimClock`, on a
database the caller supplies (migrated, empty): servers and customers, every lease signed on its
first day (``LeasingService.create_lease``), renewed on its end date (``renew``), released when
it ends (``release_due``), every failure and repair at its time (``server_failed`` /
``server_restored``), and the invoice run for each month on the first day of the next
(``BillingService.run``). The cloud pool's month (``MonthRow.pool``: billed GPU-seconds per class)
is ingested as usage of one ledger customer, ``pool``, at the twin's net GPU-hour prices
(``MeteringService.set_price`` / ``ingest``), before that month's run. The invoices' net amounts
are then compared with the twin's ``BookResult.bills`` per (customer, period), and the pool's
invoices with ``MonthRow.pool.revenue``.

Invariants: writes go only through services, each with its effective date; the twin is run with
its own code (:func:`~suanli.simulation.twin.leasebook.simulate_book`) for the figures compared,
and the book's events are read from a second run of the same seed, so a difference is a
difference between the twin's pricing and the ledger's, never a replay artefact.

Vocabulary: a *term* is a twin lease from its start (or renewal) to its end; an *outage* is a
span of one server of one twin lease, in seconds since the twin's month 0.

Not replayed: the pool's individual jobs (the twin bills the pool's month as a whole, so the
replay ingests that month's GPU-seconds, not one record per job), the inference service (token
usage), and a renewal at a different rent (the ledger's renewal keeps the contract's rent; the
replay refuses such a book with ``twin.replay_unsupported``).
"""

from __future__ import annotations

import heapq
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suanli.core.billing import Period, add_months, midnight
from suanli.core.clock import SimClock
from suanli.core.errors import ValidationError
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.container import Services, build_services
from suanli.services.fleet.servers import NewServer
from suanli.simulation.twin.leasebook import (
    _arrivals,
    _Book,
    _booked,
    _failures,
    _renewals,
    period_of,
    simulate_book,
)
from suanli.simulation.twin.pool import PoolPrices
from suanli.simulation.twin.scenario import TwinScenario
from suanli.store.db import make_engine, upgrade

ACTOR = "twin-replay"
POOL = "pool"  # the ledger customer billed the pool's usage (the twin bills the pool as a whole)
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Term:
    ident: int  # the twin lease
    customer: str
    servers: int
    rent: Decimal  # net, per server-month
    start: int  # grid month
    end: int
    renewal: bool


@dataclass(frozen=True, slots=True)
class BookEvents:
    start: date  # grid month 0
    months: int
    servers: int  # delivered over the horizon
    terms: list[Term]
    outages: dict[tuple[int, int], list[tuple[float, float]]]  # per (ident, server), disjoint
    pool: dict[int, tuple[PoolPrices, dict[str, Decimal]]]  # grid month → prices, GPU-seconds


@dataclass(frozen=True, slots=True)
class Row:
    customer: str
    period: str
    twin: Decimal
    ledger: Decimal

    @property
    def difference(self) -> Decimal:
        return self.ledger - self.twin


@dataclass(frozen=True, slots=True)
class ReplayResult:
    scenario: str
    seed: int
    rows: list[Row]
    contracts: int
    failures: int
    twin_total: Decimal
    ledger_total: Decimal
    seconds: float = 0.0  # wall time of the replay and the invoice runs

    @property
    def differences(self) -> list[Row]:
        return [r for r in self.rows if r.difference != 0]

    @property
    def passed(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "passed": self.passed,
            "compared": len(self.rows),
            "differences": len(self.differences),
            "contracts": self.contracts,
            "failures": self.failures,
            "twin_total": str(self.twin_total),
            "ledger_total": str(self.ledger_total),
            "seconds": round(self.seconds, 3),
            "rows": [
                {
                    "customer": r.customer,
                    "period": r.period,
                    "twin": str(r.twin),
                    "ledger": str(r.ledger),
                    "difference": str(r.difference),
                }
                for r in self.rows
            ],
        }


def book_events(sc: TwinScenario, seed: int) -> BookEvents:
    """The lease terms and outages of one path, stepped in the order of ``simulate_book``."""
    book = _Book(sc, seed)
    terms: list[Term] = []
    for t in range(1, book.months + 1):
        _renewals(book, t)
        _booked(book, t)
        _arrivals(book, t)
        _failures(book, t, period_of(book.start, t))
        for lease in book.leases:
            if lease.start == t:
                terms.append(
                    Term(
                        lease.ident,
                        lease.customer,
                        lease.servers,
                        lease.rent,
                        t,
                        lease.end,
                        lease.renewals > 0,
                    )
                )
    outages = {key: sorted(spans) for key, spans in book.outages.items()}
    pool = {
        t: (book.pool_prices[t], dict(book.pool_months[t].gpu_seconds))
        for t in range(1, book.months + 1)
        if book.pool_months[t].gpu_seconds
    }
    return BookEvents(book.start, book.months, int(book.active[-1]), terms, outages, pool)


Action = Callable[[], object]


class _Replay:
    """The dated actions of one book, run in time order; :func:`replay` is its only user."""

    def __init__(self, svc: Services, clock: SimClock, sc: TwinScenario, ev: BookEvents) -> None:
        self.svc, self.clock, self.ev = svc, clock, ev
        fleet = sc.economics.fleet
        assert fleet is not None
        self.sku = fleet.sku
        self.vat = Decimal(repr(sc.economics.taxes.vat_rate))
        self.sla = Decimal(repr(sc.twin.failures.sla_uptime))
        self.base = midnight(ev.start)
        self.queue: list[tuple[datetime, int, int, Action]] = []
        self.contract: dict[int, str] = {}  # twin lease ident → contract number
        self.last_end: dict[int, int] = {}  # twin lease ident → grid month its last term ends
        self.failures = 0

    def at(self, when: datetime, priority: int, action: Action) -> None:
        heapq.heappush(self.queue, (when, priority, len(self.queue), action))

    def month(self, t: int) -> datetime:
        return midnight(add_months(self.ev.start, t))

    def run(self) -> None:
        while self.queue:
            when, _, _, action = heapq.heappop(self.queue)
            self.clock.set(when)
            action()

    def setup(self) -> None:
        """Site, cabinet, every server delivered in the horizon (available), every customer."""
        fleet = self.svc.fleet
        fleet.add_site("TW1", "Twin replay")
        fleet.add_cabinet("TW1", "A01", "100000")
        for i in range(self.ev.servers):
            serial = f"TW{i:04d}"
            fleet.add_server(NewServer(serial, self.sku, state=ServerState.DELIVERED), ACTOR)
            fleet.transition(serial, ServerState.BURN_IN, ACTOR, "racked", cabinet="TW1/A01")
            fleet.transition(serial, ServerState.AVAILABLE, ACTOR, "burn-in passed")
        codes = {term.customer for term in self.ev.terms} | ({POOL} if self.ev.pool else set())
        for code in sorted(codes):
            self.svc.money.tenancy.create_customer(code, code, f"billing@{code}.example", 30)

    def schedule(self) -> None:
        # priorities at one instant: repairs (0) → renewals (1) → releases (2) → new leases (3)
        # → failures (4); invoice runs at 06:00 of the next month's first day
        for term in self.ev.terms:
            self.at(self.month(term.start), 1 if term.renewal else 3, self._term(term))
            self.last_end[term.ident] = term.end
        for t in range(1, self.ev.months + 1):
            self.at(self.month(t), 2, lambda: self.svc.money.leasing.release_due(ACTOR))
            run_at = self.month(t + 1) + timedelta(hours=6)
            self.at(run_at, 0, self._invoice(period_of(self.ev.start, t)))
        for t, (prices, seconds) in self.ev.pool.items():
            self.at(self.month(t), 0, self._prices(t, prices))
            self.at(self.month(t + 1) + timedelta(hours=5), 0, self._usage(t, seconds))
        for (ident, server), spans in self.ev.outages.items():
            end = self.month(self.last_end[ident])
            for a, b in spans:
                down = self.base + timedelta(seconds=a)
                up = min(self.base + timedelta(seconds=b), end)
                self.at(down, 4, self._fail(ident, server, down))
                self.at(up, 0, self._restore(ident, server, up))

    def _term(self, term: Term) -> Action:
        leasing = self.svc.money.leasing

        def sign() -> None:
            months = term.end - term.start
            if term.renewal:
                number = self.contract[term.ident]
                if leasing.get_contract(number).monthly_rent != term.rent:
                    raise ValidationError(
                        "twin.replay_unsupported",
                        f"twin lease {term.ident} renews at {term.rent}: the ledger's renewal "
                        "keeps the contract's rent",
                        {"twin.prices": "a constant rent path"},
                    )
                leasing.renew(number, months, ACTOR, self.month(term.start).date())
                return
            spec = LeaseSpec(
                customer=term.customer,
                sku=self.sku,
                monthly_rent=term.rent,
                start=self.month(term.start).date(),
                term_months=months,
                count=term.servers,
                sla_uptime=self.sla,
                vat_rate=self.vat,
            )
            self.contract[term.ident] = leasing.create_lease(spec, ACTOR).number

        return sign

    def _serial(self, ident: int, server: int) -> str:
        return self.svc.money.leasing.get_contract(self.contract[ident]).servers[server]

    def _fail(self, ident: int, server: int, when: datetime) -> Action:
        def fail() -> None:
            serial = self._serial(ident, server)
            self.svc.money.leasing.server_failed(serial, ACTOR, "twin failure", when)
            self.failures += 1

        return fail

    def _restore(self, ident: int, server: int, when: datetime) -> Action:
        def restore() -> None:
            serial = self._serial(ident, server)
            self.svc.money.leasing.server_restored(serial, ACTOR, "twin repair", when)

        return restore

    def _prices(self, t: int, prices: PoolPrices) -> Action:
        def set_prices() -> None:
            day = self.month(t).date()
            for klass, price in (("standard", prices.standard), ("spot", prices.spot)):
                self.svc.money.metering.set_price(self.sku, klass, price, day, prices.vat_rate)

        return set_prices

    def _usage(self, t: int, seconds: dict[str, Decimal]) -> Action:
        """The pool's billed GPU-seconds of month ``t``, one record per class, ingested before the
        month's invoice run."""
        p = period_of(self.ev.start, t)

        def ingest() -> None:
            records = [
                {
                    "event_id": f"twin-pool-{p.key}-{klass}",
                    "customer": POOL,
                    "sku": self.sku,
                    "priority_class": klass,
                    "started_at": p.start_at.isoformat(),
                    "ended_at": (p.end_at - timedelta(seconds=1)).isoformat(),
                    "gpu_seconds": str(gs),
                }
                for klass, gs in sorted(seconds.items())
            ]
            result = self.svc.money.metering.ingest(records)
            if result.rejected:
                raise ValidationError(
                    "twin.replay_rejected", f"pool usage rejected: {result.rejected}", {}
                )

        return ingest

    def _invoice(self, p: Period) -> Action:
        def run() -> None:
            self.svc.money.billing.run(p, issue_date=p.end)

        return run

    def invoiced(self) -> dict[tuple[str, str], Decimal]:
        out: dict[tuple[str, str], Decimal] = {}
        ledger = self.svc.money.ledger
        for t in range(1, self.ev.months + 1):
            key = period_of(self.ev.start, t).key
            offset = 0
            while True:
                page = ledger.list_invoices(period=key, kind="invoice", limit=200, offset=offset)
                for inv in page.items:
                    out[(inv.customer, key)] = out.get((inv.customer, key), ZERO) + inv.net
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        return out


def compare(
    twin: dict[tuple[str, str], Decimal], ledger: dict[tuple[str, str], Decimal]
) -> list[Row]:
    """One row per (customer, period) billed by either side, sorted by period then customer."""
    keys = sorted(set(twin) | set(ledger), key=lambda k: (k[1], k[0]))
    return [Row(c, p, twin.get((c, p), ZERO), ledger.get((c, p), ZERO)) for c, p in keys]


def replay(svc: Services, clock: SimClock, sc: TwinScenario, seed: int = 0) -> ReplayResult:
    """Replay path ``seed`` of ``sc`` through ``svc`` (built on ``clock``, on an empty migrated
    database; ``clock`` at or before the twin's month 0) and compare the invoices."""
    started = time.perf_counter()
    book = simulate_book(sc, seed)
    twin = dict(book.bills)
    for m in book.months[1:]:
        if m.pool.gpu_seconds:
            twin[(POOL, m.period)] = m.pool.revenue
    ev = book_events(sc, seed)
    r = _Replay(svc, clock, sc, ev)
    r.setup()
    r.schedule()
    r.run()
    ledger = r.invoiced()
    rows = compare(twin, ledger)
    return ReplayResult(
        sc.name,
        seed,
        rows,
        len(r.contract),
        r.failures,
        sum(twin.values(), ZERO),
        sum(ledger.values(), ZERO),
        time.perf_counter() - started,
    )


def replay_fresh(sc: TwinScenario, seed: int = 0) -> ReplayResult:
    """:func:`replay` on a temporary SQLite database migrated with the project's migrations
    (deleted afterwards), the way the integration tests build one."""
    with tempfile.TemporaryDirectory(prefix="suanli-replay-") as tmp:
        engine = make_engine(f"sqlite:///{tmp}/ledger.db")
        try:
            upgrade(engine)
            clock = SimClock(replay_start(sc))
            return replay(build_services(engine, clock, "CNY"), clock, sc, seed)
        finally:
            engine.dispose()


def replay_start(sc: TwinScenario) -> datetime:
    """A clock start for :func:`replay`: the day before the twin's month 0."""
    y, m = int(sc.twin.start[:4]), int(sc.twin.start[5:])
    return datetime(y, m, 1, tzinfo=UTC) - timedelta(days=1)
