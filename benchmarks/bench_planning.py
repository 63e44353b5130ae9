"""Benchmark: a purchase plan over 3 SKUs x 24 months x 1,000 scenarios on one core.

Prints one JSON object. Figures (the bundled ``h800-expansion`` planning file, CVaR limit):

- ``sample_seconds``: drawing the 1,000 scenarios and their order costs;
- ``milp_seconds``: the MILP under the file's risk limit (integer orders), what `suanli plan
  purchase` solves per frontier point; target < 30 s; ``milp_cpu_seconds`` is the CPU time of
  the process over the same solve (all threads), the figure that does not depend on how many
  other jobs share the machine;
- ``milp_unconstrained_seconds``: the same without a risk limit;
- ``lp_relaxation_seconds``: the same-run baseline, the CVaR problem with integrality dropped;
  ``milp_over_lp`` is the price of integer orders;
- ``oos_eval_seconds``: re-evaluating the plan on ``--oos`` fresh scenarios (numpy);
- ``p_loss_ranking_seconds``: a P(loss) <= 10 % limit by the fix-the-losers heuristic (what
  ``p_loss_method = "auto"`` uses above 100 scenarios), all its rounds;
- ``p_loss_cvar_bound_seconds``: the same limit through its conservative CVaR stand-in;
- ``--p-loss``: also the exact P(loss) chance constraint (one binary per scenario), with the
  file's time limit; reported, not targeted (docs/economics.md: it is the slow formulation).

Plans are valued on the file's ``[taxes] basis`` (after tax by default: the MILP carries the
after-tax linear coefficients, the out-of-sample figures are the economics engine's);
``--pre-tax`` runs the same benchmark on the pre-tax valuation, the same-run baseline of what
the after-tax valuation costs.

Usage: ``.venv/bin/python benchmarks/bench_planning.py [--scenarios 1000] [--p-loss] [--pre-tax]``.
Threads are pinned to one before numpy loads.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402

from suanli.economics.planning import default_spec  # noqa: E402
from suanli.economics.planning.model import Limit, solve  # noqa: E402
from suanli.economics.planning.planner import batch, limit_of, outcome  # noqa: E402

TARGET_SECONDS = 30.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenarios", type=int, default=1000)
    ap.add_argument("--oos", type=int, default=5000)
    ap.add_argument("--p-loss", action="store_true")
    ap.add_argument("--pre-tax", action="store_true")
    args = ap.parse_args()
    spec = default_spec()
    if args.pre_tax:
        spec = spec.model_copy(update={"taxes": spec.taxes.model_copy(update={"basis": "pre_tax"})})
    started = time.perf_counter()
    ins = batch(spec, args.scenarios, spec.solver.seed)
    sample_s = time.perf_counter() - started
    oos = batch(spec, args.oos, spec.solver.oos_seed)
    limit = limit_of(spec)
    cpu = time.process_time()
    milp = solve(spec, ins.scenarios, ins.costs, limit)
    milp_cpu = time.process_time() - cpu
    free = solve(spec, ins.scenarios, ins.costs, Limit("none", 0.0))
    lp = solve(spec, ins.scenarios, ins.costs, limit, relax=True)
    started = time.perf_counter()
    plan = outcome(spec, "chosen", limit.value, milp.orders, ins, oos)
    eval_s = time.perf_counter() - started
    out = {
        "benchmark": "plan purchase, 3 SKUs x 24 months",
        "skus": len(spec.sku),
        "decision_months": spec.decision_months,
        "horizon_months": spec.horizon_months,
        "scenarios": args.scenarios,
        "valuation": spec.taxes.basis,
        "risk": {"measure": limit.measure, "limit": limit.value},
        "sample_seconds": round(sample_s, 3),
        "milp_seconds": round(milp.seconds, 3),
        "milp_cpu_seconds": round(milp_cpu, 3),
        "milp_status": milp.status,
        "milp_unconstrained_seconds": round(free.seconds, 3),
        "lp_relaxation_seconds": round(lp.seconds, 3),
        "milp_over_lp": round(milp.seconds / lp.seconds, 2),
        "lp_bound_gap": round((lp.objective - milp.objective) / max(abs(lp.objective), 1.0), 5),
        "oos_scenarios": args.oos,
        "oos_eval_seconds": round(eval_s, 3),
        "plan_servers": plan.servers,
        "expected_npv_in_sample": round(plan.in_sample.expected_npv),
        "expected_npv_out_of_sample": round(plan.out_of_sample.expected_npv),
        "target_seconds": TARGET_SECONDS,
        "meets_target": sample_s + milp.seconds < TARGET_SECONDS,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    beta = Limit("p_loss", spec.risk.max_p_loss)
    for method in ("ranking", "cvar_bound", *(("exact",) if args.p_loss else ())):
        sp = spec.model_copy(
            update={"solver": spec.solver.model_copy(update={"p_loss_method": method})}
        )
        sol = solve(sp, ins.scenarios, ins.costs, beta)
        out[f"p_loss_{method}_seconds"] = round(sol.seconds, 3)
        out[f"p_loss_{method}_status"] = sol.status
    if args.p_loss:
        out["p_loss_exact_time_limit_s"] = spec.solver.time_limit_s
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
