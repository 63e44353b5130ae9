"""The simulation page: curves from placement and job-simulation result files.

Result files are JSON in the simulations folder (``app.state.simulation_dir`` when the app was
given one, else ``<user data dir>/suanli/simulations``). Recognised shapes:

- a placement experiment summary (``suanli sim placement --json``): ``{"x": [...],
  "policies": {name: {"median": {"alloc": ..., "frag_amount": ...}}}}``, drawn as GPU
  allocation and fragmentation against arrived workload, one line per policy;
- a job-simulator run (``suanli sim-jobs jobs --json``): ``{"policy", "overall": {...},
  "allocation": {name: {"t": [...], "gpus": [...]}}}``: allocated GPUs over time and the
  overall figures (average and P99 JCT, queueing, utilization ...);
- a job-simulator sweep (``suanli sim-jobs sweep --json``): ``{"loads": [...], "runs":
  [{"policy", "load", "overall": {"avg_jct": ...}}]}``: average JCT against load per policy;
- generic curves: ``{"title", "x_label", "y_label", "series": [{"name", "x", "y"}]}`` or
  ``{"charts": [<that>, ...]}``.

Anything else is listed as not recognised; a broken file never breaks the page.

The page can also *run* a job simulation (issue 5's simulator) on a synthetic Philly-like
trace, with a policy, job count, node count, load and seed from a form (bounded so a run takes
about a second); htmx swaps the curves in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from platformdirs import user_data_dir

from suanli.core.errors import SuanliError, ValidationError
from suanli.core.i18n import N_, _
from suanli.scheduling.jobs.model import ClusterSpec
from suanli.scheduling.jobs.policies import PolicyName, make_policy
from suanli.simulation.jobs_runs import run_trace
from suanli.simulation.traces.synthetic import generate
from suanli.web.render import chart, page, partial

router = APIRouter(include_in_schema=False)
MAX_FILES = 20
MAX_BYTES = 20_000_000


@dataclass(frozen=True, slots=True)
class Curves:
    title: str
    x_label: str
    y_label: str
    series: list[tuple[str, list[float], list[float | None]]]


@dataclass(slots=True)
class ResultFile:
    name: str
    kind: str  # placement | job_run | job_sweep | curves | unrecognised | unreadable
    charts: list[Curves] = field(default_factory=list)
    note: str = ""
    figures: dict[str, str] = field(default_factory=dict)  # label → value with its unit


def simulation_dir(request: Request) -> Path:
    configured = getattr(request.app.state, "simulation_dir", None)
    if configured is not None:
        return Path(configured)
    return Path(user_data_dir("suanli", appauthor=False)) / "simulations"


def _points(value: Any, xs: list[float]) -> tuple[list[float], list[float | None]]:
    if isinstance(value, dict):
        pairs = sorted((float(k), v) for k, v in value.items())
        return [k for k, _ in pairs], [None if v is None else float(v) for _, v in pairs]
    ys = [None if v is None else float(v) for v in value]
    return (xs[: len(ys)] if xs else [float(i) for i in range(len(ys))]), ys


def placement_curves(doc: dict[str, Any]) -> list[Curves]:
    xs = [float(x) for x in doc.get("x", [])]
    out = []
    for metric, label in (
        ("alloc", N_("GPU allocation %")),
        ("frag_amount", N_("fragmented GPUs %")),
    ):
        series = []
        for policy, data in doc["policies"].items():
            median = data.get("median", {})
            if metric in median:
                series.append((policy, *_points(median[metric], xs)))
        if series:
            out.append(
                Curves(
                    _("Placement: %(metric)s (median over seeds)") % {"metric": _(label)},
                    N_("arrived workload % of GPU capacity"),
                    label,
                    series,
                )
            )
    return out


JOB_FIGURES = ("jobs", "avg_jct", "p99_jct", "avg_queue", "utilization", "dropped")
FIGURE_LABELS = {
    "jobs": N_("jobs"),
    "avg_jct": N_("avg JCT"),
    "p99_jct": N_("P99 JCT"),
    "avg_queue": N_("avg queueing"),
    "utilization": N_("utilization"),
    "dropped": N_("dropped"),
}
HOUR = 3600.0
DAY = 86_400.0


def duration(seconds: float) -> str:
    """A duration with its unit, never in e-notation: ``29 s``, ``12.5 min``, ``5.74 h``,
    ``3.2 d``."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < HOUR:
        return f"{seconds / 60:.1f} min"
    if seconds < 3 * DAY:
        return f"{seconds / HOUR:.2f} h"
    return f"{seconds / DAY:.1f} d"


