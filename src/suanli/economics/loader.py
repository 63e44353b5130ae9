"""Scenario parsing from text (TOML or YAML) and from mappings, with coded errors.

Owns the translation of pydantic errors into :class:`~suanli.core.errors.ValidationError`
(code ``scenario.invalid``) whose ``fields`` map dotted field paths (``fleet.unit_price``,
``form.occupancy``) to what was wrong, and dotted-path overrides used by sensitivity analysis
and the CLI. Reading files is the caller's job: these functions take text or values.
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import pydantic
import yaml

from suanli.core.errors import ValidationError
from suanli.economics.scenario import Scenario

FORM_TAGS = frozenset({"bare_metal", "computing_center", "investment"})


def field_path(loc: Iterable[int | str]) -> str:
    """Dotted path of a pydantic error location, without discriminator tags."""
    parts = [str(p) for p in loc]
    kept = [
        p for i, p in enumerate(parts) if not (i > 0 and parts[i - 1] == "form" and p in FORM_TAGS)
    ]
    return ".".join(kept) or "scenario"


def errors_to_fields(exc: pydantic.ValidationError) -> dict[str, str]:
    return {field_path(err["loc"]): err["msg"] for err in exc.errors()}


def scenario_from_mapping(data: Mapping[str, Any]) -> Scenario:
    """Validate ``data`` as a :class:`Scenario`; failures raise ``scenario.invalid``."""
    try:
        return Scenario.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = errors_to_fields(exc)
        raise ValidationError(
            "scenario.invalid", f"invalid scenario: {', '.join(sorted(fields))}", fields
        ) from None


BaseResolver = Callable[[str], Mapping[str, Any]]


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: tables merge key by key, everything else in ``top`` replaces ``base``. A table
    whose ``kind`` differs from the base's (another business form) replaces it whole."""
    out = dict(copy.deepcopy(base))
    for key, value in top.items():
        old = out.get(key)
        if (
            isinstance(value, Mapping)
            and isinstance(old, Mapping)
            and value.get("kind", old.get("kind")) == old.get("kind")
        ):
            out[key] = merge(old, value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_document(text: str, fmt: Literal["toml", "yaml"] = "toml") -> dict[str, Any]:
    """The raw mapping of a scenario file. Syntax errors raise ``scenario.syntax``."""
    try:
        data = tomllib.loads(text) if fmt == "toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise ValidationError(
            "scenario.syntax", f"cannot parse scenario as {fmt}: {exc}", {"scenario": fmt}
        ) from None
    if not isinstance(data, dict):
        raise ValidationError(
            "scenario.syntax", "a scenario must be a table/mapping", {"scenario": "mapping"}
        )
    return data


def resolve_document(data: Mapping[str, Any], resolve_base: BaseResolver | None) -> dict[str, Any]:
    """Apply ``base = "name"``: the named scenario's mapping, deep-merged under ``data``.
    ``assumptions`` lists are concatenated (base first)."""
    if "base" not in data:
        return dict(data)
    name = data["base"]
    if resolve_base is None or not isinstance(name, str):
        raise ValidationError(
            "scenario.invalid", "base needs the name of a bundled scenario", {"base": name}
        )
    parent = resolve_document(resolve_base(name), resolve_base)
    top = {k: v for k, v in data.items() if k != "base"}
    merged = merge(parent, top)
    merged["assumptions"] = list(parent.get("assumptions", [])) + list(top.get("assumptions", []))
    return merged


def parse_scenario(
    text: str, fmt: Literal["toml", "yaml"] = "toml", resolve_base: BaseResolver | None = None
) -> Scenario:
    """Parse and validate scenario ``text`` in ``fmt``. A ``base = "name"`` key inherits from
    the scenario ``resolve_base(name)`` returns (the bundled library's, in practice)."""
    return scenario_from_mapping(resolve_document(parse_document(text, fmt), resolve_base))


def format_for(filename: str) -> Literal["toml", "yaml"]:
    return "yaml" if filename.lower().endswith((".yaml", ".yml")) else "toml"


def get_path(scenario: Scenario, path: str) -> Any:
    """Value at dotted ``path`` (``form.rent_per_server_month``); unknown paths are errors."""
    node: Any = scenario.model_dump(mode="python")
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValidationError(
                "scenario.unknown_input", f"no input {path!r} in this scenario", {"input": path}
            )
        node = node[part]
    return node


def with_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A new validated scenario with dotted-path ``overrides`` applied."""
    data = copy.deepcopy(scenario.model_dump(mode="python", exclude_none=True))
    for path, value in overrides.items():
        get_path(scenario, path)  # raises for unknown paths
        node = data
        parts = path.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return scenario_from_mapping(data)


def numeric_inputs(scenario: Scenario) -> list[str]:
    """Dotted paths of every numeric (int/float, not bool) input of ``scenario``."""
    out: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else key)
        elif isinstance(node, int | float) and not isinstance(node, bool):
            out.append(prefix)

    walk(scenario.model_dump(mode="python", exclude={"montecarlo"}), "")
    return out
