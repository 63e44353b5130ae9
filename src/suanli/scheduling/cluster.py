"""Cluster snapshot for GPU-sharing placement, held as numpy arrays.

Owns: :class:`NodeTable` and :class:`PodTable` (immutable inputs, one row per node or pod),
:class:`PodRequest` (one pod's resource request) and :class:`ClusterState` (the mutable free
capacity that placement reads and :meth:`ClusterState.bind` changes).

Vocabulary: *milli* is 1/1000 of a CPU core or of a GPU. A pod asks for ``cpu_milli`` CPU,
``memory_mib`` memory and ``num_gpu`` GPUs of ``gpu_milli`` each: a *sharing* pod takes part of one
GPU (``num_gpu == 1``, ``gpu_milli < 1000``), an *exclusive* pod takes whole GPUs
(``gpu_milli == 1000``); ``gpu_milli == 0`` is a CPU-only pod. ``gpu_spec`` restricts the GPU model
(``"V100M16|V100M32"``; empty means any).

Invariants kept by :meth:`ClusterState.bind`: free CPU, memory and per-GPU milli never go negative;
the per-node aggregates (free total, fully free count, largest free GPU) always match the per-GPU
array; every bind bumps the node's ``version`` so that policies can cache per-node scores. Node
order is the tie-break order: among equal scores the lowest index wins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from suanli.core.errors import ValidationError

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]

GPU_MILLI = 1000
#: Affinity tags of GpuClustering: index 0 is ``share-gpu``, index k is ``"<k>-gpu"``.
SHARE_TAG = 0


def _ints(values: Any) -> IntArray:
    return np.ascontiguousarray(np.asarray(values, dtype=np.int64))


def spec_models(spec: str) -> frozenset[str]:
    """The GPU models a ``gpu_spec`` allows; empty set means any."""
    return frozenset(part for part in spec.split("|") if part)


@dataclass(frozen=True, slots=True)
class PodRequest:
    """One pod's request. ``gpu_milli`` is per GPU; see the module docstring."""

    cpu_milli: int
    memory_mib: int
    num_gpu: int
    gpu_milli: int
    gpu_spec: str = ""

    @property
    def total_gpu_milli(self) -> int:
        return self.gpu_milli * self.num_gpu

    @property
    def is_sharing(self) -> bool:
        return self.num_gpu == 1 and 0 < self.gpu_milli < GPU_MILLI

    @property
    def shape(self) -> tuple[int, int, int, str]:
        """What scores depend on: (cpu, per-GPU milli, GPU count, spec). Memory is not part of it."""
        return (self.cpu_milli, self.gpu_milli, self.num_gpu, self.gpu_spec)


@dataclass(frozen=True)
class NodeTable:
    """Static node inventory, one row per node."""

    names: tuple[str, ...]
    cpu_milli: IntArray
    memory_mib: IntArray
    gpu_count: IntArray
    models: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    def take(self, order: IntArray | list[int]) -> NodeTable:
        idx = _ints(order)
        return NodeTable(
            names=tuple(self.names[i] for i in idx),
            cpu_milli=self.cpu_milli[idx],
            memory_mib=self.memory_mib[idx],
            gpu_count=self.gpu_count[idx],
            models=tuple(self.models[i] for i in idx),
        )

    def sorted_by_name(self) -> NodeTable:
        return self.take(sorted(range(len(self)), key=self.names.__getitem__))

    @property
    def gpu_capacity_milli(self) -> int:
        return int(self.gpu_count.sum()) * GPU_MILLI


@dataclass(frozen=True)
class PodTable:
    """Pod requests, one row per pod; ``gpu_milli`` already normalised to the per-GPU share."""

    names: tuple[str, ...]
    cpu_milli: IntArray
    memory_mib: IntArray
    num_gpu: IntArray
    gpu_milli: IntArray
    gpu_spec: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.names)

    @property
    def total_gpu_milli(self) -> IntArray:
        return self.gpu_milli * self.num_gpu

    def request(self, i: int) -> PodRequest:
        return PodRequest(
            int(self.cpu_milli[i]),
            int(self.memory_mib[i]),
            int(self.num_gpu[i]),
            int(self.gpu_milli[i]),
            self.gpu_spec[i],
        )

    def requests(self) -> list[PodRequest]:
        cpu, mem = self.cpu_milli.tolist(), self.memory_mib.tolist()
        num, milli = self.num_gpu.tolist(), self.gpu_milli.tolist()
        return [
            PodRequest(cpu[i], mem[i], num[i], milli[i], self.gpu_spec[i]) for i in range(len(self))
        ]

    def take(self, order: IntArray | list[int], names: tuple[str, ...] | None = None) -> PodTable:
        idx = _ints(order)
        return PodTable(
            names=names if names is not None else tuple(self.names[i] for i in idx),
            cpu_milli=self.cpu_milli[idx],
            memory_mib=self.memory_mib[idx],
            num_gpu=self.num_gpu[idx],
            gpu_milli=self.gpu_milli[idx],
            gpu_spec=tuple(self.gpu_spec[i] for i in idx),
        )

    def sorted_by_name(self) -> PodTable:
        return self.take(sorted(range(len(self)), key=self.names.__getitem__))


