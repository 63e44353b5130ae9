from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from suanli.core.catalog import default_catalog
from suanli.core.errors import NotFoundError, ValidationError
from suanli.inference.models import Precision, get_model
from suanli.inference.replica import Replica
from suanli.simulation.inference.engine import (
    AutoscalerConfig,
    EngineConfig,
    cold_start_seconds,
    simulate,
)
from suanli.simulation.inference.metrics import Slo, summarize
from suanli.simulation.inference.workload import (
    AzureKind,
    Workload,
    azure_path,
    bursty,
    fit_lengths,
    load_azure,
    poisson,
)
from suanli.simulation.theory import pollaczek_khinchine_wait


@dataclass(frozen=True)
class FakeService:
    """Constant-rate service: every iteration (prefill or decode) takes ``step`` seconds."""

    step: float = 0.01
    batch_cap: int = 64
    kv: float = 1e12
    per_batch: float = 0.0  # extra step time per running request

    def prefill_time(self, tokens: float, cached: float = 0.0) -> float:
        return self.step

    def tpot(self, batch: int, context: float) -> float:
        return self.step + self.per_batch * batch

    def kv_capacity_tokens(self) -> float:
        return self.kv

    def max_batch(self, context: float) -> int:
        return self.batch_cap


def _w(arrivals: list[float], prompt: list[int], output: list[int]) -> Workload:
    return Workload(
        np.asarray(arrivals, dtype=np.float64),
        np.asarray(prompt, dtype=np.int64),
        np.asarray(output, dtype=np.int64),
        "t",
    )


def test_mm1_mean_wait_within_3_percent() -> None:
    # Single replica, batch 1, Poisson arrivals (rate 0.5/s), service = geometric(p) iterations
    # of p seconds -> exponential with mean 1 s as p -> 0. M/M/1: Wq = rho / (mu - lambda) = 1 s.
    rng = np.random.default_rng(3)
    n, lam, p = 100_000, 0.5, 0.001
    out = rng.geometric(p, n).astype(np.int64)
    w = Workload(np.cumsum(rng.exponential(1 / lam, n)), np.ones(n, np.int64), out, "mm1")
    res = simulate(w, FakeService(step=p, batch_cap=1), EngineConfig(replicas=1))
    wait = float(np.mean(res.admit - res.arrival))
    assert wait == pytest.approx(0.5 / (1.0 - 0.5), rel=0.03)
    # And against Pollaczek-Khinchine with the sampled service moments (same tolerance).
    s = out * p
    assert wait == pytest.approx(
        pollaczek_khinchine_wait(lam, float(s.mean()), float((s**2).mean())), rel=0.03
    )


def test_continuous_batching_decodes_requests_together() -> None:
    svc = FakeService(step=0.01)
    res = simulate(_w([0.0, 0.0], [10, 10], [101, 101]), svc, EngineConfig(replicas=1))
    # One prefill iteration (the fake charges 0.01 s per prompt: 0.02 s), both first tokens at
    # its end, then 100 decode iterations shared by the batch (not 200).
    assert res.first_token.tolist() == pytest.approx([0.02, 0.02])
    assert res.finish.tolist() == pytest.approx([1.02, 1.02])
    # A late joiner is admitted at the next iteration boundary, not after the batch drains.
    res = simulate(_w([0.0, 0.505], [10, 10], [101, 11]), svc, EngineConfig(replicas=1))
    assert 0.505 <= res.admit[1] <= 0.52
    assert res.finish[1] < res.finish[0]


def test_kv_capacity_limits_admission() -> None:
    # Room for one request's reservation (prompt + output = 110 tokens) only.
    svc = FakeService(step=0.01, kv=150)
    res = simulate(_w([0.0, 0.0], [10, 10], [100, 100]), svc, EngineConfig(replicas=1))
    assert res.admit[1] == pytest.approx(res.finish[0])


def test_least_outstanding_tokens_router() -> None:
    svc = FakeService(step=0.01)
    res = simulate(
        _w([0.0, 0.001, 0.002], [10, 10, 10], [500, 5, 5]), svc, EngineConfig(replicas=2)
    )
    # The long request occupies replica 0; both short ones go to replica 1 (fewer tokens owed).
    assert res.replica.tolist() == [0, 1, 1]


def test_prefix_cache_cuts_ttft_and_counts_cached_tokens() -> None:
    model = Replica(get_model("llama-3.1-8b"), default_catalog().gpu("H800-SXM"), 1)
    w = _w([0.0], [8000], [10])
    cold = simulate(w, model, EngineConfig(replicas=1))
    warm = simulate(w, model, EngineConfig(replicas=1, prefix_hit_rate=0.5))
    assert warm.cached[0] == 4000
    assert warm.first_token[0] < cold.first_token[0]


