"""Day model: the issue's deepseek-day acceptance figures and the twin hook."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest

from suanli.cli.main import main
from suanli.core.errors import ValidationError
from suanli.inference.day import DEEPSEEK_DAY, scenario, serve_day

JSON_KEYS = (
    "theoretical_revenue_usd",
    "avg_inference_nodes",
    "peak_inference_nodes",
    "cost_usd",
    "valley_node_hours",
)


def test_deepseek_day_reproduces_published_figures() -> None:
    # Golden, source: deepseek-ai/open-infra-index day_6 (2025-03-01). Tolerances are the
    # issue's acceptance: revenue 1 %, average nodes 3 %, peak 10 % (own autoscaler), cost 3 %.
    res = serve_day(*scenario("deepseek-day"))
    assert float(res.theoretical_revenue_usd) == pytest.approx(562_027, rel=0.01)
    assert res.avg_inference_nodes == pytest.approx(226.75, rel=0.03)
    assert res.peak_inference_nodes == pytest.approx(278, rel=0.10)
    assert float(res.cost_usd) == pytest.approx(87_072, rel=0.03)
    # Revenue is exact Decimal arithmetic: 342 B x 0.14 + 266 B x 0.55 + 168 B x 2.19 per M.
    assert res.theoretical_revenue_usd == Decimal("562100.00")
    # Cost is node-hours x 8 GPUs x $2, to the cent; valley = node-hours below the peak.
    assert res.cost_usd == Decimal(res.node_hours * 16)
    assert res.valley_node_hours == 24 * res.peak_inference_nodes - res.node_hours
    assert res.valley_node_hours > 1000  # the night trough is ~5x below the peak


def test_hook_takes_any_profile_and_scales_with_it() -> None:
    flat = serve_day([1.0] * 24, DEEPSEEK_DAY)
    assert flat.valley_node_hours == 0
    assert flat.peak_inference_nodes == max(flat.hourly_nodes) == min(flat.hourly_nodes)
    # Same daily tokens, so the same revenue; a flat day needs no more node-hours than a peaky one.
    peaky = serve_day(*scenario("deepseek-day"))
    assert flat.theoretical_revenue_usd == peaky.theoretical_revenue_usd
    assert flat.node_hours <= peaky.node_hours
    # A lower target utilisation provisions more nodes; a fleet cap bounds the peak.
    loose = serve_day(
        scenario("deepseek-day")[0], dataclasses.replace(DEEPSEEK_DAY, target_util=0.8)
    )
    assert loose.peak_inference_nodes > peaky.peak_inference_nodes
    capped = serve_day(
        scenario("deepseek-day")[0], dataclasses.replace(DEEPSEEK_DAY, max_nodes=278)
    )
    assert capped.peak_inference_nodes == 278


def test_bad_profile_and_inputs_raise_coded_errors() -> None:
    with pytest.raises(ValidationError) as e:
        serve_day([1.0] * 23, DEEPSEEK_DAY)
    assert e.value.code == "day.bad_profile"
    with pytest.raises(ValidationError) as t:
        dataclasses.replace(DEEPSEEK_DAY, cache_hit_tokens=DEEPSEEK_DAY.input_tokens + 1)
    assert t.value.code == "day.bad_tokens"
    with pytest.raises(ValidationError) as s:
        scenario("nope")
    assert s.value.code == "day.unknown_scenario"


def test_cli_day_json_keys(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    main(["infer", "day", "deepseek-day", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert all(k in out for k in JSON_KEYS)
    assert Decimal(out["theoretical_revenue_usd"]) == Decimal("562100.00")
    own = tmp_path / "profile.txt"
    own.write_text(" ".join(["1"] * 12 + ["3"] * 12))
    main(["infer", "day", "deepseek-day", "--profile", str(own), "--json"])
    mine = json.loads(capsys.readouterr().out)
    assert mine["valley_node_hours"] > 0 and mine["hourly_nodes"][0] < mine["hourly_nodes"][23]
