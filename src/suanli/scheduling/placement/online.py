"""Placement as an online scheduler: one decision at a time on a cluster snapshot.

Owns: :class:`NodeSnapshot`, :class:`PodShare` (a typical-pod weight given by the caller),
:func:`state_from_snapshot`, :func:`typical_from_shares`, :class:`OnlineScheduler` (keeps the
cluster state and the policy's score caches between decisions, so a replay pays only for the nodes
that changed) and :func:`decide_once` (snapshot + one pod -> node and GPUs, nothing kept).

The snapshot's node order is the tie-break priority (the first node wins ties), as in the
experiment. FGD-family policies need the workload's pod-shape distribution; the caller passes it
as weighted shapes (e.g. counts of recent arrivals) and it is renormalised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import GPU_MILLI, ClusterState, PodRequest
from suanli.scheduling.gorand import NumpyRand, PlacementRng
from suanli.scheduling.placement import ALL_POLICY_NAMES, Placement, Policy, decide, make_policy
from suanli.scheduling.placement.decider import FragDecider
from suanli.scheduling.placement.fgd import Fgd, TypicalPods

FRAG_POLICIES = frozenset({"fgd", "fgdplus", "fgdfull"})
"""Policies whose score needs the pod-shape distribution."""


@dataclass(frozen=True, slots=True)
class NodeSnapshot:
    """One node's free resources now: CPU milli, memory MiB, and milli left per GPU (0..1000)."""

    name: str
    model: str
    cpu_milli_left: int
    memory_mib_left: int
    gpu_milli_left: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class PodShare:
    """A pod shape and its weight in the expected workload (any positive number)."""

    cpu_milli: int
    num_gpu: int
    gpu_milli: int
    gpu_spec: str = ""
    weight: float = 1.0


def state_from_snapshot(nodes: Sequence[NodeSnapshot]) -> ClusterState:
    """The :class:`ClusterState` of ``nodes`` (row order = list order = priority)."""
    if not nodes:
        raise ValidationError("placement.empty_cluster", "the snapshot has no nodes", {"nodes": ""})
    width = max(len(n.gpu_milli_left) for n in nodes)
    gpu_left = np.zeros((len(nodes), width), dtype=np.int64)
    for i, n in enumerate(nodes):
        if any(not 0 <= x <= GPU_MILLI for x in n.gpu_milli_left):
            raise ValidationError(
                "placement.bad_snapshot",
                f"node {n.name!r}: GPU milli left must be within 0..{GPU_MILLI}",
                {f"nodes.{i}.gpu_milli_left": "each within 0..1000"},
            )
        if n.cpu_milli_left < 0 or n.memory_mib_left < 0:
            raise ValidationError(
                "placement.bad_snapshot",
                f"node {n.name!r}: free CPU and memory must be >= 0",
                {f"nodes.{i}": "cpu_milli_left and memory_mib_left >= 0"},
            )
        gpu_left[i, : len(n.gpu_milli_left)] = n.gpu_milli_left
    names = tuple(sorted({n.model for n in nodes}))
    code = {m: k for k, m in enumerate(names)}
    return ClusterState(
        cpu_left=np.array([n.cpu_milli_left for n in nodes], dtype=np.int64),
        mem_left=np.array([n.memory_mib_left for n in nodes], dtype=np.int64),
        gpu_left=gpu_left,
        gpu_count=np.array([len(n.gpu_milli_left) for n in nodes], dtype=np.int64),
        model_code=np.array([code[n.model] for n in nodes], dtype=np.int64),
        model_names=names,
    )


