"""Pure parts of the dashboard: the occupancy replay, alerts, and reading simulation results."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from suanli.core.fleet import ServerState as S
from suanli.core.fleet import Transition
from suanli.web import views
from suanli.web.simulation import load_results, read_result


def _t(i: int, serial: str, day: int, to: S, hour: int = 12) -> Transition:
    return Transition(i, serial, None, to, "t", "r", datetime(2025, 1, day, hour, tzinfo=UTC), None)


def test_occupancy_trend_replays_transitions_day_by_day() -> None:
    history = [
        _t(1, "a", 1, S.AVAILABLE),
        _t(2, "b", 1, S.AVAILABLE),
        _t(3, "a", 2, S.LEASED),
        _t(4, "b", 3, S.CLOUD_POOL, hour=23),
        _t(5, "a", 4, S.FAILED),
        _t(6, "c", 4, S.BURN_IN),  # racked, not yet sellable
    ]
    points = views.occupancy_trend(list(reversed(history)), date(2025, 1, 4), 5)
    assert [p.day.day for p in points] == [31, 1, 2, 3, 4]
    assert [(p.sold, p.sellable) for p in points] == [(0, 0), (0, 2), (1, 2), (2, 2), (1, 2)]
    assert points[0].occupancy is None and points[2].occupancy == 0.5


def test_below_breakeven_alert_only_under_the_line() -> None:
    cap = views.Capacity(1, 8, 1.0, 0.5)
    base = dict(installed=cap, on_order=cap, by_state={}, sold=1, sellable=2, trend=[], overdue=[])
    low = views.Overview(occupancy=0.5, breakeven_occupancy=0.57, **base)  # type: ignore[arg-type]
    high = views.Overview(occupancy=0.6, breakeven_occupancy=0.57, **base)  # type: ignore[arg-type]
    assert [a.kind for a in views.alerts(low)] == ["below_breakeven"]
    assert views.alerts(high) == []


def test_reads_placement_and_generic_result_files(tmp_path: Path) -> None:
    (tmp_path / "a-placement.json").write_text(
        json.dumps(
            {
                "x": [0, 50, 100],
                "policies": {
                    "fgd": {
                        "median": {"alloc": {"0": 0, "50": 50, "100": 90}, "frag_amount": [0, 1, 2]}
                    },
                    "random": {"median": {"alloc": [0, 48, None]}},
                },
            }
        )
    )
    (tmp_path / "b-jobs.json").write_text(
        json.dumps(
            {
                "charts": [
                    {
                        "title": "JCT",
                        "x_label": "load",
                        "y_label": "h",
                        "series": [{"name": "fifo", "x": [1, 2], "y": [3, 4]}],
                    }
                ]
            }
        )
    )
    (tmp_path / "c-other.json").write_text(json.dumps({"hello": 1}))
    (tmp_path / "d-broken.json").write_text("{not json")
    (tmp_path / "e-bad-series.json").write_text(json.dumps({"series": [{"name": "x"}]}))
    results = load_results(tmp_path)
    assert [r.kind for r in results] == [
        "placement",
        "curves",
        "unrecognised",
        "unreadable",
        "unreadable",
    ]
    alloc, frag = results[0].charts
    assert [name for name, _, _ in alloc.series] == ["fgd", "random"]
    assert alloc.series[0][1] == [0.0, 50.0, 100.0] and alloc.series[0][2] == [0.0, 50.0, 90.0]
    assert alloc.series[1][2] == [0.0, 48.0, None]
    assert [name for name, _, _ in frag.series] == ["fgd"]
    assert results[1].charts[0].title == "JCT"
    assert load_results(tmp_path / "missing") == []
    assert read_result(tmp_path / "nope.json").kind == "unreadable"


def test_reads_job_simulator_run_and_sweep_files(tmp_path: Path) -> None:
    run = {
        "trace": "file",
        "policy": "fifo",
        "overall": {
            "jobs": 3,
            "avg_jct": 7200.0,
            "p99_jct": 9000.0,
            "utilization": 0.5,
            "revenue_cny": {},
        },
        "allocation": {"cluster": {"t": [0.0, 3600.0, 7200.0], "gpus": [0.0, 8.0, 4.0]}},
    }
    sweep = {
        "loads": [1, 2],
        "runs": [
            {"policy": "fifo", "load": 2, "overall": {"avg_jct": 7200.0}},
            {"policy": "fifo", "load": 1, "overall": {"avg_jct": 3600.0}},
            {"policy": "las", "load": 1, "overall": {"avg_jct": 1800.0}},
        ],
    }
    (tmp_path / "run.json").write_text(json.dumps(run))
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    r, s = load_results(tmp_path)
    assert r.kind == "job_run" and r.figures == {  # units, never e-notation
        "jobs": "3",
        "avg JCT": "2.00 h",
        "P99 JCT": "2.50 h",
        "utilization": "50.0 %",
    }
    assert r.charts[0].series[0][1] == [0.0, 1.0, 2.0] and r.charts[0].series[0][2] == [
        0.0,
        8.0,
        4.0,
    ]
    assert s.kind == "job_sweep"
    fifo, las = s.charts[0].series
    assert fifo == ("fifo", [1.0, 2.0], [1.0, 2.0]) and las == ("las", [1.0], [0.5])
