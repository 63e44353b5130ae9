"""`suanli usage`: ingest metered usage (CSV or JSON lines) and list it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from suanli.cli.context import open_services, report_rejected_rows
from suanli.cli.render import Col, console, err_console, print_json, print_table
from suanli.core.rowfile import ImportRejected
from suanli.core.serialize import to_jsonable
from suanli.services.billing.tokens import ingest_usage_file

app = typer.Typer(help="Metered GPU usage.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("ingest")
def ingest(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or .jsonl file")],
    json_out: JsonOpt = False,
) -> None:
    """Ingest GPU-usage and token records from PATH (idempotent by event_id), streamed in
    batches. A record with a ``model`` or token-count column is a token record.

    CSV with a header row, or one JSON object per line (``.jsonl``/``.ndjson``). A bad row does
    not reject the file: good rows are stored, bad rows are printed with their line, exit 1.
    """
    jsonl = path.suffix in (".jsonl", ".ndjson")
    with open_services() as svc, path.open("rb") as stream:
        try:
            result = ingest_usage_file(svc.money.metering, svc.money.tokens, stream, jsonl)
        except ImportRejected as exc:
            report_rejected_rows(exc)
    if json_out:
        print_json(to_jsonable(result))
    else:
        console.print(
            f"{result.received} records: {result.accepted} new, {result.duplicates} already known, "
            f"{result.rejected_total} rejected",
            highlight=False,
        )
        for r in result.rejected:
            err_console.print(f"  line {r.line}, {r.column}: {r.reason}", highlight=False)
        if result.rejected_total > len(result.rejected):
            err_console.print(f"  ({result.rejected_total} rejected; the first and the last shown)")
    if result.rejected_total:
        raise typer.Exit(1)


@app.command("list")
def list_(customer: Annotated[str | None, typer.Option()] = None, job: Annotated[str | None, typer.Option()] = None,
          limit: int = 50, offset: int = 0, json_out: JsonOpt = False) -> None:  # fmt: skip
    """List usage records."""
    with open_services() as svc:
        page = to_jsonable(
            svc.money.metering.list_usage(customer=customer, job_id=job, limit=limit, offset=offset)
        )
    if json_out:
        print_json(page)
        return
    cols = [Col("event_id"), Col("customer"), Col("sku", drop=3), Col("priority_class", "class", drop=2),
            Col("job_id", "job", drop=4), Col("started_at", "started (UTC)", drop=1),
            Col("gpu_hours", "GPU-h", decimals=2), Col("invoiced", drop=5)]  # fmt: skip
    rows = [{**r, "started_at": str(r["started_at"])[:16].replace("T", " "),
             "gpu_hours": Decimal(str(r["gpu_seconds"])) / 3600} for r in page["items"]]  # fmt: skip
    print_table(rows, cols, f"Usage ({page['total']})")
