from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suanli.core.catalog import default_catalog
from suanli.core.errors import NotFoundError, ValidationError
from suanli.inference.models import MODELS, Precision, get_model
from suanli.inference.replica import Efficiency, Replica
from suanli.inference.validation import MEASUREMENTS, predict

INFERENCE_GPUS = ["H800-SXM", "H100-SXM", "A800-SXM", "H20", "L40S", "Ascend-910B"]


def test_catalog_has_inference_figures_for_required_gpus() -> None:
    cat = default_catalog()
    for key in INFERENCE_GPUS:
        g = cat.gpu(key)
        assert g.hbm_gb_per_s and g.hbm_gb_per_s > 0, key
        assert g.network_gbit_per_s and g.network_gbit_per_s > 0, key
        assert g.perf_source, key
    assert cat.gpu("H800-SXM").nvlink_gbps == 400 and cat.gpu("H100-SXM").nvlink_gbps == 900


def test_kv_bytes_per_token_from_layout() -> None:
    # Llama-3.1-8B: 2 (K,V) x 32 layers x 8 KV heads x 128 dims x 2 B = 128 KiB (config.json).
    assert get_model("llama-3.1-8b").kv_bytes_per_token(Precision.BF16) == 131072
    assert get_model("llama-3.1-70b").kv_bytes_per_token(Precision.FP8) == 163840
    # DeepSeek-V3 MLA: 61 layers x (512 + 64) x 2 B = 70,272 B, ~7x less than Llama-70B BF16.
    ds = get_model("deepseek-v3")
    assert ds.kv_bytes_per_token(Precision.BF16) == 70272
    assert ds.is_moe and ds.active_params < ds.params / 10
    assert set(MODELS) >= {"llama-3.1-8b", "llama-3.1-70b", "qwen2.5-72b", "deepseek-r1"}


def test_unknown_model_and_unfit_replica_raise_coded_errors() -> None:
    with pytest.raises(NotFoundError) as e:
        get_model("gpt-9")
    assert e.value.code == "inference.unknown_model"
    with pytest.raises(ValidationError) as v:
        Replica(get_model("llama-3.1-70b"), default_catalog().gpu("L40S"), 1)
    assert v.value.code == "inference.does_not_fit"
    with pytest.raises(ValidationError) as f:
        Replica(get_model("llama-3.1-8b"), default_catalog().gpu("A800-SXM"), 1, Precision.FP8)
    assert f.value.code == "inference.no_fp8"


def test_max_batch_is_kv_limited() -> None:
    r = Replica(get_model("llama-3.1-8b"), default_catalog().gpu("H100-SXM"), 1)
    # 80 GB x 0.9 - 16.06 GB weights = 55.94 GB / 128 KiB = 426,800 tokens.
    assert r.kv_capacity_tokens() == pytest.approx((72e9 - 16.06e9) / 131072, rel=1e-9)
    assert r.max_batch(4096) == int(r.kv_capacity_tokens() // 4096)
    assert r.max_batch(100) == r.eff.max_batch


# Golden: the replica model against published measurements (docs/inference.md table).
# Tolerance: +/-20 % for those we claim; the two Llama-70B TP2 decode-heavy rows are known
# misses (model +29 % / +34 %, see docs) and are checked only to stay within +/-40 %.
KNOWN_MISSES = {"Llama-3.3-70B H100 TP2 1000/1000", "Llama-3.3-70B H100 TP2 128/2048"}


@pytest.mark.parametrize("m", MEASUREMENTS, ids=lambda m: m.label)
def test_golden_against_published_measurements(m: object) -> None:
    assert isinstance(m, type(MEASUREMENTS[0]))
    tol = 0.40 if m.label in KNOWN_MISSES else 0.20
    assert predict(m) == pytest.approx(m.measured, rel=tol)


def test_at_least_six_measurements_within_20_percent() -> None:
    hits = [m for m in MEASUREMENTS if abs(predict(m) / m.measured - 1) <= 0.20]
    assert len(hits) >= 6
    assert len({(m.model, m.gpu) for m in MEASUREMENTS}) >= 3


_models = st.sampled_from(["llama-3.1-8b", "llama-3.1-70b", "qwen2.5-72b"])


@settings(max_examples=60, deadline=None)
@given(
    model=_models,
    batch=st.integers(1, 256),
    context=st.floats(16, 32_000),
    bw=st.floats(500, 8000),
    extra=st.floats(1.0, 3.0),
)
def test_more_bandwidth_never_slows_decode(
    model: str, batch: int, context: float, bw: float, extra: float
) -> None:
    base = default_catalog().gpu("H800-SXM")
    slow = Replica(get_model(model), dataclasses.replace(base, hbm_gb_per_s=bw), 8)
    fast = Replica(get_model(model), dataclasses.replace(base, hbm_gb_per_s=bw * extra), 8)
    assert fast.decode_step_time(batch, context) <= slow.decode_step_time(batch, context)


@settings(max_examples=60, deadline=None)
@given(
    model=st.sampled_from(sorted(MODELS)),
    batch=st.integers(1, 256),
    context=st.floats(16, 32_000),
    longer=st.floats(1.0, 4.0),
)
def test_longer_context_never_speeds_decode_or_prefill(
    model: str, batch: int, context: float, longer: float
) -> None:
    gpus = 144 if get_model(model).is_moe else 8
    r = Replica(get_model(model), default_catalog().gpu("H800-SXM"), gpus, Precision.FP8)
    assert r.decode_step_time(batch, context * longer) >= r.decode_step_time(batch, context)
    assert r.prefill_time(context * longer) >= r.prefill_time(context)
    assert r.max_batch(context * longer) <= r.max_batch(context)


def test_bad_efficiency_rejected() -> None:
    with pytest.raises(ValidationError) as e:
        Efficiency(bandwidth_util=1.5)
    assert e.value.code == "inference.bad_efficiency"
