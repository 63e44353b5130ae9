"""Investment metrics over cash-flow vectors: NPV, IRR, payback, margins, cost per GPU-hour.

Owns the definitions (docs/economics.md repeats them):

- **NPV** ``sum(cf[t] / (1 + r)^t)``, ``t = 0`` undiscounted (numpy-financial's convention).
- **IRR** the rate with NPV = 0. :func:`irr` returns an :class:`IrrResult` whose ``status`` is
  ``ok`` (one root), ``multiple`` (several: the one closest to zero is reported, as
  numpy-financial does), ``no_sign_change`` (all flows of one sign: no IRR exists) or
  ``no_root`` (sign changes but no real root above -100 %). Annualised as ``(1 + m)^12 - 1``.
- **Static payback** the first month from which cumulative cash flow stays >= 0 to the horizon,
  interpolated linearly inside the crossing month; **dynamic payback** the same on discounted
  cash flow. ``NaN`` (JSON null) when it never pays back within the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

IrrStatus = Literal["ok", "multiple", "no_sign_change", "no_root"]


@dataclass(frozen=True, slots=True)
class IrrResult:
    status: IrrStatus
    monthly: float | None
    annual: float | None
    roots: tuple[float, ...] = ()


def npv(rate: float, values: ArrayLike) -> float:
    cf = np.asarray(values, dtype=np.float64)
    return float(np.sum(cf / (1.0 + rate) ** np.arange(cf.size)))


def _sign_changes(cf: NDArray[np.float64]) -> int:
    signs = np.sign(cf[cf != 0.0])
    return int(np.count_nonzero(np.diff(signs)))


def _poly_roots(cf: NDArray[np.float64]) -> list[float]:
    """Real positive roots x of sum(cf[t] x^t) (x = 1 / (1 + r)), polished by bisection."""
    trimmed = np.trim_zeros(cf, "b")
    lead = int(np.argmax(trimmed != 0.0))
    poly = trimmed[lead:]
    cands = np.roots(poly[::-1]) if poly.size > 1 else np.array([])
    scale = float(np.max(np.abs(poly)))
    roots: list[float] = []
    for z in cands:
        if abs(z.imag) > 1e-7 * max(1.0, abs(z.real)) or z.real <= 0:
            continue
        x = float(z.real)
        roots.append(_polish(poly, x, scale))
    roots.sort()
    unique: list[float] = []
    for x in roots:
        if not unique or abs(x - unique[-1]) > 1e-9 * max(1.0, x):
            unique.append(x)
    return unique


def _single_root(cf: NDArray[np.float64]) -> list[float]:
    """The one positive root x (Descartes: one sign change) bracketed and found by brentq."""
    poly = np.trim_zeros(cf)  # leading zeros only multiply by x^k: same positive roots
    poly = poly / float(np.max(np.abs(poly)))

    def p(v: float) -> float:
        return float(np.polynomial.polynomial.polyval(v, poly))

    lo, hi = 0.0, 1.0
    while p(lo) * p(hi) > 0:
        lo, hi = hi, hi * 2.0
        if hi > 1e12:
            return []
    if p(hi) == 0.0:
        return [hi]
    return [float(brentq(p, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500))]


def _polish(poly: NDArray[np.float64], x: float, scale: float) -> float:
    def p(v: float) -> float:
        return float(np.polynomial.polynomial.polyval(v, poly)) / scale

    lo, hi = x * (1 - 1e-6), x * (1 + 1e-6)
    if p(lo) * p(hi) < 0:
        return float(brentq(p, lo, hi, xtol=1e-15, rtol=1e-15))
    return x


def irr(values: ArrayLike) -> IrrResult:
    """Monthly IRR of ``values`` (one entry per month, month 0 first) and its annualisation."""
    cf = np.asarray(values, dtype=np.float64)
    if cf.size == 0 or not np.all(np.isfinite(cf)):
        return IrrResult("no_root", None, None)
    # Flows below 1e-12 of the largest are rounding noise; they would only add spurious roots.
    cf = np.where(np.abs(cf) < 1e-12 * float(np.max(np.abs(cf))), 0.0, cf)
    if _sign_changes(cf) == 0:
        return IrrResult("no_sign_change", None, None)
    xs = _single_root(cf) if _sign_changes(cf) == 1 else _poly_roots(cf)
    rates = [1.0 / x - 1.0 for x in xs if x > 1e-300]
    if not rates:
        return IrrResult("no_root", None, None)
    best = min(rates, key=abs)
    return IrrResult(
        "ok" if len(rates) == 1 else "multiple",
        best,
        annualise(best),
        tuple(sorted(rates)),
    )


def annualise(monthly: float) -> float:
    return float((1.0 + monthly) ** 12 - 1.0)


def payback(cumulative: NDArray[np.float64]) -> NDArray[np.float64]:
    """Payback month per row of ``cumulative`` (paths x months); NaN if never."""
    cum = np.atleast_2d(cumulative)
    ok = cum >= 0.0
    stays = np.logical_and.accumulate(ok[:, ::-1], axis=1)[:, ::-1]
    has = stays[:, -1]
    first = np.argmax(stays, axis=1)
    out = np.full(cum.shape[0], np.nan)
    rows = np.nonzero(has)[0]
    if rows.size:
        t = first[rows]
        prev = np.where(t > 0, cum[rows, np.maximum(t - 1, 0)], 0.0)
        here = cum[rows, t]
        step = here - prev
        frac = np.where((t > 0) & (step > 0), -prev / np.where(step > 0, step, 1.0), 0.0)
        out[rows] = np.where(t > 0, t - 1 + frac, 0.0)
    return out


def ratio(num: float, den: float) -> float | None:
    return None if den == 0 else num / den
