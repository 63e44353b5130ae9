"""`suanli invoice`: the monthly invoice run, invoices, credit notes, payments and reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from suanli.cli.context import default_actor, open_services, parse_date
from suanli.cli.render import Col, console, err_console, money, print_json, print_table
from suanli.core.billing import AGING_BUCKETS, parse_period
from suanli.core.i18n import _
from suanli.core.serialize import to_jsonable

app = typer.Typer(
    help="Invoices, credit notes, payments, AR aging and revenue reports.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


class _Progress:
    def __init__(self, progress: Progress, task: int) -> None:
        self.progress, self.task = progress, task

    def before_commit(self, customer: str, number: str) -> None:
        self.progress.update(self.task, advance=1, description=f"{number} {customer}")  # type: ignore[arg-type]


@app.command("run")
def run(period: Annotated[str, typer.Argument(help="YYYY-MM")], customer: Annotated[str | None, typer.Option()] = None,
        issue_date: Annotated[str | None, typer.Option("--issue-date", help="effective issue date YYYY-MM-DD (default today; on or after the period)")] = None,
        supplementary: Annotated[bool, typer.Option("--supplementary", help="bill customers already invoiced for PERIOD what is still unbilled (late leases, late deliveries)")] = False,
        json_out: JsonOpt = False) -> None:  # fmt: skip
    """Invoice PERIOD for every customer (again: creates nothing for those already invoiced,
    unless --supplementary, which issues supplementary invoices for what is still unbilled)."""
    p = parse_period(period)
    issue = parse_date(issue_date, "issue_date") if issue_date else None
    with (
        open_services() as svc,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description} ({task.completed} invoices)"),
            console=err_console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("invoicing", total=None)
        result = svc.money.billing.run(
            p, hooks=_Progress(bar, task), customer=customer, issue_date=issue,
            supplementary=supplementary,
        )  # fmt: skip
    if json_out:
        print_json(to_jsonable(result))
    else:
        console.print(
            f"{p.key}: {len(result.created)} invoices created, {len(result.skipped)} already invoiced, {len(result.empty)} with nothing to bill",
            highlight=False,
        )
        if result.to_credit:
            console.print(
                f"billed more than due (issue a credit note): {', '.join(result.to_credit)}"
            )


@app.command("list")
def list_(customer: Annotated[str | None, typer.Option()] = None, period: Annotated[str | None, typer.Option()] = None,
          unpaid: bool = False, limit: int = 50, offset: int = 0, json_out: JsonOpt = False) -> None:  # fmt: skip
    """List invoices and credit notes."""
    with open_services() as svc:
        page = to_jsonable(
            svc.money.ledger.list_invoices(
                customer=customer, period=period, unpaid=unpaid, limit=limit, offset=offset
            )
        )
    unit = _currency(page["items"])
    cols = [
        Col("number"),
        Col("kind", drop=2),
        Col("customer"),
        Col("period", drop=1),
        Col("issue_date", "issued", drop=4),
        Col("due_date", "due", drop=3),
        Col("net", unit=unit, money=True, drop=5),
        Col("tax", unit=unit, money=True, drop=6),
        Col("gross", unit=unit, money=True),
        Col("outstanding", unit=unit, money=True),
    ]
    print_json(page) if json_out else print_table(
        page["items"], cols, _("Invoices (%(n)s)") % {"n": page["total"]}
    )


def _currency(items: list[dict[str, Any]]) -> str | None:
    """The currency for the money headers when every row shares one."""
    found = {i.get("currency") for i in items}
    return found.pop() if len(found) == 1 else None


@app.command("show")
def show(number: str, json_out: JsonOpt = False) -> None:
    """Show an invoice with its lines."""
    with open_services() as svc:
        inv = to_jsonable(svc.money.ledger.get_invoice(number))
    if json_out:
        print_json(inv)
        return
    cur = inv["currency"]
    cols = [Col("line_no", "#"), Col("description"), Col("quantity", "qty", drop=3), Col("unit", drop=4),
            Col("unit_price", "price", unit=cur, decimals=2, drop=2), Col("net", unit=cur, money=True),
            Col("vat_rate", "VAT", drop=1), Col("tax", unit=cur, money=True, drop=5),
            Col("gross", unit=cur, money=True)]  # fmt: skip
    lines = [{**ln, "vat_rate": f"{Decimal(ln['vat_rate']) * 100:.0f}%"} for ln in inv["lines"]]
    print_table(lines, cols, f"{inv['number']} {inv['customer']} {inv['period'] or ''}")
    console.print(
        f"net {money(inv['net'])} + VAT {money(inv['tax'])} = {money(inv['gross'])} {cur}; "
        f"outstanding {money(inv['outstanding'])}",
        highlight=False,
    )


@app.command("credit")
def credit(number: str, reason: Annotated[str, typer.Option()],
           line: Annotated[list[str] | None, typer.Option(help="LINE_NO=NET (repeatable); none credits everything")] = None,
           issue_date: Annotated[str | None, typer.Option("--issue-date", help="effective issue date YYYY-MM-DD (default today)")] = None) -> None:  # fmt: skip
    """Issue a credit note against invoice NUMBER."""
    issue = parse_date(issue_date, "issue_date") if issue_date else None
    lines = None
    if line:
        lines = {int(k): Decimal(v) for k, v in (item.split("=", 1) for item in line)}
    with open_services() as svc:
        note = svc.money.ledger.credit_note(number, reason, lines, issue)  # type: ignore[arg-type]
    console.print(
        f"{note.number}: net {money(note.net)}, VAT {money(note.tax)}, gross {money(note.gross)}",
        highlight=False,
    )


@app.command("write-off")
def write_off(number: str, on: Annotated[str, typer.Option("--on", help="Effective date YYYY-MM-DD")],
              reason: Annotated[str, typer.Option()],
              amount: Annotated[str | None, typer.Option(help="Gross amount (default: all that is open).")] = None,
              by: Annotated[str | None, typer.Option("--by", help="Who decided (default: $USER).")] = None) -> None:  # fmt: skip
    """Write off (part of) the open balance of invoice NUMBER as uncollectable."""
    day = parse_date(on, "on")
    assert day is not None
    with open_services() as svc:
        w = svc.money.writeoffs.write_off(number, day, reason, by or default_actor(), amount)
    console.print(f"{w.ref}: {w.amount} of {w.invoice} ({w.customer}) written off on {w.written_off_on}",
                  highlight=False)  # fmt: skip


@app.command("recover")
def recover(write_off: str, on: Annotated[str, typer.Option("--on", help="Effective date YYYY-MM-DD")],
            reason: Annotated[str, typer.Option()],
            amount: Annotated[str | None, typer.Option(help="Gross amount (default: all still unrecovered).")] = None,
            by: Annotated[str | None, typer.Option("--by", help="Who decided (default: $USER).")] = None) -> None:  # fmt: skip
    """Reinstate (part of) write-off WRITE_OFF (WO-...) as recovered; the customer's unapplied
    cash is then applied to its open invoices, oldest first."""
    day = parse_date(on, "on")
    assert day is not None
    with open_services() as svc:
        r = svc.money.writeoffs.recover(write_off, day, reason, by or default_actor(), amount)
    console.print(f"{r.ref}: {r.amount} of {r.write_off} on {r.invoice} ({r.customer}) recovered on "
                  f"{r.recovered_on}; {r.applied} of unapplied cash applied", highlight=False)  # fmt: skip


@app.command("recoveries")
def recoveries(customer: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """List recoveries of amounts written off, oldest first."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.writeoffs.list_recoveries(customer=customer))
    if json_out:
        print_json(rows)
        return
    print_table(rows, ["ref", "write_off", "invoice", "customer", "recovered_on", "amount", "reason"],
                "Recoveries")  # fmt: skip


