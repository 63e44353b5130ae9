"""`suanli twin`: run the digital twin of a bare-metal leasing business and compare cases.

SCENARIO is a twin TOML file or the name of a bundled twin (`suanli twin scenarios`). This
module reads files, parses options, calls :mod:`suanli.simulation.twin` and renders; the model
lives there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suanli.cli.overrides import grid_pairs, nested, set_pairs
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


def _overrides(items: list[str] | None) -> dict[str, Any]:
    """``["a.b=1", ...]`` → ``{"a": {"b": 1}}`` (deep-merged over the scenario)."""
    return nested(set_pairs(items))


def load(ref: str, overrides: list[str] | None = None) -> TwinScenario:
    path = Path(ref)
    extra = _overrides(overrides)
    if path.is_file():
        return parse_twin(path.read_text("utf-8"), extra)
    return load_twin(ref, extra)


def _from_ledger(
    ref: str, sc: TwinScenario, overrides: list[str] | None, on: str | None
) -> TwinScenario:
    """``sc`` with today's fleet, contracts and prices from the database, then ``--set``."""
    from suanli.cli.context import open_services, parse_date
    from suanli.economics.loader import merge
    from suanli.services.twin_seed import ledger_overrides

    with open_services() as svc:
        today = parse_date(on, "date") or svc.clock.now().date()
        seeded = ledger_overrides(svc, sc, today)
    extra = merge(seeded, _overrides(overrides))
    path = Path(ref)
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
    inf = summary.get("inference")
    if inf:
        day, cur = inf["day"], inf["currency"]
        slo = "n/a" if inf["slo_attainment"] is None else f"{inf['slo_attainment']:.1%}"
        cost = "" if day["cost"] is None else f", cost {float(day['cost']):,.0f} {cur}"
        console.print(
            f"  inference on {inf['servers']} servers: first day {float(day['theoretical_revenue']):,.0f} "
            f"{cur} theoretical revenue{cost}, {day['avg_inference_nodes']:.1f} nodes on average, "
            f"peak {day['peak_inference_nodes']}, valley {day['valley_node_hours']:,.0f} node-h\n"
            f"  tokens served {slo} of demand; per year {inf['token_revenue_per_year'] / 1e6:,.1f} M "
            f"CNY tokens, {inf['valley_revenue_per_year'] / 1e6:,.2f} M CNY valley training "
            f"({inf['training_gpu_hours_per_year']:,.0f} GPU-h"
            + (
                f" used of {inf['valley_lent_gpu_hours_per_year']:,.0f} lent to the pool's"
                " queue; revenue attributed by capacity share)"
                if inf.get("valley") == "pool"
                else ")"
            )
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
    from_ledger: Annotated[
        bool,
        typer.Option(
            "--from-ledger",
            help="Start from today's ledger (SUANLI_DATABASE_URL): installed servers of the "
            "twin's SKU, leases in force, GPU-hour prices; --set still applies on top.",
        ),
    ] = False,
    on: Annotated[
        str | None, typer.Option("--date", help="The ledger's effective date (default today).")
    ] = None,
    through_ledger: Annotated[
        bool,
        typer.Option(
            "--through-ledger",
            help="Replay path --seed's lease book through the real services on a temporary "
            "database, run the invoice run per month and compare the invoices with the twin's "
            "bills to the cent; exit 1 on any difference.",
        ),
    ] = False,
) -> None:
    """Run a twin: the lease book month by month and its P&L, for one or many demand paths."""
    sc = load(scenario, overrides)
    if from_ledger:
        sc = _from_ledger(scenario, sc, overrides, on)
    if through_ledger:
        _through_ledger(sc, seed, json_out)
        return
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