@dataclass
class ClusterState:
    """Free capacity of every node; row order is the tie-break priority (lowest index wins)."""

    cpu_left: IntArray
    mem_left: IntArray
    gpu_left: IntArray  # (nodes, width); columns beyond a node's GPU count stay 0
    gpu_count: IntArray
    model_code: IntArray
    model_names: tuple[str, ...]
    gpu_total_left: IntArray = field(init=False)
    free_gpus: IntArray = field(init=False)
    max_left: IntArray = field(init=False)
    tags: IntArray = field(init=False)
    n_tags: IntArray = field(init=False)
    version: IntArray = field(init=False)
    used_gpu_milli: int = field(init=False, default=0)
    _type_masks: dict[str, BoolArray] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        n, width = self.gpu_left.shape
        self.gpu_total_left = self.gpu_left.sum(axis=1)
        self.free_gpus = (self.gpu_left == GPU_MILLI).sum(axis=1).astype(np.int64)
        self.max_left = self.gpu_left.max(axis=1) if width else np.zeros(n, np.int64)
        self.tags = np.zeros((n, width + 1), dtype=np.int64)
        self.n_tags = np.zeros(n, dtype=np.int64)
        self.version = np.zeros(n, dtype=np.int64)
        self.used_gpu_milli = int(self.gpu_count.sum()) * GPU_MILLI - int(self.gpu_total_left.sum())

    @classmethod
    def empty(cls, nodes: NodeTable) -> ClusterState:
        """All nodes idle, in the table's row order."""
        width = int(nodes.gpu_count.max(initial=0))
        cols = np.arange(width)
        gpu_left = np.where(cols[None, :] < nodes.gpu_count[:, None], GPU_MILLI, 0).astype(np.int64)
        names = tuple(sorted(set(nodes.models)))
        code = {m: i for i, m in enumerate(names)}
        return cls(
            cpu_left=nodes.cpu_milli.copy(),
            mem_left=nodes.memory_mib.copy(),
            gpu_left=gpu_left,
            gpu_count=nodes.gpu_count.copy(),
            model_code=_ints([code[m] for m in nodes.models]),
            model_names=names,
        )

    @property
    def n_nodes(self) -> int:
        return int(self.cpu_left.shape[0])

    @property
    def gpu_capacity_milli(self) -> int:
        return int(self.gpu_count.sum()) * GPU_MILLI

    def model_allowed(self, spec: str) -> BoolArray:
        """Per model code: may a pod with this ``gpu_spec`` use it (§1.3: exact name match)."""
        allowed = spec_models(spec)
        return np.array([not allowed or m in allowed for m in self.model_names], dtype=np.bool_)

    def type_mask(self, spec: str) -> BoolArray:
        """Per node: does the node's GPU model satisfy ``spec``."""
        mask = self._type_masks.get(spec)
        if mask is None:
            mask = self.model_allowed(spec)[self.model_code]
            self._type_masks[spec] = mask
        return mask

    def feasible(self, pod: PodRequest) -> BoolArray:
        """Nodes that can host ``pod`` now: CPU, memory, GPU model and GPU room all fit."""
        ok = (self.cpu_left >= pod.cpu_milli) & (self.mem_left >= pod.memory_mib)
        if pod.gpu_milli > 0:
            if pod.gpu_spec:
                ok &= self.type_mask(pod.gpu_spec)
            if pod.num_gpu == 1:
                ok &= self.max_left >= pod.gpu_milli
            else:
                ok &= self.free_gpus >= pod.num_gpu
        return ok

    def bind(self, node: int, gpus: tuple[int, ...], pod: PodRequest) -> None:
        """Take ``pod``'s resources on ``node`` and the listed GPU indices."""
        if self.cpu_left[node] < pod.cpu_milli or self.mem_left[node] < pod.memory_mib:
            raise ValidationError("placement.over_allocation", f"node {node} lacks CPU or memory")
        want = pod.num_gpu if pod.gpu_milli > 0 else 0
        if len(gpus) != want or len(set(gpus)) != len(gpus):
            raise ValidationError("placement.bad_gpus", f"pod needs {want} distinct GPUs: {gpus}")
        row = self.gpu_left[node]
        for g in gpus:
            if not 0 <= g < self.gpu_count[node] or row[g] < pod.gpu_milli:
                raise ValidationError(
                    "placement.over_allocation", f"GPU {g} of node {node} lacks room"
                )
        self.cpu_left[node] -= pod.cpu_milli
        self.mem_left[node] -= pod.memory_mib
        if gpus:
            for g in gpus:
                row[g] -= pod.gpu_milli
            self.gpu_total_left[node] = int(row.sum())
            self.free_gpus[node] = int((row == GPU_MILLI).sum())
            self.max_left[node] = int(row.max())
            self.used_gpu_milli += pod.gpu_milli * len(gpus)
            tag = SHARE_TAG if pod.is_sharing else pod.num_gpu
            if self.tags[node, tag] == 0:
                self.n_tags[node] += 1
            self.tags[node, tag] += 1
        self.version[node] += 1
