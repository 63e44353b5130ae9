"""Opening the database for a CLI command: settings → engine → migration gate → services."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer

from suanli.cli.render import err_console
from suanli.core.clock import SystemClock
from suanli.core.errors import SuanliError, ValidationError
from suanli.services.container import Services, build_services
from suanli.settings import load_settings
from suanli.store.db import ensure_migrated, make_engine


@contextmanager
def open_services() -> Iterator[Services]:
    """Services on the configured database; refuses an unmigrated one (``db.not_migrated``)."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        ensure_migrated(engine)
        yield build_services(engine, SystemClock(), settings.currency)
    finally:
        engine.dispose()


def default_actor() -> str:
    """Who a CLI change is recorded as, unless ``--by`` says otherwise."""
    return os.environ.get("USER") or "cli"


def parse_date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "input.invalid_date",
            f"{field} must be YYYY-MM-DD, got {value!r}",
            {field: "YYYY-MM-DD"},
        ) from None


def money(value: object) -> str:
    return f"{value:,.2f}"


def p(value: float) -> str:
    return f"{value:,.1f}"


def report_rejected_rows(exc: SuanliError) -> None:
    """Print a CSV import rejection as one line per bad row, then exit 1."""
    err_console.print(f"[red]error[/red] {exc.code}: {exc.message}", highlight=False)
    for row in exc.fields.get("rows", []):
        err_console.print(
            f"  line {row['line']}, column {row['column']}: {row['reason']}", highlight=False
        )
    raise typer.Exit(1)
