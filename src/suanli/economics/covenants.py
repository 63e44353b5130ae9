"""Loan covenants and the project / equity split of a cash-flow table.

Owns :func:`covenants`: per month, the debt-service coverage ratio (DSCR) and the leverage
(debt / EBITDA), both on trailing 12 months (fewer at the start), and a breach flag; and
:func:`basis_flows`, the project and equity free cash flows side by side.

- Project FCF = cash from operations after tax, minus capex, before any financing: what the
  servers earn whoever funds them (interest added back, loan draws and repayments ignored).
- Equity FCF = project FCF - interest (and fees) + loan draws - principal repaid: what the
  owners put in and take out.
- CFADS (cash flow available for debt service) = project FCF + capex (operating cash after
  tax); debt service = interest + principal. DSCR = trailing-12 CFADS / trailing-12 debt
  service, only where there is debt service. Leverage = loan balance / trailing-12 EBITDA
  (annualised when fewer than 12 months), infinite when EBITDA <= 0 with debt outstanding.
- A month (from month 1) breaches when DSCR < ``dscr_min`` or leverage > ``leverage_max``
  (each test only when its limit is set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from suanli.economics.cashflow import CashFlows

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Covenants:
    dscr: Array  # (paths, H+1); nan where no debt service in the window
    leverage: Array  # (paths, H+1); 0 without debt
    breach: NDArray[np.bool_]  # (paths, H+1)


def basis_flows(flows: CashFlows, equity_basis: bool) -> tuple[Array, Array]:
    """``(project fcf, equity fcf)`` from a table computed on either basis."""
    if equity_basis:
        equity = flows.fcf
        project: Array = equity + flows.interest - flows.financing
    else:
        project = flows.fcf
        equity = project - flows.interest + flows.financing
    return project, equity


def _trailing(x: Array, window: int = 12) -> Array:
    c = np.cumsum(x, axis=1)
    out = c.copy()
    out[:, window:] -= c[:, :-window]
    return out


def covenants(
    flows: CashFlows,
    equity_basis: bool,
    principal: Array,
    balance: Array,
    dscr_min: float | None,
    leverage_max: float | None,
) -> Covenants:
    """DSCR, leverage and breach flags per month. ``principal`` (repaid each month) and
    ``balance`` (loan outstanding after each month) broadcast to the table's shape."""
    project, _ = basis_flows(flows, equity_basis)
    shape = project.shape
    cfads = _trailing(project + flows.capex)
    service = _trailing(flows.interest + np.broadcast_to(principal, shape))
    months = np.minimum(np.arange(shape[1], dtype=np.float64), 12.0)
    ebitda = _trailing(flows.ebitda) * 12.0 / np.maximum(months, 1.0)
    bal = np.broadcast_to(balance, shape)
    has_service = service > 1e-9
    dscr = np.full(shape, np.nan)
    np.divide(cfads, service, out=dscr, where=has_service)
    leverage = np.zeros(shape)
    positive = (bal > 1e-9) & (ebitda > 0)
    np.divide(bal, ebitda, out=leverage, where=positive)
    leverage[(bal > 1e-9) & (ebitda <= 0)] = np.inf
    breach = np.zeros(shape, dtype=bool)
    if dscr_min is not None:
        breach |= has_service & (np.nan_to_num(dscr, nan=np.inf) < dscr_min)
    if leverage_max is not None:
        breach |= leverage > leverage_max
    breach[:, 0] = False
    return Covenants(dscr=dscr, leverage=leverage, breach=breach)