def figure_text(key: str, value: float | int | str) -> str:
    """A run figure as shown on the page: times in s/min/h/d, utilization in %, counts whole."""
    if isinstance(value, str):
        return value
    if key.endswith(("_jct", "_queue")):
        return duration(float(value))
    if key == "utilization":
        return f"{float(value) * 100:.1f} %"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def time_axis(seconds: list[float]) -> tuple[float, str]:
    """Divisor and axis title for a time series: hours up to three days, days beyond."""
    span = max(seconds, default=0.0)
    return (DAY, N_("time since the first arrival (days)")) if span > 3 * DAY else (
        HOUR, N_("time since the first arrival (hours)")
    )  # fmt: skip


def job_run(name: str, doc: dict[str, Any]) -> ResultFile:
    charts = []
    for vc, series in doc.get("allocation", {}).items():
        t = [float(x) for x in series.get("t", [])]
        unit, label = time_axis(t)
        gpus: list[float | None] = [float(g) for g in series.get("gpus", [])]
        span = _(", last job done after %(t)s") % {"t": duration(max(t))} if t else ""
        charts.append(
            Curves(_("Allocated GPUs over time: %(vc)s (%(policy)s)%(span)s")
                   % {"vc": vc, "policy": doc.get("policy", "?"), "span": span}, label,
                   N_("allocated GPUs (count)"), [(vc, [x / unit for x in t], gpus)])
        )  # fmt: skip
    overall = doc["overall"]
    figures = {
        FIGURE_LABELS[k]: figure_text(k, overall[k])
        for k in JOB_FIGURES
        if isinstance(overall.get(k), int | float | str)
    }
    return ResultFile(
        name,
        "job_run",
        charts,
        _("policy %(policy)s") % {"policy": doc.get("policy", "?")},
        figures,
    )


def job_sweep(doc: dict[str, Any]) -> list[Curves]:
    by_policy: dict[str, list[tuple[float, float]]] = {}
    for run in doc["runs"]:
        by_policy.setdefault(str(run["policy"]), []).append(
            (float(run["load"]), float(run["overall"]["avg_jct"]) / 3600)
        )
    series: list[tuple[str, list[float], list[float | None]]] = [
        (name, [x for x, _ in sorted(pts)], [y for _, y in sorted(pts)])
        for name, pts in by_policy.items()
    ]
    return [
        Curves(
            N_("Average JCT against load"),
            N_("load (arrival-rate multiplier)"),
            N_("average JCT (hours)"),
            series,
        )
    ]


def generic_curves(doc: dict[str, Any]) -> Curves:
    series = [
        (
            str(s.get("name", f"series {i}")),
            [float(x) for x in s["x"]],
            [None if y is None else float(y) for y in s["y"]],
        )
        for i, s in enumerate(doc["series"])
    ]
    return Curves(
        str(doc.get("title", "")),
        str(doc.get("x_label", "x")),
        str(doc.get("y_label", "y")),
        series,
    )


def read_result(path: Path) -> ResultFile:
    try:
        if path.stat().st_size > MAX_BYTES:
            return ResultFile(path.name, "unreadable", note="larger than 20 MB")
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return ResultFile(path.name, "unreadable", note=str(exc)[:200])
    try:
        if isinstance(doc, dict) and isinstance(doc.get("policies"), dict):
            return ResultFile(path.name, "placement", placement_curves(doc))
        if isinstance(doc, dict) and isinstance(doc.get("overall"), dict) and "policy" in doc:
            return job_run(path.name, doc)
        if isinstance(doc, dict) and isinstance(doc.get("runs"), list) and "loads" in doc:
            return ResultFile(path.name, "job_sweep", job_sweep(doc))
        if isinstance(doc, dict) and isinstance(doc.get("series"), list):
            return ResultFile(path.name, "curves", [generic_curves(doc)])
        if isinstance(doc, dict) and isinstance(doc.get("charts"), list):
            return ResultFile(path.name, "curves", [generic_curves(c) for c in doc["charts"]])
    except (KeyError, TypeError, ValueError) as exc:
        return ResultFile(path.name, "unreadable", note=f"unexpected content: {exc}"[:200])
    return ResultFile(path.name, "unrecognised", note="not a placement summary or curves file")


