"""Benchmark: Monte Carlo of 100,000 paths x 120 months on one core, against a per-path loop.

Prints one JSON object. Figures:

- ``vectorised_seconds``: best of ``--repeat`` runs of :func:`run_montecarlo` (the engine).
- ``peak_rss_mb``: the process's peak resident set size (``resource.getrusage``), which
  includes the interpreter and libraries; ``peak_traced_mb``: peak of numpy/Python allocations
  during one run (``tracemalloc``, a separate run so tracing does not slow the timed ones).
- ``loop_*``: a plain Python loop over paths and months computing the same cash flows, run on
  ``--loop-paths`` paths with the *same draws* (the engine's first chunk) and scaled linearly to
  the full path count. ``max_npv_rel_diff`` checks that both give the same NPVs.

Usage: ``.venv/bin/python benchmarks/bench_economics.py [--paths 100000] [--months 120]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import time
import tracemalloc

import numpy as np

from suanli.economics.cashflow import Draws
from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import DEFAULT_CHUNK, _operating_chunk, run_montecarlo
from suanli.economics.plan import Plan, build_plan
from suanli.economics.scenario import MonteCarloSpec

TARGET_SECONDS = 2.0
TARGET_MB = 1024.0


def loop_npv(plan: Plan, draws: Draws, i: int) -> float:
    """NPV of path ``i`` with scalar Python arithmetic, month by month."""
    n = plan.months + 1
    level = float(draws.level[i, 0])
    delivered = float(draws.delivered[i, 0])
    bad_pct = float(draws.bad_debt_pct[i, 0])
    market = [float(v) for v in draws.price_factor[i]]
    length = plan.contract_months
    lag = plan.receivable_lag_months
    k = math.floor(lag)
    f = lag - k
    billed: list[float] = []
    cum_ebt = 0.0
    taxed = 0.0
    npv = 0.0
    credit = 0.0  # uncredited input VAT
    year_profit = 0.0
    losses: list[float] = []  # unused loss by fiscal year
    carry = plan.loss_carryforward_years
    d = 1.0 + plan.discount_monthly
    for t in range(n):
        active = plan.active_prop[t] * delivered
        occ = min(plan.ramp_a[t] + level * plan.ramp_b[t], plan.ceiling)
        occupied = active * occ
        if t == 0:
            price = 0.0
        else:
            lo = max(1, t - length + 1)
            price = sum(market[lo : t + 1]) / (t - lo + 1)
        revenue = occupied * (price * plan.unit_revenue + plan.pass_through) / plan.vat_divisor
        power = plan.power_full * (
            active * plan.idle_load_factor + occupied * (plan.load_factor - plan.idle_load_factor)
        )
        cabinet = active * plan.cabinet_per_server
        om = plan.prop.om[t] * delivered + plan.fixed.om[t]
        fixed = plan.fixed_monthly if t > 0 else 0.0
        bad = revenue * bad_pct
        ebitda = revenue - power - cabinet - om - fixed - bad
        dep = plan.prop.depreciation[t] * delivered + plan.fixed.depreciation[t]
        interest = plan.prop.interest[t] * delivered + plan.fixed.interest[t]
        output_vat = revenue * plan.output_vat_rate
        credit += plan.prop.input_vat[t] * delivered + plan.fixed.input_vat[t]
        used = min(credit, output_vat)
        credit -= used
        vat_paid = output_vat - used
        gain = plan.prop.gain_book[t] * delivered
        ebt = ebitda - dep - interest - vat_paid * plan.surcharge_rate + gain
        tax_dep = plan.prop.tax_depreciation[t] * delivered + plan.fixed.tax_depreciation[t]
        taxable = ebt + dep - tax_dep - gain + plan.prop.gain_tax[t] * delivered
        if carry is None:
            cum_ebt += taxable
            base = max(taxed, cum_ebt, 0.0)
            tax = (base - taxed) * plan.income_tax_rate
            taxed = base
        else:
            year_profit += taxable
            tax = 0.0
            if (t >= 12 and t % 12 == 0) or t == n - 1:
                remaining = max(year_profit, 0.0)
                window = losses[-carry:] if carry else []
                for j, loss in enumerate(window):
                    use = min(loss, remaining)
                    window[j] -= use
                    remaining -= use
                losses = losses[: len(losses) - len(window)] + window
                losses.append(max(-year_profit, 0.0))
                tax = remaining * plan.income_tax_rate
                year_profit = 0.0
        billed.append(revenue - bad)
        collected = 0.0
        if t - k >= 0:
            collected += (1.0 - f) * billed[t - k]
        if f > 0 and t - k - 1 >= 0:
            collected += f * billed[t - k - 1]
        if t == n - 1:
            collected = sum(billed) - sum(_collected_so_far(billed, k, f, n - 1))
        capex = plan.prop.capex[t] * delivered + plan.fixed.capex[t]
        fcf = ebt - tax + dep + (collected - (revenue - bad)) - capex
        fcf += output_vat - vat_paid + plan.prop.proceeds[t] * delivered - gain
        if plan.equity_basis:
            fcf += (plan.prop.loan_draw[t] - plan.prop.principal[t]) * delivered
        else:
            fcf += interest
        npv += fcf / d**t
    return npv


def _collected_so_far(billed: list[float], k: int, f: float, upto: int) -> list[float]:
    out = []
    for t in range(upto):
        c = (1.0 - f) * billed[t - k] if t - k >= 0 else 0.0
        if f > 0 and t - k - 1 >= 0:
            c += f * billed[t - k - 1]
        out.append(c)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="h800-bare-metal-2p1m")
    ap.add_argument("--paths", type=int, default=100_000)
    ap.add_argument("--months", type=int, default=120)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--loop-paths", type=int, default=200)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    sc = with_overrides(load_bundled(args.scenario), {"horizon_months": args.months})
    run_montecarlo(sc, 1000, args.seed)  # warm-up (imports, caches)
    times = []
    result = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = run_montecarlo(sc, args.paths, args.seed, chunk_size=args.chunk_size)
        times.append(time.perf_counter() - t0)
    assert result is not None
    vectorised = min(times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    tracemalloc.start()
    run_montecarlo(sc, args.paths, args.seed, chunk_size=args.chunk_size)
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    # Baseline: the same draws as the engine's first chunk, one path at a time in Python.
    plan = build_plan(sc)
    spec = sc.montecarlo or MonteCarloSpec()
    m = min(args.loop_paths, args.chunk_size, args.paths)
    draws = _operating_chunk(plan, spec, np.random.default_rng([args.seed, 0]), args.chunk_size)
    t0 = time.perf_counter()
    loop = [loop_npv(plan, draws, i) for i in range(m)]
    loop_measured = time.perf_counter() - t0
    loop_scaled = loop_measured * args.paths / m
    ref = result.npv[:m]
    rel = float(np.max(np.abs(np.array(loop) - ref) / np.maximum(np.abs(ref), 1.0)))

    print(
        json.dumps(
            {
                "benchmark": "economics.montecarlo",
                "scenario": args.scenario,
                "paths": args.paths,
                "months": args.months,
                "chunk_size": args.chunk_size,
                "seed": args.seed,
                "vectorised_seconds": round(vectorised, 4),
                "vectorised_runs_seconds": [round(t, 4) for t in times],
                "target_seconds": TARGET_SECONDS,
                "meets_time_target": vectorised < TARGET_SECONDS,
                "peak_rss_mb": round(rss_mb, 1),
                "peak_traced_mb": round(traced_mb, 1),
                "target_mb": TARGET_MB,
                "meets_memory_target": rss_mb < TARGET_MB,
                "loop_paths": m,
                "loop_seconds_measured": round(loop_measured, 4),
                "loop_seconds_scaled": round(loop_scaled, 2),
                "loop_note": f"plain Python loop run on {m} paths (same draws) and scaled x{args.paths / m:g}",
                "speedup_vs_loop": round(loop_scaled / vectorised, 1),
                "max_npv_rel_diff_loop_vs_vectorised": rel,
                "probability_of_loss": result.summary()["probability_of_loss"],
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cpu_count": os.cpu_count(),
                "pinned_cores": sorted(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else None,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
