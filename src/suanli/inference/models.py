"""Versioned catalog of served LLMs: parameters, layout and KV-cache bytes per token.

Owns the figures a performance model needs for each model. Sources are the models' published
Hugging Face ``config.json`` files and, for DeepSeek-V3/R1, the technical report
(arXiv:2412.19437). Bump :data:`MODEL_CATALOG_VERSION` on any change of a figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from suanli.core.errors import NotFoundError, ValidationError

MODEL_CATALOG_VERSION = "2026.12.1"


class Precision(StrEnum):
    BF16 = "bf16"
    FP8 = "fp8"

    @property
    def bytes(self) -> float:
        return 2.0 if self is Precision.BF16 else 1.0


@dataclass(frozen=True, slots=True)
class LlmModel:
    """One served model. ``kv_elements_per_token`` counts K and V over all layers.

    For grouped-query attention it is ``2 * layers * kv_heads * head_dim``; for DeepSeek's MLA
    it is ``layers * (kv_lora_rank + rope_dim)`` (one compressed latent, no separate V).
    ``replicated_params`` are the parameters every expert-parallel rank holds (attention,
    embeddings, dense and shared-expert layers); for a dense model it equals ``params``.
    """

    key: str
    name: str
    params: float
    active_params: float
    replicated_params: float
    layers: int
    hidden: int
    attention: str
    attn_heads: int
    kv_heads: int
    head_dim: int
    kv_elements_per_token: int
    attn_flops_per_token_per_ctx: float
    moe_layers: int
    experts_per_token: int
    source: str

    @property
    def is_moe(self) -> bool:
        return self.moe_layers > 0

    def kv_bytes_per_token(self, precision: Precision) -> float:
        return self.kv_elements_per_token * precision.bytes

    def weight_bytes(self, precision: Precision) -> float:
        return self.params * precision.bytes


def _gqa(
    key: str,
    name: str,
    params: float,
    layers: int,
    hidden: int,
    heads: int,
    kv_heads: int,
    source: str,
) -> LlmModel:
    head_dim = hidden // heads
    return LlmModel(
        key=key,
        name=name,
        params=params,
        active_params=params,
        replicated_params=params,
        layers=layers,
        hidden=hidden,
        attention=f"GQA {heads} query / {kv_heads} KV heads x {head_dim}",
        attn_heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        kv_elements_per_token=2 * layers * kv_heads * head_dim,
        # QK^T and PV: 2 matmuls x 2 FLOP x heads x head_dim per layer per context token.
        attn_flops_per_token_per_ctx=4.0 * layers * heads * head_dim,
        moe_layers=0,
        experts_per_token=0,
        source=source,
    )


_DEEPSEEK_SOURCE = (
    "DeepSeek-V3 technical report arXiv:2412.19437 (671B total, 37B active, 61 layers, MLA "
    "kv_lora_rank 512 + rope 64, 58 MoE layers, 256 routed experts of d_ff 2048, 8 per token); "
    "deepseek-ai/DeepSeek-V3 config.json"
)


def _deepseek(key: str, name: str) -> LlmModel:
    routed = 58 * 256 * 3 * 7168 * 2048  # routed-expert parameters, 654 B
    return LlmModel(
        key=key,
        name=name,
        params=671e9,
        active_params=37e9,
        replicated_params=671e9 - routed,
        layers=61,
        hidden=7168,
        attention="MLA 128 heads, latent 512 + rope 64 (absorbed in decode)",
        attn_heads=128,
        kv_heads=1,
        head_dim=576,
        kv_elements_per_token=61 * (512 + 64),
        # Absorbed MLA: scores over 576 dims and values over 512 per head, 2 FLOP each.
        attn_flops_per_token_per_ctx=2.0 * 61 * 128 * (576 + 512),
        moe_layers=58,
        experts_per_token=8,
        source=_DEEPSEEK_SOURCE,
    )


MODELS: Mapping[str, LlmModel] = {
    m.key: m
    for m in (
        _gqa(
            "llama-3.1-8b",
            "Llama-3.1-8B-Instruct",
            8.03e9,
            32,
            4096,
            32,
            8,
            "meta-llama/Llama-3.1-8B config.json (32 layers, hidden 4096, 32 heads, 8 KV heads)",
        ),
        _gqa(
            "llama-3.1-70b",
            "Llama-3.1-70B-Instruct",
            70.6e9,
            80,
            8192,
            64,
            8,
            "meta-llama/Llama-3.1-70B config.json (80 layers, hidden 8192, 64 heads, 8 KV heads)",
        ),
        _gqa(
            "qwen2.5-72b",
            "Qwen2.5-72B-Instruct",
            72.7e9,
            80,
            8192,
            64,
            8,
            "Qwen/Qwen2.5-72B-Instruct config.json (80 layers, hidden 8192, 64 heads, 8 KV heads)",
        ),
        _deepseek("deepseek-v3", "DeepSeek-V3"),
        _deepseek("deepseek-r1", "DeepSeek-R1 (V3 architecture)"),
    )
}


def get_model(key: str) -> LlmModel:
    try:
        return MODELS[key]
    except KeyError:
        raise NotFoundError(
            "inference.unknown_model",
            f"unknown model {key!r}",
            {"model": f"one of {sorted(MODELS)}"},
        ) from None


def parse_precision(value: str) -> Precision:
    try:
        return Precision(value)
    except ValueError:
        raise ValidationError(
            "inference.bad_precision",
            f"unknown precision {value!r}",
            {"precision": f"one of {[p.value for p in Precision]}"},
        ) from None
