"""Replica performance model: one model served on ``gpus`` GPUs of one type.

Owns the roofline arithmetic of a serving replica:

* prefill is compute-bound: ``2 * active_params`` FLOP per token plus attention over the
  context, at a calibrated MFU;
* a decode step is memory-bound: the weights each GPU holds plus the KV cache of the batch are
  read once per step at a calibrated share of HBM bandwidth (or the step's FLOPs, if larger),
  plus communication (tensor-parallel all-reduce over NVLink, or expert-parallel all-to-all,
  over the scale-out network once the replica spans more than one 8-GPU node);
* the largest batch is what fits in the KV cache left after weights and a reserve.

Efficiency factors are parameters (:class:`Efficiency`) with documented defaults calibrated
against the published measurements in :mod:`suanli.inference.validation`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from suanli.core.catalog import GpuModel
from suanli.core.errors import ValidationError
from suanli.inference.models import LlmModel, Precision

GPUS_PER_NODE = 8


@dataclass(frozen=True, slots=True)
class Efficiency:
    """Calibrated efficiency factors (defaults: see docs/inference.md, "Calibration")."""

    mfu_prefill: float = 0.60
    mfu_decode: float = 0.35
    bandwidth_util: float = 0.62
    comm_util: float = 0.60
    comm_overlap: float = 0.5
    collective_latency_s: float = 8e-6
    hbm_reserve_fraction: float = 0.10
    max_batch: int = 2048
    tokens_per_step: float = 1.0  # >1 with speculative / multi-token-prediction decoding

    def __post_init__(self) -> None:
        for name in ("mfu_prefill", "mfu_decode", "bandwidth_util", "comm_util"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValidationError(
                    "inference.bad_efficiency", f"{name} must be in (0, 1]", {name: value}
                )
        if self.tokens_per_step < 1.0:
            raise ValidationError(
                "inference.bad_efficiency",
                "tokens_per_step must be >= 1",
                {"tokens_per_step": self.tokens_per_step},
            )
        if not 0.0 <= self.comm_overlap <= 1.0 or not 0.0 <= self.hbm_reserve_fraction < 1.0:
            raise ValidationError(
                "inference.bad_efficiency",
                "comm_overlap must be in [0, 1] and hbm_reserve_fraction in [0, 1)",
                {"comm_overlap": self.comm_overlap, "reserve": self.hbm_reserve_fraction},
            )


@dataclass(frozen=True, slots=True)
class Replica:
    """A (model, GPU, parallel degree, precision) choice. ``gpus`` is the TP or EP degree."""

    model: LlmModel
    gpu: GpuModel
    gpus: int
    precision: Precision = Precision.BF16
    kv_precision: Precision = Precision.BF16
    eff: Efficiency = field(default_factory=Efficiency)

    def __post_init__(self) -> None:
        if self.gpus < 1:
            raise ValidationError(
                "inference.bad_degree", "parallel degree must be >= 1", {"gpus": self.gpus}
            )
        if self.gpu.hbm_gb_per_s is None:
            raise ValidationError(
                "inference.gpu_lacks_bandwidth",
                f"GPU {self.gpu.key} has no memory bandwidth in the catalog",
                {"gpu": "a GPU with hbm_gb_per_s"},
            )
        if self.precision is Precision.FP8 and self.gpu.fp8_dense_tflops is None:
            raise ValidationError(
                "inference.no_fp8",
                f"GPU {self.gpu.key} has no FP8 support",
                {"precision": "bf16 on this GPU"},
            )
        if self.kv_capacity_tokens() <= 0:
            raise ValidationError(
                "inference.does_not_fit",
                f"{self.model.key} weights do not fit on {self.gpus} x {self.gpu.key}",
                {"gpus": f"more than {self.gpus}"},
            )

    # -- memory ---------------------------------------------------------------------------
    def weight_bytes_per_gpu(self) -> float:
        b = self.precision.bytes
        m = self.model
        if m.is_moe:  # expert parallel: experts sharded, the rest replicated (attention DP)
            return (m.replicated_params + (m.params - m.replicated_params) / self.gpus) * b
        return m.params * b / self.gpus

    def kv_capacity_tokens(self) -> float:
        """KV-cache tokens the whole replica holds after weights and the reserve."""
        usable = self.gpu.memory_gb * 1e9 * (1.0 - self.eff.hbm_reserve_fraction)
        free = usable - self.weight_bytes_per_gpu()
        return self.gpus * free / self.model.kv_bytes_per_token(self.kv_precision)

    def max_batch(self, context: float) -> int:
        """Largest batch of sequences of mean length ``context`` that fits in the KV cache."""
        fit = int(self.kv_capacity_tokens() // max(context, 1.0))
        return max(0, min(self.eff.max_batch, fit))

    # -- compute --------------------------------------------------------------------------
    def _flops_per_s(self, mfu: float) -> float:
        g = self.gpu
        peak = g.fp8_dense_tflops if self.precision is Precision.FP8 else g.bf16_dense_tflops
        assert peak is not None  # checked in __post_init__
        return self.gpus * peak * 1e12 * mfu

    def prefill_time(self, tokens: float, cached: float = 0.0) -> float:
        """Seconds to prefill ``tokens`` new tokens after ``cached`` tokens already in KV."""
        m = self.model
        flops = 2.0 * m.active_params * tokens
        flops += m.attn_flops_per_token_per_ctx * tokens * (cached + tokens / 2.0)
        return flops / self._flops_per_s(self.eff.mfu_prefill) + self._comm_time(tokens)

    def _comm_time(self, tokens: float) -> float:
        m, n, e = self.model, self.gpus, self.eff
        if n == 1:
            return 0.0
        nvlink = self.gpu.nvlink_gbps * 1e9 * e.comm_util
        network = (self.gpu.network_gbit_per_s or 0.0) / 8.0 * 1e9 * e.comm_util
        if m.is_moe:
            # All-to-all: dispatch FP8 (1 B) and combine BF16 (2 B) per routed expert.
            per_gpu = tokens / n * m.moe_layers * m.experts_per_token * m.hidden * 3.0
            off_node = max(0.0, 1.0 - GPUS_PER_NODE / n)
            t = per_gpu * (1.0 - off_node) / max(nvlink, 1.0)
            if off_node > 0.0:
                if network <= 0.0:
                    return math.inf
                t += per_gpu * off_node / network
            t += 2 * m.moe_layers * e.collective_latency_s
        else:
            # Two ring all-reduces per layer of tokens x hidden activations in BF16.
            size = tokens * m.hidden * 2.0
            t = m.layers * 2 * (2.0 * (n - 1) / n * size) / max(nvlink, 1.0)
            t += m.layers * 2 * e.collective_latency_s
        return t * (1.0 - e.comm_overlap)

    def decode_step_time(self, batch: int, context: float) -> float:
        """Seconds for one decode iteration of ``batch`` sequences of mean length ``context``."""
        if batch < 1:
            raise ValidationError("inference.bad_batch", "batch must be >= 1", {"batch": batch})
        m, e = self.model, self.eff
        assert self.gpu.hbm_gb_per_s is not None
        kv = batch * context * m.kv_bytes_per_token(self.kv_precision) / self.gpus
        mem = (self.weight_bytes_per_gpu() + kv) / (self.gpu.hbm_gb_per_s * 1e9 * e.bandwidth_util)
        flops = batch * (2.0 * m.active_params + m.attn_flops_per_token_per_ctx * context)
        compute = flops / self._flops_per_s(e.mfu_decode)
        return max(mem, compute) + self._comm_time(float(batch))

    def decode_throughput(self, batch: int, context: float) -> float:
        """Output tokens per second of the replica at a full batch."""
        return batch * self.eff.tokens_per_step / self.decode_step_time(batch, context)

    def tpot(self, batch: int, context: float) -> float:
        """Time per output token seen by each request at this batch."""
        return self.decode_step_time(batch, context) / self.eff.tokens_per_step

    def max_batch_under_tpot(self, tpot_s: float, context: float) -> int:
        """Largest batch whose decode step stays within ``tpot_s`` (0 if even 1 is too slow)."""
        hi = self.max_batch(context)
        if hi < 1 or self.tpot(1, context) > tpot_s:
            return 0
        lo = 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.tpot(mid, context) <= tpot_s:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def offline_output_throughput(self, isl: int, osl: int) -> float:
        """Output tokens/s at saturation with continuous batching of ISL/OSL requests.

        Per request the replica spends the prefill of ``isl`` tokens plus ``osl`` decode steps
        shared by the batch: ``osl / (prefill(isl) + osl * step(B) / B)`` at the largest batch
        ``B`` that fits sequences of mean length ``isl + osl / 2``.
        """
        context = isl + osl / 2.0
        batch = self.max_batch(context)
        if batch < 1:
            return 0.0
        per_request = self.prefill_time(isl) + osl * self.tpot(batch, context) / batch
        return osl / per_request
