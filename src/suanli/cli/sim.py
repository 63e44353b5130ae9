"""`suanli sim`: simulations. ``placement`` runs the FGD paper's GPU-sharing placement experiment;
``jobs`` and ``sweep`` (from :mod:`suanli.cli.sim_jobs`) replay job traces through the scheduler.

One command per function; the work lives in :mod:`suanli.simulation` and this module only parses
options, shows progress, renders tables and writes files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from suanli.cli import sim_jobs
from suanli.cli.charts import placement_chart
from suanli.cli.render import err_console, print_table, wrote
from suanli.core.errors import ValidationError
from suanli.scheduling.placement import ALL_POLICY_NAMES, POLICY_NAMES
from suanli.simulation.experiments.placement import (
    RNG_KINDS,
    TUNE,
    parse_seeds,
    run_many,
    summarise,
)
from suanli.simulation.traces.openb import load_nodes, load_pods

app = typer.Typer(help="Trace-driven simulations.", no_args_is_help=True)
app.command("jobs")(sim_jobs.jobs)
app.command("sweep")(sim_jobs.sweep)

REPORT_POINTS = (80, 90, 95, 100, 110, 120, 130)


def parse_policies(values: list[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        for part in value.split(","):
            part = part.strip().lower()
            if part == "all":
                names.extend(POLICY_NAMES)
            elif part:
                if part not in ALL_POLICY_NAMES:
                    raise ValidationError(
                        "placement.unknown_policy",
                        f"unknown policy {part!r}; choose from {', '.join(ALL_POLICY_NAMES)} or all",
                        {"policy": part},
                    )
                names.append(part)
    return list(dict.fromkeys(names))


@app.command("placement")
def placement(
    nodes: Annotated[Path, typer.Option("--nodes", help="Node list CSV (openb format).")],
    pods: Annotated[Path, typer.Option("--pods", help="Pod list CSV (openb format).")],
    policy: Annotated[
        list[str],
        typer.Option(
            "--policy", help=f"{', '.join(ALL_POLICY_NAMES)}; all = the paper's six; repeatable."
        ),
    ] = ["fgd"],  # noqa: B006
    seeds: Annotated[str, typer.Option("--seeds", help="42-51 or 42,43.")] = "42-51",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="Draw a PNG chart here.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Parallel runs.")] = 1,
    rng: Annotated[str, typer.Option("--rng", help="numpy (default) or go (exact).")] = "numpy",
    tune: Annotated[float, typer.Option("--tune", help="Workload / GPU capacity.")] = TUNE,
) -> None:
    """Place a tuned, shuffled pod trace one by one; report GPU allocation vs arrived load."""
    if rng not in RNG_KINDS:
        raise ValidationError("placement.unknown_rng", f"--rng must be go or numpy, not {rng!r}")
    policies = parse_policies(policy)
    seed_list = parse_seeds(seeds)
    node_table, pod_table = load_nodes(nodes), load_pods(pods)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(f"placing {pods.name}", total=len(policies) * len(seed_list))
        results = run_many(
            node_table, pod_table, policies, seed_list, rng, tune, workers=workers,
            on_done=lambda _: bar.advance(task),
        )  # fmt: skip
    summary = summarise(results)
    summary["config"] = {
        "nodes": str(nodes),
        "pods": str(pods),
        "seeds": seed_list,
        "rng": rng,
        "tune": tune,
    }
    medians = {name: data["median"]["alloc"] for name, data in summary["policies"].items()}  # type: ignore[attr-defined]
    rows = [
        {"policy": name, **{f"{x}%": values[x] for x in REPORT_POINTS}}
        for name, values in medians.items()
    ]
    print_table(rows, ["policy", *(f"{x}%" for x in REPORT_POINTS)], "median GPU allocation (%)")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(summary) + "\n", encoding="utf-8")
        wrote(json_out)
    if chart is not None:
        placement_chart(medians, chart, title=f"{pods.stem}, seeds {seeds}, rng {rng}")
        wrote(chart)
