"""Every API operation declares its responses (:mod:`suanli.api.schemas`): a 2xx with a body
schema, and each error status it can answer with the ``{code, message, fields}`` envelope. The
schemathesis test checks real answers against these declarations; this one checks, in well under
a second, that none is missing."""

from __future__ import annotations

from typing import Any

import pytest

from suanli.api.app import create_app
from suanli.settings import load_settings
from suanli.store.db import make_engine, upgrade

ENVELOPE = "#/components/schemas/ErrorOut"


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'o.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return create_app(load_settings(database_url=url)).openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", op)
        for path, item in spec["paths"].items()
        for method, op in item.items()
    ]


def _json_schema(response: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = response.get("content", {}).get("application/json", {}).get("schema")
    return schema or {}


def test_the_api_has_its_operations(spec: dict[str, Any]) -> None:
    assert len(_operations(spec)) > 80


def test_every_operation_declares_a_2xx_body_schema(spec: dict[str, Any]) -> None:
    missing = []
    for label, op in _operations(spec):
        ok = [c for c in op["responses"] if c.startswith("2")]
        schemas = [_json_schema(op["responses"][c]) for c in ok]
        if len(ok) != 1 or not any("$ref" in s or "type" in s for s in schemas):
            missing.append(label)
    assert not missing, missing


def test_every_error_status_carries_the_envelope(spec: dict[str, Any]) -> None:
    wrong = [
        f"{label} {code}"
        for label, op in _operations(spec)
        for code, response in op["responses"].items()
        if not code.startswith("2") and _json_schema(response).get("$ref") != ENVELOPE
    ]
    assert not wrong, wrong
    assert "HTTPValidationError" not in spec["components"]["schemas"]  # never sent: 422 is ours


def test_guarded_operations_declare_401(spec: dict[str, Any]) -> None:
    missing = [
        label
        for label, op in _operations(spec)
        if op.get("security") and "401" not in op["responses"]
    ]
    assert not missing, missing


def test_operations_with_input_declare_422_and_bodies_413(spec: dict[str, Any]) -> None:
    missing = []
    for label, op in _operations(spec):
        if (op.get("parameters") or op.get("requestBody")) and "422" not in op["responses"]:
            missing.append(f"{label} 422")
        if op.get("requestBody") and "413" not in op["responses"]:
            missing.append(f"{label} 413")
    assert not missing, missing
