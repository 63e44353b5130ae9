"""Depreciation schedules as monthly kernels (book and tax), and their application to capex.

Owns the methods: ``straight_line``, ``syd`` (sum-of-years'-digits), ``ddb`` (double-declining
balance, switching to straight line on the remaining depreciable amount when that is larger,
the Chinese practice for the last years) and, for tax only, ``one_time`` (the whole cost
deducted in the month after the asset is put in service: the deduction for equipment of at most
5 M CNY per unit, Caishui [2018] No. 54, extended to 2027-12-31 by MOF/STA announcement 2023
No. 37; the limit and dates are scenario settings).

A kernel ``k`` has one entry per month of life, as a fraction of the asset's cost; it sums to
``1 - salvage`` (``one_time``: to 1, the tax base has no salvage). Annual methods spread each
year's amount evenly over its 12 months. A capex series ``c`` depreciates as
``c * k`` convolved, starting the month after the capex (servers earn from the next month).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
METHODS = ("straight_line", "syd", "ddb", "one_time")


def kernel(method: str, life_months: int, salvage: float) -> Array:
    """Monthly depreciation fractions of cost for ``method`` over ``life_months``."""
    if method == "one_time":
        return np.ones(1)
    if method == "straight_line" or life_months % 12:
        # Annual methods need whole years; a fractional life falls back to straight line
        # (the scenario validator rejects syd/ddb with a fractional life).
        return np.full(life_months, (1.0 - salvage) / life_months)
    years = life_months // 12
    if method == "syd":
        weights = np.arange(years, 0, -1, dtype=np.float64) / (years * (years + 1) / 2.0)
        annual = weights * (1.0 - salvage)
    elif method == "ddb":
        annual = np.zeros(years)
        book = 1.0
        for i in range(years):
            remaining = book - salvage
            annual[i] = min(remaining, max(2.0 / years * book, remaining / (years - i)))
            book -= annual[i]
    else:
        raise ValueError(f"unknown depreciation method {method!r}; expected one of {METHODS}")
    return np.repeat(annual / 12.0, 12)


def apply(capex: Array, k: Array) -> Array:
    """Depreciation series of ``capex`` (one entry per month) under kernel ``k``; the first
    charge falls in the month after each capex amount."""
    n = capex.size
    out: Array = np.convolve(capex, np.concatenate(([0.0], k)))[:n]
    return out
