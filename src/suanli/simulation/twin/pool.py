"""The twin's cloud pool: training jobs through the real scheduling cycle, billed per GPU-hour.

Owns :func:`plan_pool`, :func:`run_pool` and :func:`simulate_pool` (both, for a static pool).
A static share of the fleet (``twin.pool.servers``, capped at the servers that ever arrive)
runs a GPU pool from the first month that many servers are in service to the horizon;
bare-metal leases get the rest. With ``split = "dynamic"`` the pool also borrows the
bare-metal servers no lease holds in a month; a lease reclaims them at its start, and the jobs
on them are preempted and requeued (:func:`lent_withdrawals`). Each month a Philly-fitted synthetic workload
(:mod:`suanli.simulation.traces.synthetic`) arrives at ``load`` × the pool's GPU capacity,
growing by ``load_growth_annual``, with job GPU counts × ``job_gpu_scale`` (8 = whole-server
jobs). One continuous run of the job simulator (:class:`suanli.simulation.jobsim.JobSimulator`,
the scheduling cycle the live service uses, with the twin's failure model) serves every month,
so queues and long jobs carry across month ends. Per month:

    utilisation[t]        = GPU-seconds allocated during the month / (pool GPUs × month seconds)
    billed GPU-seconds[c] = GPU-seconds allocated during the month × class c's share of the
                            work that arrived that month

Both classes are priced by the ledger's own usage rule (:func:`suanli.core.pricing.usage_lines`
over :class:`~suanli.core.pricing.UsageItem` aggregates, one line per class and month, rounded
by :func:`~suanli.core.billing.line_amount`): the simulator's reserved class is sold as the
ledger's ``standard`` on-demand class, spot as ``spot``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

import numpy as np

from suanli.core.billing import Period, line_amount, midnight
from suanli.core.pricing import UsageItem, usage_lines
from suanli.scheduling.jobs.model import ClusterSpec, JobTable, PriorityClass
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.failures import FailureModel
from suanli.simulation.jobsim import JobSimulator, SimResult
from suanli.simulation.traces.synthetic import PHILLY_FIT, generate
from suanli.simulation.twin.scenario import Pool

ZERO = Decimal(0)
LEDGER_CLASS = {PriorityClass.RESERVED: "standard", PriorityClass.SPOT: "spot"}
POOL_SKU = "pool"


@dataclass(frozen=True, slots=True)
class PoolPrice:
    """A GPU-hour price in the shape :class:`suanli.core.pricing.Price` asks for."""

    id: int
    gpu_hour_price: Decimal
    vat_rate: Decimal


@dataclass(frozen=True, slots=True)
class PoolPrices:
    """The pool's price list: one net GPU-hour price per ledger class, all months."""

    standard: Decimal
    spot: Decimal
    vat_rate: Decimal

    def at(self, sku: str, klass: str, day: date) -> PoolPrice | None:
        if klass == "standard":
            return PoolPrice(1, self.standard, self.vat_rate)
        if klass == "spot":
            return PoolPrice(2, self.spot, self.vat_rate)
        return None


@dataclass(frozen=True, slots=True)
class PoolMonth:
    servers: int = 0
    utilization: float = 0.0
    gpu_seconds: dict[str, Decimal] = field(default_factory=dict)  # billed, per ledger class
    revenue: Decimal = ZERO  # net of VAT
    vat: Decimal = ZERO
    jobs: int = 0
    cycle_seconds: float = 0.0  # wall time spent in the scheduling cycle
    lent_servers: int = 0  # idle bare-metal servers lent for the month (dynamic split)
    valley_servers: float = 0.0  # inference nodes lent in the valley, averaged over the month
    hours_in_month: float = 0.0

    @property
    def busy_servers(self) -> float:
        """Server-equivalents busy: utilisation of the own, the lent and the valley's servers."""
        return self.utilization * (self.servers + self.lent_servers + self.valley_servers)


