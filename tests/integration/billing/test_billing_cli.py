"""`suanli init|user|customer|contract|usage|invoice` end to end on SQLite (the services are
tested on both engines)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any


def ok(cli: Any, *argv: str) -> str:
    code, out, err = cli(*argv)
    assert code == 0, err
    return out  # type: ignore[no-any-return]


def test_init_users_contracts_usage_invoices(cli: Any, tmp_path: Path) -> None:
    out = ok(cli, "init")
    token = out.strip().splitlines()[-1]
    assert token.startswith("sl_") and len(token) > 40
    code, _, err = cli("init")
    assert code == 1 and "init.already_done" in err
    ok(cli, "customer", "create", "acme", "Acme AI", "--terms", "30")
    ok(cli, "user", "create", "ann", "--role", "customer", "--customer", "acme")
    assert ok(cli, "user", "token", "ann", "--days", "7").strip().splitlines()[-1].startswith("sl_")
    tokens = json.loads(ok(cli, "user", "tokens", "--json"))
    assert {t["user"] for t in tokens} == {"admin", "ann"} and all(
        "secret" not in t for t in tokens
    )
    ok(cli, "fleet", "sites", "add", "BJ1", "Beijing 1")
    ok(cli, "fleet", "cabinets", "add", "BJ1", "A01", "--power-kw", "100")
    for n in range(2):
        ok(cli, "fleet", "servers", "add", f"SN{n}", "--sku", "HGX-H800-8", "--state", "delivered")
        ok(
            cli,
            "fleet",
            "servers",
            "transition",
            f"SN{n}",
            "burn_in",
            "--reason",
            "rack",
            "--cabinet",
            "BJ1/A01",
        )
        ok(cli, "fleet", "servers", "transition", f"SN{n}", "available", "--reason", "ok")
    ok(cli, "contract", "price", "HGX-H800-8", "standard", "15", "--valid-from", "2024-01-01")
    lease = json.loads(ok(cli, "contract", "lease", "acme", "HGX-H800-8", "--rent", "70000", "--start", "2024-04-01",
                          "--months", "12", "--count", "2", "--json"))  # fmt: skip
    assert lease["number"] == "L-000001" and lease["servers"] == ["SN0", "SN1"]
    code, _, err = cli("contract", "lease", "acme", "HGX-H800-8", "--rent", "1", "--start", "2024-04-01", "--months", "1", "--count", "1")  # fmt: skip
    assert code == 1 and "lease.capacity_unavailable" in err
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "event_id,customer,sku,priority_class,job_id,started_at,ended_at,gpu_seconds\n"
        "u1,acme,HGX-H800-8,standard,j1,2024-04-03T00:00:00+00:00,2024-04-03T01:00:00+00:00,28800\n"
        "u2,ghost,HGX-H800-8,standard,j2,2024-04-03T00:00:00+00:00,2024-04-03T01:00:00+00:00,28800\n"
    )
    code, out, err = cli("usage", "ingest", str(usage))
    assert code == 1 and "1 new" in out and "line 3, customer: unknown customer" in err
    code, _, err = cli("invoice", "run", "2024-04", "--issue-date", "2024-04-30")
    assert code != 0 and "invoice.period_open" in err  # in arrears: April closes on 1 May
    run = json.loads(ok(cli, "invoice", "run", "2024-04", "--issue-date", "2024-05-01", "--json"))
    assert len(run["created"]) == 1
    assert json.loads(ok(cli, "invoice", "run", "2024-04", "--json"))["created"] == []
    inv = json.loads(ok(cli, "invoice", "show", run["created"][0], "--json"))
    assert inv["net"] == "140120.00"  # 2 × 70000 rent + 8 GPU-hours × 15
    ok(cli, "invoice", "pay", "acme", "1000", "--on", "2024-05-05")
    assert inv["issue_date"] == "2024-05-01"  # the effective date, not the wall clock
    aging = json.loads(ok(cli, "invoice", "aging", "--as-of", "2024-05-31", "--json"))
    assert Decimal(aging[0]["buckets"]["0-30"]) == Decimal(inv["gross"]) - 1000
    assert json.loads(ok(cli, "contract", "list", "--json"))["items"][0]["number"] == "L-000001"
    rec = json.loads(ok(cli, "invoice", "reconcile", "2024-04", "--json"))
    assert rec["recognised"] == "140120.00"
    # release as of a date: the lease runs to 2025-04-01, so nothing is due the day before
    assert ok(cli, "contract", "release", "--date", "2025-03-31").strip() == "0 servers released"
    assert ok(cli, "contract", "release", "--date", "2025-04-01").strip() == "2 servers released"
    code, _, err = cli("contract", "release", "--date", "2999-01-01")
    assert code == 1 and "input.date_out_of_range" in err


def test_credit_balance_applied_and_refunded(cli: Any) -> None:
    """A credit note on a paid invoice leaves a credit balance; `suanli credit` uses it."""
    ok(cli, "init")
    ok(cli, "customer", "create", "acme", "Acme AI")
    ok(cli, "fleet", "sites", "add", "BJ1", "Beijing 1")
    ok(cli, "fleet", "cabinets", "add", "BJ1", "A01", "--power-kw", "100")
    ok(cli, "fleet", "servers", "add", "SN0", "--sku", "HGX-H800-8", "--state", "delivered")
    ok(
        cli,
        "fleet",
        "servers",
        "transition",
        "SN0",
        "burn_in",
        "--reason",
        "rack",
        "--cabinet",
        "BJ1/A01",
    )
    ok(cli, "fleet", "servers", "transition", "SN0", "available", "--reason", "ok")
    ok(cli, "contract", "lease", "acme", "HGX-H800-8", "--rent", "70000", "--start", "2024-04-01",
       "--months", "12", "--count", "1")  # fmt: skip
    (april,) = json.loads(
        ok(cli, "invoice", "run", "2024-04", "--issue-date", "2024-05-01", "--json")
    )["created"]
    ok(cli, "invoice", "pay", "acme", "79100", "--on", "2024-05-10")
    ok(
        cli,
        "invoice",
        "credit",
        april,
        "--reason",
        "goodwill",
        "--line",
        "1=10000",
        "--issue-date",
        "2024-05-20",
    )
    bal = json.loads(ok(cli, "credit", "balance", "acme", "--json"))
    assert (bal["released"], bal["balance"]) == ("11300.00", "11300.00")
    (may,) = json.loads(
        ok(cli, "invoice", "run", "2024-05", "--issue-date", "2024-06-01", "--json")
    )["created"]
    out = ok(cli, "credit", "apply", "acme", may, "--on", "2024-06-05", "--amount", "1300")
    assert "1,300.00" in out and may in out
    assert json.loads(ok(cli, "invoice", "show", may, "--json"))["outstanding"] == "77800.00"
    assert "10,000.00" in ok(
        cli, "credit", "refund", "acme", "--on", "2024-06-06", "--reference", "bank 9"
    )
    code, _, err = cli("credit", "refund", "acme", "--on", "2024-06-07")
    assert code == 1 and "credit.no_balance" in err
    uses = json.loads(ok(cli, "credit", "list", "--json"))
    assert [(u["kind"], u["amount"]) for u in uses] == [
        ("applied", "1300.00"),
        ("refund", "10000.00"),
    ]
    rec = json.loads(ok(cli, "invoice", "reconcile", "2024-06", "--json"))
    assert (rec["refunded"], rec["credit_balance_end"]) == ("10000.00", "0.00")
    assert rec["receivables_end"] == "77800.00"
