"""Placement policies for GPU-sharing clusters (the FGD paper's six, and ours).

``make_policy(name, typical)`` builds one by name; ``POLICY_NAMES`` lists them in the paper's order.
"""

from __future__ import annotations

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import PodTable
from suanli.scheduling.placement.base import Placement, Policy, decide
from suanli.scheduling.placement.fgd import Fgd, FragModel, TypicalPods
from suanli.scheduling.placement.fgdfull import FULL_COVERAGE, FgdFull
from suanli.scheduling.placement.fgdplus import FgdPlus
from suanli.scheduling.placement.policies import (
    BestFit,
    DotProd,
    GpuClustering,
    GpuPacking,
    RandomPolicy,
)

POLICY_NAMES = ("random", "dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd")
"""The FGD paper's six policies, in its order."""
OUR_POLICY_NAMES = ("fgdplus", "fgdfull")
"""Policies beyond the paper."""
ALL_POLICY_NAMES = POLICY_NAMES + OUR_POLICY_NAMES


def make_policy(
    name: str,
    typical: TypicalPods,
    pods: PodTable | None = None,
    coverage: float | None = None,
    weighting: str = "count",
) -> Policy:
    """A fresh policy instance (policies with caches must not be shared between runs).

    ``fgdfull`` learns its pod-shape distribution from ``pods`` (the trace) with ``weighting``
    at ``coverage`` (default :data:`FULL_COVERAGE`); without ``pods`` it uses ``typical``."""
    key = name.lower()
    if key == "fgdfull":
        if pods is None:
            return FgdFull(typical)
        return FgdFull.from_pods(pods, FULL_COVERAGE if coverage is None else coverage, weighting)
    if key == "random":
        return RandomPolicy()
    if key == "dotprod":
        return DotProd()
    if key == "gpuclustering":
        return GpuClustering()
    if key == "gpupacking":
        return GpuPacking()
    if key == "bestfit":
        return BestFit()
    if key == "fgd":
        return Fgd(typical)
    if key == "fgdplus":
        return FgdPlus(typical)
    raise ValidationError(
        "placement.unknown_policy",
        f"unknown policy {name!r}; choose from {', '.join(ALL_POLICY_NAMES)}",
        fields={"policy": name},
    )


__all__ = [
    "ALL_POLICY_NAMES",
    "FULL_COVERAGE",
    "OUR_POLICY_NAMES",
    "POLICY_NAMES",
    "BestFit",
    "DotProd",
    "Fgd",
    "FgdFull",
    "FgdPlus",
    "FragModel",
    "GpuClustering",
    "GpuPacking",
    "Placement",
    "Policy",
    "RandomPolicy",
    "TypicalPods",
    "decide",
    "make_policy",
]