def _through_ledger(sc: TwinScenario, seed: int, json_out: bool) -> None:
    # the replay needs the ORM and migrations: imported only when this option is used
    from suanli.services.twin_replay import replay_fresh

    result = replay_fresh(sc, seed)
    if json_out:
        print_json(result.to_json())
    else:
        rows = [
            {
                "customer": r.customer,
                "period": r.period,
                "twin": r.twin,
                "ledger": r.ledger,
                "difference": r.difference,
            }
            for r in result.rows
        ]
        cols = ["customer", "period", "twin", "ledger", "difference"]
        print_table(rows, cols, title=f"{sc.name} seed {seed}: invoices (net of VAT) vs the twin")
        verdict = "PASS" if result.passed else "FAIL"
        console.print(
            f"{verdict}: {len(result.rows)} customer-months compared, "
            f"{len(result.differences)} differ; {result.contracts} contracts, "
            f"{result.failures} failures; twin {result.twin_total}, ledger {result.ledger_total} "
            f"({result.seconds:.1f} s)"
        )
    if not result.passed:
        raise typer.Exit(1)


@app.command("compare")
def compare(
    scenarios_: Annotated[
        list[str],
        typer.Argument(
            metavar="SCENARIO[@PATH=VALUE...]...",
            help="Twins to compare; '@PATH=VALUE' overrides one input of that twin only, e.g. "
            "pooled-cloud@twin.pool.policy=backfill.",
        ),
    ],
    paths: PathsOpt = 50,
    seed: SeedOpt = 0,
    json_out: JsonOpt = False,
) -> None:
    """Compare twins on the same seeded demand paths (common random numbers); the Δ column is
    each twin's billed revenue per year against the first one's (what a change is worth)."""
    summaries = []
    for ref in scenarios_:
        name, *sets = ref.split("@")
        summaries.append((ref, _run(load(name, sets), paths, seed, json_out).summary()))
    base = summaries[0][1]["billed_per_year_mean"]
    rows = [
        {
            "scenario": ref,
            "NPV M": f"{s['npv_mean'] / 1e6:,.1f}",
            "P5 M": f"{s['npv_quantiles']['0.05'] / 1e6:,.1f}",
            "P(loss) %": f"{100 * s['probability_of_loss']:.1f}",
            "billed/yr M": f"{s['billed_per_year_mean'] / 1e6:,.2f}",
            "Δ/yr M": f"{(s['billed_per_year_mean'] - base) / 1e6:+,.2f}",
            "occ %": f"{100 * s['mean_occupancy']:.1f}",
        }
        for ref, s in summaries
    ]
    if json_out:
        print_json([{"scenario": ref, **s} for ref, s in summaries])
    else:
        print_table(
            rows,
            list(rows[0]),
            title=f"Twins on the same {paths} demand paths (seed {seed}); CNY, net of VAT",
        )


