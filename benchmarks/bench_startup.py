"""CLI start-up: wall and CPU time of ``suanli --help`` and ``suanli catalog gpus``.

Each command runs ``--repeat`` times in a fresh interpreter (``python -m suanli.cli.main``, the
same code as the ``suanli`` console script); the figure is the median wall time and the median
CPU time (user + system, from ``os.wait4``). The baseline, measured in the same run the same
way, is ``python -c pass``; the headline is the CPU time *over* bare Python (goal for
``--help``: < 0.3 s) and the ratio to it. ``python -X importtime`` names the slowest imports of
``--help`` (cumulative µs) so a regression points at its culprit, and the heavy packages
(fastapi, sqlalchemy, scipy, matplotlib, numpy) that each command loaded are listed.

    .venv/bin/python benchmarks/bench_startup.py [--repeat 5] [--src PATH]

``--src`` measures another checkout's ``src`` (e.g. an older commit, for a before/after figure).
Prints one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("fastapi", "sqlalchemy", "scipy", "matplotlib", "numpy", "alembic", "pandas")
CASES: dict[str, list[str]] = {
    "python -c pass": ["-c", "pass"],
    "suanli --help": ["-m", "suanli.cli.main", "--help"],
    "suanli catalog gpus": ["-m", "suanli.cli.main", "catalog", "gpus"],
}


def _run_once(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{args} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def _importtime(args: list[str], env: dict[str, str], top: int) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[len("import time:") :].split("|"))
        rows.append((int(cumulative), name))
    top_level = {name.split(".")[0] for _, name in rows}
    return {
        "heavy_loaded": sorted(top_level & set(HEAVY)),
        "modules": len(rows),
        "slowest_cumulative_us": [
            {"module": name, "us": us} for us, name in sorted(rows, reverse=True)[:top]
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src")
    parser.add_argument("--top", type=int, default=8)
    opts = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(opts.src.resolve()), "COLUMNS": "100"}

    figures: dict[str, dict[str, object]] = {}
    for name, args in CASES.items():
        _run_once(args, env)  # warm the page cache and .pyc files
        runs = [_run_once(args, env) for _ in range(opts.repeat)]
        figures[name] = {
            "wall_s": round(statistics.median(w for w, _ in runs), 3),
            "cpu_s": round(statistics.median(c for _, c in runs), 3),
        }
    base_wall = float(figures["python -c pass"]["wall_s"])  # type: ignore[arg-type]
    base_cpu = float(figures["python -c pass"]["cpu_s"])  # type: ignore[arg-type]
    for name, args in CASES.items():
        if name == "python -c pass":
            continue
        row = figures[name]
        cpu = float(row["cpu_s"])  # type: ignore[arg-type]
        wall = float(row["wall_s"])  # type: ignore[arg-type]
        row["cpu_over_python_s"] = round(cpu - base_cpu, 3)
        row["wall_over_python_s"] = round(wall - base_wall, 3)
        row["cpu_ratio_to_python"] = round(cpu / base_cpu, 1) if base_cpu else None
        row["importtime"] = _importtime(args, env, opts.top)
    help_over = figures["suanli --help"]["cpu_over_python_s"]
    print(
        json.dumps(
            {
                "benchmark": "cli_startup",
                "python": sys.version.split()[0],
                "src": str(opts.src),
                "repeat": opts.repeat,
                "loadavg_1m": round(os.getloadavg()[0], 2),
                "goal": "suanli --help < 0.3 s CPU over python -c pass",
                "goal_met": isinstance(help_over, float) and help_over < 0.3,
                "figures": figures,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