@app.command("write-offs")
def write_offs(customer: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """List receivable write-offs, oldest first."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.writeoffs.list_write_offs(customer=customer))
    if json_out:
        print_json(rows)
        return
    print_table(
        rows, ["ref", "invoice", "customer", "written_off_on", "amount", "reason"], "Write-offs"
    )


@app.command("pay")
def pay(customer: str, amount: str, received_on: Annotated[str, typer.Option("--on", help="YYYY-MM-DD")],
        kind: Annotated[str, typer.Option(help="payment | prepayment | deposit")] = "payment",
        reference: Annotated[str | None, typer.Option()] = None) -> None:  # fmt: skip
    """Record money received from CUSTOMER (applied to open invoices, oldest first)."""
    day = parse_date(received_on, "received_on")
    assert day is not None
    with open_services() as svc:
        p = svc.money.ledger.record_payment(customer, amount, day, kind, reference)
    console.print(
        f"{p.kind} {money(p.amount)} from {p.customer}: {money(p.applied)} applied to invoices",
        highlight=False,
    )


@app.command("aging")
def aging(
    as_of: Annotated[str, typer.Option("--as-of", help="YYYY-MM-DD")], json_out: JsonOpt = False
) -> None:
    """Accounts receivable in buckets of 0–30, 31–60, 61–90 and 90+ days."""
    day = parse_date(as_of, "as_of")
    assert day is not None
    with open_services() as svc:
        rows = to_jsonable(svc.money.ledger.aging(day))
    if json_out:
        print_json(rows)
        return
    cols = [Col("customer"), *(Col(b, f"{b} d", money=True) for b in AGING_BUCKETS),
            Col("total", money=True), Col("credit", money=True)]  # fmt: skip
    print_table([{"customer": r["customer"], **r["buckets"], "total": r["total"], "credit": r["credit"]}
                 for r in rows],
                cols, _("AR aging as of %(day)s (CNY; days since issue)") % {"day": day})  # fmt: skip


@app.command("reconcile")
def reconcile(period: str, json_out: JsonOpt = False) -> None:
    """Billed, recognised and collected in PERIOD, and the balances that bridge them."""
    with open_services() as svc:
        rec = to_jsonable(svc.money.ledger.reconcile(parse_period(period)))
    if json_out:
        print_json(rec)
        return
    rows = [
        {"item": k, "amount": v}
        for k, v in rec.items()
        if not isinstance(v, dict) and k != "period"
    ]
    print_table(rows, [Col("item"), Col("amount", unit="CNY", money=True)],
                _("Reconciliation %(period)s") % {"period": rec["period"]})  # fmt: skip
