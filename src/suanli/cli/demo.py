"""`suanli demo`: create (or reopen) the demo center database, seed it, serve API + dashboard.

Idempotent: on an existing demo database it migrates to head, finds the demo already seeded
and just serves it. ``--reset`` starts from an empty file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from platformdirs import user_data_dir

from suanli.api.app import create_app
from suanli.cli.render import console, err_console
from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.services.demo.center import (
    DEMO_START,
    DEMO_TODAY,
    DemoClock,
    demo_logins,
    is_seeded,
    seed_demo,
)
from suanli.services.demo.money import pool_simulation
from suanli.settings import load_settings
from suanli.store.db import make_engine, upgrade


def default_demo_path() -> Path:
    return Path(user_data_dir("suanli", appauthor=False)) / "demo.db"


def prepare(path: Path, reset: bool = False) -> bool:
    """Migrate and seed the demo database at ``path``; True when it was seeded just now."""
    return _prepare(path, reset)[0]


def prepare_with_logins(path: Path, reset: bool = False) -> tuple[bool, dict[str, str]]:
    """:func:`prepare`, then fresh tokens for the demo's admin and one customer user."""
    return _prepare(path, reset, logins=True)


def _prepare(path: Path, reset: bool, logins: bool = False) -> tuple[bool, dict[str, str]]:
    if reset:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        clock = SimClock(DEMO_START)
        svc = build_services(engine, clock)
        fresh = not is_seeded(svc)
        if fresh:
            with err_console.status("seeding the demo center ..."):
                seed_demo(svc, clock)
            write_simulation(simulation_dir(path))
        if not logins:
            return fresh, {}
        clock = SimClock(DEMO_TODAY)  # tokens valid from the demo's today
        return fresh, demo_logins(build_services(engine, clock))
    finally:
        engine.dispose()


def simulation_dir(db: Path) -> Path:
    """Result files shown on the Simulation page: ``simulations/`` beside the demo database."""
    return db.parent / "simulations"


def write_simulation(folder: Path) -> Path:
    """The job-simulator run behind the cloud pool's September, as a result file."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "demo-cloud-pool-2025-09.json"
    out.write_text(json.dumps(pool_simulation()) + "\n", encoding="utf-8")
    return out


def demo(
    db: Annotated[
        Path | None, typer.Option("--db", help="SQLite file (default: user data dir).")
    ] = None,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    reset: Annotated[bool, typer.Option("--reset", help="Delete the file and seed again.")] = False,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after seeding.")] = True,
) -> None:
    """Seed the documented demo center (2 sites, 58 servers, an overdue order ...) and serve it."""
    path = (db or default_demo_path()).expanduser().resolve()
    fresh, tokens = prepare_with_logins(path, reset)
    console.print(
        f"demo database {path} ({'seeded' if fresh else 'already seeded'})", highlight=False
    )
    if not serve:
        return
    settings = load_settings(database_url=f"sqlite:///{path}", host=host, port=port)
    app = create_app(settings, clock=DemoClock())
    app.state.simulation_dir = simulation_dir(path)
    url = f"http://{host}:{port}"
    console.print(f"Suanli demo: {url}/  (API docs: {url}/docs)", highlight=False)
    for user, token in tokens.items():
        console.print(
            f"  sign in as {user}: {url}/login  token {token}", highlight=False, soft_wrap=True
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")
