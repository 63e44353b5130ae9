"""Cloud jobs: submission, admission through our scheduler, launch on the engine, state, metering.

Owns ``cloud_jobs``. States: ``queued`` (waiting for admission, also after a preemption or a
node failure), ``running`` (launched on the nodes we chose; the engine may still be starting
it), ``completed``, ``failed``, ``cancelled``.

Admission (:meth:`CloudJobService.schedule`) is the live driver of the one scheduling cycle,
:func:`suanli.scheduling.jobs.cycle.schedule`, the simulator being the other. It builds the
cycle's snapshot from the ledger and the engine: free GPUs per node (the engine's nodes in the
cloud pool — not leased, drained or down — sized by their catalog SKU, minus GPUs of our running
jobs), the running placements and the pending jobs; the policy is
:func:`suanli.scheduling.jobs.product.product_policy` (strict priority, ``reserved`` before
``spot``, quota = committed GPUs, whole nodes above one node; see that module). The returned
plan is applied: victims are requeued in the engine (held) and go back to ``queued``, then
admitted jobs are launched on the nodes the plan chose. Jobs on nodes that left the cloud pool
(leased, maintenance) are evicted by the driver before the cycle and may be readmitted by it.

As everywhere in the wiring: read in one transaction, call the engine with no session open,
record in another (see :mod:`suanli.services.cluster.inventory`).

Metering (:meth:`meter`): each finished run from ``backend.usage()`` becomes one issue-6 usage
record with ``event_id`` = the engine's usage id (ingestion is insert-if-absent, so re-running
is harmless). The metering rule is :func:`metered`: a run is charged however it ended
(completed, failed, timed out, out of memory, cancelled after start) unless it ended on our
fault, ``NODE_FAIL`` or ``BOOT_FAIL``; a ``failed`` run whose engine gave no end state is not
charged either (the customer gets the benefit of the doubt).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.backends.base import (
    Backend,
    JobClass,
    JobSpec,
    JobState,
    Node,
    NodeState,
    UsageRecord,
)
from suanli.backends.base import Placement as EnginePlacement
from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState
from suanli.scheduling.jobs.cycle import schedule
from suanli.scheduling.jobs.placement import Placement
from suanli.scheduling.jobs.product import CLASSES, SPOT, LiveCycle, ProductJob, live_cycle
from suanli.services.billing.metering import IngestResult, MeteringService
from suanli.services.cluster.inventory import ClusterService, LedgerNode
from suanli.services.common import Page, check_paging, require_text
from suanli.services.tenancy import SYSTEM, Principal, get_customer_row
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    CloudJobRow,
    ClusterWatermarkRow,
    ContractRow,
    CustomerRow,
)

OUR_FAULT = frozenset({"NODE_FAIL", "BOOT_FAIL"})
"""Engine end states that are the platform's fault: the only runs that are not charged."""


def metered(run: UsageRecord) -> bool:
    """Whether a finished run is charged (pure; see the module docstring)."""
    cause = (run.engine_state.split() or [""])[0].upper()
    if cause in OUR_FAULT:
        return False
    return not (run.state is JobState.FAILED and not cause)


ACTIVE = ("queued", "running")
_POOL = (ServerState.AVAILABLE, ServerState.CLOUD_POOL)
_WITHDRAWN = (ServerState.LEASED, ServerState.MAINTENANCE)
_NOT_SCHEDULABLE = (NodeState.DOWN, NodeState.DRAINED, NodeState.DRAINING, NodeState.UNKNOWN)
WATERMARK_MARGIN = timedelta(minutes=10)  # runs accounted late are still read
_ENGINE_TO_OURS = {
    JobState.PENDING: "running",  # launched, waiting for the engine to start it
    JobState.RUNNING: "running",
    JobState.REQUEUED: "queued",
    JobState.COMPLETED: "completed",
    JobState.FAILED: "failed",
    JobState.CANCELLED: "cancelled",
}


