"""The ledger wiring against the simulated engine, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from conftest import Wired
from suanli.backends.base import JobState, NodeState
from suanli.backends.sync import DriftKind
from suanli.core.billing import month_of
from suanli.core.errors import ConflictError, ValidationError
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec, ReservedSpec
from suanli.services.cluster.cloud_jobs import CloudJob


def _customer(w: Wired, code: str = "acme", reserved_gpus: int = 0) -> None:
    w.svc.money.tenancy.create_customer(code, code.title())
    if reserved_gpus:
        w.svc.money.leasing.create_reserved(
            ReservedSpec(code, "HGX-H800-8", reserved_gpus, "20", w.clock.now().date(), 12),
            "ops",
        )


def _submit(w: Wired, customer: str, gpus: int, job_class: str, command: str) -> CloudJob:
    """Queue a job and run one admission cycle, as the control loop's tick does."""
    job = w.jobs.submit(customer, gpus, job_class, command)
    w.jobs.schedule()
    return w.jobs.get(job.id)


def test_sync_creates_servers_and_reports_drift(wired: Wired) -> None:
    report = wired.cluster.sync(apply=False)
    assert {d.kind for d in report.drift} == {DriftKind.UNKNOWN_TO_LEDGER}
    report = wired.cluster.sync(apply=True)
    assert report.created == ("gn1", "gn2", "gn3", "gn4")
    assert report.drift == ()
    server = wired.svc.fleet.get_server("gn2")
    assert (server.sku, server.gpu_count, server.state) == ("HGX-H800-8", 8, ServerState.AVAILABLE)
    assert wired.cluster.sync(apply=True).created == ()  # idempotent
    wired.backend.drain("gn3", "by hand")
    assert [(d.node, d.kind) for d in wired.cluster.drift()] == [
        ("gn3", DriftKind.DRAINED_NOT_IN_MAINTENANCE)
    ]


def test_unknown_gres_type_is_a_coded_error(wired: Wired) -> None:
    with pytest.raises(ValidationError) as exc:
        wired.cluster.sku_for("b300", 8)
    assert exc.value.code == "cluster.unknown_gres"
    assert wired.cluster.sku_for("H800", 8) == "HGX-H800-8"


def test_lease_reserves_nodes_and_termination_releases(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired)
    today = wired.clock.now().date()
    lease = wired.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", today, 12, serials=("gn1", "gn2"), notice_days=0),
        "ops",
    )
    assert [d.kind for d in wired.cluster.drift()] == [DriftKind.LEASED_NOT_RESERVED] * 2
    report = wired.cluster.reconcile()
    assert report.reserved == (f"lease-{lease.number}",)
    (res,) = wired.backend.reservations()
    assert (set(res.nodes), res.tenant) == ({"gn1", "gn2"}, "acme")
    assert wired.cluster.drift() == []
    assert wired.cluster.reconcile().reserved == ()  # idempotent
    wired.svc.money.leasing.terminate(lease.number, today + timedelta(days=1), "ops", "done")
    wired.clock.advance(timedelta(days=2))
    wired.svc.money.leasing.release_due("ops")
    assert wired.cluster.reconcile().released == (f"lease-{lease.number}",)
    assert wired.backend.reservations() == []


