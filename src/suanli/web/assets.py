"""Static assets of the dashboard, served from installed distributions, never from a CDN.

- ``plotly.min.js``: the plotly.js bundle inside the installed ``plotly`` wheel
  (``plotly/package_data/plotly.min.js``).
- ``htmx.min.js``: the ``htmx.org`` npm package, installed at build time by ``make web-deps``
  into ``<venv>/share/suanli-web`` (nothing is committed). Without it the pages still work:
  forms fall back to full page loads.
- ``app.css`` / ``app.js``: the dashboard's own files (``web/static``).
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from suanli.core.errors import NotFoundError

router = APIRouter(include_in_schema=False)

HTMX_DIR = Path("share") / "suanli-web" / "node_modules" / "htmx.org" / "dist"
CACHE = {"Cache-Control": "public, max-age=3600"}

FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">'
    '<rect width="32" height="32" rx="6" fill="#1f4e79"/>'
    '<text x="16" y="22" font-size="16" text-anchor="middle" fill="#fff" '
    'font-family="sans-serif">S</text></svg>'
)


@cache
def plotly_js() -> Path | None:
    try:
        path = Path(str(resources.files("plotly").joinpath("package_data/plotly.min.js")))
    except ModuleNotFoundError:
        return None
    return path if path.is_file() else None


@cache
def htmx_js() -> Path | None:
    for root in (Path(sys.prefix), Path.cwd() / ".venv", Path.cwd()):
        candidate = root / HTMX_DIR / "htmx.min.js"
        if candidate.is_file():
            return candidate
    return None


def own_static(name: str) -> Path | None:
    path = Path(str(resources.files("suanli.web").joinpath("static", name)))
    return path if path.is_file() else None


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name == "plotly.min.js":
        path = plotly_js()
    elif name == "htmx.min.js":
        path = htmx_js()
    elif "/" in name or name.startswith("."):
        path = None
    else:
        path = own_static(name)
    if path is None:
        raise NotFoundError("web.asset_missing", f"no asset {name!r}", {"name": name})
    media = "text/javascript" if name.endswith(".js") else None
    return FileResponse(path, media_type=media, headers=CACHE)


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(FAVICON, media_type="image/svg+xml", headers=CACHE)
