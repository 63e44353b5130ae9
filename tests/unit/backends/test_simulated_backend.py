"""Behaviour of the simulated backend that only a simulated clock can show exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from suanli.backends.base import EventKind, JobSpec, JobState, Placement, Window
from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def job(job_id: str, gpus: int, minutes: int | None, **kw: object) -> JobSpec:
    runtime = timedelta(minutes=minutes) if minutes is not None else None
    return JobSpec(job_id, "acme", "train", gpus, expected_runtime=runtime, **kw)  # type: ignore[arg-type]


def test_runs_end_exactly_at_their_runtime_and_free_gpus_for_the_queue() -> None:
    clock = SimClock(T0)
    b = SimulatedBackend.uniform(clock, 1)
    b.launch(job("a", 8, 30), Placement(("gn1",), 8))
    b.launch(job("b", 8, 10), Placement(("gn1",), 8))
    clock.advance(timedelta(hours=2))
    assert [(e.kind, e.subject, e.at - T0) for e in b.events()] == [
        (EventKind.JOB_STARTED, "a", timedelta(0)),
        (EventKind.JOB_FINISHED, "a", timedelta(minutes=30)),
        (EventKind.JOB_STARTED, "b", timedelta(minutes=30)),
        (EventKind.JOB_FINISHED, "b", timedelta(minutes=40)),
    ]
    assert sum(u.gpu_seconds for u in b.usage()) == 8 * 40 * 60


def test_time_limit_fails_a_run_that_would_overrun() -> None:
    clock = SimClock(T0)
    b = SimulatedBackend.uniform(clock, 1)
    b.launch(job("long", 8, 120, time_limit=timedelta(minutes=60)), Placement(("gn1",), 8))
    clock.advance(timedelta(hours=3))
    info = b.job("long")
    assert (info.state, info.ended_at, info.reason) == (
        JobState.FAILED,
        T0 + timedelta(hours=1),
        "time limit",
    )


def test_a_node_failure_requeues_the_job_which_restarts_when_the_node_returns() -> None:
    clock = SimClock(T0)
    b = SimulatedBackend.uniform(clock, 2)
    b.launch(job("g", 16, 60), Placement(("gn1", "gn2"), 8))
    clock.advance(timedelta(minutes=20))
    b.fail_node("gn2")
    assert b.job("g").state is JobState.PENDING
    clock.advance(timedelta(minutes=5))
    b.repair_node("gn2")
    assert b.job("g").state is JobState.RUNNING
    clock.advance(timedelta(hours=2))
    runs = [(u.state, u.end - u.start) for u in b.usage()]
    assert runs == [
        (JobState.FAILED, timedelta(minutes=20)),
        (JobState.COMPLETED, timedelta(minutes=60)),
    ]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.sampled_from([1, 2, 4, 8]), st.integers(1, 90), st.booleans()
        ),
        min_size=1,
        max_size=25,
    ),
    st.integers(0, 2**32 - 1),
)
def test_gpus_are_never_over_allocated_and_runs_are_conserved(
    jobs: list[tuple[int, int, int, bool]], seed: int
) -> None:
    clock = SimClock(T0)
    b = SimulatedBackend.uniform(clock, 4)
    for i, (node, gpus, minutes, gang) in enumerate(jobs):
        nodes = (f"gn{node + 1}", f"gn{(node + 1) % 4 + 1}") if gang else (f"gn{node + 1}",)
        b.launch(job(f"j{i}", gpus * len(nodes), minutes), Placement(nodes, gpus))
        if (seed >> (i % 32)) & 1:
            b.fail_node(f"gn{node + 1}")
            b.repair_node(f"gn{node + 1}")
        clock.advance(timedelta(minutes=7))
        assert all(0 <= n.gpus_allocated <= n.gpus for n in b.nodes())
    clock.advance(timedelta(days=2))
    assert all(j.state is JobState.COMPLETED for j in b.jobs())
    completed = [u for u in b.usage() if u.state is JobState.COMPLETED]
    assert sorted(u.job_id for u in completed) == sorted(f"j{i}" for i in range(len(jobs)))
    for u in completed:
        assert u.gpu_seconds == u.gpus * jobs[int(u.job_id[1:])][2] * 60


def test_a_job_of_a_future_reservation_waits_for_its_window() -> None:
    clock = SimClock(T0)
    b = SimulatedBackend.uniform(clock, 1)
    r = b.reserve(["gn1"], "acme", Window(T0 + timedelta(hours=1), T0 + timedelta(hours=2)))
    b.launch(job("in-lease", 8, 10, reservation=r.name), Placement(("gn1",), 8))
    assert b.job("in-lease").state is JobState.PENDING
    clock.advance(timedelta(hours=1))
    assert b.job("in-lease").started_at == T0 + timedelta(hours=1)
