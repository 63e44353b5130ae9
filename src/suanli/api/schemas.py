"""The declared responses of every API operation: the error envelope and :func:`answers`.

Every operation lists, in its OpenAPI entry, each status it really answers, with a schema:

- its 2xx status with the schema of its body: the domain type the service returns, as
  :func:`suanli.core.serialize.to_jsonable` writes it (decimals and dates as strings);
- each error status with :class:`ErrorOut`, the ``{"code", "message", "fields"}`` envelope of
  :mod:`suanli.api.errors` and :mod:`suanli.api.limits`.

The 2xx schema is declared through ``responses=`` (FastAPI's ``model``), not ``response_model``:
the routes already return JSON-safe data, and a response model would validate and re-serialise
it (dropping the ``__json_properties__`` of domain dataclasses). The schemathesis test
(``tests/integration/billing/test_billing_schemathesis.py``) checks the answers against these
declarations; ``tests/unit/test_openapi_declared.py`` checks every operation has them.

Statuses by cause (see :mod:`suanli.core.errors`): 401 no or bad token, 403 the role may not,
404 an unknown (or another tenant's) object, 409 a clash with current state, 413 a body above the
size limit, 422 a request that fails validation (FastAPI's or a service's ``ValidationError``).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi import FastAPI
from pydantic import BaseModel, Field

T = TypeVar("T")


class ErrorOut(BaseModel):
    """The error envelope every non-2xx answer carries."""

    model_config = {
        "json_schema_extra": {
            "examples": [{"code": "server.not_found", "message": "no server 'SN9'", "fields": {}}]
        }
    }
    code: str = Field(description="stable dotted code, e.g. `lease.capacity_unavailable`")
    message: str
    fields: dict[str, Any] = Field(description="field name → what was expected")


class Items(BaseModel, Generic[T]):
    """``{"items": [...]}``: an unpaged list, e.g. ``Items[Site]``."""

    items: list[T]


WHY: dict[int, str] = {
    400: "malformed request (an unreadable Content-Length)",
    401: "missing, unknown, revoked or expired token",
    403: "the caller's role may not do this",
    404: "unknown object, or another tenant's",
    409: "clashes with the current state",
    413: "request body above the size limit",
    422: "invalid request",
    503: "the cluster engine is unreachable or failed (backend.*)",
}


def answers(
    *statuses: int,
    body: Any = None,
    example: Any = None,
    html: bool = False,
    why: dict[int, str] | None = None,
    error_examples: dict[int, Any] | None = None,
) -> dict[int | str, dict[str, Any]]:
    """A FastAPI ``responses=`` mapping: the one 2xx status in ``statuses`` with ``body`` (a type
    FastAPI can describe: a domain dataclass, ``Page[X]``, a pydantic model), an optional
    ``example``, and ``text/html`` too when ``html``; every other status with :class:`ErrorOut`,
    the reason in ``why`` (default :data:`WHY`) and an example envelope from ``error_examples``."""
    reasons = {**WHY, **(why or {})}
    declared: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if 200 <= status < 300:
            entry: dict[str, Any] = {} if body is None else {"model": body}
            content: dict[str, Any] = {}
            if example is not None:
                content["application/json"] = {"example": example}
            if html:
                content["text/html"] = {"schema": {"type": "string"}}
            if content:
                entry["content"] = content
            declared[status] = entry
        else:
            declared[status] = {"model": ErrorOut, "description": reasons[status]}
            if error_examples and status in error_examples:
                example_content = {"application/json": {"example": error_examples[status]}}
                declared[status]["content"] = example_content
    return declared


_REF = "#/components/schemas/"


def _response_components(spec: dict[str, Any]) -> set[str]:
    """Names of the component schemas a response body refers to, directly or through others."""
    components = spec.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    todo: list[Any] = [
        response.get("content", {})
        for item in spec.get("paths", {}).values()
        for operation in item.values()
        for response in operation.get("responses", {}).values()
    ]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF):
                name = ref.removeprefix(_REF)
                if name not in seen:
                    seen.add(name)
                    todo.append(components.get(name))
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def _partial_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            node["format"] = "partial-time"
        for value in node.values():
            _partial_times(value)
    elif isinstance(node, list):
        for value in node:
            _partial_times(value)


def install_openapi(app: FastAPI) -> None:
    """Build ``app.openapi()`` once, describing a response's times of day as RFC 3339
    ``partial-time``: the domain's times are local wall-clock times without an offset (a price's
    night window), written ``"00:30:00"``, which JSON Schema's ``time`` (an offset required)
    refuses. Request bodies keep ``time``: pydantic reads either."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            components = spec.get("components", {}).get("schemas", {})
            for name in _response_components(spec):
                _partial_times(components.get(name))
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