def typical_from_shares(shares: Sequence[PodShare]) -> TypicalPods:
    """Weighted pod shapes as FGD's target workload (weights renormalised, heaviest first)."""
    if not shares or any(not s.weight > 0 for s in shares):
        raise ValidationError(
            "placement.bad_typical_pods",
            "typical_pods must be a non-empty list of shapes with positive weights",
            {"typical_pods": "non-empty, weight > 0"},
        )
    ranked = sorted(shares, key=lambda s: -s.weight)
    total = sum(s.weight for s in ranked)
    return TypicalPods(
        cpu=np.array([s.cpu_milli for s in ranked], dtype=np.int64),
        milli=np.array([s.gpu_milli if s.num_gpu > 0 else 0 for s in ranked], dtype=np.int64),
        num=np.array([s.num_gpu if s.gpu_milli > 0 else 0 for s in ranked], dtype=np.int64),
        spec=tuple(s.gpu_spec for s in ranked),
        prob=np.array([s.weight / total for s in ranked], dtype=np.float64),
    )


def shape_requests(typical: TypicalPods) -> list[PodRequest]:
    """One request per shape of ``typical`` (memory 0), e.g. for :meth:`OnlineScheduler.warm`."""
    return [
        PodRequest(int(typical.cpu[i]), 0, int(typical.num[i]), int(typical.milli[i]), spec)
        for i, spec in enumerate(typical.spec)
    ]


def build_policy(name: str, typical: TypicalPods | None) -> Policy:
    """``make_policy`` with the online checks: known name, typical pods where the policy needs
    them."""
    key = name.lower()
    if key not in ALL_POLICY_NAMES:
        raise ValidationError(
            "placement.unknown_policy",
            f"unknown policy {name!r}; choose from {', '.join(ALL_POLICY_NAMES)}",
            {"policy": name},
        )
    if typical is None:
        if key in FRAG_POLICIES:
            raise ValidationError(
                "placement.typical_pods_required",
                f"policy {key} scores fragmentation against the expected pods: give typical_pods",
                {"typical_pods": "required for fgd, fgdplus, fgdfull"},
            )
        typical = typical_from_shares([PodShare(0, 0, 0)])
    return make_policy(key, typical)


class OnlineScheduler:
    """A cluster and a policy that place pods one at a time; caches persist between decisions.

    With an FGD-family policy the decisions go through a :class:`FragDecider`: :meth:`warm`
    scores the expected pod shapes once on the snapshot, every :meth:`bind` rescores the bound
    node for all shapes seen so far, and a decision is one argmax over the shape's cached node
    ranks (a shape never seen before pays one full scoring). Other policies score per decision.
    """

    def __init__(self, state: ClusterState, policy: Policy, rng: PlacementRng) -> None:
        self.state, self.policy, self.rng = state, policy, rng
        self._decider = FragDecider(state, policy) if isinstance(policy, Fgd) else None

    def warm(self, shapes: Sequence[PodRequest]) -> None:
        """Score ``shapes`` on every node now (FGD family; a no-op for the other policies)."""
        if self._decider is not None:
            for pod in shapes:
                self._decider.decide(pod, self.rng)

    def decide(self, pod: PodRequest) -> Placement | None:
        """Where ``pod`` would go now (``None``: no node fits). Does not change the cluster."""
        if self._decider is not None:
            return self._decider.decide(pod, self.rng)
        return decide(self.state, pod, self.policy, self.rng)

    def bind(self, placement: Placement, pod: PodRequest) -> None:
        """Record that ``pod`` now runs where ``placement`` says."""
        self.state.bind(placement.node, placement.gpus, pod)
        if self._decider is not None:
            self._decider.bound(placement.node)

    def place(self, pod: PodRequest) -> Placement | None:
        """Decide and bind in one step."""
        placement = self.decide(pod)
        if placement is not None:
            self.bind(placement, pod)
        return placement


def decide_once(
    nodes: Sequence[NodeSnapshot],
    pod: PodRequest,
    policy: str,
    typical: Sequence[PodShare] | None = None,
    seed: int = 0,
) -> Placement | None:
    """One decision on a snapshot: the node index and GPU indices for ``pod``, or ``None``."""
    shares = typical_from_shares(typical) if typical is not None else None
    impl = build_policy(policy, shares)
    return OnlineScheduler(state_from_snapshot(nodes), impl, NumpyRand(seed)).decide(pod)
