"""Inventory sync: ledger expectations vs the engine's nodes, on the simulated backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from suanli.backends.base import JobSpec, Placement, Window
from suanli.backends.simulated import SimulatedBackend
from suanli.backends.sync import (
    DriftKind,
    ExpectedServer,
    ExpectedStatus,
    apply_plan,
    find_drift,
    plan_sync,
)
from suanli.core.clock import SimClock

T0 = datetime(2025, 3, 1, tzinfo=UTC)
LEASE = Window(T0, T0 + timedelta(days=30))


def server(node: str, status: ExpectedStatus, **kw: object) -> ExpectedServer:
    return ExpectedServer(node, 8, "H800", status, **kw)  # type: ignore[arg-type]


def test_an_agreeing_cluster_has_no_drift() -> None:
    b = SimulatedBackend.uniform(SimClock(T0), 2)
    b.reserve(["gn2"], "acme", LEASE)
    expected = [
        server("gn1", ExpectedStatus.AVAILABLE),
        server("gn2", ExpectedStatus.LEASED, tenant="acme", lease_window=LEASE),
    ]
    assert find_drift(expected, b.nodes(), b.reservations()) == []


def test_every_kind_of_drift_is_reported() -> None:
    clock = SimClock(T0)
    b = SimulatedBackend(clock, {"gn1": 8, "gn2": 8, "gn3": 8, "gn4": 4, "gn5": 8})
    b.reserve(["gn3"], "beta", LEASE)
    b.drain("gn5", "ops forgot to resume")
    b.fail_node("gn1")
    expected = [
        server("gn1", ExpectedStatus.AVAILABLE),
        server("gn2", ExpectedStatus.LEASED, tenant="acme", lease_window=LEASE),
        server("gn3", ExpectedStatus.MAINTENANCE),
        server("gn4", ExpectedStatus.AVAILABLE),
        server("gn5", ExpectedStatus.FAILED),
        server("gn9", ExpectedStatus.AVAILABLE),
    ]
    found = {(d.node, d.kind) for d in find_drift(expected, b.nodes(), b.reservations())}
    assert found == {
        ("gn1", DriftKind.DOWN_NOT_FAILED),
        ("gn2", DriftKind.LEASED_NOT_RESERVED),
        ("gn3", DriftKind.RESERVED_NOT_LEASED),
        ("gn3", DriftKind.MAINTENANCE_NOT_DRAINED),
        ("gn4", DriftKind.GPU_MISMATCH),
        ("gn5", DriftKind.DRAINED_NOT_IN_MAINTENANCE),
        ("gn5", DriftKind.FAILED_BUT_UP),
        ("gn9", DriftKind.MISSING_IN_ENGINE),
    }


def test_the_plan_fixes_engine_side_drift_and_is_idempotent() -> None:
    clock = SimClock(T0)
    b = SimulatedBackend.uniform(clock, 3)
    b.drain("gn3", "old ticket")
    b.launch(JobSpec("j", "beta", "x", 8), Placement(("gn2",), 8))
    expected = [
        server("gn1", ExpectedStatus.LEASED, tenant="acme", lease_window=LEASE),
        server("gn2", ExpectedStatus.MAINTENANCE),
        server("gn3", ExpectedStatus.AVAILABLE),
    ]
    plan = plan_sync(expected, find_drift(expected, b.nodes(), b.reservations()))
    assert (plan.drain, plan.resume, [s.node for s in plan.reserve]) == (
        ("gn2",),
        ("gn3",),
        ["gn1"],
    )
    apply_plan(b, plan)
    apply_plan(b, plan)
    assert find_drift(expected, b.nodes(), b.reservations()) == []
    assert plan_sync(expected, find_drift(expected, b.nodes(), b.reservations())).empty
