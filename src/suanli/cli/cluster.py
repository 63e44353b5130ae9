"""`suanli cluster`: inventory sync, drift, reconcile (leases ↔ reservations, drains), watch."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.cluster_context import open_wiring
from suanli.cli.render import console, print_json, print_table
from suanli.core.serialize import to_jsonable
from suanli.services.cluster.control_loop import ControlLoop, LoopTotals, TickResult
from suanli.services.cluster.inventory import drift_json

app = typer.Typer(help="The cluster engine (Slurm) and the ledger.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ClusterOpt = Annotated[
    str | None,
    typer.Option("--cluster", help="Which of SUANLI_CLUSTERS (default: the first or only one)."),
]


def _drift_table(rows: list[dict[str, str]]) -> None:
    if not rows:
        console.print("no drift")
        return
    print_table(rows, ["node", "kind", "detail"])


@app.command("sync")
def sync(
    apply: Annotated[bool, typer.Option("--apply", help="Create/update fleet servers.")] = False,
    json_out: JsonOpt = False,
    cluster: ClusterOpt = None,
) -> None:
    """Compare Slurm nodes with fleet servers; with --apply create and update servers."""
    with open_wiring(cluster) as w:
        report = w.cluster.sync(apply=apply)
    data = {
        "created": list(report.created),
        "updated": list(report.updated),
        "applied": report.applied,
        "drift": drift_json(report.drift),
    }
    if json_out:
        print_json(data)
        return
    console.print(f"created {len(report.created)}, updated {len(report.updated)} servers")
    _drift_table(data["drift"])  # type: ignore[arg-type]


@app.command("drift")
def drift(json_out: JsonOpt = False, cluster: ClusterOpt = None) -> None:
    """State drift between the ledger and Slurm (leased but not reserved, drained, down...)."""
    with open_wiring(cluster) as w:
        rows = drift_json(w.cluster.drift())
    if json_out:
        print_json(rows)
    else:
        _drift_table(rows)


@app.command("reconcile")
def reconcile(json_out: JsonOpt = False, cluster: ClusterOpt = None) -> None:
    """Make Slurm match the ledger: lease reservations, drains for maintenance, resumes."""
    with open_wiring(cluster) as w:
        report = w.cluster.reconcile()
    if json_out:
        print_json(to_jsonable(report))
    else:
        console.print(to_jsonable(report))


@app.command("watch")
def watch(
    once: Annotated[bool, typer.Option("--once", help="One tick, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between ticks.", min=1)] = 10.0,
    json_out: JsonOpt = False,
    cluster: ClusterOpt = None,
) -> None:
    """The control loop (services.cluster.control_loop): each tick reconciles leases/drains,
    turns down nodes into failed servers (+SLA downtime) and back, requeues lost jobs, admits and
    launches queued jobs, and meters finished runs. An error in one step is printed and counted;
    the loop goes on. Exit code of --once: 1 if any step or object failed."""
    with open_wiring(cluster) as w:
        loop = ControlLoop(w.cluster, w.jobs, w.svc.clock)

        def show(result: TickResult, totals: LoopTotals) -> None:
            data = {
                **to_jsonable(result.watched),
                "reconciled": to_jsonable(result.reconciled),
                "requeued": result.requeued,
                "launched": result.launched,
                "preempted": result.preempted,
                "usage_records": result.usage_records,
                "usage_rejected": list(result.usage_rejected),
                "errors": [to_jsonable(e) for e in result.errors],
                "ticks": totals.ticks,
                "failed_steps": totals.failed_steps,
            }
            if json_out:
                print_json(data)
            else:
                console.print(data)

        totals = loop.run(interval, ticks=1 if once else None, on_tick=show)
    if once and (totals.failed_steps or totals.object_errors):
        raise typer.Exit(1)
