"""`suanli init` (schema + first admin token) and `suanli user` (users and API tokens)."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.context import open_services
from suanli.cli.render import console, print_json, print_table
from suanli.core.serialize import to_jsonable
from suanli.settings import load_settings
from suanli.store.db import make_engine, upgrade

user_app = typer.Typer(
    help="Users (admin, operator, finance, customer) and their API tokens.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def init(
    name: Annotated[str, typer.Option(help="Name of the first admin user.")] = "admin",
    days: Annotated[int, typer.Option(help="Token lifetime in days.")] = 365,
) -> None:
    """Migrate the database and create the first admin; prints its API token once."""
    engine = make_engine(load_settings().database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    with open_services() as svc:
        issued = svc.money.tenancy.bootstrap(name, days)
    console.print(
        f"admin user {name!r} created; API token (shown once, expires {issued.token.expires_at:%Y-%m-%d}):",
        highlight=False,
    )
    print(issued.secret)


@user_app.command("create")
def create(
    name: str,
    role: Annotated[str, typer.Option(help="admin | operator | finance | customer")],
    customer: Annotated[
        str | None, typer.Option(help="Customer code (role customer only).")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a user."""
    with open_services() as svc:
        user = svc.money.tenancy.create_user(name, role, customer)
    print_json(to_jsonable(user)) if json_out else console.print(
        f"user {user.name} ({user.role.value}) created"
    )


@user_app.command("list")
def list_users(json_out: JsonOpt = False) -> None:
    """List users."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.tenancy.list_users(limit=500).items)
    print_json(rows) if json_out else print_table(
        rows, ["name", "role", "customer", "disabled"], "Users"
    )


@user_app.command("token")
def token(
    name: str,
    days: Annotated[int, typer.Option(help="Lifetime in days.")] = 90,
    label: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Issue an API token for NAME; the secret is printed once (only its hash is stored)."""
    with open_services() as svc:
        issued = svc.money.tenancy.issue_token(name, days, label)
    console.print(
        f"token {issued.token.id} for {name}, expires {issued.token.expires_at:%Y-%m-%d}:",
        highlight=False,
    )
    print(issued.secret)


@user_app.command("tokens")
def tokens(name: Annotated[str | None, typer.Argument()] = None, json_out: JsonOpt = False) -> None:
    """List tokens (never their secrets)."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.tenancy.list_tokens(name))
    print_json(rows) if json_out else print_table(
        rows, ["id", "user", "prefix", "label", "expires_at", "revoked_at"], "Tokens"
    )


@user_app.command("revoke")
def revoke(token_id: int) -> None:
    """Revoke a token by id."""
    with open_services() as svc:
        tok = svc.money.tenancy.revoke_token(token_id)
    console.print(f"token {tok.id} of {tok.user} revoked", highlight=False)
