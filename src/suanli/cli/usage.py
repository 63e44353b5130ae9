"""`suanli usage`: ingest metered usage (CSV or JSON lines) and list it."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from suanli.cli.context import open_services
from suanli.cli.render import console, err_console, print_json, print_table
from suanli.core.errors import ValidationError
from suanli.core.serialize import to_jsonable
from suanli.services.billing.tokens import ingest_usage

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
    """Ingest GPU-usage and token records from PATH (idempotent by event_id); prints rejected
    rows. A record with a ``model`` or token-count column is a token record."""
    records = read_records(path)
    with open_services() as svc:
        result = ingest_usage(svc.money.metering, svc.money.tokens, records)
    if json_out:
        print_json(to_jsonable(result))
    else:
        console.print(
            f"{result.received} records: {result.accepted} new, {result.duplicates} already known, {len(result.rejected)} rejected",
            highlight=False,
        )
        for r in result.rejected:
            err_console.print(
                f"  row {r.row} ({r.event_id}): {r.field}: {r.reason} [{r.code}]", highlight=False
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
    cols = [
        "event_id",
        "customer",
        "sku",
        "priority_class",
        "job_id",
        "started_at",
        "gpu_seconds",
        "invoiced",
    ]
    print_json(page) if json_out else print_table(page["items"], cols, f"Usage ({page['total']})")
