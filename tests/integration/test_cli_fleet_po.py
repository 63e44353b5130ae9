"""CLI behaviour the walk-through does not cover: CSV import reports, `--json` listings, db
commands and one-line coded errors (SQLite; the services are tested on both engines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from suanli.store.db import head_revision


def _json(cli: Any, *argv: str) -> Any:
    code, out, err = cli(*argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_db_commands(cli: Any) -> None:
    assert _json(cli, "db", "current") == {
        "current": None, "head": head_revision(), "up_to_date": False
    }  # fmt: skip
    code, out, _ = cli("db", "upgrade")
    assert code == 0 and str(head_revision()) in out
    assert _json(cli, "db", "current")["up_to_date"] is True


def test_imports_and_listings(cli: Any, tmp_path: Path) -> None:
    cli("db", "upgrade")
    cli("fleet", "sites", "add", "BJ1", "Beijing 1", "--city", "Beijing")
    cli("fleet", "cabinets", "add", "BJ1", "A01", "--power-kw", "40")
    cli("po", "suppliers", "add", "New H3C")
    bad = tmp_path / "bad.csv"
    bad.write_text("serial,sku,state,cabinet\nA,HGX-H800-8,available,\nB,HGX-NOPE,,\n")
    code, _, err = cli("fleet", "import", str(bad))
    assert code == 1 and "import.invalid_rows" in err
    assert "line 2, column cabinet" in err and "line 3, column sku" in err
    assert _json(cli, "fleet", "servers", "list")["total"] == 0

    good = tmp_path / "servers.csv"
    good.write_text("serial,sku,supplier,state,cabinet\nA,HGX-H800-8,New H3C,available,BJ1/A01\nB,HGX-H20-8,,,\n")  # fmt: skip
    assert _json(cli, "fleet", "import", str(good))["created"] == ["A", "B"]
    assert [c["used_kw"] for c in _json(cli, "fleet", "cabinets", "list")] == ["10.200"]
    assert [s["code"] for s in _json(cli, "fleet", "sites", "list")] == ["BJ1"]
    assert _json(cli, "fleet", "servers", "list", "--supplier", "New H3C")["items"][0]["serial"] == "A"  # fmt: skip

    orders = tmp_path / "orders.csv"
    orders.write_text(
        "number,supplier,ordered_on,sku,quantity,unit_price,promised_on\n"
        "PO-1,New H3C,2024-01-02,HGX-H800-8,4,2600000,2024-03-01\n"
        "PO-1,New H3C,2024-01-02,HGX-H20-8,8,1100000,2024-02-01\n"
    )
    assert _json(cli, "po", "import", str(orders))["created"] == ["PO-1"]
    code, _, err = cli("po", "import", str(orders))
    assert code == 1 and "line 2, column number" in err and "exists" in err
    listed = _json(cli, "po", "list")
    assert [ln["quantity"] for ln in listed[0]["lines"]] == [4, 8]
    cli("po", "deliver", "PO-1", "--line", "2", "--date", "2024-01-20", "H20-1", "H20-2")
    assert [d["serial"] for d in _json(cli, "po", "deliveries", "PO-1")] == ["H20-1", "H20-2"]
    assert _json(cli, "po", "show", "PO-1")["lines"][1]["outstanding"] == 6
    assert [s["name"] for s in _json(cli, "po", "suppliers", "list")] == ["New H3C"]


def test_coded_errors_are_one_line(cli: Any) -> None:
    cli("db", "upgrade")
    code, _, err = cli("fleet", "servers", "transition", "NOPE", "leased", "--reason", "x")
    assert code == 1 and err.startswith("error server.not_found")
    code, _, err = cli("fleet", "servers", "transition", "NOPE", "sideways", "--reason", "x")
    assert code == 1 and "server.invalid_state" in err
    code, _, err = cli("po", "create", "PO-1", "--supplier", "X", "--line", "HGX-H800-8:3:1")
    assert code == 1 and "po.invalid_line" in err
    code, _, err = cli("fleet", "servers", "add", "S1", "--sku", "HGX-H800-8", "--state", "leased")
    assert code == 1 and "server.invalid_initial_state" in err
    assert "Traceback" not in err
