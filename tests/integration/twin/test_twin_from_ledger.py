"""`suanli twin run --from-ledger`: today's fleet, leases in force and list prices seed a twin
(both engines)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from suanli.cli.main import main
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState as S
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.container import Services, build_services
from suanli.services.fleet.servers import NewServer
from suanli.services.twin_seed import ledger_overrides, remaining_months
from suanli.simulation.twin.library import load_twin


def _center(engine: Engine, clock: SimClock) -> Services:
    """5 racked H800 (2.0 M and 2.2 M), 1 still on order; acme leases 3 from 2024-03-15 for
    12 months at 100,000.00 net; a lease that ended in February; GPU-hour list prices."""
    svc = build_services(engine, clock, "CNY")
    svc.fleet.add_site("BJ1", "Beijing 1")
    svc.fleet.add_cabinet("BJ1", "A01", "100000")
    for i in range(5):
        serial = f"SN{i:03d}"
        price = "2000000" if i < 3 else "2200000"
        svc.fleet.add_server(NewServer(serial, "HGX-H800-8", price, state=S.DELIVERED), "ops")
        svc.fleet.transition(serial, S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
        svc.fleet.transition(serial, S.AVAILABLE, "ops", "burn-in passed")
    svc.fleet.add_server(NewServer("SN999", "HGX-H800-8", "2100000"), "ops")  # ordered
    t = svc.money.tenancy
    t.create_customer("acme", "Acme AI", "billing@acme.example", 30)
    t.create_customer("old", "Old Co", "billing@old.example", 30)
    m = svc.money
    m.leasing.create_lease(
        LeaseSpec("old", "HGX-H800-8", "90000", date(2023, 11, 1), 3, count=1), "ops"
    )
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", date(2024, 3, 15), 12, count=3), "ops"
    )
    m.metering.set_price("HGX-H800-8", "standard", "12.50", date(2024, 1, 1))
    m.metering.set_price("HGX-H800-8", "standard", "11.00", date(2024, 6, 1))  # not yet
    m.metering.set_price("HGX-H800-8", "spot", "6.00", date(2024, 1, 1))
    return svc


def test_remaining_whole_months_round_up() -> None:
    assert remaining_months(date(2025, 3, 15), date(2024, 5, 1)) == 11
    assert remaining_months(date(2024, 6, 1), date(2024, 5, 1)) == 1
    assert remaining_months(date(2024, 5, 1), date(2024, 5, 1)) == 0


def test_overrides_carry_fleet_contracts_and_prices(engine: Engine, clock: SimClock) -> None:
    svc = _center(engine, clock)
    sc = load_twin("long-contracts")
    got = ledger_overrides(svc, sc, date(2024, 4, 20))
    assert got["fleet"] == {
        "count": 5,
        "delivery": [{"month": 0, "count": 5}],
        "unit_price": 2080000.0,  # (3 × 2.0 M + 2 × 2.2 M) / 5
    }
    assert got["twin"]["start"] == "2024-04"
    # 2024-05-01 .. 2025-03-15: 10 whole months and a part; the lease that ended is left out
    assert got["twin"]["book"] == [
        {
            "start_month": 1,
            "servers": 3,
            "term_months": 11,
            "rent_per_server_month": 113000.0,  # 100,000.00 net + 13 % VAT, as the scenario quotes
            "customer": "acme",
        }
    ]
    assert got["twin"]["pool"] == {
        "standard_per_gpu_hour": 13.25,  # 12.50 + 6 %; the June price is not in force yet
        "spot_per_gpu_hour": 6.36,
    }


def test_cli_runs_the_seeded_twin(
    engine: Engine, clock: SimClock, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    _center(engine, clock)
    monkeypatch.setenv("SUANLI_DATABASE_URL", db_url)
    main(
        [
            "twin", "run", "long-contracts", "--from-ledger", "--date", "2024-04-20", "--json",
            "--set", "horizon_months=12", "--set", "twin.leases.arrival_rate_per_month=0",
        ]
    )  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    months = out["monthly"]
    assert months[0]["period"] == "2024-04"
    assert [m["leased_servers"] for m in months[1:]] == [3] * 11 + [0]
    assert {m["active_servers"] for m in months[1:]} == {5}
    # acme's bill: 3 servers × 100,000.00 a month, before SLA credits
    assert Decimal(months[1]["rent"]) == Decimal("300000.00")
