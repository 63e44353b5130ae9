"""Request-level inference simulator speed: the Azure conversation hour on 8 replicas.

Workload: ``AzureLLMInferenceTrace_conv.csv`` (19,366 requests, one hour, read in place from
``$SUANLI_SHARED/data/azure-llm-2023``), Llama-3.1-8B FP8 on 8 replicas of one H800 each,
30 % prefix-cache hits, fixed fleet. Target: < 5 s on one core.

Baseline (same run): the same engine with ``max_jump=1``, i.e. one Python iteration per decode
step (what a naive iteration-level simulator does), on the first ``--baseline-requests`` requests
of the same trace; speeds are compared in requests per second. The JSON also reports how far the
run-jumping approximation moves TTFT/TPOT p99 on that prefix.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_inference.py [--replicas 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from suanli.core.catalog import default_catalog
from suanli.inference.models import Precision, get_model
from suanli.inference.replica import Replica
from suanli.simulation.inference.engine import EngineConfig, simulate
from suanli.simulation.inference.metrics import Slo, summarize
from suanli.simulation.inference.workload import AzureKind, azure_path, load_azure


def shared_dir() -> Path:
    env = os.environ.get("SUANLI_SHARED")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[1].parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replicas", type=int, default=8)
    ap.add_argument("--baseline-requests", type=int, default=2000)
    args = ap.parse_args()
    w = load_azure(azure_path(shared_dir(), AzureKind.CONV))
    svc = Replica(
        get_model("llama-3.1-8b"),
        default_catalog().gpu("H800-SXM"),
        1,
        Precision.FP8,
        Precision.FP8,
    )
    cfg = EngineConfig(replicas=args.replicas, prefix_hit_rate=0.3)
    slo = Slo(2.0, 0.1)

    t0 = time.perf_counter()
    res = simulate(w, svc, cfg)
    full_s = time.perf_counter() - t0
    summary = summarize(res, slo, 1, 2.0)

    head = w.head(args.baseline_requests)
    t0 = time.perf_counter()
    fast = simulate(head, svc, cfg)
    fast_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = simulate(
        head, svc, EngineConfig(replicas=args.replicas, prefix_hit_rate=0.3, max_jump=1)
    )
    naive_s = time.perf_counter() - t0
    a, b = summarize(fast, slo, 1, 2.0), summarize(naive, slo, 1, 2.0)

    out = {
        "benchmark": "inference_simulator",
        "workload": f"azure conv, {len(w)} requests, {w.duration_s:.0f} s",
        "replicas": args.replicas,
        "model": "llama-3.1-8b fp8 on 1x H800",
        "seconds": round(full_s, 3),
        "target_seconds": 5.0,
        "meets_target": full_s < 5.0,
        "requests_per_s": round(len(w) / full_s),
        "baseline": {
            "what": "max_jump=1 (one Python iteration per decode step)",
            "requests": len(head),
            "requests_per_s": round(len(head) / naive_s),
            "engine_requests_per_s_same_prefix": round(len(head) / fast_s),
        },
        "speedup_vs_baseline": round((len(head) / fast_s) / (len(head) / naive_s), 1),
        "approximation_error": {
            "ttft_p99_rel": round(a.ttft_p99_s / b.ttft_p99_s - 1, 4),
            "tpot_p99_rel": round(a.tpot_p99_s / b.tpot_p99_s - 1, 4),
        },
        "result": {
            "ttft_p99_s": round(summary.ttft_p99_s, 4),
            "tpot_p99_s": round(summary.tpot_p99_s, 4),
            "slo_attainment": round(summary.slo_attainment, 4),
            "gpu_hours": round(summary.gpu_hours, 2),
        },
        "python": sys.version.split()[0],
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
