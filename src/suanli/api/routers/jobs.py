"""/api/v1/jobs: cloud jobs. Submitting queues a job, as ``suanli job submit`` does; the control
loop (:class:`~suanli.services.cluster.control_loop.ControlLoop`) admits and launches it on the
engine: ``suanli cluster watch`` runs its ticks, ``POST /api/v1/cluster/tick`` runs one (operators).
Reading never calls the engine; cancelling a launched job does (503 ``backend.unavailable`` when
the engine is unreachable)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import BaseModel, Field

from suanli.api.auth import PrincipalDep, requires
from suanli.api.deps import PagingDep, ServicesDep, out
from suanli.api.schemas import answers
from suanli.core.errors import ValidationError
from suanli.services.cluster.cloud_jobs import CloudJob
from suanli.services.cluster.control_loop import ControlLoop, TickResult
from suanli.services.common import Page
from suanli.services.container import Wiring, build_wiring
from suanli.services.tenancy import Role

router = APIRouter(tags=["jobs"])


def get_wiring(request: Request, svc: ServicesDep) -> Wiring:
    return build_wiring(svc, request.app.state.settings)


WiringDep = Annotated[Wiring, Depends(get_wiring)]


class JobIn(BaseModel):
    customer: str | None = Field(default=None, max_length=64, description="staff: required")
    gpus: int = Field(ge=1, le=4096, description="1-8, or a multiple of 8 (whole nodes)")
    job_class: Literal["reserved", "spot"] = "spot"
    command: str = Field(min_length=1, max_length=20000)


@router.post(
    "/jobs",
    responses=answers(201, 401, 403, 404, 409, 413, 422, body=CloudJob),
    dependencies=[requires(Role.OPERATOR, Role.CUSTOMER)],
    status_code=status.HTTP_201_CREATED,
)
def submit(body: JobIn, w: WiringDep, principal: PrincipalDep) -> Any:
    """Queue a job for admission (quota and priority are checked by the scheduler)."""
    principal.require(Role.OPERATOR, Role.CUSTOMER)
    customer = principal.scope(body.customer)
    if customer is None:
        raise ValidationError("job.customer_required", "customer is required", {"customer": "code"})
    return out(w.jobs.submit(customer, body.gpus, body.job_class, body.command))


@router.get(
    "/jobs",
    responses=answers(200, 401, 404, 422, body=Page[CloudJob]),
    dependencies=[requires(Role.OPERATOR, Role.FINANCE, Role.CUSTOMER)],
)
def list_jobs(
    w: WiringDep,
    principal: PrincipalDep,
    page: PagingDep,
    customer: Annotated[str | None, Query(max_length=64)] = None,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> Any:
    principal.require(Role.OPERATOR, Role.FINANCE, Role.CUSTOMER)
    return out(w.jobs.list_jobs(principal, customer, state, page.limit, page.offset))


@router.get(
    "/jobs/{job}",
    responses=answers(200, 401, 404, 422, body=CloudJob),
    dependencies=[requires(Role.OPERATOR, Role.FINANCE, Role.CUSTOMER)],
)
def show(job: str, w: WiringDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR, Role.FINANCE, Role.CUSTOMER)
    return out(w.jobs.get(job, principal))


@router.post(
    "/jobs/{job}/cancel",
    responses=answers(200, 401, 403, 404, 409, 422, 503, body=CloudJob),
    dependencies=[requires(Role.OPERATOR, Role.CUSTOMER)],
)
def cancel(job: str, w: WiringDep, principal: PrincipalDep) -> Any:
    principal.require(Role.OPERATOR, Role.CUSTOMER)
    w.jobs.get(job, principal)  # customers cancel only their own jobs
    return out(w.jobs.cancel(job))


@router.post(
    "/cluster/tick",
    responses=answers(200, 401, 403, body=TickResult),
    dependencies=[requires(Role.OPERATOR)],
)
def tick(w: WiringDep, principal: PrincipalDep) -> Any:
    """One control-loop tick (reconcile → watch → requeue lost → schedule → meter). A step's
    error is reported in ``errors`` with its code; the other steps still run."""
    principal.require(Role.OPERATOR)
    return out(ControlLoop(w.cluster, w.jobs, w.svc.clock).tick())
