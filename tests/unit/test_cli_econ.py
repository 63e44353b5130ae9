"""`suanli econ`: JSON keys, tables, charts, bundled names and files, coded errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suanli.cli.main import main
from suanli.economics.library import scenario_text

REQUIRED = (
    "npv",
    "irr_annual",
    "static_payback_months",
    "dynamic_payback_months",
    "gross_margin",
    "net_margin",
    "breakeven_occupancy",
    "breakeven_rent",
)


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    main(argv)
    return json.loads(capsys.readouterr().out)


def test_evaluate_json_keys_and_chart(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "cash.png"
    out = _json(capsys, ["econ", "evaluate", "h800-bare-metal-2p1m", "--json", "--chart", str(png)])
    assert isinstance(out, dict)
    assert all(k in out for k in REQUIRED)
    assert out["npv"] > 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_nulls_when_never_paying_back(capsys: pytest.CaptureFixture[str]) -> None:
    # 70k rent (reference section 3 row): never pays back, even with the input VAT credit.
    args = ["econ", "evaluate", "h800-bare-metal-rent75k", "--json"]
    out = _json(capsys, [*args, "--set", "form.rent_per_server_month=70000"])
    assert isinstance(out, dict)
    assert out["static_payback_months"] is None and out["breakeven_occupancy"] is None


def test_evaluate_file_and_set_override(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(scenario_text("h800-bare-metal-2p1m"), encoding="utf-8")
    base = _json(capsys, ["econ", "evaluate", str(f), "--json"])
    lower = _json(capsys, ["econ", "evaluate", str(f), "--json", "--set", "form.occupancy=0.6"])
    assert isinstance(base, dict) and isinstance(lower, dict)
    assert lower["npv"] < base["npv"]


def test_evaluate_yaml_file_inheriting_bundled(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("base: h800-bare-metal-2p1m\nname: mine\nfleet:\n  unit_price: 2800000\n")
    out = _json(capsys, ["econ", "evaluate", str(f), "--json"])
    dear = _json(capsys, ["econ", "evaluate", "h800-bare-metal-2p8m", "--json"])
    assert isinstance(out, dict) and isinstance(dear, dict)
    assert out["npv"] == pytest.approx(dear["npv"])


def test_evaluate_table_prints_months(capsys: pytest.CaptureFixture[str]) -> None:
    main(["econ", "evaluate", "tianfeng-h100-70k", "--table"])
    text = capsys.readouterr().out
    assert "Monthly cash flows" in text and "discounted_cumulative" in text


def test_bad_scenario_exits_with_code_and_field(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["econ", "evaluate", "h800-bare-metal-2p1m", "--set", "form.occupancy=1.5"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "scenario.invalid" in err and "form.occupancy" in err


def test_unknown_scenario_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["econ", "evaluate", "no-such-scenario"])
    assert "scenario.unknown" in capsys.readouterr().err


def test_breakeven_and_compare(capsys: pytest.CaptureFixture[str]) -> None:
    out = _json(capsys, ["econ", "breakeven", "soe-rule-h800-120k", "--json"])
    assert isinstance(out, dict)
    crit = {row["criterion"]: row for row in out["breakeven"]}
    assert crit["profit"]["breakeven_occupancy"] < crit["npv"]["breakeven_occupancy"]
    rows = _json(capsys, ["econ", "compare", "--json"])
    assert isinstance(rows, list)
    assert [r["kind"] for r in rows] == ["bare_metal", "computing_center", "investment"]


def test_sensitivity_json_and_charts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "t.png"
    out = _json(
        capsys,
        [
            "econ",
            "sensitivity",
            "h800-bare-metal-2p1m",
            "--json",
            "--chart",
            str(png),
            "--input",
            "form.rent_per_server_month",
            "--input",
            "opex.pue",
        ],
    )
    assert isinstance(out, dict)
    assert len(out["tornado"]["bars"]) == 2
    assert out["grid"]["x"] == "form.rent_per_server_month"
    assert png.exists() and (tmp_path / "t-grid.png").exists()


def test_montecarlo_json_and_chart(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    png = tmp_path / "mc.png"
    argv = ["econ", "montecarlo", "soe-rule-h800-120k", "--paths", "3000", "--seed", "4", "--json"]
    out = _json(capsys, [*argv, "--chart", str(png)])
    again = _json(capsys, argv)
    assert isinstance(out, dict) and isinstance(again, dict)
    assert out["probability_of_loss"] == again["probability_of_loss"]
    assert out["paths"] == 3000
    assert png.exists()


def test_scenarios_list(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(capsys, ["econ", "scenarios", "--json"])
    assert isinstance(rows, list)
    assert "tianfeng-h100-70k" in {r["name"] for r in rows}
