"""Figures the dashboard shows, computed from the services' domain values (no SQL here).

Vocabulary (also in docs/dashboard.md):

- *installed*: delivered and not retired (every state but ``ordered``, ``cancelled``,
  ``retired``); the capacity figures count these.
- *sellable*: accepted servers that could be sold (``available``, ``leased``, ``cloud_pool``,
  ``maintenance``, ``failed``, ``repaired``); *sold*: ``leased`` + ``cloud_pool``.
- *occupancy* = sold / sellable, by server count (every server has 8 GPUs in the demo; the
  business view of DESIGN.md's glossary, not the scheduler's allocation ratio).

The occupancy trend replays the lifecycle transitions day by day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from suanli.core.catalog import Catalog, PConvention
from suanli.core.fleet import Server, ServerState, Transition
from suanli.core.i18n import _
from suanli.core.procurement import OverdueLine
from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled
from suanli.services.container import Services

S = ServerState
NOT_INSTALLED = frozenset({S.ORDERED, S.CANCELLED, S.RETIRED})
SELLABLE = frozenset({S.AVAILABLE, S.LEASED, S.CLOUD_POOL, S.MAINTENANCE, S.FAILED, S.REPAIRED})
SOLD = frozenset({S.LEASED, S.CLOUD_POOL})
#: The scenario whose break-even occupancy the overview compares against (profit criterion).
REFERENCE_SCENARIO = "h800-bare-metal-2p1m"
PAGE = 500


@dataclass(frozen=True, slots=True)
class Capacity:
    servers: int
    gpus: int
    p_fp16_sparse: float
    p_bf16_dense: float


@dataclass(frozen=True, slots=True)
class Alert:
    # overdue_delivery | below_breakeven | contract_expiring | receivable_90 | sla_breach |
    # foreign_drain | watcher_stale
    kind: str
    severity: str  # warning | danger | info
    text: str
    href: str | None = None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    day: date
    sold: int
    sellable: int

    @property
    def occupancy(self) -> float | None:
        return self.sold / self.sellable if self.sellable else None


@dataclass(frozen=True, slots=True)
class Overview:
    installed: Capacity
    on_order: Capacity
    by_state: dict[str, int]
    occupancy: float | None
    sold: int
    sellable: int
    breakeven_occupancy: float | None
    trend: list[TrendPoint]
    overdue: list[OverdueLine]
    alerts: list[Alert] = field(default_factory=list)


def all_servers(svc: Services) -> list[Server]:
    out: list[Server] = []
    while True:
        page = svc.fleet.list_servers(limit=PAGE, offset=len(out))
        out.extend(page.items)
        if len(out) >= page.total or not page.items:
            return out


def all_transitions(svc: Services, serial: str | None = None) -> list[Transition]:
    out: list[Transition] = []
    while True:
        page = svc.fleet.transitions(serial, limit=PAGE, offset=len(out))
        out.extend(page.items)
        if len(out) >= page.total or not page.items:
            return out


def capacity(catalog: Catalog, servers: Iterable[Server]) -> Capacity:
    n = gpus = 0
    sparse = dense = 0.0
    for s in servers:
        sku = catalog.sku(s.sku)
        n += 1
        gpus += s.gpu_count
        sparse += sku.petaflops(PConvention.FP16_SPARSE)
        dense += sku.petaflops(PConvention.BF16_DENSE)
    return Capacity(n, gpus, sparse, dense)


def by_state(
    servers: Iterable[Server], on_order_units: int = 0, cancelled_units: int = 0
) -> dict[str, int]:
    """Servers per lifecycle state. A server row exists only from delivery on, so ``ordered``
    and ``cancelled`` also count purchase-order units not delivered yet / cancelled before
    delivery (else the chart says 0 ordered while 10 are on order)."""
    counts = Counter(s.state for s in servers)
    out = {state.value: counts.get(state, 0) for state in ServerState}
    out[S.ORDERED.value] += on_order_units
    out[S.CANCELLED.value] += cancelled_units
    return out


#: Where the overview's count of a state links to: the rows behind the number.
def state_href(state: str) -> str:
    if state in (S.ORDERED.value, S.CANCELLED.value):
        return "/procurement#orders"
    return f"/fleet?state={state}"


def occupancy_trend(transitions: Sequence[Transition], end: date, days: int) -> list[TrendPoint]:
    """Sold and sellable servers at the end of each of the ``days`` days up to ``end``."""
    events = sorted(transitions, key=lambda t: (t.at, t.id))
    state: dict[str, ServerState] = {}
    counts: Counter[ServerState] = Counter()
    points: list[TrendPoint] = []
    i = 0
    for k in range(days - 1, -1, -1):
        day = end - timedelta(days=k)
        cutoff = datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)
        while i < len(events) and events[i].at < cutoff:
            t = events[i]
            if t.serial in state:
                counts[state[t.serial]] -= 1
            state[t.serial] = t.to_state
            counts[t.to_state] += 1
            i += 1
        sold = sum(counts[s] for s in SOLD)
        points.append(TrendPoint(day, sold, sum(counts[s] for s in SELLABLE)))
    return points


@cache
def reference_breakeven() -> float | None:
    """Break-even occupancy (profit criterion) of the reference scenario, computed once."""
    return evaluate(load_bundled(REFERENCE_SCENARIO), "profit").breakeven_occupancy


def overview(svc: Services, trend_days: int = 180) -> Overview:
    servers = all_servers(svc)
    today = svc.clock.now().date()
    on_order = on_order_capacity(svc)
    cancelled = sum(o.cancelled.units for o in svc.procurement.summary().orders)
    counts = by_state(servers, on_order.servers, cancelled)
    sold = sum(counts[s.value] for s in SOLD)
    sellable = sum(counts[s.value] for s in SELLABLE)
    occ = sold / sellable if sellable else None
    overdue = svc.procurement.overdue(today)
    be = reference_breakeven()
    view = Overview(
        installed=capacity(svc.catalog, (s for s in servers if s.state not in NOT_INSTALLED)),
        on_order=on_order,
        by_state=counts,
        occupancy=occ,
        sold=sold,
        sellable=sellable,
        breakeven_occupancy=be,
        trend=occupancy_trend(all_transitions(svc), today, trend_days),
        overdue=overdue,
    )
    view.alerts.extend(alerts(view))
    return view


def on_order_capacity(svc: Services) -> Capacity:
    """Outstanding purchase-order units (ordered, neither delivered nor cancelled)."""
    units = gpus = 0
    sparse = dense = 0.0
    for order in svc.procurement.list_orders():
        for line in order.lines:
            sku = svc.catalog.sku(line.sku)
            units += line.outstanding
            gpus += line.outstanding * sku.gpus
            sparse += line.outstanding * sku.petaflops(PConvention.FP16_SPARSE)
            dense += line.outstanding * sku.petaflops(PConvention.BF16_DENSE)
    return Capacity(units, gpus, sparse, dense)


def alerts(view: Overview) -> list[Alert]:
    out = [
        Alert(
            "overdue_delivery",
            "danger" if line.days_overdue > 30 else "warning",
            _(
                "%(po)s line %(line)s (%(supplier)s): %(n)d × %(sku)s promised %(promised)s, "
                "%(days)d days overdue"
            )
            % {
                "po": line.number,
                "line": line.line_no,
                "supplier": line.supplier,
                "n": line.outstanding,
                "sku": line.sku,
                "promised": line.promised_on.isoformat(),
                "days": line.days_overdue,
            },
            "/procurement#overdue",
        )
        for line in view.overdue
    ]
    occ, be = view.occupancy, view.breakeven_occupancy
    if occ is not None and be is not None and occ < be:
        out.append(
            Alert(
                "below_breakeven",
                "danger",
                _(
                    "occupancy %(occupancy)s is below the break-even occupancy %(breakeven)s "
                    "(%(scenario)s, profit criterion)"
                )
                % {
                    "occupancy": f"{view.occupancy:.0%}",
                    "breakeven": f"{view.breakeven_occupancy:.0%}",
                    "scenario": REFERENCE_SCENARIO,
                },
                "/economics",
            )
        )
    return out


DOWN = frozenset({S.FAILED, S.MAINTENANCE})


@dataclass(frozen=True, slots=True)
class Incident:
    """One stay of a server out of service (failed or in maintenance), from its history."""

    state: str
    down_from: datetime
    down_until: datetime | None  # None: still down
    hours: float
    reason: str
    actor: str


def downtime_incidents(history: Sequence[Transition], now: datetime) -> list[Incident]:
    """The server's stays in ``failed`` and ``maintenance``, newest first (a failure followed
    by ``repaired`` is one incident: repaired is still out of service until it is back)."""
    events = sorted(history, key=lambda t: (t.at, t.id))
    out: list[Incident] = []
    start: Transition | None = None
    for t in events:
        out_of_service = t.to_state in DOWN or (start is not None and t.to_state is S.REPAIRED)
        if out_of_service and start is None:
            start = t
        elif not out_of_service and start is not None:
            out.append(_incident(start, t.at))
            start = None
    if start is not None:
        out.append(_incident(start, None, now))
    return out[::-1]


def _incident(start: Transition, end: datetime | None, now: datetime | None = None) -> Incident:
    until = end if end is not None else now
    assert until is not None
    hours = (until - start.at).total_seconds() / 3600
    return Incident(start.to_state.value, start.at, end, hours, start.reason, start.actor)