@functools.lru_cache(maxsize=64)
def mean_job_work(max_gpus: int, scale: int, samples: int = 200_000, seed: int = 12345) -> float:
    """Mean GPU-seconds of one synthetic job with GPU counts × ``scale`` (a fixed-seed estimate,
    so the number of jobs in every window is a deterministic function of the inputs); sizes
    above ``max_gpus`` (of the unscaled draw) are excluded as :func:`generate` excludes them."""
    rng = np.random.default_rng(seed)
    probs = np.where(np.asarray(PHILLY_FIT.sizes) <= max_gpus, np.asarray(PHILLY_FIT.probs), 0.0)
    probs = probs / probs.sum()
    kind = rng.choice(len(probs), size=samples, p=probs)
    sizes = np.asarray(PHILLY_FIT.sizes, dtype=np.float64)[kind] * scale
    mu = np.asarray(PHILLY_FIT.log_mean)[kind]
    sd = np.asarray(PHILLY_FIT.log_std)[kind]
    duration = np.minimum(np.maximum(np.rint(np.exp(rng.normal(mu, sd))), 1.0), 4_628_226.0)
    return float(np.mean(sizes * duration))


def _arrivals(
    spec: Pool, gpus: int, first: int, bounds: np.ndarray, rng: np.random.Generator
) -> tuple[JobTable, np.ndarray]:
    """Every month's jobs in one table (submit in seconds since the pool's first month) and
    each job's grid month."""
    base_gpus = max(1, gpus // spec.job_gpu_scale)
    work = mean_job_work(base_gpus, spec.job_gpu_scale)
    parts: list[JobTable] = []
    months: list[np.ndarray] = []
    for i in range(len(bounds) - 1):
        t = first + i
        load = spec.load * (1.0 + spec.load_growth_annual) ** (t / 12.0)
        span = float(bounds[i + 1] - bounds[i])
        n = round(load * gpus * span / work * 1.25)  # 25 % spare, cut at the month's end
        if load <= 0 or n < 1:
            continue
        jobs = generate(
            n, base_gpus, rng, load=load, tenants=spec.tenants, spot_share=spec.spot_share,
            max_gpus=base_gpus,
        )  # fmt: skip
        # :func:`generate` sets the arrival rate from this draw's own mean work, which a heavy
        # tail makes noisy; rescale so the rate follows the model's mean and the month is full
        sample_mean = float(np.dot(jobs.gpus.astype(np.float64), jobs.duration)) / len(jobs)
        jobs = replace(jobs, submit=jobs.submit * (work / (sample_mean * spec.job_gpu_scale)))
        keep = np.flatnonzero(jobs.submit < span)
        if keep.size == 0:
            continue
        jobs = jobs.subset(keep)
        parts.append(replace(jobs, submit=jobs.submit + bounds[i]))
        months.append(np.full(keep.size, t, dtype=np.int64))
    if not parts:
        return JobTable.build([], [], []), np.zeros(0, dtype=np.int64)
    names = parts[0].tenant_names
    table = JobTable.build(
        np.concatenate([p.submit for p in parts]),
        np.concatenate([p.duration for p in parts]),
        np.minimum(np.concatenate([p.gpus for p in parts]) * spec.job_gpu_scale, gpus),
        tenant=[names[i] for p in parts for i in p.tenant.tolist()],
        pclass=np.concatenate([p.pclass for p in parts]),
        checkpoint=np.concatenate([p.checkpoint for p in parts]),
    )
    return table, np.concatenate(months)


def allocated_between(result: SimResult, bounds: np.ndarray) -> np.ndarray:
    """GPU-seconds allocated in each ``[bounds[i], bounds[i+1])`` (the allocation step function)."""
    t = np.frombuffer(result.alloc_times, dtype=np.float64)
    g = np.frombuffer(result.alloc_gpus, dtype=np.float64)
    if t.size == 0:
        return np.zeros(len(bounds) - 1)
    # cumulative GPU-seconds at each change, then interpolate the integral at the bounds
    cumulative = np.concatenate(([0.0], np.cumsum(g[:-1] * np.diff(t))))
    idx = np.clip(np.searchsorted(t, bounds, side="right") - 1, 0, None)
    at = cumulative[idx] + g[idx] * np.clip(bounds - t[idx], 0.0, None)
    at = np.where(bounds < t[0], 0.0, at)
    return np.diff(at)


@dataclass(frozen=True, slots=True)
class PoolWorkload:
    """What the pool runs: ``servers`` from grid month ``first``, the jobs (submit in seconds
    since the start of month ``first``), each job's grid month and the month bounds in seconds."""

    servers: int
    first: int
    jobs: JobTable
    job_month: np.ndarray
    bounds: np.ndarray


def pool_workload(
    spec: Pool, active: np.ndarray, periods: list[Period], rng: np.random.Generator
) -> PoolWorkload | None:
    """The pool's size, start and jobs (``None`` when there is no pool to run)."""
    servers = min(spec.servers, int(active.max()) if active.size else 0)
    ready = np.flatnonzero(active[1:] >= servers) + 1 if servers > 0 else np.zeros(0)
    if servers <= 0 or ready.size == 0 or spec.load <= 0:
        return None
    first = int(ready[0])
    origin = midnight(periods[first].start)
    bounds = np.array(
        [(midnight(p.start) - origin).total_seconds() for p in periods[first:]]
        + [(periods[-1].end_at - origin).total_seconds()],
        dtype=np.float64,
    )
    jobs, job_month = _arrivals(spec, servers * spec.gpus_per_server, first, bounds, rng)
    return PoolWorkload(servers, first, jobs, job_month, bounds)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` index ranges of the maximal runs of ``True`` in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(np.int8), [0]))))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist(), strict=True))


def lent_withdrawals(
    own: int, lent: np.ndarray, bounds: np.ndarray
) -> tuple[int, list[tuple[float, int, float]]]:
    """The lent nodes of a dynamic pool and when each is away.

    ``lent[i]`` servers are lent in the pool's ``i``-th month ``[bounds[i], bounds[i+1])``;
    lent node ``k`` (cluster index ``own + k``) is in the pool in month ``i`` iff
    ``k < lent[i]``, so the servers a lease reclaims are the last lent. Returns the number of
    lent nodes and ``(time, node, seconds)`` spans during which each is not in the pool
    (consecutive months merged; the last span runs to the horizon).
    """
    nodes = int(lent.max()) if lent.size else 0
    out: list[tuple[float, int, float]] = []
    for k in range(nodes):
        for i, j in _runs(lent <= k):
            out.append((float(bounds[i]), own + k, float(bounds[j] - bounds[i])))
    return nodes, out


LOCAL_HOURS = 8  # the inference profile's clock hours are UTC+8


def valley_withdrawals(
    first_node: int, free: list[list[int]], bounds: np.ndarray
) -> tuple[int, np.ndarray, list[tuple[float, int, float]]]:
    """The inference valley's nodes lent to the pool, hour by hour.

    ``free[i]`` is the 24 local-hour counts of nodes the inference autoscaler leaves free in the
    pool's ``i``-th month ``[bounds[i], bounds[i+1])`` (bounds are UTC midnights). Valley node
    ``k`` (cluster index ``first_node + k``) is in the pool in an hour iff ``k`` is below that
    hour's count. Returns the number of valley nodes, the free node-hours per month and the
    ``(time, node, seconds)`` spans each node is away (runs of hours merged).
    """
    hours = np.rint(bounds / 3600.0).astype(np.int64)
    per_hour = np.zeros(int(hours[-1] - hours[0]), dtype=np.int64)
    node_hours = np.zeros(len(free), dtype=np.float64)
    for i, counts in enumerate(free):
        a, b = int(hours[i] - hours[0]), int(hours[i + 1] - hours[0])
        local = (np.arange(a, b) + int(hours[0]) + LOCAL_HOURS) % 24
        per_hour[a:b] = np.asarray(counts, dtype=np.int64)[local]
        node_hours[i] = float(per_hour[a:b].sum())
    nodes = int(per_hour.max()) if per_hour.size else 0
    out: list[tuple[float, int, float]] = []
    for k in range(nodes):
        for start, stop in _runs(per_hour <= k):
            at = float(bounds[0]) + 3600.0 * start
            out.append((at, first_node + k, 3600.0 * (stop - start)))
    return nodes, node_hours, out


def plan_pool(
    spec: Pool, active: np.ndarray, periods: list[Period], rng: np.random.Generator
) -> tuple[np.ndarray, PoolWorkload | None]:
    """The pool's own servers per grid month and its workload (drawn from ``rng`` first, so
    planning before or after the lease book gives the same jobs)."""
    pool = np.zeros(len(periods), dtype=np.int64)
    w = pool_workload(spec, active, periods, rng)
    if w is not None and len(w.jobs) > 0:
        pool[w.first :] = w.servers
    return pool, w


def run_pool(
    spec: Pool,
    w: PoolWorkload | None,
    periods: list[Period],
    failures: FailureModel | None,
    prices: list[PoolPrices],
    rng: np.random.Generator,
    timer: Callable[[], float] | None = None,
    lent: np.ndarray | None = None,
    valley: list[list[int]] | None = None,
) -> list[PoolMonth]:
    """Each grid month's :class:`PoolMonth` for the workload ``w`` (month 0 is capex only;
    ``periods[t]`` is grid month ``t``'s calendar month, ``prices[t]`` its price list).

    ``lent[t]`` (dynamic split) is the number of idle bare-metal servers lent to the pool for
    grid month ``t``: they join at the month's start and a lease that starts at a later month
    takes them back, preempting the jobs on them (:meth:`JobSimulator._withdraw`).
    ``valley[t]`` (an inference service with ``valley = "pool"``) is the 24 local-hour counts
    of inference nodes its autoscaler leaves free in grid month ``t``; they are lent hour by
    hour (:func:`valley_withdrawals`).
    """
    out = [PoolMonth() for _ in periods]
    if w is None or len(w.jobs) == 0:
        return out
    months = len(periods) - w.first
    lends = np.zeros(months, dtype=np.int64)
    if lent is not None:
        lends = np.maximum(np.asarray(lent[w.first :], dtype=np.int64), 0)
    extra, withdrawals = lent_withdrawals(w.servers, lends, w.bounds)
    valley_nodes, valley_hours = 0, np.zeros(months)
    if valley is not None:
        valley_nodes, valley_hours, more = valley_withdrawals(
            w.servers + extra, valley[w.first :], w.bounds
        )
        withdrawals += more
    gpn = spec.gpus_per_server
    result = JobSimulator(
        w.jobs,
        ClusterSpec.uniform(w.servers + extra + valley_nodes, gpn),
        make_policy(spec.policy),
        failures=failures,
        seed=int(rng.integers(2**31)),
        timer=timer,
        withdrawals=withdrawals,
    ).run()
    allocated = allocated_between(result, w.bounds)
    work = w.jobs.gpus.astype(np.float64) * w.jobs.duration
    cycle = float(sum(result.cycle_seconds))
    for i, period in enumerate(periods[w.first :]):
        t = w.first + i
        mine = w.job_month == t
        offered = {k: float(work[mine & (w.jobs.pclass == int(k))].sum()) for k in LEDGER_CLASS}
        total = sum(offered.values())
        start = midnight(period.start)
        usage = [
            UsageItem(start, POOL_SKU, LEDGER_CLASS[k], Decimal(round(allocated[i] * x / total)))
            for k, x in offered.items()
            if total > 0 and x > 0
        ]
        amounts = [line_amount(d.exact_net, d.vat_rate) for d in usage_lines(usage, [], prices[t])]
        own_lent = (w.servers + int(lends[i])) * period.seconds + valley_hours[i] * 3600.0
        capacity = own_lent * gpn
        out[t] = PoolMonth(
            servers=w.servers,
            utilization=min(1.0, float(allocated[i]) / capacity),
            gpu_seconds={u.priority_class: u.gpu_seconds for u in usage},
            revenue=sum((a.net for a in amounts), ZERO),
            vat=sum((a.tax for a in amounts), ZERO),
            jobs=int(mine.sum()),
            cycle_seconds=cycle if i == 0 else 0.0,
            lent_servers=int(lends[i]),
            valley_servers=float(valley_hours[i]) * 3600.0 / period.seconds,
            hours_in_month=period.seconds / 3600.0,
        )
    return out


def simulate_pool(
    spec: Pool,
    active: np.ndarray,
    periods: list[Period],
    failures: FailureModel | None,
    prices: list[PoolPrices],
    rng: np.random.Generator,
    timer: Callable[[], float] | None = None,
) -> tuple[np.ndarray, list[PoolMonth]]:
    """A static pool: its own servers per grid month and each month's :class:`PoolMonth`."""
    pool, w = plan_pool(spec, active, periods, rng)
    return pool, run_pool(spec, w, periods, failures, prices, rng, timer)
