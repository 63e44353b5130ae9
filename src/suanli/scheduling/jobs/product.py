"""The product's admission rules for cloud jobs, as a policy of the one scheduling cycle. Pure.

Both drivers use this module: the live service (:mod:`suanli.services.cluster.cloud_jobs`) builds
its snapshot with :func:`live_cycle`, the simulator gets the same :func:`product_policy` and
:func:`job_table`, so the two admit and preempt alike (the equivalence test proves it).

Rules:

* **strict priority** — ``reserved`` jobs before ``spot`` ones, then submission order; a job that
  cannot start is skipped, the next one may (no head-of-line blocking);
* **reserved before spot** — a ``reserved`` job that does not fit evicts ``spot`` jobs, most
  recently submitted first, and only those whose nodes it takes; spot never evicts;
* **quota** — a customer's running ``reserved`` GPUs never exceed the GPUs committed by its
  active reserved contracts; ``spot`` is unlimited;
* **whole nodes** — a job above one node takes whole nodes (``node_gpus`` GPUs each, the size of
  the cluster's servers in the catalog), so the engine gets the same GPU count on each node.

Vocabulary: an **account** is ``customer/class``; it is the cycle's *tenant*, so that the quota
is a cap on the ``reserved`` account only. Ranks within a class follow submission order, given
as ``order`` (the live service passes its job ids, which grow with submission).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from suanli.core.kinds import JobClass
from suanli.scheduling.jobs.cycle import Snapshot
from suanli.scheduling.jobs.model import JobTable, PriorityClass
from suanli.scheduling.jobs.placement import Placement, Strategy
from suanli.scheduling.jobs.policies import Policy, PolicyName, pending_rank
from suanli.scheduling.jobs.queues import PendingQueues

RESERVED, SPOT = JobClass.RESERVED, JobClass.SPOT
CLASSES = tuple(JobClass)
_PCLASS: dict[str, PriorityClass] = {RESERVED: PriorityClass.RESERVED, SPOT: PriorityClass.SPOT}


def account(customer: str, job_class: str) -> str:
    return f"{customer}/{job_class}"


@dataclass(frozen=True, slots=True)
class ProductJob:
    """One cloud job as the cycle sees it; ``order`` ranks it within its class."""

    customer: str
    job_class: str
    gpus: int
    order: float
    duration: float = 0.0


def job_table(jobs: Sequence[ProductJob]) -> JobTable:
    """Row ``i`` is ``jobs[i]``; tenants are accounts (``customer/class``)."""
    return JobTable.build(
        [j.order for j in jobs],
        [j.duration for j in jobs],
        [j.gpus for j in jobs],
        tenant=[account(j.customer, j.job_class) for j in jobs],
        pclass=[int(_PCLASS[j.job_class]) for j in jobs],
    )


def product_policy(table: JobTable, node_gpus: int, committed: Mapping[str, int]) -> Policy:
    """The rules above for ``table``: ``committed`` is reserved GPUs per customer (absent: 0)."""
    caps = {
        t: committed.get(name.rsplit("/", 1)[0], 0)
        for t, name in enumerate(table.tenant_names)
        if name.endswith("/" + RESERVED)
    }
    return Policy(
        PolicyName.PRIORITY, Strategy.CONSOLIDATED, single_node=node_gpus, caps=caps,
        whole_nodes=True,
    )  # fmt: skip


@dataclass(frozen=True)
class LiveCycle:
    """What the live driver hands to :func:`~suanli.scheduling.jobs.cycle.schedule`."""

    snapshot: Snapshot
    queues: PendingQueues
    policy: Policy


def live_cycle(
    jobs: Sequence[ProductJob],
    running: Mapping[int, Placement],
    node_free: Sequence[int],
    node_gpus: int,
    committed: Mapping[str, int],
) -> LiveCycle:
    """Snapshot of the live cluster: ``jobs`` are the active ones (row = job index), ``running``
    the placements of those holding GPUs on usable nodes (node = index in ``node_free``, the
    free GPUs of the usable nodes); every other job is pending."""
    table = job_table(jobs)
    policy = product_policy(table, node_gpus, committed)
    n = len(jobs)
    usage = np.zeros(len(table.tenant_names), dtype=np.int64)
    for job in running:
        usage[table.tenant[job]] += table.gpus[job]
    queues = PendingQueues(by_tenant=policy.lanes_by_tenant)
    for job in range(n):
        if job not in running:
            rank = pending_rank(policy, table, job, 0.0, 0.0)
            queues.push(job, int(table.tenant[job]), int(table.gpus[job]), rank)
    free = np.asarray(node_free, dtype=np.int64)
    snap = Snapshot(
        now=0.0, jobs=table, free=free, usable=np.ones(free.shape[0], dtype=bool),
        leaf=np.zeros(free.shape[0], dtype=np.int64), running=running, progress=np.zeros(n),
        attained=np.zeros(n), run_start=np.zeros(n), startup=np.zeros(n),
        est_end=np.full(n, np.inf), end_heap=(), tenant_usage=usage,
        total_gpus=int(free.sum()) + sum(c for p in running.values() for _, c in p),
    )  # fmt: skip
    return LiveCycle(snap, queues, policy)
