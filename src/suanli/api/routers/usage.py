"""/api/v1: metered usage: bulk ingestion (idempotent by event id) and listing."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from pydantic import BaseModel, Field

from suanli.api.auth import IdempotencyKey, PrincipalDep, idempotent, requires
from suanli.api.deps import PagingDep, ServicesDep, page_out
from suanli.api.schemas import answers
from suanli.services.billing.metering import MAX_BATCH, IngestResult, UsagePage
from suanli.services.billing.tokens import ingest_usage
from suanli.services.tenancy import Role

router = APIRouter(tags=["usage"])

EXAMPLE = {
    "event_id": "job-42/2024-04-02T00", "customer": "acme", "sku": "HGX-H800-8",
    "priority_class": "standard", "job_id": "job-42", "started_at": "2024-04-02T00:00:00Z",
    "ended_at": "2024-04-02T01:00:00Z", "gpu_seconds": "28800",
}  # fmt: skip


class UsageBatchIn(BaseModel):
    """Records are checked one by one: bad ones come back in ``rejected`` with row and reason."""

    model_config = {"json_schema_extra": {"examples": [{"records": [EXAMPLE]}]}}  # type: ignore[list-item]
    records: list[dict[str, Any]] = Field(
        max_length=MAX_BATCH,
        description="each: event_id, customer, sku, priority_class (reserved|high|standard|spot), "
        "job_id, started_at, ended_at (ISO 8601), gpu_seconds (decimal string, >= 0); or a token "
        "record: event_id, customer, model, started_at, ended_at, input_tokens, "
        "cache_hit_tokens (part of input_tokens), output_tokens (whole numbers >= 0)",
    )


INGEST_OUT = {
    "received": 3, "accepted": 1, "duplicates": 1,
    "rejected": [{"row": 2, "event_id": "job-43/2024-04-02T00", "field": "customer", "reason": "unknown customer 'ghost'", "code": "usage.invalid_record"}],
}  # fmt: skip


@router.post("/usage/batches", dependencies=[requires(Role.OPERATOR)], status_code=status.HTTP_201_CREATED,
             responses=answers(201, 401, 403, 409, 413, 422, body=IngestResult, example=INGEST_OUT))  # fmt: skip
def ingest(
    body: UsageBatchIn,
    request: Request,
    svc: ServicesDep,
    principal: PrincipalDep,
    key: IdempotencyKey = None,
) -> Any:
    """Bulk ingestion of GPU-usage and token records (a record with ``model`` or token counts is
    a token record); sending a batch again changes nothing (idempotent by ``event_id``)."""
    principal.require(Role.OPERATOR)
    m = svc.money
    return idempotent(
        request, svc, principal, key, body.records,
        lambda: ingest_usage(m.metering, m.tokens, body.records),
    )  # fmt: skip


@router.get("/usage", responses=answers(200, 401, 404, 422, body=UsagePage))
def list_usage(
    svc: ServicesDep, principal: PrincipalDep, page: PagingDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
    job_id: Annotated[str | None, Query(max_length=128)] = None,
    since: datetime | None = None, until: datetime | None = None,
) -> Any:  # fmt: skip
    return page_out(
        svc.money.metering.list_usage(
            principal, customer, sku, job_id, since, until, page.limit, page.offset
        )
    )
