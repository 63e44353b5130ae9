"""`suanli econ`: evaluate, break-even, sensitivity, Monte Carlo and comparison of scenarios.

SCENARIO is a TOML/YAML file or the name of a bundled scenario (`suanli econ scenarios`).
This module reads files, parses options, calls :mod:`suanli.economics` and renders; the
economics live there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from suanli.cli import charts
from suanli.cli.overrides import set_pairs
from suanli.cli.render import Col, console, err_console, print_json, print_table, wrote
from suanli.core.errors import ValidationError
from suanli.economics.breakeven import Criterion
from suanli.economics.compare import COMPARE_SCENARIOS, compare, compare_rows
from suanli.economics.evaluate import evaluate
from suanli.economics.library import bundled_document, load_bundled, scenario_names
from suanli.economics.loader import format_for, get_path, parse_scenario, with_overrides
from suanli.economics.montecarlo import DEFAULT_CHUNK, run_montecarlo
from suanli.economics.scenario import Scenario
from suanli.economics.sensitivity import grid, tornado

app = typer.Typer(
    help="Economics: cash flows, payback, NPV/IRR, break-even and risk.", no_args_is_help=True
)

ScenarioArg = Annotated[str, typer.Argument(help="Scenario file (.toml/.yaml) or bundled name.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", help="Override an input: PATH=VALUE (e.g. form.occupancy=0.6)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Write a PNG chart here.")]
CriterionOpt = Annotated[
    str, typer.Option("--criterion", help="Break-even criterion: npv or profit.")
]


def load_scenario(ref: str, overrides: list[str] | None = None) -> Scenario:
    """Read ``ref`` (a file, else a bundled name) and apply ``PATH=VALUE`` overrides."""
    path = Path(ref)
    if path.is_file():
        sc = parse_scenario(path.read_text("utf-8"), format_for(path.name), bundled_document)
    else:
        sc = load_bundled(ref)
    pairs = set_pairs(overrides)
    return with_overrides(sc, pairs) if pairs else sc


def _criterion(value: str) -> Criterion:
    if value not in ("npv", "profit"):
        raise ValidationError(
            "cli.invalid_option", "criterion must be npv or profit", {"criterion": value}
        )
    return "npv" if value == "npv" else "profit"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.4g}"
    return str(v)


_PERCENT = ("irr", "margin", "occupancy", "probability", "share", "year_", "never")


def _metric(name: str, v: Any, currency: str = "CNY") -> tuple[str, str]:
    """A metric's label with its unit and its value with fixed decimals: money in whole
    ``currency`` with separators, shares in % with 1 decimal, months with 1 decimal."""
    if (
        name in ("paths", "seed", "chunk_size")
        or not isinstance(v, int | float)
        or isinstance(v, bool)
    ):
        return name, _fmt(v)
    if any(p in name for p in ("dscr", "leverage")):
        return name, f"{v:.2f}"
    if isinstance(v, int) and "months" in name:
        return f"{name.replace('_months', '')} (months)", str(v)
    if "per_" in name:
        return f"{name} ({currency})", f"{v:,.2f}"
    if any(p in name for p in _PERCENT):
        return f"{name} (%)", f"{v * 100:.1f}"
    if "months" in name:
        return f"{name.replace('_months', '')} (months)", f"{v:.1f}"
    return f"{name} ({currency})", f"{v:,.0f}"


@app.command("scenarios")
def scenarios(json_out: JsonOpt = False) -> None:
    """List the bundled scenarios."""
    rows = []
    for name in scenario_names():
        sc = load_bundled(name)
        rows.append({"name": name, "form": sc.form.kind, "description": sc.description})
    if json_out:
        print_json(rows)
    else:
        print_table(rows, ["name", "form", "description"], title="Bundled scenarios")


@app.command("evaluate")
def evaluate_cmd(
    scenario: ScenarioArg,
    json_out: JsonOpt = False,
    table: Annotated[bool, typer.Option("--table", help="Print the monthly cash flows.")] = False,
    chart: ChartOpt = None,
    criterion: CriterionOpt = "npv",
    overrides: SetOpt = None,
) -> None:
    """Headline metrics of SCENARIO (NPV, IRR, payback, margins, break-even)."""
    sc = load_scenario(scenario, overrides)
    result = evaluate(sc, _criterion(criterion))
    if chart is not None:
        rows = result.table()
        charts.cumulative_cash_flow(
            [int(r["month"]) for r in rows],
            [r["cumulative"] for r in rows],
            [r["discounted_cumulative"] for r in rows],
            result.static_payback_months,
            result.dynamic_payback_months,
            f"{sc.name}: cumulative cash flow",
            chart,
            sc.currency,
        )
    if json_out:
        out = result.summary()
        if table:
            out["table"] = result.table()
        print_json(out)
        if chart is not None:
            wrote(chart)
        return
    summary = result.summary()
    skip = ("yearly", "name", "currency")
    print_table(
        [dict(zip(("metric", "value"), _metric(k, v, sc.currency), strict=True))
         for k, v in summary.items() if k not in skip],
        ["metric", Col("value", as_is=True)],
        title=f"{sc.name} ({sc.currency})",
    )  # fmt: skip
    yearly = [{**y, "net_margin": y["net_margin"] * 100} if isinstance(y.get("net_margin"), float) else y
              for y in summary["yearly"]]  # fmt: skip
    keys = list(summary["yearly"][0]) if summary["yearly"] else ["year"]
    print_table(
        yearly,
        [Col(k, unit="%" if k == "net_margin" else None, decimals=1 if k == "net_margin" else 0)
         for k in keys],
        title=f"By year ({sc.currency})",
    )  # fmt: skip
    if table:
        _monthly_table(result.table(), sc.currency)
    if chart is not None:
        wrote(chart)


def _monthly_table(rows: list[dict[str, float]], currency: str) -> None:
    """All columns in thousands, on a console wide enough not to truncate them."""
    wide = Console(width=max(console.width, 280))
    table = Table(title=f"Monthly cash flows (k {currency})")
    for col in rows[0]:
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(int(r["month"])), *(f"{v / 1000:,.0f}" for k, v in r.items() if k != "month")
        )
    wide.print(table)


@app.command("breakeven")
def breakeven_cmd(
    scenario: ScenarioArg, json_out: JsonOpt = False, overrides: SetOpt = None
) -> None:
    """Break-even occupancy and rent of SCENARIO, on NPV and on accounting profit."""
    sc = load_scenario(scenario, overrides)
    rows = []
    for crit in ("npv", "profit"):
        e = evaluate(sc, _criterion(crit))
        rows.append(
            {
                "criterion": crit,
                "breakeven_occupancy": e.breakeven_occupancy,
                "breakeven_rent": e.breakeven_rent,
                "breakeven_rent_unit": e.breakeven_rent_unit,
            }
        )
    if json_out:
        print_json({"scenario": sc.name, "currency": sc.currency, "breakeven": rows})
    else:
        print_table(
            [{k: _fmt(v) for k, v in r.items()} for r in rows],
            list(rows[0]),
            title=f"{sc.name}: break-even",
        )


def _floats(text: str | None, field: str) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValidationError(
            "cli.invalid_option", f"{field} must be comma-separated numbers", {field: text}
        ) from None


def default_grid(sc: Scenario) -> tuple[str, list[float], str, list[float]]:
    """Price x level grid around the scenario (rent x occupancy for bare metal)."""
    kind = sc.form.kind
    if kind == "investment":
        x, y = "form.committed_profit_annual", "form.shortfall_probability"
        base = float(get_path(sc, x))
        return x, [base * f for f in (0.5, 0.75, 1.0, 1.25, 1.5)], y, [0.0, 0.2, 0.4, 0.6, 0.8]
    x = "form.rent_per_server_month" if kind == "bare_metal" else "form.gpu_hour_price"
    y = "form.occupancy" if kind == "bare_metal" else "form.utilization"
    base = float(get_path(sc, x))
    ceiling = sc.form.ceiling()  # type: ignore[union-attr]
    levels = [round(v, 2) for v in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) if v <= ceiling]
    return x, [round(base * f, 2) for f in (0.6, 0.75, 0.9, 1.0, 1.1, 1.2)], y, levels


@app.command("sensitivity")
def sensitivity_cmd(
    scenario: ScenarioArg,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", help="Input path to vary (repeat).")
    ] = None,
    delta: Annotated[float, typer.Option(help="Relative variation for the tornado.")] = 0.2,
    metric: Annotated[
        str, typer.Option(help="Metric: npv, irr_annual, static_payback_months ...")
    ] = "npv",
    x: Annotated[str | None, typer.Option("--x", help="Grid x input path.")] = None,
    x_values: Annotated[
        str | None, typer.Option("--x-values", help="Comma-separated x values.")
    ] = None,
    y: Annotated[str | None, typer.Option("--y", help="Grid y input path.")] = None,
    y_values: Annotated[
        str | None, typer.Option("--y-values", help="Comma-separated y values.")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Tornado PNG; the grid goes to *-grid.png.")
    ] = None,
    json_out: JsonOpt = False,
    overrides: SetOpt = None,
) -> None:
    """Tornado (one input at a time) and a two-way grid (default: rent x occupancy)."""
    sc = load_scenario(scenario, overrides)
    dx, dxs, dy, dys = default_grid(sc)
    with err_console.status(f"{sc.name}: tornado and grid"):
        t = tornado(sc, inputs, delta, metric)
        g = grid(
            sc,
            x or dx,
            _floats(x_values, "x_values") or dxs,
            y or dy,
            _floats(y_values, "y_values") or dys,
            metric,
        )
    if chart is not None:
        tdict = t.to_dict()
        charts.tornado(tdict["bars"], t.base_metric, metric, chart)
        grid_path = chart.with_name(chart.stem + "-grid" + chart.suffix)
        charts.grid_heatmap(g.x, g.x_values, g.y, g.y_values, g.values, metric, grid_path)
        wrote(chart)
        wrote(grid_path)
    if json_out:
        print_json({"scenario": sc.name, "tornado": t.to_dict(), "grid": g.to_dict()})
        return
    bars = t.to_dict()["bars"]
    print_table(
        [{k: _fmt(v) for k, v in b.items()} for b in bars],
        ["input", "low_value", "high_value", "low_metric", "high_metric", "swing"],
        title=f"Tornado on {metric} (base {_fmt(t.base_metric)}, ±{delta:.0%})",
    )
    rows = [
        {g.y: _fmt(yv), **{_fmt(xv): _fmt(v) for xv, v in zip(g.x_values, row, strict=True)}}
        for yv, row in zip(g.y_values, g.values, strict=True)
    ]
    print_table(
        rows,
        [g.y, *[_fmt(v) for v in g.x_values]],
        title=f"{metric}: {g.y} (rows) x {g.x} (columns)",
    )
    if chart is not None:
        console.print(f"charts written to {chart} and {grid_path}")


@app.command("montecarlo")
def montecarlo_cmd(
    scenario: ScenarioArg,
    paths: Annotated[
        int, typer.Option("--paths", min=1, help="Number of simulated futures.")
    ] = 10_000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the numpy Generator.")] = 0,
    chunk_size: Annotated[int, typer.Option("--chunk-size", min=1)] = DEFAULT_CHUNK,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="NPV histogram + fan chart PNG.")
    ] = None,
    json_out: JsonOpt = False,
    overrides: SetOpt = None,
) -> None:
    """Monte Carlo over the scenario's [montecarlo] distributions."""
    sc = load_scenario(scenario, overrides)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=json_out,
    ) as progress:
        task = progress.add_task("paths", total=paths)
        result = run_montecarlo(
            sc,
            paths,
            seed,
            chunk_size=chunk_size,
            progress=lambda done, _: progress.update(task, completed=done),
        )
    summary = result.summary()
    if chart is not None:
        charts.montecarlo(
            result.npv,
            result.fan_months,
            result.fan,
            f"{sc.name}: {paths:,} paths, seed {seed}",
            chart,
            sc.currency,
        )
    if json_out:
        print_json({"scenario": sc.name, **summary})
        if chart is not None:
            wrote(chart)
        return
    flat: list[dict[str, str]] = []
    for k, v in summary.items():
        if k == "currency":
            continue
        items = v.items() if isinstance(v, dict) else [("", v)]
        for q, x in items:
            label, text = _metric(f"{k} {q}".strip(), x, sc.currency)
            flat.append({"statistic": label, "value": text})
    print_table(flat, ["statistic", Col("value", as_is=True)], title=f"{sc.name}: Monte Carlo")
    if chart is not None:
        wrote(chart)


@app.command("compare")
def compare_cmd(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help="Scenarios (default: the three bundled compare-* forms)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The business forms side by side (bare metal, computing center, investment)."""
    refs = scenarios or list(COMPARE_SCENARIOS)
    rows = compare_rows(compare([load_scenario(r) for r in refs]))
    if json_out:
        print_json(rows)
        return
    metrics = [k for k in rows[0] if k not in ("name", "kind", "breakeven_rent_unit")]
    table = [
        {
            "metric": _metric(m, rows[0][m])[0].replace("(CNY)", ""),
            **{r["name"]: _metric(m, r[m])[1] for r in rows},
        }
        for m in metrics
    ]
    cols = [Col(r["name"], r["name"].removeprefix("compare-"), as_is=True) for r in rows]
    print_table(table, ["metric", *cols], title="Business forms side by side")
    units = ", ".join(f"{r['name']} ({r['kind']}): {r['breakeven_rent_unit'] or '—'}" for r in rows)
    console.print(f"money in CNY; breakeven_rent per {units}", highlight=False)
