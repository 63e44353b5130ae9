"""`suanli plan`: the default file, JSON output with a chart, overrides and coded errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suanli.cli.main import main
from suanli.economics.planning import default_text


def test_default_prints_the_bundled_file(capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", "default"])
    assert capsys.readouterr().out == default_text()


def test_purchase_json_and_chart(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    f = tmp_path / "mine.toml"
    f.write_text(default_text(), encoding="utf-8")
    png = tmp_path / "plan.png"
    argv = ["plan", "purchase", str(f), "--scenarios", "15", "--oos-scenarios", "200"]
    main([*argv, "--measure", "p_loss", "--limit", "0.2", "--json", "--chart", str(png)])
    out = json.loads(capsys.readouterr().out)
    assert out["risk"] == {"measure": "p_loss", "limit": 0.2, "cvar_alpha": 0.05}
    assert out["chosen"]["in_sample"]["p_loss"] <= 0.2
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_purchase_tables(capsys: pytest.CaptureFixture[str]) -> None:
    main(["plan", "purchase", "--scenarios", "10", "--oos-scenarios", "100"])
    text = capsys.readouterr().out
    assert "buy everything now" in text.replace("\n", " ") or "buy" in text
    assert "Efficient frontier" in text


def test_purchase_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["plan", "purchase", "--measure", "var"])
    assert exc.value.code == 1
    assert "cli.invalid_option" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("name = [", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["plan", "purchase", str(bad)])
    assert "planning.syntax" in capsys.readouterr().err
