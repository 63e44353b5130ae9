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
from suanli.core import i18n
from suanli.core.i18n import N_, _

TEMPLATES = Jinja2Templates(
    directory=Path(str(resources.files("suanli.web").joinpath("templates")))
)
TEMPLATES.env.add_extension("jinja2.ext.i18n")
# Templates say {{ _("Overview") }} or {% trans %}; the language is the request's
# (suanli.web.language sets it before the page runs).
TEMPLATES.env.install_gettext_callables(  # type: ignore[attr-defined]
    i18n.gettext, i18n.ngettext, newstyle=True
)


NAV = (
    ("overview", "/", N_("Overview")),
    ("fleet", "/fleet", N_("Fleet")),
    ("procurement", "/procurement", N_("Procurement")),
    ("contracts", "/contracts", N_("Contracts")),
    ("billing", "/billing", N_("Billing")),
    ("economics", "/economics", N_("Economics")),
    ("twin", "/twin", N_("Twin")),
    ("simulation", "/simulation", N_("Simulation")),
    ("reports", "/reports", N_("Reports")),
)

#: Values shown on the pages and translated there with ``_(value)`` (a server state, a contract
#: kind or status, an invoice line's kind and unit, a payment kind, a twin run's status): marked
#: here so that extraction finds them. A value not listed shows as it is.
VOCABULARY = (
    N_("ordered"), N_("delivered"), N_("burn_in"), N_("available"), N_("leased"),
    N_("cloud_pool"), N_("maintenance"), N_("failed"), N_("repaired"), N_("retired"),
    N_("cancelled"), N_("queued"), N_("running"), N_("done"), N_("lease"), N_("reserved"),
    N_("active"), N_("ended"), N_("terminated"), N_("rent"), N_("fee"), N_("usage"),
    N_("sla_credit"), N_("tokens"), N_("true_up"), N_("penalty"), N_("server-day"),
    N_("server-month"), N_("server-hour"), N_("gpu-hour"), N_("each"), N_("deposit"),
    N_("payment"), N_("invoice"), N_("credit_note"),
)  # fmt: skip

#: Qualitative palette of 20 colours told apart by hue *and* lightness (Tableau 20 order:
#: each dark colour is followed by its light twin), so a chart with 10+ series never repeats a
#: colour; :func:`series_colors` extends it for more series than that.
COLORS = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94",
    "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip
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


def series_colors(n: int) -> list[str]:
    """``n`` distinct colours: the palette, then hues spaced by the golden angle."""
    out = list(COLORS[:n])
    for i in range(len(out), n):
        hue = (i * 137.508) % 360
        lightness = 35 + 20 * (i % 3)
        out.append(f"hsl({hue:.1f},65%,{lightness}%)")
    return out


def axis_range(
    values: list[float | None], floor: float, ceiling: float, step: float
) -> list[float]:
    """``[floor, ceiling]`` widened to whole ``step``s so every finite value is inside (a margin
    of -250 % is drawn, not clipped at the default floor)."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    low = min([floor, *finite])
    high = max([ceiling, *finite])
    return [math.floor(low / step) * step, math.ceil(high / step) * step]


def money(value: Decimal | float | int | None, digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def mega(value: Decimal | float | int | None) -> str:
    """A large amount: millions with one decimal (``12.3 M``); 万元 / 亿元 in Chinese."""
    return i18n.large_money(value)


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


def tr(value: Any) -> Any:
    """A value from the data (a state, a kind, ``yes``) in the page's language; numbers and
    values without a translation pass through unchanged."""
    return i18n.gettext(value) if isinstance(value, str) else value


def months(value: float | None) -> str:
    return _("never") if value is None else f"{value:.1f}"


TEMPLATES.env.filters.update(
    money=money, mega=mega, pct=pct, p=p, months=months, num=num, tr=tr
)  # tr: a value from the data (a state, a kind) in the page's language, never %-formatted
TEMPLATES.env.globals.update(
    version=__version__,
    nav=NAV,
    state_colors=STATE_COLORS,
    lang=i18n.current,
    languages=i18n.NATIVE_NAMES,
)


def has_points(data: list[dict[str, Any]]) -> bool:
    """Whether any trace has a value to draw (plotly draws an empty -1..1 frame otherwise)."""
    return any(v is not None for trace in data for v in trace.get("y", []) or trace.get("x", []))


def chart(data: list[dict[str, Any]], title: str, x: str, y: str, **layout: Any) -> str:
    """A plotly figure as JSON text for a ``<script type="application/json">`` block, or ``""``
    when there is nothing to draw: the ``chart`` macro then shows its empty-state sentence.
    ``x`` and ``y`` are the axis titles, with their unit. The title, the axis titles and the
    trace names are translated here (call sites mark them with ``N_``); a name that is data (a
    customer code, a SKU) has no translation and shows as it is."""
    if not has_points(data):
        return ""
    title, x, y = _(title), _(x), _(y)
    data = [{**t, "name": _(t["name"])} if isinstance(t.get("name"), str) else t for t in data]
    # Axis options are merged into the titled axes: passing a range must not drop the title.
    # automargin: long category labels and the axis title never overlap or get cut
    xaxis = {"title": {"text": x}, "automargin": True, **layout.pop("xaxis", {})}
    yaxis = {"title": {"text": y}, "automargin": True, **layout.pop("yaxis", {})}
    spec = {
        "data": data,
        "layout": {
            "title": {"text": title, "font": {"size": 15}},
            "xaxis": xaxis,
            "yaxis": yaxis,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
            "legend": {"orientation": "h", "x": 0, "y": -0.28, "yanchor": "top"},
            "colorway": list(COLORS),
            **layout,
        },
    }
    # "</" cannot appear inside a <script> block.
    return json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")


def page(request: Request, template: str, active: str, **context: Any) -> HTMLResponse:
    context.setdefault("title", _(dict((k, t) for k, _h, t in NAV).get(active, "Suanli")))
    return TEMPLATES.TemplateResponse(
        request,
        template,
        {"active": active, "user": getattr(request.state, "user", None), **context},
    )


def partial(
    request: Request, template: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)
