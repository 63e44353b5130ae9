"""The backend protocol's contract, written once and run on every backend.

Each test runs on the simulated backend and (marker `slurm`) on the real 4-node x 8-GPU dev Slurm
cluster: sync, lease -> reservation, maintenance drain, a gang job across 2 nodes, spot preemption
through requeue, a node failure, and usage records. Durations are short `sleep` commands; the
simulated backend takes them from ``expected_runtime``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from suanli.backends.base import (
    EventKind,
    JobClass,
    JobSpec,
    JobState,
    NodeState,
    Placement,
    Window,
)
from suanli.core.errors import ConflictError, NotFoundError, ValidationError

if TYPE_CHECKING:
    from backend_harness import Harness


def sleeper(job_id: str, tenant: str, gpus: int, seconds: int, **kw: object) -> JobSpec:
    return JobSpec(
        id=job_id,
        tenant=tenant,
        command=f"sleep {seconds}",
        gpus=gpus,
        expected_runtime=timedelta(seconds=seconds),
        **kw,  # type: ignore[arg-type]
    )


def window(h: Harness, hours: float = 1) -> Window:
    now = h.now()
    return Window(now, now + timedelta(hours=hours))


def test_inventory_lists_four_nodes_of_eight_gpus(harness: Harness) -> None:
    nodes = {n.name: n for n in harness.backend.nodes()}
    assert sorted(nodes) == ["gn1", "gn2", "gn3", "gn4"]
    for n in nodes.values():
        assert (n.gpus, n.gpu_type, n.gpus_allocated, n.gpus_free) == (8, "h800", 0, 8)
        assert n.state is NodeState.IDLE


def test_lease_reservation_is_created_once_and_released_idempotently(harness: Harness) -> None:
    b = harness.backend
    w = window(harness)
    r = b.reserve(["gn3", "gn4"], "acme", w)
    assert (set(r.nodes), r.tenant) == ({"gn3", "gn4"}, "acme")
    assert b.reserve(["gn3", "gn4"], "acme", w).name == r.name
    assert [x.name for x in b.reservations()] == [r.name]
    with pytest.raises(ConflictError) as err:
        b.reserve(["gn4"], "beta", w)
    assert err.value.code == "backend.reservation_conflict"
    b.release(r.name)
    b.release(r.name)
    assert b.reservations() == []


def test_reserved_nodes_run_only_the_tenants_jobs(harness: Harness) -> None:
    b = harness.backend
    r = b.reserve(["gn3"], "acme", window(harness))
    b.launch(sleeper(harness.jid("outsider"), "beta", 8, 60), Placement(("gn3",), 8))
    b.launch(
        sleeper(harness.jid("insider"), "acme", 4, 60, reservation=r.name), Placement(("gn3",), 4)
    )
    harness.until(lambda: harness.state(harness.jid("insider")) is JobState.RUNNING)
    assert harness.state(harness.jid("outsider")) is JobState.PENDING
    with pytest.raises(ConflictError) as err:
        b.launch(
            sleeper(harness.jid("intruder"), "beta", 4, 60, reservation=r.name),
            Placement(("gn3",), 4),
        )
    assert err.value.code == "backend.reservation_denied"
    b.cancel(harness.jid("insider"))
    b.release(r.name)
    harness.until(lambda: harness.state(harness.jid("outsider")) is JobState.RUNNING)


def test_reserving_busy_nodes_is_refused(harness: Harness) -> None:
    b = harness.backend
    b.launch(sleeper(harness.jid("busy"), "beta", 8, 60), Placement(("gn2",), 8))
    harness.until(lambda: harness.state(harness.jid("busy")) is JobState.RUNNING)
    with pytest.raises(ConflictError) as err:
        b.reserve(["gn2"], "acme", window(harness))
    assert err.value.code == "backend.nodes_busy"
    assert b.reservations() == []


def test_drain_stops_new_work_until_resume(harness: Harness) -> None:
    b = harness.backend
    b.drain("gn2", "fan replacement")
    b.drain("gn2", "fan replacement")
    node = {n.name: n for n in b.nodes()}["gn2"]
    assert (node.state, node.reason, node.gpus_free) == (NodeState.DRAINED, "fan replacement", 0)
    b.launch(sleeper(harness.jid("after-maint"), "acme", 8, 60), Placement(("gn2",), 8))
    harness.until(lambda: harness.state(harness.jid("after-maint")) is JobState.PENDING, 3)
    b.resume("gn2")
    b.resume("gn2")
    harness.until(lambda: harness.state(harness.jid("after-maint")) is JobState.RUNNING)
    with pytest.raises(NotFoundError):
        b.drain("gn99", "typo")


def test_gang_job_across_two_nodes_runs_meters_and_reports(harness: Harness) -> None:
    b = harness.backend
    info = b.launch(sleeper(harness.jid("gang"), "acme", 16, 2), Placement(("gn1", "gn2"), 8))
    assert (
        b.launch(
            sleeper(harness.jid("gang"), "acme", 16, 2), Placement(("gn1", "gn2"), 8)
        ).engine_id
        == info.engine_id
    )
    harness.until(lambda: harness.state(harness.jid("gang")) is JobState.RUNNING)
    used = {n.name: n.gpus_allocated for n in b.nodes()}
    assert (used["gn1"], used["gn2"], used["gn3"]) == (8, 8, 0)
    harness.until(lambda: harness.state(harness.jid("gang")) is JobState.COMPLETED)
    kinds = [e.kind for e in b.events() if e.subject == harness.jid("gang")]
    assert kinds == [EventKind.JOB_STARTED, EventKind.JOB_FINISHED]
    harness.until(lambda: any(u.job_id == harness.jid("gang") for u in b.usage()), 5)
    (rec,) = [u for u in b.usage() if u.job_id == harness.jid("gang")]
    assert (rec.tenant, rec.gpus, rec.state, set(rec.nodes)) == (
        "acme",
        16,
        JobState.COMPLETED,
        {"gn1", "gn2"},
    )
    assert 16 * 1 <= rec.gpu_seconds <= 16 * 5
    assert b.usage() == b.usage()  # re-reading is idempotent


def test_spot_job_is_preempted_by_requeue_and_relaunched_elsewhere(harness: Harness) -> None:
    b = harness.backend
    b.launch(
        sleeper(harness.jid("spot"), "beta", 8, 120, job_class=JobClass.SPOT),
        Placement(("gn3",), 8),
    )
    harness.until(lambda: harness.state(harness.jid("spot")) is JobState.RUNNING)
    b.requeue(harness.jid("spot"))
    b.requeue(harness.jid("spot"))
    harness.until(lambda: harness.state(harness.jid("spot")) is JobState.REQUEUED)
    b.launch(sleeper(harness.jid("urgent"), "acme", 8, 120), Placement(("gn3",), 8))
    harness.until(lambda: harness.state(harness.jid("urgent")) is JobState.RUNNING)
    assert (
        harness.state(harness.jid("spot")) is JobState.REQUEUED
    )  # held: it does not come back by itself
    b.launch(
        sleeper(harness.jid("spot"), "beta", 8, 120, job_class=JobClass.SPOT),
        Placement(("gn1",), 8),
    )
    harness.until(lambda: harness.state(harness.jid("spot")) is JobState.RUNNING)
    spot = b.job(harness.jid("spot"))
    assert (spot.nodes, spot.restarts) == (("gn1",), 1)
    assert EventKind.JOB_REQUEUED in [
        e.kind for e in b.events() if e.subject == harness.jid("spot")
    ]
    b.cancel(harness.jid("spot"))
    b.cancel(harness.jid("spot"))
    harness.until(lambda: harness.state(harness.jid("spot")) is JobState.CANCELLED)


def test_node_failure_is_detected_and_its_job_requeued(harness: Harness) -> None:
    b = harness.backend
    b.launch(sleeper(harness.jid("victim"), "acme", 8, 60), Placement(("gn4",), 8))
    harness.until(lambda: harness.state(harness.jid("victim")) is JobState.RUNNING)
    cursor = b.events()[-1].seq
    harness.fail_node("gn4")
    harness.until(
        lambda: any(e.kind is EventKind.NODE_DOWN and e.subject == "gn4" for e in b.events(cursor)),
        30,
    )
    harness.until(
        lambda: (
            b.job(harness.jid("victim")).restarts == 1
            and harness.state(harness.jid("victim")) is JobState.PENDING
        ),
        15,
    )
    assert {n.name: n.state for n in b.nodes()}["gn4"] is NodeState.DOWN
    b.launch(sleeper(harness.jid("victim"), "acme", 8, 60), Placement(("gn1",), 8))
    harness.until(lambda: harness.state(harness.jid("victim")) is JobState.RUNNING)
    assert b.job(harness.jid("victim")).nodes == ("gn1",)
    harness.repair_node("gn4")
    harness.until(
        lambda: any(e.kind is EventKind.NODE_UP and e.subject == "gn4" for e in b.events(cursor)),
        30,
    )
    kinds = [e.kind for e in b.events(cursor) if e.subject == harness.jid("victim")]
    assert kinds[:2] == [EventKind.JOB_REQUEUED, EventKind.JOB_STARTED]
    harness.until(lambda: any(u.job_id == harness.jid("victim") for u in b.usage()), 5)
    lost = [u for u in b.usage() if u.job_id == harness.jid("victim")]
    assert [(u.state, u.nodes) for u in lost] == [(JobState.FAILED, ("gn4",))]
    b.cancel(harness.jid("victim"))


def test_bad_requests_are_coded_errors(harness: Harness) -> None:
    b = harness.backend
    with pytest.raises(ValidationError) as err:
        b.launch(sleeper(harness.jid("odd"), "acme", 12, 1), Placement(("gn1", "gn2"), 8))
    assert err.value.code == "backend.invalid_placement"
    with pytest.raises(NotFoundError) as nf:
        b.cancel("never-launched")
    assert nf.value.code == "backend.unknown_job"
    with pytest.raises(NotFoundError):
        b.requeue("never-launched")
    with pytest.raises(NotFoundError):
        b.reserve(["gn9"], "acme", window(harness))
    with pytest.raises(ValidationError):
        b.reserve(["gn1"], "bad tenant!", window(harness))


def test_events_are_a_log_read_from_a_cursor(harness: Harness) -> None:
    b = harness.backend
    b.launch(sleeper(harness.jid("e1"), "acme", 8, 1), Placement(("gn1",), 8))
    harness.until(lambda: harness.state(harness.jid("e1")) is JobState.COMPLETED)
    events = b.events()
    seqs = [e.seq for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert b.events(seqs[-1]) == []
    assert b.events(seqs[0]) == events[1:]


def test_a_reservation_is_updated_in_place_while_a_job_runs_in_it(harness: Harness) -> None:
    """Issue 13: deleting a reservation in use fails in Slurm; updating its nodes does not."""
    b = harness.backend
    r = b.reserve(["gn3"], "acme", window(harness))
    b.launch(
        sleeper(harness.jid("inside"), "acme", 4, 60, reservation=r.name), Placement(("gn3",), 4)
    )
    harness.until(lambda: harness.state(harness.jid("inside")) is JobState.RUNNING)
    grown = b.update_reservation(r.name, ["gn3", "gn4"])
    assert (grown.name, set(grown.nodes), grown.tenant) == (r.name, {"gn3", "gn4"}, "acme")
    assert b.update_reservation(r.name, ["gn4", "gn3"]) == grown  # idempotent
    assert harness.state(harness.jid("inside")) is JobState.RUNNING
    with pytest.raises(NotFoundError) as err:
        b.update_reservation("no-such-reservation", ["gn1"])
    assert err.value.code == "backend.unknown_reservation"