def test_autoscaler_scales_out_after_delay_and_cold_start() -> None:
    svc = FakeService(step=0.01, batch_cap=4)
    # Calm 600 s at 1 req/s, then 10x for 600 s; each request is ~1 s of work at batch 1.
    rng = np.random.default_rng(1)
    calm = np.sort(rng.uniform(0, 600, 600))
    burst = np.sort(rng.uniform(600, 1200, 6000))
    t = np.concatenate([calm, burst])
    w = Workload(t, np.full(len(t), 10, np.int64), np.full(len(t), 50, np.int64), "step")
    cold = cold_start_seconds(16e9, 2.0, fixed_s=10.0)
    assert cold == pytest.approx(18.0)
    scaler = AutoscalerConfig(
        min_replicas=1,
        max_replicas=50,
        target_util=0.7,
        interval_s=30,
        window_s=60,
        scale_out_delay_s=15,
        cold_start_s=cold,
        ref_batch=4,
        ref_context=30,
    )
    res = simulate(w, svc, EngineConfig(replicas=1, autoscaler=scaler))
    before = res.timeline_replicas[res.timeline_s < 600].max()
    after = res.timeline_replicas[(res.timeline_s > 700) & (res.timeline_s < 1200)].min()
    assert after > before
    # New replicas serve only after delay + cold start.
    late = res.replica >= before
    assert late.any()
    assert res.admit[late].min() >= 600 + 15 + cold - 30
    fixed = simulate(w, svc, EngineConfig(replicas=int(res.timeline_replicas.max())))
    assert res.replica_seconds < fixed.replica_seconds


def test_summary_slo_and_cost() -> None:
    svc = FakeService(step=0.01)
    res = simulate(_w([0.0, 0.0], [100, 100], [11, 11]), svc, EngineConfig(replicas=1))
    s = summarize(res, Slo(ttft_p99_s=0.02, tpot_p99_s=0.02), gpus_per_replica=8, gpu_hour_price=2)
    assert s.slo_attainment == 1.0 and s.meets_slo
    assert s.tpot_p99_s == pytest.approx(0.01)
    # 1 replica x (0.02 s prefill + 10 x 0.01 s decode) x 8 GPUs x $2/h over 222 tokens.
    assert s.cost_per_m_tokens == pytest.approx(0.12 / 3600 * 8 * 2 / 222 * 1e6)
    strict = summarize(res, Slo(ttft_p99_s=0.001, tpot_p99_s=0.02), 8, 2)
    assert strict.slo_attainment == 0.0 and not strict.meets_slo


def test_azure_conversation_trace_loads(shared_dir: Path) -> None:
    w = load_azure(azure_path(shared_dir, AzureKind.CONV))
    assert len(w) == 19_366
    assert 3400 < w.duration_s < 3600  # one hour sample
    fit = fit_lengths(w)
    rng = np.random.default_rng(0)
    syn = poisson(fit, fit.rate_per_s, 3600, rng)
    # Synthetic lengths reproduce the trace's median and p90 (sampling error ~3 % at 19k).
    for col in ("prompt", "output"):
        got = np.percentile(getattr(syn, col), [50, 90])
        want = np.percentile(getattr(w, col), [50, 90])
        assert got == pytest.approx(want, rel=0.06), col
    assert len(syn) == pytest.approx(fit.rate_per_s * 3600, rel=0.03)
    b = bursty(fit, fit.rate_per_s, 3600, rng)
    counts = np.bincount((b.arrival_s // 60).astype(int))
    pois = np.bincount((syn.arrival_s // 60).astype(int))
    assert counts.std() > pois.std()  # burstier than Poisson at the same mean rate


def test_bad_inputs_raise_coded_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as e:
        load_azure(tmp_path / "missing.csv")
    assert e.value.code == "azure.missing"
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValidationError) as v:
        load_azure(bad)
    assert v.value.code == "azure.bad_header"
    with pytest.raises(ValidationError):
        EngineConfig(replicas=0)
    with pytest.raises(ValidationError):
        AutoscalerConfig(target_util=0)


def test_run_jumping_matches_per_iteration_engine(shared_dir: Path) -> None:
    # The engine jumps over runs of decode iterations with the step time of the run's start;
    # against re-evaluating it every iteration (max_jump=1) percentiles move < 1 %.
    w = load_azure(azure_path(shared_dir, AzureKind.CODE)).head(600)
    svc = Replica(get_model("llama-3.1-70b"), default_catalog().gpu("H800-SXM"), 4, Precision.FP8)
    fast = summarize(simulate(w, svc, EngineConfig(replicas=2)), Slo(), 4, 2.0)
    exact = summarize(simulate(w, svc, EngineConfig(replicas=2, max_jump=1)), Slo(), 4, 2.0)
    assert fast.tpot_p99_s == pytest.approx(exact.tpot_p99_s, rel=0.01)
    assert fast.ttft_p99_s == pytest.approx(exact.ttft_p99_s, rel=0.01)
