"""/api/v1 leasing and billing (issue 6): one router bundling customers and access, contracts,
usage and invoices, so the app includes it with one line. Every endpoint here needs a token."""

from __future__ import annotations

from fastapi import APIRouter

from suanli.api.routers import contracts, credits, invoices, tenancy, tokens, usage

router = APIRouter()
for sub in (
    tenancy.router,
    contracts.router,
    tokens.router,
    usage.router,
    invoices.router,
    credits.router,
):
    router.include_router(sub)
