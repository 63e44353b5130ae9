"""Helpers for the job-scheduling tests: build small traces and check a run's event log."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.placement import Placement

Log = list[tuple[str, float, int, Placement]]


def check_log(log: Log, jobs: JobTable, cluster: ClusterSpec) -> dict[int, int]:
    """Replay a simulator log and assert the scheduling invariants; return finishes per job.

    * no node ever holds more GPUs than it has (events at one instant: stops before starts);
    * each start places exactly the job's GPUs (gang: all or nothing), on distinct nodes;
    * a job never starts twice without stopping, and finishes exactly once;
    * nothing starts on a node that is down, and a node goes down only once its jobs stopped.
    """
    order = {
        "finish": 0, "preempt": 0, "fail": 0, "node_down": 0, "node_up": 0, "start": 1,
        "reserve": 2,
    }  # fmt: skip
    down: set[int] = set()
    events = sorted(enumerate(log), key=lambda e: (e[1][1], order[e[1][0]], e[0]))
    alloc = np.zeros(cluster.nodes, dtype=np.int64)
    holding: dict[int, Placement] = {}
    finishes: dict[int, int] = defaultdict(int)
    for _, (kind, _t, job, placement) in events:
        if kind == "reserve":
            continue
        if kind in ("node_down", "node_up"):
            node = job
            if kind == "node_down":
                assert alloc[node] == 0, "node went down with jobs still holding it"
                down.add(node)
            else:
                down.discard(node)
            continue
        nodes = [n for n, _ in placement]
        assert len(nodes) == len(set(nodes)), "a placement names a node twice"
        if kind == "start":
            assert job not in holding, f"job {job} started twice"
            assert sum(c for _, c in placement) == int(jobs.gpus[job]), "partial gang"
            assert all(c > 0 for _, c in placement)
            assert not down & set(nodes), "job started on a down node"
            for n, c in placement:
                alloc[n] += c
            assert np.all(alloc <= cluster.node_gpus), "over-allocation"
            holding[job] = placement
        else:
            assert holding.pop(job) == placement
            for n, c in placement:
                alloc[n] -= c
            if kind == "finish":
                finishes[job] += 1
    assert not holding
    assert np.all(alloc == 0)
    return dict(finishes)
