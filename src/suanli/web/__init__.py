"""The dashboard: server-rendered pages (Jinja2 + htmx, charts with plotly.js) over the services.

``router`` holds every page and the static assets; ``create_app`` includes it with one line.
Pages read ``request.app.state.services`` (the same service bundle as the API) and never
write. Modules: :mod:`.pages` (overview, fleet, procurement), :mod:`.economics` (what-if),
:mod:`.simulation` (result curves), :mod:`.placeholders` (areas not built yet),
:mod:`.views` (figures), :mod:`.render` (templates, formats, chart specs), :mod:`.assets`.
"""

from fastapi import APIRouter

from suanli.web import assets, economics, pages, placeholders, simulation

router = APIRouter(include_in_schema=False)
for _module in (assets, pages, economics, simulation, placeholders):
    router.include_router(_module.router)

__all__ = ["router"]
