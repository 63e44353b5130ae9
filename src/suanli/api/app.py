"""The FastAPI application factory. Routers live in ``api/routers/``, one per resource.

``create_app`` opens the configured database and refuses to start on one that is not migrated
(``db.not_migrated``: run ``suanli db upgrade``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from suanli import __version__
from suanli.api.errors import install_error_handlers
from suanli.api.limits import BodyLimit, TextGuard
from suanli.api.routers import (
    catalog,
    economics,
    fleet,
    money,
    placement,
    procurement,
    reports,
    twin,
)
from suanli.api.routers import jobs as jobs_router
from suanli.api.schemas import install_openapi
from suanli.core.clock import Clock, SystemClock
from suanli.services.container import build_services
from suanli.services.twin_runs import TwinRuns
from suanli.settings import Settings
from suanli.store.db import ensure_migrated, make_engine
from suanli.web import router as web_router
from suanli.web.language import Language
from suanli.web.security import SecurityHeaders


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    engine = make_engine(settings.database_url)
    try:
        ensure_migrated(engine)
    except Exception:
        engine.dispose()
        raise

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="Suanli", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )  # /docs: Swagger UI from local assets (suanli.web.assets), never a CDN
    app.state.settings = settings
    app.state.services = build_services(engine, clock or SystemClock(), settings.currency)
    app.state.twin_runs = TwinRuns(app.state.services.clock)
    install_error_handlers(app)
    app.add_middleware(Language)  # the dashboard's language for this request
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TextGuard)  # inside BodyLimit: the body it reads is bounded
    app.add_middleware(BodyLimit)

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(catalog.router, prefix="/api/v1")
    app.include_router(economics.router, prefix="/api/v1")
    app.include_router(twin.router, prefix="/api/v1")
    app.include_router(fleet.router, prefix="/api/v1")
    app.include_router(procurement.router, prefix="/api/v1")
    app.include_router(reports.router, prefix="/api/v1")
    app.include_router(money.router, prefix="/api/v1")
    app.include_router(jobs_router.router, prefix="/api/v1")
    app.include_router(placement.router, prefix="/api/v1")
    app.include_router(web_router)
    install_openapi(app)
    return app
