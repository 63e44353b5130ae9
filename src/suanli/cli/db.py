"""`suanli db`: apply migrations and show the schema revision. These commands do not require a
migrated database (every other DB-using command does)."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.render import console, print_json
from suanli.settings import load_settings
from suanli.store.db import current_revision, head_revision, make_engine, upgrade

app = typer.Typer(help="Database schema: upgrade and current revision.", no_args_is_help=True)


@app.command("upgrade")
def upgrade_cmd(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Migrate the database named by SUANLI_DATABASE_URL to REVISION (default: head)."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine, revision)
        console.print(f"database at revision {current_revision(engine)}", highlight=False)
    finally:
        engine.dispose()


@app.command("current")
def current_cmd(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show the database's revision and the head revision of the code."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    info = {"current": current, "head": head, "up_to_date": current == head}
    if json_out:
        print_json(info)
    else:
        note = "up to date" if current == head else "run `suanli db upgrade`"
        console.print(f"current {current or '(none)'} · head {head} · {note}", highlight=False)