@app.command("sweep")
def sweep(
    scenario: ScenarioArg,
    grid: Annotated[
        list[str] | None,
        typer.Option(
            "--grid",
            help="PATH=V1,V2,... (repeatable; every combination is run), "
            "e.g. twin.prices.decline_annual=0,0.2,0.4",
        ),
    ] = None,
    paths: PathsOpt = 10,
    seed: SeedOpt = 0,
    overrides: SetOpt = None,
    backend: Annotated[
        str, typer.Option("--backend", help="auto (Ray if installed) | ray | process | serial")
    ] = "auto",
    address: Annotated[
        str | None, typer.Option("--address", help="An existing Ray cluster, e.g. 10.0.0.5:6379.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Local workers (default: all cores).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write every path's row: .csv or .parquet.")
    ] = None,
    chart: ChartOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a twin over a grid of inputs × seeded demand paths, on Ray or a process pool."""
    from suanli.cli import twin_sweep as ex
    from suanli.simulation.twin.sweep import _merge, aggregate, sweep_tasks

    keys = list(grid_pairs(grid or []))
    base = _overrides(overrides)

    def load_point(point: dict[str, Any]) -> TwinScenario:
        extra = _merge(base, point)
        path = Path(scenario)
        if path.is_file():
            return parse_twin(path.read_text("utf-8"), extra)
        return load_twin(scenario, extra)

    tasks = sweep_tasks(load_point, grid_pairs(grid or []), paths, seed)
    chosen = ex.resolve_backend(backend, address)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json_out,
    ) as progress:
        bar = progress.add_task(f"sweep on {chosen}", total=len(tasks))

        def advance(n: int) -> None:
            progress.advance(bar, n)

        if chosen == "ray":
            rows = ex.run_ray(tasks, address, workers, advance)
        elif chosen == "process":
            rows = ex.run_process(tasks, workers, advance)
        else:
            rows = ex.run_serial(tasks, advance)
    points = aggregate(rows, keys)
    written = []
    if out is not None:
        ex.write_rows(rows, out)
        written.append(out)
    if chart is not None:
        ex.sweep_chart(points, keys, chart)
        written.append(chart)
    if json_out:
        print_json({"backend": chosen, "points": points})
        return
    table = [
        {
            **{k.split(".")[-1]: p[k] for k in keys},
            "NPV M": f"{p['npv_mean'] / 1e6:,.1f}",
            "P5 M": f"{p['npv_p5'] / 1e6:,.1f}",
            "P(loss) %": f"{100 * p['probability_of_loss']:.1f}",
            "no payback %": f"{100 * p['never_pays_back']:.1f}",
            "occ %": f"{100 * p['mean_occupancy']:.1f}",
        }
        for p in points
    ]
    print_table(table, list(table[0]), title=f"{len(points)} points × {paths} paths on {chosen}")
    for f in written:
        console.print(f"wrote {f}")


def report_years(monthly: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Path 0 summed by year of the grid (months 1-12, 13-24, ...)."""
    out = []
    for y in range((len(monthly) - 2) // 12 + 1):
        chunk = monthly[1 + 12 * y : 13 + 12 * y]
        if not chunk:
            break
        out.append(
            {
                "year": y + 1,
                "occupancy": sum(r["occupancy"] for r in chunk) / len(chunk),
                "billed": sum(float(r["billed"]) for r in chunk),
                "pool": sum(float(r.get("pool_revenue", 0)) for r in chunk),
                "sla": sum(float(r["sla_credits"]) for r in chunk),
                "fcf": sum(r["fcf"] for r in chunk),
                "signed": sum(r["signed"] for r in chunk),
                "renewed": sum(r["renewed"] for r in chunk),
                "lost": sum(r["lost_price"] + r["lost_capacity"] for r in chunk),
            }
        )
    return out


@app.command("report")
def report(
    run_json: Annotated[Path, typer.Argument(help="The output of `suanli twin run ... --json`.")],
    html: Annotated[Path, typer.Option("--html", help="Write the self-contained page here.")],
) -> None:
    """A self-contained HTML page of a twin run: headline figures, fan and monthly charts,
    the yearly table (charts are embedded PNGs: the page needs no network or script)."""
    import base64
    import io
    import json

    import jinja2

    from suanli.cli.twin_charts import monthly_chart, twin_chart

    try:
        doc = json.loads(run_json.read_text("utf-8"))
        summary, monthly = doc["summary"], doc["monthly"]
        summary["fan"]["occupancy"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(
            "twin.report_input",
            f"{run_json} is not the JSON of `suanli twin run --json`: {exc}",
            {"run_json": "output of suanli twin run --json"},
        ) from None

    def png(draw: Any, *args: Any) -> str:
        buf = io.BytesIO()
        draw(*args, buf)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("suanli.cli", "templates"), autoescape=True
    )
    page = env.get_template("twin_report.html").render(
        s=summary,
        source=run_json.name,
        years=report_years(monthly),
        fan_png=png(twin_chart, summary),
        monthly_png=png(monthly_chart, monthly),
    )
    html.write_text(page, "utf-8")
    console.print(f"wrote {html}")
