"""Purchase planning: hand-checkable instances, the MILP agreeing with the evaluator,
determinism, the baselines and delivery risk from procurement history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.core.procurement import Delivery, OrderLine, PurchaseOrder
from suanli.economics.planning import default_spec, parse_spec, plan_purchase, spec_from_mapping
from suanli.economics.planning.history import delivery_history, with_history
from suanli.economics.planning.model import Limit, solve
from suanli.economics.planning.planner import batch, buy_everything_now, time_share
from suanli.economics.planning.valuation import financing_factor, plan_npv


def small(**over: Any) -> dict[str, Any]:
    """One SKU at 100 a server, no discounting, a 12-month horizon, one order month, lead 0,
    no opex, no end value: a server sold all 12 months at 20 earns 240 and nets +140; unsold
    it nets -100. Valued pre-tax (the after-tax valuation is tested in
    test_planning_after_tax.py)."""
    data: dict[str, Any] = {
        "name": "small",
        "decision_months": 1,
        "horizon_months": 12,
        "discount_rate_annual": 0.0,
        "demand": {"base_units": 5, "rent_per_unit_month": 20},
        "sku": [
            {
                "name": "A",
                "unit_price": 100,
                "lead_time_months": 0,
                "deposit_pct": 0.0,
                "useful_life_months": 12,
                "salvage_pct": 0.0,
            }
        ],
        "solver": {"scenarios": 40, "oos_scenarios": 200, "mip_rel_gap": 0.0},
        "taxes": {"basis": "pre_tax"},
    }
    for key, value in over.items():
        data[key] = value
    return data


def test_deterministic_demand_buys_exactly_the_gap() -> None:
    """Demand 5 units, existing 0: 5 servers earn 5 x (240 - 100) = 700; a 6th would earn
    nothing and lose 100. The plan is 5 servers in month 0, NPV 700 in every scenario."""
    plan = plan_purchase(spec_from_mapping(small()))
    assert [(o.sku, o.month, o.count) for o in plan.chosen.orders] == [("A", 0, 5)]
    assert plan.chosen.in_sample.expected_npv == pytest.approx(700.0)
    assert plan.chosen.out_of_sample.p_loss == 0.0
    assert plan.buy_nothing.out_of_sample.expected_npv == 0.0
    # buy everything now covers the largest expected gap (5) in month 0: the same plan here
    assert plan.buy_now.servers == 5


def test_existing_capacity_serves_first() -> None:
    """Demand 5, 3 units in service: only 2 more servers pay (2 x 140 = 280)."""
    plan = plan_purchase(spec_from_mapping(small(existing_units=3)))
    assert plan.chosen.servers == 2
    assert plan.chosen.in_sample.expected_npv == pytest.approx(280.0)


def coin_flip() -> dict[str, Any]:
    """A lease of 10 units at 20 for 12 months, won with probability 0.5: per server +140 if
    won, -100 if lost. Expected +20 a server at the sample's win share near 0.5, so without a
    limit buy 10. Every lost scenario loses on any purchase, so P(loss) = share lost (~0.5):
    a limit of 0.3 allows nothing. CVaR 5 % of n servers is -100 n (the worst 5 % are all
    lost): a CVaR loss limit of 350 allows 3 servers."""
    lease = {
        "customer": "c",
        "units": 10,
        "start_month": 0,
        "term_months": 12,
        "probability": 0.5,
        "rent_per_unit_month": 20,
    }
    return small(demand={"pipeline": [lease]}, solver={"scenarios": 200, "mip_rel_gap": 0.0})


def test_coin_flip_risk_limits() -> None:
    spec = spec_from_mapping(coin_flip())
    ins = batch(spec, spec.solver.scenarios, spec.solver.seed)
    won = float(np.mean(ins.scenarios.width.sum(axis=2)[:, 0] > 0))
    assert 0.42 < won < 0.6  # the seeded sample: buying pays in expectation
    free = solve(spec, ins.scenarios, ins.costs, Limit("none", 0.0))
    assert free.orders.sum() == 10
    assert free.objective == pytest.approx(10 * (240 * won - 100))
    assert solve(spec, ins.scenarios, ins.costs, Limit("p_loss", 0.3)).orders.sum() == 0
    assert solve(spec, ins.scenarios, ins.costs, Limit("p_loss", 0.9)).orders.sum() == 10
    assert solve(spec, ins.scenarios, ins.costs, Limit("cvar", 350.0)).orders.sum() == 3


def test_milp_objective_equals_the_evaluator() -> None:
    """The MILP's mean NPV is plan_npv's mean on the same scenarios (same arithmetic)."""
    spec = default_spec()
    ins = batch(spec, 60, 0)
    for limit in (Limit("none", 0.0), Limit("cvar", 10e6)):
        sol = solve(spec, ins.scenarios, ins.costs, limit)
        npv = plan_npv(spec, ins.scenarios, sol.orders, ins.costs)
        # HiGHS feasibility tolerances are absolute on the scaled program: a few currency units
        assert sol.objective == pytest.approx(float(npv.mean()), rel=1e-5, abs=1.0)
        if limit.measure == "cvar":
            worst = np.sort(npv)[: int(np.ceil(0.05 * npv.size))]
            assert worst.mean() >= -10e6 - 1.0


def test_plan_is_deterministic() -> None:
    spec = spec_from_mapping(
        {
            **default_spec().model_dump(mode="python"),
            "solver": {"scenarios": 30, "oos_scenarios": 300},
        }
    )
    a, b = plan_purchase(spec).to_dict(), plan_purchase(spec).to_dict()
    for d in (a, b):
        for p in (d["chosen"], d["unconstrained"], *d["frontier"]):
            p.pop("seconds")
    assert a == b


def test_delivery_delay_and_shortfall_cost() -> None:
    """A certain 3-month delay: a server earns 9 months (180) instead of 12 and is 9 months
    into its 12-month life at the horizon: book 25 % of 100, resold at 50 % of book = 12.5.
    NPV of 5 servers = 5 x (180 - 100 + 12.5) = 462.5. A 20 % shortfall with no deposit costs
    nothing for the missing share but sells only 0.8 a server."""
    data = small()
    data["sku"][0]["delivery"] = {"delay_months": {"dist": "fixed", "value": 3}}
    spec = spec_from_mapping(data)
    ins = batch(spec, 10, 0)
    x = np.array([[5.0]])
    assert plan_npv(spec, ins.scenarios, x).mean() == pytest.approx(462.5)
    data["sku"][0]["delivery"] = {"shortfall": {"dist": "fixed", "value": 0.2}}
    spec = spec_from_mapping(data)
    ins = batch(spec, 10, 0)
    # 5 ordered, 4 arrive, all 4 sold: 4 x 240 - 4 x 100 (only the delivered share is paid)
    assert plan_npv(spec, ins.scenarios, x).mean() == pytest.approx(560.0)


def test_financing_factor() -> None:
    """A loan at the discount rate is worth nothing; a free loan of half repaid over 12 months
    discounted at 12 %/year saves 0.5 x (1 - mean discount factor of months 1..12)."""
    spec = default_spec()
    same = spec.financing.model_copy(
        update={"rate_annual": 0.0, "loan_share": 0.5, "term_months": 12}
    )
    pv = float(np.mean(1.12 ** (-np.arange(1, 13) / 12)))
    assert financing_factor(same, 0.12) == pytest.approx(1 - 0.5 * (1 - pv))
    assert financing_factor(spec.financing.model_copy(update={"loan_share": 0.0}), 0.1) == 1.0


def test_buy_everything_now_respects_budget() -> None:
    spec = default_spec()
    ins = batch(spec, 50, 0)
    x = buy_everything_now(spec, ins)
    assert x[:, 1:].sum() == 0 and x.sum() > 0


def test_invalid_spec_names_field() -> None:
    data = small()
    data["sku"][0]["unit_price"] = -1
    with pytest.raises(ValidationError) as exc:
        spec_from_mapping(data)
    assert exc.value.code == "planning.invalid"
    assert "sku.0.unit_price" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        parse_spec("not = [toml")
    assert exc.value.code == "planning.syntax"


def test_delivery_history_from_orders() -> None:
    """Line 1: 10 ordered 2026-01-01, promised 2026-04-01 (lead 2.96 -> 3 months), last
    delivery 2026-05-01 (30 days late = 0.986 month), none cancelled. Line 2: 10 promised
    2026-04-01, 6 delivered on time, 4 cancelled (shortfall 0.4). Line 3 is still open:
    ignored."""
    lines = (
        OrderLine(1, "HGX-H800-8", 10, Decimal(1), date(2026, 4, 1), 10, 0, None),
        OrderLine(2, "HGX-H800-8", 10, Decimal(1), date(2026, 4, 1), 6, 4, "short"),
        OrderLine(3, "HGX-H800-8", 10, Decimal(1), date(2026, 4, 1), 2, 0, None),
    )
    po = PurchaseOrder(1, "PO-1", "s", date(2026, 1, 1), "CNY", None, lines)
    at = date(2026, 1, 1)
    deliveries = [
        Delivery("PO-1", 1, "a", date(2026, 3, 20), "x", at),  # type: ignore[arg-type]
        Delivery("PO-1", 1, "b", date(2026, 5, 1), "x", at),  # type: ignore[arg-type]
        Delivery("PO-1", 2, "c", date(2026, 4, 1), "x", at),  # type: ignore[arg-type]
    ]
    hist = delivery_history([po], deliveries)["HGX-H800-8"]
    assert hist.lines == 2 and hist.lead_time_months == 3
    assert hist.delay_months[0] == pytest.approx(30 / (365.25 / 12), abs=1e-3)
    assert hist.delay_months[1:] == (0.0,)
    assert hist.shortfall == (0.0, 0.4)
    spec = with_history(default_spec(), {"HGX-H800-8": hist})
    h800 = spec.sku[0]
    assert h800.lead_time_months == 3 and h800.delivery.shortfall == [0.0, 0.4]
    assert spec.sku[1] == default_spec().sku[1]


def test_p_loss_cvar_bound_is_conservative() -> None:
    """CVaR_beta(NPV) >= 0 implies P(loss) <= beta: every plan meets its limit in sample. On
    the coin flip any purchase loses in the ~50 % lost scenarios, so beta = 0.3 buys nothing
    (as the exact constraint does) and beta = 1 (no limit) buys the 10 servers."""
    data = coin_flip()
    data["solver"]["p_loss_method"] = "cvar_bound"
    spec = spec_from_mapping(data)
    ins = batch(spec, spec.solver.scenarios, spec.solver.seed)
    for beta in (0.0, 0.3, 0.5, 0.9, 1.0):
        sol = solve(spec, ins.scenarios, ins.costs, Limit("p_loss", beta))
        npv = plan_npv(spec, ins.scenarios, sol.orders, ins.costs)
        assert float(np.mean(npv < 0)) <= beta
    assert solve(spec, ins.scenarios, ins.costs, Limit("p_loss", 0.3)).orders.sum() == 0
    assert solve(spec, ins.scenarios, ins.costs, Limit("p_loss", 1.0)).orders.sum() == 10


def test_p_loss_ranking_meets_the_limit_and_matches_exact_on_the_coin_flip() -> None:
    """The fix-the-losers heuristic keeps P(loss) <= beta in sample; on the coin flip (any
    purchase loses in every lost scenario) it finds what the exact MILP finds."""
    data = coin_flip()
    exact = spec_from_mapping({**data, "solver": {**data["solver"], "p_loss_method": "exact"}})
    ranked = spec_from_mapping({**data, "solver": {**data["solver"], "p_loss_method": "ranking"}})
    ins = batch(exact, exact.solver.scenarios, exact.solver.seed)
    for beta in (0.0, 0.3, 0.6, 1.0):
        a = solve(exact, ins.scenarios, ins.costs, Limit("p_loss", beta))
        b = solve(ranked, ins.scenarios, ins.costs, Limit("p_loss", beta))
        npv = plan_npv(ranked, ins.scenarios, b.orders, ins.costs)
        assert float(np.mean(npv < 0)) <= beta
        assert b.orders.sum() == a.orders.sum()


def test_budgets_cap_the_plan() -> None:
    """Demand 5 at 100 a server. A total budget of 300 buys 3 (month 0). A monthly budget of
    250 buys 2 + 2 + 1 over three months: a server ordered in month 1 still earns 11 x 20 =
    220 > 100 (plus its resale at the horizon), one in month 2 earns 200."""
    total = plan_purchase(spec_from_mapping(small(budget={"total": 300})))
    assert [(o.month, o.count) for o in total.chosen.orders] == [(0, 3)]
    monthly = plan_purchase(spec_from_mapping(small(decision_months=3, budget={"per_month": 250})))
    assert [(o.month, o.count) for o in monthly.chosen.orders] == [(0, 2), (1, 2), (2, 1)]
    assert monthly.chosen.capex == pytest.approx(500.0)


def test_the_plans_milps_share_the_solver_time_limit() -> None:
    """``solver.time_limit_s`` is the whole plan's budget: the unconstrained plan, the chosen
    one and the 12-point frontier share it, each getting an even share of what is left (where
    each used to get the full limit). Checked on the sharing rule with solves that take their
    whole share, run over it or finish early, not on wall time (which a loaded machine
    stretches)."""
    runs, limit = 14, 1.0
    for overshoot in (0.0, 0.02, -0.5):
        spent, given = 0.0, []
        for index in range(runs):
            share = time_share(limit, spent, runs - index)
            given.append(share)
            spent += max(share + overshoot * share, 0.0)
        assert given[0] == pytest.approx(limit / runs)
        assert spent <= limit * (1 + max(overshoot, 0.0)) + 1e-12  # the plan keeps its budget
        if overshoot < 0:  # time a quick solve leaves over goes to the later ones
            assert given[-1] > given[0]
    assert time_share(1.0, 3.0, 2) == 0.0
    spec = default_spec()
    risk = spec.risk.model_copy(update={"frontier": [i / 20 for i in range(12)]})
    solver = spec.solver.model_copy(update={"time_limit_s": 1.0, "oos_scenarios": 200})
    plan = plan_purchase(spec.model_copy(update={"risk": risk, "solver": solver}))
    found = [plan.unconstrained, plan.chosen, *plan.frontier]
    assert len(found) == runs
    assert {r.status for r in found} <= {"optimal", "time_limit", "failed", "heuristic"}
