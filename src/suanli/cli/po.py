"""`suanli po`: suppliers, purchase orders, deliveries per serial, cancellations and reports."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from suanli.cli.context import (
    default_actor,
    money,
    open_services,
    p,
    parse_date,
    report_rejected_rows,
)
from suanli.cli.render import Col, console, print_json, print_table
from suanli.core.errors import ValidationError
from suanli.core.i18n import _
from suanli.core.serialize import to_jsonable
from suanli.services.fleet.imports import ImportRejected
from suanli.services.fleet.procurement import NewLine, NewOrder

app = typer.Typer(help="Purchase orders, deliveries and procurement reports.", no_args_is_help=True)
suppliers = typer.Typer(help="Suppliers.", no_args_is_help=True)
report = typer.Typer(help="Procurement reports.", no_args_is_help=True)
app.add_typer(suppliers, name="suppliers")
app.add_typer(report, name="report")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who does this (default: $USER).")]


@suppliers.command("add")
def suppliers_add(
    name: str, country: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """Add a supplier."""
    with open_services() as svc:
        sup = svc.procurement.add_supplier(name, country)
    print_json(to_jsonable(sup)) if json_out else console.print(f"supplier {sup.name} added")


@suppliers.command("list")
def suppliers_list(json_out: JsonOpt = False) -> None:
    """List suppliers."""
    with open_services() as svc:
        rows = to_jsonable(svc.procurement.list_suppliers())
    print_json(rows) if json_out else print_table(rows, ["name", "country"], "Suppliers")


def _parse_line(text: str, index: int) -> NewLine:
    parts = text.split(":")
    promised = parse_date(parts[3], f"line[{index}].promised_on") if len(parts) == 4 else None
    if promised is None or not parts[1].isdigit():
        raise ValidationError(
            "po.invalid_line",
            f"expected SKU:QUANTITY:UNIT_PRICE:PROMISED_DATE, got {text!r}",
            {f"line[{index}]": "SKU:QTY:PRICE:YYYY-MM-DD"},
        )
    return NewLine(parts[0], int(parts[1]), parts[2], promised)


@app.command("create")
def create(
    number: str,
    supplier: Annotated[str, typer.Option()],
    line: Annotated[
        list[str], typer.Option("--line", help="SKU:QUANTITY:UNIT_PRICE:PROMISED_DATE (repeat)")
    ],
    date_: Annotated[str | None, typer.Option("--date", help="Order date (default today).")] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    note: Annotated[str | None, typer.Option()] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a purchase order with one or more lines."""
    lines = [_parse_line(text, i) for i, text in enumerate(line)]
    with open_services() as svc:
        ordered_on = parse_date(date_, "date") or svc.clock.now().date()
        order = svc.procurement.create_order(
            NewOrder(number, supplier, ordered_on, lines, currency, note)
        )
    if json_out:
        print_json(to_jsonable(order))
    else:
        units = sum(ln.quantity for ln in order.lines)
        total = sum(ln.quantity * ln.unit_price for ln in order.lines)
        console.print(f"order {order.number}: {units} servers, {money(total)} {order.currency}")


def _order_rows(order: Any) -> list[dict[str, Any]]:
    return [
        {"number": order["number"], "supplier": order["supplier"], **ln} for ln in order["lines"]
    ]


LINE_COLUMNS = ["number", "supplier", "line_no", "sku", "quantity", "unit_price", "promised_on",
                "delivered", "cancelled", "outstanding"]  # fmt: skip


