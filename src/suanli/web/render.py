"""Jinja2 environment, number formats and chart specs shared by the dashboard's pages.

Charts are plotly.js figures: the server builds ``{"data": [...], "layout": {...}}`` and the
page embeds it as JSON next to a ``<div class="chart">``; ``static/app.js`` draws it with the
locally served ``plotly.min.js`` (also after an htmx swap).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from suanli import __version__

TEMPLATES = Jinja2Templates(
    directory=Path(str(resources.files("suanli.web").joinpath("templates")))
)

NAV = (
    ("overview", "/", "Overview"),
    ("fleet", "/fleet", "Fleet"),
    ("procurement", "/procurement", "Procurement"),
    ("contracts", "/contracts", "Contracts"),
    ("billing", "/billing", "Billing"),
    ("economics", "/economics", "Economics"),
    ("twin", "/twin", "Twin"),
    ("simulation", "/simulation", "Simulation"),
    ("reports", "/reports", "Reports"),
)

COLORS = ("#1f4e79", "#d9822b", "#2e8540", "#b83232", "#6b4fa0", "#0b7d8c", "#7a7a7a")
STATE_COLORS = {
    "ordered": "#b0b7c3",
    "delivered": "#8fa7c9",
    "burn_in": "#e0b04a",
    "available": "#6aa84f",
    "leased": "#1f4e79",
    "cloud_pool": "#0b7d8c",
    "maintenance": "#d9822b",
    "failed": "#b83232",
    "repaired": "#9c6ade",
    "retired": "#555555",
    "cancelled": "#dddddd",
}


def money(value: Decimal | float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def mega(value: Decimal | float | int | None) -> str:
    """Millions with one decimal (``12.3 M``)."""
    if value is None:
        return "—"
    return f"{float(value) / 1e6:,.1f} M"


def pct(value: float | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value * 100:.{digits}f} %"


def p(value: float) -> str:
    return f"{value:,.1f}"


def num(value: float | int | None) -> str:
    """A form value without a trailing ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def months(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}"


TEMPLATES.env.filters.update(money=money, mega=mega, pct=pct, p=p, months=months, num=num)
TEMPLATES.env.globals.update(version=__version__, nav=NAV, state_colors=STATE_COLORS)


def chart(data: list[dict[str, Any]], title: str, x: str, y: str, **layout: Any) -> str:
    """A plotly figure as JSON text for a ``<script type="application/json">`` block."""
    spec = {
        "data": data,
        "layout": {
            "title": {"text": title, "font": {"size": 15}},
            "xaxis": {"title": {"text": x}},
            "yaxis": {"title": {"text": y}},
            "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
            "legend": {"orientation": "h", "x": 0, "y": -0.28, "yanchor": "top"},
            "colorway": list(COLORS),
            **layout,
        },
    }
    # "</" cannot appear inside a <script> block.
    return json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")


def page(request: Request, template: str, active: str, **context: Any) -> HTMLResponse:
    context.setdefault("title", dict((k, t) for k, _, t in NAV).get(active, "Suanli"))
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"active": active, "user": getattr(request.state, "user", None), **context},
    )


def partial(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
