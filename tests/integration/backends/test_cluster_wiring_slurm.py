"""The ledger wiring (services.cluster, services.cloud_jobs) against the real dev Slurm cluster.

One SQLite ledger per test; the cluster is the session's (see conftest.py), locked and cleaned.
Waits are scaled with ``SUANLI_SLURM_WAIT_SCALE`` (backend_harness.poll).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from backend_harness import poll, script
from ledger_live import Live, customer

from suanli.backends.base import JobState, NodeState
from suanli.core.billing import month_of
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.cluster.cloud_jobs import CloudJob

pytestmark = pytest.mark.slurm


def _submit(live: Live, customer: str, gpus: int, job_class: str, command: str) -> CloudJob:
    """Queue a job and run one admission cycle, as the control loop's tick does."""
    job = live.jobs.submit(customer, gpus, job_class, command)
    live.jobs.schedule()
    return live.jobs.get(job.id)


def test_sync_lease_reservation_and_maintenance(live: Live) -> None:
    assert {live.svc.fleet.get_server(n).state for n in ("gn1", "gn2", "gn3", "gn4")} == {
        ServerState.AVAILABLE
    }
    assert live.cluster.drift() == []
    customer(live, "acme")
    today = live.svc.clock.now().date()
    lease = live.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "1000", today, 1, serials=("gn3", "gn4"), notice_days=0),
        "ops",
    )
    assert live.cluster.reconcile().reserved == (f"lease-{lease.number}",)
    (res,) = live.backend.reservations()
    assert (set(res.nodes), res.tenant) == ({"gn3", "gn4"}, "acme")
    assert live.cluster.drift() == []
    live.svc.fleet.transition("gn2", ServerState.MAINTENANCE, "ops", "fan")
    assert live.cluster.reconcile().drained == ("gn2",)
    poll(lambda: {n.name: n.state for n in live.backend.nodes()}["gn2"] is NodeState.DRAINED, 10)
    live.svc.fleet.transition("gn2", ServerState.AVAILABLE, "ops", "fixed")
    live.svc.money.leasing.terminate(lease.number, today + timedelta(days=1), "ops", "end")
    assert isinstance(live.svc.clock, SimClock)
    live.svc.clock.advance(timedelta(days=2))  # the ledger's clock only
    live.svc.money.leasing.release_due("ops")
    report = live.cluster.reconcile()
    assert report.released == (f"lease-{lease.number}",) and report.resumed == ("gn2",)
    assert live.backend.reservations() == []


def test_gang_job_spot_preemption_and_invoice(live: Live) -> None:
    customer(live, "cheap")
    customer(live, "prio", reserved_gpus=16)
    start = live.svc.clock.now().date().replace(day=1)
    live.svc.money.metering.set_price("HGX-H800-8", "spot", "12", start)
    spots = [_submit(live, "cheap", 8, "spot", "sleep 300") for _ in range(4)]
    assert all(s.state == "running" for s in spots)
    poll(lambda: all(live.backend.job(s.engine_name).state is JobState.RUNNING for s in spots), 20)
    gang = _submit(live, "prio", 16, "reserved", "sleep 3")
    assert gang.state == "running" and len(gang.nodes) == 2
    victims = [s.engine_name for s in spots if live.jobs.get(s.id).state == "queued"]
    assert len(victims) == 2
    assert all(live.backend.job(v).state is JobState.REQUEUED for v in victims)

    def gang_done() -> bool:
        live.jobs.refresh()
        return live.jobs.get(gang.id).state == "completed"

    poll(gang_done, 30)
    assert live.backend.job(gang.engine_name).gpus == 16
    for s in spots:
        live.jobs.cancel(s.id)
    poll(lambda: any(u.job_id == spots[0].engine_name for u in live.backend.usage()), 30)
    result = live.jobs.meter()
    assert result.accepted >= 1 and not result.rejected
    # Idempotent: everything metered once comes back as a duplicate. (Usage of the other
    # cancelled jobs may still be arriving from Slurm, so new records can be accepted here.)
    again = live.jobs.meter()
    assert again.duplicates >= result.received and not again.rejected
    period = month_of(live.svc.clock.now().date())
    assert isinstance(live.svc.clock, SimClock)
    live.svc.clock.advance(timedelta(days=40))  # the ledger's clock: the month is over
    live.svc.money.billing.run(period)
    lines = [
        line
        for inv in live.svc.money.ledger.list_invoices().items
        for line in live.svc.money.ledger.get_invoice(inv.number).lines
    ]
    assert any("spot" in line.description.lower() and line.net >= Decimal(0) for line in lines)


def test_node_failure_fails_server_and_requeues(live: Live) -> None:
    customer(live, "acme", reserved_gpus=8)
    today = live.svc.clock.now().date()
    lease = live.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "1000", today, 1, serials=("gn4",)), "ops"
    )
    live.cluster.reconcile()
    job = _submit(live, "acme", 8, "reserved", "sleep 300")
    node = job.nodes[0]
    try:
        poll(lambda: live.backend.job(job.engine_name).state is JobState.RUNNING, 20)
    except AssertionError:
        raise AssertionError(str(live.backend.job(job.engine_name))) from None
    try:
        assert script("kill-node", node).returncode == 0
        assert script("kill-node", "gn4").returncode == 0
        poll(lambda: _watched(live) and _both_failed(live, node), 40)
        (event,) = live.svc.money.leasing.list_sla_events().items
        assert event.contract == lease.number and event.down_until is None
        assert live.jobs.requeue_lost() == 1
        decision = live.jobs.schedule()
        assert [f"j{a.job}" for a in decision.admits] == [job.id]
        assert node not in live.jobs.get(job.id).nodes
    finally:
        script("start-node", node)
        script("start-node", "gn4")
    poll(lambda: _watched(live) and _both_back(live, node), 60)
    (event,) = live.svc.money.leasing.list_sla_events().items
    assert event.down_until is not None


def _watched(live: Live) -> bool:
    live.cluster.watch()
    return True


def _both_failed(live: Live, node: str) -> bool:
    return {live.svc.fleet.get_server(n).state for n in (node, "gn4")} == {ServerState.FAILED}


def _both_back(live: Live, node: str) -> bool:
    return (
        live.svc.fleet.get_server(node).state is ServerState.AVAILABLE
        and live.svc.fleet.get_server("gn4").state is ServerState.LEASED
    )
