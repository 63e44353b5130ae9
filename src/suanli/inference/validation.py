"""Published inference measurements and the replica model's prediction of each.

Owns the validation set behind docs/inference.md: each :class:`Measurement` names its source,
the configuration measured and the metric, and :func:`predict` evaluates the replica model on
the same configuration. The golden test checks the stated tolerances.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from suanli.core.catalog import Catalog, default_catalog
from suanli.inference.models import Precision, get_model
from suanli.inference.replica import Efficiency, Replica

TRTLLM_PERF = (
    "NVIDIA TensorRT-LLM docs/source/performance/perf-overview.md (commit 00f37686), "
    "trtllm-bench throughput, Total Output Throughput tokens/s, FP8 weights"
)
DEEPSEEK_DAY = (
    "deepseek-ai/open-infra-index 202502OpenSourceWeek/day_6 (2025-03-01): per H800 node "
    "~14.8k output tokens/s at 20-22 tokens/s per request, mean KV length 4,989; decode EP144 "
    "on 18 nodes; MTP gives ~1.8x tokens per step (arXiv:2412.19437 sec. 5.4.3)"
)


@dataclass(frozen=True, slots=True)
class Measurement:
    label: str
    model: str
    gpu: str
    gpus: int
    kind: str  # "offline" (isl/osl saturation) or "decode_at_tpot" (per 8-GPU node)
    isl: int
    osl: int
    measured: float
    source: str
    context: float = 0.0
    tpot_s: float = 0.0
    tokens_per_step: float = 1.0
    kv_precision: Precision = Precision.FP8


def _trt(model: str, tp: int, isl: int, osl: int, measured: float) -> Measurement:
    name = "Llama-3.1-8B" if model == "llama-3.1-8b" else "Llama-3.3-70B"
    label = f"{name} H100 TP{tp} {isl}/{osl}"
    return Measurement(label, model, "H100-SXM", tp, "offline", isl, osl, measured, TRTLLM_PERF)


MEASUREMENTS: tuple[Measurement, ...] = (
    _trt("llama-3.1-8b", 1, 128, 2048, 22714),
    _trt("llama-3.1-8b", 1, 1000, 1000, 15220),
    _trt("llama-3.1-8b", 1, 2048, 128, 3450),
    _trt("llama-3.1-8b", 1, 500, 2000, 17660),
    _trt("llama-3.1-70b", 2, 2048, 128, 762),
    _trt("llama-3.1-70b", 2, 1000, 1000, 4205),
    _trt("llama-3.1-70b", 2, 128, 2048, 6651),
    Measurement(
        "DeepSeek-V3/R1 H800 EP144 decode per node",
        "deepseek-r1",
        "H800-SXM",
        144,
        "decode_at_tpot",
        0,
        0,
        14800,
        DEEPSEEK_DAY,
        context=4989,
        tpot_s=1 / 21,
        tokens_per_step=1.8,
        kv_precision=Precision.BF16,
    ),
)


def predict(m: Measurement, eff: Efficiency | None = None, catalog: Catalog | None = None) -> float:
    """The replica model's value for measurement ``m`` (same unit as ``m.measured``)."""
    base = eff or Efficiency()
    if m.tokens_per_step != 1.0:
        base = dataclasses.replace(base, tokens_per_step=m.tokens_per_step)
    gpu = (catalog or default_catalog()).gpu(m.gpu)
    replica = Replica(get_model(m.model), gpu, m.gpus, Precision.FP8, m.kv_precision, base)
    if m.kind == "offline":
        return replica.offline_output_throughput(m.isl, m.osl)
    batch = replica.max_batch_under_tpot(m.tpot_s, m.context)
    if batch < 1:
        return 0.0
    return replica.decode_throughput(batch, m.context) * 8 / m.gpus
