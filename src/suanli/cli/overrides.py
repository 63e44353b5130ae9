"""``--set PATH=VALUE`` and ``--grid PATH=V1,V2`` parsing shared by the scenario commands
(``econ``, ``twin``): values are read as TOML literals (``0.4``, ``true``, ``"x"``, ``[1, 2]``),
anything that is not valid TOML stays a string; a malformed item is ``cli.invalid_set`` /
``cli.invalid_grid`` naming the item."""

from __future__ import annotations

import tomllib
from typing import Any

from suanli.core.errors import ValidationError


def toml_value(text: str) -> Any:
    """``"0.4"`` → ``0.4``; text that is not a TOML literal is returned as it is."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def set_pairs(items: list[str] | None) -> dict[str, Any]:
    """``["a.b=1", ...]`` → ``{"a.b": 1}``; a later item for the same path wins."""
    pairs: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                "cli.invalid_set", f"expected PATH=VALUE, got {item!r}", {"set": item}
            )
        pairs[key.strip()] = toml_value(raw.strip())
    return pairs


def nested(pairs: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1, "a.c": 2}`` → ``{"a": {"b": 1, "c": 2}}`` (for deep-merging over a scenario)."""
    out: dict[str, Any] = {}
    for key, value in pairs.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def grid_pairs(items: list[str]) -> dict[str, list[Any]]:
    """``["twin.prices.decline_annual=0,0.2,0.4", ...]`` → ``{path: [values]}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip() or not raw.strip():
            raise ValidationError(
                "cli.invalid_grid", f"expected PATH=V1,V2,..., got {item!r}", {"grid": item}
            )
        grid[key.strip()] = [toml_value(v.strip()) for v in raw.split(",")]
    return grid
