"""The plausible bugs of issue 11 §5, put in by hand one at a time: each must fail its test.

Each entry replaces one exact piece of source text, runs the test file that pins it (SQLite
only), and restores the file whatever happens. Prints JSON: per bug, whether the test caught it,
and the count caught over the total (the issue measured 16 of 25, 64 %, before its tests).

    .venv/bin/python benchmarks/mutation_handmade.py [SUBSTRING ...]

The worktree's files are edited in place for the few seconds a test runs: do not run it while
editing the same files. A bug whose source text no longer matches is reported as ``stale``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bug:
    name: str
    path: str
    edits: tuple[tuple[str, str], ...]  # (exact text, replacement), each applied once
    test: str


CREDIT_NOTE_ROUTE = "    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Invoice),\n"
BUGS = (
    Bug(
        "no tenant check on POST /jobs/{id}/cancel",
        "src/suanli/api/routers/jobs.py",
        (("    w.jobs.get(job, principal)  # customers cancel only their own jobs\n", ""),),
        "tests/integration/test_write_routes_tenancy.py",
    ),
    Bug(
        "no finance role on POST /invoices/{n}/credit-notes",
        "src/suanli/api/routers/invoices.py",
        (
            (CREDIT_NOTE_ROUTE + "    dependencies=[requires(Role.FINANCE)],\n", CREDIT_NOTE_ROUTE),
            ("    principal.require(Role.FINANCE)\n    lines = {k", "    lines = {k"),
        ),
        "tests/integration/test_write_routes_tenancy.py",
    ),
    Bug(
        "NPV discounts month t by t+1",
        "src/suanli/economics/metrics.py",
        (("** np.arange(cf.size)))", "** (np.arange(cf.size) + 1)))"),),
        "tests/unit/economics/test_absolute_values.py",
    ),
    Bug(
        "break-even search stops widening its bracket",
        "src/suanli/economics/breakeven.py",
        (("        hi *= 2.0\n", "        return None\n"),),
        "tests/unit/economics/test_absolute_values.py",
    ),
    Bug(
        "reserved true-up counted from the period start",
        "src/suanli/core/pricing.py",
        (
            (
                "    cdays = contract_days(p, c.start_date, end)",
                "    cdays = contract_days(p, p.start, end)",
            ),
        ),
        "tests/unit/test_pricing.py",
    ),
    Bug(
        "mid-day termination loses its last day",
        "src/suanli/core/billing.py",
        (
            (
                "    last = min(period.end, first_full_day(ends_at))",
                "    last = min(period.end, ends_at.date())",
            ),
        ),
        "tests/unit/test_pricing.py",
    ),
    Bug(
        "exact notice day refused (< becomes <=)",
        "src/suanli/services/billing/leasing.py",
        (
            (
                "if (effective - on).days < row.notice_days:",
                "if (effective - on).days <= row.notice_days:",
            ),
        ),
        "tests/integration/billing/test_billing_regressions.py",
    ),
    Bug(
        "run lost to a node failure is charged",
        "src/suanli/services/cluster/cloud_jobs.py",
        (("if u.job_id not in rows or not metered(u):", "if u.job_id not in rows:"),),
        "tests/integration/cluster/test_metering_after_node_failure.py",
    ),
    Bug(
        "SRTF ranks by total instead of remaining time",
        "src/suanli/scheduling/jobs/policies.py",
        (
            (
                "        return float(jobs.duration[job]) - progress",
                "        return float(jobs.duration[job])",
            ),
        ),
        "tests/unit/jobs/test_srtf_remaining.py",
    ),
)


def check(bug: Bug) -> str:
    """``caught``, ``survived`` or ``stale`` (the source text is no longer there)."""
    file = ROOT / bug.path
    original = file.read_text()
    mutated = original
    for old, new in bug.edits:
        if old not in mutated:
            return "stale"
        mutated = mutated.replace(old, new, 1)
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "-m",
        "not postgres",
        "--timeout",
        "120",
        bug.test,
    ]
    file.write_text(mutated)
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        file.write_text(original)
    return "caught" if proc.returncode else "survived"


def main() -> None:
    only = sys.argv[1:]
    bugs = [b for b in BUGS if not only or any(o in b.name for o in only)]
    results = {b.name: check(b) for b in bugs}
    caught = sum(r == "caught" for r in results.values())
    json.dump(
        {
            "benchmark": "mutation_handmade",
            "bugs": results,
            "caught": caught,
            "total": len(bugs),
            "share": round(caught / len(bugs), 3) if bugs else None,
            "baseline_share": 0.64,
        },
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
