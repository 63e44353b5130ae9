"""The scheduling cycle: one pure function from a snapshot and the pending lanes to a plan.

Phases (numbered as in the code):

1. **heads** — the head of every pending lane goes into a heap ordered by the policy
   (rank; for fair share the tenant's dominant share first, recomputed lazily).
2. **snapshot** — a scratch copy of the free-GPU vector (and tenant usage) that the cycle may
   change; the :class:`Snapshot` itself is never written.
3. **nominate** — the best head gets a placement on the scratch vector; if it does not fit and
   the policy preempts, :func:`~suanli.scheduling.jobs.preemption.select_victims` names victims.
4. **order** — heads leave the heap in policy order; admitting a head puts its lane's next job
   in the heap, so the pass is greedy in policy order with skip-over of blocked lanes.
5. **admit** — the job's GPUs are taken from the scratch vector and an :class:`Admit` is planned.
6. **requeue / preempt / backfill** — victims become :class:`Preempt` plans (the driver requeues
   them); a strict policy stops at its first blocked head, reserves for it and backfills.

The driver applies the returned :class:`CyclePlan`: preemptions first, then admissions.
Invariants the plan keeps: no node's GPUs are over-committed (admissions are placed on the
scratch vector net of victims), every admission is a whole gang, no job appears twice.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from suanli.scheduling.jobs.backfill import Reservation, reserve
from suanli.scheduling.jobs.model import BoolArray, FloatArray, IntArray, JobTable, TenantQuota
from suanli.scheduling.jobs.placement import Placement, place
from suanli.scheduling.jobs.policies import (
    Policy,
    PolicyName,
    running_ranks,
    victim_threshold,
)
from suanli.scheduling.jobs.preemption import VictimChoice, select_victims
from suanli.scheduling.jobs.queues import LaneKey, PendingQueues


@dataclass(frozen=True)
class Admit:
    job: int
    placement: Placement


@dataclass(frozen=True)
class Preempt:
    job: int
    by: int


@dataclass(frozen=True)
class Reserve:
    job: int
    at: float


@dataclass(frozen=True)
class CyclePlan:
    admits: tuple[Admit, ...]
    preempts: tuple[Preempt, ...]
    reservation: Reserve | None = None


@dataclass(frozen=True, eq=False)
class Snapshot:
    """What the cycle reads. Job-indexed arrays describe each job's progress:
    ``progress`` seconds of work done and ``attained`` GPU-seconds received up to
    ``run_start`` (for running jobs) or up to now (pending ones); ``startup`` is the restart
    overhead paid at the start of the current or next run; ``est_end`` the estimated end of
    running jobs (also pushed on ``end_heap`` as ``(est_end, job)``; stale entries allowed)."""

    now: float
    jobs: JobTable
    free: IntArray
    usable: BoolArray
    leaf: IntArray
    running: Mapping[int, Placement]
    progress: FloatArray
    attained: FloatArray
    run_start: FloatArray
    startup: FloatArray
    est_end: FloatArray
    end_heap: Sequence[tuple[float, int]]
    tenant_usage: IntArray
    total_gpus: int
    quotas: QuotaBook | None = None


def tenant_quotas(policy: Policy, tenants: int, total_gpus: int) -> list[TenantQuota]:
    """Quota of every tenant: the policy's, else an equal part of the capacity not given to
    tenants with an explicit quota (at least 1 GPU)."""
    given = {t: q for t, q in policy.quotas.items() if 0 <= t < tenants}
    rest = tenants - len(given)
    spare = max(total_gpus - sum(q.nominal for q in given.values()), 0)
    default = TenantQuota(nominal=max(1, math.ceil(spare / rest))) if rest else None
    return [given.get(t) or default or TenantQuota(1) for t in range(tenants)]


def admissible_gpus(policy: Policy, tenants: int, total_gpus: int) -> list[int]:
    """Largest job each tenant can ever start under ``policy`` (quotas and cohorts)."""
    if not policy.by_tenant:
        return [total_gpus] * tenants
    quotas = tenant_quotas(policy, tenants, total_gpus)
    cohort_total: dict[str, int] = {}
    for q in quotas:
        cohort_total[q.cohort] = cohort_total.get(q.cohort, 0) + q.nominal
    out = []
    for q in quotas:
        limit = cohort_total[q.cohort]
        if q.borrowing_limit is not None:
            limit = min(limit, q.nominal + q.borrowing_limit)
        out.append(min(max(limit, q.nominal), total_gpus))
    return out


@dataclass(frozen=True)
class QuotaBook:
    """Quotas resolved once per run: per tenant nominal, borrowing limit and cohort index."""

    quota: tuple[TenantQuota, ...]
    cohort: tuple[int, ...]
    cohort_nominal: tuple[int, ...]

    @staticmethod
    def build(policy: Policy, tenants: int, total_gpus: int) -> QuotaBook:
        quota = tenant_quotas(policy, tenants, total_gpus)
        names = sorted({q.cohort for q in quota})
        cohort = tuple(names.index(q.cohort) for q in quota)
        nominal = [0] * len(names)
        for t, q in enumerate(quota):
            nominal[cohort[t]] += q.nominal
        return QuotaBook(tuple(quota), cohort, tuple(nominal))


class _Fair:
    """Tenant usage during one cycle, for DRF ordering and Kueue-style cohort borrowing."""

    def __init__(self, policy: Policy, snap: Snapshot) -> None:
        book = snap.quotas or QuotaBook.build(policy, len(snap.jobs.tenant_names), snap.total_gpus)
        self.quota = book.quota
        self.cohort = book.cohort
        self.cohort_nominal = book.cohort_nominal
        self.usage: list[int] = snap.tenant_usage.tolist()
        self.cohort_usage = [0] * len(book.cohort_nominal)
        for t, used in enumerate(self.usage):
            self.cohort_usage[self.cohort[t]] += used

    def key(self, tenant: int, gpus: int) -> tuple[int, float]:
        q = self.quota[tenant]
        used = self.usage[tenant]
        return (int(used + gpus > q.nominal), used / max(q.nominal, 1))

    def allowed(self, tenant: int, gpus: int) -> bool:
        q = self.quota[tenant]
        used = self.usage[tenant] + gpus
        if used <= q.nominal:
            return True
        if q.borrowing_limit is not None and used > q.nominal + q.borrowing_limit:
            return False
        c = self.cohort[tenant]
        return self.cohort_usage[c] + gpus <= self.cohort_nominal[c]

    def within_nominal(self, tenant: int, gpus: int) -> bool:
        return self.usage[tenant] + gpus <= self.quota[tenant].nominal

    def add(self, tenant: int, gpus: int) -> None:
        self.usage[tenant] += gpus
        self.cohort_usage[self.cohort[tenant]] += gpus


class _Victims:
    """Running jobs in eviction order, with their ranks, computed once per cycle on demand."""

    def __init__(self, policy: Policy, snap: Snapshot) -> None:
        idx = np.fromiter(snap.running.keys(), dtype=np.int64, count=len(snap.running))
        jobs = snap.jobs
        elapsed = snap.now - snap.run_start[idx]
        done = snap.progress[idx] + np.maximum(0.0, elapsed - snap.startup[idx])
        remaining = jobs.duration[idx] - done
        attained = snap.attained[idx] + jobs.gpus[idx] * elapsed
        ranks = running_ranks(policy, jobs, idx, remaining, attained)
        if policy.name is PolicyName.FAIR:
            order = np.lexsort((-idx, -snap.run_start[idx]))
        else:
            order = np.lexsort((-idx, -ranks))
        self.idx = idx[order]
        self.ranks = ranks[order]
        self.tenant = jobs.tenant
        self.gone: set[int] = set()

    def eligible(self, policy: Policy, rank: float, fair: _Fair | None, tenant: int) -> list[int]:
        if fair is not None:
            cohort = fair.cohort[tenant]
            out = []
            for j in self.idx.tolist():
                t = int(self.tenant[j])
                if j in self.gone or fair.cohort[t] != cohort:
                    continue
                if fair.usage[t] > fair.quota[t].nominal:
                    out.append(j)
            return out
        threshold = victim_threshold(policy, rank)
        k = int(np.searchsorted(-self.ranks, -threshold, side="left"))
        return [j for j in self.idx[:k].tolist() if j not in self.gone]


def schedule(snap: Snapshot, queues: PendingQueues, policy: Policy) -> CyclePlan:
    """Run one scheduling cycle. Pure: reads ``snap`` and ``queues``, returns a plan."""
    jobs = snap.jobs
    gpus_of = jobs.gpus
    fair = _Fair(policy, snap) if policy.by_tenant else None

    # Phase 1 — heads: one heap entry per lane, (order key, lane, position in lane).
    heap: list[tuple[tuple[float, ...], LaneKey, int]] = []
    for key, lane in queues.lanes():
        heap.append((_order(fair, lane[0], key), key, 0))
    heapq.heapify(heap)

    # Phase 2 — snapshot: scratch state the cycle may change.
    free = snap.free.copy()
    total_free = int(free.sum())
    admits: list[Admit] = []
    preempts: list[Preempt] = []
    victims: _Victims | None = None
    blocked: tuple[int, LaneKey, int] | None = None
    cursor: dict[LaneKey, int] = {}  # per lane: first position not admitted in this cycle

    while heap:
        _okey, key, pos = heapq.heappop(heap)
        lane = queues.lane(key)
        rank, job = lane[pos]
        if fair is not None:  # Phase 4 — order: shares moved since this entry was pushed
            fresh = _order(fair, lane[pos], key)
            if heap and fresh > heap[0][0]:
                heapq.heappush(heap, (fresh, key, pos))
                continue
        gpus = int(gpus_of[job])
        tenant = key[0]
        if fair is not None and not fair.allowed(tenant, gpus):
            continue  # quota: no job of this lane may start this cycle
        # Phase 3 — nominate.
        placement = (
            place(free, snap.leaf, gpus, policy.strategy, policy.single_node)
            if gpus <= total_free
            else None
        )
        chosen: tuple[int, ...] = ()
        if placement is None and _may_preempt(policy, fair, tenant, gpus):
            if victims is None:
                victims = _Victims(policy, snap)
            choice = _nominate_victims(snap, policy, free, victims, rank, fair, tenant, gpus)
            if choice is not None:
                placement, chosen = choice.placement, choice.victims
        if placement is None:
            if policy.strict and blocked is None:
                blocked = (job, key, pos)
                break
            continue  # skip-over: the rest of this lane cannot start either
        # Phase 5 — admit (and Phase 6 — preempt the victims it needs).
        for v in chosen:
            assert victims is not None
            victims.gone.add(v)
            preempts.append(Preempt(v, job))
            for node, count in snap.running[v]:
                if snap.usable[node]:
                    free[node] += count
                    total_free += count
            if fair is not None:
                fair.add(int(jobs.tenant[v]), -int(gpus_of[v]))
        for node, count in placement:
            free[node] -= count
        total_free -= gpus
        admits.append(Admit(job, placement))
        cursor[key] = pos + 1
        if fair is not None:
            fair.add(tenant, gpus)
        if pos + 1 < len(lane):
            heapq.heappush(heap, (_order(fair, lane[pos + 1], key), key, pos + 1))

    reservation: Reserve | None = None
    if blocked is not None and policy.uses_backfill:
        res = reserve(
            blocked[0],
            int(gpus_of[blocked[0]]),
            free,
            snap.leaf,
            snap.usable,
            snap.end_heap,
            snap.est_end,
            snap.running,
            policy.strategy,
            policy.single_node,
        )
        reservation = Reserve(blocked[0], res.shadow)
        cursor[blocked[1]] = blocked[2] + 1
        admits.extend(_backfill(snap, queues, policy, free, res, cursor, fair))
    elif blocked is not None:
        reservation = Reserve(blocked[0], math.inf)
    return CyclePlan(tuple(admits), tuple(preempts), reservation)


def _may_preempt(policy: Policy, fair: _Fair | None, tenant: int, gpus: int) -> bool:
    if fair is not None:
        return policy.reclaim and fair.within_nominal(tenant, gpus)
    return policy.preemptive


def _nominate_victims(
    snap: Snapshot,
    policy: Policy,
    free: IntArray,
    victims: _Victims,
    rank: float,
    fair: _Fair | None,
    tenant: int,
    gpus: int,
) -> VictimChoice | None:
    """Phase 3 (preemptive part): the victims that would let this head start now."""
    cands = victims.eligible(policy, rank, fair, tenant)
    if not cands:
        return None
    return select_victims(
        free, snap.leaf, snap.usable, gpus, cands, snap.running, policy.strategy, policy.single_node
    )


def _order(fair: _Fair | None, item: tuple[float, int], key: LaneKey) -> tuple[float, ...]:
    rank, job = item
    if fair is None:
        return (rank, float(job))
    borrow, share = fair.key(key[0], key[1])
    return (float(borrow), share, rank, float(job))


def _backfill(
    snap: Snapshot,
    queues: PendingQueues,
    policy: Policy,
    free: IntArray,
    res: Reservation,
    cursor: dict[LaneKey, int],
    fair: _Fair | None,
) -> list[Admit]:
    """Phase 6 — EASY backfill behind the reservation, lanes in head order, bounded depth."""
    jobs = snap.jobs
    out: list[Admit] = []
    budget = policy.backfill_depth
    total_free = int(free.sum())
    lanes = sorted(queues.lanes(), key=lambda kv: kv[1][0])
    for key, lane in lanes:
        if budget <= 0 or total_free <= 0:
            break
        gpus = key[1]
        start = cursor.get(key, 0)
        if gpus > total_free:
            budget -= 1
            continue
        for _rank, job in lane[start:]:
            budget -= 1
            if budget < 0:
                break
            if fair is not None and not fair.allowed(key[0], gpus):
                break
            placement = place(free, snap.leaf, gpus, policy.strategy, policy.single_node)
            if placement is None:
                break
            est = max(float(jobs.estimate[job]) - float(snap.progress[job]), 0.0)
            est += float(snap.startup[job])
            if not res.allows(snap.now, est, placement):
                continue
            res.take(snap.now, est, placement)
            for node, count in placement:
                free[node] -= count
            total_free -= gpus
            if fair is not None:
                fair.add(key[0], gpus)
            out.append(Admit(job, placement))
            if gpus > total_free:
                break
    return out
