"""`suanli usage`: ingest metered usage (CSV or JSON lines) and list it."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from suanli.cli.context import open_services
from suanli.cli.render import Col, console, err_console, print_json, print_table
from suanli.core.errors import ValidationError
from suanli.core.serialize import to_jsonable

app = typer.Typer(help="Metered GPU usage.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def read_records(path: Path) -> list[dict[str, Any]]:
    """CSV with a header row, or one JSON object per line (``.jsonl``)."""
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ValidationError(
            "usage.unreadable", f"cannot read {path}: {exc.strerror}", {"file": str(path)}
        ) from None
    if path.suffix in (".jsonl", ".ndjson"):
        try:
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "usage.bad_json", f"line {exc.lineno}: {exc.msg}", {"file": str(path)}
            ) from None
    return list(csv.DictReader(text.splitlines()))


@app.command("ingest")
def ingest(path: Path, json_out: JsonOpt = False) -> None:
    """Ingest usage records from PATH (idempotent by event_id); prints rejected rows."""
    records = read_records(path)
    with open_services() as svc:
        result = svc.money.metering.ingest(records)
    if json_out:
        print_json(to_jsonable(result))
    else:
        console.print(
            f"{result.received} records: {result.accepted} new, {result.duplicates} already known, {len(result.rejected)} rejected",
            highlight=False,
        )
        for r in result.rejected:
            err_console.print(
                f"  row {r.row} ({r.event_id}): {r.field}: {r.reason}", highlight=False
            )
    if result.rejected:
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