def test_maintenance_drains_and_resume(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    wired.svc.fleet.transition("gn4", ServerState.MAINTENANCE, "ops", "fan")
    assert wired.cluster.reconcile().drained == ("gn4",)
    assert {n.name: n.state for n in wired.backend.nodes()}["gn4"] is NodeState.DRAINED
    wired.svc.fleet.transition("gn4", ServerState.AVAILABLE, "ops", "fixed")
    assert wired.cluster.reconcile().resumed == ("gn4",)
    assert wired.cluster.drift() == []


def test_gang_job_admitted_on_two_whole_nodes_and_metered(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired, reserved_gpus=16)
    job = _submit(wired, "acme", 16, "reserved", "train.sh")
    assert job.state == "running" and len(job.nodes) == 2
    assert wired.backend.job(job.engine_name).gpus == 16
    wired.clock.advance(timedelta(minutes=11))
    wired.jobs.refresh()
    assert wired.jobs.get(job.id).state == "completed"
    first = wired.jobs.meter()
    assert first.accepted == 1
    assert wired.jobs.meter().accepted == 0  # idempotent by usage id
    (usage,) = wired.svc.money.metering.list_usage().items
    assert usage.gpu_seconds == Decimal(16 * 600)


def test_reserved_quota_enforced(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired, reserved_gpus=8)
    with pytest.raises(ConflictError) as exc:
        _submit(wired, "acme", 16, "reserved", "x")
    assert exc.value.code == "job.quota_exceeded"
    a = _submit(wired, "acme", 8, "reserved", "x")
    b = _submit(wired, "acme", 8, "reserved", "x")
    assert (a.state, b.state) == ("running", "queued")  # quota, not capacity, holds b


def test_spot_preempted_for_reserved(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired, "cheap")
    _customer(wired, "prio", reserved_gpus=32)
    spots = [_submit(wired, "cheap", 8, "spot", "s") for _ in range(4)]
    assert all(s.state == "running" for s in spots)
    big = _submit(wired, "prio", 16, "reserved", "r")
    assert big.state == "running"
    states = [wired.jobs.get(s.id).state for s in spots]
    assert states.count("queued") == 2
    victims = [s.engine_name for s, st in zip(spots, states, strict=True) if st == "queued"]
    assert all(wired.backend.job(v).state is JobState.REQUEUED for v in victims)
    freed = {n for s in spots if s.engine_name in victims for n in s.nodes}
    assert set(wired.jobs.get(big.id).nodes) == freed and len(freed) == 2
    # the victims come back when capacity returns: after the reserved job ends
    wired.clock.advance(timedelta(minutes=11))
    decision = wired.jobs.schedule()
    assert len(decision.admits) == 2
    assert all(wired.jobs.get(s.id).state == "running" for s in spots if s.engine_name in victims)
    assert all(wired.backend.job(v).state is JobState.RUNNING for v in victims)


def test_node_failure_fails_server_records_downtime_and_requeues(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired, reserved_gpus=8)
    today = wired.clock.now().date()
    lease = wired.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", today, 12, serials=("gn1",)), "ops"
    )
    wired.cluster.reconcile()
    job = _submit(wired, "acme", 8, "reserved", "long")
    node = job.nodes[0]
    wired.backend.fail_node("gn1")
    wired.backend.fail_node(node)
    report = wired.cluster.watch()
    assert set(report.failed) == {"gn1", node}
    assert report.downtime_opened == (lease.number,)
    assert wired.svc.fleet.get_server(node).state is ServerState.FAILED
    assert wired.jobs.requeue_lost() == 1
    relaunched = wired.jobs.schedule()
    assert [a.job for a in relaunched.admits] == [int(job.id[1:])]
    assert node not in wired.jobs.get(job.id).nodes
    wired.clock.advance(timedelta(hours=1))
    wired.backend.repair_node("gn1")
    wired.backend.repair_node(node)
    back = wired.cluster.watch()
    assert set(back.restored) == {"gn1", node}
    assert back.downtime_closed == (lease.number,)
    (event,) = wired.svc.money.leasing.list_sla_events().items
    assert event.down_until is not None and event.down_until - event.down_from == timedelta(hours=1)
    assert wired.svc.fleet.get_server("gn1").state is ServerState.LEASED
    assert wired.svc.fleet.get_server(node).state is ServerState.AVAILABLE


def test_usage_reaches_the_invoice(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired)
    start = wired.clock.now().date().replace(day=1)
    wired.svc.money.metering.set_price("HGX-H800-8", "spot", "12", start)
    job = _submit(wired, "acme", 4, "spot", "x")
    wired.clock.advance(timedelta(minutes=30))
    wired.jobs.refresh()
    assert wired.jobs.meter().accepted == 1
    period = month_of(wired.clock.now().date())
    wired.clock.advance(timedelta(days=40))
    wired.svc.money.billing.run(period)
    lines = [
        line
        for inv in wired.svc.money.ledger.list_invoices().items
        for line in wired.svc.money.ledger.get_invoice(inv.number).lines
    ]
    usage = [line for line in lines if "spot" in line.description.lower()]
    assert usage, [line.description for line in lines]
    # 4 GPUs x 10 simulated minutes at 12 per GPU-hour
    assert usage[0].net == Decimal("8.00"), usage[0]
    assert job.engine_name in {u.job_id for u in wired.svc.money.metering.list_usage().items}


def test_cancel_stops_the_engine_job(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired)
    job = _submit(wired, "acme", 2, "spot", "x")
    assert wired.jobs.cancel(job.id).state == "cancelled"
    assert wired.backend.job(job.engine_name).state is JobState.CANCELLED
    with pytest.raises(ConflictError):
        wired.jobs.cancel(job.id)
    assert date  # keeps the import used


def test_single_node_preemption_picks_one_spot_victim(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired, "cheap")
    _customer(wired, "prio", reserved_gpus=8)
    spots = [_submit(wired, "cheap", 8, "spot", "s") for _ in range(4)]
    _submit(wired, "prio", 8, "reserved", "r")
    assert [wired.jobs.get(s.id).state for s in spots].count("queued") == 1


def test_lease_of_a_busy_node_evicts_cloud_jobs_then_reserves(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    _customer(wired, "cheap")
    _customer(wired, "acme")
    job = _submit(wired, "cheap", 8, "spot", "s")
    (node,) = job.nodes
    today = wired.clock.now().date()
    lease = wired.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "1000", today, 1, serials=(node,)), "ops"
    )
    first = wired.cluster.reconcile()
    assert first.reserved == () and first.errors == (f"lease-{lease.number}: backend.nodes_busy",)
    decision = wired.jobs.schedule()  # evicts the job and relaunches it on another node
    assert decision.preempts == (int(job.id[1:]),)
    moved = wired.jobs.get(job.id)
    assert moved.state == "running" and node not in moved.nodes
    assert wired.cluster.reconcile().reserved == (f"lease-{lease.number}",)
