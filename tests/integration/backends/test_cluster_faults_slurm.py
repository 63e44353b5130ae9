"""Issue 13 faults on the real dev Slurm cluster (the same scenarios on the simulated engine are
in tests/integration/cluster/test_cluster_faults.py).

- A leased node fails while the customer's job runs in the lease's reservation: the reservation
  keeps the node, so after the node is back no reconcile/watch fails with "Requested reservation
  is in use" (the wedge), and the node is never open to other tenants.
- A drain set by a node health check is never resumed; the server goes to ``maintenance``.
- SLA downtime starts at Slurm's ``reason_changed_at``, not at the (late) poll.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from backend_harness import poll, script
from ledger_live import Live, customer

from suanli.backends.base import JobSpec, JobState, NodeState, Placement
from suanli.backends.slurm import SubprocessRunner
from suanli.core.clock import SimClock, SystemClock
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.cluster.control_loop import ControlLoop

pytestmark = pytest.mark.slurm


def _catch_up(live: Live) -> None:
    """The ledger's SimClock to the wall clock (Slurm's failure times are wall-clock times)."""
    assert isinstance(live.svc.clock, SimClock)
    live.svc.clock.advance(max(SystemClock().now() - live.svc.clock.now(), timedelta(0)))


def test_failed_leased_node_with_a_job_in_its_reservation_does_not_wedge(live: Live) -> None:
    customer(live, "acme")
    today = live.svc.clock.now().date()
    lease = live.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "1000", today, 1, serials=("gn3", "gn4"), notice_days=0),
        "ops",
    )
    name = f"lease-{lease.number}"
    loop = ControlLoop(live.cluster, live.jobs, live.svc.clock)
    assert loop.tick().reconciled.reserved == (name,)
    inside = f"inside-{uuid.uuid4().hex[:8]}"  # Slurm remembers names of earlier runs' jobs
    live.backend.launch(
        JobSpec(inside, "acme", "sleep 300", 8, reservation=name), Placement(("gn3",), 8)
    )
    poll(lambda: live.backend.job(inside).state is JobState.RUNNING, 20)
    try:
        assert script("kill-node", "gn4").returncode == 0
        poll(lambda: {n.name: n for n in live.backend.nodes()}["gn4"].state is NodeState.DOWN, 40)
        _catch_up(live)
        live.svc.clock.advance(timedelta(minutes=5))  # the poll comes late
        result = loop.tick()
        assert result.ok, result
        assert live.svc.fleet.get_server("gn4").state is ServerState.FAILED
        (event,) = live.svc.money.leasing.list_sla_events().items
        since = {n.name: n for n in live.backend.nodes()}["gn4"].since
        assert since is not None and event.down_from == since  # Slurm's time, not the poll's
        (res,) = live.backend.reservations()
        assert set(res.nodes) == {"gn3", "gn4"}
    finally:
        script("start-node", "gn4")
    poll(lambda: {n.name: n for n in live.backend.nodes()}["gn4"].state is not NodeState.DOWN, 60)
    for _ in range(2):  # the wedge made every tick after this fail
        result = loop.tick()
        assert result.ok, result
    assert live.svc.fleet.get_server("gn4").state is ServerState.LEASED
    assert {r.name: set(r.nodes) for r in live.backend.reservations()} == {name: {"gn3", "gn4"}}
    assert live.backend.job(inside).state is JobState.RUNNING


def test_health_check_drain_is_kept_and_marks_maintenance(live: Live, slurm_conf: str) -> None:
    runner = SubprocessRunner(slurm_conf)
    done = runner.run(
        ["scontrol", "update", "nodename=gn2", "state=drain", "reason=NHC: GPU Xid 79"]
    )
    assert done.ok, done.stderr
    try:
        report = live.cluster.reconcile()
        assert (report.resumed, report.site_drained, report.errors) == ((), ("gn2",), ())
        assert live.svc.fleet.get_server("gn2").state is ServerState.MAINTENANCE
        live.cluster.reconcile()
        node = {n.name: n for n in live.backend.nodes()}["gn2"]
        assert (node.state, node.reason) == (NodeState.DRAINED, "NHC: GPU Xid 79")
    finally:
        runner.run(["scontrol", "update", "nodename=gn2", "state=resume"])
    assert live.cluster.reconcile().site_resumed == ("gn2",)
    assert live.svc.fleet.get_server("gn2").state is ServerState.AVAILABLE
