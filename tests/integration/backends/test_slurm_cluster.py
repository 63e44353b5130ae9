"""Slurm-only checks: the dev cluster script and the adapter's statelessness across instances."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from backend_harness import SCRIPT, script

from suanli.backends.base import JobSpec, JobState, Placement
from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.core.clock import SystemClock

if TYPE_CHECKING:
    from backend_harness import Harness

pytestmark = pytest.mark.slurm


def test_script_is_idempotent_and_reports_status(slurm_conf: str, slurm_lock: None) -> None:
    again = script("start", "4")
    assert again.returncode == 0 and f"SLURM_CONF={slurm_conf}" in again.stdout
    status = script("status")
    assert status.returncode == 0
    assert sum(" gpu:h800:8 " in line for line in status.stdout.splitlines()) == 4
    resize = script("start", "3")
    assert resize.returncode != 0 and "stop" in resize.stderr
    assert SCRIPT.stat().st_mode & 0o111


@pytest.mark.parametrize("harness", ["slurm"], indirect=True)
def test_a_new_adapter_instance_finds_jobs_and_usage_by_name(
    harness: Harness, slurm_conf: str
) -> None:
    first = harness.backend
    job_id = harness.jid("restart")
    first.launch(JobSpec(job_id, "acme", "sleep 1", 8), Placement(("gn2",), 8))
    harness.until(lambda: first.job(job_id).state is JobState.COMPLETED)
    second = SlurmBackend(SubprocessRunner(slurm_conf), SystemClock(), cluster="suanli-dev")
    assert second.job(job_id) == first.job(job_id)
    harness.until(lambda: any(u.job_id == job_id for u in second.usage()), 5)
    ours = [u for u in second.usage() if u.job_id == job_id]
    assert ours == [u for u in first.usage() if u.job_id == job_id]
    assert len(ours) == 1 and ours[0].gpus == 8
    assert timedelta(0) <= ours[0].end - ours[0].start <= timedelta(seconds=5)


@pytest.mark.parametrize("harness", ["slurm"], indirect=True)
def test_sacct_and_jobcomp_give_the_same_usage_records(harness: Harness) -> None:
    b = harness.backend
    assert isinstance(b, SlurmBackend)
    if not b.accounting:
        pytest.fail("the test cluster runs without slurmdbd; restart it with SUANLI_SLURM_DBD=1")
    job_id = harness.jid("metered")
    b.launch(JobSpec(job_id, "tenant-m", "sleep 1", 16), Placement(("gn3", "gn4"), 8))
    harness.until(lambda: any(u.job_id == job_id for u in b.usage_from_sacct()), 15)
    harness.until(lambda: any(u.job_id == job_id for u in b.usage_from_jobcomp()), 5)
    (from_sacct,) = [u for u in b.usage_from_sacct() if u.job_id == job_id]
    (from_jobcomp,) = [u for u in b.usage_from_jobcomp() if u.job_id == job_id]
    assert from_sacct == from_jobcomp
    assert (from_sacct.tenant, from_sacct.gpus, from_sacct.nodes) == (
        "tenant-m",
        16,
        ("gn3", "gn4"),
    )
