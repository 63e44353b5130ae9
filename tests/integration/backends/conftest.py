"""Backends under test: the simulated one always, the real Slurm dev cluster under the `slurm` marker.

The `slurm` cluster is started once per session with ``scripts/dev-slurm-cluster start 4`` and
left running afterwards, like the PostgreSQL server (stop it with ``scripts/dev-slurm-cluster
stop``): xdist workers and other checkouts share it, so no session may stop it under another. If
starting fails, the fixture stops whatever half-started and fails the tests. Tests on the real
cluster hold an exclusive file lock for their whole duration and start from a clean cluster
(no jobs, reservations, drains; all nodes up).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

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


def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=180, check=False
    )


@pytest.fixture(scope="session")
def slurm_conf() -> str:
    """Start (or reuse) the 4-node dev cluster; never leaves it half-started."""
    started = _script("start", "4")
    if started.returncode != 0:
        _script("stop")
        pytest.fail(f"dev Slurm cluster did not start:\n{started.stdout}\n{started.stderr}")
    return str(SLURM_DIR / "slurm.conf")


@pytest.fixture
def slurm_lock() -> Iterator[None]:
    SLURM_DIR.mkdir(parents=True, exist_ok=True)
    with open(SLURM_DIR / "tests.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _poll(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.3)


def _clean_slurm(conf: str) -> SlurmBackend:
    runner = SubprocessRunner(conf)
    backend = SlurmBackend(runner, SystemClock(), cluster="suanli-dev")
    runner.run(["scancel", "--partition=gpu"])
    for r in backend.reservations():
        backend.release(r.name)
    for n in backend.nodes():
        if n.state is NodeState.DOWN:
            _script("start-node", n.name)
        backend.resume(n.name)

    def clean() -> bool:
        return all(n.state is NodeState.IDLE for n in backend.nodes())

    try:
        _poll(clean, 10)
    except AssertionError:
        # Slurm 22.05 can keep a failed node's GPUs counted as used after its jobs are gone;
        # a reconfigure recounts them.
        runner.run(["scontrol", "reconfigure"])
        _poll(clean, 20)
    return SlurmBackend(runner, SystemClock(), cluster="suanli-dev")


def _simulated() -> Harness:
    clock = SimClock()
    backend = SimulatedBackend.uniform(clock, 4)

    def wait(predicate: Callable[[], bool], timeout: float) -> None:
        for _ in range(int(timeout)):
            if predicate():
                return
            clock.advance(timedelta(seconds=1))
        assert predicate(), f"condition not met within {timeout} simulated s"

    return Harness("simulated", backend, wait, backend.fail_node, backend.repair_node, clock.now)


@pytest.fixture(params=["simulated", pytest.param("slurm", marks=pytest.mark.slurm)])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "simulated":
        yield _simulated()
        return
    conf = request.getfixturevalue("slurm_conf")
    request.getfixturevalue("slurm_lock")
    backend = _clean_slurm(conf)

    def kill(node: str) -> None:
        assert _script("kill-node", node).returncode == 0

    def repair(node: str) -> None:
        assert _script("start-node", node).returncode == 0

    yield Harness("slurm", backend, _poll, kill, repair, SystemClock().now)
    SubprocessRunner(conf).run(["scancel", "--partition=gpu"])
