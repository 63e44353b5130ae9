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
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_harness import SLURM_DIR, Harness, clean_slurm, poll, script, simulated
from ledger_live import Live, live_ledger

from suanli.backends.slurm import SubprocessRunner
from suanli.core.clock import SystemClock


@pytest.fixture(scope="session")
def slurm_conf() -> str:
    """Start (or reuse) the 4-node dev cluster; never leaves it half-started."""
    started = script("start", "4")
    if started.returncode != 0:
        script("stop")
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


@pytest.fixture(params=["simulated", pytest.param("slurm", marks=pytest.mark.slurm)])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "simulated":
        yield simulated()
        return
    conf = request.getfixturevalue("slurm_conf")
    request.getfixturevalue("slurm_lock")
    backend = clean_slurm(conf)

    def kill(node: str) -> None:
        assert script("kill-node", node).returncode == 0

    def repair(node: str) -> None:
        assert script("start-node", node).returncode == 0

    yield Harness("slurm", backend, poll, kill, repair, SystemClock().now)
    SubprocessRunner(conf).run(["scancel", "--partition=gpu"])


@pytest.fixture
def live(slurm_conf: str, slurm_lock: None, tmp_path: Path) -> Iterator[Live]:
    """A fresh SQLite ledger synced with the clean, locked dev cluster (ledger_live.py)."""
    with live_ledger(slurm_conf, tmp_path) as wired:
        yield wired
