"""The CLI starts instantly: no heavy module at load or for ``--help``; usage errors are one line.

Import checks run in a fresh interpreter (this test process has imported everything already).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from suanli.cli.main import COMMANDS, load_command, main

HEAVY = ("fastapi", "sqlalchemy", "scipy", "matplotlib", "alembic", "starlette")


def _modules_after(code: str) -> list[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


def test_importing_cli_main_loads_no_heavy_module() -> None:
    assert _heavy(_modules_after("import suanli.cli.main")) == []


def test_root_help_loads_no_heavy_module_and_lists_every_group() -> None:
    code = (
        "import contextlib, io\n"
        "from suanli.cli.main import main\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])\n"
        "assert 'catalog' in buf.getvalue() and 'invoice' in buf.getvalue(), buf.getvalue()"
    )
    assert _heavy(_modules_after(code)) == []


def test_catalog_gpus_loads_no_web_or_db_stack() -> None:
    code = (
        "import contextlib, io\n"
        "from suanli.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['catalog', 'gpus'])"
    )
    assert _heavy(_modules_after(code)) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_registered_command_loads(name: str) -> None:
    command = load_command(name)
    assert command.name == name
    assert command.help


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["frobnicate"], "No such command 'frobnicate'"),
        (["catalog", "gpus", "--limit", "notanumber"], "No such option: --limit"),
        (["usage", "list", "--limit", "notanumber"], "Invalid value for '--limit'"),
        (["econ", "evaluate"], "Missing argument"),
        (["catalog", "capacity", "--json", "--json=maybe"], "--json"),
    ],
)
def test_usage_errors_print_one_line_and_exit_2(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error usage:")
    assert expected in err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_bare_command_shows_help_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 0
    captured = capsys.readouterr()
    assert "Usage" in captured.out + captured.err


def test_tables_right_align_numeric_columns(capsys: pytest.CaptureFixture[str]) -> None:
    from suanli.cli.render import print_table, wrote

    print_table(
        [{"name": "a", "cny": "5"}, {"name": "bbbbbb", "cny": "12,345.00"}], ["name", "cny"]
    )
    wrote("out.json")
    captured = capsys.readouterr()
    lines = [line for line in captured.out.splitlines() if "│ a" in line]
    # right-aligned under the wider value, with the column's decimals
    assert lines and "│      5.00 │" in lines[0]
    assert captured.err.strip() == "wrote out.json"
