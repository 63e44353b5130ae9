"""/api/v1: the inference product (issue 15): the token price list, token usage records and token
usage by day. Token records are ingested through ``POST /usage/batches`` with the GPU usage."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from suanli.api.auth import PrincipalDep, requires
from suanli.api.deps import PagingDep, ServicesDep, out, page_out
from suanli.api.schemas import Items, answers
from suanli.core.token_pricing import InferencePrice
from suanli.services.billing.tokens import DailyTokens, TokenUsagePage
from suanli.services.tenancy import Role

router = APIRouter(tags=["tokens"])
PerM = Annotated[Decimal, Field(ge=0, lt=Decimal("1e12"), decimal_places=8)]
Share = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]


class InferencePriceIn(BaseModel):
    """A model's token prices in CNY per million tokens, valid from ``valid_from`` on."""

    model_config = {"json_schema_extra": {"examples": [{
        "model": "deepseek-v3", "valid_from": "2025-02-09", "input_miss_per_m": "2",
        "input_hit_per_m": "0.5", "output_per_m": "8", "night_discount": "0.5",
        "night_start": "00:30", "night_end": "08:30", "utc_offset_minutes": 480}]}}  # fmt: skip
    model: str = Field(max_length=64)
    valid_from: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
    input_miss_per_m: PerM
    input_hit_per_m: PerM
    output_per_m: PerM
    night_discount: Share = Decimal(0)
    night_start: time = time(0, 30)
    night_end: time = time(8, 30)
    utc_offset_minutes: int = Field(default=480, ge=-720, le=840)
    vat_rate: Share = Decimal("0.06")


@router.put(
    "/inference-prices",
    responses=answers(200, 401, 403, 409, 413, 422, body=InferencePrice),
    dependencies=[requires(Role.OPERATOR, Role.FINANCE)],
)
def set_inference_price(body: InferencePriceIn, svc: ServicesDep, principal: PrincipalDep) -> Any:
    """Set (or replace) the version of a model's token prices valid from ``valid_from``."""
    principal.require(Role.OPERATOR, Role.FINANCE)
    b = body
    return out(
        svc.money.tokens.set_price(
            b.model, b.input_miss_per_m, b.input_hit_per_m, b.output_per_m, b.valid_from,
            b.night_discount, b.night_start, b.night_end, b.utc_offset_minutes, b.vat_rate,
        )
    )  # fmt: skip


@router.get("/inference-prices", responses=answers(200, 401, 422, body=Items[InferencePrice]))
def list_inference_prices(
    svc: ServicesDep, principal: PrincipalDep,
    model: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:  # fmt: skip
    return {"items": out(svc.money.tokens.list_prices(model))}


@router.get("/usage/tokens", responses=answers(200, 401, 404, 422, body=TokenUsagePage))
def list_token_usage(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    model: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> Any:  # fmt: skip
    """Token usage records by start time (a customer sees only its own)."""
    return page_out(
        svc.money.tokens.list_usage(
            principal, customer, model, since, until, page.limit, page.offset
        )
    )


@router.get("/usage/tokens/daily", responses=answers(200, 401, 404, 422, body=Items[DailyTokens]))
def daily_token_usage(
    svc: ServicesDep, principal: PrincipalDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> Any:  # fmt: skip
    """Tokens by UTC day and model (requests, input, cache-hit and output tokens)."""
    return {"items": out(svc.money.tokens.daily(principal, customer, since, until))}
