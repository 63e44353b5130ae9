"""`suanli credit`: a customer's credit balance (credit notes on paid invoices), applied to a
later open invoice or refunded."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.context import default_actor, open_services, parse_date
from suanli.cli.render import console, money, print_json, print_table
from suanli.core.serialize import to_jsonable

app = typer.Typer(
    help="Customer credit balances: apply to a later invoice, or refund.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
OnOpt = Annotated[str, typer.Option("--on", help="Effective date YYYY-MM-DD (not in the future).")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who decided (default: $USER).")]


@app.command("balance")
def balance(customer: str,
            as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today)")] = None,
            json_out: JsonOpt = False) -> None:  # fmt: skip
    """CUSTOMER's credit balance: released by credit notes, less applied and refunded."""
    with open_services() as svc:
        b = svc.money.credits.balance(customer, parse_date(as_of, "as_of"))
    if json_out:
        print_json(to_jsonable(b))
        return
    console.print(f"{b.customer} credit on {b.as_of}: {money(b.balance)} (released {money(b.released)}, "
                  f"applied {money(b.applied)}, refunded {money(b.refunded)})", highlight=False)  # fmt: skip


@app.command("apply")
def apply(customer: str, invoice: str, on: OnOpt,
          amount: Annotated[str | None, typer.Option(help="Gross amount (default: as much as the balance and the invoice allow).")] = None,
          by: ByOpt = None) -> None:  # fmt: skip
    """Apply CUSTOMER's credit balance to its open INVOICE."""
    day = parse_date(on, "on")
    assert day is not None
    with open_services() as svc:
        u = svc.money.credits.apply(customer, invoice, day, by or default_actor(), amount)
    console.print(f"{u.ref}: {money(u.amount)} of {u.customer}'s credit applied to {u.invoice} on {u.on}",
                  highlight=False)  # fmt: skip


@app.command("refund")
def refund(customer: str, on: OnOpt,
           amount: Annotated[str | None, typer.Option(help="Gross amount (default: all of the balance).")] = None,
           reference: Annotated[str | None, typer.Option(help="Bank reference of the refund.")] = None,
           by: ByOpt = None) -> None:  # fmt: skip
    """Pay (part of) CUSTOMER's credit balance back in cash."""
    day = parse_date(on, "on")
    assert day is not None
    with open_services() as svc:
        u = svc.money.credits.refund(customer, day, by or default_actor(), amount, reference)
    console.print(f"{u.ref}: {money(u.amount)} of {u.customer}'s credit refunded on {u.on}",
                  highlight=False)  # fmt: skip


@app.command("list")
def list_(customer: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Credit applied and refunded, oldest first."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.credits.list_uses(customer=customer))
    if json_out:
        print_json(rows)
        return
    print_table(rows, ["ref", "customer", "kind", "on", "amount", "invoice", "reference"],
                "Credit applied and refunded")  # fmt: skip
