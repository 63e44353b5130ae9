"""The request-size limit answers before parsing: a declared or streamed body over the limit is
413 ``request.too_large`` in the ``{code, message, fields}`` envelope; smaller bodies pass.
:class:`~suanli.api.limits.TextGuard` refuses bodies that are not JSON text in the same envelope."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import BaseModel

from suanli.api.limits import BodyLimit, TextGuard

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


def _guarded_client() -> TestClient:
    app = FastAPI()

    @app.post("/echo")
    def echo(item: Item) -> dict[str, int]:
        return {"length": len(item.text)}

    app.add_middleware(TextGuard)
    return TestClient(app)


def test_a_body_that_is_not_text_is_refused_in_the_envelope() -> None:
    """Bytes no JSON encoding decodes used to reach FastAPI's parser, which answered a bare 400
    ``{"detail": "There was an error parsing the body"}`` (found by schemathesis)."""
    client = _guarded_client()
    for headers in ({"content-type": "application/json"}, {}):
        resp = client.post("/echo", content=b"\xd7\xc7\xff\x00XW", headers=headers)
        assert resp.status_code == 422, headers
        assert resp.json()["code"] == "request.invalid_text"
        assert set(resp.json()) == {"code", "message", "fields"}


def test_json_text_in_any_json_encoding_passes() -> None:
    client = _guarded_client()
    for encoding in ("utf-8", "utf-16", "utf-32"):
        body = '{"text": "héllo"}'.encode(encoding)
        resp = client.post("/echo", content=body, headers={"content-type": "application/json"})
        assert resp.json() == {"length": 5}, encoding
