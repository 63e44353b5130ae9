"""Recoveries of receivables written off, on SQLite and PostgreSQL, worked by hand.

One lease of one H800 at 70,000.00 a month (VAT 13 %) from 2024-04-01: April's invoice, issued
2024-05-01, is 79,100.00 gross. acme pays 9,100.00 on 05-10 (70,000.00 open); finance writes off
30,000.00 on 06-10 (WO-000001) and the other 40,000.00 on 06-15 (WO-000002): nothing is open.
On 07-05 the administrator pays 25,000.00 (unapplied: nothing is open) and finance records a
recovery of 20,000.00 of WO-000001: the 20,000.00 is reinstated and the unapplied cash pays it.
On 07-06 the rest of WO-000001 (10,000.00) is recovered: the last 5,000.00 of cash pays half of
it, so the invoice owes 5,000.00.

- July's reconciliation: receivables = 79,100.00 − 34,100.00 applied − 70,000.00 written off
  + 30,000.00 recovered = 5,000.00, equal to the invoice's outstanding.
- The report for July (twin off): recovered 30,000.00 in 2 recoveries, nothing written off; the
  5,000.00 open on 07-31 is 91 days old (90+, 50 %), so the closing allowance is 2,500.00 and,
  with an opening of 0.00, the charge is 2,500.00 − 0.00 + 0.00 − 30,000.00 = −27,500.00
  (the recovery is a gain); opening + charge − written off + recovered = closing.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suanli.api.app import create_app
from suanli.cli.main import main
from suanli.core.billing import parse_period
from suanli.core.errors import ConflictError, NotFoundError, SuanliError, ValidationError
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.reports.operating import ReportService
from suanli.settings import load_settings
from suanli.store.models import RecoveryRow

INVOICE = "INV-2024-000001"


@pytest.fixture
def written_off(world: Any) -> Any:
    world.servers(1)
    money = world.svc.money
    money.tenancy.create_customer("acme", "Acme AI")
    money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "70000", date(2024, 4, 1), 12, count=1), actor="sales"
    )
    world.clock.set(datetime(2024, 5, 1, 6, tzinfo=UTC))
    assert money.billing.run(parse_period("2024-04")).created == [INVOICE]
    money.ledger.record_payment("acme", "9100.00", date(2024, 5, 10))
    world.clock.set(datetime(2024, 6, 15, 9, tzinfo=UTC))
    money.writeoffs.write_off(INVOICE, date(2024, 6, 10), "partial settlement", "cfo", "30000")
    money.writeoffs.write_off(INVOICE, date(2024, 6, 15), "customer insolvent", "cfo")
    world.clock.set(datetime(2024, 7, 5, 9, tzinfo=UTC))
    money.ledger.record_payment("acme", "25000.00", date(2024, 7, 5))
    return world


def _recoveries(world: Any) -> int:
    with world.svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(RecoveryRow)) or 0)


def test_recovery_reinstates_and_applies_cash(written_off: Any) -> None:
    money, clock = written_off.svc.money, written_off.clock
    assert money.ledger.get_invoice(INVOICE).outstanding == Decimal("0.00")
    r = money.writeoffs.recover("WO-000001", date(2024, 7, 5), "administrator's dividend", "cfo",
                                "20000")  # fmt: skip
    assert (r.ref, r.write_off, r.invoice, r.customer) == (
        "RC-000001",
        "WO-000001",
        INVOICE,
        "acme",
    )
    assert (r.amount, r.applied) == (Decimal("20000.00"), Decimal("20000.00"))
    assert money.ledger.get_invoice(INVOICE).outstanding == Decimal("0.00")
    clock.set(datetime(2024, 7, 6, 9, tzinfo=UTC))
    rest = money.writeoffs.recover("wo-000001", date(2024, 7, 6), "second dividend", "cfo")
    assert (rest.amount, rest.applied) == (Decimal("10000.00"), Decimal("5000.00"))
    assert money.ledger.get_invoice(INVOICE).outstanding == Decimal("5000.00")
    # the day before the second recovery the invoice owed nothing; from it on, 5,000.00
    assert money.ledger.aging(date(2024, 7, 5)) == [] or all(
        sum(row.buckets.values()) == 0 for row in money.ledger.aging(date(2024, 7, 5))
    )
    assert sum(money.ledger.aging(date(2024, 7, 6))[0].buckets.values()) == Decimal("5000.00")
    rec = money.ledger.reconcile(parse_period("2024-07"))
    assert rec.receivables_end == Decimal("5000.00")
    assert [x.ref for x in money.writeoffs.list_recoveries(customer="acme")] == [
        "RC-000001", "RC-000002",
    ]  # fmt: skip
    with pytest.raises(ConflictError) as nothing:
        money.writeoffs.recover("WO-000001", date(2024, 7, 6), "again", "cfo")
    assert nothing.value.code == "recovery.nothing_left"

    clock.set(datetime(2024, 8, 2, 9, tzinfo=UTC))
    report = ReportService(written_off.svc.sessions, clock).generate("2024-07", "t", twin=False)
    f = report.report.figures()
    assert (f["receivables.recoveries"], f["receivables.recoveries_count"]) == ("30000.00", "2")
    assert (f["receivables.write_offs"], f["receivables.write_offs_net"]) == ("0.00", "-30000.00")
    assert f["receivables.open_total"] == "5000.00"
    assert (f["receivables.ecl_opening"], f["receivables.ecl_provision"]) == ("0.00", "2500.00")
    assert f["receivables.ecl_charge"] == "-27500.00"
    assert f["receivables.recovery_list.RC-000002.amount"] == "10000.00"
    assert f["receivables.recovery_list.RC-000002.write_off"] == "WO-000001"


@pytest.mark.parametrize(
    ("ref", "on", "amount", "error", "code"),
    [
        ("WO-000001", date(2024, 7, 5), "30000.01", ConflictError, "recovery.exceeds_write_off"),
        ("WO-000001", date(2024, 6, 9), None, ValidationError, "recovery.before_write_off"),
        ("WO-000001", date(2024, 7, 6), None, ValidationError, "recovery.future_date"),
        ("WO-000001", date(2024, 7, 5), "0", ValidationError, "recovery.zero_amount"),
        ("WO-000099", date(2024, 7, 5), None, NotFoundError, "recovery.write_off_not_found"),
        ("INV-2024-000001", date(2024, 7, 5), None, ValidationError, "recovery.invalid_write_off"),
        ("WO-1234567890", date(2024, 7, 5), None, ValidationError, "recovery.invalid_write_off"),
        ("WO-²", date(2024, 7, 5), None, ValidationError, "recovery.invalid_write_off"),
    ],
)  # fmt: skip
def test_bad_recovery_writes_nothing(
    written_off: Any, ref: str, on: date, amount: str | None, error: type[SuanliError], code: str
) -> None:
    with pytest.raises(error) as caught:
        written_off.svc.money.writeoffs.recover(ref, on, "dividend", "cfo", amount)
    assert caught.value.code == code
    assert _recoveries(written_off) == 0
    assert written_off.svc.money.ledger.get_invoice(INVOICE).outstanding == Decimal("0.00")


def test_recovery_api_and_cli(
    written_off: Any, db_url: str, bearer: Any, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    app = create_app(load_settings(database_url=db_url), clock=written_off.clock)
    fin, op = bearer(app, "fin", "finance"), bearer(app, "op", "operator")
    body = {"on": "2024-07-05", "reason": "dividend", "amount": "100.00"}
    url = "/api/v1/write-offs/WO-000002/recoveries"
    with TestClient(app) as client:
        denied = client.post(url, json=body, headers=op)
        assert (denied.status_code, denied.json()["code"]) == (403, "auth.forbidden")
        made = client.post(url, json=body, headers=fin)
        assert made.status_code == 201, made.text
        got = made.json()
        assert (got["ref"], got["amount"], got["applied"], got["actor"]) == (
            "RC-000001", "100.00", "100.00", "fin")  # fmt: skip
        too_much = client.post(url, json={**body, "amount": "39900.01"}, headers=fin)
        assert (too_much.status_code, too_much.json()["code"]) == (
            409,
            "recovery.exceeds_write_off",
        )
        listed = client.get("/api/v1/recoveries", headers=fin).json()["items"]
        assert [(x["ref"], x["write_off"]) for x in listed] == [("RC-000001", "WO-000002")]
        assert client.get("/api/v1/recoveries", headers=op).status_code == 403
    monkeypatch.setenv("SUANLI_DATABASE_URL", db_url)
    main(["invoice", "recover", "WO-000002", "--on", "2024-07-05", "--reason", "dividend",
          "--amount", "200.00", "--by", "cfo"])  # fmt: skip
    assert "RC-000002: 200.00 of WO-000002" in capsys.readouterr().out
    main(["invoice", "recoveries", "--json"])
    rows = json.loads(capsys.readouterr().out)
    assert [(r["ref"], r["amount"]) for r in rows] == [
        ("RC-000001", "100.00"),
        ("RC-000002", "200.00"),
    ]
