"""The dashboard: server-rendered pages (Jinja2 + htmx, charts with plotly.js) over the services.

``router`` holds every page and the static assets; ``create_app`` includes it with one line.
Pages read ``request.app.state.services`` (the same service bundle as the API) and never
write. Modules: :mod:`.auth` (sign-in with API tokens, who may see what), :mod:`.pages`
(overview, fleet, procurement), :mod:`.money_pages` (contracts, customers, billing),
:mod:`.economics` (what-if), :mod:`.planning` (purchase plan), :mod:`.twin` (twin runs),
:mod:`.simulation` (result curves), :mod:`.views` and
:mod:`.money_views` (figures), :mod:`.render` (templates, formats, chart specs), :mod:`.assets`.
"""

from fastapi import APIRouter, Depends

from suanli.web import (
    assets,
    auth,
    economics,
    money_pages,
    pages,
    planning,
    reports,
    simulation,
    twin,
)

router = APIRouter(include_in_schema=False)
router.include_router(assets.router)
router.include_router(auth.router)
for _staff in (pages, economics, planning, simulation, reports, twin):
    router.include_router(_staff.router, dependencies=[Depends(auth.require_staff)])
router.include_router(money_pages.router, dependencies=[Depends(auth.require_user)])

__all__ = ["router"]
