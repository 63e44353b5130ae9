"""/api/v1: the disclosure ledger (announcements, order funding, fund transfers) and reports.

Access: finance and admin only (a board secretary's data before it is published); operators
and customers get 403 ``auth.forbidden`` before any lookup. When ``actor`` is omitted the
calling user's name is recorded.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from suanli.api.auth import AUTHENTICATED, PrincipalDep
from suanli.api.deps import ServicesDep, out
from suanli.api.schemas import Items, answers
from suanli.core.catalog import PConvention
from suanli.services.container import Services
from suanli.services.reports.archive import Difference
from suanli.services.reports.i18n import check_lang, sentence
from suanli.services.reports.ledger import (
    Announcement,
    DisclosureService,
    FundingSource,
    NewAnnouncement,
    NewTransfer,
    Transfer,
)
from suanli.services.reports.operating import ReportService
from suanli.services.reports.render import to_html
from suanli.services.tenancy import Principal, Role

router = APIRouter(tags=["reports"], dependencies=AUTHENTICATED)
Actor = Annotated[str | None, Field(max_length=128, description="default: the calling user")]


def finance(principal: PrincipalDep) -> Principal:
    principal.require(Role.FINANCE)
    return principal


Finance = Annotated[Principal, Depends(finance)]


def _ledger(svc: Services) -> DisclosureService:
    return DisclosureService(svc.sessions, svc.clock, svc.catalog)


class AnnouncementIn(BaseModel):
    ref: str
    announced_on: date
    title: str
    sku_mix: dict[str, int]
    planned_p: Decimal
    p_convention: PConvention = PConvention.FP16_SPARSE
    purpose: str
    funding_source: FundingSource
    raised_amount: Decimal | None = None
    actor: Actor = None


class LinkIn(BaseModel):
    order: str


class FundingIn(BaseModel):
    funding_source: FundingSource


class FundingOut(BaseModel):
    number: str
    funding_source: FundingSource


class FlagOut(BaseModel):
    section: str
    key: str
    text: str


class ArchivedOut(BaseModel):
    """An archived version of a report (``GET /reports/archive``)."""

    period: str
    version: int
    generated_at: str = Field(description="ISO 8601")
    restates_version: int | None
    inputs_hash: str
    differences: list[Difference]


class OperatingOut(BaseModel):
    """``GET /reports/operating`` as JSON: the archived version and its figures."""

    period: str
    version: int
    restates_version: int | None
    closed: bool
    generated_at: str = Field(description="ISO 8601")
    inputs_hash: str
    figures: dict[str, str]
    projections: dict[str, str] = Field(
        description="the digital twin's projected figures (never archived, never a restatement)"
    )
    risk_sentences: list[FlagOut] = Field(
        description="the quantified risk factors (economics and twin) as sentences"
    )
    flags: list[FlagOut]
    differences: list[Difference]


class TransferIn(BaseModel):
    ref: str
    transferred_on: date
    amount: Decimal
    funding_source: FundingSource
    counterparty: str
    purpose: str
    announcement: str | None = None
    disclosed: bool = True
    currency: str | None = None
    actor: Actor = None


@router.get("/announcements", responses=answers(200, 401, 403, body=Items[Announcement]))
def list_announcements(svc: ServicesDep, _: Finance) -> Any:
    return {"items": out(_ledger(svc).list_announcements())}


@router.post(
    "/announcements",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Announcement),
)
def announce(body: AnnouncementIn, svc: ServicesDep, principal: Finance) -> Any:
    spec = NewAnnouncement(body.ref, body.announced_on, body.title, body.sku_mix, body.planned_p,
                           body.p_convention, body.purpose, body.funding_source,
                           body.raised_amount)  # fmt: skip
    return out(_ledger(svc).announce(spec, body.actor or principal.name))


@router.post(
    "/announcements/{ref}/orders",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Announcement),
)
def link_order(ref: str, body: LinkIn, svc: ServicesDep, _: Finance) -> Any:
    return out(_ledger(svc).link_order(ref, body.order))


@router.put(
    "/purchase-orders/{number}/funding",
    responses=answers(200, 401, 403, 404, 409, 413, 422, body=FundingOut),
)
def set_funding(number: str, body: FundingIn, svc: ServicesDep, _: Finance) -> Any:
    _ledger(svc).set_order_funding(number, body.funding_source)
    return {"number": number, "funding_source": body.funding_source.value}


@router.get("/fund-transfers", responses=answers(200, 401, 403, body=Items[Transfer]))
def list_transfers(svc: ServicesDep, _: Finance) -> Any:
    return {"items": out(_ledger(svc).list_transfers())}


@router.post(
    "/fund-transfers",
    status_code=status.HTTP_201_CREATED,
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=Transfer),
)
def record_transfer(body: TransferIn, svc: ServicesDep, principal: Finance) -> Any:
    spec = NewTransfer(body.ref, body.transferred_on, body.amount, body.funding_source,
                       body.counterparty, body.purpose, body.announcement, body.disclosed,
                       body.currency)  # fmt: skip
    return out(_ledger(svc).record_transfer(spec, body.actor or principal.name))


@router.get(
    "/reports/operating",
    response_model=None,
    responses=answers(200, 401, 403, 409, 422, body=OperatingOut, html=True),
)
def operating_report(
    svc: ServicesDep,
    principal: Finance,
    period: Annotated[str, Query(description="2024Q1 | 2024-03 | 2024")],
    lang: Annotated[str, Query(description="zh | en")] = "en",
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
    twin: Annotated[
        bool, Query(description="add the digital-twin projection (never archived)")
    ] = True,
) -> Any:
    """Build the operating report from the ledger and archive it (a change of figures for the
    period is archived as a restatement). ``format=html`` answers the printable page. The
    digital-twin section (``twin``, on by default where the ledger has servers) is a projection:
    its figures are answered under ``projections``, never archived."""
    check_lang(lang)
    done = ReportService(svc.sessions, svc.clock, svc.catalog, svc.money.billing.currency).generate(
        period, principal.name, twin=twin
    )
    if format == "html":
        return HTMLResponse(to_html(done.report, done.archived, lang))
    a = done.archived
    return {
        "period": a.period, "version": a.version, "restates_version": a.restates_version,
        "closed": done.closed, "generated_at": a.generated_at.isoformat(),
        "inputs_hash": a.inputs_hash, "figures": a.figures,
        "projections": done.report.projections(),
        "risk_sentences": [{"section": s.key, "key": m.key, "text": sentence(lang, m)}
                           for s in done.report.sections if s.key in ("risks", "twin")
                           for m in s.sentences],
        "flags": [{"section": s, "key": f.key, "text": sentence(lang, f)} for s, f in done.report.flags()],
        "differences": out(list(a.differences)),
    }  # fmt: skip


@router.get("/reports/archive", responses=answers(200, 401, 403, 422, body=Items[ArchivedOut]))
def report_archive(
    svc: ServicesDep, _: Finance, period: Annotated[str | None, Query()] = None
) -> Any:
    rows = _ledger(svc).archived("operating", period)
    return {"items": [{"period": r.period, "version": r.version, "generated_at": r.generated_at.isoformat(),
                       "restates_version": r.restates_version, "inputs_hash": r.inputs_hash,
                       "differences": out(list(r.differences))} for r in rows]}  # fmt: skip
