"""Twin runs started from the API or the dashboard: queued, run in the background, polled.

Owns :class:`TwinRuns`, the process-wide registry of runs (in memory: a run is a computation,
not a business record, so nothing is written to the ledger and runs are gone after a restart;
the newest :data:`KEEP` are kept). Runs execute one at a time on a single worker thread (the
twin is CPU-bound; two at once would only share the core), so a burst of requests queues
instead of starving the API. The executor is injected so tests run synchronously.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, SuanliError
from suanli.simulation.twin.run import run_twin
from suanli.simulation.twin.scenario import TwinScenario

KEEP = 100
MAX_QUEUED = 8


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class TwinRunRecord:
    id: str
    scenario: str
    paths: int
    seed: int
    status: RunStatus
    created_at: datetime  # wall clock: audit only
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: dict[str, Any] | None = None
    summary: dict[str, Any] | None = None
    monthly: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self, with_monthly: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "scenario": self.scenario,
            "paths": self.paths,
            "seed": self.seed,
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "error": self.error,
            "summary": self.summary,
        }
        if with_monthly:
            out["monthly"] = self.monthly
        return out


class TwinRuns:
    """Submit twin runs and read their status and results."""

    def __init__(self, clock: Clock, executor: Executor | None = None) -> None:
        self.clock = clock
        self.executor = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin")
        self._runs: OrderedDict[str, TwinRunRecord] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, scenario: TwinScenario, paths: int, seed: int) -> TwinRunRecord:
        with self._lock:
            waiting = sum(
                r.status in (RunStatus.QUEUED, RunStatus.RUNNING) for r in self._runs.values()
            )
            if waiting >= MAX_QUEUED:
                raise ConflictError(
                    "twin.queue_full",
                    f"{waiting} twin runs are queued or running; try again when one finishes",
                    {"runs": f"<= {MAX_QUEUED} waiting"},
                )
            record = TwinRunRecord(
                uuid.uuid4().hex[:12], scenario.name, paths, seed, RunStatus.QUEUED,
                self.clock.now(),
            )  # fmt: skip
            self._runs[record.id] = record
            self._evict()
        self.executor.submit(self._run, record.id, scenario)
        return self.get(record.id)

    def _evict(self) -> None:
        done = [k for k, r in self._runs.items() if r.status in (RunStatus.DONE, RunStatus.FAILED)]
        while len(self._runs) > KEEP and done:
            del self._runs[done.pop(0)]

    def _update(self, run_id: str, **changes: Any) -> None:
        with self._lock:
            self._runs[run_id] = replace(self._runs[run_id], **changes)

    def _run(self, run_id: str, scenario: TwinScenario) -> None:
        record = self.get(run_id)
        self._update(run_id, status=RunStatus.RUNNING, started_at=self.clock.now())
        try:
            result = run_twin(scenario, seed=record.seed, paths=record.paths)
        except SuanliError as exc:
            self._fail(run_id, {"code": exc.code, "message": exc.message, "fields": exc.fields})
            return
        except Exception as exc:
            self._fail(run_id, {"code": "twin.run_failed", "message": str(exc), "fields": {}})
            return
        self._update(
            run_id,
            status=RunStatus.DONE,
            finished_at=self.clock.now(),
            summary=result.summary(),
            monthly=result.monthly(0),
        )

    def _fail(self, run_id: str, error: dict[str, Any]) -> None:
        self._update(run_id, status=RunStatus.FAILED, finished_at=self.clock.now(), error=error)

    def get(self, run_id: str) -> TwinRunRecord:
        with self._lock:
            record = self._runs.get(run_id)
        if record is None:
            raise NotFoundError("twin.run_not_found", f"no twin run {run_id!r}", {"id": run_id})
        return record

    def list(self) -> list[TwinRunRecord]:
        with self._lock:
            return list(reversed(self._runs.values()))
