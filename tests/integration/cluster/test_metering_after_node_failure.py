"""Metering of a run lost to a node failure (issue 11 §5): no test metered after
``fail_node()``. The run the platform lost is free (``NODE_FAIL``); the relaunched run is
charged for its own time only, once, on both engines."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from conftest import Wired
from suanli.backends.base import JobState
from suanli.services.billing.leasing import ReservedSpec


def test_a_run_lost_to_a_node_failure_is_free_and_its_relaunch_is_charged(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    wired.svc.money.tenancy.create_customer("acme", "Acme")
    today = wired.clock.now().date()
    wired.svc.money.leasing.create_reserved(
        ReservedSpec("acme", "HGX-H800-8", 8, "20", today, 12), "ops"
    )
    queued = wired.jobs.submit("acme", 8, "reserved", "train")
    wired.jobs.schedule()
    job = wired.jobs.get(queued.id)
    (first_node,) = job.nodes
    wired.clock.advance(timedelta(minutes=4))  # 4 of its 10 minutes run, then the node dies
    wired.backend.fail_node(first_node)
    wired.cluster.watch()
    assert wired.jobs.requeue_lost() == 1
    wired.jobs.schedule()
    assert first_node not in wired.jobs.get(job.id).nodes
    wired.clock.advance(timedelta(minutes=11))  # the relaunch runs its full 10 minutes
    wired.jobs.refresh()
    assert wired.backend.job(job.engine_name).state is JobState.COMPLETED
    runs = sorted(wired.backend.usage(None), key=lambda u: u.start)
    assert [(u.engine_state, u.nodes[0] == first_node) for u in runs] == [
        ("NODE_FAIL", True),
        ("COMPLETED", False),
    ]
    result = wired.jobs.meter()
    assert (result.received, result.accepted, result.rejected) == (1, 1, [])
    (record,) = wired.svc.money.metering.list_usage(job_id=job.engine_name).items
    assert record.gpu_seconds == Decimal(8 * 10 * 60)  # not 8 x 14 minutes
    assert record.ended_at - record.started_at == timedelta(minutes=10)
    assert wired.jobs.meter().accepted == 0  # reread from the watermark margin, not recharged
    assert len(wired.svc.money.metering.list_usage(job_id=job.engine_name).items) == 1
