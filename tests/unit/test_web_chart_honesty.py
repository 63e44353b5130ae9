"""Honest dashboard charts (issue 16): the view-model data behind them, without a browser.

Distinct colours for many series, purchase-order units in the state counts, margin axes that
widen instead of clipping, a partial last day that is not a utilisation crash, durations with
units, empty charts replaced by a sentence, and a Monte Carlo centred on the form's values.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from suanli.core.errors import ValidationError
from suanli.core.fleet import Server
from suanli.core.fleet import ServerState as S
from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import run_montecarlo
from suanli.economics.scenario import Dist
from suanli.web import econ_draws as draws
from suanli.web import views
from suanli.web.money_pages import aging_chart, customer_colors
from suanli.web.money_views import daily_utilization
from suanli.web.render import TEMPLATES, axis_range, chart, series_colors
from suanli.web.simulation import duration, figure_text, job_run


def test_palette_stays_distinct_for_many_series() -> None:
    for n in (7, 10, 12, 20, 35):
        colors = series_colors(n)
        assert len(colors) == n and len(set(colors)) == n
    codes = [f"customer-{i:02d}" for i in range(13)]
    by_code = customer_colors(reversed(codes))
    assert len(set(by_code.values())) == 13
    assert by_code == customer_colors(codes)  # stable whatever the order of the rows


def _server(serial: str, state: S) -> Server:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return Server(
        id=1, serial=serial, sku="HGX-H800-8", gpu_count=8, nameplate_kw=Decimal("10.2"),
        state=state, site_code=None, cabinet_code=None, supplier=None, po_number=None,
        po_line_no=None, purchase_price=None, currency="CNY", network_group=None,
        created_at=now, updated_at=now,
    )  # fmt: skip


def test_state_counts_include_purchase_order_units() -> None:
    servers = [_server("a", S.LEASED), _server("b", S.AVAILABLE)]
    counts = views.by_state(servers, on_order_units=10, cancelled_units=4)
    assert counts["ordered"] == 10 and counts["cancelled"] == 4
    assert counts["leased"] == 1 and counts["available"] == 1
    assert views.state_href("ordered") == "/procurement#orders"
    assert views.state_href("leased") == "/fleet?state=leased"


def test_margin_axis_widens_instead_of_clipping() -> None:
    assert axis_range([12.0, 30.0], -100, 100, 50) == [-100, 100]
    assert axis_range([-240.0, None, 20.0], -100, 100, 50) == [-250, 100]
    assert axis_range([180.0], -100, 100, 50) == [-100, 200]


def test_partial_last_day_is_not_a_utilisation_crash() -> None:
    now = datetime(2025, 10, 31, 9, 0, tzinfo=UTC)
    midnight = datetime(2025, 10, 31, tzinfo=UTC)
    day = 86_400.0
    spans = [  # the pool fully used yesterday and all of today so far (and booked to midnight)
        (midnight - timedelta(days=1), midnight, 16 * day),
        (midnight, midnight + timedelta(days=1), 16 * day),
    ]
    util = daily_utilization(spans, now, 3, pool_gpus=16)
    assert [d.day for d, _ in util] == [29, 30, 31]
    assert util[0][1] == 0.0 and util[1][1] == pytest.approx(1.0)
    assert util[2][1] == pytest.approx(1.0)  # 9 of 9 hours, not 9 of 24
    assert daily_utilization(spans, now, 1, pool_gpus=0) == [(now.date(), None)]
    # metered through 05:00 only (the demo's last daily record): 5 of 5 hours, not 5 of 9
    early = [*spans[:1], (midnight, midnight + timedelta(hours=5), 16 * 5 * 3600.0)]
    assert daily_utilization(early, now, 2, pool_gpus=16)[1][1] == pytest.approx(1.0)
    # metered through yesterday: today is unknown, not zero
    assert daily_utilization(spans[:1], now, 2, pool_gpus=16)[1] == (now.date(), None)
    assert daily_utilization([], now, 1, pool_gpus=16) == [(now.date(), None)]


def test_durations_have_units_and_long_runs_are_drawn_in_days() -> None:
    assert duration(29.2) == "29 s" and duration(750) == "12.5 min"
    assert duration(20_666.3) == "5.74 h" and duration(6_927_712) == "80.2 d"
    assert figure_text("avg_jct", 20_666.3) == "5.74 h"
    assert figure_text("utilization", 0.3069) == "30.7 %"
    assert figure_text("jobs", 1057) == "1,057"
    month = [float(h * 3600) for h in range(0, 24 * 80, 12)]
    run = job_run("x", {"policy": "fifo", "overall": {"avg_jct": 20_666.3},
                        "allocation": {"pool": {"t": month, "gpus": [1.0] * len(month)}}})  # fmt: skip
    curve = run.charts[0]
    assert curve.x_label == "time since the first arrival (days)"
    assert max(curve.series[0][1]) < 80 and "e+" not in " ".join(run.figures.values())


def test_empty_charts_become_a_sentence() -> None:
    assert chart([{"type": "bar", "x": [], "y": []}], "t", "x", "y") == ""
    assert chart([{"type": "scatter", "x": ["a"], "y": [None]}], "t", "x", "y") == ""
    assert aging_chart({"0-30": Decimal(0), "31-60": Decimal(0)}) == ""
    macro = TEMPLATES.env.get_template("macros.html").module.chart  # type: ignore[attr-defined]
    html = str(macro("chart-aging", "", "Open receivables", empty="No open invoices."))
    assert "No open invoices." in html and "<figure" not in html


def test_axis_options_keep_the_axis_titles() -> None:
    spec = json.loads(chart([{"y": [1]}], "t", "day", "share (%)", yaxis={"range": [0, 100]}))
    assert spec["layout"]["yaxis"] == {
        "title": {"text": "share (%)"},
        "automargin": True,
        "range": [0, 100],
    }  # automargin: long category labels never run into the axis title (390 px screenshots)
    assert spec["layout"]["xaxis"]["title"]["text"] == "day"
    assert spec["layout"]["xaxis"]["automargin"] is True


# --- the economics page's Monte Carlo ----------------------------------------------------------

SCENARIO = "h800-bare-metal-2p1m"


def test_monte_carlo_is_centred_on_the_form() -> None:
    base = load_bundled(SCENARIO)
    scenario = with_overrides(base, {"form.occupancy": 0.55, "form.price_decline_annual": 0.2})
    spec = draws.spec_for(scenario, draws.defaults(base))
    occ, dec = spec.occupancy, spec.price_decline_annual
    assert occ is not None and dec is not None
    # the bundled triangular(0.3, 0.7, 0.9) keeps its spread around the form's 0.55
    assert (occ.dist, occ.low, occ.mode, occ.high) == ("triangular", 0.15, 0.55, 0.75)
    # the bundled uniform(0, 0.35) keeps its width around the form's 0.2
    assert dec.dist == "uniform" and dec.low == pytest.approx(0.025) and dec.high == 0.375
    high = draws.spec_for(with_overrides(base, {"form.occupancy": 0.9}), draws.defaults(base))
    assert high.occupancy is not None and high.occupancy.high == 0.95  # cut at the ceiling


def test_without_spread_every_path_is_the_deterministic_scenario() -> None:
    base = load_bundled(SCENARIO)
    scenario = with_overrides(base, {"form.occupancy": 0.6, "form.price_decline_annual": 0.1})
    none = draws.parse_draws(
        draws.defaults(base),
        {"mc_occ_below": "0", "mc_occ_above": "0", "mc_dec_below": "0", "mc_dec_above": "0",
         "mc_shortfall": "none", "mc_bad_debt": "none", "mc_shock_size": "none",
         "mc_shock_probability": "0"},
    )  # fmt: skip
    mc = run_montecarlo(draws.with_draws(scenario, none), 64, 1).summary()
    ev = evaluate(scenario, "npv")
    assert mc["npv"]["p10"] == pytest.approx(ev.npv) and mc["npv"]["p90"] == pytest.approx(ev.npv)
    assert mc["probability_of_loss"] == (1.0 if ev.total_net_income < 0 else 0.0)


def test_distributions_are_edited_as_text_and_checked() -> None:
    base = draws.defaults(load_bundled(SCENARIO))
    assert base.texts["mc_bad_debt"] == "uniform(0, 0.05)"
    assert (base.occupancy.below, base.occupancy.above) == (0.4, 0.2)  # no float noise
    edited = draws.parse_draws(base, {"mc_bad_debt": "triangular(0, 0.02, 0.1)"})
    assert draws.parse_dist(edited.texts["mc_bad_debt"], "mc_bad_debt") == Dist(
        dist="triangular", low=0.0, mode=0.02, high=0.1
    )
    assert draws.parse_dist("normal(0.1, 0.02)", "f") == Dist(dist="normal", mean=0.1, sd=0.02)
    for bad in ("uniform(0.5, 0.1)", "beta(1, 2)", "uniform(a, b)", "triangular(0, 1)"):
        with pytest.raises(ValidationError) as info:
            draws.parse_draws(base, {"mc_bad_debt": bad})
        assert "mc_bad_debt" in info.value.fields
    with pytest.raises(ValidationError):
        draws.parse_draws(base, {"mc_occ_below": "2"})
