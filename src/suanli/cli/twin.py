"""`suanli twin`: run the digital twin of a bare-metal leasing business and compare cases.

SCENARIO is a twin TOML file or the name of a bundled twin (`suanli twin scenarios`). This
module reads files, parses options, calls :mod:`suanli.simulation.twin` and renders; the model
lives there.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suanli.cli.render import console, err_console, print_json, print_table, wrote
from suanli.core.errors import ValidationError
from suanli.simulation.twin.library import load_twin, parse_twin, twin_names, twin_text
from suanli.simulation.twin.run import TwinRun, run_twin
from suanli.simulation.twin.scenario import TwinScenario

app = typer.Typer(
    help="Digital twin: demand → leases → billing → P&L, months ahead.", no_args_is_help=True
)

ScenarioArg = Annotated[str, typer.Argument(help="Twin scenario file (.toml) or bundled name.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override an input: PATH=VALUE (e.g. twin.prices.decline_annual=0.4)."
    ),
]
PathsOpt = Annotated[int, typer.Option("--paths", min=1, max=100_000, help="Seeded demand paths.")]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seed of path 0 (path i uses seed+i).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Write a PNG chart here.")]


def _value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _overrides(items: list[str] | None) -> dict[str, Any]:
    """``["a.b=1", ...]`` → ``{"a": {"b": 1}}`` (deep-merged over the scenario)."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(
                "cli.invalid_set", f"expected PATH=VALUE, got {item!r}", {"set": item}
            )
        node = out
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _value(raw.strip())
    return out


def load(ref: str, overrides: list[str] | None = None) -> TwinScenario:
    path = Path(ref)
    extra = _overrides(overrides)
    if path.is_file():
        return parse_twin(path.read_text("utf-8"), extra)
    return load_twin(ref, extra)


def _run(sc: TwinScenario, paths: int, seed: int, quiet: bool) -> TwinRun:
    if paths == 1 or quiet:
        return run_twin(sc, seed=seed, paths=paths)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{sc.name}: paths", total=paths)
        return run_twin(
            sc, seed=seed, paths=paths, progress=lambda d: progress.update(task, completed=d)
        )


@app.command("scenarios")
def scenarios(json_out: JsonOpt = False) -> None:
    """List the bundled twin scenarios."""
    rows = [{"name": n, "description": load_twin(n).economics.description} for n in twin_names()]
    if json_out:
        print_json(rows)
    else:
        print_table(rows, ["name", "description"], title="Bundled twin scenarios")


@app.command("show")
def show(name: str) -> None:
    """Print a bundled twin scenario's file (to copy and edit)."""
    print(twin_text(name), end="")


def _yearly(run: TwinRun) -> list[dict[str, Any]]:
    rows = run.monthly()
    out = []
    for y in range((len(rows) - 2) // 12 + 1):
        chunk = rows[1 + 12 * y : 13 + 12 * y]
        if not chunk:
            break
        out.append(
            {
                "year": y + 1,
                "occ %": f"{100 * sum(r['occupancy'] for r in chunk) / len(chunk):.1f}",
                "billed M": f"{sum(float(r['billed']) for r in chunk) / 1e6:,.2f}",
                "SLA k": f"{sum(float(r['sla_credits']) for r in chunk) / 1e3:,.0f}",
                "signed": sum(r["signed"] for r in chunk),
                "renewed": sum(r["renewed"] for r in chunk),
                "lost: price": sum(r["lost_price"] for r in chunk),
                "lost: full": sum(r["lost_capacity"] for r in chunk),
                "FCF M": f"{sum(r['fcf'] for r in chunk) / 1e6:,.2f}",
            }
        )
    return out


def _headline(summary: dict[str, Any]) -> None:
    q = summary["npv_quantiles"]
    console.print(
        f"[bold]{summary['scenario']}[/bold]: {summary['paths']} path(s), seed {summary['seed']}\n"
        f"  NPV mean {summary['npv_mean'] / 1e6:,.1f} M CNY (P5 {q['0.05'] / 1e6:,.1f}, "
        f"P50 {q['0.5'] / 1e6:,.1f}, P95 {q['0.95'] / 1e6:,.1f})\n"
        f"  P(loss) {summary['probability_of_loss']:.1%}  P(NPV<0) "
        f"{summary['probability_npv_negative']:.1%}  never pays back {summary['never_pays_back']:.1%}\n"
        f"  mean occupancy {summary['mean_occupancy']:.1%}"
    )
    m = summary["metrics"]
    if m:
        irr = "n/a" if m["irr_annual"] is None else f"{m['irr_annual']:.1%}"
        pb = m["static_payback_months"]
        console.print(
            f"  IRR {irr}  static payback "
            f"{'never' if pb is None else f'{pb:.1f} months'}  net margin "
            f"{'n/a' if m['net_margin'] is None else format(m['net_margin'], '.1%')}"
        )


@app.command("run")
def run(
    scenario: ScenarioArg,
    paths: PathsOpt = 1,
    seed: SeedOpt = 0,
    overrides: SetOpt = None,
    json_out: JsonOpt = False,
    chart: ChartOpt = None,
) -> None:
    """Run a twin: the lease book month by month and its P&L, for one or many demand paths."""
    sc = load(scenario, overrides)
    result = _run(sc, paths, seed, json_out)
    summary = result.summary()
    if json_out:
        print_json({"summary": summary, "monthly": result.monthly(0)})
    else:
        _headline(summary)
        print_table(
            _yearly(result),
            list(_yearly(result)[0]),
            title="Path 0 by year (money in CNY, net of VAT; M = million, k = thousand)",
        )
    if chart is not None:
        from suanli.cli.twin_charts import twin_chart

        twin_chart(summary, chart)
        wrote(chart)


@app.command("compare")
def compare(
    scenarios_: Annotated[
        list[str], typer.Argument(metavar="SCENARIO...", help="Twins to compare.")
    ],
    paths: PathsOpt = 50,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Compare twins on the same seeded demand paths (common random numbers)."""
    rows = []
    for ref in scenarios_:
        s = _run(load(ref), paths, seed, json_out).summary()
        rows.append(
            {
                "scenario": s["scenario"],
                "NPV mean M": f"{s['npv_mean'] / 1e6:,.1f}",
                "NPV P5 M": f"{s['npv_quantiles']['0.05'] / 1e6:,.1f}",
                "P(loss) %": f"{100 * s['probability_of_loss']:.1f}",
                "P(NPV<0) %": f"{100 * s['probability_npv_negative']:.1f}",
                "no payback %": f"{100 * s['never_pays_back']:.1f}",
                "occ %": f"{100 * s['mean_occupancy']:.1f}",
            }
        )
    if json_out:
        print_json(rows)
    else:
        print_table(
            rows,
            list(rows[0]),
            title=f"Twins on the same {paths} demand paths (seed {seed}); M = million CNY",
        )
