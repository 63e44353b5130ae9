"""Runs the README's "Fleet and procurement" walk-through, command by command, through the real
CLI entry point against a temporary SQLite database, then checks the story's figures.

The commands are read from the README itself, so the documentation cannot drift from the code.
A command ending in ``# → error CODE`` must fail with that code. Every README and docs block
also runs verbatim in ``test_doc_blocks.py``; this test adds the walk-through's figures, read
back through ``--json``.
"""

from __future__ import annotations

import json
import re
import shlex
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from suanli.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"
BRACE = re.compile(r"^(.*)\{(\d+)\.\.(\d+)\}(.*)$")


def _expand(word: str) -> list[str]:
    """Bash brace ranges as used in the README: ``X-{001..012}`` keeps the zero padding."""
    m = BRACE.match(word)
    if not m:
        return [word]
    head, lo, hi, tail = m.groups()
    return [f"{head}{n:0{len(lo)}d}{tail}" for n in range(int(lo), int(hi) + 1)]


def readme_commands() -> list[tuple[list[str], str | None]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Fleet and procurement", 1)[1]
    block = section.split("```bash", 1)[1].split("```", 1)[0]
    commands = []
    for line in block.strip().splitlines():
        if not line.startswith("suanli "):
            continue
        expected = None
        if "# → error " in line:
            line, _, expected = line.partition("# → error ")
            expected = expected.strip()
        words = shlex.split(line, comments=True)[1:]
        commands.append(([w for word in words for w in _expand(word)], expected))
    return commands


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Any:
    code, out, err = _run([*argv, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def test_readme_walkthrough(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SUANLI_DATABASE_URL", f"sqlite:///{tmp_path / 'lotus.db'}")
    monkeypatch.setenv("USER", "buyer")
    commands = readme_commands()
    assert len(commands) >= 15
    assert any(c[0][:2] == ["po", "cancel"] for c in commands)

    # before `db upgrade`, database commands are refused with a pointer to the fix
    code, _, err = _run(["po", "suppliers", "list"], capsys)
    assert code == 1 and "db.not_migrated" in err and "suanli db upgrade" in err

    for argv, expected in commands:
        code, _, err = _run(argv, capsys)
        if expected:
            assert code == 1 and expected in err, (argv, err)
        else:
            assert code == 0, (argv, err)

    summary = _json(["po", "report", "summary"], capsys)
    first, second = summary["orders"]
    assert first["number"] == "LT-2023-001" and first["supplier"] == "New H3C"
    assert first["ordered"]["units"] == 330
    assert Decimal(first["ordered"]["money"]) == Decimal("693000000")
    assert round(first["ordered"]["p_fp16_sparse"]) == 5225
    assert first["delivered"]["units"] == 12
    assert Decimal(first["delivered"]["money"]) == 12 * Decimal("2100000")
    assert first["cancelled"]["units"] == 318 and first["outstanding"]["units"] == 0
    assert (second["delivered"]["units"], second["outstanding"]["units"]) == (8, 12)
    assert Decimal(second["ordered"]["money"]) == 20 * Decimal("2800000")
    total = summary["totals"]["CNY"]
    assert total["delivered"]["units"] == 20
    assert Decimal(total["delivered"]["money"]) == Decimal("47600000")  # 12×2.1 M + 8×2.8 M

    prices = _json(["po", "report", "prices", "--sku", "HGX-H800-8"], capsys)
    assert [Decimal(p["unit_price"]) for p in prices] == [Decimal("2100000"), Decimal("2800000")]
    overdue = _json(["po", "report", "overdue", "--as-of", "2024-04-30"], capsys)
    assert [(o["number"], o["outstanding"]) for o in overdue] == [("LT-2023-017", 12)]

    shown = _json(["fleet", "servers", "show", "LT-H800-001"], capsys)
    assert shown["server"]["state"] == "available" and shown["server"]["cabinet_code"] == "A01"
    steps = [(t["from_state"], t["to_state"], t["actor"]) for t in shown["transitions"]]
    assert steps == [(None, "delivered", "buyer"), ("delivered", "burn_in", "buyer"),
                     ("burn_in", "available", "buyer")]  # fmt: skip
    # the refused moves changed nothing
    assert _json(["fleet", "servers", "show", "LT-H800-003"], capsys)["server"]["state"] == "delivered"  # fmt: skip
    assert _json(["fleet", "servers", "show", "LT-H800-002"], capsys)["server"]["state"] == "burn_in"  # fmt: skip
    cabinets = _json(["fleet", "cabinets", "list"], capsys)
    assert (cabinets[0]["servers"], cabinets[0]["used_kw"]) == (2, "20.400")
    listing = _json(["fleet", "servers", "list", "--state", "delivered", "--limit", "5"], capsys)
    assert listing["total"] == 20 - 2 and len(listing["items"]) == 5
