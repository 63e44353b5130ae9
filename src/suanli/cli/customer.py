"""`suanli customer`: customers (the tenants)."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.context import open_services
from suanli.cli.render import console, print_json, print_table
from suanli.core.serialize import to_jsonable

app = typer.Typer(help="Customers (tenants).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("create")
def create(
    code: str,
    name: str,
    email: Annotated[str | None, typer.Option()] = None,
    terms: Annotated[int, typer.Option(help="Payment terms in days.")] = 30,
    json_out: JsonOpt = False,
) -> None:
    """Create a customer."""
    with open_services() as svc:
        c = svc.money.tenancy.create_customer(code, name, email, terms)
    print_json(to_jsonable(c)) if json_out else console.print(
        f"customer {c.code} created", highlight=False
    )


@app.command("list")
def list_(q: Annotated[str | None, typer.Option(help="Search code or name.")] = None,
          limit: int = 50, offset: int = 0, json_out: JsonOpt = False) -> None:  # fmt: skip
    """List customers."""
    with open_services() as svc:
        page = to_jsonable(svc.money.tenancy.list_customers(q=q, limit=limit, offset=offset))
    print_json(page) if json_out else print_table(
        page["items"],
        ["code", "name", "email", "payment_terms_days"],
        f"Customers ({page['total']})",
    )
