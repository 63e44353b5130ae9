"""Twin scenarios: parsing (``base =`` inheritance across the twin and economics libraries) and
the bundled twin library (package data ``simulation/twin/scenarios/*.toml``).

Owns :func:`parse_twin`, :func:`load_twin` and :func:`twin_names`. Files are read by the CLI/API
and passed here as text; the libraries are package data read through :mod:`importlib.resources`.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

import pydantic

from suanli.core.errors import NotFoundError, ValidationError
from suanli.economics.library import bundled_document, scenario_names
from suanli.economics.loader import errors_to_fields, merge, parse_document, resolve_document
from suanli.simulation.twin.scenario import TwinScenario

_PACKAGE = "suanli.simulation.twin"
_DIR = "scenarios"


def twin_names() -> list[str]:
    """Names of the bundled twin scenarios (file stems), sorted."""
    folder = resources.files(_PACKAGE).joinpath(_DIR)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def twin_text(name: str) -> str:
    if name not in twin_names():
        raise NotFoundError(
            "twin.unknown_scenario",
            f"no bundled twin scenario {name!r}",
            {"scenario": f"one of {twin_names()}"},
        )
    return resources.files(_PACKAGE).joinpath(f"{_DIR}/{name}.toml").read_text("utf-8")


def resolve_base(name: str) -> Mapping[str, Any]:
    """A twin scenario's base: a bundled twin scenario first, else an economics scenario."""
    if name in twin_names():
        return parse_document(twin_text(name), "toml")
    if name in scenario_names():
        return bundled_document(name)
    raise NotFoundError(
        "twin.unknown_scenario",
        f"no bundled twin or economics scenario {name!r}",
        {"base": f"one of {twin_names() + scenario_names()}"},
    )


def twin_from_mapping(data: Mapping[str, Any]) -> TwinScenario:
    """Validate a resolved document; failures raise ``twin.invalid`` naming each field."""
    try:
        return TwinScenario.model_validate(TwinScenario.split(dict(data)))
    except pydantic.ValidationError as exc:
        fields = {
            (k[len("economics.") :] if k.startswith("economics.") else k): v
            for k, v in errors_to_fields(exc).items()
        }
        raise ValidationError(
            "twin.invalid", f"invalid twin scenario: {', '.join(sorted(fields))}", fields
        ) from None


def parse_twin(text: str, overrides: Mapping[str, Any] | None = None) -> TwinScenario:
    """Parse TOML ``text`` (``base`` resolved), deep-merge ``overrides`` on top, validate."""
    document = resolve_document(parse_document(text, "toml"), resolve_base)
    if overrides:
        document = merge(document, overrides)
    return twin_from_mapping(document)


def load_twin(name: str, overrides: Mapping[str, Any] | None = None) -> TwinScenario:
    return parse_twin(twin_text(name), overrides)
