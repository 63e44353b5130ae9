"""``--set``/``--grid`` parsing shared by ``econ`` and ``twin`` (cli/overrides.py)."""

from __future__ import annotations

import pytest

from suanli.cli.overrides import grid_pairs, nested, set_pairs, toml_value
from suanli.core.errors import ValidationError


def test_values_are_toml_literals_and_other_text_stays_a_string() -> None:
    assert toml_value("0.4") == 0.4
    assert toml_value("true") is True
    assert toml_value("[1, 2]") == [1, 2]
    assert toml_value("H800") == "H800"


def test_set_pairs_keep_the_last_value_and_nest_by_dots() -> None:
    pairs = set_pairs(
        ["form.occupancy=0.6", " twin.prices.decline_annual = 0.2", "form.occupancy=0.7"]
    )
    assert pairs == {"form.occupancy": 0.7, "twin.prices.decline_annual": 0.2}
    assert nested(pairs) == {
        "form": {"occupancy": 0.7},
        "twin": {"prices": {"decline_annual": 0.2}},
    }


@pytest.mark.parametrize("item", ["occupancy", "=0.6", " =1"])
def test_malformed_set_items_are_refused_with_the_item(item: str) -> None:
    with pytest.raises(ValidationError) as err:
        set_pairs([item])
    assert err.value.code == "cli.invalid_set"
    assert err.value.fields == {"set": item}


def test_grid_pairs_split_values_and_refuse_an_empty_list() -> None:
    assert grid_pairs(["a.b=0,0.2, 0.4"]) == {"a.b": [0, 0.2, 0.4]}
    with pytest.raises(ValidationError) as err:
        grid_pairs(["a.b="])
    assert err.value.code == "cli.invalid_grid"
