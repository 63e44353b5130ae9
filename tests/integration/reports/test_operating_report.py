"""The operating report over the demo center, on SQLite and PostgreSQL.

- Every figure checked here is rebuilt with its own SQL (``text()``, none of the report's code)
  and compared to the cent. Sums are quantised to the cent before comparing (SQLite returns
  binary floats for sums of NUMERIC; the tolerance is therefore half a cent, and exact on
  PostgreSQL).
- Reproducibility: regenerating the closed 2025Q3 adds no version and gives byte-identical HTML.
- Restatement: the demo books a transfer late (``TR-2025-004``), so version 2 restates
  version 1 and lists exactly the changed figures; a further late correction adds version 3.
- Access: finance/admin only on the API and the Reports page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Date, Engine, column, text

from suanli.api.app import create_app
from suanli.core.catalog import PConvention, default_catalog
from suanli.core.clock import SimClock
from suanli.services.container import Services, build_services
from suanli.services.demo.center import DEMO_START, DEMO_TODAY, seed_demo
from suanli.services.reports.ledger import DisclosureService, FundingSource, NewTransfer
from suanli.services.reports.operating import ReportService
from suanli.services.reports.render import to_html
from suanli.settings import load_settings
from suanli.store.base import Money

START, END = date(2025, 7, 1), date(2025, 10, 1)
CENT = Decimal("0.01")


@pytest.fixture
def demo(engine: Engine) -> Iterator[tuple[Services, SimClock]]:
    clock = SimClock(DEMO_START)
    svc = build_services(engine, clock)
    seed_demo(svc, clock)
    yield svc, clock


def _sql(engine: Engine, sql: str, **params: Any) -> Decimal:
    with engine.connect() as conn:
        value = conn.execute(text(sql), {"start": START, "end": END, **params}).scalar()
    return Decimal(str(value or 0)).quantize(CENT)


def _money(engine: Engine, sql: str, **params: Any) -> Decimal:
    """A sum of amount columns, read through their storage type (integer cents on SQLite)."""
    with engine.connect() as conn:
        value = conn.execute(
            text(sql).columns(column("v", Money)), {"start": START, "end": END, **params}
        ).scalar()
    return (value or Decimal(0)).quantize(CENT)


#: the day after a contract's last day (its end, or its termination when earlier): its last day
#: falls in [start, end) exactly when this falls in (start, end]
LAST = ("(CASE WHEN terminated_on IS NOT NULL AND terminated_on < end_date THEN terminated_on "
        "ELSE end_date END)")  # fmt: skip
#: what each invoice owed at the end of :day (gross + credit notes - cash applied - write-offs
#: + recoveries of write-offs)
OWED = (
    "SELECT i.issue_date AS issued, i.gross + coalesce((SELECT sum(c.gross) FROM invoices c "
    "WHERE c.credited_invoice_id = i.id AND c.issue_date <= :day), 0) - coalesce((SELECT "
    "sum(a.amount) FROM payment_allocations a WHERE a.invoice_id = i.id AND a.applied_on "
    "<= :day), 0) - coalesce((SELECT sum(w.amount) FROM receivable_write_offs w WHERE "
    "w.invoice_id = i.id AND w.written_off_on <= :day), 0) + coalesce((SELECT sum(r.amount) "
    "FROM receivable_recoveries r WHERE r.invoice_id = i.id AND r.recovered_on <= :day), 0) "
    "AS owed FROM invoices i WHERE i.kind = 'invoice' AND i.issue_date <= :day"
)
RATES = (
    (30, Decimal("0.01")),
    (60, Decimal("0.05")),
    (90, Decimal("0.20")),
    (None, Decimal("0.50")),
)


def _allowance(engine: Engine, day: date) -> Decimal:
    """The default provision matrix over OWED, bucketed here by days since issue."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(OWED).columns(column("issued", Date), column("owed", Money)), {"day": day}
        ).all()
    buckets = [Decimal(0)] * len(RATES)
    for issued, owed in rows:
        if owed > 0:
            age = (day - issued).days
            buckets[
                next(i for i, (limit, _) in enumerate(RATES) if limit is None or age <= limit)
            ] += owed
    return sum(
        ((b * r).quantize(CENT) for b, (_, r) in zip(buckets, RATES, strict=True)), Decimal(0)
    )


