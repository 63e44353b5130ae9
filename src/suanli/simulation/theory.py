"""Closed-form queueing results used as ground truth for the simulator.

* **Erlang C** (M/M/c): Poisson arrivals at rate λ, exponential service at rate μ per server,
  c servers, FCFS. Probability of waiting ``C(c, a)`` with offered load ``a = λ/μ``; mean wait
  ``W_q = C(c, a) / (cμ − λ)``.
* **Pollaczek–Khinchine** (M/G/1): mean wait ``W_q = λ E[S²] / (2 (1 − ρ))`` with ``ρ = λ E[S]``.

Both require ``ρ < 1``; otherwise :class:`~suanli.core.errors.ValidationError`.
"""

from __future__ import annotations

from suanli.core.errors import ValidationError


def erlang_c(servers: int, offered: float) -> float:
    """Probability that an arrival waits in M/M/c (``offered`` = λ/μ Erlangs)."""
    if servers < 1:
        raise ValidationError("theory.invalid", "need at least one server", {"servers": ">= 1"})
    rho = offered / servers
    if not 0 <= rho < 1:
        raise ValidationError("theory.unstable", "utilization must be below 1", {"offered": "< c"})
    # Erlang B by the stable recursion, then C from B.
    b = 1.0
    for k in range(1, servers + 1):
        b = offered * b / (k + offered * b)
    return b / (1.0 - rho * (1.0 - b))


def erlang_c_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue of M/M/c."""
    c = erlang_c(servers, arrival_rate / service_rate)
    return c / (servers * service_rate - arrival_rate)


def pollaczek_khinchine_wait(
    arrival_rate: float, mean_service: float, second_moment: float
) -> float:
    """Mean time in queue of M/G/1 given E[S] and E[S²]."""
    rho = arrival_rate * mean_service
    if not 0 <= rho < 1:
        raise ValidationError("theory.unstable", "utilization must be below 1", {"rho": "< 1"})
    return arrival_rate * second_moment / (2.0 * (1.0 - rho))
