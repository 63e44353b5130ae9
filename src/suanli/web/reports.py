"""Dashboard page *Reports*: archived operating reports, their versions and restatements.

Read-only, like every page: reports are generated with ``suanli report operating`` or
``GET /api/v1/reports/operating``; this page lists what the archive holds and, for a version
that restates an earlier one, every figure that changed. Finance and admin only (an operator
sees a 403 page; customers are sent to their own page by the staff gate).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from suanli.core.errors import ForbiddenError
from suanli.core.i18n import _
from suanli.services.reports.ledger import DisclosureService
from suanli.services.tenancy import Role
from suanli.web.render import page, partial

router = APIRouter(include_in_schema=False)


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request) -> HTMLResponse:
    user = request.state.user
    svc = request.app.state.services
    try:
        user.require(Role.FINANCE)
    except ForbiddenError as exc:
        return partial(request, "error.html", 403, title=_("Forbidden"), message=exc.message,
                       user=user)  # fmt: skip
    archived = DisclosureService(svc.sessions, svc.clock).archived("operating")
    newest_first = sorted(archived, key=lambda r: (r.period, r.version), reverse=True)
    return page(request, "reports.html", "reports", reports=newest_first)
