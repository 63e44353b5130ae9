"""The digital twin's lease book and its hand-off to the economics engine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from suanli.core.errors import NotFoundError, ValidationError
from suanli.economics.evaluate import evaluate
from suanli.economics.library import bundled_document
from suanli.economics.loader import merge, scenario_from_mapping
from suanli.simulation.twin.library import load_twin, twin_from_mapping, twin_names
from suanli.simulation.twin.run import run_twin

BASE = "h800-bare-metal-2p1m"
NO_RAMP = {"ramp_months": 0, "initial_occupancy": 0.0}


def _econ(overrides: dict[str, Any]) -> dict[str, Any]:
    doc = bundled_document(BASE)
    doc.pop("montecarlo", None)
    return merge(doc, overrides)


def _pair(overrides: dict[str, Any], twin: dict[str, Any]) -> tuple[Any, Any]:
    econ = _econ(overrides)
    return scenario_from_mapping(econ), twin_from_mapping({**econ, "twin": twin})


COSTS = [
    {},
    {
        "opex": {"power_price_kwh": 0.8, "staff_per_month": 300_000},
        "capex": {"network_install_pct": 0.1},
    },
    {
        "financing": {"loan_share": 0.6, "rate_annual": 0.06, "term_months": 36},
        "cash_flow_basis": "equity",
    },
    {"taxes": {"prices_include_vat": False}, "opex": {"cabinet_fee": 9_000}},
]


@pytest.mark.parametrize("occupancy", [0.3, 0.5, 0.8])
@pytest.mark.parametrize("costs", COSTS, ids=["base", "costly", "loan", "net-prices"])
def test_constant_book_matches_economics_engine(occupancy: float, costs: dict[str, Any]) -> None:
    """A book that lets ``occupancy × 100`` servers for the whole horizon is the economics
    engine's deterministic case at that occupancy: same NPV, IRR and payback (1e-9 relative).
    Rent 113,000 quoted with 13 % VAT is 100,000.00 net, so no cent is rounded away."""
    form = {"form": {**NO_RAMP, "occupancy": occupancy, "rent_per_server_month": 113_000}}
    servers = round(occupancy * 100)
    econ, twin = _pair(
        merge(costs, form),
        {"book": [{"start_month": 1, "servers": servers, "term_months": 60}]},
    )
    expected = evaluate(econ, with_breakeven=False)
    got = run_twin(twin).paths[0].metrics
    assert got.npv == pytest.approx(expected.npv, rel=1e-9)
    assert got.total_revenue == pytest.approx(expected.total_revenue, rel=1e-9)
    for name in ("irr_annual", "static_payback_months", "dynamic_payback_months"):
        want = getattr(expected, name)
        assert getattr(got, name) == (None if want is None else pytest.approx(want, rel=1e-9))


def test_monthly_repricing_matches_economics_price_decline() -> None:
    """One-month leases that always renew at the asked rent follow the market path exactly as
    the engine's ``contract_months = 1``. Each month's rent is rounded to the cent (the ledger
    stores cents), hence 1e-6 here rather than 1e-9."""
    form = {
        "form": {**NO_RAMP, "occupancy": 0.5, "contract_months": 1, "price_decline_annual": 0.3}
    }
    econ, twin = _pair(
        form,
        {
            "prices": {"decline_annual": 0.3},
            "leases": {
                "renewal_probability": 1.0,
                "willingness_to_pay": {"dist": "fixed", "value": 10.0},
            },
            "book": [{"start_month": 1, "servers": 50, "term_months": 1}],
        },
    )
    expected = evaluate(econ, with_breakeven=False)
    run = run_twin(twin)
    assert run.paths[0].metrics.npv == pytest.approx(expected.npv, rel=1e-6)
    assert [m.leased_servers for m in run.paths[0].book.months[1:]] == [50] * 60


def test_servers_earn_from_the_month_after_delivery_and_capacity_bounds_the_book() -> None:
    _, twin = _pair(
        {"fleet": {"delivery": [{"month": 0, "count": 40}, {"month": 5, "count": 60}]}},
        {
            "book": [
                {"start_month": 1, "servers": 40, "term_months": 60},
                {"start_month": 3, "servers": 1, "term_months": 60},  # nothing free: lost
                {"start_month": 6, "servers": 60, "term_months": 60},
            ]
        },
    )
    months = run_twin(twin).paths[0].book.months
    assert [m.active_servers for m in months[:7]] == [0, 40, 40, 40, 40, 40, 100]
    assert months[3].lost_capacity == 1
    assert months[6].leased_servers == 100


def test_same_seed_same_book_other_seed_other_book() -> None:
    sc = load_twin("fragmented-demand")
    a, b, c = run_twin(sc, seed=7), run_twin(sc, seed=7), run_twin(sc, seed=8)
    assert a.monthly() == b.monthly()
    assert a.monthly() != c.monthly()


def _signed(asked: float) -> int:
    _, twin = _pair(
        {},
        {
            "prices": {"rent_per_server_month": asked},
            "leases": {
                "arrival_rate_per_month": 2,
                "sizes": {"values": [1], "weights": [1]},
                "terms": {"values": [1], "weights": [1]},
                "willingness_to_pay": {"dist": "uniform", "low": 0.7, "high": 1.3},
            },
        },
    )
    return sum(m.signed for m in run_twin(twin, seed=3).paths[0].book.months)


def test_asking_above_the_market_loses_requests() -> None:
    """Same requests (same seed, capacity never binding): a higher asked rent never signs more."""
    counts = [_signed(r) for r in (70_000, 100_000, 120_000, 140_000)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


def _credits(sla: float) -> Decimal:
    _, twin = _pair(
        {},
        {
            "book": [{"start_month": 1, "servers": 80, "term_months": 60}],
            "failures": {"rate_per_1000_node_days": 20.0, "sla_uptime": sla},
        },
    )
    return sum((m.sla_credits for m in run_twin(twin, seed=5).paths[0].book.months), Decimal(0))


def test_sla_credits_grow_with_the_promised_uptime() -> None:
    """Same outages (the failure stream is independent of the SLA): a stricter promise credits
    at least as much; credits are negative and never exceed the rent."""
    loose, strict = _credits(0.95), _credits(0.999)
    assert strict <= loose <= 0
    assert strict < 0
    assert -strict < Decimal(80 * 100_000 * 60)


def test_delivery_shortfall_cuts_servers_and_capex() -> None:
    _, twin = _pair({}, {"delivery": {"shortfall": {"dist": "fixed", "value": 0.88}}})
    path = run_twin(twin).paths[0]
    assert sum(d.count for d in path.book.schedule) == 12
    assert path.metrics.total_capex == pytest.approx(12 * 2_100_000 * 1.02)


def test_bundled_twins_load_and_run() -> None:
    assert {"fragmented-demand", "long-contracts", "supply-shock"} <= set(twin_names())
    summary = run_twin(load_twin("long-contracts"), paths=3).summary()
    assert summary["paths"] == 3
    assert 0.0 <= summary["probability_of_loss"] <= 1.0


def test_bad_scenarios_name_the_field() -> None:
    with pytest.raises(ValidationError) as exc:
        twin_from_mapping({**_econ({}), "twin": {"leases": {"renewal_probability": 2}}})
    assert exc.value.code == "twin.invalid"
    assert "twin.leases.renewal_probability" in exc.value.fields
    with pytest.raises(ValidationError) as exc:
        twin_from_mapping({**bundled_document("compare-computing-center"), "twin": {}})
    assert exc.value.code == "twin.invalid"
    with pytest.raises(NotFoundError):
        load_twin("no-such-twin")
