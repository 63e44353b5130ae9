"""`suanli cluster`: inventory sync, drift, reconcile (leases ↔ reservations, drains), watch."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from suanli.cli.cluster_context import open_wiring
from suanli.cli.render import console, print_json, print_table
from suanli.core.serialize import to_jsonable
from suanli.services.cluster.inventory import drift_json

app = typer.Typer(help="The cluster engine (Slurm) and the ledger.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _drift_table(rows: list[dict[str, str]]) -> None:
    if not rows:
        console.print("no drift")
        return
    print_table(rows, ["node", "kind", "detail"])


@app.command("sync")
def sync(
    apply: Annotated[bool, typer.Option("--apply", help="Create/update fleet servers.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Compare Slurm nodes with fleet servers; with --apply create and update servers."""
    with open_wiring() as w:
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
def drift(json_out: JsonOpt = False) -> None:
    """State drift between the ledger and Slurm (leased but not reserved, drained, down...)."""
    with open_wiring() as w:
        rows = drift_json(w.cluster.drift())
    if json_out:
        print_json(rows)
    else:
        _drift_table(rows)


@app.command("reconcile")
def reconcile(json_out: JsonOpt = False) -> None:
    """Make Slurm match the ledger: lease reservations, drains for maintenance, resumes."""
    with open_wiring() as w:
        report = w.cluster.reconcile()
    if json_out:
        print_json(to_jsonable(report))
    else:
        console.print(to_jsonable(report))


@app.command("watch")
def watch(
    once: Annotated[bool, typer.Option("--once", help="One poll, then exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=1)] = 10.0,
    json_out: JsonOpt = False,
) -> None:
    """Poll Slurm: reconcile leases/drains; down nodes → failed servers (+SLA downtime), their jobs requeued and
    relaunched; nodes back up → servers back in service; finished jobs metered."""
    with open_wiring() as w:
        while True:
            reconciled = w.cluster.reconcile()  # lease/maintenance changes since the last poll
            report = w.cluster.watch()
            lost = w.jobs.requeue_lost()
            decision = w.jobs.schedule()
            metered = w.jobs.meter()
            data = {
                **to_jsonable(report),
                "reconciled": to_jsonable(reconciled),
                "requeued": lost,
                "launched": len(decision.admits),
                "preempted": len(decision.preempts),
                "usage_records": metered.accepted,
                "usage_rejected": [r.reason for r in metered.rejected],
            }
            if json_out:
                print_json(data)
            else:
                console.print(data)
            if once:
                return
            time.sleep(interval)
