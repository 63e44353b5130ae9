"""The twin's cloud pool: the live scheduling cycle, month accounting, pricing and hand-off."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import pytest

from suanli.core.billing import add_months, month_of
from suanli.core.errors import ValidationError
from suanli.economics.plan import build_plan
from suanli.scheduling.jobs.model import ClusterSpec
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.jobsim import simulate
from suanli.simulation.twin.economics import project_book, realised_scenario
from suanli.simulation.twin.leasebook import simulate_book
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.pool import (
    PoolPrices,
    allocated_between,
    pool_workload,
    simulate_pool,
)
from suanli.simulation.twin.scenario import Pool

START = date(2024, 1, 1)
CENT = Decimal("0.01")


def _periods(months: int) -> list[Any]:
    return [month_of(add_months(START, t)) for t in range(months + 1)]


def _prices(months: int, standard: str = "14.15", spot: str = "7.08") -> list[PoolPrices]:
    return [PoolPrices(Decimal(standard), Decimal(spot), Decimal("0.06"))] * (months + 1)


SPEC = Pool(servers=6, load=0.6, job_gpu_scale=2, spot_share=0.3, window_days=7)


def test_allocated_between_integrates_the_step_function() -> None:
    """Allocation 0 → 8 GPUs at t=10 → 4 at t=30 → 0 at t=50: [0,20) holds 80, [20,40) holds
    8×10 + 4×10 = 120, [40,60) holds 40 GPU-seconds."""

    class Result:
        alloc_times = np.array([10.0, 30.0, 50.0])
        alloc_gpus = np.array([8.0, 4.0, 0.0])

    got = allocated_between(Result(), np.array([0.0, 20.0, 40.0, 60.0]))  # type: ignore[arg-type]
    assert got.tolist() == [80.0, 120.0, 40.0]


def test_pool_runs_the_job_simulator_unchanged() -> None:
    """The pool's month figures are the job simulator's own allocation on the pool's jobs:
    rerunning the same jobs through ``simulate`` (what ``suanli sim jobs`` calls) gives the same
    GPU-seconds per month, so scheduling inside the twin is the scheduler, not a model of it."""
    months = 4
    active = np.array([0] + [10] * months)
    rng = np.random.default_rng(11)
    workload = pool_workload(SPEC, active, _periods(months), rng)
    assert workload is not None and len(workload.jobs) > 50
    seed = int(rng.integers(2**31))
    direct = simulate(
        workload.jobs,
        ClusterSpec.uniform(workload.servers, SPEC.gpus_per_server),
        make_policy(SPEC.policy),
        seed=seed,
    )
    per_month = allocated_between(direct, workload.bounds)
    _, out = simulate_pool(
        SPEC, active, _periods(months), None, _prices(months), np.random.default_rng(11)
    )
    gpus = SPEC.servers * SPEC.gpus_per_server
    for t in range(1, months + 1):
        period = _periods(months)[t]
        assert out[t].utilization == pytest.approx(per_month[t - 1] / (gpus * period.seconds))
        billed = sum(out[t].gpu_seconds.values(), Decimal(0))
        assert abs(float(billed) - per_month[t - 1]) <= 1.0  # whole seconds per class


def test_month_is_priced_by_the_ledger_usage_rule() -> None:
    """Each class is one usage line: GPU-seconds × price / 3600, rounded to the cent once per
    line; VAT 6 % per line. E.g. 36,000 GPU-s at 14.15 = 10 h × 14.15 = 141.50 net, 8.49 VAT."""
    months = 3
    active = np.array([0] + [10] * months)
    _, out = simulate_pool(
        SPEC, active, _periods(months), None, _prices(months), np.random.default_rng(3)
    )
    price = {"standard": Decimal("14.15"), "spot": Decimal("7.08")}
    for month in out[1:]:
        assert set(month.gpu_seconds) == {"standard", "spot"}
        nets = {
            k: (s * price[k] / 3600).quantize(CENT, ROUND_HALF_UP)
            for k, s in month.gpu_seconds.items()
        }
        assert month.revenue == sum(nets.values())
        taxes = [(n * Decimal("0.06")).quantize(CENT, ROUND_HALF_UP) for n in nets.values()]
        assert month.vat == sum(taxes)


def test_offered_work_follows_the_load() -> None:
    """The jobs of a year offer ``load`` × the pool's GPU-seconds: 0.6 ± 0.08 averaged over 8
    seeds (a single year of heavy-tailed Philly jobs ranges 0.46-0.72 at load 0.6)."""
    months = 12
    spec = Pool(servers=10, load=0.6, job_gpu_scale=8)
    active = np.array([0] + [10] * months)
    ratios = []
    for seed in range(8):
        w = pool_workload(spec, active, _periods(months), np.random.default_rng(seed))
        assert w is not None
        work = float(np.dot(w.jobs.gpus.astype(np.float64), w.jobs.duration))
        ratios.append(work / (80 * (w.bounds[-1] - w.bounds[0])))
    assert abs(float(np.mean(ratios)) - 0.6) <= 0.08


def test_utilisation_never_exceeds_the_work_offered() -> None:
    """Starting empty, a pool cannot serve more GPU-seconds in a year than arrived in it."""
    months = 12
    spec = Pool(servers=10, load=0.6, job_gpu_scale=8)
    active = np.array([0] + [10] * months)
    w = pool_workload(spec, active, _periods(months), np.random.default_rng(5))
    assert w is not None
    offered = float(np.dot(w.jobs.gpus.astype(np.float64), w.jobs.duration))
    _, out = simulate_pool(
        spec, active, _periods(months), None, _prices(months), np.random.default_rng(5)
    )
    served = sum(float(sum(m.gpu_seconds.values(), Decimal(0))) for m in out)
    assert 0 < served <= offered + months  # + rounding to whole seconds per class
    assert all(0.0 <= m.utilization <= 1.0 for m in out)


def test_pool_waits_for_its_servers_and_is_capped_by_deliveries() -> None:
    """A pool of 50 when only 12 servers ever arrive (month 3) runs 12 servers from month 3."""
    months = 6
    active = np.array([0, 0, 0, 12, 12, 12, 12])
    pool, out = simulate_pool(
        Pool(servers=50, load=0.5, job_gpu_scale=8),
        active,
        _periods(months),
        None,
        _prices(months),
        np.random.default_rng(1),
    )
    assert pool.tolist() == [0, 0, 0, 12, 12, 12, 12]
    assert out[2].revenue == 0 and out[3].servers == 12


def test_leases_get_only_the_servers_outside_the_pool() -> None:
    sc = load_twin("static-mix", {"horizon_months": 12, "twin": {"pool": {"load": 0.3}}})
    book = simulate_book(sc, seed=2)
    for row in book.months[1:]:
        assert row.leased_servers <= row.active_servers - row.pool.servers
        assert row.pool.servers == 50


def test_economics_revenue_is_the_twin_bill_plus_lease_pass_through() -> None:
    """With a pool, the engine's revenue is still exactly what the twin billed, plus the
    pass-through fees of leased servers only (the pool's busy servers pay none)."""
    sc = load_twin(
        "static-mix",
        {"horizon_months": 12, "opex": {"cabinet_fee": 9_000}, "twin": {"pool": {"load": 0.5}}},
    )
    book = simulate_book(sc, seed=4)
    flows = project_book(sc.economics, book)
    plan = build_plan(realised_scenario(sc.economics, book.schedule))
    for t, row in enumerate(book.months):
        expected = float(row.billed) + row.leased_servers * plan.pass_through / plan.vat_divisor
        assert flows.revenue[0, t] == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_bad_pool_policy_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        load_twin("static-mix", {"twin": {"pool": {"policy": "lottery"}}})
    assert "twin.pool.policy" in str(info.value.fields)
