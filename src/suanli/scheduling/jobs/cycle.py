"""The scheduling cycle: one pure function from a snapshot and the pending lanes to a plan.

Phases (numbered as in the code):

1. **heads** — the head of every pending lane goes into a heap ordered by the policy
   (rank; for fair share the tenant's dominant share first, recomputed lazily).
2. **snapshot** — a scratch copy of the free-GPU vector (and tenant usage) that the cycle may
   change; the :class:`Snapshot` itself is never written.
3. **nominate** — the best head gets a placement on the scratch vector; if it does not fit and
   the policy preempts, :func:`~suanli.scheduling.jobs.preemption.select_victims` names victims.
4. **order** — heads leave the heap in policy order; admitting a head puts its lane's next job
   in the heap, so the pass is greedy in policy order with skip-over of blocked lanes. A tenant
   with a cap (``policy.caps``) starts nothing that would take it above its cap.
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
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

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
    node_jobs: Sequence[Collection[int]] | None = None
    tenant_running: Sequence[dict[int, None]] | None = None


def _capped(policy: Policy, tenant: int, limit: int) -> int:
    cap = policy.caps.get(tenant)
    return limit if cap is None else min(limit, cap)


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
        return [_capped(policy, t, total_gpus) for t in range(tenants)]
    quotas = tenant_quotas(policy, tenants, total_gpus)
    cohort_total: dict[str, int] = {}
    for q in quotas:
        cohort_total[q.cohort] = cohort_total.get(q.cohort, 0) + q.nominal
    out: list[int] = []
    for q in quotas:
        limit = cohort_total[q.cohort]
        if q.borrowing_limit is not None:
            limit = min(limit, q.nominal + q.borrowing_limit)
        out.append(_capped(policy, len(out), min(max(limit, q.nominal), total_gpus)))
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


class _Caps:
    """GPUs each capped tenant holds during one cycle (``policy.caps``); others are uncapped."""

    def __init__(self, policy: Policy, snap: Snapshot) -> None:
        self.cap = policy.caps
        self.usage: list[int] = snap.tenant_usage.tolist()

    def allowed(self, tenant: int, gpus: int) -> bool:
        cap = self.cap.get(tenant)
        return cap is None or self.usage[tenant] + gpus <= cap

    def add(self, tenant: int, gpus: int) -> None:
        self.usage[tenant] += gpus


class _Victims:
    """Running jobs in eviction order, computed once per cycle on demand.

    Preemptive policies rank all running jobs (worst first, so the eligible ones are a
    prefix). Fair-share reclaim walks the running jobs of tenants above their quota, most
    recently started first, lazily — on a large cluster it usually needs only a few.
    """

    def __init__(self, policy: Policy, snap: Snapshot) -> None:
        self.snap = snap
        self.gone: set[int] = set()
        self.idx: IntArray = np.zeros(0, dtype=np.int64)
        self.ranks: FloatArray = np.zeros(0)
        if policy.name is PolicyName.FAIR:
            return
        idx = np.fromiter(snap.running.keys(), dtype=np.int64, count=len(snap.running))
        jobs = snap.jobs
        elapsed = snap.now - snap.run_start[idx]
        done = snap.progress[idx] + np.maximum(0.0, elapsed - snap.startup[idx])
        remaining = jobs.duration[idx] - done
        attained = snap.attained[idx] + jobs.gpus[idx] * elapsed
        ranks = running_ranks(policy, jobs, idx, remaining, attained)
        order = np.lexsort((-idx, -ranks))
        self.idx = idx[order]
        self.ranks = ranks[order]

    def eligible(
        self, policy: Policy, rank: float, fair: _Fair | None, tenant: int
    ) -> Iterable[int]:
        if fair is not None:
            return self._borrowers(fair, fair.cohort[tenant])
        threshold = victim_threshold(policy, rank)
        k = int(np.searchsorted(-self.ranks, -threshold, side="left"))
        return [j for j in self.idx[:k].tolist() if j not in self.gone]

    def _borrowers(self, fair: _Fair, cohort: int) -> Iterator[int]:
        snap = self.snap
        over = [
            t
            for t in range(len(fair.quota))
            if fair.cohort[t] == cohort and fair.usage[t] > fair.quota[t].nominal
        ]
        if snap.tenant_running is not None:
            start = snap.run_start
            lanes = [reversed(snap.tenant_running[t]) for t in over]
            merged: Iterable[int] = heapq.merge(*lanes, key=lambda j: -float(start[j]))
        else:
            tenant = snap.jobs.tenant
            ids = [j for j in snap.running if int(tenant[j]) in over]
            merged = sorted(ids, key=lambda j: (-float(snap.run_start[j]), -j))
        return (j for j in merged if j not in self.gone)


@dataclass
class _Scratch:
    """Phase 2 — what one cycle may change: free GPUs net of its own decisions, the plans."""

    free: IntArray
    total_free: int
    fair: _Fair | None
    caps: _Caps | None
    admits: list[Admit] = field(default_factory=list)
    preempts: list[Preempt] = field(default_factory=list)
    cursor: dict[LaneKey, int] = field(default_factory=dict)  # lane -> first job not admitted
    victims: _Victims | None = None


def schedule(snap: Snapshot, queues: PendingQueues, policy: Policy) -> CyclePlan:
    """Run one scheduling cycle. Pure: reads ``snap`` and ``queues``, returns a plan."""
    if policy.lanes_by_tenant and not queues.by_tenant:
        raise ValueError("this policy needs pending lanes per tenant (PendingQueues(by_tenant))")
    fair = _Fair(policy, snap) if policy.by_tenant else None
    caps = _Caps(policy, snap) if policy.caps else None
    heap = _heads(queues, fair, caps)  # Phase 1
    free = snap.free.copy()  # Phase 2
    scratch = _Scratch(free, int(free.sum()), fair, caps)
    blocked = _greedy(snap, queues, policy, heap, scratch)  # Phases 3-5
    if blocked is None:
        return CyclePlan(tuple(scratch.admits), tuple(scratch.preempts), None)
    # Phase 6 — a strict policy stops at its first blocked head; backfill behind it.
    job, key, pos = blocked
    if not policy.uses_backfill:
        return CyclePlan(tuple(scratch.admits), tuple(scratch.preempts), Reserve(job, math.inf))
    res = reserve(
        job, int(snap.jobs.gpus[job]), scratch.free, snap.leaf, snap.usable, snap.end_heap,
        snap.est_end, snap.running, policy.strategy, policy.single_node, snap.node_jobs,
    )  # fmt: skip
    scratch.cursor[key] = pos + 1
    scratch.admits.extend(_backfill(snap, queues, policy, scratch, res))
    return CyclePlan(tuple(scratch.admits), tuple(scratch.preempts), Reserve(job, res.shadow))


Heads = list[tuple[tuple[float, ...], LaneKey, int]]


def _heads(queues: PendingQueues, fair: _Fair | None, caps: _Caps | None) -> Heads:
    """Phase 1 — one heap entry per lane: (order key, lane, position in lane). Lanes whose
    tenant is out of quota (or at its cap) cannot start anything this cycle and are left out."""
    heap: Heads = []
    for key, lane in queues.lanes():
        if _allowed(fair, caps, key[0], key[1]):
            heap.append((_order(fair, lane[0], key), key, 0))
    heapq.heapify(heap)
    return heap


def _greedy(
    snap: Snapshot, queues: PendingQueues, policy: Policy, heap: Heads, scratch: _Scratch
) -> tuple[int, LaneKey, int] | None:
    """Phases 3-5: pop heads in policy order, nominate, admit. Returns the blocked head of a
    strict policy (``None`` when nothing blocks or the policy skips over)."""
    fair = scratch.fair
    while heap:
        _okey, key, pos = heapq.heappop(heap)
        lane = queues.lane(key)
        rank, job = lane[pos]
        if fair is not None:  # Phase 4 — order: shares moved since this entry was pushed
            fresh = _order(fair, lane[pos], key)
            if heap and fresh > heap[0][0]:
                heapq.heappush(heap, (fresh, key, pos))
                continue
        gpus, tenant = key[1], key[0]
        if not _allowed(fair, scratch.caps, tenant, gpus):
            continue  # quota or cap: no job of this lane may start this cycle
        # Phase 3 — nominate.
        placement = None
        if gpus <= scratch.total_free:
            placement = place(
                scratch.free, snap.leaf, gpus, policy.strategy, policy.single_node,
                policy.whole_nodes,
            )  # fmt: skip
        chosen: tuple[int, ...] = ()
        if placement is None and _may_preempt(policy, fair, tenant, gpus):
            if scratch.victims is None:
                scratch.victims = _Victims(policy, snap)
            choice = _nominate_victims(snap, policy, scratch, rank, tenant, gpus)
            if choice is not None:
                placement, chosen = choice.placement, choice.victims
        if placement is None:
            if policy.strict:
                return (job, key, pos)
            continue  # skip-over: the rest of this lane cannot start either
        _admit(snap, scratch, job, tenant, gpus, placement, chosen)  # Phase 5
        scratch.cursor[key] = pos + 1
        if pos + 1 < len(lane):
            heapq.heappush(heap, (_order(fair, lane[pos + 1], key), key, pos + 1))
    return None


def _admit(
    snap: Snapshot,
    scratch: _Scratch,
    job: int,
    tenant: int,
    gpus: int,
    placement: Placement,
    victims: tuple[int, ...],
) -> None:
    """Phase 5 (and 6 for the victims it needs): plan the preemptions, then the admission."""
    jobs = snap.jobs
    for v in victims:
        assert scratch.victims is not None
        scratch.victims.gone.add(v)
        scratch.preempts.append(Preempt(v, job))
        for node, count in snap.running[v]:
            if snap.usable[node]:
                scratch.free[node] += count
                scratch.total_free += count
        if scratch.fair is not None:
            scratch.fair.add(int(jobs.tenant[v]), -int(jobs.gpus[v]))
        if scratch.caps is not None:
            scratch.caps.add(int(jobs.tenant[v]), -int(jobs.gpus[v]))
    for node, count in placement:
        scratch.free[node] -= count
    scratch.total_free -= gpus
    scratch.admits.append(Admit(job, placement))
    if scratch.fair is not None:
        scratch.fair.add(tenant, gpus)
    if scratch.caps is not None:
        scratch.caps.add(tenant, gpus)


def _allowed(fair: _Fair | None, caps: _Caps | None, tenant: int, gpus: int) -> bool:
    """Whether quota (fair share) and cap let ``tenant`` start ``gpus`` more GPUs now."""
    if fair is not None and not fair.allowed(tenant, gpus):
        return False
    return caps is None or caps.allowed(tenant, gpus)


def _may_preempt(policy: Policy, fair: _Fair | None, tenant: int, gpus: int) -> bool:
    if fair is not None:
        return policy.reclaim and fair.within_nominal(tenant, gpus)
    return policy.preemptive


def _nominate_victims(
    snap: Snapshot, policy: Policy, scratch: _Scratch, rank: float, tenant: int, gpus: int
) -> VictimChoice | None:
    """Phase 3 (preemptive part): the victims that would let this head start now."""
    assert scratch.victims is not None
    cands = scratch.victims.eligible(policy, rank, scratch.fair, tenant)
    return select_victims(
        scratch.free, snap.leaf, snap.usable, gpus, cands, snap.running, policy.strategy,
        policy.single_node, policy.whole_nodes,
    )  # fmt: skip


def _order(fair: _Fair | None, item: tuple[float, int], key: LaneKey) -> tuple[float, ...]:
    rank, job = item
    if fair is None:
        return (rank, float(job))
    borrow, share = fair.key(key[0], key[1])
    return (float(borrow), share, rank, float(job))


def _backfill(
    snap: Snapshot, queues: PendingQueues, policy: Policy, scratch: _Scratch, res: Reservation
) -> list[Admit]:
    """Phase 6 — EASY backfill behind the reservation, lanes in head order, bounded depth."""
    jobs = snap.jobs
    free, cursor, fair, caps = scratch.free, scratch.cursor, scratch.fair, scratch.caps
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
            if not _allowed(fair, caps, key[0], gpus):
                break
            placement = place(
                free, snap.leaf, gpus, policy.strategy, policy.single_node, policy.whole_nodes
            )
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
            if caps is not None:
                caps.add(key[0], gpus)
            out.append(Admit(job, placement))
            if gpus > total_free:
                break
    return out
