"""/api/v1/placement/decide on a bare app: schema, decisions, and the error envelope.

The caller is a fixed customer principal through FastAPI's dependency override (any role may
call); that the route refuses a missing token (401) is checked on the full app in
``tests/integration/test_api_placement.py``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suanli.api.auth import get_principal
from suanli.api.errors import install_error_handlers
from suanli.api.routers import placement
from suanli.services.tenancy import Principal, Role

URL = "/api/v1/placement/decide"


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(placement.router, prefix="/api/v1")
    app.dependency_overrides[get_principal] = lambda: Principal(1, "ann", Role.CUSTOMER)
    return TestClient(app)


def body(**over: Any) -> dict[str, Any]:
    return {**placement.EXAMPLE, **over}


def test_example_body_places_the_half_gpu_pod_on_the_half_used_gpu(client: TestClient) -> None:
    r = client.post(URL, json=body())
    assert r.status_code == 200, r.text
    assert r.json() == {
        "placed": True,
        "node": "n1",
        "node_index": 0,
        "gpus": [1],
        "policy": "fgdfull",
    }


def test_unplaceable_pod_answers_placed_false(client: TestClient) -> None:
    pod = {"cpu_milli": 1000, "num_gpu": 8, "gpu_milli": 1000}
    r = client.post(URL, json=body(pod=pod))
    assert r.status_code == 200
    assert r.json() == {
        "placed": False,
        "node": None,
        "node_index": None,
        "gpus": [],
        "policy": "fgdfull",
    }


@pytest.mark.parametrize(
    ("over", "code", "field"),
    [
        (
            {"policy": "fgd", "typical_pods": None},
            "placement.typical_pods_required",
            "typical_pods",
        ),
        ({"policy": "magic"}, "placement.unknown_policy", "policy"),
        (
            {"pod": {"cpu_milli": 1, "gpu_milli": 1500, "num_gpu": 1}},
            "request.invalid",
            "pod.gpu_milli",
        ),
        ({"nodes": []}, "request.invalid", "nodes"),
        ({"extra": 1}, "request.invalid", "extra"),
    ],
)
def test_errors_use_the_envelope(
    client: TestClient, over: dict[str, Any], code: str, field: str
) -> None:
    r = client.post(URL, json=body(**over))
    assert r.status_code == 422
    err = r.json()
    assert set(err) == {"code", "message", "fields"}
    assert err["code"] == code and field in err["fields"], err


def test_gpu_milli_out_of_range_in_the_snapshot_names_the_node(client: TestClient) -> None:
    nodes = [
        {
            "name": "x",
            "gpu_model": "T4",
            "cpu_milli_left": 1,
            "memory_mib_left": 1,
            "gpu_milli_left": [1200],
        }
    ]
    r = client.post(URL, json=body(nodes=nodes))
    assert r.status_code == 422
    assert r.json()["code"] == "placement.bad_snapshot"
    assert "nodes.0.gpu_milli_left" in r.json()["fields"]


def test_schema_documents_the_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    op = schema["paths"][URL]["post"]
    assert op["tags"] == ["placement"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    props = schema["components"]["schemas"][ref]["properties"]
    assert {"policy", "nodes", "pod", "typical_pods", "seed"} <= set(props)
    out = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert set(schema["components"]["schemas"][out]["properties"]) == {
        "placed",
        "node",
        "node_index",
        "gpus",
        "policy",
    }