def test_figures_rebuilt_with_own_sql(demo: tuple[Services, SimClock], engine: Engine) -> None:
    svc, clock = demo
    figures = (
        ReportService(svc.sessions, clock, svc.catalog).generate("2025Q3", "t").report.figures()
    )
    q = _sql
    delivered_by_sku = {}
    with engine.connect() as conn:
        for sku, n in conn.execute(text(
            "SELECT l.sku, count(*) FROM deliveries d JOIN purchase_order_lines l ON l.id = d.line_id "
            "JOIN announcement_orders ao ON ao.order_id = l.order_id JOIN announcements a "
            "ON a.id = ao.announcement_id WHERE a.ref = 'ANN-2025-01' AND d.delivered_on < :end "
            "GROUP BY l.sku"), {"end": END}):  # fmt: skip
            delivered_by_sku[sku] = int(n)
    cat = default_catalog()
    p16 = sum(Decimal(str(round(cat.sku(k).petaflops(PConvention.FP16_SPARSE), 3))) * n
              for k, n in delivered_by_sku.items())  # fmt: skip
    expected = {
        "capacity.capacity.ANN-2025-01.delivered.units": Decimal(sum(delivered_by_sku.values())),
        "capacity.capacity.ANN-2025-01.delivered.p_fp16_sparse": p16.quantize(Decimal("0.1")),
        "procurement.value_delivered": _money(engine,
            "SELECT sum(l.unit_price) FROM deliveries d JOIN purchase_order_lines l "
            "ON l.id = d.line_id WHERE d.delivered_on >= :start AND d.delivered_on < :end"),
        "procurement.units_overdue": q(engine,
            "SELECT sum(l.quantity - l.cancelled_quantity - (SELECT count(*) FROM deliveries d "
            "WHERE d.line_id = l.id AND d.delivered_on < :end)) FROM purchase_order_lines l "
            "JOIN purchase_orders o ON o.id = l.order_id WHERE o.ordered_on < :end "
            "AND l.promised_on < :end"),
        "revenue.billed_net": _money(engine,
            "SELECT sum(net) FROM invoices WHERE issue_date >= :start AND issue_date < :end"),
        "revenue.by_product.rent.billed_net": _money(engine,
            "SELECT sum(il.net) FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id "
            "WHERE il.kind = 'rent' AND i.issue_date >= :start AND i.issue_date < :end"),
        "revenue.collected": _money(engine,
            "SELECT sum(amount) FROM payments WHERE kind IN ('payment', 'prepayment') "
            "AND received_on >= :start AND received_on < :end"),
        "receivables.open_total": _money(engine, f"SELECT sum(owed) FROM ({OWED}) x WHERE owed > 0",
                                         day=END - timedelta(days=1)),
        "revenue.collected_applied": _money(engine,
            "SELECT sum(amount) FROM payment_allocations WHERE applied_on >= :start "
            "AND applied_on < :end"),
        "receivables.write_offs": _money(engine,
            "SELECT sum(amount) FROM receivable_write_offs WHERE written_off_on >= :start "
            "AND written_off_on < :end"),
        "receivables.write_offs_count": q(engine,
            "SELECT count(*) FROM receivable_write_offs WHERE written_off_on >= :start "
            "AND written_off_on < :end"),
        "receivables.ecl_opening": _allowance(engine, START - timedelta(days=1)),
        "receivables.ecl_provision": _allowance(engine, END - timedelta(days=1)),
        "contracts.renewed": q(engine,
            "SELECT count(DISTINCT contract_id) FROM contract_renewals WHERE renewed_on >= :start "
            "AND renewed_on < :end"),
        "contracts.renewed_months": q(engine,
            "SELECT sum(months) FROM contract_renewals WHERE renewed_on >= :start "
            "AND renewed_on < :end"),
        "contracts.renewed_servers": q(engine,
            "SELECT sum(c.server_count) FROM contracts c WHERE c.id IN (SELECT contract_id FROM "
            "contract_renewals WHERE renewed_on >= :start AND renewed_on < :end)"),
        "funds.capex_total": _money(engine,
            "SELECT sum(l.unit_price) FROM deliveries d JOIN purchase_order_lines l ON l.id = "
            "d.line_id JOIN purchase_orders o ON o.id = l.order_id WHERE d.delivered_on >= :start "
            "AND d.delivered_on < :end"),
        "funds.transfers_total": _money(engine,
            "SELECT sum(amount) FROM fund_transfers WHERE transferred_on >= :start "
            "AND transferred_on < :end"),
        "funds.raised_outside_purpose": _money(engine,
            "SELECT sum(t.amount) FROM fund_transfers t LEFT JOIN announcements a "
            "ON a.id = t.announcement_id WHERE t.funding_source = 'raised' AND (a.id IS NULL OR "
            "a.funding_source <> 'raised') AND t.transferred_on >= :start "
            "AND t.transferred_on < :end"),
        "contracts.ended": q(engine, f"SELECT count(*) FROM contracts WHERE {LAST} > :start "
                             f"AND {LAST} <= :end"),
        "contracts.active_at_end": q(engine, "SELECT count(*) FROM contracts WHERE start_date "
                                     f"< :end AND {LAST} > :end"),
        "procurement.units_delivered": q(engine,
            "SELECT count(*) FROM deliveries WHERE delivered_on >= :start AND delivered_on < :end"),
        "revenue.billed_tax": _money(engine,
            "SELECT sum(tax) FROM invoices WHERE issue_date >= :start AND issue_date < :end"),
        "revenue.by_product.fee.billed_net": _money(engine,
            "SELECT sum(il.net) FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id "
            "WHERE il.kind = 'fee' AND i.issue_date >= :start AND i.issue_date < :end"),
        "funds.by_source.raised.capex_delivered": _money(engine,
            "SELECT sum(l.unit_price) FROM deliveries d JOIN purchase_order_lines l ON l.id = "
            "d.line_id JOIN purchase_orders o ON o.id = l.order_id WHERE o.funding_source = "
            "'raised' AND d.delivered_on >= :start AND d.delivered_on < :end"),
        "funds.by_source.own.transfers": _money(engine,
            "SELECT sum(amount) FROM fund_transfers WHERE funding_source = 'own' AND "
            "transferred_on >= :start AND transferred_on < :end"),
        "operations.failures": q(engine,
            "SELECT count(*) FROM server_transitions WHERE to_state = 'failed' AND at >= :start "
            "AND at < :end"),
        "operations.sla_events": q(engine,
            "SELECT count(*) FROM sla_events WHERE down_from < :end AND (down_until IS NULL OR "
            "down_until > :start)"),
        "contracts.signed": q(engine,
            "SELECT count(*) FROM contracts WHERE start_date >= :start AND start_date < :end"),
    }  # fmt: skip
    for key, value in expected.items():
        assert Decimal(figures[key]) == value, key
    # the risk scenario is calibrated on the ledger's average price and rent (to the cent)
    delivered = "SELECT server_id FROM deliveries WHERE delivered_on < :end"
    price = _money(engine, f"SELECT sum(purchase_price) FROM servers WHERE id IN ({delivered}) "
                   "AND purchase_price IS NOT NULL") / q(engine,
                   f"SELECT count(purchase_price) FROM servers WHERE id IN ({delivered})")  # fmt: skip
    running = "FROM contracts WHERE kind = 'lease' AND start_date < :end AND end_date > :end AND (terminated_on IS NULL OR terminated_on > :end)"
    rent = _money(engine, f"SELECT sum(monthly_rent) {running}") / q(
        engine, f"SELECT count(*) {running}"
    )
    loss = dict(kv.split("=", 1) for kv in figures["risks.message.0.risk.loss"].split(";"))
    assert (loss["unit_price"], loss["rent"]) == (
        str(price.quantize(CENT)),
        str(rent.quantize(CENT)),
    )
    # cash applied in the quarter, split over products, adds up to the cent
    split = [
        Decimal(v)
        for k, v in figures.items()
        if k.startswith("revenue.by_product.") and k.endswith(".collected")
    ]
    assert sum(split) == Decimal(figures["revenue.collected_applied"]) > 0
    # the allowance moves as opening + charge - written off = closing; the demo wrote off
    # half of Hefei's July invoice and renewed Moonstone's lease in the quarter
    movement = (Decimal(figures["receivables.ecl_opening"]) + Decimal(figures["receivables.ecl_charge"])
                - Decimal(figures["receivables.write_offs"]))  # fmt: skip
    assert movement == Decimal(figures["receivables.ecl_provision"])
    assert (figures["receivables.write_offs"], figures["contracts.renewed"]) == ("45000.00", "1")
    # the tie-out identity holds on the report's own figures
    tie = Decimal(figures["revenue.cumulative_billed_net"]) - Decimal(
        figures["revenue.cumulative_recognised"]
    )
    assert tie == Decimal(figures["revenue.tie_out_difference"])
    # the demo's undisclosed use of raised funds is flagged
    assert figures["funds.raised_outside_purpose"] == "21340000.00"
    assert any(k.startswith("funds.message.") and "TR-2025-003" in v and "disclosed=no" in v
               for k, v in figures.items())  # fmt: skip


