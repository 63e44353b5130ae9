"""Issue 12, defect 7: which finished runs are charged. Only the platform's fault is free
(``NODE_FAIL``, ``BOOT_FAIL``); failures, time-outs, OOM and cancellations after start are the
customer's. The rule on Slurm end states, then end to end on the simulated engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from suanli.backends.base import JobSpec, JobState, Placement, UsageRecord
from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock
from suanli.services.cluster.cloud_jobs import metered

T0 = datetime(2024, 4, 1, tzinfo=UTC)


def run(state: JobState, engine_state: str) -> UsageRecord:
    return UsageRecord(
        "u1", "j1", "1", "acme", 8, T0, T0 + timedelta(hours=1), state, ("n1",), engine_state
    )


@pytest.mark.parametrize(
    ("state", "engine_state", "charged"),
    [
        (JobState.COMPLETED, "COMPLETED", True),
        (JobState.FAILED, "FAILED", True),
        (JobState.FAILED, "TIMEOUT", True),
        (JobState.FAILED, "OUT_OF_MEMORY", True),
        (JobState.CANCELLED, "CANCELLED by 1000", True),
        (JobState.FAILED, "NODE_FAIL", False),
        (JobState.FAILED, "BOOT_FAIL", False),
        (JobState.FAILED, "", False),  # an engine that does not say why: benefit of the doubt
    ],
)
def test_only_our_fault_is_free(state: JobState, engine_state: str, charged: bool) -> None:
    assert metered(run(state, engine_state)) is charged


def test_simulated_engine_reports_whose_fault_a_run_ended_on() -> None:
    clock = SimClock(T0)
    sim = SimulatedBackend.uniform(clock, 2)
    node_a, node_b = (n.name for n in sim.nodes())
    slow = JobSpec(
        "late", "acme", "x", 8, time_limit=timedelta(minutes=5), expected_runtime=timedelta(hours=1)
    )
    sim.launch(slow, Placement((node_a,), 8))
    sim.launch(
        JobSpec("hit", "acme", "y", 8, expected_runtime=timedelta(hours=1)), Placement((node_b,), 8)
    )
    clock.advance(timedelta(minutes=10))
    sim.fail_node(node_b)
    ended = {u.job_id: u for u in sim.usage()}
    assert (ended["late"].state, ended["late"].engine_state) == (JobState.FAILED, "TIMEOUT")
    assert (ended["hit"].state, ended["hit"].engine_state) == (JobState.FAILED, "NODE_FAIL")
    assert metered(ended["late"]) and not metered(ended["hit"])