@app.command("list")
def list_orders(
    supplier: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """List purchase orders with their lines."""
    with open_services() as svc:
        orders = to_jsonable(svc.procurement.list_orders(supplier))
    if json_out:
        print_json(orders)
    else:
        print_table([r for o in orders for r in _order_rows(o)], LINE_COLUMNS, _("Purchase orders"))


@app.command("show")
def show(number: str, json_out: JsonOpt = False) -> None:
    """One purchase order with its lines and deliveries."""
    with open_services() as svc:
        order = to_jsonable(svc.procurement.get_order(number))
        deliveries = to_jsonable(svc.procurement.deliveries(number))
    if json_out:
        print_json({**order, "deliveries": deliveries})
        return
    print_table(_order_rows(order), LINE_COLUMNS, f"{number} ({order['ordered_on']})")
    print_table(deliveries, ["line_no", "serial", "delivered_on", "actor"], "Deliveries")


@app.command("deliver")
def deliver(
    number: str,
    serials: Annotated[list[str], typer.Argument(help="Serial numbers received.")],
    line: Annotated[int, typer.Option(help="Line number on the order.")] = 1,
    date_: Annotated[
        str | None, typer.Option("--date", help="Delivery date (default today).")
    ] = None,
    network_group: Annotated[str | None, typer.Option("--network-group")] = None,
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record delivered serials against a line (partial deliveries are fine)."""
    with open_services() as svc:
        done = svc.procurement.deliver(
            number, line, serials, by or default_actor(), parse_date(date_, "date"), network_group
        )
    if json_out:
        print_json({"number": number, "line": line, "delivered": done})
    else:
        console.print(f"{len(done)} servers delivered on {number} line {line}")


@app.command("cancel")
def cancel(
    number: str,
    reason: Annotated[str, typer.Option(help="Why (recorded).")],
    line: Annotated[int | None, typer.Option(help="Line number (default: every line).")] = None,
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Cancel the undelivered remainder of a line, or of every line of the order."""
    with open_services() as svc:
        order = svc.procurement.cancel_remainder(number, line, reason, by or default_actor())
    if json_out:
        print_json(to_jsonable(order))
    else:
        n = sum(ln.cancelled for ln in order.lines)
        console.print(f"{number}: {n} servers cancelled in total")


@app.command("deliveries")
def deliveries(
    number: Annotated[str | None, typer.Argument()] = None, json_out: JsonOpt = False
) -> None:
    """List deliveries (of one order, or all)."""
    with open_services() as svc:
        rows = to_jsonable(svc.procurement.deliveries(number))
    if json_out:
        print_json(rows)
    else:
        print_table(rows, ["po_number", "line_no", "serial", "delivered_on", "actor"], "Deliveries")


@app.command("import")
def import_orders(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV or JSONL file")],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON lines (default: by .jsonl)")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Import purchase orders from CSV or JSON lines, one row per line (all rows or none).

    Columns: number, supplier, ordered_on, sku, quantity, unit_price, promised_on, currency, note.
    The rows of one order are contiguous; the file is streamed.
    """
    jsonl = jsonl or path.suffix.lower() == ".jsonl"
    with open_services() as svc, path.open("rb") as stream:
        try:
            result = svc.imports.import_orders(stream, jsonl=jsonl)
        except ImportRejected as exc:
            report_rejected_rows(exc)
    if json_out:
        print_json(to_jsonable(result))
    else:
        console.print(f"imported {len(result.created)} orders ({result.rows} lines)")


@report.command("summary")
def report_summary(
    supplier: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """Ordered vs delivered vs cancelled vs outstanding per order, in units, money and P."""
    with open_services() as svc:
        data = to_jsonable(svc.procurement.summary(supplier))
    if json_out:
        print_json(data)
        return
    rows = []
    for s in [*data["orders"], *data["totals"].values()]:
        for part in ("ordered", "delivered", "cancelled", "outstanding"):
            a = s[part]
            rows.append(
                {
                    "order": s["number"] if part == "ordered" else "",
                    "supplier": s["supplier"] if part == "ordered" else "",
                    "part": part,
                    "units": a["units"],
                    "money": money(Decimal(a["money"])),
                    "P fp16 sparse": p(a["p_fp16_sparse"]),
                    "P bf16 dense": p(a["p_bf16_dense"]),
                }
            )
    currencies = set(data["totals"])
    currency = currencies.pop() if len(currencies) == 1 else None
    cols = [Col("order"), Col("supplier", drop=1), Col("part", ""), Col("units"),
            Col("money", unit=currency), Col("P fp16 sparse", unit="P"),
            Col("P bf16 dense", unit="P", drop=2)]  # fmt: skip
    print_table(rows, cols, _("Procurement summary: units, money, computing power"))


@report.command("overdue")
def report_overdue(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Date (default today).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Lines past their promised date with units still outstanding."""
    with open_services() as svc:
        rows = to_jsonable(svc.procurement.overdue(parse_date(as_of, "as_of")))
    if json_out:
        print_json(rows)
        return
    for r in rows:
        r["outstanding_money"] = money(Decimal(r["outstanding_money"]))
    cur = rows[0]["currency"] if rows else None
    cols = [Col("number"), Col("supplier", drop=3), Col("line_no", "line"), Col("sku", drop=2),
            Col("promised_on", "promised", drop=1), Col("days_overdue", "late", unit="days"),
            Col("outstanding", "units left"), Col("outstanding_money", "value left", unit=cur),
            Col("currency", drop=4)]  # fmt: skip
    print_table(rows, cols, "Overdue lines")


@report.command("prices")
def report_prices(
    sku: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """Unit price over time, per order line (oldest first)."""
    with open_services() as svc:
        rows = to_jsonable(svc.procurement.prices(sku))
    if json_out:
        print_json(rows)
        return
    for r in rows:
        r["unit_price"] = money(Decimal(r["unit_price"]))
    cur = rows[0]["currency"] if rows else None
    cols = [Col("ordered_on", "ordered"), Col("sku", drop=2), Col("supplier", drop=1),
            Col("number"), Col("quantity", "units"), Col("unit_price", "unit price", unit=cur),
            Col("currency", drop=3)]  # fmt: skip
    print_table(rows, cols, "Unit price over time")
