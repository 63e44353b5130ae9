"""An in-memory cluster engine behind the backend protocol, driven by an injected clock.

``SimulatedBackend`` is the fake used by service tests and the demo, and the reference the Slurm
adapter is checked against (the contract tests in ``tests/integration/backends`` run on both). It
owns its nodes, jobs, reservations, event log and usage records; nothing else mutates them.

Time only moves with the clock: every public call first *advances* the model to ``clock.now()``,
finishing runs whose ``expected_runtime`` (or ``time_limit``) has elapsed, in order of end time,
and starting pending jobs whose nodes became free. A job without ``expected_runtime`` runs until it
is cancelled, requeued or its node fails.

Semantics copied from Slurm (see docs/slurm.md): jobs outside a reservation cannot use reserved
nodes during its window; a reservation cannot cover nodes with running jobs or overlap another
reservation; a drained node finishes its jobs but starts no new ones; a node failure ends the runs
on it (state ``failed``) and requeues their jobs without a hold; ``requeue`` holds the job until
``launch`` is called again. Fault injection for tests: :meth:`fail_node` and :meth:`repair_node`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from suanli.backends.base import (
    BackendEvent,
    EventKind,
    JobInfo,
    JobSpec,
    JobState,
    Node,
    NodeState,
    Placement,
    Reservation,
    UsageRecord,
    Window,
    check_placement_fits,
    check_tenant,
    reservation_conflict,
    reservation_name,
    unknown_job,
    unknown_node,
)
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError


@dataclass(slots=True)
class _SimNode:
    name: str
    gpus: int
    gpu_type: str
    down: bool = False
    drained: bool = False
    reason: str = ""
    since: datetime | None = None  # when the reason was set (Slurm's reason_changed_at)


@dataclass(slots=True)
class _SimJob:
    spec: JobSpec
    placement: Placement
    engine_id: str
    state: JobState = JobState.PENDING
    restarts: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str = ""
    runs: int = 0

    def end_time(self) -> datetime | None:
        """When the current run ends by itself, or None if it runs until stopped."""
        if self.state is not JobState.RUNNING or self.started_at is None:
            return None
        limits = [t for t in (self.spec.expected_runtime, self.spec.time_limit) if t is not None]
        return self.started_at + min(limits) if limits else None


@dataclass(slots=True)
class _State:
    nodes: dict[str, _SimNode]
    jobs: dict[str, _SimJob] = field(default_factory=dict)
    live: dict[str, _SimJob] = field(default_factory=dict)  # not terminal: the only ones scanned
    reservations: dict[str, Reservation] = field(default_factory=dict)
    events: list[BackendEvent] = field(default_factory=list)
    usage: list[UsageRecord] = field(default_factory=list)
    next_engine_id: int = 1


class SimulatedBackend:
    """A fake cluster of ``nodes`` (name -> GPU count), all GPUs of ``gpu_type``."""

    def __init__(self, clock: Clock, nodes: dict[str, int], *, gpu_type: str = "h800") -> None:
        if not nodes:
            raise ValidationError(
                "backend.invalid_cluster", "a cluster needs nodes", {"nodes": ">= 1"}
            )
        self._clock = clock
        self._s = _State({n: _SimNode(n, g, gpu_type) for n, g in nodes.items()})

    @classmethod
    def uniform(
        cls, clock: Clock, count: int, *, gpus: int = 8, gpu_type: str = "h800", prefix: str = "gn"
    ) -> SimulatedBackend:
        return cls(clock, {f"{prefix}{i}": gpus for i in range(1, count + 1)}, gpu_type=gpu_type)

    # --- inventory ---------------------------------------------------------------------------

    def nodes(self) -> list[Node]:
        self._advance()
        return [self._node_view(n) for n in self._s.nodes.values()]

    def _node_view(self, n: _SimNode) -> Node:
        used = self._gpus_used(n.name)
        if n.down:
            state = NodeState.DOWN
        elif n.drained:
            state = NodeState.DRAINING if used else NodeState.DRAINED
        elif used == 0:
            state = NodeState.IDLE
        else:
            state = NodeState.ALLOCATED if used >= n.gpus else NodeState.MIXED
        return Node(n.name, n.gpus, n.gpu_type, used, state, n.reason, since=n.since)

    def _gpus_used(self, node: str) -> int:
        return sum(
            j.placement.gpus_per_node
            for j in self._s.live.values()
            if j.state is JobState.RUNNING and node in j.placement.nodes
        )

    def _node(self, name: str) -> _SimNode:
        try:
            return self._s.nodes[name]
        except KeyError:
            raise unknown_node(name) from None

    # --- reservations (bare-metal leases) ----------------------------------------------------

    def reservations(self) -> list[Reservation]:
        self._advance()
        return list(self._s.reservations.values())

    def reserve(
        self, nodes: Sequence[str], tenant: str, window: Window, *, name: str | None = None
    ) -> Reservation:
        self._advance()
        check_tenant(tenant)
        for n in nodes:
            self._node(n)
        wanted = Reservation(
            name or reservation_name(nodes, tenant, window), tuple(sorted(nodes)), tenant, window
        )
        existing = self._s.reservations.get(wanted.name)
        if existing is not None:
            if existing == wanted:
                return existing
            raise reservation_conflict(
                f"reservation {wanted.name} exists with other terms", wanted.name
            )
        for other in self._s.reservations.values():
            overlap = other.window.start < window.end and window.start < other.window.end
            if overlap and set(other.nodes) & set(wanted.nodes):
                raise reservation_conflict(f"overlaps reservation {other.name}", wanted.name)
        if window.contains(self._clock.now()):
            busy = sorted(n for n in wanted.nodes if self._gpus_used(n))
            if busy:
                raise ConflictError(
                    "backend.nodes_busy",
                    f"nodes {', '.join(busy)} are running jobs",
                    {"nodes": busy},
                )
        self._s.reservations[wanted.name] = wanted
        return wanted

    def update_reservation(self, name: str, nodes: Sequence[str]) -> Reservation:
        self._advance()
        current = self._s.reservations.get(name)
        if current is None:
            raise NotFoundError(
                "backend.unknown_reservation", f"no reservation {name!r}", {"reservation": name}
            )
        for n in nodes:
            self._node(n)
        for other in self._s.reservations.values():
            overlap = (
                other.name != name
                and other.window.start < current.window.end
                and current.window.start < other.window.end
            )
            if overlap and set(other.nodes) & set(nodes):
                raise reservation_conflict(f"overlaps reservation {other.name}", name)
        updated = Reservation(name, tuple(sorted(nodes)), current.tenant, current.window)
        self._s.reservations[name] = updated
        return updated

    def release(self, reservation: str) -> None:
        self._s.reservations.pop(reservation, None)
        self._advance()

    # --- maintenance -------------------------------------------------------------------------

    def drain(self, node: str, reason: str) -> None:
        n = self._node(node)
        if not n.drained:
            n.drained, n.reason, n.since = True, reason, self._clock.now()
        self._advance()

    def resume(self, node: str) -> None:
        n = self._node(node)
        if n.drained:
            n.drained, n.reason = False, ""
        self._advance()

    # --- jobs ----------------------------------------------------------------------------------

    def launch(self, job: JobSpec, placement: Placement) -> JobInfo:
        self._advance()
        check_placement_fits(job, placement)
        for name in placement.nodes:
            if placement.gpus_per_node > self._node(name).gpus:
                raise ValidationError(
                    "backend.invalid_placement",
                    f"node {name} has only {self._node(name).gpus} GPUs",
                    {"placement.gpus_per_node": f"<= {self._node(name).gpus}"},
                )
        self._check_reservation_access(job, placement)
        existing = self._s.jobs.get(job.id)
        if existing is None:
            sj = _SimJob(job, placement, str(self._s.next_engine_id))
            self._s.next_engine_id += 1
            self._s.jobs[job.id] = sj
            self._s.live[job.id] = sj
        else:
            sj = existing
            if sj.state.terminal or sj.placement == placement:
                if sj.state is JobState.REQUEUED:
                    sj.state = JobState.PENDING
            elif sj.state is JobState.RUNNING:
                raise ConflictError(
                    "backend.job_running",
                    f"job {job.id} is running on other nodes; requeue it first",
                    {"job": job.id},
                )
            else:
                _check_same_shape(sj.placement, placement, job.id)
                sj.placement, sj.state = placement, JobState.PENDING
        self._start_pending(self._clock.now())
        return self._info(sj)

    def _check_reservation_access(self, job: JobSpec, placement: Placement) -> None:
        if job.reservation is None:
            return
        r = self._s.reservations.get(job.reservation)
        if r is None or r.tenant != job.tenant or not set(placement.nodes) <= set(r.nodes):
            raise ConflictError(
                "backend.reservation_denied",
                f"job {job.id} may not run in reservation {job.reservation}",
                {"job.reservation": job.reservation},
            )

    def job(self, job_id: str) -> JobInfo:
        self._advance()
        sj = self._s.jobs.get(job_id)
        if sj is None:
            raise unknown_job(job_id)
        return self._info(sj)

    def jobs(self) -> list[JobInfo]:
        self._advance()
        return [self._info(j) for j in self._s.jobs.values()]

    def cancel(self, job_id: str) -> None:
        self._advance()
        sj = self._s.jobs.get(job_id)
        if sj is None:
            raise unknown_job(job_id)
        if sj.state.terminal:
            return
        now = self._clock.now()
        if sj.state is JobState.RUNNING:
            self._end_run(sj, now, JobState.CANCELLED)
        sj.state, sj.ended_at = JobState.CANCELLED, now
        del self._s.live[sj.spec.id]
        self._emit(now, EventKind.JOB_CANCELLED, sj.spec.id)
        self._start_pending(now)

    def requeue(self, job_id: str) -> None:
        self._advance()
        sj = self._s.jobs.get(job_id)
        if sj is None:
            raise unknown_job(job_id)
        if sj.state is not JobState.RUNNING:
            return
        now = self._clock.now()
        self._end_run(sj, now, JobState.REQUEUED)
        sj.state, sj.restarts, sj.reason = JobState.REQUEUED, sj.restarts + 1, "requeued"
        self._emit(now, EventKind.JOB_REQUEUED, sj.spec.id, "preempted")
        self._start_pending(now)

    def _info(self, sj: _SimJob) -> JobInfo:
        return JobInfo(
            id=sj.spec.id,
            engine_id=sj.engine_id,
            tenant=sj.spec.tenant,
            state=sj.state,
            nodes=sj.placement.nodes,
            gpus=sj.placement.gpus,
            restarts=sj.restarts,
            started_at=sj.started_at,
            ended_at=sj.ended_at,
            reason=sj.reason,
        )

    # --- events and usage ----------------------------------------------------------------------

    def events(self, since: int = 0) -> list[BackendEvent]:
        self._advance()
        return [e for e in self._s.events if e.seq > since]

    def usage(self, since: datetime | None = None) -> list[UsageRecord]:
        self._advance()
        return [u for u in self._s.usage if since is None or u.end >= since]

    # --- fault injection -------------------------------------------------------------------------

    def fail_node(self, node: str) -> None:
        """The node stops responding: its runs fail and their jobs are requeued (no hold)."""
        self._advance()
        n = self._node(node)
        if n.down:
            return
        now = self._clock.now()
        n.down, n.reason, n.since = True, "not responding", now
        self._emit(now, EventKind.NODE_DOWN, node, n.reason)
        for sj in list(self._s.live.values()):
            if sj.state is JobState.RUNNING and node in sj.placement.nodes:
                self._end_run(sj, now, JobState.FAILED, "NODE_FAIL")
                sj.state, sj.restarts, sj.reason = JobState.PENDING, sj.restarts + 1, "node failure"
                self._emit(now, EventKind.JOB_REQUEUED, sj.spec.id, f"node {node} failed")
        self._start_pending(now)

    def repair_node(self, node: str) -> None:
        self._advance()
        n = self._node(node)
        if not n.down:
            return
        now = self._clock.now()
        n.down = False
        n.reason = n.reason if n.drained else ""
        self._emit(now, EventKind.NODE_UP, node)
        self._start_pending(now)

    # --- the model's time --------------------------------------------------------------------------

    def _advance(self) -> None:
        now = self._clock.now()
        while True:
            due = [
                (t, j.engine_id, j)
                for j in self._s.live.values()
                if (t := j.end_time()) and t <= now
            ]
            if not due:
                break
            when, _, sj = min(due, key=lambda d: (d[0], int(d[1])))
            timed_out = sj.spec.time_limit is not None and (
                sj.spec.expected_runtime is None or sj.spec.expected_runtime > sj.spec.time_limit
            )
            final = JobState.FAILED if timed_out else JobState.COMPLETED
            self._end_run(sj, when, final, "TIMEOUT" if timed_out else "COMPLETED")
            sj.state, sj.ended_at = final, when
            del self._s.live[sj.spec.id]
            sj.reason = "time limit" if timed_out else ""
            kind = EventKind.JOB_FAILED if timed_out else EventKind.JOB_FINISHED
            self._emit(when, kind, sj.spec.id, sj.reason)
            self._start_pending(when)
        self._start_pending(now)

    def _start_pending(self, at: datetime) -> None:
        pending = sorted(
            (j for j in self._s.live.values() if j.state is JobState.PENDING),
            key=lambda j: int(j.engine_id),
        )
        for sj in pending:
            if self._can_start(sj, at):
                sj.state, sj.started_at, sj.ended_at, sj.reason = JobState.RUNNING, at, None, ""
                sj.runs += 1
                self._emit(at, EventKind.JOB_STARTED, sj.spec.id, ",".join(sj.placement.nodes))

    def _can_start(self, sj: _SimJob, at: datetime) -> bool:
        own = self._s.reservations.get(sj.spec.reservation or "")
        if sj.spec.reservation and (own is None or not own.window.contains(at)):
            return False  # like Slurm: a job of a reservation waits for its window
        for name in sj.placement.nodes:
            n = self._s.nodes[name]
            if n.down or n.drained or self._gpus_used(name) + sj.placement.gpus_per_node > n.gpus:
                return False
            for r in self._s.reservations.values():
                if name in r.nodes and r.window.contains(at) and sj.spec.reservation != r.name:
                    return False
        return True

    def _end_run(self, sj: _SimJob, at: datetime, state: JobState, engine_state: str = "") -> None:
        assert sj.started_at is not None
        self._s.usage.append(
            UsageRecord(
                usage_id=f"sim:{sj.engine_id}:{sj.runs}",
                job_id=sj.spec.id,
                engine_id=sj.engine_id,
                tenant=sj.spec.tenant,
                gpus=sj.placement.gpus,
                start=sj.started_at,
                end=at,
                state=state,
                nodes=sj.placement.nodes,
                engine_state=engine_state or state.value.upper(),
            )
        )
        sj.started_at = sj.started_at if state.terminal else None
        sj.ended_at = at

    def _emit(self, at: datetime, kind: EventKind, subject: str, detail: str = "") -> None:
        self._s.events.append(BackendEvent(len(self._s.events) + 1, at, kind, subject, detail))


def _check_same_shape(old: Placement, new: Placement, job_id: str) -> None:
    if len(old.nodes) != len(new.nodes) or old.gpus_per_node != new.gpus_per_node:
        raise ConflictError(
            "backend.placement_change_unsupported",
            f"job {job_id} can move to other nodes only with the same shape "
            f"({len(old.nodes)} x {old.gpus_per_node} GPUs)",
            {"placement": f"{len(old.nodes)} nodes x {old.gpus_per_node} GPUs"},
        )
