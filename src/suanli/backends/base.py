"""The backend protocol: how the platform meets a cluster engine (DESIGN.md, "The backend interface").

A backend owns nothing the ledger owns. It reports the engine's view (``nodes()``, ``jobs()``,
``reservations()``, ``events()``, ``usage()``) and applies decisions the platform already took
(``reserve``/``release`` for bare-metal leases, ``drain``/``resume`` for maintenance,
``launch``/``cancel``/``requeue`` for cloud jobs). Placement is decided by our scheduler, never by
the engine: ``launch`` gets the exact nodes.

Invariants every implementation keeps (tested once in ``tests/integration/backends``):

- **Idempotent.** Repeating a call converges to the same state: ``release`` of a released or
  unknown reservation, ``drain`` of a drained node, ``cancel`` of a finished job, ``requeue`` of a
  job already requeued, and ``launch`` of a job id that is already known with the same placement are
  no-ops that return normally.
- **Identity is ours.** Jobs are addressed by the platform's job id (``JobSpec.id``); reservations
  by a name derived from what they cover (or given by the caller). The engine's own ids appear only
  as ``engine_id`` for operators.
- **Events are a log.** ``events(since)`` returns the events with ``seq > since`` in order; a
  consumer stores the last ``seq`` it processed. Events are at-least-once across backend restarts
  (a new backend instance may replay what the engine still remembers), so consumers are idempotent.
- **Usage records** are keyed by ``usage_id`` (one per run of a job); re-reading yields the same
  records, so importing them twice changes nothing. ``usage(since)`` returns at least every run
  that ended at or after ``since`` (None: everything the engine still remembers), so a consumer
  polls incrementally from a watermark.
- **Never inside a transaction.** Backend calls do network/process I/O and may take seconds; the
  services layer calls them outside any database transaction (read, commit, call, then record the
  outcome in a new short transaction).

Vocabulary: a *run* is one execution of a job between start and end; a requeued job has several
runs. *Requeue* puts a running job back to pending and holds it until the platform relaunches it
(spot preemption). A node failure requeues its jobs without a hold: they restart when their nodes
are back, or sooner wherever the platform relaunches them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol, runtime_checkable

from suanli.core.clock import ensure_utc
from suanli.core.errors import ConflictError, NotFoundError, SuanliError, ValidationError


class BackendError(SuanliError):
    """The engine failed or is unreachable (``backend.unavailable``, ``backend.command_failed``)."""

    status = 503


class NodeState(StrEnum):
    IDLE = "idle"
    MIXED = "mixed"  # some GPUs/CPUs allocated
    ALLOCATED = "allocated"
    DRAINING = "draining"  # drain requested, jobs still running
    DRAINED = "drained"
    DOWN = "down"  # not responding or failed
    UNKNOWN = "unknown"


class JobState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    REQUEUED = "requeued"  # preempted and held until the platform relaunches it
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED)


class JobClass(StrEnum):
    GUARANTEED = "guaranteed"
    SPOT = "spot"


class EventKind(StrEnum):
    JOB_STARTED = "job.started"
    JOB_FINISHED = "job.finished"
    JOB_FAILED = "job.failed"
    JOB_CANCELLED = "job.cancelled"
    JOB_REQUEUED = "job.requeued"
    NODE_DOWN = "node.down"
    NODE_UP = "node.up"


@dataclass(frozen=True, slots=True)
class Node:
    """One node as the engine sees it."""

    name: str
    gpus: int
    gpu_type: str
    gpus_allocated: int
    state: NodeState
    reason: str = ""
    since: datetime | None = None  # when the engine set the reason (Slurm ``reason_changed_at``)

    @property
    def gpus_free(self) -> int:
        if self.state in (NodeState.DOWN, NodeState.DRAINED, NodeState.DRAINING):
            return 0
        return max(self.gpus - self.gpus_allocated, 0)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time interval ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))
        if self.end <= self.start:
            raise ValidationError(
                "backend.invalid_window",
                "a window must end after it starts",
                {"window.end": f"after {self.start.isoformat()}"},
            )

    def contains(self, when: datetime) -> bool:
        return self.start <= when < self.end


@dataclass(frozen=True, slots=True)
class Reservation:
    """Nodes set aside for one tenant (a bare-metal lease) during ``window``."""

    name: str
    nodes: tuple[str, ...]
    tenant: str
    window: Window


@dataclass(frozen=True, slots=True)
class JobSpec:
    """What to run. ``gpus`` is the total over all nodes; ``expected_runtime`` is only a hint
    (the simulated backend uses it as the run time; real engines run ``command``)."""

    id: str
    tenant: str
    command: str
    gpus: int
    job_class: JobClass = JobClass.GUARANTEED
    time_limit: timedelta | None = None
    expected_runtime: timedelta | None = None
    reservation: str | None = None

    def __post_init__(self) -> None:
        _check_name("job.id", self.id)
        _check_name("job.tenant", self.tenant)
        if self.gpus < 1:
            raise ValidationError(
                "backend.invalid_job", "a job needs at least one GPU", {"job.gpus": ">= 1"}
            )
        if not self.command.strip():
            raise ValidationError(
                "backend.invalid_job", "a job needs a command", {"job.command": "non-empty"}
            )


@dataclass(frozen=True, slots=True)
class Placement:
    """The decision of our scheduler: exactly these nodes, ``gpus_per_node`` GPUs on each."""

    nodes: tuple[str, ...]
    gpus_per_node: int

    def __post_init__(self) -> None:
        if not self.nodes or len(set(self.nodes)) != len(self.nodes):
            raise ValidationError(
                "backend.invalid_placement",
                "a placement names one or more distinct nodes",
                {"placement.nodes": "non-empty, distinct"},
            )
        if self.gpus_per_node < 1:
            raise ValidationError(
                "backend.invalid_placement",
                "a placement uses at least one GPU per node",
                {"placement.gpus_per_node": ">= 1"},
            )

    @property
    def gpus(self) -> int:
        return len(self.nodes) * self.gpus_per_node


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job as the engine sees it now."""

    id: str
    engine_id: str
    tenant: str
    state: JobState
    nodes: tuple[str, ...]
    gpus: int
    restarts: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class BackendEvent:
    """Something the engine did. ``subject`` is a job id (job.*) or a node name (node.*)."""

    seq: int
    at: datetime
    kind: EventKind
    subject: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One finished run of a job, for metering. ``usage_id`` is stable: re-reads give the same id."""

    usage_id: str
    job_id: str
    engine_id: str
    tenant: str
    gpus: int
    start: datetime
    end: datetime
    state: JobState
    nodes: tuple[str, ...] = ()
    engine_state: str = ""
    """The engine's own end state (Slurm: ``FAILED``, ``TIMEOUT``, ``NODE_FAIL`` ...); it says whose
    fault a failure was, which ``state`` (one ``failed`` for all) does not. Empty if unknown."""

    @property
    def gpu_seconds(self) -> int:
        return self.gpus * max(int((self.end - self.start).total_seconds()), 0)


@runtime_checkable
class Backend(Protocol):
    """The protocol of DESIGN.md. See the module docstring for the invariants."""

    def nodes(self) -> list[Node]: ...

    def reservations(self) -> list[Reservation]: ...

    def reserve(
        self, nodes: Sequence[str], tenant: str, window: Window, *, name: str | None = None
    ) -> Reservation: ...

    def update_reservation(self, name: str, nodes: Sequence[str]) -> Reservation: ...

    def release(self, reservation: str) -> None: ...

    def drain(self, node: str, reason: str) -> None: ...

    def resume(self, node: str) -> None: ...

    def launch(self, job: JobSpec, placement: Placement) -> JobInfo: ...

    def job(self, job_id: str) -> JobInfo: ...

    def jobs(self) -> list[JobInfo]: ...

    def cancel(self, job_id: str) -> None: ...

    def requeue(self, job_id: str) -> None: ...

    def events(self, since: int = 0) -> list[BackendEvent]: ...

    def usage(self, since: datetime | None = None) -> list[UsageRecord]: ...


# --- helpers shared by implementations -------------------------------------------------------

_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_name(field: str, value: str) -> None:
    if not value or len(value) > 64 or not set(value) <= _NAME_OK:
        raise ValidationError(
            "backend.invalid_name",
            f"{field} must be 1-64 characters of letters, digits, '-', '_' or '.'",
            {field: "[A-Za-z0-9._-]{1,64}"},
        )


def check_tenant(tenant: str) -> None:
    _check_name("tenant", tenant)


def check_placement_fits(job: JobSpec, placement: Placement) -> None:
    if placement.gpus != job.gpus:
        raise ValidationError(
            "backend.invalid_placement",
            f"placement gives {placement.gpus} GPUs but job {job.id} asks for {job.gpus}",
            {"placement.gpus_per_node": f"{job.gpus} / {len(placement.nodes)} nodes"},
        )


def reservation_name(nodes: Sequence[str], tenant: str, window: Window) -> str:
    """A deterministic name, so that repeating ``reserve`` finds the same reservation."""
    key = f"{','.join(sorted(nodes))}|{tenant}|{window.start.isoformat()}|{window.end.isoformat()}"
    return f"suanli-{tenant}-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def unknown_node(name: str) -> NotFoundError:
    return NotFoundError("backend.unknown_node", f"no node named {name!r}", {"node": name})


def unknown_job(job_id: str) -> NotFoundError:
    return NotFoundError("backend.unknown_job", f"no job {job_id!r} in the engine", {"job": job_id})


def reservation_conflict(message: str, name: str) -> ConflictError:
    return ConflictError("backend.reservation_conflict", message, {"reservation": name})
