"""The bundled scenario library (package data ``economics/scenarios/*.toml``).

Owns listing and loading the shipped scenarios by name. Like the core catalog, it reads only
package data through :mod:`importlib.resources`; user files are read by the CLI/API and passed
to :func:`suanli.economics.loader.parse_scenario` as text.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from suanli.core.errors import NotFoundError
from suanli.economics.loader import parse_document, parse_scenario
from suanli.economics.scenario import Scenario

_PACKAGE = "suanli.economics"
_DIR = "scenarios"


def scenario_names() -> list[str]:
    """Names of the bundled scenarios (file stems), sorted."""
    folder = resources.files(_PACKAGE).joinpath(_DIR)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def scenario_text(name: str) -> str:
    if name not in scenario_names():
        raise NotFoundError(
            "scenario.unknown",
            f"no bundled scenario {name!r}",
            {"scenario": f"one of {scenario_names()}"},
        )
    return resources.files(_PACKAGE).joinpath(f"{_DIR}/{name}.toml").read_text("utf-8")


def bundled_document(name: str) -> dict[str, Any]:
    """The raw mapping of bundled scenario ``name`` (the resolver for ``base = "name"``)."""
    return parse_document(scenario_text(name), "toml")


def load_bundled(name: str) -> Scenario:
    """The bundled scenario ``name``, validated (``base`` resolved against the library)."""
    return parse_scenario(scenario_text(name), "toml", bundled_document)
