"""The ledger ↔ cluster-engine wiring for inventory, leases, maintenance and failures.

Owns ``cluster_nodes`` (engine node name → fleet server) and the engine-side effects of ledger
facts. The fleet service stays the single writer of server states and the leasing service the
single writer of SLA downtime: this module calls them, it never writes their tables itself.

**No backend call inside a transaction.** Every use-case has three steps: (1) read what it needs
in one short transaction and commit; (2) call the backend (processes, seconds) with no session
open; (3) record the outcome in a new short transaction. A crash between (2) and (3) leaves the
engine ahead of the ledger; every use-case is idempotent and level-triggered (it compares states,
not events), so running it again converges.

**Hooks.** Issue 2/6 services are unchanged. After a lease is created, terminated or released,
or a server enters/leaves maintenance, the caller (CLI, API, a timer) calls :meth:`reconcile`
(or the narrower :meth:`lease_changed`); it makes the engine match the ledger: a reservation
``lease-<contract>`` of exactly the lease's nodes for the customer's account while the lease is
active, none otherwise; drained nodes for servers in maintenance, resumed ones otherwise.
``suanli cluster reconcile`` runs it, so a missed hook is repaired by the next run.

**Failures** (:meth:`watch`; each finished poll is stamped in ``cluster_polls``, read by
:func:`last_polls` for the dashboard's stale-watcher alert): a node the engine reports ``down`` moves its server to ``failed``
(a leased one through :meth:`LeasingService.server_failed`, which opens SLA downtime); a node up
again whose server was failed *by this module* goes ``failed → repaired → available`` (leased:
:meth:`LeasingService.server_restored`, which closes the downtime). Failures entered by people
are left to people.

Vocabulary: *tenant* = the customer's code, used as the engine account.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.backends.base import Backend, Node, NodeState, Window
from suanli.backends.sync import Drift, DriftKind, ExpectedServer, ExpectedStatus, find_drift
from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, SuanliError, ValidationError
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeasingService
from suanli.services.fleet.servers import NewServer, create_server_in, get_server_row, transition_in
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    ClusterNodeRow,
    ClusterPollRow,
    ContractRow,
    CustomerRow,
    LeaseAllocationRow,
    ServerRow,
    ServerTransitionRow,
)

ACTOR = "cluster-sync"
DRAIN_PREFIX = "suanli:"  # the reason of every drain Suanli sets; only those are resumed
SITE_DRAIN = "drained by the site"  # transition reason prefix for a foreign drain
DOWN_REASON = "engine reports node down"
LEASE_PREFIX = "lease-"

_STATUS = {
    ServerState.AVAILABLE: ExpectedStatus.AVAILABLE,
    ServerState.CLOUD_POOL: ExpectedStatus.AVAILABLE,
    ServerState.LEASED: ExpectedStatus.LEASED,
    ServerState.MAINTENANCE: ExpectedStatus.MAINTENANCE,
    ServerState.BURN_IN: ExpectedStatus.MAINTENANCE,
    ServerState.REPAIRED: ExpectedStatus.MAINTENANCE,
    ServerState.FAILED: ExpectedStatus.FAILED,
}


@dataclass(frozen=True, slots=True)
class LedgerNode:
    """A fleet server that is an engine node, as the ledger sees it now."""

    node: str
    serial: str
    sku: str
    gpus: int
    gpu_type: str
    state: ServerState
    lease: str | None = None  # contract number of the current allocation
    tenant: str | None = None
    window: Window | None = None

    def expected(self) -> ExpectedServer | None:
        status = _STATUS.get(self.state)
        if status is None:
            return None
        return ExpectedServer(self.node, self.gpus, self.gpu_type, status, self.tenant, self.window)


@dataclass(frozen=True, slots=True)
class SyncReport:
    created: tuple[str, ...] = ()  # serials of new servers
    updated: tuple[str, ...] = ()  # serials whose SKU changed
    drift: tuple[Drift, ...] = ()
    applied: bool = False


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    reserved: tuple[str, ...] = ()
    released: tuple[str, ...] = ()
    drained: tuple[str, ...] = ()
    resumed: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()  # reservations whose nodes changed in place
    site_drained: tuple[str, ...] = ()  # nodes drained by someone else → server maintenance
    site_resumed: tuple[str, ...] = ()  # ... resumed by them → server available again
    foreign_drains: tuple[str, ...] = ()  # "node: reason" of foreign drains left as they are


@dataclass
class _Reconciled:
    """What one reconcile did so far; each step runs on its own (errors are collected)."""

    reserved: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    drained: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    site_drained: list[str] = field(default_factory=list)
    site_resumed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def attempt(self, name: str, step: Callable[[], object], done: list[str]) -> None:
        try:
            step()
        except SuanliError as exc:
            self.errors.append(f"{name}: {exc.code}")
        else:
            done.append(name)

    def report(self) -> ReconcileReport:
        return ReconcileReport(
            tuple(self.reserved), tuple(self.released), tuple(self.drained), tuple(self.resumed),
            tuple(self.errors), tuple(self.updated), tuple(self.site_drained),
            tuple(self.site_resumed), tuple(self.foreign),
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class WatchReport:
    failed: tuple[str, ...] = ()  # serials moved to failed
    restored: tuple[str, ...] = ()  # serials back in service
    downtime_opened: tuple[str, ...] = ()  # contract numbers
    downtime_closed: tuple[str, ...] = ()


@dataclass
class ClusterConfig:
    """``gres_skus`` maps an engine GPU type (Slurm gres type, e.g. ``h800``) to a catalog SKU;
    unmapped types match a SKU whose GPU model key starts with the type and has the node's GPU
    count. New servers are racked in ``cabinet`` (``SITE/CODE``) when given."""

    cluster: str = "default"
    gres_skus: Mapping[str, str] = field(default_factory=dict)
    cabinet: str | None = None
    serial_prefix: str = ""  # server serial = prefix + node name (clusters whose names repeat)


class ClusterService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        catalog: Catalog,
        backend: Backend,
        config: ClusterConfig | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog
        self.backend = backend
        self.config = config or ClusterConfig()
        self.leasing = LeasingService(sessions, clock, catalog)

    # --- mapping ------------------------------------------------------------------------------

    def sku_for(self, gres_type: str, gpus: int) -> str:
        mapped = self.config.gres_skus.get(gres_type.lower())
        if mapped is not None:
            return self.catalog.sku(mapped).key
        for sku in self.catalog.servers.values():
            if sku.gpus == gpus and sku.gpu.key.lower().split("-")[0] == gres_type.lower():
                return sku.key
        raise ValidationError(
            "cluster.unknown_gres",
            f"no catalog SKU for {gpus} x {gres_type!r}; map it in gres_skus",
            {"gres_skus": gres_type},
        )

    def _gpu_type(self, sku: str) -> str:
        return self.catalog.sku(sku).gpu.key.lower().split("-")[0]

    def ledger_nodes(self, s: Session) -> list[LedgerNode]:
        now = self.clock.now()
        rows = s.execute(
            select(ClusterNodeRow.node, ServerRow)
            .join(ServerRow, ServerRow.id == ClusterNodeRow.server_id)
            .where(ClusterNodeRow.cluster == self.config.cluster)
            .order_by(ClusterNodeRow.node)
        ).all()
        leases = {
            server_id: (number, code, Window(a, b))
            for server_id, number, code, a, b in s.execute(
                select(
                    LeaseAllocationRow.server_id,
                    ContractRow.number,
                    CustomerRow.code,
                    LeaseAllocationRow.starts_at,
                    LeaseAllocationRow.ends_at,
                )
                .join(ContractRow, ContractRow.id == LeaseAllocationRow.contract_id)
                .join(CustomerRow, CustomerRow.id == LeaseAllocationRow.customer_id)
                .where(LeaseAllocationRow.starts_at <= now, LeaseAllocationRow.ends_at > now)
            ).all()
        }
        out = []
        for node, server in rows:
            number, tenant, window = leases.get(server.id, (None, None, None))
            out.append(
                LedgerNode(
                    node, server.serial, server.sku, server.gpu_count, self._gpu_type(server.sku),
                    ServerState(server.state), number, tenant, window,
                )
            )  # fmt: skip
        return out

    def node_of(self, s: Session, serial: str) -> str | None:
        return s.scalar(
            select(ClusterNodeRow.node)
            .join(ServerRow, ServerRow.id == ClusterNodeRow.server_id)
            .where(ServerRow.serial == serial, ClusterNodeRow.cluster == self.config.cluster)
        )

    # --- inventory ----------------------------------------------------------------------------

    def drift(self) -> list[Drift]:
        with transaction(self.sessions) as s:
            ledger = self.ledger_nodes(s)
        nodes, reservations = self.backend.nodes(), self.backend.reservations()  # no session open
        expected = [e for n in ledger if (e := n.expected()) is not None]
        return find_drift(expected, nodes, reservations)

    def sync(self, apply: bool = False) -> SyncReport:
        """Engine nodes ↔ fleet servers. ``apply`` creates servers for unknown nodes (serial =
        node name, walked ``delivered → burn_in → available`` when a cabinet is configured) and
        corrects the SKU of servers whose GPUs differ; without it only drift is reported."""
        nodes = self.backend.nodes()
        if not apply:
            return SyncReport(drift=tuple(self.drift()))
        created: list[str] = []
        updated: list[str] = []
        with transaction(self.sessions) as s:
            known = {n.node: n for n in self.ledger_nodes(s)}
            for node in nodes:
                sku = self.sku_for(node.gpu_type, node.gpus)
                have = known.get(node.name)
                if have is None:
                    created.append(self._adopt(s, node, sku))
                elif have.sku != sku:
                    row = get_server_row(s, have.serial)
                    row.sku, row.gpu_count = sku, node.gpus
                    row.updated_at = self.clock.now()
                    updated.append(have.serial)
        return SyncReport(tuple(created), tuple(updated), tuple(self.drift()), True)

    def _adopt(self, s: Session, node: Node, sku: str) -> str:
        serial = self.config.serial_prefix + node.name
        server = s.scalars(select(ServerRow).where(ServerRow.serial == serial)).one_or_none()
        if server is not None:
            elsewhere = s.scalar(
                select(ClusterNodeRow.cluster).where(
                    ClusterNodeRow.server_id == server.id,
                    ClusterNodeRow.cluster != self.config.cluster,
                )
            )
            if elsewhere is not None:  # one server cannot be a node of two clusters
                raise ConflictError(
                    "cluster.server_in_other_cluster",
                    f"server {serial} is a node of cluster {elsewhere}; give cluster "
                    f"{self.config.cluster} a serial_prefix",
                    {"serial_prefix": f"for {self.config.cluster}"},
                )
        if server is None:
            server = create_server_in(
                s, self.clock, self.catalog,
                NewServer(serial=serial, sku=sku, state=ServerState.DELIVERED),
                ACTOR, f"found in cluster {self.config.cluster}",
            )  # fmt: skip
            s.flush()
            if self.config.cabinet:
                transition_in(
                    s, self.clock, server, ServerState.BURN_IN, ACTOR, "racked (cluster sync)",
                    cabinet=self.config.cabinet,
                )  # fmt: skip
                transition_in(
                    s, self.clock, server, ServerState.AVAILABLE, ACTOR, "in service in cluster"
                )
        s.add(
            ClusterNodeRow(
                cluster=self.config.cluster, node=node.name, server_id=server.id,
                gres_type=node.gpu_type, created_at=self.clock.now(),
            )
        )  # fmt: skip
        s.flush()
        return server.serial

    # --- leases and maintenance ---------------------------------------------------------------

    def _wanted_reservations(
        self, ledger: Sequence[LedgerNode]
    ) -> dict[str, tuple[str, Window, list[str]]]:
        """Every node of an active lease allocation, whatever its server state: a failed (or
        maintenance) node stays in its lease's reservation so it is not open to anyone when it
        comes back, and the reservation never has to change while the customer's jobs run."""
        want: dict[str, tuple[str, Window, list[str]]] = {}
        for n in ledger:
            if n.lease and n.tenant and n.window:
                _, _, nodes = want.setdefault(LEASE_PREFIX + n.lease, (n.tenant, n.window, []))
                nodes.append(n.node)
        return want

    def reconcile(self) -> ReconcileReport:
        """Make the engine match the ledger: lease reservations (created, *updated in place* when
        a lease's nodes change, released when it ends), drains. Idempotent. Each object is
        handled on its own: an engine error on one is reported in ``errors`` (``name: code``)
        and the others are still reconciled. Drains: only drains Suanli set (reason starting
        with :data:`DRAIN_PREFIX`) are ever resumed; a drain set by anyone else (a node health
        check, an operator) moves an in-service, unleased server to ``maintenance`` with the
        engine's reason, and back to ``available`` once the site resumes the node."""
        with transaction(self.sessions) as s:
            ledger = self.ledger_nodes(s)
            site_maintenance = {
                n.serial
                for n in ledger
                if n.state is ServerState.MAINTENANCE and self._last_by_us(s, n.serial, SITE_DRAIN)
            }
        want = self._wanted_reservations(ledger)
        out = _Reconciled()
        try:
            have = {r.name: r for r in self.backend.reservations()}
            engine = {n.name: n for n in self.backend.nodes()}
        except SuanliError as exc:
            return ReconcileReport(errors=(f"engine: {exc.code}",))
        for name in sorted(have):
            if name.startswith(LEASE_PREFIX) and name not in want:
                out.attempt(name, partial(self.backend.release, name), out.released)
        for name, (tenant, window, nodes) in sorted(want.items()):
            current = have.get(name)
            if current is None:
                step = partial(self.backend.reserve, sorted(nodes), tenant, window, name=name)
                out.attempt(name, step, out.reserved)
            elif set(current.nodes) != set(nodes):
                update = partial(self.backend.update_reservation, name, sorted(nodes))
                out.attempt(name, update, out.updated)
        for n in ledger:
            e = engine.get(n.node)
            if e is not None:
                self._reconcile_drain(n, e, n.serial in site_maintenance, out)
        return out.report()

    def _reconcile_drain(
        self, n: LedgerNode, e: Node, site_drained: bool, out: _Reconciled
    ) -> None:
        drained = e.state in (NodeState.DRAINED, NodeState.DRAINING)
        ours = e.reason.startswith(DRAIN_PREFIX)
        if n.state is ServerState.MAINTENANCE:
            if site_drained and not drained and e.state is not NodeState.DOWN:
                out.attempt(
                    n.node,
                    lambda: self._fleet_step(
                        n.serial, (ServerState.AVAILABLE,), "the site resumed the node"
                    ),
                    out.site_resumed,
                )
            elif not drained and e.state is not NodeState.DOWN:
                out.attempt(
                    n.node,
                    lambda: self.backend.drain(n.node, f"{DRAIN_PREFIX} maintenance of {n.serial}"),
                    out.drained,
                )
        elif drained and ours:
            out.attempt(n.node, lambda: self.backend.resume(n.node), out.resumed)
        elif drained and n.state in (ServerState.AVAILABLE, ServerState.CLOUD_POOL):
            out.attempt(
                n.node,
                lambda: self._fleet_step(
                    n.serial, (ServerState.MAINTENANCE,), f"{SITE_DRAIN}: {e.reason or 'no reason'}"
                ),
                out.site_drained,
            )
        elif drained:  # leased (the lease service owns its state) or failed: report only
            out.foreign.append(f"{n.node}: {e.reason}")

    lease_changed = reconcile  # the hook after a lease service call commits

    # --- failures -----------------------------------------------------------------------------

    def watch(self) -> WatchReport:
        """One poll: engine ``down`` nodes → ledger ``failed`` (+ SLA downtime starting at the
        engine's failure time, Slurm's ``reason_changed_at``, not at the poll); back up →
        ``repaired → available`` (leased: back into the lease, downtime closed)."""
        engine = {n.name: n for n in self.backend.nodes()}  # no session open
        with transaction(self.sessions) as s:
            ledger = self.ledger_nodes(s)
            ours = {
                n.serial
                for n in ledger
                if n.state is ServerState.FAILED and self._failed_by_us(s, n.serial)
            }
        failed, restored, opened, closed = [], [], [], []
        for n in ledger:
            e = engine.get(n.node)
            if e is None:
                continue
            down = e.state is NodeState.DOWN
            if down and n.state in (
                ServerState.AVAILABLE,
                ServerState.CLOUD_POOL,
                ServerState.MAINTENANCE,
            ):
                self._fleet_step(n.serial, (ServerState.FAILED,), f"{DOWN_REASON}: {e.reason}")
                failed.append(n.serial)
            elif down and n.state is ServerState.LEASED:
                event = self.leasing.server_failed(
                    n.serial, ACTOR, f"{DOWN_REASON}: {e.reason}", at=e.since
                )
                failed.append(n.serial)
                opened.append(event.contract)
            elif not down and n.serial in ours:
                if n.lease:
                    event = self.leasing.server_restored(n.serial, ACTOR, "engine reports node up")
                    closed.append(event.contract)
                else:
                    self._fleet_step(
                        n.serial,
                        (ServerState.REPAIRED, ServerState.AVAILABLE),
                        "engine reports node up",
                    )
                restored.append(n.serial)
        self._record_poll()
        return WatchReport(tuple(failed), tuple(restored), tuple(opened), tuple(closed))

    def _record_poll(self) -> None:
        """The watcher finished a poll (``cluster_polls``): a stale time means it stopped."""
        with transaction(self.sessions) as s:
            row = s.get(ClusterPollRow, self.config.cluster)
            if row is None:
                s.add(ClusterPollRow(cluster=self.config.cluster, polled_at=self.clock.now()))
            else:
                row.polled_at = self.clock.now()

    def _failed_by_us(self, s: Session, serial: str) -> bool:
        return self._last_by_us(s, serial, None, ServerState.FAILED)

    def _last_by_us(
        self,
        s: Session,
        serial: str,
        reason_prefix: str | None,
        state: ServerState = ServerState.MAINTENANCE,
    ) -> bool:
        """The server's last transition was ours, to ``state`` (with a reason so prefixed)."""
        last = s.scalars(
            select(ServerTransitionRow)
            .join(ServerRow, ServerRow.id == ServerTransitionRow.server_id)
            .where(ServerRow.serial == serial)
            .order_by(ServerTransitionRow.id.desc())
            .limit(1)
        ).first()
        return (
            last is not None
            and last.actor == ACTOR
            and last.to_state == state.value
            and (reason_prefix is None or (last.reason or "").startswith(reason_prefix))
        )

    def _fleet_step(self, serial: str, targets: Sequence[ServerState], reason: str) -> None:
        with transaction(self.sessions) as s:
            row = get_server_row(s, serial)
            for target in targets:
                transition_in(s, self.clock, row, target, ACTOR, reason)


def last_polls(sessions: SessionFactory) -> dict[str, datetime | None]:
    """Every cluster with nodes in the ledger (or a recorded poll) → when its failure watcher
    last finished a poll (None: never)."""
    with transaction(sessions) as s:
        polls: dict[str, datetime | None] = {
            c: None for c in s.scalars(select(ClusterNodeRow.cluster).distinct())
        }
        polls.update((r.cluster, r.polled_at) for r in s.scalars(select(ClusterPollRow)))
        return polls


def drift_json(drift: Sequence[Drift]) -> list[dict[str, str]]:
    return [{"node": d.node, "kind": d.kind.value, "detail": d.detail} for d in drift]


__all__ = ["ClusterConfig", "ClusterService", "DriftKind", "drift_json", "last_polls"]
