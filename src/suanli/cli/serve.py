"""`suanli serve`: run the API server with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from suanli.api.app import create_app
from suanli.settings import load_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
) -> None:
    """Serve the API (OpenAPI at /docs)."""
    settings = load_settings()
    app = create_app(settings)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")
