"""/api/v1/economics: evaluate, sensitivity and Monte Carlo over scenarios, and purchase
planning (``POST /plan``, a planning scenario: :mod:`suanli.economics.planning`); no database
beyond checking the caller's token.

Any authenticated user may call these (a token of any role); without one they answer 401.

Bodies use the scenario schema of the scenario files (:class:`~suanli.economics.scenario.Scenario`).
Invalid bodies answer 422 ``{"code": "scenario.invalid", "fields": {"fleet.sku": ...}}`` with
dotted field paths as the CLI prints them (the business-form tag is dropped from the path).
CPU-bound endpoints are plain ``def`` so they run in the worker thread pool.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from suanli.api.auth import AUTHENTICATED
from suanli.api.schemas import answers
from suanli.core.errors import ValidationError
from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled, scenario_names
from suanli.economics.loader import field_path
from suanli.economics.montecarlo import DEFAULT_CHUNK, run_montecarlo
from suanli.economics.planning import PlanningSpec, default_spec, plan_purchase
from suanli.economics.planning.spec import Seed
from suanli.economics.scenario import Scenario
from suanli.economics.sensitivity import grid, tornado
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.planning import with_twin_demand

MAX_API_PATHS = 200_000


class _CodedValidationRoute(APIRoute):
    """Turns request validation failures into ``scenario.invalid`` with clean field paths."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except RequestValidationError as exc:
                fields = {
                    field_path(p for p in err["loc"] if p != "body"): err["msg"]
                    for err in exc.errors()
                }
                raise ValidationError(
                    "scenario.invalid", f"invalid request: {', '.join(sorted(fields))}", fields
                ) from None

        return handler


router = APIRouter(
    prefix="/economics",
    tags=["economics"],
    route_class=_CodedValidationRoute,
    dependencies=AUTHENTICATED,
)


class GridSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    x: str
    x_values: Annotated[list[float], Field(min_length=1, max_length=50)]
    y: str
    y_values: Annotated[list[float], Field(min_length=1, max_length=50)]


class SensitivityRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: Scenario
    inputs: list[str] | None = None
    delta: Annotated[float, Field(gt=0.0, lt=1.0)] = 0.2
    metric: str = "npv"
    grid: GridSpec | None = None


class MonteCarloRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scenario: Scenario
    paths: Annotated[int, Field(ge=1, le=MAX_API_PATHS)] = 10_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    chunk_size: Annotated[int, Field(ge=1, le=65_536)] = DEFAULT_CHUNK


@router.get("/scenarios", responses=answers(200, 401))
def list_scenarios() -> dict[str, Any]:
    items = []
    for name in scenario_names():
        sc = load_bundled(name)
        items.append({"name": name, "kind": sc.form.kind, "description": sc.description})
    return {"items": items}


@router.get("/scenarios/{name}", responses=answers(200, 401, 404, 422))
def get_scenario(name: str) -> dict[str, Any]:
    """A bundled scenario, resolved, in the request-body schema."""
    return load_bundled(name).model_dump(mode="json", exclude_none=True)


@router.post("/evaluate", responses=answers(200, 401, 413, 422))
def evaluate_scenario(
    scenario: Scenario,
    criterion: Literal["npv", "profit"] = "npv",
    table: Annotated[bool, Query(description="Include the monthly cash-flow table.")] = False,
) -> dict[str, Any]:
    result = evaluate(scenario, criterion)
    out = result.summary()
    if table:
        out["table"] = result.table()
    return out


@router.post("/sensitivity", responses=answers(200, 401, 413, 422))
def sensitivity(body: SensitivityRequest) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tornado": tornado(body.scenario, body.inputs, body.delta, body.metric).to_dict()
    }
    if body.grid is not None:
        g = body.grid
        out["grid"] = grid(body.scenario, g.x, g.x_values, g.y, g.y_values, body.metric).to_dict()
    return out


@router.post("/montecarlo", responses=answers(200, 401, 413, 422))
def montecarlo(body: MonteCarloRequest) -> dict[str, Any]:
    result = run_montecarlo(body.scenario, body.paths, body.seed, chunk_size=body.chunk_size)
    return {
        **result.summary(),
        "fan": {
            "months": result.fan_months.astype(int).tolist(),
            **{k: v.tolist() for k, v in result.fan.items()},
        },
    }


class PlanRequest(BaseModel):
    """A planning scenario (default: the bundled ``h800-expansion``); ``scenarios``,
    ``oos_scenarios`` and ``seed`` override its ``solver`` section; ``demand_from_twin`` (a
    bundled twin's name) replaces its ``demand`` with that twin's expected demand."""

    model_config = ConfigDict(extra="forbid")
    spec: PlanningSpec | None = None
    demand_from_twin: str | None = None
    scenarios: Annotated[int, Field(ge=1)] | None = None
    oos_scenarios: Annotated[int, Field(ge=1)] | None = None
    seed: Seed | None = None


@router.get("/plan/default", responses=answers(200, 401))
def default_plan() -> dict[str, Any]:
    """The bundled planning scenario, in the request's ``spec`` schema."""
    return default_spec().model_dump(mode="json")


@router.post("/plan", responses=answers(200, 401, 404, 413, 422))
def plan(body: PlanRequest, request: Request) -> dict[str, Any]:
    """Orders per SKU and month maximising expected NPV under the risk limit, the efficient
    frontier and the baselines, with out-of-sample figures (docs/economics.md). The request's
    size and solver time are capped by the ``plan_max_*`` settings (422 ``planning.invalid``);
    an unknown ``demand_from_twin`` answers 404 ``twin.unknown_scenario``."""
    cfg = request.app.state.settings
    spec = body.spec or default_spec()
    if body.demand_from_twin is not None:
        spec = with_twin_demand(spec, load_twin(body.demand_from_twin))
    solver = spec.solver.model_copy(
        update={
            k: v
            for k, v in (
                ("scenarios", body.scenarios),
                ("oos_scenarios", body.oos_scenarios),
                ("seed", body.seed),
            )
            if v is not None
        }
    )
    cells = (solver.scenarios + solver.oos_scenarios) * spec.horizon_months * len(spec.sku)

    def name(field: str) -> str:  # the request's override, else the spec's solver section
        return field if getattr(body, field, None) is not None else f"spec.solver.{field}"

    limits = {
        name("scenarios"): (solver.scenarios, cfg.plan_max_scenarios),
        name("oos_scenarios"): (solver.oos_scenarios, cfg.plan_max_oos),
        name("time_limit_s"): (solver.time_limit_s, cfg.plan_max_seconds),
        "(scenarios + oos_scenarios) x horizon_months x skus": (cells, cfg.plan_max_cells),
    }
    over = {k: f"at most {cap:,}" for k, (v, cap) in limits.items() if v > cap}
    if solver.seed == solver.oos_seed:
        over["seed"] = "must differ from solver.oos_seed"
    if over:
        raise ValidationError("planning.invalid", f"invalid request: {', '.join(over)}", over)
    return plan_purchase(spec.model_copy(update={"solver": solver})).to_dict()
