"""The FastAPI application factory. Routers live in ``api/routers/``, one per resource."""

from __future__ import annotations

from fastapi import FastAPI

from suanli import __version__
from suanli.api.errors import install_error_handlers
from suanli.api.routers import catalog, economics
from suanli.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="Suanli", version=__version__, docs_url="/docs")
    app.state.settings = settings
    install_error_handlers(app)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(catalog.router, prefix="/api/v1")
    app.include_router(economics.router, prefix="/api/v1")
    return app
