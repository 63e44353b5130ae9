"""Scenario validation (coded errors naming the field), TOML/YAML parsing and inheritance."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from suanli.core.errors import NotFoundError, ValidationError
from suanli.economics.library import load_bundled, scenario_names, scenario_text
from suanli.economics.loader import (
    numeric_inputs,
    parse_scenario,
    scenario_from_mapping,
    with_overrides,
)
from suanli.economics.scenario import Scenario

MINIMAL: dict[str, Any] = {
    "horizon_months": 60,
    "fleet": {"sku": "HGX-H800-8", "count": 10, "unit_price": 2_100_000},
    "form": {"kind": "bare_metal", "rent_per_server_month": 100_000, "occupancy": 0.8},
}


def _with(path: str, value: Any) -> dict[str, Any]:
    """MINIMAL with ``path`` set to ``value`` (missing tables are created)."""
    data: dict[str, Any] = yaml.safe_load(yaml.safe_dump(MINIMAL))
    node = data
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("fleet.unit_price", -1.0),
        ("form.rent_per_server_month", -5.0),
        ("form.occupancy", 1.2),
        ("fleet.sku", "HGX-B9000-8"),
        ("horizon_months", 0),
        ("opex.power_price_kwh", -0.1),
        ("taxes.vat_rate", 1.5),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(path: str, value: Any) -> None:
    with pytest.raises(ValidationError) as info:
        scenario_from_mapping(_with(path, value))
    assert info.value.code == "scenario.invalid"
    assert path in info.value.fields
    assert info.value.status == 422


def test_unknown_sku_message_lists_known_skus() -> None:
    with pytest.raises(ValidationError) as info:
        scenario_from_mapping(_with("fleet.sku", "nope"))
    assert "HGX-H800-8" in info.value.fields["fleet.sku"]


def test_occupancy_above_ceiling_rejected() -> None:
    data = _with("form.occupancy", 0.97)
    with pytest.raises(ValidationError) as info:
        scenario_from_mapping(data)
    assert "form" in info.value.fields


def test_operating_form_needs_a_fleet() -> None:
    data = {k: v for k, v in MINIMAL.items() if k != "fleet"}
    with pytest.raises(ValidationError):
        scenario_from_mapping(data)


def test_delivery_must_add_up_and_fit_horizon() -> None:
    with pytest.raises(ValidationError) as info:
        scenario_from_mapping(_with("fleet.delivery", [{"month": 0, "count": 3}]))
    assert "fleet" in info.value.fields
    with pytest.raises(ValidationError):
        scenario_from_mapping(_with("fleet.delivery", [{"month": 60, "count": 10}]))


def test_yaml_and_toml_give_the_same_scenario() -> None:
    from_yaml = parse_scenario(yaml.safe_dump(MINIMAL), "yaml")
    toml = """
horizon_months = 60
[fleet]
sku = "HGX-H800-8"
count = 10
unit_price = 2_100_000
[form]
kind = "bare_metal"
rent_per_server_month = 100_000
occupancy = 0.8
"""
    assert parse_scenario(toml, "toml") == from_yaml


def test_syntax_error_is_coded() -> None:
    with pytest.raises(ValidationError) as info:
        parse_scenario("horizon_months = = 3", "toml")
    assert info.value.code == "scenario.syntax"


def test_every_bundled_scenario_validates_and_states_assumptions() -> None:
    names = scenario_names()
    assert len(names) >= 9
    for name in names:
        sc = load_bundled(name)
        assert sc.name == name
        assert sc.assumptions, f"{name} must write its assumptions down"
        assert "reference" in scenario_text(name) or "source article" in scenario_text(name)


def test_unknown_bundled_scenario() -> None:
    with pytest.raises(NotFoundError) as info:
        load_bundled("nope")
    assert info.value.code == "scenario.unknown"


def test_inheritance_overrides_and_concatenates_assumptions(h800: Scenario) -> None:
    child = load_bundled("h800-bare-metal-2p8m")
    assert child.fleet is not None and child.fleet.unit_price == 2_800_000
    assert child.opex == h800.opex
    assert child.assumptions[: len(h800.assumptions)] == h800.assumptions
    assert len(child.assumptions) == len(h800.assumptions) + 1
    center = load_bundled("compare-computing-center")
    assert center.form.kind == "computing_center"  # a different form replaces, not merges


def test_overrides_revalidate_and_reject_unknown_paths(h800: Scenario) -> None:
    assert with_overrides(h800, {"form.occupancy": 0.5}).form.level() == 0.5  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as info:
        with_overrides(h800, {"form.occupancy": 2.0})
    assert "form.occupancy" in info.value.fields
    with pytest.raises(ValidationError) as info:
        with_overrides(h800, {"form.no_such_input": 1})
    assert info.value.code == "scenario.unknown_input"


def test_numeric_inputs_lists_leaves(h800: Scenario) -> None:
    names = numeric_inputs(h800)
    assert "form.rent_per_server_month" in names
    assert "opex.pue" in names
    assert "taxes.prices_include_vat" not in names
