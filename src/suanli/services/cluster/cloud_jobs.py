"""Cloud jobs: submission, admission through our scheduler, launch on the engine, state, metering.

Owns ``cloud_jobs``. States: ``queued`` (waiting for admission, also after a preemption or a
node failure), ``running`` (launched on the nodes we chose; the engine may still be starting
it), ``completed``, ``failed``, ``cancelled``.

Admission (:meth:`CloudJobService.schedule`) is one cycle of issue 5's machinery over a
snapshot: free GPUs per node (the engine's node list, minus nodes that are leased, drained or
down, minus GPUs of our running jobs), then queued jobs in strict priority order (``reserved``
before ``spot``, then submit time). A job is placed with
:func:`suanli.scheduling.jobs.placement.place` (jobs above one node take whole nodes, so the
engine gets uniform ``--gres`` per node); a ``reserved`` job that does not fit names spot victims
with :func:`suanli.scheduling.jobs.preemption.select_victims`, which are requeued in the engine
(held) and go back to ``queued``. Quota: a customer's running plus admitted ``reserved`` GPUs may
not exceed the GPUs committed by its active reserved contracts; ``spot`` has no quota and is
preemptible.

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

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.backends.base import (
    Backend,
    JobClass,
    JobSpec,
    JobState,
    NodeState,
    Placement,
    UsageRecord,
)
from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState
from suanli.scheduling.jobs.model import IntArray
from suanli.scheduling.jobs.placement import place
from suanli.scheduling.jobs.preemption import select_victims
from suanli.services.billing.metering import IngestResult, MeteringService
from suanli.services.cluster.inventory import ClusterService
from suanli.services.common import Page, check_paging, require_text
from suanli.services.tenancy import SYSTEM, Principal, get_customer_row
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    CloudJobRow,
    ClusterNodeRow,
    ClusterWatermarkRow,
    ContractRow,
    CustomerRow,
    ServerRow,
)

OUR_FAULT = frozenset({"NODE_FAIL", "BOOT_FAIL"})
"""Engine end states that are the platform's fault: the only runs that are not charged."""


def metered(run: UsageRecord) -> bool:
    """Whether a finished run is charged (pure; see the module docstring)."""
    cause = (run.engine_state.split() or [""])[0].upper()
    if cause in OUR_FAULT:
        return False
    return not (run.state is JobState.FAILED and not cause)


CLASSES = ("reserved", "spot")
ACTIVE = ("queued", "running")
PER_NODE_MAX = 8
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
class Decision:
    admits: tuple[tuple[int, tuple[str, ...], int], ...]  # job id, nodes, GPUs per node
    preempts: tuple[int, ...]


def job_ref(job_id: int) -> str:
    return f"j{job_id}"


def parse_ref(ref: str) -> int:
    text = ref[1:] if ref.startswith("j") else ref
    if not (text.isascii() and text.isdigit()) or len(text) > 12:  # not ² or ١
        raise ValidationError("job.invalid_id", f"not a job id: {ref!r}", {"job": "j<number>"})
    return int(text)


