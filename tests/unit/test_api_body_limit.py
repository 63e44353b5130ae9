"""The request-size limit answers before parsing: a declared or streamed body over the limit is
413 ``request.too_large`` in the ``{code, message, fields}`` envelope; smaller bodies pass."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from suanli.api.limits import BodyLimit

LIMIT = 1000


class Item(BaseModel):
    text: str


def _client() -> TestClient:
    app = FastAPI()

    @app.post("/echo")
    def echo(item: Item) -> dict[str, int]:
        return {"length": len(item.text)}

    app.add_middleware(BodyLimit, max_bytes=LIMIT)
    return TestClient(app)


def test_declared_length_over_the_limit_is_refused_unread() -> None:
    resp = _client().post("/echo", json={"text": "x" * (LIMIT * 2)})
    assert resp.status_code == 413 and resp.json()["code"] == "request.too_large"
    assert set(resp.json()) == {"code", "message", "fields"}


def test_chunked_body_over_the_limit_is_refused() -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 200
        yield b'"}'

    resp = _client().post("/echo", content=chunks(), headers={"content-type": "application/json"})
    assert resp.status_code == 413 and resp.json()["code"] == "request.too_large"


def test_bodies_within_the_limit_pass() -> None:
    assert _client().post("/echo", json={"text": "z" * 100}).json() == {"length": 100}
