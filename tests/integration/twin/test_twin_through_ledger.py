"""`suanli twin run --through-ledger`: the bundled ledger-check twin replayed through the real
services (leases, renewals, failures and repairs at their dates, the invoice run per month)
gives invoices equal to the twin's bills to the cent, per customer and month (both engines)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from suanli.cli.main import main
from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.services.twin_replay import ReplayResult, compare, replay, replay_start
from suanli.simulation.twin.leasebook import simulate_book
from suanli.simulation.twin.library import load_twin


@pytest.fixture(scope="module")
def twin_bills() -> dict[tuple[str, str], Decimal]:
    return simulate_book(load_twin("ledger-check"), 0).bills


def _replay(engine: Engine) -> ReplayResult:
    sc = load_twin("ledger-check")
    clock = SimClock(replay_start(sc))
    return replay(build_services(engine, clock, "CNY"), clock, sc, seed=0)


def test_invoices_equal_the_twin_to_the_cent(
    engine: Engine, twin_bills: dict[tuple[str, str], Decimal]
) -> None:
    result = _replay(engine)
    assert result.passed, [r for r in result.differences]
    months = simulate_book(load_twin("ledger-check"), 0).months[1:]
    pool = {("pool", m.period): m.pool.revenue for m in months}
    assert len(result.rows) == len(twin_bills) + 6 == 44  # every customer-month, the pool's
    assert {(r.customer, r.period): r.ledger for r in result.rows} == twin_bills | pool
    assert result.ledger_total == result.twin_total == sum(twin_bills.values()) + sum(pool.values())
    # the book exercised what can disagree: SLA credits in every month, renewals, pool jobs
    assert all(m.sla_credits < 0 and m.pool.jobs > 0 for m in months)
    assert sum(m.renewed for m in months) > 0
    assert result.contracts == 11 and result.failures > 50


def test_a_perturbed_twin_bill_is_a_difference(
    engine: Engine, twin_bills: dict[tuple[str, str], Decimal]
) -> None:
    rows = _replay(engine).rows
    ledger = {(r.customer, r.period): r.ledger for r in rows}
    twin = {(r.customer, r.period): r.twin for r in rows}
    assert twin_bills.items() <= twin.items()
    perturbed = dict(twin)
    perturbed[("anchor", "2024-03")] += Decimal("0.01")
    missing = dict(twin)
    del missing[("c00001", "2024-05")]
    rows = compare(perturbed, ledger)
    diff = [(r.customer, r.period, r.difference) for r in rows if r.difference]
    assert diff == [("anchor", "2024-03", Decimal("-0.01"))]
    rows = compare(missing, ledger)  # a month the twin did not bill is a difference too
    assert [(r.customer, r.period, r.twin) for r in rows if r.difference] == [
        ("c00001", "2024-05", Decimal(0))
    ]
    result = ReplayResult(
        "ledger-check", 0, compare(perturbed, ledger), 0, 0, Decimal(0), Decimal(0)
    )
    assert not result.passed and result.to_json()["differences"] == 1


def test_cli_prints_the_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    main(["twin", "run", "ledger-check", "--through-ledger", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["passed"] is True and out["compared"] == 44 and out["differences"] == 0
    assert out["rows"][0] == {
        "customer": "anchor",
        "period": "2024-02",
        "twin": "311671.40",
        "ledger": "311671.40",
        "difference": "0.00",
    }
