"""Static assets of the dashboard, served from installed distributions, never from a CDN.

- ``plotly.min.js``: the ``plotly.js-dist-min`` npm package, installed at build time by
  ``make web-deps`` into ``<venv>/share/suanli-web`` (nothing is committed); if a ``plotly``
  wheel happens to be installed its bundled copy is used instead of failing. Without either the
  pages still show their tables, without charts.
- ``htmx.min.js``: the ``htmx.org`` npm package, installed the same way. Without it the pages
  still work: forms fall back to full page loads.
- ``swagger-ui-bundle.js`` / ``swagger-ui.css``: the ``swagger-ui-dist`` npm package, installed
  the same way, for the API docs at ``/docs`` (FastAPI's default page would load them from a CDN).
  Without them ``/docs`` says how to install them and links the raw schema.
- ``app.css`` / ``app.js``: the dashboard's own files (``web/static``).
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from suanli.core.errors import NotFoundError

router = APIRouter(include_in_schema=False)

NODE_MODULES = Path("share") / "suanli-web" / "node_modules"
#: file name served under /static -> its place inside the npm packages of ``make web-deps``
NPM_ASSETS = {
    "htmx.min.js": NODE_MODULES / "htmx.org" / "dist" / "htmx.min.js",
    "plotly.min.js": NODE_MODULES / "plotly.js-dist-min" / "plotly.min.js",
    "swagger-ui-bundle.js": NODE_MODULES / "swagger-ui-dist" / "swagger-ui-bundle.js",
    "swagger-ui.css": NODE_MODULES / "swagger-ui-dist" / "swagger-ui.css",
}
CACHE = {"Cache-Control": "public, max-age=3600"}

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1f4e79"/>'
    '<text x="16" y="22" font-size="16" text-anchor="middle" fill="#fff" '
    'font-family="sans-serif">S</text></svg>'
)


@cache
def plotly_js() -> Path | None:
    """plotly.js from npm (``make web-deps``), else from an installed ``plotly`` wheel."""
    from_npm = npm_asset("plotly.min.js")
    if from_npm is not None:
        return from_npm
    try:
        path = Path(str(resources.files("plotly").joinpath("package_data/plotly.min.js")))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


@cache
def npm_asset(name: str) -> Path | None:
    """``name`` from the npm packages installed into the venv, or None when missing."""
    for root in (Path(sys.prefix), Path.cwd() / ".venv", Path.cwd()):
        candidate = root / NPM_ASSETS[name]
        if candidate.is_file():
            return candidate
    return None


def htmx_js() -> Path | None:
    return npm_asset("htmx.min.js")


def own_static(name: str) -> Path | None:
    path = Path(str(resources.files("suanli.web").joinpath("static", name)))
    return path if path.is_file() else None


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name == "plotly.min.js":
        path = plotly_js()  # before NPM_ASSETS: falls back to a plotly wheel
    elif name in NPM_ASSETS:
        path = npm_asset(name)
    elif "/" in name or name.startswith("."):
        path = None
    else:
        path = own_static(name)
    if path is None:
        raise NotFoundError("web.asset_missing", f"no asset {name!r}", {"name": name})
    media = "text/javascript" if name.endswith(".js") else None
    return FileResponse(path, media_type=media, headers=CACHE)


@router.get("/docs")
def api_docs() -> HTMLResponse:
    """Swagger UI for /openapi.json with its assets served locally."""
    if npm_asset("swagger-ui-bundle.js") is None or npm_asset("swagger-ui.css") is None:
        return HTMLResponse(
            "<!doctype html><title>Suanli API</title><h1>Suanli API</h1>"
            "<p>Swagger UI is not installed here (<code>make web-deps</code> installs it from "
            'npm). The schema: <a href="/openapi.json">/openapi.json</a>.</p>'
        )
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Suanli API",
        swagger_js_url="/static/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger-ui.css",
        swagger_favicon_url="/favicon.ico",
    )


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(FAVICON, media_type="image/svg+xml", headers=CACHE)
