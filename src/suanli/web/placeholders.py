"""Pages for areas whose services are not part of this build yet (contracts, billing)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from suanli.web.render import page

router = APIRouter(include_in_schema=False)


@router.get("/contracts", response_class=HTMLResponse)
def contracts(request: Request) -> HTMLResponse:
    return page(
        request,
        "placeholder.html",
        "contracts",
        title="Contracts & customers",
        message="The lease calendar (Gantt), renewals and revenue per customer appear here once "
        "leasing (issue 6) is part of this build.",
    )


@router.get("/billing", response_class=HTMLResponse)
def billing(request: Request) -> HTMLResponse:
    return page(
        request,
        "placeholder.html",
        "billing",
        title="Billing",
        message="Invoices, AR aging and billed vs recognised vs collected revenue appear here "
        "once billing (issue 6) is part of this build.",
    )
