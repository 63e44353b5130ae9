"""The demo center: a deterministic, documented computing-power business seeded through the
services (no SQL), for ``suanli demo`` / ``make run``, the dashboard's browser tests and the
README screenshot.

The story (dates are fixed; the demo's "today" is :data:`DEMO_TODAY`):

- two sites, ``BJ1`` (Beijing, H800 hall: 20 cabinets of 21 kW) and ``WH1`` (Wuhu, 12 cabinets
  of 21 kW for A800 and H20), three suppliers;
- ``PO-2025-001`` New H3C: 24 × 8×H800 at 2.10 M CNY, delivered in two batches (March, April);
- ``PO-2025-002`` Inspur: 16 × 8×A800 at 1.15 M delivered; a second line of 4 × A800 cancelled
  (export controls);
- ``PO-2025-003`` New H3C: 12 × 8×H20 at 0.98 M delivered in July; 16 × 8×H800 at 2.80 M
  promised for 15 August, of which only 6 arrived (still in burn-in) and 10 are **overdue**;
- 58 servers delivered (= 464 GPUs); each is racked, burnt in and accepted; 8 H800 serve the
  cloud pool from May; one A800 is in maintenance since 10-20;
- customers, leases (20 servers), cloud usage, invoices, payments and a failed server with its
  SLA credit: :mod:`suanli.services.demo.money`.

Occupancy ends near 52 %, below the reference break-even.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState
from suanli.services.container import Services
from suanli.services.demo import disclosure as demo_disclosure
from suanli.services.demo import money as demo_money
from suanli.services.fleet.procurement import NewLine, NewOrder
from suanli.services.fleet.servers import ServerFilter

S = ServerState
DEMO_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
DEMO_TODAY = datetime(2025, 10, 31, 9, 0, tzinfo=UTC)
ACTOR = "demo"
SITES = (("BJ1", "Beijing Yizhuang hall", "Beijing", 20), ("WH1", "Wuhu cluster hall", "Wuhu", 12))
CABINET_KW = Decimal("21")
SUPPLIERS = (("New H3C", "CN"), ("Inspur", "CN"), ("Sugon", "CN"))
CLOUD_POOL = 8  # H800 servers in the cloud pool from POOL_START
POOL_START = date(2025, 5, 1)
MAINTENANCE_ON = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    seeded: bool  # False when the database already held the demo
    servers: int
    sites: int
    orders: int
    today: datetime


class DemoClock:
    """Time that starts at :data:`DEMO_TODAY` when created and then runs like the wall clock,
    so the served demo always sees the same "today" as the seeded data."""

    def __init__(
        self, anchor: datetime = DEMO_TODAY, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._anchor = anchor
        self._monotonic = monotonic
        self._t0 = monotonic()

    def now(self) -> datetime:
        return self._anchor + timedelta(seconds=self._monotonic() - self._t0)


def is_seeded(svc: Services) -> bool:
    return any(site.code == SITES[0][0] for site in svc.fleet.list_sites())


def seed_demo(svc: Services, clock: SimClock) -> DemoSummary:
    """Seed the demo into an empty, migrated database; a no-op when it is already there.

    ``svc`` must be built on ``clock`` (a :class:`SimClock` at or before :data:`DEMO_START`):
    the seeding moves it through 2025 so every transition carries its story date.
    """
    if not is_seeded(svc):
        clock.set(DEMO_START)
        _seed(svc, clock)
    servers = svc.fleet.list_servers(limit=1).total
    return DemoSummary(
        seeded=True,
        servers=servers,
        sites=len(svc.fleet.list_sites()),
        orders=len(svc.procurement.list_orders()),
        today=DEMO_TODAY,
    )


Action = Callable[[Services], object]
Step = tuple[datetime, int, Action]


def _day(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def _seed(svc: Services, clock: SimClock) -> None:
    for code, name, city, cabinets in SITES:
        svc.fleet.add_site(code, name, city)
        for i in range(1, cabinets + 1):
            svc.fleet.add_cabinet(code, f"{_LETTER[code]}{i:02d}", CABINET_KW)
    for name, country in SUPPLIERS:
        svc.procurement.add_supplier(name, country)
    demo_money.setup(svc)
    # Every later step is dated; they run in date order so the SimClock only moves forward.
    for when, _, action in sorted(_story(), key=lambda step: (step[0], step[1])):
        if when > DEMO_TODAY:  # e.g. payments not yet due
            continue
        clock.set(when)
        action(svc)
    clock.set(DEMO_TODAY)


_LETTER = {"BJ1": "A", "WH1": "B"}


def _story() -> list[Step]:
    steps: list[Step] = []
    seq = iter(range(1_000_000))

    def at(when: datetime, action: Action) -> None:
        steps.append((when, next(seq), action))

    at(_day(date(2025, 1, 10)), lambda s: s.procurement.create_order(ORDERS[0]))
    at(_day(date(2025, 2, 1)), lambda s: s.procurement.create_order(ORDERS[1]))
    at(_day(date(2025, 5, 15)), lambda s: s.procurement.create_order(ORDERS[2]))
    for batch in BATCHES:
        _delivery_steps(at, *batch)
    at(
        _day(date(2025, 4, 12)),
        lambda s: s.procurement.cancel_remainder(
            "PO-2025-002", 2, "export controls: supplier cannot ship", ACTOR
        ),
    )
    at(_day(POOL_START, 9), _place("H800", CLOUD_POOL, S.CLOUD_POOL, "cloud pool"))
    at(MAINTENANCE_ON, _maintain)
    demo_money.story(at)
    demo_disclosure.story(at)
    return steps


ORDERS = (
    NewOrder(
        "PO-2025-001",
        "New H3C",
        date(2025, 1, 10),
        [NewLine("HGX-H800-8", 24, "2100000", date(2025, 3, 1))],
        note="H800 hall phase 1",
    ),
    NewOrder(
        "PO-2025-002",
        "Inspur",
        date(2025, 2, 1),
        [
            NewLine("HGX-A800-8", 16, "1150000", date(2025, 4, 1)),
            NewLine("HGX-A800-8", 4, "1150000", date(2025, 4, 1)),
        ],
    ),
    NewOrder(
        "PO-2025-003",
        "New H3C",
        date(2025, 5, 15),
        [
            NewLine("HGX-H20-8", 12, "980000", date(2025, 7, 1)),
            NewLine("HGX-H800-8", 16, "2800000", date(2025, 8, 15)),
        ],
        note="H800 bought after the export controls",
    ),
)
#: (order, line, serial prefix, first serial no., count, delivered on, site, first cabinet,
#:  servers per cabinet, accepted after burn-in)
BATCHES = (
    ("PO-2025-001", 1, "H8A", 1, 16, date(2025, 3, 3), "BJ1", 1, 2, True),
    ("PO-2025-001", 1, "H8A", 17, 8, date(2025, 4, 2), "BJ1", 9, 2, True),
    ("PO-2025-002", 1, "A8B", 1, 16, date(2025, 4, 10), "WH1", 1, 3, True),
    ("PO-2025-003", 1, "H2C", 1, 12, date(2025, 7, 8), "WH1", 7, 3, True),
    ("PO-2025-003", 2, "H8C", 1, 6, date(2025, 8, 20), "BJ1", 13, 2, False),
)


def _delivery_steps(
    at: Callable[[datetime, Action], None],
    number: str,
    line: int,
    prefix: str,
    first: int,
    count: int,
    day: date,
    site: str,
    first_cabinet: int,
    per_cabinet: int,
    accept: bool,
) -> None:
    """Deliver ``count`` serials, rack them the next day, accept them after a week of burn-in."""
    serials = [f"{prefix}{i:03d}" for i in range(first, first + count)]
    cabinets = [
        f"{site}/{_LETTER[site]}{first_cabinet + k // per_cabinet:02d}" for k in range(count)
    ]

    def deliver(s: Services) -> None:
        s.procurement.deliver(number, line, serials, ACTOR, day)

    def rack(s: Services) -> None:
        for serial, cabinet in zip(serials, cabinets, strict=True):
            s.fleet.transition(serial, S.BURN_IN, ACTOR, "racked for burn-in", cabinet)

    def accept_all(s: Services) -> None:
        for serial in serials:
            s.fleet.transition(serial, S.AVAILABLE, ACTOR, "burn-in passed (72 h GPU stress)")

    at(_day(day), deliver)
    at(_day(day + timedelta(days=1)), rack)
    if accept:
        at(_day(day + timedelta(days=8)), accept_all)


def _place(gpu: str, n: int, target: ServerState, reason: str) -> Action:
    def place(s: Services) -> None:
        free = s.fleet.list_servers(
            ServerFilter(state=S.AVAILABLE, sku=f"HGX-{gpu}-8"), limit=n
        ).items
        for server in free:
            s.fleet.transition(server.serial, target, ACTOR, reason)

    return place


def _maintain(s: Services) -> None:
    server = s.fleet.list_servers(ServerFilter(state=S.AVAILABLE, sku="HGX-A800-8"), limit=1).items[
        0
    ]
    s.fleet.transition(server.serial, S.MAINTENANCE, ACTOR, "firmware update and NVSwitch check")


def demo_logins(
    svc: Services, users: tuple[str, ...] = ("admin", "zhipu-portal")
) -> dict[str, str]:
    """Fresh API tokens (30 days) for the demo's users, to sign in to the dashboard with.

    Tokens are stored hashed, so every start of the demo issues new ones to print.
    """
    return {user: svc.money.tenancy.issue_token(user, 30, "demo login").secret for user in users}