def test_reproducible_then_restated(demo: tuple[Services, SimClock]) -> None:
    svc, clock = demo
    reports = ReportService(svc.sessions, clock, svc.catalog)
    ledger = DisclosureService(svc.sessions, clock)
    v2 = ledger.archived("operating", "2025Q3")[-1]
    assert (v2.version, v2.restates_version) == (2, 1)
    assert {d.figure for d in v2.differences} == {
        "funds.by_source.own.transfers", "funds.transfers_total",
        *(f"funds.transfers.TR-2025-004.{c}" for c in
          ("amount", "announcement", "counterparty", "date", "disclosed", "source")),
    }  # fmt: skip
    first, second = reports.generate("2025Q3", "t"), reports.generate("2025Q3", "t")
    assert first.closed and first.archived == second.archived and second.archived.version == 2
    for lang in ("zh", "en"):
        assert to_html(first.report, first.archived, lang) == to_html(
            second.report, second.archived, lang
        )
    # a renewal or termination agreed after the quarter is not a correction of it
    leases = {c: svc.money.leasing.list_contracts(customer=c, kind="lease").items[0].number
              for c in ("zhipu", "jade")}  # fmt: skip
    svc.money.leasing.renew(leases["zhipu"], 6, "t", DEMO_TODAY.date())
    svc.money.leasing.terminate(leases["jade"], date(2026, 1, 1), "t", "customer moves to cloud")
    assert reports.generate("2025Q3", "t").archived.version == 2
    # a later correction to the closed quarter is a restatement, never a silent change
    clock.set(DEMO_TODAY + timedelta(days=5))
    ledger.record_transfer(NewTransfer("TR-LATE", date(2025, 8, 1), "1.50", FundingSource.RAISED,
                                       "Sub", "late booking", disclosed=False), "t")  # fmt: skip
    third = reports.generate("2025Q3", "t").archived
    assert (third.version, third.restates_version) == (3, 2)
    changed = {d.figure: (d.before, d.after) for d in third.differences}
    assert changed["funds.transfers_total"] == ("26340000.00", "26340001.50")
    assert changed["funds.raised_outside_purpose"] == ("21340000.00", "21340001.50")
    assert len(ledger.archived("operating", "2025Q3")) == 3


