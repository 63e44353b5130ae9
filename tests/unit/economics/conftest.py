"""Fixtures of the economics tests: bundled scenarios and a simplified reference case."""

from __future__ import annotations

import pytest

from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.scenario import Scenario

# The reference's derived figures (economics-and-failure-figures.md section 3, [D]) count only
# depreciation, power and colocation, before VAT, tax, O&M, staff and financing. These overrides
# put the engine on the same footing.
REFERENCE_FOOTING = {
    "taxes.vat_rate": 0.0,
    "taxes.credit_input_vat": False,
    "taxes.surcharge_rate": 0.0,
    "taxes.income_tax_rate": 0.0,
    "opex.om_pct_capex_annual": 0.0,
    "opex.staff_per_month": 0.0,
    "opex.bandwidth_per_month": 0.0,
    "opex.idle_load_factor": 0.8,  # power independent of occupancy, as in the reference
    "capex.network_install_pct": 0.0,
    "depreciation.salvage_pct": 0.0,
    "form.bad_debt_pct": 0.0,
    "form.receivable_days": 0.0,
    "form.ramp_months": 0,
    "form.occupancy_ceiling": 1.0,
}


@pytest.fixture(scope="session")
def h800() -> Scenario:
    return load_bundled("h800-bare-metal-2p1m")


@pytest.fixture(scope="session")
def reference_footing(h800: Scenario) -> Scenario:
    return with_overrides(h800, REFERENCE_FOOTING)
