"""Queue policies: how pending jobs are ranked and which running jobs they may preempt.

Vocabulary: a **rank** is a float, lower runs first. Ranks of pending jobs do not change while
they wait; ranks of running jobs are computed at cycle time from the snapshot.

| policy | rank | knows duration | preempts | head blocks |
|---|---|---|---|---|
| ``fifo`` | submit time | no | no | yes (strict FIFO) |
| ``sjf`` | duration (oracle) | yes | no | no (skip-over) |
| ``srtf`` | remaining time (oracle) | yes | jobs with more remaining | no |
| ``las`` | Tiresias 2D-LAS level of attained GPU·s, then submit | no | jobs in a lower level | no |
| ``fair`` | DRF share of the tenant (usage / nominal quota), then submit | no | borrowers, to reclaim quota | no |
| ``priority`` | class (reserved < spot), then submit | no | spot jobs, for reserved ones | no |
| ``backfill`` | submit time + EASY backfill around the blocked head | estimates | no | yes, with backfill |

Two knobs express product rules in any policy: ``caps`` (tenant → most GPUs it may hold at
once; tenants absent are uncapped) and ``whole_nodes`` (a job above one node takes only nodes
whose ``single_node`` GPUs are all free, so the engine gets the same GPU count on every node).

``backfill`` is also a flag: with ``backfill=True`` any policy admits in its own order until the
first head that does not fit, reserves for that head and only backfills behind it (``fair``
with backfill is what the large-scale benchmark runs).

Level ranks (LAS, priority) are ``level * LEVEL + submit``: a job may preempt only a running job
of a strictly worse *level*, never a peer in its own level, so equal jobs do not thrash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import FloatArray, IntArray, JobTable, TenantQuota
from suanli.scheduling.jobs.placement import Strategy

#: Width of one level in a level rank: submit times must stay below it (≈ 317 years).
LEVEL = 1e10

#: Tiresias-style default thresholds on attained service, GPU-seconds (1 GPU-h, 10 GPU-h).
DEFAULT_LAS_THRESHOLDS: tuple[float, ...] = (3600.0, 36000.0)


class PolicyName(StrEnum):
    FIFO = "fifo"
    SJF = "sjf"
    SRTF = "srtf"
    LAS = "las"
    FAIR = "fair"
    PRIORITY = "priority"
    BACKFILL = "backfill"


@dataclass(frozen=True)
class Policy:
    """A queue policy plus the knobs of the cycle that runs it."""

    name: PolicyName
    strategy: Strategy = Strategy.CONSOLIDATED
    backfill: bool = False
    las_thresholds: tuple[float, ...] = DEFAULT_LAS_THRESHOLDS
    quotas: dict[int, TenantQuota] = field(default_factory=dict)
    reclaim: bool = True
    backfill_depth: int = 100
    single_node: int = 8
    caps: dict[int, int] = field(default_factory=dict)
    whole_nodes: bool = False

    @property
    def strict(self) -> bool:
        """Head-of-line blocking: nothing behind a blocked head starts (except backfill)."""
        return self.name in (PolicyName.FIFO, PolicyName.BACKFILL) or self.backfill

    @property
    def uses_backfill(self) -> bool:
        return self.backfill or self.name is PolicyName.BACKFILL

    @property
    def preemptive(self) -> bool:
        return self.name in (PolicyName.SRTF, PolicyName.LAS, PolicyName.PRIORITY)

    @property
    def can_evict(self) -> bool:
        """Whether a cycle may preempt at all (preemptive policies, fair share's reclaim)."""
        return self.preemptive or (self.by_tenant and self.reclaim)

    @property
    def by_tenant(self) -> bool:
        return self.name is PolicyName.FAIR

    @property
    def lanes_by_tenant(self) -> bool:
        """Pending lanes are per tenant when tenants are ordered (fair share) or capped."""
        return self.by_tenant or bool(self.caps)

    @property
    def oracle(self) -> bool:
        return self.name in (PolicyName.SJF, PolicyName.SRTF)


def make_policy(name: str, **knobs: object) -> Policy:
    """Policy by name (``fifo|sjf|srtf|las|fair|priority|backfill``); bad names raise."""
    try:
        pname = PolicyName(name)
    except ValueError as exc:
        raise ValidationError(
            "sim.unknown_policy",
            f"unknown policy {name!r}",
            {"policy": [p.value for p in PolicyName]},
        ) from exc
    policy = Policy(pname)
    return replace(policy, **knobs) if knobs else policy  # type: ignore[arg-type]


def las_level(policy: Policy, attained: float) -> int:
    """Queue index of a job with ``attained`` GPU-seconds of service (0 = highest)."""
    level = 0
    for t in policy.las_thresholds:
        if attained >= t:
            level += 1
    return level


def pending_rank(
    policy: Policy, jobs: JobTable, job: int, progress: float, attained: float
) -> float:
    """Rank of ``job`` while it waits (constant until it runs again)."""
    name = policy.name
    submit = float(jobs.submit[job])
    if name is PolicyName.SJF:
        return float(jobs.duration[job])
    if name is PolicyName.SRTF:
        return float(jobs.duration[job]) - progress
    if name is PolicyName.LAS:
        return las_level(policy, attained) * LEVEL + submit
    if name is PolicyName.PRIORITY:
        return float(jobs.pclass[job]) * LEVEL + submit
    return submit


def running_ranks(
    policy: Policy,
    jobs: JobTable,
    idx: IntArray,
    remaining: FloatArray,
    attained: FloatArray,
) -> FloatArray:
    """Ranks of running jobs ``idx`` now, given their remaining work and attained service."""
    name = policy.name
    if name is PolicyName.SRTF:
        return remaining
    if name is PolicyName.LAS:
        thresholds = np.asarray(policy.las_thresholds, dtype=np.float64)
        levels = np.searchsorted(thresholds, attained, side="right").astype(np.float64)
        return levels * LEVEL + jobs.submit[idx]
    if name is PolicyName.PRIORITY:
        return jobs.pclass[idx].astype(np.float64) * LEVEL + jobs.submit[idx]
    return jobs.submit[idx]


def victim_threshold(policy: Policy, rank: float) -> float:
    """Running jobs with a rank strictly above this may be preempted by a job of ``rank``."""
    if policy.name is PolicyName.SRTF:
        return rank
    if policy.name in (PolicyName.LAS, PolicyName.PRIORITY):
        return (math.floor(rank / LEVEL) + 1) * LEVEL - 0.5
    return math.inf


def next_las_threshold(policy: Policy, attained: float) -> float | None:
    """The next threshold above ``attained`` (a demotion point), or ``None``."""
    for t in policy.las_thresholds:
        if attained < t:
            return t
    return None
