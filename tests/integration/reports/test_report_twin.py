"""The operating report's digital-twin section (section 9), on SQLite and PostgreSQL.

A small centre: 5 H800 racked on 2024-04-01 (3 at 2.0 M, 2 at 2.2 M), one A800 beside them, and
acme leasing 3 H800 from 2024-03-15 for 12 months at 100,000.00 net. The report of April 2024
seeds the twin as the ledger stood on 2024-04-30, so

- its numbers equal a direct run of the bundled twin seeded by ``twin run --from-ledger``'s rule
  on the same day, with the report's horizon, paths and seed;
- the contracted rent over the next 12 months is worked by hand: 3 servers × 100,000.00 × 11
  months (2024-05-01 .. 2025-03-15, the part month rounded up) = 3,300,000.00;
- it is a projection: never archived, so turning it off or on is not a restatement, and
  activity after the period (a renewal agreed later, a server added later) leaves the page of the
  closed month byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from suanli.api.app import create_app
from suanli.cli.main import main
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState as S
from suanli.economics.loader import merge
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.container import Services, build_services
from suanli.services.fleet.servers import NewServer
from suanli.services.reports import twin as report_twin
from suanli.services.reports.i18n import sentence
from suanli.services.reports.operating import ReportService
from suanli.services.reports.render import to_html
from suanli.services.twin_seed import ledger_overrides
from suanli.settings import load_settings
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.run import run_twin

PERIOD = "2024-04"
LAST_DAY = date(2024, 4, 30)
AFTER = datetime(2024, 5, 10, 9, 0, tzinfo=UTC)


def _rack(svc: Services, serial: str, sku: str, price: str) -> None:
    svc.fleet.add_server(NewServer(serial, sku, price, state=S.DELIVERED), "ops")
    svc.fleet.transition(serial, S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
    svc.fleet.transition(serial, S.AVAILABLE, "ops", "burn-in passed")


@pytest.fixture
def centre(engine: Engine) -> Iterator[tuple[Services, SimClock]]:
    clock = SimClock(datetime(2024, 4, 1, 9, 0, tzinfo=UTC))
    svc = build_services(engine, clock, "CNY")
    svc.fleet.add_site("BJ1", "Beijing 1")
    svc.fleet.add_cabinet("BJ1", "A01", "100000")
    for i in range(5):
        _rack(svc, f"SN{i:03d}", "HGX-H800-8", "2000000" if i < 3 else "2200000")
    _rack(svc, "SNA00", "HGX-A800-8", "1150000")
    svc.money.tenancy.create_customer("acme", "Acme AI", "billing@acme.example", 30)
    svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", date(2024, 3, 15), 12, count=3), "ops"
    )
    clock.set(AFTER)  # April is closed
    yield svc, clock


def _direct(svc: Services) -> dict[str, str]:
    """The report's twin figures rebuilt from a direct run (the CLI's seeding rule, today)."""
    base = load_twin(report_twin.TWIN_SCENARIO)
    seeded = ledger_overrides(svc, base, LAST_DAY)
    sc = load_twin(
        report_twin.TWIN_SCENARIO,
        merge(seeded, {"horizon_months": report_twin.HORIZON_MONTHS}),
    )
    run = run_twin(sc, seed=report_twin.SEED, paths=report_twin.PATHS)
    ahead = [p.book.months[1:13] for p in run.paths]
    occ = [sum(m.occupancy for m in ms) / 12 for ms in ahead]
    revenue = sorted(sum((m.billed for m in ms), Decimal(0)) for ms in ahead)
    mean = sum(revenue, Decimal(0)) / len(revenue)
    p5 = revenue[max(0, -(-len(revenue) * 5 // 100) - 1)]  # nearest rank
    summary = run.summary()
    return {
        "twin.twin_servers": "5",
        "twin.twin_occupancy_ahead": f"{100 * sum(occ) / len(occ):.1f}",
        "twin.p_loss": f"{100 * summary['probability_of_loss']:.1f}",
        "twin.twin_p_npv_negative": f"{100 * summary['probability_npv_negative']:.1f}",
        "twin.twin_revenue_ahead_mean": str(mean.quantize(Decimal("0.01"))),
        "twin.twin_revenue_ahead_p5": str(p5.quantize(Decimal("0.01"))),
        "twin.twin_revenue_at_risk": str((mean - p5).quantize(Decimal("0.01"))),
    }


def test_section_matches_a_direct_twin_run(centre: tuple[Services, SimClock]) -> None:
    svc, clock = centre
    done = ReportService(svc.sessions, clock, svc.catalog).generate(PERIOD, "t")
    projected = done.report.projections()
    for key, value in _direct(svc).items():
        assert projected[key] == value, key
    assert projected["twin.twin_revenue_contracted"] == "3300000.00"  # 3 × 100,000.00 × 11
    basis = done.report.section("twin").sentences[0]
    assert basis.params["servers"] == "5" and basis.params["other_servers"] == "1"
    assert basis.params["leased"] == "3" and basis.params["start"] == "2024-05"
    # each figure is in a sentence with its assumptions, in both languages
    for lang in ("en", "zh"):
        text = [sentence(lang, m) for m in done.report.section("twin").sentences]
        assert "fragmented-demand" in text[0] and "19" in text[0] and "36" in text[0]
        assert projected["twin.twin_p_npv_negative"] in text[2]
        assert projected["twin.twin_revenue_at_risk"] in text[4] and "3300000.00" in text[4]
    # never archived: the figures and the page's digest are the ledger's alone
    assert not any(k.startswith("twin.") for k in done.archived.figures)


def test_no_twin_omits_the_section_and_is_no_restatement(
    centre: tuple[Services, SimClock],
) -> None:
    svc, clock = centre
    reports = ReportService(svc.sessions, clock, svc.catalog)
    on, off = reports.generate(PERIOD, "t"), reports.generate(PERIOD, "t", twin=False)
    assert [s.key for s in off.report.sections][-1] == "risks" and not off.report.projections()
    assert on.archived == off.archived and off.archived.version == 1
    assert 'id="twin"' in to_html(on.report, on.archived, "en")
    assert 'id="twin"' not in to_html(off.report, off.archived, "en")
    # before any server was installed the section is left out even when asked for
    march = reports.generate("2024-03", "t")
    assert "twin" not in [s.key for s in march.report.sections]


def test_closed_period_page_is_byte_identical(centre: tuple[Services, SimClock]) -> None:
    svc, clock = centre
    reports = ReportService(svc.sessions, clock, svc.catalog)
    first = reports.generate(PERIOD, "t")
    pages = {lang: to_html(first.report, first.archived, lang) for lang in ("zh", "en")}
    # activity after the period: a renewal agreed in May, a server racked in May
    lease = svc.money.leasing.list_contracts(customer="acme", kind="lease").items[0].number
    svc.money.leasing.renew(lease, 6, "t", AFTER.date())
    _rack(svc, "SN900", "HGX-H800-8", "2800000")
    again = reports.generate(PERIOD, "t")
    assert again.archived.version == 1
    for lang, page in pages.items():
        assert to_html(again.report, again.archived, lang) == page


def test_api_twin_param(engine: Engine, db_url: str, bearer: Any,
                        centre: tuple[Services, SimClock]) -> None:  # fmt: skip
    _, clock = centre
    app = create_app(load_settings(database_url=db_url), clock=clock)
    h = bearer(app, "fin19t", "finance")
    url = "/api/v1/reports/operating"
    with TestClient(app) as client:
        on = client.get(url, params={"period": PERIOD}, headers=h).json()
        off = client.get(url, params={"period": PERIOD, "twin": "false"}, headers=h).json()
        assert on["projections"]["twin.twin_servers"] == "5" and off["projections"] == {}
        assert on["figures"] == off["figures"] and on["version"] == off["version"] == 1
        assert [s["key"] for s in on["risk_sentences"] if s["section"] == "twin"] == [
            "twin.basis", "twin.occupancy", "twin.loss", "twin.payback", "twin.revenue",
        ]  # fmt: skip
        page = client.get(url, params={"period": PERIOD, "format": "html", "twin": "false"},
                          headers=h)  # fmt: skip
        assert page.status_code == 200 and 'id="twin"' not in page.text


def test_cli_no_twin(
    centre: tuple[Services, SimClock], db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("SUANLI_DATABASE_URL", db_url)
    main(["report", "operating", "--period", PERIOD, "--no-twin", "--json", "--by", "t"])
    assert json.loads(capsys.readouterr().out)["projections"] == {}
    main(["report", "operating", "--period", PERIOD, "--json", "--by", "t"])
    out = json.loads(capsys.readouterr().out)
    assert out["projections"]["twin.twin_revenue_contracted"] == "3300000.00"
