"""Event-driven serving engine: continuous batching, router, prefix cache, autoscaler.

Each replica runs iteration-level (continuous) batching, vLLM-style without chunked prefill:

* requests are admitted FIFO at iteration boundaries while the batch stays under the
  replica's batch cap and their full KV reservation (prompt + output tokens) fits in the cache;
* admitted requests are prefilled together in one iteration (only the prompt tokens not served
  from the prefix cache are computed; ``prefix_hit_rate`` is the cached share of every prompt);
  the first output token appears at the end of that iteration and decoding is paused meanwhile;
* decode iterations produce one token per running request at ``tpot(batch, mean context)``.
  Between events (an admission or a completion) the batch is constant, so the engine jumps
  over whole runs of iterations; the step time is evaluated at the start of each run (the
  context grows by at most the run length meanwhile, a documented approximation).

The router sends each arrival to the ready replica with the fewest outstanding tokens (prompt
tokens still to prefill plus output tokens still to decode). The autoscaler, every
``interval_s``, sizes the fleet to ``work rate / target_util`` replicas, where the work rate is
the estimated replica-seconds of work that arrived in the last ``window_s``; new replicas serve
after ``scale_out_delay_s`` plus a cold start (weight bytes / storage bandwidth); removed
replicas drain and are released when empty. Provisioned replica-time counts from the scale-out
decision to the release.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from suanli.core.errors import ValidationError
from suanli.simulation.inference.workload import Workload


class ServiceModel(Protocol):
    """What the engine needs from a replica performance model (``suanli.inference.Replica``)."""

    def prefill_time(self, tokens: float, cached: float = 0.0) -> float: ...

    def tpot(self, batch: int, context: float) -> float: ...

    def kv_capacity_tokens(self) -> float: ...

    def max_batch(self, context: float) -> int: ...


def cold_start_seconds(
    weight_bytes: float, storage_gb_per_s: float, fixed_s: float = 20.0
) -> float:
    """Model load time: weights read from storage plus a fixed process start."""
    if storage_gb_per_s <= 0:
        raise ValidationError(
            "inference.bad_storage", "storage bandwidth must be positive", {"gb_per_s": "> 0"}
        )
    return fixed_s + weight_bytes / (storage_gb_per_s * 1e9)


@dataclass(frozen=True, slots=True)
class AutoscalerConfig:
    min_replicas: int = 1
    max_replicas: int = 256
    target_util: float = 0.7
    interval_s: float = 60.0
    window_s: float = 300.0
    scale_out_delay_s: float = 30.0
    cold_start_s: float = 60.0
    ref_batch: int = 64
    ref_context: float = 1500.0

    def __post_init__(self) -> None:
        if not 0 < self.target_util <= 1 or self.min_replicas < 1:
            raise ValidationError(
                "autoscaler.invalid",
                "target_util must be in (0, 1] and min_replicas >= 1",
                {"target_util": self.target_util, "min_replicas": self.min_replicas},
            )
        if self.max_replicas < self.min_replicas or self.interval_s <= 0:
            raise ValidationError(
                "autoscaler.invalid",
                "max_replicas must be >= min_replicas and interval_s > 0",
                {"max_replicas": self.max_replicas, "interval_s": self.interval_s},
            )


@dataclass(frozen=True, slots=True)
class EngineConfig:
    replicas: int = 1
    prefix_hit_rate: float = 0.0
    autoscaler: AutoscalerConfig | None = None
    # Cap on decode iterations advanced at once; 1 re-evaluates the step time every iteration
    # (exact context growth, slow: the benchmark's baseline and accuracy check).
    max_jump: int | None = None

    def __post_init__(self) -> None:
        if self.max_jump is not None and self.max_jump < 1:
            raise ValidationError("engine.invalid", "max_jump must be >= 1", {"max_jump": ">= 1"})
        if self.replicas < 1 or not 0.0 <= self.prefix_hit_rate < 1.0:
            raise ValidationError(
                "engine.invalid",
                "need >= 1 replica and prefix_hit_rate in [0, 1)",
                {"replicas": self.replicas, "prefix_hit_rate": self.prefix_hit_rate},
            )


@dataclass(frozen=True)
class SimResult:
    arrival: npt.NDArray[np.float64]
    admit: npt.NDArray[np.float64]
    first_token: npt.NDArray[np.float64]
    finish: npt.NDArray[np.float64]
    prompt: npt.NDArray[np.int64]
    cached: npt.NDArray[np.int64]
    output: npt.NDArray[np.int64]
    replica: npt.NDArray[np.int64]
    timeline_s: npt.NDArray[np.float64]
    timeline_replicas: npt.NDArray[np.int64]
    replica_seconds: float
    end_s: float


class _Replica:
    __slots__ = (
        "born",
        "cap",
        "ctx_sum",
        "draining",
        "heap",
        "kv_cap",
        "kv_used",
        "outstanding",
        "ready_at",
        "released",
        "start_ctx",
        "steps",
        "svc",
        "t",
        "waiting",
        "wake",
    )

    def __init__(self, svc: ServiceModel, born: float, ready_at: float) -> None:
        self.svc = svc
        self.cap = max(1, svc.max_batch(1.0))
        self.kv_cap = svc.kv_capacity_tokens()
        self.t = ready_at
        self.born = born
        self.ready_at = ready_at
        self.draining = False
        self.released = math.inf
        self.waiting: deque[int] = deque()
        # Running requests as (decode step at which it finishes, request id); ``steps`` counts
        # this replica's decode iterations, so a request's context is its start context plus
        # the steps since it joined.
        self.heap: list[tuple[int, int]] = []
        self.steps = 0
        self.ctx_sum = 0.0
        self.start_ctx: dict[int, float] = {}
        self.kv_used = 0.0
        self.outstanding = 0.0
        self.wake = math.inf  # earliest time advance() can change anything

    def busy(self) -> bool:
        return bool(self.waiting) or bool(self.heap)


class _Run:
    """Mutable state of one simulation (arrays indexed by request)."""

    def __init__(self, w: Workload, cfg: EngineConfig) -> None:
        self.arr = w.arrival_s
        self.prompt = w.prompt
        self.output = w.output
        self.cached = np.floor(w.prompt * cfg.prefix_hit_rate).astype(np.int64)
        self.arr_l: list[float] = self.arr.tolist()
        self.prompt_l: list[int] = self.prompt.tolist()
        self.output_l: list[int] = self.output.tolist()
        self.cached_l: list[int] = self.cached.tolist()
        n = len(w)
        self.admit = np.full(n, np.nan)
        self.first = np.full(n, np.nan)
        self.finish = np.full(n, np.nan)
        self.where = np.full(n, -1, dtype=np.int64)
        self.max_jump = cfg.max_jump or math.inf

    def advance(self, r: _Replica, until: float) -> None:
        """Run replica ``r`` through the iterations that start before and end by ``until``.

        An iteration starting exactly at ``until`` waits, so that requests arriving at that
        instant can join it."""
        svc = r.svc
        while r.busy():
            if r.t < r.ready_at:
                r.t = r.ready_at
            if r.t >= until:
                r.wake = r.t
                return
            if self._admit(r):
                continue
            batch = len(r.heap)
            if batch == 0:
                head = self.arr_l[r.waiting[0]]
                if head > until:
                    r.wake = head
                    return
                r.t = max(r.t, head)
                continue
            step = svc.tpot(batch, r.ctx_sum / batch)
            k = min(r.heap[0][0] - r.steps, self.max_jump)
            if until < math.inf:
                k = min(k, int((until - r.t) / step))
            if r.waiting and batch < r.cap:
                head = self.arr_l[r.waiting[0]]
                if head > r.t:
                    k = min(k, max(1, math.ceil((head - r.t) / step)))
            k = int(k)
            if k <= 0:
                r.wake = r.t + step
                return
            r.t += k * step
            r.steps += k
            r.ctx_sum += k * batch
            r.outstanding -= k * batch
            self._complete(r)
        r.wake = math.inf
        if r.draining and r.released == math.inf:
            r.released = max(r.t, r.ready_at)

    def _admit(self, r: _Replica) -> bool:
        """Admit what fits and prefill it in one iteration; False if nothing was admitted."""
        ids: list[int] = []
        running = len(r.heap)
        while r.waiting and running + len(ids) < r.cap:
            i = r.waiting[0]
            need = float(self.prompt_l[i] + self.output_l[i])
            if self.arr_l[i] > r.t or (r.kv_used + need > r.kv_cap and running + len(ids) > 0):
                break
            r.waiting.popleft()
            r.kv_used += need
            ids.append(i)
        if not ids:
            return False
        dt = 0.0
        for i in ids:
            c = float(self.cached_l[i])
            dt += r.svc.prefill_time(float(self.prompt_l[i]) - c, c)
            self.admit[i] = r.t
        r.t += dt
        for i in ids:
            self.first[i] = r.t
            r.outstanding -= self.prompt_l[i] - self.cached_l[i] + 1
            ctx = float(self.prompt_l[i] + 1)
            r.start_ctx[i] = ctx - r.steps
            r.ctx_sum += ctx
            heapq.heappush(r.heap, (r.steps + self.output_l[i] - 1, i))
        self._complete(r)
        return True

    def _complete(self, r: _Replica) -> None:
        heap = r.heap
        while heap and heap[0][0] <= r.steps:
            _, i = heapq.heappop(heap)
            self.finish[i] = r.t
            r.kv_used -= float(self.prompt_l[i] + self.output_l[i])
            r.ctx_sum -= r.start_ctx.pop(i) + r.steps


def simulate(w: Workload, svc: ServiceModel, cfg: EngineConfig) -> SimResult:
    """Serve workload ``w`` on replicas of ``svc``. Deterministic (no randomness inside)."""
    run = _Run(w, cfg)
    scaler = cfg.autoscaler
    start = cfg.replicas if scaler is None else max(cfg.replicas, scaler.min_replicas)
    reps = [_Replica(svc, 0.0, 0.0) for _ in range(start)]
    work = _work_estimate(run, svc, scaler) if scaler else None
    tl_t: list[float] = [0.0]
    tl_n: list[int] = [start]
    next_tick = scaler.interval_s if scaler else math.inf
    n = len(w)
    for i in range(n):
        a = float(run.arr[i])
        while scaler is not None and work is not None and next_tick <= a:
            for r in reps:
                if r.wake <= next_tick:
                    run.advance(r, next_tick)
            _autoscale(reps, svc, scaler, run, work, next_tick)
            tl_t.append(next_tick)
            tl_n.append(sum(1 for r in reps if r.released > next_tick))
            next_tick += scaler.interval_s
        best, best_j, best_key = reps[0], -1, (2, math.inf)
        for j, r in enumerate(reps):
            if r.wake <= a:
                run.advance(r, a)
            if r.draining:
                continue
            key = (0 if r.ready_at <= a else 1, r.outstanding)
            if key < best_key:
                best, best_j, best_key = r, j, key
        run.where[i] = best_j
        best.waiting.append(i)
        best.outstanding += float(run.prompt_l[i] - run.cached_l[i] + run.output_l[i])
        if not best.heap:
            best.wake = min(best.wake, max(a, best.ready_at))
    for r in reps:
        run.advance(r, math.inf)
    end = float(np.nanmax(run.finish)) if n else 0.0
    rs = sum(min(r.released, end) - r.born for r in reps if r.born < end)
    tl_t.append(end)
    tl_n.append(sum(1 for r in reps if r.released >= end))
    return SimResult(
        arrival=run.arr,
        admit=run.admit,
        first_token=run.first,
        finish=run.finish,
        prompt=run.prompt,
        cached=run.cached,
        output=run.output,
        replica=run.where,
        timeline_s=np.asarray(tl_t),
        timeline_replicas=np.asarray(tl_n, dtype=np.int64),
        replica_seconds=float(rs),
        end_s=end,
    )


def _work_estimate(
    run: _Run, svc: ServiceModel, s: AutoscalerConfig | None
) -> npt.NDArray[np.float64]:
    assert s is not None
    per_token = svc.tpot(s.ref_batch, s.ref_context) / s.ref_batch
    pre = np.array(
        [
            svc.prefill_time(float(p - c), float(c))
            for p, c in zip(run.prompt, run.cached, strict=True)
        ]
    )
    return np.asarray(pre + run.output * per_token, dtype=np.float64)


def _autoscale(
    reps: list[_Replica],
    svc: ServiceModel,
    s: AutoscalerConfig,
    run: _Run,
    work: npt.NDArray[np.float64],
    now: float,
) -> None:
    lo = int(np.searchsorted(run.arr, now - s.window_s, side="right"))
    hi = int(np.searchsorted(run.arr, now, side="right"))
    span = min(s.window_s, max(now, 1e-9))
    rate = float(work[lo:hi].sum()) / span
    desired = min(s.max_replicas, max(s.min_replicas, math.ceil(rate / s.target_util)))
    active = [r for r in reps if not r.draining]
    if desired > len(active):
        extra = desired - len(active)
        for r in reps:  # first take back draining replicas that still hold their weights
            if extra and r.draining and r.released == math.inf:
                r.draining = False
                extra -= 1
        ready = now + s.scale_out_delay_s + s.cold_start_s
        reps.extend(_Replica(svc, now, ready) for _ in range(extra))
    elif desired < len(active):
        for r in sorted(active, key=lambda r: (-r.ready_at, r.outstanding))[
            : len(active) - desired
        ]:
            r.draining = True
            if not r.busy():
                r.released = max(now, r.born) if r.ready_at > now else max(r.t, now)
