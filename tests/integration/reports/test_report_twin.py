"""The operating report's digital-twin section (section 9), on SQLite and PostgreSQL.

A small centre: 5 H800 racked on 2024-04-01 (3 at 2.0 M, 2 at 2.2 M), one A800 beside them, and
acme leasing 3 H800 from 2024-03-15 for 12 months at 100,000.00 net. The report of April 2024
seeds one twin per SKU as the ledger stood on 2024-04-30, so

- its numbers equal direct runs of the bundled twin for each SKU, seeded by ``twin run
  --from-ledger``'s rule on the same day plus the report's per-SKU rule worked by hand
  (:data:`BY_SKU`), with the report's horizon, paths and seed, added path by path here;
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
from suanli.services.twin_seed import read_seed, seed_overrides
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


#: each SKU's twin as the report's rule makes it, worked by hand: the CLI's seeding rule plus
#: the SKU, its share of the fixed costs (5 and 1 of 6 servers), the scenario's 12 requests a
#: month per 100 servers (no SKU has 3 leases to calibrate from) and its rent: H800 its lease's
#: 100,000.00 net = 113,000.00 quoted with VAT; A800 has no lease, so the scenario's 100,000
#: scaled by purchase price 1,150,000 / 2,100,000 = 54,761.90
BY_SKU = (("HGX-H800-8", 5, 113000.0), ("HGX-A800-8", 1, 54761.90))


def _direct_runs(svc: Services) -> list[Any]:
    base = load_twin(report_twin.TWIN_SCENARIO)
    runs = []
    for sku, n, rent in BY_SKU:
        seeded = seed_overrides(read_seed(svc, sku, LAST_DAY), base)
        extra = {
            "horizon_months": report_twin.HORIZON_MONTHS, "fleet": {"sku": sku},
            "opex": {"staff_per_month": 125_000 * n / 6, "bandwidth_per_month": 10_000 * n / 6},
            "twin": {"leases": {"arrival_rate_per_month": 12 * n / 100}},
            "form": {"rent_per_server_month": rent},
        }  # fmt: skip
        sc = load_twin(report_twin.TWIN_SCENARIO, merge(seeded, extra))
        runs.append(run_twin(sc, seed=report_twin.SEED, paths=report_twin.PATHS))
    return runs


def _direct(svc: Services) -> dict[str, str]:
    """The report's twin figures rebuilt from direct runs, added path by path here."""
    runs = _direct_runs(svc)
    occ, revenue, net, npv = [], [], [], []
    for paths in zip(*(r.paths for r in runs), strict=True):
        months = range(1, 13)
        occupied = [
            sum(p.book.months[t].occupancy * p.book.months[t].active_servers for p in paths)
            for t in months
        ]
        active = [sum(p.book.months[t].active_servers for p in paths) for t in months]
        occ.append(sum(o / a for o, a in zip(occupied, active, strict=True)) / 12)
        revenue.append(sum((p.book.months[t].billed for p in paths for t in months), Decimal(0)))
        net.append(sum(p.metrics.total_net_income for p in paths))
        npv.append(sum(p.metrics.npv for p in paths))
    revenue.sort()
    mean = sum(revenue, Decimal(0)) / len(revenue)
    p5 = revenue[max(0, -(-len(revenue) * 5 // 100) - 1)]  # nearest rank
    return {
        "twin.twin_servers": "6",
        "twin.twin_occupancy_ahead": f"{100 * sum(occ) / len(occ):.1f}",
        "twin.p_loss": f"{100 * sum(v < 0 for v in net) / len(net):.1f}",
        "twin.twin_p_npv_negative": f"{100 * sum(v < 0 for v in npv) / len(npv):.1f}",
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
    sentences = done.report.section("twin").sentences
    assert [m.key for m in sentences] == [
        "twin.basis", "twin.renewal_scenario", "twin.wtp_scenario",  # H800 (most servers)
        "twin.basis", "twin.renewal_scenario", "twin.wtp_scenario",  # A800
        "twin.combined", "twin.occupancy", "twin.loss", "twin.payback", "twin.revenue",
    ]  # fmt: skip
    h800, a800 = sentences[0].params, sentences[3].params
    assert (h800["sku"], h800["servers"], h800["leased"], h800["start"]) == (
        "HGX-H800-8", "5", "3", "2024-05")  # fmt: skip
    assert (a800["sku"], a800["servers"], a800["market_rent"]) == ("HGX-A800-8", "1", "54761.90")
    assert h800["market_rent"] == "113000.00" and h800["arrivals"] == "0.60"
    by_sku = done.report.section("twin").tables[0]
    assert [row[:4] for row in by_sku.rows] == [
        ("HGX-H800-8", "5", "113000.00", "0.60"), ("HGX-A800-8", "1", "54761.90", "0.12"),
    ]  # fmt: skip
    # each figure is in a sentence with its assumptions, in both languages
    for lang in ("en", "zh"):
        text = [sentence(lang, m) for m in sentences]
        assert "fragmented-demand" in text[0] and "19" in text[0] and "36" in text[0]
        assert "HGX-A800-8" in text[3] and "HGX-A800-8 (1)" in text[6]
        assert projected["twin.twin_p_npv_negative"] in text[8]
        assert projected["twin.twin_revenue_at_risk"] in text[10] and "3300000.00" in text[10]
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
        assert on["projections"]["twin.twin_servers"] == "6" and off["projections"] == {}
        assert on["figures"] == off["figures"] and on["version"] == off["version"] == 1
        assert [s["key"] for s in on["risk_sentences"] if s["section"] == "twin"][-5:] == [
            "twin.combined", "twin.occupancy", "twin.loss", "twin.payback", "twin.revenue",
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
