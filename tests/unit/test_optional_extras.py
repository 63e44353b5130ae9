"""Optional extras fail with a coded error naming the extra, not an ImportError traceback.

Each case runs in a fresh interpreter where the module is blocked (``sys.modules[name] = None``
makes ``import name`` raise ModuleNotFoundError), as on an install without the extra.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run_blocked(blocked: str, code: str) -> str:
    probe = f"import sys\nsys.modules[{blocked!r}] = None\n{code}"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _coded_error(blocked: str, setup: str, call: str) -> str:
    """``code message`` of the SuanliError that ``call`` raises with ``blocked`` missing."""
    return _run_blocked(
        blocked,
        f"{setup}\nfrom suanli.core.errors import SuanliError\n"
        f"try:\n    {call}\nexcept SuanliError as e:\n    print(e.code, e.message)",
    )


@pytest.mark.parametrize(
    ("blocked", "setup", "call", "code", "extra"),
    [
        ("matplotlib", "from suanli.cli.charts import pyplot", "pyplot()", "cli.charts_missing",
         "charts"),
        ("psycopg", "from suanli.store.db import make_engine",
         "make_engine('postgresql://postgres@127.0.0.1/x')", "db.postgres_missing", "postgres"),
    ],
)  # fmt: skip
def test_missing_extra_is_a_coded_error_naming_it(
    blocked: str, setup: str, call: str, code: str, extra: str
) -> None:
    out = _coded_error(blocked, setup, call)
    assert out.startswith(f"{code} ")
    assert f"suanli[{extra}]" in out


def test_sqlite_needs_no_psycopg() -> None:
    out = _run_blocked(
        "psycopg",
        "from suanli.store.db import make_engine\nprint(make_engine('sqlite://').dialect.name)",
    )
    assert out == "sqlite"