def test_api_and_page_access(engine: Engine, db_url: str, bearer: Any) -> None:
    clock = SimClock(DEMO_START)
    seed_demo(build_services(engine, clock), clock)
    app = create_app(load_settings(database_url=db_url), clock=clock)
    h = {"fin": bearer(app, "fin19", "finance"), "op": bearer(app, "op19", "operator"),
         "cus": bearer(app, "cus19", "customer", "zhipu")}  # fmt: skip
    with TestClient(app) as client:
        for who in ("op", "cus"):
            r = client.get("/api/v1/reports/operating", params={"period": "2025Q3"}, headers=h[who])
            assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
        bad = client.get("/api/v1/reports/operating", params={"period": "2025Q5"}, headers=h["fin"])
        assert (bad.status_code, bad.json()["code"]) == (422, "report.invalid_period")
        r = client.get("/api/v1/reports/operating", params={"period": "2025Q3", "lang": "zh"},
                       headers=h["fin"])  # fmt: skip
        body = r.json()
        assert (r.status_code, body["version"], body["closed"]) == (200, 2, True)
        assert any(f["key"] == "funds.raised_outside_purpose" and "21340000.00" in f["text"]
                   for f in body["flags"])  # fmt: skip
        page = client.get("/api/v1/reports/operating", params={"period": "2025Q3", "format": "html"},
                          headers=h["fin"])  # fmt: skip
        assert page.headers["content-type"].startswith("text/html") and "TR-2025-003" in page.text
        archive = client.get("/api/v1/reports/archive", headers=h["fin"]).json()["items"]
        assert [(a["period"], a["version"]) for a in archive] == [("2025Q3", 1), ("2025Q3", 2)]