def load_results(folder: Path) -> list[ResultFile]:
    if not folder.is_dir():
        return []
    files = sorted(folder.glob("*.json"), key=lambda p: p.name)[:MAX_FILES]
    return [read_result(p) for p in files]


def spec(c: Curves) -> str:
    data = [
        {"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys}
        for name, xs, ys in c.series
    ]
    return chart(data, c.title, c.x_label, c.y_label)


@router.get("/simulation", response_class=HTMLResponse)
def simulation_page(request: Request) -> HTMLResponse:
    folder = simulation_dir(request)
    results = load_results(folder)
    charts = [
        (f"chart-sim-{i}-{j}", spec(c), c.title)
        for i, r in enumerate(results)
        for j, c in enumerate(r.charts)
    ]
    return page(
        request, "simulation.html", "simulation", folder=folder, results=results, charts=charts,
        policies=POLICIES, form=RunForm(),
    )  # fmt: skip


# --- running a job simulation from the page -------------------------------------------------

POLICIES = tuple(p.value for p in PolicyName)
LIMITS = {"jobs": (10, 5000), "nodes": (1, 64), "load": (0.1, 4.0), "seed": (0, 2**31 - 1)}


@dataclass(frozen=True, slots=True)
class RunForm:
    policy: str = "fifo"
    jobs: int = 2000
    nodes: int = 8
    load: float = 0.8
    seed: int = 0


def parse_run(params: dict[str, str]) -> RunForm:
    """The form's values, checked; a coded error names the first bad field."""
    policy = params.get("policy") or "fifo"
    if policy not in POLICIES:
        raise ValidationError(
            "sim.unknown_policy", f"unknown policy {policy!r}", {"policy": list(POLICIES)}
        )
    values: dict[str, Any] = {}
    for name, (low, high) in LIMITS.items():
        raw = (params.get(name) or str(getattr(RunForm(), name))).strip()
        try:
            value = float(raw) if name == "load" else int(raw)
        except ValueError:
            raise ValidationError(
                "sim.invalid", f"{name} must be a number", {name: "a number"}
            ) from None
        if not low <= value <= high:
            raise ValidationError(
                "sim.invalid", f"{name} must be {low}..{high}", {name: f"{low}..{high}"}
            )
        values[name] = value
    return RunForm(policy=policy, **values)


def run_synthetic(form: RunForm) -> ResultFile:
    """A synthetic Philly-like trace on ``nodes`` 8-GPU nodes under ``policy`` (issue 5)."""
    gpus = form.nodes * 8
    jobs = generate(
        form.jobs, gpus, np.random.default_rng(form.seed), load=form.load, max_gpus=gpus
    )
    cluster = ClusterSpec.uniform(form.nodes, 8)
    doc = run_trace(jobs, cluster, make_policy(form.policy), seed=form.seed, name="synthetic")
    return job_run(f"synthetic, {form.jobs} jobs, {form.nodes} nodes, load {form.load:g}", doc)


@router.get("/simulation/run", response_class=HTMLResponse)
def simulation_run(request: Request) -> HTMLResponse:
    params = dict(request.query_params)
    try:
        result = run_synthetic(parse_run(params))
        error = None
    except SuanliError as exc:
        result, error = None, exc.message
    charts = (
        [(f"chart-run-{j}", spec(c), c.title) for j, c in enumerate(result.charts)]
        if result
        else []
    )
    return partial(request, "_sim_run.html", result=result, error=error, charts=charts)
