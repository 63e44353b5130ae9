"""Queueing theory as ground truth for the simulator.

Fast checks (in ``make test``):

1. *path-wise*: on one sample of Poisson arrivals, the simulator's FIFO waits equal those of the
   textbook recursions — Kiefer–Wolfowitz for c servers, Lindley for one — to 1e-6 s;
2. *distributional*: those recursions, over 4 seeds × 500k jobs at utilization 0.5 and 0.7,
   give mean waits within 3 % of Erlang C (c = 4) and Pollaczek–Khinchine (lognormal σ = 1).
   The standard error of the 4-seed mean is ≈ 0.5 % there, so 3 % is a 6-sigma bound.

Together: the simulated mean wait matches the formulas. The ``slow`` tests run the simulator
itself on long traces at utilization 0.5–0.9 (several seeds) and assert the 3 % directly.
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.jobsim import simulate
from suanli.simulation.theory import erlang_c, erlang_c_wait, pollaczek_khinchine_wait

MEAN_SERVICE = 100.0
SIGMA = 1.0  # lognormal shape for M/G/1: E[S²] = e^{σ²} E[S]²  (coefficient of variation 1.31)


def mmc_sample(rho: float, c: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lam = rho * c / MEAN_SERVICE
    return np.cumsum(rng.exponential(1 / lam, n)), rng.exponential(MEAN_SERVICE, n)


def mg1_sample(rho: float, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lam = rho / MEAN_SERVICE
    mu_log = math.log(MEAN_SERVICE) - SIGMA**2 / 2
    return np.cumsum(rng.exponential(1 / lam, n)), rng.lognormal(mu_log, SIGMA, n)


def kiefer_wolfowitz(submit: np.ndarray, duration: np.ndarray, c: int) -> np.ndarray:
    free = [float(submit[0])] * c
    wait = np.empty(submit.shape[0])
    for i, (t, d) in enumerate(zip(submit.tolist(), duration.tolist(), strict=True)):
        start = max(heapq.heappop(free), t)
        wait[i] = start - t
        heapq.heappush(free, start + d)
    return wait


def simulated_waits(submit: np.ndarray, duration: np.ndarray, c: int) -> np.ndarray:
    jobs = JobTable.build(submit, duration, np.ones(submit.shape[0], dtype=np.int64))
    result = simulate(jobs, ClusterSpec.uniform(1, c), make_policy("fifo"))
    return result.first_start - submit


def mg1_theory(rho: float) -> float:
    second = math.exp(SIGMA**2) * MEAN_SERVICE**2
    return pollaczek_khinchine_wait(rho / MEAN_SERVICE, MEAN_SERVICE, second)


def test_erlang_c_matches_a_published_value() -> None:
    # Erlang C tables (e.g. Kleinrock, Vol. 1): c = 2, a = 1 Erlang -> P(wait) = 1/3.
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3, rel=1e-12)
    # M/M/1 reduces to rho/(mu - lambda).
    assert erlang_c_wait(1, 0.5, 1.0) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_simulator_equals_the_recursions_path_by_path(rho: float) -> None:
    submit, duration = mmc_sample(rho, 4, 20_000, seed=11)
    assert np.allclose(
        simulated_waits(submit, duration, 4), kiefer_wolfowitz(submit, duration, 4), atol=1e-6
    )
    submit, duration = mg1_sample(rho, 20_000, seed=12)
    assert np.allclose(
        simulated_waits(submit, duration, 1), kiefer_wolfowitz(submit, duration, 1), atol=1e-6
    )


@pytest.mark.parametrize("rho", [0.5, 0.7])
def test_recursions_match_erlang_c_and_pollaczek_khinchine(rho: float) -> None:
    c, n, seeds = 4, 500_000, range(4)
    mmc = np.mean([kiefer_wolfowitz(*mmc_sample(rho, c, n, s), c)[n // 50 :].mean() for s in seeds])
    lam = rho * c / MEAN_SERVICE
    assert mmc == pytest.approx(erlang_c_wait(c, lam, 1 / MEAN_SERVICE), rel=0.03)
    mg1 = np.mean([kiefer_wolfowitz(*mg1_sample(rho, n, s), 1)[n // 50 :].mean() for s in seeds])
    assert mg1 == pytest.approx(mg1_theory(rho), rel=0.03)


# Long runs of the simulator itself. Jobs per seed grow with 1/(1-rho)^2 so that the standard
# error of the 4-seed mean stays near 1 %.
LONG = [(0.5, 600_000), (0.7, 1_000_000), (0.9, 3_000_000)]


@pytest.mark.slow
@pytest.mark.parametrize(("rho", "n"), LONG)
def test_simulated_mmc_wait_matches_erlang_c(rho: float, n: int) -> None:
    c = 4
    waits = [simulated_waits(*mmc_sample(rho, c, n, s), c)[n // 50 :].mean() for s in range(4)]
    lam = rho * c / MEAN_SERVICE
    assert float(np.mean(waits)) == pytest.approx(erlang_c_wait(c, lam, 1 / MEAN_SERVICE), rel=0.03)


@pytest.mark.slow
@pytest.mark.parametrize(("rho", "n"), LONG)
def test_simulated_mg1_fifo_wait_matches_pollaczek_khinchine(rho: float, n: int) -> None:
    waits = [simulated_waits(*mg1_sample(rho, n, s), 1)[n // 50 :].mean() for s in range(4)]
    assert float(np.mean(waits)) == pytest.approx(mg1_theory(rho), rel=0.03)