@dataclass(frozen=True, slots=True)
class CloudJob:
    id: str
    customer: str
    job_class: str
    gpus: int
    command: str
    state: str
    nodes: tuple[str, ...]
    engine_id: str | None
    engine_name: str  # the job's name in the engine, unique across ledgers and resets
    restarts: int
    preemptions: int
    reason: str
    submitted_at: datetime
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class Launch:
    """An admitted job (database id) launched on ``nodes``, ``gpus_per_node`` GPUs on each."""

    job: int
    nodes: tuple[str, ...]
    gpus_per_node: int


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one admission cycle applied: launches, then the job ids sent back to the queue
    (evictions from nodes that left the pool first, then the cycle's victims)."""

    admits: tuple[Launch, ...]
    preempts: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class _Active:
    """A queued or running job, as the admission cycle reads it."""

    id: int
    customer: str
    job_class: str
    gpus: int
    state: str
    nodes: tuple[str, ...]
    gpus_per_node: int
    command: str
    engine_name: str

    @staticmethod
    def of(row: CloudJobRow, customer: str) -> _Active:
        return _Active(
            row.id, customer, row.job_class, row.gpus, row.state, row.nodes, row.gpus_per_node,
            row.command, row.engine_name,
        )  # fmt: skip


def _in_pool(node: Node, ledger: Mapping[str, LedgerNode]) -> bool:
    """Whether the cycle may place on ``node``: a cloud-pool server the engine can run on."""
    mine = ledger.get(node.name)
    return mine is not None and mine.state in _POOL and node.state not in _NOT_SCHEDULABLE


def job_ref(job_id: int) -> str:
    return f"j{job_id}"


def parse_ref(ref: str) -> int:
    text = ref[1:] if ref.startswith("j") else ref
    if not (text.isascii() and text.isdigit()) or len(text) > 12:  # not ² or ١
        raise ValidationError("job.invalid_id", f"not a job id: {ref!r}", {"job": "j<number>"})
    return int(text)


def _job(row: CloudJobRow, customer: str) -> CloudJob:
    return CloudJob(
        job_ref(row.id), customer, row.job_class, row.gpus, row.command, row.state, row.nodes,
        row.engine_id, row.engine_name, row.restarts, row.preemptions, row.reason, row.submitted_at,
        row.started_at, row.ended_at,
    )  # fmt: skip


class CloudJobService:
    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        catalog: Catalog,
        cluster: ClusterService,
        expected_runtime: timedelta | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog
        self.cluster = cluster
        self.backend: Backend = cluster.backend
        self.metering = MeteringService(sessions, clock, catalog)
        self.expected_runtime = expected_runtime  # used by the simulated engine only

    # --- submit / read / cancel ---------------------------------------------------------------

    def submit(self, customer: str, gpus: int, job_class: str, command: str) -> CloudJob:
        """Queue a job (validation and the quota ceiling are checked now). It never admits:
        the control loop's ``schedule`` step does, for the CLI and the API alike."""
        command = require_text(command, "command", 20000)
        if job_class not in CLASSES:
            raise ValidationError(
                "job.invalid_class", "class is reserved or spot", {"class": "reserved|spot"}
            )
        now = self.clock.now()
        with transaction(self.sessions) as s:
            size = self._node_size(self.cluster.ledger_nodes(s))
            if not 1 <= gpus <= 4096 or (gpus > size and gpus % size):
                raise ValidationError(
                    "job.invalid_gpus",
                    f"gpus must be 1..{size} or a multiple of {size} (whole nodes)",
                    {"gpus": f"1..{size} or k*{size}"},
                )
            cust = get_customer_row(s, customer)
            if job_class == "reserved" and gpus > self._quota(s, cust.id):
                raise ConflictError(
                    "job.quota_exceeded",
                    f"{customer} has {self._quota(s, cust.id)} reserved GPUs committed, asked {gpus}",
                    {"gpus": f"<= {self._quota(s, cust.id)}"},
                )
            row = CloudJobRow(
                customer_id=cust.id, cluster=self.cluster.config.cluster, job_class=job_class,
                gpus=gpus, command=command, state="queued", gpus_per_node=0,
                restarts=0, preemptions=0, reason="submitted", engine_name="", submitted_at=now, updated_at=now,
            )  # fmt: skip
            s.add(row)
            s.flush()
            row.engine_name = f"{job_ref(row.id)}-{int(now.timestamp() * 1000)}"
            job_id = row.id
        return self.get(job_ref(job_id))

    def _quota(self, s: Session, customer_id: int) -> int:
        today = self.clock.now().date()
        return int(
            s.scalar(
                select(func.coalesce(func.sum(ContractRow.committed_gpus), 0)).where(
                    ContractRow.customer_id == customer_id,
                    ContractRow.kind == "reserved",
                    ContractRow.status == "active",
                    ContractRow.start_date <= today,
                    ContractRow.end_date > today,
                )
            )
            or 0
        )

    def get(self, ref: str, principal: Principal = SYSTEM) -> CloudJob:
        with transaction(self.sessions) as s:
            row, code = self._row(s, ref)
            if principal.scope(code) != code:
                raise NotFoundError("job.not_found", f"no job {ref}", {"job": ref})
            return _job(row, code)

    def _row(self, s: Session, ref: str) -> tuple[CloudJobRow, str]:
        got = s.execute(
            select(CloudJobRow, CustomerRow.code)
            .join(CustomerRow, CustomerRow.id == CloudJobRow.customer_id)
            .where(CloudJobRow.id == parse_ref(ref))
        ).first()
        if got is None:
            raise NotFoundError("job.not_found", f"no job {ref}", {"job": ref})
        return got[0], got[1]

    def list_jobs(
        self, principal: Principal = SYSTEM, customer: str | None = None, state: str | None = None,
        limit: int = 50, offset: int = 0,
    ) -> Page[CloudJob]:  # fmt: skip
        check_paging(limit, offset)
        customer = principal.scope(customer)
        stmt = select(CloudJobRow, CustomerRow.code).join(CustomerRow)
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        if state:
            stmt = stmt.where(CloudJobRow.state == state)
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.execute(stmt.order_by(CloudJobRow.id).limit(limit).offset(offset)).all()
            return Page([_job(r, c) for r, c in rows], total, limit, offset)

    def cancel(self, ref: str) -> CloudJob:
        with transaction(self.sessions) as s:
            row, _ = self._row(s, ref)
            launched = row.engine_id is not None
            if row.state not in ACTIVE:
                raise ConflictError("job.finished", f"{ref} is {row.state}", {"job": ref})
        if launched:
            self.backend.cancel(row.engine_name)  # no session open
        with transaction(self.sessions) as s:
            row, _ = self._row(s, ref)
            row.state, row.reason = "cancelled", "cancelled on request"
            row.ended_at = row.ended_at or self.clock.now()
            row.updated_at = self.clock.now()
        return self.get(ref)

    # --- state from the engine ----------------------------------------------------------------

    def refresh(self) -> int:
        """Copy the engine's view of our launched jobs into the table; returns rows changed."""
        engine = {j.id: j for j in self.backend.jobs()}
        changed = 0
        with transaction(self.sessions) as s:
            rows = s.scalars(
                select(CloudJobRow).where(
                    CloudJobRow.state.in_(ACTIVE), CloudJobRow.engine_id.is_not(None)
                )
            ).all()
            for row in rows:
                info = engine.get(row.engine_name)
                if info is None:
                    continue
                state = _ENGINE_TO_OURS[info.state]
                before = (row.state, row.restarts, row.nodes)
                row.restarts = max(row.restarts, info.restarts)
                row.started_at = row.started_at or info.started_at
                if state != "queued" and (row.state == "running" or info.state.terminal):
                    row.state = state  # a job we put back in the queue stays there
                if info.state.terminal:
                    row.ended_at = info.ended_at or self.clock.now()
                    row.reason = info.reason or info.state.value
                if (row.state, row.restarts, row.nodes) != before:
                    row.updated_at = self.clock.now()
                    changed += 1
        return changed

    # --- admission ----------------------------------------------------------------------------

    def schedule(self) -> Outcome:
        """One admission cycle: refresh, snapshot, :func:`~suanli.scheduling.jobs.cycle.schedule`
        under the product policy, then apply its plan (requeue victims, launch admits)."""
        self.refresh()
        engine_nodes = self.backend.nodes()  # no session open
        with transaction(self.sessions) as s:
            ledger = {n.node: n for n in self.cluster.ledger_nodes(s)}
            rows = s.execute(
                select(CloudJobRow, CustomerRow.code)
                .join(CustomerRow)
                .where(
                    CloudJobRow.state.in_(ACTIVE),
                    CloudJobRow.cluster == self.cluster.config.cluster,
                )
                .order_by(CloudJobRow.id)
            ).all()
            customers = {code: r.customer_id for r, code in rows}
            committed = {code: self._quota(s, cid) for code, cid in customers.items()}
            active = [_Active.of(r, code) for r, code in rows]
        pool = [n.name for n in engine_nodes if _in_pool(n, ledger)]
        cycle, evicted = self._snapshot(active, pool, ledger, committed)
        plan = schedule(cycle.snapshot, cycle.queues, cycle.policy)
        outcome = Outcome(
            tuple(
                Launch(active[a.job].id, tuple(pool[k] for k, _ in a.placement), a.placement[0][1])
                for a in plan.admits
            ),
            tuple(active[j].id for j in evicted) + tuple(active[p.job].id for p in plan.preempts),
        )
        self._apply(outcome, {j.id: j for j in active}, ledger)
        return outcome

    def _snapshot(
        self,
        active: list[_Active],
        pool: list[str],
        ledger: Mapping[str, LedgerNode],
        committed: Mapping[str, int],
    ) -> tuple[LiveCycle, list[int]]:
        """The cycle's input: free GPUs of the pool's nodes (catalog size minus our running
        jobs), running placements, and the jobs to evict first: those on nodes taken out of the
        cloud pool (leased, maintenance), so that the lease reservation or the drain can take
        effect (reconcile retries it). Evicted jobs are pending again in the same cycle."""
        index = {name: i for i, name in enumerate(pool)}
        free = [self.catalog.sku(ledger[name].sku).gpus for name in pool]
        withdrawn = {n for n, ln in ledger.items() if ln.state in _WITHDRAWN}
        running: dict[int, Placement] = {}
        evicted: list[int] = []
        for i, job in enumerate(active):
            if job.state != "running":
                continue
            if withdrawn & set(job.nodes):
                evicted.append(i)
                continue
            running[i] = tuple((index[n], job.gpus_per_node) for n in job.nodes if n in index)
            for k, g in running[i]:
                free[k] -= g
        jobs = [ProductJob(j.customer, j.job_class, j.gpus, float(i)) for i, j in enumerate(active)]
        free = [max(f, 0) for f in free]
        node_gpus = self._node_size(ledger.values())
        return live_cycle(jobs, running, free, node_gpus, committed), evicted

    def _node_size(self, ledger: Iterable[LedgerNode]) -> int:
        """GPUs of the cluster's largest server per the catalog (of any SKU if it has none yet):
        a job above it takes whole nodes."""
        sizes = [self.catalog.sku(n.sku).gpus for n in ledger]
        return max(sizes or [sku.gpus for sku in self.catalog.servers.values()])

    def _apply(
        self, outcome: Outcome, jobs: Mapping[int, _Active], ledger: Mapping[str, LedgerNode]
    ) -> None:
        for v in outcome.preempts:  # victims first: their GPUs go to the admitted jobs
            self.backend.requeue(jobs[v].engine_name)
            with transaction(self.sessions) as s:
                row = s.get_one(CloudJobRow, v)
                row.state, row.reason = "queued", "preempted (reserved job, lease or maintenance)"
                row.preemptions += 1
                row.updated_at = self.clock.now()
        for launch in outcome.admits:
            job = jobs[launch.job]
            spec = JobSpec(
                job.engine_name, job.customer, job.command, job.gpus,
                JobClass.SPOT if job.job_class == SPOT else JobClass.GUARANTEED,
                expected_runtime=self.expected_runtime,
            )  # fmt: skip
            info = self.backend.launch(spec, EnginePlacement(launch.nodes, launch.gpus_per_node))
            with transaction(self.sessions) as s:
                row = s.get_one(CloudJobRow, launch.job)
                row.state, row.reason = "running", "admitted"
                row.place_on(launch.nodes)
                row.gpus_per_node = launch.gpus_per_node
                row.engine_id = info.engine_id
                row.sku = ledger[launch.nodes[0]].sku
                row.updated_at = self.clock.now()

    def requeue_lost(self) -> int:
        """Jobs whose nodes the ledger marks failed go back to ``queued``, to be relaunched
        elsewhere by :meth:`schedule` (the engine has requeued them already)."""
        with transaction(self.sessions) as s:
            failed = {n.node for n in self.cluster.ledger_nodes(s) if n.state is ServerState.FAILED}
            count = 0
            running = select(CloudJobRow).where(
                CloudJobRow.state == "running", CloudJobRow.cluster == self.cluster.config.cluster
            )  # node names repeat across clusters
            for row in s.scalars(running):
                if failed & set(row.nodes):
                    row.state, row.reason = "queued", "node failed; requeued"
                    row.restarts += 1
                    row.updated_at = self.clock.now()
                    count += 1
            return count

    # --- metering -----------------------------------------------------------------------------

    def meter(self) -> IngestResult:
        """Finished runs → usage records (idempotent by the engine's usage id). Incremental:
        reads only runs that ended after the cluster's watermark (``cluster_watermarks``: the
        latest run end already read) minus :data:`WATERMARK_MARGIN` for late accounting; the
        watermark moves after the records are ingested, so a crash in between only rereads."""
        cluster = self.cluster.config.cluster
        with transaction(self.sessions) as s:
            mark = s.get(ClusterWatermarkRow, cluster)
            since = mark.usage_until - WATERMARK_MARGIN if mark is not None else None
        usage = self.backend.usage(since)  # no session open
        result = self._ingest(usage)
        if usage:
            latest = max(u.end for u in usage)
            with transaction(self.sessions) as s:
                mark = s.get(ClusterWatermarkRow, cluster)
                if mark is None:
                    s.add(
                        ClusterWatermarkRow(
                            cluster=cluster, usage_until=latest, updated_at=self.clock.now()
                        )
                    )
                elif latest > mark.usage_until:
                    mark.usage_until, mark.updated_at = latest, self.clock.now()
        return result

    def _ingest(self, usage: list[UsageRecord]) -> IngestResult:
        with transaction(self.sessions) as s:
            rows = {
                r.engine_name: (r.job_class, r.sku, code)
                for r, code in s.execute(select(CloudJobRow, CustomerRow.code).join(CustomerRow))
            }
            node_sku = {n.node: n.sku for n in self.cluster.ledger_nodes(s)}
        records = []
        for u in usage:
            if u.job_id not in rows or not metered(u):
                continue
            klass, sku, code = rows[u.job_id]
            # a job's SKU is recorded at launch; else the run's first node's server says it
            sku = sku or next((node_sku[n] for n in u.nodes if n in node_sku), "")
            records.append({
                "event_id": u.usage_id, "customer": code, "sku": sku,
                "priority_class": klass, "job_id": u.job_id, "gpu_seconds": u.gpu_seconds,
                "started_at": u.start.isoformat(), "ended_at": u.end.isoformat(),
            })  # fmt: skip
        return self.metering.ingest(records)
