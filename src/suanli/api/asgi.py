"""ASGI entry point for process managers: ``uvicorn --factory suanli.api.asgi:app --workers N``
(settings from ``SUANLI_*`` environment variables, read when each worker starts)."""

from __future__ import annotations

from fastapi import FastAPI

from suanli.api.app import create_app
from suanli.settings import load_settings


def app() -> FastAPI:
    return create_app(load_settings())
