"""Issue 13 faults on the simulated engine (the same scenarios run on real Slurm in
tests/integration/backends/test_cluster_faults_slurm.py): a failed leased node stays in its
lease's reservation, reservations change in place, foreign drains are never undone, downtime
starts at the engine's failure time."""

from __future__ import annotations

from datetime import timedelta

from conftest import Wired
from suanli.backends.base import JobSpec, JobState, NodeState, Placement
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.cluster.inventory import DRAIN_PREFIX


def _lease(w: Wired, serials: tuple[str, ...]) -> str:
    w.cluster.sync(apply=True)
    w.svc.money.tenancy.create_customer("acme", "Acme")
    today = w.clock.now().date()
    lease = w.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", today, 12, serials=serials, notice_days=0), "ops"
    )
    assert w.cluster.reconcile().reserved == (f"lease-{lease.number}",)
    return lease.number


def test_failed_leased_node_stays_reserved_and_downtime_starts_at_the_failure(wired: Wired) -> None:
    number = _lease(wired, ("gn3", "gn4"))
    name = f"lease-{number}"
    job = JobSpec("inside", "acme", "sleep 600", 8, reservation=name)
    wired.backend.launch(job, Placement(("gn3",), 8))
    failed_at = wired.clock.now()
    wired.backend.fail_node("gn4")
    wired.clock.advance(timedelta(minutes=7))  # the poll comes late
    assert wired.cluster.watch().failed == ("gn4",)
    (event,) = wired.svc.money.leasing.list_sla_events().items
    assert event.down_from == failed_at  # not the poll time
    report = wired.cluster.reconcile()
    assert (report.released, report.updated, report.errors) == ((), (), ())
    (res,) = wired.backend.reservations()
    assert set(res.nodes) == {"gn3", "gn4"}  # the failed node is not open to anyone
    wired.backend.repair_node("gn4")
    assert wired.cluster.watch().restored == ("gn4",)
    assert wired.cluster.reconcile().errors == ()
    assert wired.backend.job("inside").state is JobState.RUNNING
    assert {r.name: set(r.nodes) for r in wired.backend.reservations()} == {name: {"gn3", "gn4"}}


def test_a_reservation_whose_nodes_differ_is_updated_in_place(wired: Wired) -> None:
    number = _lease(wired, ("gn3", "gn4"))
    name = f"lease-{number}"
    (res,) = wired.backend.reservations()
    wired.backend.release(name)
    wired.backend.reserve(["gn3"], "acme", res.window, name=name)  # someone shrank it by hand
    wired.backend.launch(
        JobSpec("inside", "acme", "sleep 600", 8, reservation=name), Placement(("gn3",), 8)
    )
    report = wired.cluster.reconcile()
    assert (report.updated, report.released, report.reserved) == ((name,), (), ())
    assert {r.name: set(r.nodes) for r in wired.backend.reservations()} == {name: {"gn3", "gn4"}}
    assert wired.backend.job("inside").state is JobState.RUNNING


def test_health_check_drains_are_never_resumed_and_mark_maintenance(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    wired.backend.drain("gn2", "NHC: GPU Xid 79")
    report = wired.cluster.reconcile()
    assert (report.resumed, report.site_drained) == ((), ("gn2",))
    server = wired.svc.fleet.get_server("gn2")
    assert server.state is ServerState.MAINTENANCE
    assert "NHC: GPU Xid 79" in wired.svc.fleet.transitions("gn2").items[-1].reason
    again = wired.cluster.reconcile()  # idempotent, and still not resumed nor drained over
    assert (again.resumed, again.drained, again.site_drained) == ((), (), ())
    node = {n.name: n for n in wired.backend.nodes()}["gn2"]
    assert (node.state, node.reason) == (NodeState.DRAINED, "NHC: GPU Xid 79")
    wired.backend.resume("gn2")  # the site clears it
    assert wired.cluster.reconcile().site_resumed == ("gn2",)
    assert wired.svc.fleet.get_server("gn2").state is ServerState.AVAILABLE


def test_only_drains_suanli_set_are_resumed(wired: Wired) -> None:
    wired.cluster.sync(apply=True)
    wired.svc.fleet.transition("gn4", ServerState.MAINTENANCE, "ops", "fan")
    assert wired.cluster.reconcile().drained == ("gn4",)
    node = {n.name: n for n in wired.backend.nodes()}["gn4"]
    assert node.reason.startswith(DRAIN_PREFIX)
    wired.svc.fleet.transition("gn4", ServerState.AVAILABLE, "ops", "fixed")
    assert wired.cluster.reconcile().resumed == ("gn4",)


def test_one_failing_object_does_not_stop_the_others(wired: Wired) -> None:
    number = _lease(wired, ("gn1",))
    (res,) = wired.backend.reservations()
    wired.backend.release(res.name)
    wired.backend.reserve(["gn1"], "beta", res.window, name="blocker")
    wired.svc.fleet.transition("gn4", ServerState.MAINTENANCE, "ops", "fan")
    report = wired.cluster.reconcile()
    assert report.errors == (f"lease-{number}: backend.reservation_conflict",)
    assert report.drained == ("gn4",)  # reconciled despite the error above
