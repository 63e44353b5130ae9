"""Node failures, repairs and what a failure costs a running job.

Each up node fails as a Poisson process at ``rate_per_1000_node_days`` (default Llama 3's
3.79: 419 unexpected interruptions on 2,048 nodes in 54 days; see
``shared/reference/economics-and-failure-figures.md`` §2a). A failed node is down for a repair
time drawn from a three-part mixture after SuperBench's figures (§2c: 62 % fixed the same day,
38 % take more than a day, 10 % more than two weeks):

* 62 %: lognormal, median 2 h, capped at 24 h (reboot, swap from a spare pool);
* 28 %: uniform 1–14 days (RMA of a part);
* 10 %: uniform 14–28 days (long RMA).

A job on a failed node loses the work since its last checkpoint (progress is rounded down to
a multiple of its checkpoint interval; no checkpoints = back to zero) and, when restarted,
first spends ``restart_overhead`` seconds (default 10 min: detect + reload, §2c) doing no work.
Everything here is pure given the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from suanli.core.errors import ValidationError

LLAMA3_RATE_PER_1000_NODE_DAYS = 3.79
DAY = 86400.0


@dataclass(frozen=True)
class FailureModel:
    rate_per_1000_node_days: float = LLAMA3_RATE_PER_1000_NODE_DAYS
    restart_overhead: float = 600.0
    same_day_share: float = 0.62
    long_share: float = 0.10
    same_day_median: float = 7200.0
    same_day_sigma: float = 1.0

    def __post_init__(self) -> None:
        if self.rate_per_1000_node_days < 0:
            raise ValidationError(
                "failures.invalid", "failure rate must be >= 0", {"rate_per_1000_node_days": ">= 0"}
            )
        if self.restart_overhead < 0:
            raise ValidationError(
                "failures.invalid", "restart overhead must be >= 0", {"restart_overhead": ">= 0"}
            )
        if not 0 <= self.same_day_share + self.long_share <= 1:
            raise ValidationError(
                "failures.invalid", "repair shares must sum to <= 1", {"same_day_share": "<= 1"}
            )

    @property
    def rate_per_second(self) -> float:
        return self.rate_per_1000_node_days / 1000.0 / DAY

    def time_to_failure(self, rng: np.random.Generator) -> float:
        rate = self.rate_per_second
        return math.inf if rate == 0 else float(rng.exponential(1.0 / rate))

    def repair_time(self, rng: np.random.Generator) -> float:
        u = float(rng.random())
        if u < self.same_day_share:
            t = float(rng.lognormal(math.log(self.same_day_median), self.same_day_sigma))
            return min(t, DAY)
        if u < self.same_day_share + (1.0 - self.same_day_share - self.long_share):
            return float(rng.uniform(1.0, 14.0)) * DAY
        return float(rng.uniform(14.0, 28.0)) * DAY


def last_checkpoint(progress: float, interval: float) -> float:
    """Progress kept after a failure: ``progress`` rounded down to a checkpoint."""
    if not math.isfinite(interval) or interval <= 0:
        return 0.0
    return math.floor(progress / interval) * interval
