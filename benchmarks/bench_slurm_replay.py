"""One watcher poll of a 1,000-node Slurm cluster, replayed from recorded output (issue 13).

The dev cluster's recorded 22.05 documents (tests/unit/backends/data: ``sinfo --json``,
``squeue --json``, ``scontrol show reservation -o``, ``sacct --json``) are scaled to 1,000 nodes
(``r<rack>n<slot>`` names, hostlists like ``r[1-2]n[1-4]``), 2,000 jobs, 50 reservations and
5,000 finished runs, and served by an in-process fake runner, so the figure is our own time only
(no process is started). One poll = what a control-loop tick asks of the adapter:
``nodes()``, ``reservations()``, ``jobs()`` (the event diff included) and ``usage()``.

Baseline (same run): ``json.loads`` of the same three JSON documents, i.e. the floor any reader
pays. Target: < 200 ms per poll. Two cases: ``full_history`` (``sacct`` returns 5,000 runs, what
rereading 35 days gives) and ``incremental`` (``sacct --starttime`` from the watermark returns the
runs of the last poll interval; 50 here). Prints JSON; run ``.venv/bin/python benchmarks/bench_slurm_replay.py``.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from suanli.backends.slurm import SlurmBackend
from suanli.backends.slurm.runner import CommandResult
from suanli.core.clock import SimClock, SystemClock

DATA = Path(__file__).resolve().parents[1] / "tests" / "unit" / "backends" / "data"
TARGET_MS = 200.0


class ReplayRunner:
    """Answers each command by its first word from recorded text."""

    def __init__(self, outputs: dict[str, str]) -> None:
        self.outputs = outputs

    def run(self, args: Sequence[str]) -> CommandResult:
        key = args[0] if args[0] != "scontrol" else "scontrol"
        return CommandResult(tuple(args), 0, self.outputs[key], "")


def _name(i: int) -> str:
    return f"r{i // 32 + 1}n{i % 32 + 1}"


def scaled(nodes: int, jobs: int, reservations: int, runs: int) -> dict[str, str]:
    sinfo = json.loads((DATA / "sinfo.json").read_text())
    squeue = json.loads((DATA / "squeue.json").read_text())
    sacct = json.loads((DATA / "sacct.json").read_text())
    node0, job0 = (
        sinfo["nodes"][0],
        next(j for j in squeue["jobs"] if j["name"].startswith("suanli:")),
    )
    acct0 = next(j for j in sacct["jobs"] if j["name"].startswith("suanli:") and j.get("nodes"))
    sinfo["nodes"] = [dict(copy.deepcopy(node0), name=_name(i)) for i in range(nodes)]
    squeue["jobs"] = [
        dict(
            copy.deepcopy(job0), job_id=1000 + k, name=f"suanli:j{k}:8",
            nodes=f"r{k % 31 + 1}n[1-2]", required_nodes=f"r{k % 31 + 1}n[1-2]",
        )
        for k in range(jobs)
    ]  # fmt: skip
    sacct["jobs"] = []
    for k in range(runs):
        run = copy.deepcopy(acct0)
        run.update(job_id=5000 + k, name=f"suanli:u{k}:8", nodes=f"r{k % 31 + 1}n[3-4]")
        run["time"] = dict(run["time"], start=1_700_000_000 + k, end=1_700_003_600 + k)
        sacct["jobs"].append(run)
    res_line = (DATA / "reservations.txt").read_text().splitlines()[0]
    res_lines = []
    for k in range(reservations):
        line = res_line.split(" ", 1)[1]
        nodes_kv = next(p for p in line.split() if p.startswith("Nodes="))
        res_lines.append(
            f"ReservationName=lease-{k} " + line.replace(nodes_kv, f"Nodes=r{k % 31 + 1}n[5-8]")
        )
    return {
        "sinfo": json.dumps(sinfo), "squeue": json.dumps(squeue), "sacct": json.dumps(sacct),
        "scontrol": "\n".join(res_lines) + "\n",
    }  # fmt: skip


def per_call(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    start = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - start) / repeat


def main(nodes: int = 1000, repeat: int = 5) -> dict[str, object]:
    return {
        "full_history": one(nodes, 5 * nodes, repeat),
        "incremental": one(nodes, nodes // 20, repeat),
    }


def one(nodes: int, runs: int, repeat: int) -> dict[str, object]:
    outputs = scaled(nodes, jobs=2 * nodes, reservations=50, runs=runs)
    backend = SlurmBackend(
        ReplayRunner(outputs), SimClock(SystemClock().now()), accounting=True, cluster="replay"
    )

    def poll() -> None:
        backend.nodes()
        backend.reservations()
        backend.jobs()
        backend.usage()

    def baseline() -> None:
        for key in ("sinfo", "squeue", "sacct"):
            json.loads(outputs[key])

    counts = (len(backend.nodes()), len(backend.jobs()), len(backend.usage()))
    ours, floor = per_call(poll, repeat), per_call(baseline, repeat)
    return {
        "nodes": counts[0], "jobs": counts[1], "usage_records": counts[2],
        "reservations": len(backend.reservations()),
        "poll_ms_cpu": round(ours * 1000, 1), "baseline_json_loads_ms_cpu": round(floor * 1000, 1),
        "ratio_to_baseline": round(ours / floor, 2), "target_ms": TARGET_MS,
        "within_target": ours * 1000 < TARGET_MS,
    }  # fmt: skip


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)))
