"""`suanli job`: cloud jobs on the cluster engine (submit, list, show, cancel)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from suanli.cli.cluster_context import open_wiring
from suanli.cli.render import console, print_json, print_table
from suanli.core.errors import ValidationError
from suanli.core.serialize import to_jsonable
from suanli.services.cluster.cloud_jobs import CloudJob

app = typer.Typer(help="Cloud jobs run on the cluster engine.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _show(job: CloudJob, json_out: bool) -> None:
    if json_out:
        print_json(to_jsonable(job))
    else:
        console.print(
            f"{job.id} {job.customer} {job.job_class} {job.gpus} GPUs: {job.state} "
            f"on {','.join(job.nodes) or '-'} ({job.reason})"
        )


@app.command("submit")
def submit(
    customer: Annotated[str, typer.Option(help="Customer code (the Slurm account).")],
    gpus: Annotated[int, typer.Option(help="GPUs: 1-8, or whole nodes (multiple of 8).")],
    job_class: Annotated[str, typer.Option("--class", help="reserved or spot.")] = "spot",
    command: Annotated[str | None, typer.Option(help="Shell command to run.")] = None,
    script: Annotated[Path | None, typer.Option(help="Batch script to run.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Queue a job, as the API does; the next control-loop tick (`suanli cluster watch`) admits
    it through the platform scheduler (quota, priority) and launches it on Slurm."""
    if (command is None) == (script is None):
        raise ValidationError(
            "job.command_required", "give --command or --script", {"command": "or script"}
        )
    if script is not None:
        try:
            command = script.read_text("utf-8")
        except OSError as exc:
            raise ValidationError(
                "job.unreadable_script",
                f"cannot read {script}: {exc.strerror}",
                {"script": str(script)},
            ) from None
    assert command is not None
    with open_wiring() as w:
        _show(w.jobs.submit(customer, gpus, job_class, command), json_out)


@app.command("list")
def list_jobs(
    customer: Annotated[str | None, typer.Option()] = None,
    state: Annotated[str | None, typer.Option()] = None,
    refresh: Annotated[bool, typer.Option(help="Read states from Slurm first.")] = True,
    json_out: JsonOpt = False,
) -> None:
    with open_wiring() as w:
        if refresh:
            w.jobs.refresh()
        page = w.jobs.list_jobs(customer=customer, state=state, limit=500)
    if json_out:
        print_json(to_jsonable(page.items))
        return
    cols = ["id", "customer", "job_class", "gpus", "state", "nodes", "restarts", "reason"]
    rows = [{**to_jsonable(j), "nodes": ",".join(j.nodes)} for j in page.items]
    print_table(rows, cols)


@app.command("show")
def show(job: str, json_out: JsonOpt = False) -> None:
    with open_wiring() as w:
        w.jobs.refresh()
        _show(w.jobs.get(job), json_out)


@app.command("cancel")
def cancel(job: str, json_out: JsonOpt = False) -> None:
    with open_wiring() as w:
        _show(w.jobs.cancel(job), json_out)
