"""`suanli twin`: JSON of a run, charts, files inheriting bundled cases, compare, coded errors."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from suanli.cli.main import main


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> object:
    main(argv)
    return json.loads(capsys.readouterr().out)


def test_run_json_monthly_money_is_exact_and_chart_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = tmp_path / "twin.png"
    out = _json(
        capsys, ["twin", "run", "long-contracts", "--paths", "3", "--json", "--chart", str(png)]
    )
    assert isinstance(out, dict)
    assert out["summary"]["paths"] == 3
    months = out["monthly"]
    assert len(months) == 61
    row = months[12]
    assert Decimal(row["billed"]) == Decimal(row["rent"]) + Decimal(row["sla_credits"])
    assert Decimal(row["rent"]).as_tuple().exponent == -2
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_file_inherits_bundled_twin_and_set_overrides(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(
        'base = "long-contracts"\nname = "mine"\n[twin.leases]\narrival_rate_per_month = 0\n'
    )
    out = _json(
        capsys,
        [
            "twin",
            "run",
            str(f),
            "--json",
            "--set",
            "twin.book=[{start_month=1, servers=10, term_months=60}]",
        ],
    )
    assert isinstance(out, dict)
    assert out["summary"]["scenario"] == "mine"
    assert {m["leased_servers"] for m in out["monthly"][1:]} == {10}


def test_compare_and_table_output(capsys: pytest.CaptureFixture[str]) -> None:
    rows = _json(
        capsys, ["twin", "compare", "fragmented-demand", "long-contracts", "--paths", "2", "--json"]
    )
    assert isinstance(rows, list) and [r["scenario"] for r in rows] == [
        "fragmented-demand",
        "long-contracts",
    ]
    main(["twin", "run", "fragmented-demand"])
    assert "Path 0 by year" in capsys.readouterr().out


def test_bad_override_and_unknown_name_exit_with_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["twin", "run", "long-contracts", "--set", "twin.leases.renewal_probability=3"])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "twin.invalid" in err and "twin.leases.renewal_probability" in err
    with pytest.raises(SystemExit):
        main(["twin", "run", "no-such-twin"])
    assert "twin.unknown_scenario" in capsys.readouterr().err


def test_compare_overrides_one_twin_and_reports_the_yearly_delta(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``NAME@PATH=VALUE`` changes that twin only; Δ/yr is billed per year against the first."""
    rows = _json(
        capsys,
        [
            "twin",
            "compare",
            "static-mix@horizon_months=6@twin.pool.load=0.3",
            "static-mix@horizon_months=6@twin.pool.load=0.3@twin.pool.servers=0",
            "--paths",
            "1",
            "--json",
        ],
    )
    assert isinstance(rows, list)
    pooled, bare = rows
    assert pooled["pool_utilization_mean"] > 0 and bare["pool_utilization_mean"] is None
    assert pooled["billed_per_year_mean"] != bare["billed_per_year_mean"]
    main(["twin", "compare", "static-mix@horizon_months=3", "long-contracts", "--paths", "1"])
    assert "Δ/yr M" in capsys.readouterr().out


def test_report_is_a_self_contained_page(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`twin report` turns `twin run --json` into one HTML file: figures, two embedded PNG
    charts, the yearly table; nothing loaded from the network."""
    run = tmp_path / "run.json"
    main(["twin", "run", "static-mix", "--set", "horizon_months=14", "--paths", "2", "--json"])
    run.write_text(capsys.readouterr().out)
    page = tmp_path / "run.html"
    main(["twin", "report", str(run), "--html", str(page)])
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "static-mix" in html and "<td>2</td>" in html  # two grid years: 1-12, 13-14
    assert "http://" not in html and "https://" not in html and "<script" not in html
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    with pytest.raises(SystemExit):
        main(["twin", "report", str(bad), "--html", str(page)])
    assert "twin.report_input" in capsys.readouterr().err
