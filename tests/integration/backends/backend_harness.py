"""Test harness for the backend contract: a backend plus what the protocol does not offer
(waiting, fault injection, unique job ids), for the simulated backend and the dev Slurm cluster."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from suanli.backends.base import Backend, JobState, NodeState
from suanli.backends.simulated import SimulatedBackend
from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.core.clock import SimClock, SystemClock

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "scripts" / "dev-slurm-cluster"
SLURM_DIR = Path(os.environ.get("SUANLI_SLURM_DIR", "/var/tmp/suanli-slurm"))
NODES = ("gn1", "gn2", "gn3", "gn4")


@dataclass
class Harness:
    """A backend plus the few things a test needs that the protocol does not offer."""

    name: str
    backend: Backend
    wait: Callable[[Callable[[], bool], float], None]
    fail_node: Callable[[str], None]
    repair_node: Callable[[str], None]
    now: Callable[[], datetime]
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:6])

    def jid(self, name: str) -> str:
        """A job id unique to this test run (the real cluster remembers finished jobs)."""
        return f"{name}-{self.token}"

    def until(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        self.wait(predicate, timeout)

    def state(self, job_id: str) -> JobState:
        return self.backend.job(job_id).state


# The test cluster keeps accounts in slurmdbd on the local MariaDB (sacct); set
# SUANLI_SLURM_DBD=0 to test against a jobcomp-only cluster.
SCRIPT_ENV = {**os.environ, "SUANLI_SLURM_DBD": os.environ.get("SUANLI_SLURM_DBD", "1")}


def script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=SCRIPT_ENV,
    )


# Real daemons on a shared 2-core machine react slower than on an idle one: wall-clock
# deadlines are stretched by this factor (they end as soon as the condition holds, so a larger
# factor only costs time when a test is failing anyway).
WAIT_SCALE = float(os.environ.get("SUANLI_SLURM_WAIT_SCALE", "4"))


def poll(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout * WAIT_SCALE
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s x {WAIT_SCALE}")
        time.sleep(0.3)


def clean_slurm(conf: str) -> SlurmBackend:
    runner = SubprocessRunner(conf)
    backend = SlurmBackend(runner, SystemClock(), cluster="suanli-dev")
    runner.run(["scancel", "--partition=gpu"])
    for r in backend.reservations():
        backend.release(r.name)
    for n in backend.nodes():
        if n.state is NodeState.DOWN:
            script("start-node", n.name)
        backend.resume(n.name)

    def clean() -> bool:
        return all(n.state is NodeState.IDLE for n in backend.nodes())

    try:
        poll(clean, 10)
    except AssertionError:
        # Slurm 22.05 can keep a failed node's GPUs counted as used after its jobs are gone;
        # a reconfigure recounts them.
        runner.run(["scontrol", "reconfigure"])
        poll(clean, 20)
    return SlurmBackend(runner, SystemClock(), cluster="suanli-dev")


def simulated() -> Harness:
    clock = SimClock()
    backend = SimulatedBackend.uniform(clock, 4)

    def wait(predicate: Callable[[], bool], timeout: float) -> None:
        for _ in range(int(timeout)):
            if predicate():
                return
            clock.advance(timedelta(seconds=1))
        assert predicate(), f"condition not met within {timeout} simulated s"

    return Harness("simulated", backend, wait, backend.fail_node, backend.repair_node, clock.now)