def test_october_recovery_ties_out(demo: tuple[Services, SimClock], engine: Engine) -> None:
    """The demo's 2025-10-20 recovery (9,000.00 of Hefei's write-off), rebuilt with own SQL:
    open receivables and the allowance include the reinstated amount, and the movement ties."""
    svc, clock = demo
    f = ReportService(svc.sessions, clock, svc.catalog).generate("2025-10", "t", twin=False)
    figures = f.report.figures()
    oct_start, oct_end = date(2025, 10, 1), date(2025, 11, 1)
    window = {"start": oct_start, "end": oct_end}
    recovered = _money(engine, "SELECT sum(amount) FROM receivable_recoveries WHERE recovered_on "
                       ">= :start AND recovered_on < :end", **window)  # fmt: skip
    assert recovered == Decimal("9000.00") == Decimal(figures["receivables.recoveries"])
    assert figures["receivables.recoveries_count"] == "1"
    open_total = _money(engine, f"SELECT sum(owed) FROM ({OWED}) x WHERE owed > 0",
                        day=oct_end - timedelta(days=1))  # fmt: skip
    assert Decimal(figures["receivables.open_total"]) == open_total
    closing = _allowance(engine, oct_end - timedelta(days=1))
    opening = _allowance(engine, oct_start - timedelta(days=1))
    assert Decimal(figures["receivables.ecl_provision"]) == closing
    written = Decimal(figures["receivables.write_offs"])
    assert opening + Decimal(figures["receivables.ecl_charge"]) - written + recovered == closing


def test_year_figures_rebuilt_with_own_sql(demo: tuple[Services, SimClock], engine: Engine) -> None:
    """Figures that are zero in 2025Q3 (no order placed, no cancellation) rebuilt over 2025."""
    svc, clock = demo
    f = ReportService(svc.sessions, clock, svc.catalog).generate("2025", "t", twin=False)
    figures = f.report.figures()
    year = {"start": date(2025, 1, 1), "end": date(2026, 1, 1)}
    last = ("SELECT t.server_id FROM server_transitions t WHERE t.id = (SELECT max(t2.id) FROM "
            "server_transitions t2 WHERE t2.server_id = t.server_id AND t2.at < :end) "
            "AND t.to_state IN ('available', 'leased', 'cloud_pool')")  # fmt: skip
    placed = ("FROM purchase_order_lines l JOIN purchase_orders o ON o.id = l.order_id "
              "WHERE o.ordered_on >= :start AND o.ordered_on < :end")  # fmt: skip
    expected = {
        "procurement.orders_placed": _sql(engine, f"SELECT count(DISTINCT o.id) {placed}", **year),
        "procurement.units_ordered": _sql(engine, f"SELECT sum(l.quantity) {placed}", **year),
        "procurement.value_ordered": _money(engine,
            f"SELECT sum(l.quantity * l.unit_price) {placed}", **year),
        "procurement.units_cancelled": _sql(engine,
            "SELECT sum(cancelled_quantity) FROM purchase_order_lines WHERE cancelled_at "
            ">= :start AND cancelled_at < :end", **year),
        "capacity.fleet_in_service_units": _sql(engine, f"SELECT count(*) FROM ({last}) x", **year),
        "contracts.signed_servers": _sql(engine,
            "SELECT sum(server_count) FROM contracts WHERE kind = 'lease' AND start_date "
            ">= :start AND start_date < :end", **year),
        "revenue.billed_net": _money(engine,
            "SELECT sum(net) FROM invoices WHERE issue_date >= :start AND issue_date < :end", **year),
        "receivables.recoveries": _money(engine,
            "SELECT sum(amount) FROM receivable_recoveries WHERE recovered_on >= :start "
            "AND recovered_on < :end", **year),
    }  # fmt: skip
    assert expected["procurement.units_ordered"] > 0 and expected["procurement.units_cancelled"] > 0
    for key, value in expected.items():
        assert Decimal(figures[key]) == value, key
