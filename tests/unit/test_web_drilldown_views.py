"""Pure parts of the dashboard's drill-down and operations alerts (issue 16): usage by day and
product, a server's downtime incidents, credit notes of an invoice, SLA breaches, foreign drains
and stale watchers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from suanli.core.contracts import Contract, SlaEvent
from suanli.core.fleet import Server, Transition
from suanli.core.fleet import ServerState as S
from suanli.core.ledger import Invoice
from suanli.services.billing.metering import UsageRecord
from suanli.services.cluster.inventory import ACTOR, SITE_DRAIN
from suanli.web import money_views as mv
from suanli.web import ops_alerts, views

T0 = datetime(2025, 10, 1, tzinfo=UTC)


def _usage(start: datetime, hours: float, gpus: int, klass: str = "standard") -> UsageRecord:
    end = start + timedelta(hours=hours)
    return UsageRecord(
        event_id=f"{start}-{klass}", customer="acme", sku="HGX-H800-8", priority_class=klass,
        job_id="j", started_at=start, ended_at=end,
        gpu_seconds=Decimal(gpus * hours * 3600), invoiced=False,
    )  # fmt: skip


def test_usage_by_day_and_product_splits_runs_at_midnight() -> None:
    records = [
        _usage(T0 + timedelta(hours=20), 8, 4),  # 4 h on the 1st, 4 h on the 2nd, 4 GPUs
        _usage(T0 + timedelta(days=1, hours=1), 2, 8, "spot"),
        _usage(T0 + timedelta(days=3), 0, 1),  # an instant record still counts (0 GPU-h)
    ]
    products, days = mv.usage_by_day(records)
    assert products == ["HGX-H800-8 spot", "HGX-H800-8 standard"]
    assert [d.day.day for d in days] == [1, 2, 4]
    assert days[0].gpu_hours == {"HGX-H800-8 standard": 16.0}
    assert days[1].gpu_hours == {"HGX-H800-8 standard": 16.0, "HGX-H800-8 spot": 16.0}
    assert days[1].total == 32.0
    assert sum(d.total for d in days) == 4 * 8 + 8 * 2


def _t(i: int, to: S, hours: float, reason: str = "r", actor: str = "ops") -> Transition:
    return Transition(i, "a", None, to, actor, reason, T0 + timedelta(hours=hours), None)


def test_downtime_incidents_are_stays_out_of_service() -> None:
    history = [
        _t(1, S.AVAILABLE, 0),
        _t(2, S.FAILED, 10, "Xid 79"),
        _t(3, S.REPAIRED, 14),  # still out of service until available
        _t(4, S.LEASED, 16),
        _t(5, S.MAINTENANCE, 30, "fan"),
    ]
    now = T0 + timedelta(hours=33)
    incidents = views.downtime_incidents(list(reversed(history)), now)
    assert [(i.state, i.hours, i.down_until is None, i.reason) for i in incidents] == [
        ("maintenance", 3.0, True, "fan"),
        ("failed", 6.0, False, "Xid 79"),
    ]
    assert views.downtime_incidents(history[:1], now) == []


def _invoice(number: str, kind: str = "invoice", credited: str | None = None) -> Invoice:
    zero = Decimal(0)
    return Invoice(number, kind, "acme", "2025-09", date(2025, 10, 1), date(2025, 10, 31), "CNY",
                   zero, zero, zero, zero, credited, None, None, [])  # fmt: skip


def test_credit_notes_of_an_invoice() -> None:
    rows = [_invoice("INV-1"), _invoice("CN-1", "credit_note", "INV-1"), _invoice("INV-2"),
            _invoice("CN-2", "credit_note", "INV-2")]  # fmt: skip
    assert [c.number for c in mv.credit_notes_for(rows, "INV-1")] == ["CN-1"]
    assert mv.credit_notes_for(rows, "CN-1") == []


def _contract(uptime: str = "0.995") -> Contract:
    zero = Decimal(0)
    return Contract(
        number="L-1", customer="acme", kind="lease", status="active", sku="HGX-H800-8",
        server_count=1, start_date=date(2025, 1, 1), end_date=date(2026, 1, 1), term_months=12,
        monthly_rent=Decimal(100000), cabinet_fee=zero, om_fee=zero, fees_as_agent=False,
        deposit=zero, prepayment=zero, notice_days=30, auto_renew=False,
        early_termination_months=zero, sla_uptime=Decimal(uptime), vat_rate=Decimal("0.13"),
        fee_vat_rate=Decimal("0.06"), committed_gpus=0, gpu_hour_rate=zero, min_commitment=zero,
        terminated_on=None, termination_penalty=None, servers=["a"],
    )  # fmt: skip


def _event(start: datetime, end: datetime | None) -> SlaEvent:
    return SlaEvent(1, "L-1", "a", start, end, "Xid 79")


def test_sla_breach_counts_this_months_downtime_against_the_allowance() -> None:
    contracts = {"L-1": _contract()}  # 99.5 % of October (744 h): 3.72 h
    now = T0 + timedelta(days=2)
    inside = [_event(now - timedelta(hours=3, minutes=40), None)]
    assert ops_alerts.sla_breaches(inside, contracts, now) == []
    two = [*inside, _event(T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=5))]
    (alert,) = ops_alerts.sla_breaches(two, contracts, now)
    assert alert.kind == "sla_breach" and "still down" in alert.text and "3.7 h" in alert.text
    # downtime before the month counts only from the 1st; a closed event says "back up"
    old = [_event(T0 - timedelta(days=5), T0 + timedelta(hours=4))]
    (back,) = ops_alerts.sla_breaches(old, contracts, now)
    assert "down 4.0 h" in back.text and "back up" in back.text
    assert ops_alerts.sla_breaches(old, {}, now) == []  # contract not visible: no alert


def _server(serial: str, state: S) -> Server:
    return Server(
        id=1, serial=serial, sku="HGX-H800-8", gpu_count=8, nameplate_kw=Decimal(10), state=state,
        purchase_price=None, currency="CNY", supplier=None, po_number=None, po_line_no=None,
        site_code=None, cabinet_code=None, network_group=None, created_at=T0, updated_at=T0,
    )  # fmt: skip


def test_foreign_drains_only_for_site_drained_servers_in_maintenance() -> None:
    servers = [_server("a", S.MAINTENANCE), _server("b", S.MAINTENANCE), _server("c", S.AVAILABLE)]
    site = _t(1, S.MAINTENANCE, 1, f"{SITE_DRAIN}: NHC Xid 79", ACTOR)
    last = {
        "a": site,
        "b": _t(2, S.MAINTENANCE, 1, f"{SITE_DRAIN}: x", "ops"),  # a person, not the sync
        "c": site,
    }
    (alert,) = ops_alerts.foreign_drains(servers, last)
    assert alert.href == "/fleet/a#downtime" and "(NHC Xid 79)" in alert.text


def test_stale_watchers() -> None:
    now = T0 + timedelta(hours=1)
    fresh = now - timedelta(minutes=2)
    old = now - timedelta(hours=2)
    alerts = ops_alerts.stale_watchers({"a": fresh, "b": old, "c": None}, now)
    assert [a.text.split(" has")[0].split(" last")[0] for a in alerts] == [
        "the failure watcher of cluster b",
        "the failure watcher of cluster c",
    ]
    assert "last polled 2.0 h ago" in alerts[0].text and "never polled" in alerts[1].text
    assert ops_alerts.stale_watchers({}, now) == []


def test_only_invoices_that_can_carry_an_sla_credit_are_read() -> None:
    def inv(number: str, customer: str, period: str) -> Invoice:
        return replace(_invoice(number), customer=customer, period=period)

    rows = [inv("1", "acme", "2025-08"), inv("2", "acme", "2025-10"), inv("3", "beta", "2025-10")]
    events = [_event(T0 + timedelta(hours=1), None)]  # October, contract L-1 of acme
    assert [i.number for i in mv.with_sla_downtime(rows, events, [_contract()])] == ["2"]
    assert mv.with_sla_downtime(rows, [], [_contract()]) == []