def _job(row: CloudJobRow, customer: str) -> CloudJob:
    nodes = tuple(n for n in row.nodes.split(",") if n)
    return CloudJob(
        job_ref(row.id), customer, row.job_class, row.gpus, row.command, row.state, nodes,
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

    def submit(
        self, customer: str, gpus: int, job_class: str, command: str, *, schedule: bool = True
    ) -> CloudJob:
        command = require_text(command, "command", 20000)
        if job_class not in CLASSES:
            raise ValidationError(
                "job.invalid_class", "class is reserved or spot", {"class": "reserved|spot"}
            )
        if not 1 <= gpus <= 4096 or (gpus > PER_NODE_MAX and gpus % PER_NODE_MAX):
            raise ValidationError(
                "job.invalid_gpus",
                f"gpus must be 1..{PER_NODE_MAX} or a multiple of {PER_NODE_MAX} (whole nodes)",
                {"gpus": f"1..{PER_NODE_MAX} or k*{PER_NODE_MAX}"},
            )
        now = self.clock.now()
        with transaction(self.sessions) as s:
            cust = get_customer_row(s, customer)
            if job_class == "reserved" and gpus > self._quota(s, cust.id):
                raise ConflictError(
                    "job.quota_exceeded",
                    f"{customer} has {self._quota(s, cust.id)} reserved GPUs committed, asked {gpus}",
                    {"gpus": f"<= {self._quota(s, cust.id)}"},
                )
            row = CloudJobRow(
                customer_id=cust.id, cluster=self.cluster.config.cluster, job_class=job_class,
                gpus=gpus, command=command, state="queued", nodes="", gpus_per_node=0,
                restarts=0, preemptions=0, reason="submitted", engine_name="", submitted_at=now, updated_at=now,
            )  # fmt: skip
            s.add(row)
            s.flush()
            row.engine_name = f"{job_ref(row.id)}-{int(now.timestamp() * 1000)}"
            job_id = row.id
        if schedule:
            self.schedule()
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

    def schedule(self) -> Decision:
        """One admission cycle: refresh, snapshot, decide, requeue victims, launch admits."""
        self.refresh()
        nodes = self.backend.nodes()  # no session open
        with transaction(self.sessions) as s:
            ledger = {n.node: n for n in self.cluster.ledger_nodes(s)}
            rows = s.execute(
                select(CloudJobRow, CustomerRow.code)
                .join(CustomerRow)
                .where(
                    CloudJobRow.state.in_(ACTIVE),
                    CloudJobRow.cluster == self.cluster.config.cluster,
                )
            ).all()
            quotas = {cid: self._quota(s, cid) for cid in {r.customer_id for r, _ in rows}}
            jobs = {r.id: (r.customer_id, code, r.job_class, r.gpus, r.state, r.nodes, r.gpus_per_node,
                           r.command, r.engine_name) for r, code in rows}  # fmt: skip
        usable_nodes = [
            n for n in nodes
            if n.name in ledger
            and ledger[n.name].state in (ServerState.AVAILABLE, ServerState.CLOUD_POOL)
            and n.state not in (NodeState.DOWN, NodeState.DRAINED, NodeState.DRAINING, NodeState.UNKNOWN)
        ]  # fmt: skip
        names = [n.name for n in usable_nodes]
        index = {name: i for i, name in enumerate(names)}
        free = np.array([n.gpus for n in usable_nodes], dtype=np.int64)
        leaf = np.zeros(len(names), dtype=np.int64)
        placements: dict[int, tuple[tuple[int, int], ...]] = {}
        used_reserved: dict[int, int] = {}
        # nodes taken out of the cloud pool (leased, maintenance): our jobs there are evicted,
        # so that the lease reservation or the drain can take effect (reconcile retries it)
        withdrawn = {
            n for n, ln in ledger.items()
            if ln.state in (ServerState.LEASED, ServerState.MAINTENANCE)
        }  # fmt: skip
        evicted: list[int] = []
        for jid, (cid, _, klass, gpus, state, jnodes, gpn, _, _) in jobs.items():
            if state != "running":
                continue
            if withdrawn & set(jnodes.split(",")):
                evicted.append(jid)
                continue
            if klass == "reserved":
                used_reserved[cid] = used_reserved.get(cid, 0) + gpus
            placed = tuple((index[n], gpn) for n in jnodes.split(",") if n in index)
            for i, g in placed:
                free[i] -= g
            placements[jid] = placed
        free = np.maximum(free, 0)
        queued = sorted(
            (jid for jid, j in jobs.items() if j[4] == "queued" or jid in evicted),
            key=lambda jid: (CLASSES.index(jobs[jid][2]), jid),
        )
        admits: list[tuple[int, tuple[str, ...], int]] = []
        preempts: list[int] = list(evicted)
        for jid in queued:
            cid, _, klass, gpus = jobs[jid][:4]
            if klass == "reserved" and used_reserved.get(cid, 0) + gpus > quotas.get(cid, 0):
                continue  # over quota for now; waits for its own jobs to finish
            whole = gpus > PER_NODE_MAX
            view = np.where(free == PER_NODE_MAX, free, 0) if whole else free
            got = place(view, leaf, gpus)
            victims: tuple[int, ...] = ()
            if got is None and klass == "reserved":
                spot = sorted(
                    (j for j in placements if jobs[j][2] == "spot" and j not in preempts),
                    reverse=True,
                )
                usable = np.ones(len(names), dtype=bool)
                choice: tuple[tuple[tuple[int, int], ...], tuple[int, ...]] | None
                if whole:
                    choice = self._whole_node_victims(free, gpus, spot, placements)
                else:
                    found = select_victims(free, leaf, usable, gpus, spot, placements)
                    choice = (found.placement, found.victims) if found else None
                if choice is not None:
                    got, victims = choice
            if got is None:
                continue
            for v in victims:
                for i, g in placements.pop(v):
                    free[i] += g
                preempts.append(v)
            for i, g in got:
                free[i] -= g
            placements[jid] = tuple(got)
            per_node = {g for _, g in got}
            admits.append((jid, tuple(names[i] for i, _ in got), per_node.pop()))
            if klass == "reserved":
                used_reserved[cid] = used_reserved.get(cid, 0) + gpus
        decision = Decision(tuple(admits), tuple(preempts))
        self._apply(decision, jobs)
        return decision

    @staticmethod
    def _whole_node_victims(
        free: IntArray,
        gpus: int,
        spot: list[int],
        placements: dict[int, tuple[tuple[int, int], ...]],
    ) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]] | None:
        scratch = free.copy()
        taken: list[int] = []
        for v in spot:
            taken.append(v)
            for i, g in placements[v]:
                scratch[i] += g
            full = [i for i in range(len(scratch)) if scratch[i] == PER_NODE_MAX]
            if len(full) * PER_NODE_MAX >= gpus:
                chosen = full[: gpus // PER_NODE_MAX]
                victims = tuple(t for t in taken if any(i in chosen for i, _ in placements[t]))
                return tuple((i, PER_NODE_MAX) for i in chosen), victims
        return None

    def _apply(self, decision: Decision, jobs: dict[int, tuple]) -> None:  # type: ignore[type-arg]
        for v in decision.preempts:  # victims first: their GPUs go to the admitted jobs
            self.backend.requeue(jobs[v][8])
            with transaction(self.sessions) as s:
                row = s.get_one(CloudJobRow, v)
                row.state, row.reason = "queued", "preempted (reserved job, lease or maintenance)"
                row.preemptions += 1
                row.updated_at = self.clock.now()
        for jid, nodes, per_node in decision.admits:
            _, code, klass, gpus, _, _, _, command, _ = jobs[jid]
            spec = JobSpec(
                jobs[jid][8], code, command, gpus,
                JobClass.SPOT if klass == "spot" else JobClass.GUARANTEED,
                expected_runtime=self.expected_runtime,
            )  # fmt: skip
            info = self.backend.launch(spec, Placement(nodes, per_node))
            with transaction(self.sessions) as s:
                row = s.get_one(CloudJobRow, jid)
                row.state, row.reason = "running", "admitted"
                row.nodes, row.gpus_per_node = ",".join(nodes), per_node
                row.engine_id = info.engine_id
                row.sku = s.scalar(
                    select(ServerRow.sku)
                    .join(ClusterNodeRow, ClusterNodeRow.server_id == ServerRow.id)
                    .where(ClusterNodeRow.node == nodes[0])
                )
                row.updated_at = self.clock.now()

    def requeue_lost(self) -> int:
        """Jobs whose nodes the ledger marks failed go back to ``queued``, to be relaunched
        elsewhere by :meth:`schedule` (the engine has requeued them already)."""
        with transaction(self.sessions) as s:
            failed = {n.node for n in self.cluster.ledger_nodes(s) if n.state is ServerState.FAILED}
            count = 0
            for row in s.scalars(select(CloudJobRow).where(CloudJobRow.state == "running")):
                if failed & set(row.nodes.split(",")):
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
        records = []
        for u in usage:
            if u.job_id not in rows or not metered(u):
                continue
            klass, sku, code = rows[u.job_id]
            records.append({
                "event_id": u.usage_id, "customer": code, "sku": sku or self._default_sku(),
                "priority_class": klass, "job_id": u.job_id, "gpu_seconds": u.gpu_seconds,
                "started_at": u.start.isoformat(), "ended_at": u.end.isoformat(),
            })  # fmt: skip
        return self.metering.ingest(records)

    def _default_sku(self) -> str:
        return "HGX-H800-8"
