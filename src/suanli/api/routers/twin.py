"""/api/v1/twin: bundled twins, and twin runs started in the background and polled (operators).

``POST /twin/runs`` answers 202 with the run's id and ``Location``; ``GET /twin/runs/{id}``
gives its status (``queued → running → done | failed``), and when done the summary (NPV, P(loss),
fans) and path 0's monthly table. A run names a bundled twin (``scenario``) or carries a twin
file's text (``toml``), plus optional nested ``overrides``. Runs live in the API process
(:mod:`suanli.services.twin_runs`); at most 8 wait at once (409 ``twin.queue_full``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from suanli.api.auth import requires
from suanli.api.schemas import answers
from suanli.services.tenancy import Role
from suanli.services.twin_runs import RunStatus, TwinRuns
from suanli.simulation.twin.library import load_twin, parse_twin, twin_names
from suanli.simulation.twin.scenario import TwinScenario

MAX_API_PATHS = 1_000
MAX_TOML = 200_000

router = APIRouter(prefix="/twin", tags=["twin"], dependencies=[requires(Role.OPERATOR)])


class TwinRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: str | None = Field(default=None, max_length=128, description="a bundled twin")
    toml: str | None = Field(default=None, max_length=MAX_TOML, description="a twin file's text")
    overrides: dict[str, Any] = Field(
        default_factory=dict, description='nested inputs, e.g. {"twin": {"pool": {"load": 0.9}}}'
    )
    paths: Annotated[int, Field(ge=1, le=MAX_API_PATHS)] = 1
    seed: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0

    @model_validator(mode="after")
    def _one_source(self) -> TwinRunRequest:
        if (self.scenario is None) == (self.toml is None):
            raise ValueError("give exactly one of scenario (a bundled twin) or toml (a file)")
        return self

    def resolve(self) -> TwinScenario:
        if self.toml is not None:
            return parse_twin(self.toml, self.overrides)
        assert self.scenario is not None
        return load_twin(self.scenario, self.overrides)


RUN_WHY = {404: "no bundled twin of that name", 409: "8 runs wait already (twin.queue_full)"}


class NamedTwin(BaseModel):
    name: str
    description: str


class TwinRunOut(BaseModel):
    """A twin run; ``summary`` once done, ``error`` once failed, ``monthly`` (path 0's table)
    only from ``GET /twin/runs/{id}``."""

    id: str
    scenario: str
    paths: int
    seed: int
    status: RunStatus
    created_at: str = Field(description="ISO 8601")
    started_at: str | None
    finished_at: str | None
    error: dict[str, Any] | None
    summary: dict[str, Any] | None
    monthly: list[dict[str, Any]] = []


def _runs(request: Request) -> TwinRuns:
    runs: TwinRuns = request.app.state.twin_runs
    return runs


@router.get("/scenarios", responses=answers(200, 401, 403, body=list[NamedTwin]))
def scenarios() -> list[dict[str, str]]:
    """The bundled twins with their descriptions."""
    return [{"name": n, "description": load_twin(n).economics.description} for n in twin_names()]


@router.post(
    "/runs",
    status_code=202,
    responses=answers(202, 401, 403, 404, 409, 413, 422, body=TwinRunOut, why=RUN_WHY),
)
def start_run(body: TwinRunRequest, request: Request, response: Response) -> dict[str, Any]:
    """Validate the twin and queue a run; poll ``GET /twin/runs/{id}``."""
    record = _runs(request).submit(body.resolve(), body.paths, body.seed)
    response.headers["Location"] = f"/api/v1/twin/runs/{record.id}"
    return record.as_dict(with_monthly=False)


@router.get("/runs", responses=answers(200, 401, 403, body=list[TwinRunOut]))
def list_runs(request: Request) -> list[dict[str, Any]]:
    """Runs of this API process, newest first (without their monthly tables)."""
    return [r.as_dict(with_monthly=False) for r in _runs(request).list()]


@router.get("/runs/{run_id}", responses=answers(200, 401, 403, 404, 422, body=TwinRunOut))
def get_run(run_id: str, request: Request) -> dict[str, Any]:
    return _runs(request).get(run_id).as_dict()
