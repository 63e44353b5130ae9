"""The cluster control loop: one ``tick`` = reconcile → watch → requeue lost → schedule → meter.

Owns nothing in the database; it orders the calls of :class:`ClusterService` and
:class:`CloudJobService` (which keep their own transaction rules: no engine call inside a
transaction) and makes them survive faults. Each step runs on its own: an error in one step (an
engine that does not answer, a command that fails, a database hiccup) is logged, recorded in the
tick's result with its step and code, and the remaining steps still run; the next tick starts
afresh. Every step is level-triggered and idempotent, so a step skipped by an error is simply
done by a later tick.

**Admission happens here.** ``suanli job submit`` and ``POST /api/v1/jobs`` both only queue a job;
the ``schedule`` step of the next tick admits, preempts and launches (``suanli cluster watch`` runs
ticks forever; ``--once`` runs one). Callers: the CLI (``cluster watch``), and any daemon or API
task that wants a tick.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from suanli.core.clock import Clock
from suanli.core.errors import SuanliError
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterService, ReconcileReport, WatchReport

log = logging.getLogger(__name__)

STEPS = ("reconcile", "watch", "requeue_lost", "schedule", "meter")


@dataclass(frozen=True, slots=True)
class StepError:
    """One step that failed in a tick: ``code`` is the error's stable code (``internal.<Type>``
    for an unexpected exception)."""

    step: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick did. Steps that failed leave their defaults and add a :class:`StepError`;
    ``reconciled.errors`` holds per-object errors of a reconcile that otherwise ran."""

    at: datetime
    reconciled: ReconcileReport = field(default_factory=ReconcileReport)
    watched: WatchReport = field(default_factory=WatchReport)
    requeued: int = 0
    launched: int = 0
    preempted: int = 0
    usage_records: int = 0
    usage_rejected: tuple[str, ...] = ()
    errors: tuple[StepError, ...] = ()

    @property
    def error_count(self) -> int:
        return len(self.errors) + len(self.reconciled.errors)

    @property
    def ok(self) -> bool:
        return self.error_count == 0


@dataclass
class LoopTotals:
    """Counters over the ticks of one :meth:`ControlLoop.run`."""

    ticks: int = 0
    failed_steps: int = 0
    object_errors: int = 0
    errors_by_code: dict[str, int] = field(default_factory=dict)


class ControlLoop:
    def __init__(self, cluster: ClusterService, jobs: CloudJobService, clock: Clock) -> None:
        self.cluster = cluster
        self.jobs = jobs
        self.clock = clock

    def tick(self) -> TickResult:
        """One pass of the five steps; never raises for a step's error (see module doc)."""
        errors: list[StepError] = []
        values: dict[str, Any] = {}

        def step(name: str, call: Callable[[], Any]) -> None:
            try:
                values[name] = call()
            except SuanliError as exc:
                log.warning("control loop: %s failed: %s %s", name, exc.code, exc)
                errors.append(StepError(name, exc.code, str(exc)))
            except Exception as exc:
                log.exception("control loop: %s failed unexpectedly", name)
                errors.append(StepError(name, f"internal.{type(exc).__name__}", str(exc)))

        step("reconcile", self.cluster.reconcile)
        step("watch", self.cluster.watch)
        step("requeue_lost", self.jobs.requeue_lost)
        step("schedule", self.jobs.schedule)
        step("meter", self.jobs.meter)
        decision, metered = values.get("schedule"), values.get("meter")
        return TickResult(
            at=self.clock.now(),
            reconciled=values.get("reconcile", ReconcileReport()),
            watched=values.get("watch", WatchReport()),
            requeued=values.get("requeue_lost", 0),
            launched=len(decision.admits) if decision is not None else 0,
            preempted=len(decision.preempts) if decision is not None else 0,
            usage_records=metered.accepted if metered is not None else 0,
            usage_rejected=tuple(r.reason for r in metered.rejected) if metered else (),
            errors=tuple(errors),
        )

    def run(
        self,
        interval: float,
        *,
        ticks: int | None = None,
        on_tick: Callable[[TickResult, LoopTotals], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LoopTotals:
        """Tick every ``interval`` seconds, ``ticks`` times (None: forever)."""
        totals = LoopTotals()
        while ticks is None or totals.ticks < ticks:
            result = self.tick()
            totals.ticks += 1
            totals.failed_steps += len(result.errors)
            totals.object_errors += len(result.reconciled.errors)
            for e in result.errors:
                totals.errors_by_code[e.code] = totals.errors_by_code.get(e.code, 0) + 1
            if on_tick is not None:
                on_tick(result, totals)
            if ticks is None or totals.ticks < ticks:
                sleep(interval)
        return totals


__all__ = ["STEPS", "ControlLoop", "LoopTotals", "StepError", "TickResult"]
