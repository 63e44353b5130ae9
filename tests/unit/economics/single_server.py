"""A one-server bare-metal scenario for hand-worked tests: 1.0 M CNY (1.13 M when input VAT is
credited, so the VAT-exclusive cost stays 1.0 M), 100k rent fully let from month 1, no power or
other cost, VAT 13 %, income tax 25 %, 60 months; ``overrides`` are dotted paths."""

from __future__ import annotations

from typing import Any

from suanli.economics.loader import with_overrides
from suanli.economics.scenario import Scenario


def one_server(overrides: dict[str, Any]) -> Scenario:
    credited = bool(overrides.get("taxes.credit_input_vat"))
    base: dict[str, Any] = {
        "name": "one",
        "horizon_months": 60,
        "fleet": {
            "sku": "HGX-H800-8",
            "count": 1,
            "unit_price": 1_130_000 if credited else 1_000_000,
        },
        "opex": {"power_price_kwh": 0.0, "idle_load_factor": 0.0, "load_factor": 0.0},
        "taxes": {"vat_rate": 0.13, "income_tax_rate": 0.25},
        "form": {
            "kind": "bare_metal",
            "rent_per_server_month": 100_000,
            "occupancy": 1.0,
            "occupancy_ceiling": 1.0,
            "receivable_days": 0,
        },
    }
    return with_overrides(Scenario.model_validate(base), overrides)
