"""`suanli plan purchase`: how many servers of which SKU to order in which month.

FILE is a planning TOML (default: the bundled ``h800-expansion``, ``suanli plan default`` prints
it). ``--from-ledger`` replaces the file's supplier delivery risk with the procurement history
of the configured database; ``--demand-from-twin`` replaces its ``[demand]`` section with a twin
scenario's expected demand (:mod:`suanli.simulation.twin.planning`). This module reads files,
opens the ledger when asked, calls
:func:`suanli.economics.planning.plan_purchase` and renders; the planning lives there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suanli.cli.render import console, print_json, print_table, wrote
from suanli.core.errors import ValidationError
from suanli.economics.planning import (
    PlanningSpec,
    default_text,
    parse_spec,
    plan_purchase,
    spec_from_mapping,
)
from suanli.economics.planning.history import delivery_history, with_history
from suanli.simulation.twin.library import load_twin, parse_twin
from suanli.simulation.twin.planning import with_twin_demand
from suanli.simulation.twin.scenario import TwinScenario

app = typer.Typer(help="Planning: purchases (how many servers, which, when).", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def load_spec(
    path: Path | None,
    scenarios: int | None,
    seed: int | None,
    oos: int | None,
    measure: str | None,
    limit: float | None,
) -> PlanningSpec:
    """The planning file (or the bundled default) with command-line overrides applied."""
    if path is not None and not path.is_file():
        raise ValidationError("planning.no_file", f"no planning file {path}", {"file": str(path)})
    spec = parse_spec(path.read_text("utf-8") if path is not None else default_text())
    data: dict[str, Any] = spec.model_dump(mode="python")
    solver, risk = data["solver"], data["risk"]
    for key, value in (("scenarios", scenarios), ("seed", seed), ("oos_scenarios", oos)):
        if value is not None:
            solver[key] = value
    if measure is not None:
        risk["measure"] = measure
    if limit is not None:
        risk["max_p_loss" if risk["measure"] == "p_loss" else "max_cvar_loss"] = limit
    return spec_from_mapping(data)


def ledger_history(spec: PlanningSpec) -> tuple[PlanningSpec, list[dict[str, Any]]]:
    # the database stack loads only for --from-ledger (start-up cost, not a cycle)
    from suanli.cli.context import open_services

    with open_services() as svc:
        orders = svc.procurement.list_orders()
        deliveries = svc.procurement.deliveries()
    history = delivery_history(orders, deliveries)
    rows = [
        {
            "sku": h.sku,
            "closed_lines": h.lines,
            "lead_time_months": h.lead_time_months,
            "delays": len(h.delay_months),
            "mean_shortfall": sum(h.shortfall) / len(h.shortfall),
        }
        for h in history.values()
    ]
    return with_history(spec, history), rows


def load_twin_ref(ref: str) -> TwinScenario:
    """A twin TOML file, else a bundled twin (unknown: ``twin.unknown_scenario``)."""
    path = Path(ref)
    return parse_twin(path.read_text("utf-8")) if path.is_file() else load_twin(ref)


@app.command("default")
def default_cmd() -> None:
    """Print the bundled default planning file (a starting point for your own)."""
    typer.echo(default_text(), nl=False)


def _money(v: float) -> str:
    return f"{v / 1e6:,.2f} M"


def _row(p: dict[str, Any], measure: str) -> dict[str, str]:
    o = p["out_of_sample"]
    orders = ", ".join(f"{x['count']} {x['sku']} @m{x['month']}" for x in p["orders"]) or "—"
    return {
        "plan": p["label"],
        "orders": orders
        if len(orders) < 60
        else f"{p['servers']} servers, {len(p['orders'])} orders",
        "capex": _money(p["capex"]),
        "E[NPV]": _money(o["expected_npv"]),
        "P(loss)": f"{o['p_loss']:.1%}",
        "CVaR": _money(o["cvar"]),
        "in-sample E[NPV]": _money(p["in_sample"]["expected_npv"]),
    }


@app.command("purchase")
def purchase_cmd(
    file: Annotated[
        Path | None, typer.Argument(help="Planning TOML (default: the bundled h800-expansion).")
    ] = None,
    scenarios: Annotated[
        int | None, typer.Option("--scenarios", min=1, help="In-sample scenarios (SAA).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="In-sample seed.")] = None,
    oos: Annotated[
        int | None, typer.Option("--oos-scenarios", min=1, help="Fresh scenarios.")
    ] = None,
    measure: Annotated[
        str | None, typer.Option("--measure", help="Risk measure: p_loss or cvar.")
    ] = None,
    limit: Annotated[
        float | None,
        typer.Option("--limit", help="Max P(loss) (0-1) or max CVaR loss (money)."),
    ] = None,
    from_ledger: Annotated[
        bool,
        typer.Option(
            "--from-ledger", help="Delivery risk from the database's procurement history."
        ),
    ] = False,
    demand_from_twin: Annotated[
        str | None,
        typer.Option(
            "--demand-from-twin",
            help="Replace the demand with a twin's expected demand (bundled name or TOML path).",
        ),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Frontier + order schedule PNG.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Orders per SKU and month maximising expected NPV under the risk limit; the frontier and
    the baselines, re-evaluated on fresh scenarios."""
    if measure is not None and measure not in ("p_loss", "cvar"):
        raise ValidationError(
            "cli.invalid_option", "measure must be p_loss or cvar", {"measure": measure}
        )
    spec = load_spec(file, scenarios, seed, oos, measure, limit)
    if demand_from_twin is not None:
        spec = with_twin_demand(spec, load_twin_ref(demand_from_twin))
    history: list[dict[str, Any]] = []
    if from_ledger:
        spec, history = ledger_history(spec)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=json_out,
        disable=json_out,
    ) as progress:
        task = progress.add_task("MILP solves", total=None)
        result = plan_purchase(
            spec, lambda done, total: progress.update(task, completed=done, total=total)
        )
    out = result.to_dict()
    if history:
        out["delivery_history"] = history
    if chart is not None:
        # matplotlib loads only when a chart is asked for
        from suanli.cli.plan_charts import plan_chart

        plan_chart(out, chart)
    if json_out:
        print_json(out)
        return
    if history:
        print_table(history, list(history[0]), title="Delivery risk from the ledger")
    ms = out["risk"]["measure"]
    lim = out["risk"]["limit"]
    what = (
        f"P(loss) <= {lim:.1%}"
        if ms == "p_loss"
        else f"CVaR {out['risk']['cvar_alpha']:.0%} >= -{_money(lim)}"
    )
    chosen = out["chosen"]
    print_table(
        [{"sku": o["sku"], "month": o["month"], "servers": o["count"]} for o in chosen["orders"]],
        ["sku", "month", "servers"],
        title=f"{out['name']}: orders under {what} ({chosen['status']})",
    )
    rows = [
        _row(p, ms)
        for p in (chosen, out["unconstrained"], out["buy_everything_now"], out["buy_nothing_more"])
    ]
    print_table(
        rows,
        list(rows[0]),
        title=(
            f"Plans vs baselines, out of sample ({out['oos_scenarios']:,} fresh scenarios, "
            f"{out['currency']}, NPV {out['valuation'].replace('_', '-')})"
        ),
    )
    front = [_row(p, ms) for p in out["frontier"]]
    print_table(front, list(front[0]), title="Efficient frontier (out of sample)")
    if chart is not None:
        wrote(chart)
