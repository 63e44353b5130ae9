"""The control loop (services.cluster.control_loop) on the simulated engine: a tick admits queued
jobs, and an engine error in one step is counted while the other steps and later ticks go on."""

from __future__ import annotations

from datetime import datetime, timedelta

from conftest import Wired
from suanli.backends.base import BackendError, Node, UsageRecord
from suanli.backends.simulated import SimulatedBackend
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.control_loop import ControlLoop
from suanli.services.cluster.inventory import ClusterService


class FlakyBackend(SimulatedBackend):
    """The simulated engine whose ``nodes()`` fails while ``down`` is set (slurmctld away)."""

    down = False

    def nodes(self) -> list[Node]:
        if self.down:
            raise BackendError("backend.unavailable", "Unable to contact slurm controller", {})
        return super().nodes()


def _loop_over(wired: Wired, backend: SimulatedBackend) -> tuple[ControlLoop, CloudJobService]:
    """The services of ``wired``'s ledger over another engine (a fake with injected faults)."""
    cluster = ClusterService(
        wired.svc.sessions, wired.clock, wired.svc.catalog, backend, wired.cluster.config
    )
    jobs = CloudJobService(
        wired.svc.sessions, wired.clock, wired.svc.catalog, cluster,
        expected_runtime=timedelta(minutes=10),
    )  # fmt: skip
    return ControlLoop(cluster, jobs, wired.clock), jobs


def _flaky_loop(wired: Wired) -> tuple[FlakyBackend, ControlLoop, CloudJobService]:
    backend = FlakyBackend(wired.clock, {f"gn{i}": 8 for i in range(1, 5)})
    return (backend, *_loop_over(wired, backend))


def test_a_tick_admits_what_submit_queued(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    wired.svc.money.tenancy.create_customer("acme", "Acme")
    job = wired.jobs.submit("acme", 8, "spot", "sleep 60")
    assert wired.jobs.get(job.id).state == "queued"
    result = ControlLoop(wired.cluster, wired.jobs, wired.clock).tick()
    assert (result.launched, result.errors, result.ok) == (1, (), True)
    assert wired.jobs.get(job.id).state == "running"


def test_an_engine_error_is_counted_and_the_loop_goes_on(wired: Wired) -> None:
    backend, loop, jobs = _flaky_loop(wired)
    loop.cluster.sync(apply=True)
    wired.svc.money.tenancy.create_customer("acme", "Acme")
    job = jobs.submit("acme", 8, "spot", "sleep 60")
    backend.down = True
    sleeps: list[float] = []
    seen: list[tuple[str, ...]] = []

    def on_tick(result: object, totals: object) -> None:
        from suanli.services.cluster.control_loop import TickResult

        assert isinstance(result, TickResult)
        seen.append(tuple(e.step for e in result.errors) + result.reconciled.errors)
        backend.down = False  # the controller is back for the next tick

    totals = loop.run(5.0, ticks=2, on_tick=on_tick, sleep=sleeps.append)
    # reconcile reports the engine error as its own; requeue_lost and meter still ran
    assert seen[0] == ("watch", "schedule", "engine: backend.unavailable")
    assert seen[1] == ()
    assert (totals.ticks, totals.failed_steps, totals.object_errors, sleeps) == (2, 2, 1, [5.0])
    assert totals.errors_by_code == {"backend.unavailable": 2}
    assert jobs.get(job.id).state == "running"  # admitted by the second tick


def test_an_unexpected_exception_in_a_step_does_not_stop_the_tick(wired: Wired) -> None:
    class Broken(FlakyBackend):
        def usage(self, since: datetime | None = None) -> list[UsageRecord]:
            raise RuntimeError("disk full")

    loop, _ = _loop_over(wired, Broken(wired.clock, {"gn1": 8}))
    result = loop.tick()
    assert [(e.step, e.code) for e in result.errors] == [("meter", "internal.RuntimeError")]


def test_metering_reads_incrementally_from_the_watermark(wired: Wired) -> None:
    """Issue 13: ``meter`` asks the engine only for runs that ended after the stored watermark
    (minus the margin), and the watermark follows the latest run end it read."""
    from suanli.services.cluster.cloud_jobs import WATERMARK_MARGIN

    asked: list[datetime | None] = []

    class Recording(SimulatedBackend):
        def usage(self, since: datetime | None = None) -> list[UsageRecord]:
            asked.append(since)
            return super().usage(since)

    backend = Recording(wired.clock, {f"gn{i}": 8 for i in range(1, 5)})
    loop, jobs = _loop_over(wired, backend)
    loop.cluster.sync(apply=True)
    wired.svc.money.tenancy.create_customer("acme", "Acme")
    received = []
    for _ in range(3):
        jobs.submit("acme", 8, "spot", "sleep 600")
        jobs.schedule()
        wired.clock.advance(timedelta(minutes=11))
        received.append(jobs.meter().received)
        wired.clock.advance(timedelta(hours=1))
    ends = sorted(u.end for u in backend.usage())
    # the first read is full; later ones start a margin before the latest run end already read,
    # so the run before is reread once (a duplicate) and the ones before it never again
    assert asked[0] is None
    assert asked[1:3] == [ends[0] - WATERMARK_MARGIN, ends[1] - WATERMARK_MARGIN]
    assert received == [1, 2, 2]
