"""/api/v1/placement/decide: one placement decision (snapshot + pod -> node and GPUs).

For operators who call Suanli from their own scheduler. Stateless: the body carries the cluster
snapshot (node order = tie-break priority), the pod, the policy and, for the FGD family, the
expected pod shapes with weights. Any authenticated user may call it (a token of any role);
without one it answers 401. Errors use the ``{code, message, fields}`` envelope: 422
``request.invalid`` for a malformed body, ``placement.*`` for a body that is well-formed but
unusable (unknown policy, missing typical pods, GPU milli out of range). CPU-bound, so plain ``def``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from suanli.api.auth import AUTHENTICATED
from suanli.api.schemas import answers
from suanli.scheduling.cluster import GPU_MILLI, PodRequest
from suanli.scheduling.placement import ALL_POLICY_NAMES
from suanli.scheduling.placement.online import NodeSnapshot, PodShare, decide_once

MAX_NODES = 20_000
MAX_GPUS_PER_NODE = 16
MAX_TYPICAL = 1_000
MAX_INT = 2**31 - 1  # numpy int32/int64 arrays on the hot path; larger is hostile input
Milli = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]  # 0..1000 checked with the node named

router = APIRouter(prefix="/placement", tags=["placement"], dependencies=AUTHENTICATED)


class NodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    gpu_model: str = Field(max_length=64, description="GPU model name, matched by gpu_spec")
    cpu_milli_left: int = Field(ge=0, le=MAX_INT)
    memory_mib_left: int = Field(ge=0, le=MAX_INT)
    gpu_milli_left: list[Milli] = Field(
        max_length=MAX_GPUS_PER_NODE, description="milli left on each GPU, 0..1000 (1000 = idle)"
    )


class PodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cpu_milli: int = Field(ge=0, le=MAX_INT)
    memory_mib: int = Field(ge=0, le=MAX_INT, default=0)
    num_gpu: int = Field(ge=0, le=MAX_GPUS_PER_NODE, default=0)
    gpu_milli: int = Field(ge=0, le=GPU_MILLI, default=0, description="per GPU; 1000 = whole")
    gpu_spec: str = Field(default="", max_length=256, description="'A|B': allowed models")


class TypicalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cpu_milli: int = Field(ge=0, le=MAX_INT)
    num_gpu: int = Field(ge=0, le=MAX_GPUS_PER_NODE, default=0)
    gpu_milli: int = Field(ge=0, le=GPU_MILLI, default=0)
    gpu_spec: str = Field(default="", max_length=256)
    weight: float = Field(
        gt=0,
        le=1e12,
        allow_inf_nan=False,
        description="relative frequency, e.g. recent arrival count",
    )


EXAMPLE = {
    "policy": "fgdfull",
    "nodes": [
        {"name": "n1", "gpu_model": "V100M16", "cpu_milli_left": 64000,
         "memory_mib_left": 262144, "gpu_milli_left": [1000, 500, 1000, 1000]},
        {"name": "n2", "gpu_model": "T4", "cpu_milli_left": 32000,
         "memory_mib_left": 131072, "gpu_milli_left": [1000, 1000]},
    ],
    "pod": {"cpu_milli": 4000, "memory_mib": 8192, "num_gpu": 1, "gpu_milli": 500},
    "typical_pods": [
        {"cpu_milli": 4000, "num_gpu": 1, "gpu_milli": 500, "weight": 3},
        {"cpu_milli": 8000, "num_gpu": 1, "gpu_milli": 1000, "weight": 1},
    ],
}  # fmt: skip


class DecideIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})  # type: ignore[list-item]
    policy: str = Field(default="fgdfull", description=f"one of {', '.join(ALL_POLICY_NAMES)}")
    nodes: list[NodeIn] = Field(min_length=1, max_length=MAX_NODES)
    pod: PodIn
    typical_pods: list[TypicalIn] | None = Field(default=None, max_length=MAX_TYPICAL)
    seed: int = Field(default=0, ge=0, description="seeds the Random policy only")


class DecideOut(BaseModel):
    placed: bool
    node: str | None = Field(description="node name, null when no node can host the pod")
    node_index: int | None
    gpus: list[int] = Field(description="GPU indices on the node; empty for CPU-only pods")
    policy: str


@router.post("/decide", responses=answers(200, 401, 413, 422), response_model=DecideOut)
def decide(body: DecideIn) -> Any:
    """Where the pod goes on this snapshot; ``placed: false`` when no node can host it."""
    nodes = [
        NodeSnapshot(
            n.name, n.gpu_model, n.cpu_milli_left, n.memory_mib_left, tuple(n.gpu_milli_left)
        )
        for n in body.nodes
    ]
    p = body.pod
    pod = PodRequest(p.cpu_milli, p.memory_mib, p.num_gpu, p.gpu_milli, p.gpu_spec)
    typical = (
        None
        if body.typical_pods is None
        else [
            PodShare(t.cpu_milli, t.num_gpu, t.gpu_milli, t.gpu_spec, t.weight)
            for t in body.typical_pods
        ]
    )
    placement = decide_once(nodes, pod, body.policy, typical, body.seed)
    if placement is None:
        return DecideOut(
            placed=False, node=None, node_index=None, gpus=[], policy=body.policy.lower()
        )
    return DecideOut(
        placed=True,
        node=nodes[placement.node].name,
        node_index=placement.node,
        gpus=list(placement.gpus),
        policy=body.policy.lower(),
    )
