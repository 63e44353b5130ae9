"""`suanli infer plan`: JSON, cost arithmetic, valley, price check, chart, coded errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suanli.cli.main import main
from suanli.core.errors import ValidationError
from suanli.simulation.inference.planning import parse_slo


def _plan(capsys: pytest.CaptureFixture[str], extra: list[str]) -> dict[str, object]:
    main(["infer", "plan", "--model", "llama-3.1-70b", "--peak-rps", "12", "--json", *extra])
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, dict)
    return out


def test_plan_compares_skus_and_accounts_cost(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = tmp_path / "cap.png"
    out = _plan(
        capsys,
        [
            "--gpu",
            "H800-SXM",
            "--gpu",
            "A800-SXM",
            "--price-input",
            "0.8",
            "--price-output",
            "2",
            "--chart",
            str(png),
        ],
    )
    plans = out["plans"]
    assert isinstance(plans, list) and {p["gpu"] for p in plans} == {"H800-SXM", "A800-SXM"}
    costs = [p["cost_per_day_cny"] for p in plans]
    assert costs == sorted(costs)  # cheapest first
    for p in plans:
        hourly = p["hourly_replicas"]
        assert len(hourly) == 24
        assert p["gpu_hours_per_day"] == sum(hourly) * p["gpus_per_replica"]
        assert p["cost_per_day_cny"] == pytest.approx(
            p["gpu_hours_per_day"] * p["gpu_hour_price_cny"]
        )
        # DeepSeek-shaped day: the 04:00 trough needs fewer replicas than the 15:00 peak.
        assert hourly[4] < hourly[15]
        assert p["valley_node_hours"] == pytest.approx(
            sum(max(hourly) - h for h in hourly) * p["gpus_per_replica"] / 8
        )
        covers = p["cost_per_m_input_cny"] <= 0.8 and p["cost_per_m_output_cny"] <= 2
        assert p["price_covers_cost"] is covers
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_parse_slo_units_and_errors() -> None:
    slo = parse_slo("ttft_p99=2s,tpot_p99=100ms")
    assert (slo.ttft_p99_s, slo.tpot_p99_s) == (2.0, 0.1)
    with pytest.raises(ValidationError) as e:
        parse_slo("ttft_p99=fast")
    assert e.value.code == "slo.bad_spec"


def test_unknown_model_exits_with_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["infer", "plan", "--model", "gpt-9"])
    assert "inference.unknown_model" in capsys.readouterr().err
