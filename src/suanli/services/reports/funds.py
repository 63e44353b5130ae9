"""Report sections *operations* (occupancy, pool utilisation, failures) and *uses of funds*.

Operations are read from the server transition log: a server's state holds from one
transition to the next, so the seconds each server spent in each state during the period are
exact. Occupancy = seconds ``leased`` / seconds in a serviceable state (available, leased,
cloud pool, maintenance, failed, repaired); pool utilisation = metered GPU-seconds of on-demand
usage / GPU-seconds servers spent in the cloud pool.

Uses of funds: capex is the value of servers delivered in the period on orders tagged with a
funding source; transfers are tagged when recorded. Raised funds may only serve the purpose of
an announcement that was funded by raised funds; a transfer of raised funds with no such
announcement, or an order funded by raised funds that no raised-funded announcement lists, is
flagged, and so is any transfer of raised funds that was not disclosed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.core.billing import midnight
from suanli.services.reports.model import Figure, Message, Section, Table, cents, pct
from suanli.services.reports.period import ReportPeriod
from suanli.store.models import (
    AnnouncementOrderRow,
    AnnouncementRow,
    DeliveryRow,
    FundTransferRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ServerRow,
    ServerTransitionRow,
    SlaEventRow,
    UsageRecordRow,
)

SERVICEABLE = frozenset({"available", "leased", "cloud_pool", "maintenance", "failed", "repaired"})
SOURCES = ("raised", "own", "loan", "unspecified")
ZERO = Decimal(0)


def state_seconds(s: Session, period: ReportPeriod) -> dict[tuple[int, str], int]:
    """``(server_id, state) -> seconds`` spent in the period, from the transition log."""
    start, end = midnight(period.start), midnight(period.end)
    rows = s.execute(
        select(ServerTransitionRow.server_id, ServerTransitionRow.to_state, ServerTransitionRow.at)
        .where(ServerTransitionRow.at < end)
        .order_by(ServerTransitionRow.server_id, ServerTransitionRow.at, ServerTransitionRow.id)
    ).all()
    out: dict[tuple[int, str], int] = defaultdict(int)
    by_server: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for sid, state, at in rows:
        by_server[sid].append((at, state))
    for sid, steps in by_server.items():
        for (at, state), nxt in zip(steps, [*steps[1:], (end, "")], strict=True):
            lo, hi = max(at, start), min(nxt[0], end)
            if hi > lo:
                out[(sid, state)] += int((hi - lo).total_seconds())
    return dict(out)


def _by_state(seconds: dict[tuple[int, str], int]) -> dict[str, int]:
    by_state: dict[str, int] = defaultdict(int)
    for (_, state), n in seconds.items():
        by_state[state] += n
    return by_state


def measured_occupancy(s: Session, period: ReportPeriod) -> Decimal | None:
    """Leased share of serviceable server-seconds in the period, in %; None without servers."""
    by_state = _by_state(state_seconds(s, period))
    serviceable = sum(n for st, n in by_state.items() if st in SERVICEABLE)
    return None if not serviceable else Decimal(by_state["leased"]) * 100 / Decimal(serviceable)


def operations_section(
    s: Session, period: ReportPeriod, occupancy: Decimal | None, breakeven: Decimal | None
) -> Section:
    seconds = state_seconds(s, period)
    by_state = _by_state(seconds)
    serviceable = sum(n for st, n in by_state.items() if st in SERVICEABLE)
    gpus = dict(s.execute(select(ServerRow.id, ServerRow.gpu_count)).all())
    pool_gpu_seconds = sum(n * gpus[sid] for (sid, st), n in seconds.items() if st == "cloud_pool")
    start, end = midnight(period.start), midnight(period.end)
    used = s.scalar(
        select(func.coalesce(func.sum(UsageRecordRow.gpu_seconds), 0)).where(
            UsageRecordRow.started_at >= start, UsageRecordRow.started_at < end,
            UsageRecordRow.priority_class != "reserved")
    )  # fmt: skip
    failures = s.scalar(
        select(func.count(ServerTransitionRow.id)).where(
            ServerTransitionRow.to_state == "failed",
            ServerTransitionRow.at >= start, ServerTransitionRow.at < end)
    )  # fmt: skip
    sla_events = s.scalar(
        select(func.count(SlaEventRow.id)).where(
            SlaEventRow.down_from < end,
            (SlaEventRow.down_until.is_(None)) | (SlaEventRow.down_until > start))
    )  # fmt: skip
    occ = "n/a" if occupancy is None else str(occupancy.quantize(Decimal("0.1")))
    be = "n/a" if breakeven is None else str(breakeven.quantize(Decimal("0.1")))
    figures = (
        Figure("occupancy", occ, "%"),
        Figure("breakeven_occupancy", be, "%"),
        Figure("pool_utilisation", pct(Decimal(used or 0), pool_gpu_seconds), "%"),
        Figure("failures", str(failures or 0), "count"),
        Figure("downtime_server_hours", str((Decimal(by_state["failed"]) / 3600).quantize(Decimal("0.1"))), "hours"),
        Figure("sla_events", str(sla_events or 0), "count"),
        Figure("server_days_serviceable", str(serviceable // 86400), "days"),
        Figure("server_days_leased", str(by_state["leased"] // 86400), "days"),
    )  # fmt: skip
    flags: tuple[Message, ...] = ()
    if occupancy is not None and breakeven is not None and occupancy < breakeven:
        flags = (Message("operations.below_breakeven", {"occupancy": occ, "breakeven": be}),)
    return Section("operations", figures, flags=flags, notes=(Message("operations.definitions"),))


def funds_section(s: Session, period: ReportPeriod) -> Section:
    raised_refs = {
        aid: ref
        for aid, ref in s.execute(
            select(AnnouncementRow.id, AnnouncementRow.ref).where(
                AnnouncementRow.funding_source == "raised"
            )
        ).all()
    }
    all_refs = dict(s.execute(select(AnnouncementRow.id, AnnouncementRow.ref)).all())
    capex: dict[str, Decimal] = defaultdict(Decimal)
    for source, value in s.execute(
        select(PurchaseOrderRow.funding_source, func.sum(PurchaseOrderLineRow.unit_price))
        .select_from(DeliveryRow)
        .join(PurchaseOrderLineRow, PurchaseOrderLineRow.id == DeliveryRow.line_id)
        .join(PurchaseOrderRow, PurchaseOrderRow.id == PurchaseOrderLineRow.order_id)
        .where(DeliveryRow.delivered_on >= period.start, DeliveryRow.delivered_on < period.end)
        .group_by(PurchaseOrderRow.funding_source)
    ).all():
        capex[source or "unspecified"] += Decimal(value or 0)
    transfers = s.scalars(
        select(FundTransferRow)
        .where(FundTransferRow.transferred_on >= period.start,
               FundTransferRow.transferred_on < period.end)
        .order_by(FundTransferRow.transferred_on, FundTransferRow.ref)).all()  # fmt: skip
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for t in transfers:
        moved[t.funding_source] += t.amount
    flags = [
        Message("funds.raised_outside_purpose", {
            "ref": t.ref, "date": t.transferred_on.isoformat(), "amount": cents(t.amount),
            "counterparty": t.counterparty, "purpose": t.purpose,
            "disclosed": "yes" if t.disclosed else "no"})
        for t in transfers
        if t.funding_source == "raised" and t.announcement_id not in raised_refs
    ]  # fmt: skip
    flags += [
        Message("funds.raised_undisclosed", {"ref": t.ref, "amount": cents(t.amount)})
        for t in transfers
        if t.funding_source == "raised" and t.announcement_id in raised_refs and not t.disclosed
    ]
    linked = set(s.scalars(select(AnnouncementOrderRow.order_id).where(
        AnnouncementOrderRow.announcement_id.in_(list(raised_refs)))))  # fmt: skip
    stray = s.execute(
        select(PurchaseOrderRow.id, PurchaseOrderRow.number).where(
            PurchaseOrderRow.funding_source == "raised",
            PurchaseOrderRow.ordered_on < period.end)).all()  # fmt: skip
    flags += [
        Message("funds.raised_order_unannounced", {"order": n}) for i, n in stray if i not in linked
    ]
    rows = tuple(
        (src, cents(Decimal(capex.get(src, 0) or 0)), cents(moved.get(src, ZERO)))
        for src in SOURCES
    )
    figures = (
        Figure("capex_total", cents(sum((Decimal(v or 0) for v in capex.values()), ZERO)), "CNY"),
        Figure("transfers_total", cents(sum(moved.values(), ZERO)), "CNY"),
        Figure("raised_outside_purpose", cents(sum(
            (t.amount for t in transfers if t.funding_source == "raised" and t.announcement_id not in raised_refs),
            ZERO)), "CNY"),
    )  # fmt: skip
    listing = tuple(
        (t.ref, t.transferred_on.isoformat(), cents(t.amount), t.funding_source, t.counterparty,
         all_refs.get(t.announcement_id or -1, "-"), "yes" if t.disclosed else "no")
        for t in transfers
    )  # fmt: skip
    return Section("funds", figures,
                   (Table("by_source", ("source", "capex_delivered", "transfers"), rows),
                    Table("transfers", ("ref", "date", "amount", "source", "counterparty",
                                        "announcement", "disclosed"), listing)),
                   tuple(flags))  # fmt: skip
