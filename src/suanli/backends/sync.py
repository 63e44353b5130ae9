"""Inventory sync: compare what the ledger expects of each server with what the engine reports.

The ledger (fleet, leasing) is not this module's business: callers pass a plain snapshot of their
expectations (:class:`ExpectedServer`, one per server that should be in the cluster) and get back a
list of :class:`Drift` findings, or a :class:`SyncPlan` of engine-side actions that would remove the
drift the engine can fix (drain/resume, reserve/release). Deciding is pure; applying the plan is a
separate step (:func:`apply_plan`) that calls the backend and must run outside any database
transaction.

Vocabulary: *expected status* is the ledger's server status as it matters to the engine:
``available`` (may run cloud jobs), ``leased`` (bare-metal, covered by a reservation for the
tenant), ``maintenance`` (must be drained), ``failed`` (known broken).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from suanli.backends.base import Backend, Node, NodeState, Reservation, Window


class ExpectedStatus(StrEnum):
    AVAILABLE = "available"
    LEASED = "leased"
    MAINTENANCE = "maintenance"
    FAILED = "failed"


class DriftKind(StrEnum):
    MISSING_IN_ENGINE = "missing_in_engine"  # the ledger has it, the engine does not
    UNKNOWN_TO_LEDGER = "unknown_to_ledger"  # the engine has it, the ledger does not
    GPU_MISMATCH = "gpu_mismatch"  # count or model differ
    LEASED_NOT_RESERVED = "leased_not_reserved"  # leased in the ledger, idle/open in the engine
    RESERVED_NOT_LEASED = "reserved_not_leased"
    MAINTENANCE_NOT_DRAINED = "maintenance_not_drained"
    DRAINED_NOT_IN_MAINTENANCE = "drained_not_in_maintenance"
    DOWN_NOT_FAILED = "down_not_failed"  # the engine lost it; the ledger should mark it failed
    FAILED_BUT_UP = "failed_but_up"


@dataclass(frozen=True, slots=True)
class ExpectedServer:
    """The ledger's view of one server, by its node name in the engine."""

    node: str
    gpus: int
    gpu_type: str
    status: ExpectedStatus
    tenant: str | None = None  # for LEASED
    lease_window: Window | None = None  # for LEASED


@dataclass(frozen=True, slots=True)
class Drift:
    node: str
    kind: DriftKind
    detail: str = ""


def find_drift(
    expected: Iterable[ExpectedServer], nodes: Sequence[Node], reservations: Sequence[Reservation]
) -> list[Drift]:
    """Every disagreement between the ledger snapshot and the engine, sorted by node then kind."""
    want = {e.node: e for e in expected}
    have = {n.name: n for n in nodes}
    reserved_for = {node: r.tenant for r in reservations for node in r.nodes}
    out: list[Drift] = []
    for name in sorted(set(want) | set(have)):
        e, n = want.get(name), have.get(name)
        if n is None:
            out.append(Drift(name, DriftKind.MISSING_IN_ENGINE))
            continue
        if e is None:
            out.append(Drift(name, DriftKind.UNKNOWN_TO_LEDGER, f"{n.gpus} x {n.gpu_type}"))
            continue
        out.extend(_node_drift(e, n, reserved_for.get(name)))
    return out


def _node_drift(e: ExpectedServer, n: Node, reserved_tenant: str | None) -> list[Drift]:
    out: list[Drift] = []
    if (e.gpus, e.gpu_type.lower()) != (n.gpus, n.gpu_type.lower()):
        out.append(
            Drift(
                n.name,
                DriftKind.GPU_MISMATCH,
                f"ledger {e.gpus} x {e.gpu_type}, engine {n.gpus} x {n.gpu_type}",
            )
        )
    drained = n.state in (NodeState.DRAINED, NodeState.DRAINING)
    down = n.state is NodeState.DOWN
    if e.status is ExpectedStatus.LEASED and reserved_tenant != e.tenant:
        out.append(
            Drift(
                n.name,
                DriftKind.LEASED_NOT_RESERVED,
                f"leased to {e.tenant}, reserved for {reserved_tenant}",
            )
        )
    if e.status is not ExpectedStatus.LEASED and reserved_tenant is not None:
        out.append(Drift(n.name, DriftKind.RESERVED_NOT_LEASED, f"reserved for {reserved_tenant}"))
    if e.status is ExpectedStatus.MAINTENANCE and not drained and not down:
        out.append(Drift(n.name, DriftKind.MAINTENANCE_NOT_DRAINED, n.state.value))
    if e.status is not ExpectedStatus.MAINTENANCE and drained:
        out.append(Drift(n.name, DriftKind.DRAINED_NOT_IN_MAINTENANCE, n.reason))
    if down and e.status is not ExpectedStatus.FAILED:
        out.append(Drift(n.name, DriftKind.DOWN_NOT_FAILED, n.reason))
    if e.status is ExpectedStatus.FAILED and not down:
        out.append(Drift(n.name, DriftKind.FAILED_BUT_UP, n.state.value))
    return out


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """Engine-side actions that remove drift the engine can fix. Ledger-side drift (missing
    servers, GPU mismatches, down nodes the ledger must mark failed) is left to the caller."""

    drain: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    reserve: tuple[ExpectedServer, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.drain or self.resume or self.reserve)


def plan_sync(expected: Iterable[ExpectedServer], drift: Sequence[Drift]) -> SyncPlan:
    want = {e.node: e for e in expected}
    kinds = {(d.node, d.kind) for d in drift}
    drain = tuple(sorted(n for n, k in kinds if k is DriftKind.MAINTENANCE_NOT_DRAINED))
    resume = tuple(sorted(n for n, k in kinds if k is DriftKind.DRAINED_NOT_IN_MAINTENANCE))
    reserve = tuple(
        want[n]
        for n, k in sorted(kinds)
        if k is DriftKind.LEASED_NOT_RESERVED and want[n].tenant and want[n].lease_window
    )
    return SyncPlan(drain, resume, reserve)


def apply_plan(backend: Backend, plan: SyncPlan, reason: str = "maintenance (ledger)") -> None:
    """Perform ``plan`` on the engine. Idempotent; call it outside any database transaction."""
    for node in plan.drain:
        backend.drain(node, reason)
    for node in plan.resume:
        backend.resume(node)
    for server in plan.reserve:
        assert server.tenant is not None and server.lease_window is not None
        backend.reserve([server.node], server.tenant, server.lease_window)
