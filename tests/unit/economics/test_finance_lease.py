"""Finance lease (lessee side): the financed share's input VAT is credited as it is repaid."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.economics.evaluate import evaluate
from suanli.economics.loader import with_overrides
from suanli.economics.plan import build_plan
from suanli.economics.scenario import Scenario

LOAN = {
    "financing.loan_share": 0.7,
    "financing.rate_annual": 0.06,
    "financing.term_months": 36,
}


def test_input_vat_follows_the_repayments(h800: Scenario) -> None:
    """100 servers at 2.1 M incl. 13 % VAT plus 2 % racking and installation: capex 214.2 M,
    input VAT 214.2 M x 13/113 = 24.64 M. With a 70 % lease, 30 % of it (the down payment's) is credited at delivery and the rest month by month
    with the principal, 36 annuity repayments; the total is unchanged."""
    loan = build_plan(with_overrides(h800, LOAN))
    lease = build_plan(with_overrides(h800, {**LOAN, "financing.finance_lease": True}))
    share = 0.13 / 1.13
    capex = loan.prop.capex
    assert lease.prop.input_vat.sum() == pytest.approx(loan.prop.input_vat.sum(), rel=1e-12)
    assert loan.prop.input_vat.sum() == pytest.approx(214.2e6 * share)
    expected = (capex - loan.prop.loan_draw + loan.prop.principal) * share
    assert np.allclose(lease.prop.input_vat, expected)
    assert lease.prop.input_vat[0] == pytest.approx(0.3 * 214.2e6 * share)
    # everything else is the loan's
    assert np.array_equal(lease.prop.interest, loan.prop.interest)
    assert np.array_equal(lease.prop.depreciation, loan.prop.depreciation)


def test_a_later_credit_never_raises_npv(h800: Scenario) -> None:
    """Less cumulative credit at every month means at least as much VAT paid by every month."""
    for share in (0.3, 0.7, 1.0):
        over = {**LOAN, "financing.loan_share": share}
        loan = evaluate(with_overrides(h800, over), with_breakeven=False)
        lease = evaluate(
            with_overrides(h800, {**over, "financing.finance_lease": True}),
            with_breakeven=False,
        )
        assert lease.npv <= loan.npv + 1e-6


def test_not_with_sale_leaseback(h800: Scenario) -> None:
    with pytest.raises(ValidationError) as exc:
        with_overrides(
            h800,
            {**LOAN, "financing.finance_lease": True, "financing.sale_leaseback_month": 3},
        )
    assert exc.value.code == "scenario.invalid"
