"""Benchmark of the backends: what one poll costs, and how the simulated backend scales.

Prints JSON. Figures:

- ``parse``: parsing recorded ``sinfo``/``squeue`` JSON (tests/unit/backends/data) per poll,
  against the baseline of ``json.loads`` of the same text (ratio = our overhead).
- ``slurm_poll`` (only if the dev cluster is up, ``scripts/dev-slurm-cluster start``): wall time of
  ``SlurmBackend.poll()`` (sinfo + squeue + diff) against the baseline of running the two commands
  bare.
- ``simulated``: launching and completing N jobs on a 64-node simulated cluster, time per job.

Run: ``.venv/bin/python benchmarks/bench_slurm.py``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from suanli.backends.base import BackendError, JobSpec, Placement
from suanli.backends.simulated import SimulatedBackend
from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.backends.slurm.parse import parse_jobs, parse_nodes
from suanli.core.clock import SimClock, SystemClock

DATA = Path(__file__).resolve().parents[1] / "tests" / "unit" / "backends" / "data"
CONF = "/var/tmp/suanli-slurm/slurm.conf"


def per_call(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def bench_parse() -> dict[str, float]:
    sinfo, squeue = (DATA / "sinfo.json").read_text(), (DATA / "squeue.json").read_text()
    ours = per_call(lambda: (parse_nodes(sinfo), parse_jobs(squeue)), 300)
    base = per_call(lambda: (json.loads(sinfo), json.loads(squeue)), 300)
    return {"ours_ms": ours * 1e3, "json_loads_ms": base * 1e3, "ratio": ours / base}


def bench_slurm_poll() -> dict[str, float] | None:
    runner = SubprocessRunner(CONF)
    try:
        if not runner.run(["scontrol", "ping"]).ok:
            return None
    except BackendError:  # Slurm not installed
        return None
    backend = SlurmBackend(runner, SystemClock())
    ours = per_call(backend.poll, 10)
    base = per_call(lambda: (runner.run(["sinfo", "--json"]), runner.run(["squeue", "--json"])), 10)
    return {"poll_ms": ours * 1e3, "bare_commands_ms": base * 1e3, "ratio": ours / base}


def bench_simulated(n: int = 2000) -> dict[str, float]:
    clock = SimClock()
    backend = SimulatedBackend.uniform(clock, 64)
    start = time.perf_counter()
    for i in range(n):
        node = f"gn{i % 64 + 1}"
        job = JobSpec(f"j{i}", "acme", "x", 4, expected_runtime=timedelta(minutes=30 + i % 50))
        backend.launch(job, Placement((node,), 4))
        clock.advance(timedelta(minutes=1))
    clock.advance(timedelta(days=1))
    backend.events()
    per_job = (time.perf_counter() - start) / n
    return {"jobs": n, "per_job_ms": per_job * 1e3, "usage_records": len(backend.usage())}


def main() -> None:
    print(
        json.dumps(
            {
                "parse": bench_parse(),
                "slurm_poll": bench_slurm_poll(),
                "simulated": bench_simulated(),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
