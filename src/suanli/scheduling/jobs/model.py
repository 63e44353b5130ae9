"""Value types of gang-scheduled GPU jobs and the cluster they run on.

Owns the vocabulary shared by the queue policies, placement, the scheduling cycle and the
simulator:

* a **job** asks ``gpus`` GPUs for ``duration`` seconds of work (only oracle policies read the
  duration; ``estimate`` is the user's wall-time request that backfill reads). It belongs to a
  ``tenant``, has a :class:`PriorityClass` and a ``checkpoint`` interval (seconds of progress
  between checkpoints; ``inf`` means none). Jobs are stored column-wise in a :class:`JobTable`
  so that policies can score many jobs at once with numpy; row ``i`` *is* job ``i``.
* a **cluster** is a list of nodes (``node_gpus`` GPUs each, normally 8, NVLink inside a node)
  grouped into network **leaves**. A node is up, draining (runs what it has, takes nothing new)
  or down.

Invariants: every job asks at least one GPU and has a non-negative duration; arrays of one
table have equal length. Constructors validate and raise
:class:`~suanli.core.errors.ValidationError` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from suanli.core.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: GPUs per node unless a cluster description says otherwise.
GPUS_PER_NODE = 8


class PriorityClass(IntEnum):
    """Lower value = more important. Spot jobs may be preempted by reserved ones."""

    RESERVED = 0
    SPOT = 1


class JobKind(IntEnum):
    TRAINING = 0
    INFERENCE = 1


class NodeState(IntEnum):
    UP = 0
    DRAINING = 1
    DOWN = 2


@dataclass(frozen=True, eq=False)
class JobTable:
    """Column store of jobs. Build it with :meth:`build`; index ``i`` is the job id."""

    submit: FloatArray
    duration: FloatArray
    gpus: IntArray
    tenant: IntArray
    pclass: IntArray
    checkpoint: FloatArray
    estimate: FloatArray
    kind: IntArray
    tenant_names: tuple[str, ...]
    names: tuple[str, ...] = field(default=())

    def __len__(self) -> int:
        return int(self.submit.shape[0])

    @staticmethod
    def build(
        submit: Sequence[float] | FloatArray,
        duration: Sequence[float] | FloatArray,
        gpus: Sequence[int] | IntArray,
        *,
        tenant: Sequence[str] | None = None,
        pclass: Sequence[int] | IntArray | None = None,
        checkpoint: Sequence[float] | FloatArray | None = None,
        estimate: Sequence[float] | FloatArray | None = None,
        kind: Sequence[int] | IntArray | None = None,
        names: Sequence[str] = (),
    ) -> JobTable:
        """Validate columns and return a table sorted by nothing (row order is kept)."""
        sub = np.asarray(submit, dtype=np.float64)
        n = sub.shape[0]
        dur = np.asarray(duration, dtype=np.float64)
        g = np.asarray(gpus, dtype=np.int64)
        if tenant is None:
            tcodes: IntArray = np.zeros(n, dtype=np.int64)
            tnames: tuple[str, ...] = ("default",)
        else:
            uniq, inv = np.unique(np.asarray(tenant, dtype=object).astype(str), return_inverse=True)
            tcodes = inv.astype(np.int64)
            tnames = tuple(str(u) for u in uniq)
        pc = np.zeros(n, np.int64) if pclass is None else np.asarray(pclass, np.int64)
        ck = np.full(n, math.inf) if checkpoint is None else np.asarray(checkpoint, np.float64)
        est = dur.copy() if estimate is None else np.asarray(estimate, np.float64)
        kd = np.zeros(n, np.int64) if kind is None else np.asarray(kind, np.int64)
        table = JobTable(sub, dur, g, tcodes, pc, ck, est, kd, tnames, tuple(names))
        table.validate()
        return table

    def validate(self) -> None:
        n = len(self)
        cols = {
            "duration": self.duration,
            "gpus": self.gpus,
            "tenant": self.tenant,
            "pclass": self.pclass,
            "checkpoint": self.checkpoint,
            "estimate": self.estimate,
            "kind": self.kind,
        }
        for name, col in cols.items():
            if col.shape != (n,):
                raise ValidationError(
                    "jobs.shape", f"column {name} has the wrong length", {name: n}
                )
        if n and not np.all(np.isfinite(self.submit)):
            raise ValidationError(
                "jobs.invalid", "submit times must be finite", {"submit": "finite"}
            )
        if n and (np.any(self.duration < 0) or not np.all(np.isfinite(self.duration))):
            raise ValidationError(
                "jobs.invalid", "durations must be finite and >= 0", {"duration": ">= 0"}
            )
        if n and np.any(self.gpus < 1):
            raise ValidationError(
                "jobs.invalid", "every job needs at least one GPU", {"gpus": ">= 1"}
            )
        if n and np.any(self.checkpoint <= 0):
            raise ValidationError(
                "jobs.invalid",
                "checkpoint interval must be > 0 (inf = none)",
                {"checkpoint": "> 0"},
            )
        if n and not np.all(np.isin(self.pclass, [int(p) for p in PriorityClass])):
            raise ValidationError("jobs.invalid", "unknown priority class", {"pclass": "0 or 1"})

    def subset(self, index: IntArray) -> JobTable:
        """Rows ``index`` (in that order) as a new table; tenant names are kept."""
        names = tuple(self.names[i] for i in index.tolist()) if self.names else ()
        return JobTable(
            self.submit[index],
            self.duration[index],
            self.gpus[index],
            self.tenant[index],
            self.pclass[index],
            self.checkpoint[index],
            self.estimate[index],
            self.kind[index],
            self.tenant_names,
            names,
        )

    def requested_gpu_seconds(self) -> float:
        return float(np.dot(self.gpus.astype(np.float64), self.duration))


@dataclass(frozen=True, eq=False)
class ClusterSpec:
    """Nodes with their GPU count and network leaf. ``node_sku`` is informative."""

    node_gpus: IntArray
    node_leaf: IntArray
    node_sku: tuple[str, ...] = ()

    @staticmethod
    def uniform(
        nodes: int, gpus_per_node: int = GPUS_PER_NODE, nodes_per_leaf: int = 0
    ) -> ClusterSpec:
        """``nodes`` identical nodes; ``nodes_per_leaf`` 0 puts them all in one leaf."""
        if nodes < 1:
            raise ValidationError(
                "cluster.invalid", "a cluster needs at least one node", {"nodes": ">= 1"}
            )
        if gpus_per_node < 1:
            raise ValidationError(
                "cluster.invalid", "a node needs at least one GPU", {"gpus_per_node": ">= 1"}
            )
        per_leaf = nodes_per_leaf if nodes_per_leaf > 0 else nodes
        leaf = np.arange(nodes, dtype=np.int64) // per_leaf
        return ClusterSpec(np.full(nodes, gpus_per_node, dtype=np.int64), leaf)

    @property
    def nodes(self) -> int:
        return int(self.node_gpus.shape[0])

    @property
    def total_gpus(self) -> int:
        return int(self.node_gpus.sum())

    @property
    def max_node_gpus(self) -> int:
        return int(self.node_gpus.max())

    @property
    def leaves(self) -> int:
        return int(self.node_leaf.max()) + 1

    def validate(self) -> None:
        if self.node_gpus.ndim != 1 or self.node_gpus.shape[0] < 1:
            raise ValidationError(
                "cluster.invalid", "a cluster needs at least one node", {"nodes": ">= 1"}
            )
        if self.node_leaf.shape != self.node_gpus.shape:
            raise ValidationError("cluster.invalid", "one leaf per node", {"leaf": "per node"})
        if np.any(self.node_gpus < 1):
            raise ValidationError("cluster.invalid", "every node needs >= 1 GPU", {"gpus": ">= 1"})
        if np.any(self.node_leaf < 0):
            raise ValidationError("cluster.invalid", "leaf ids must be >= 0", {"leaf": ">= 0"})


@dataclass(frozen=True)
class TenantQuota:
    """Kueue-style quota: ``nominal`` GPUs guaranteed; up to ``borrowing_limit`` more may be
    borrowed from idle quota of the same ``cohort`` (``None`` = no limit)."""

    nominal: int
    borrowing_limit: int | None = None
    cohort: str = "default"
