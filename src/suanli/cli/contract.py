"""`suanli contract`: leases, reserved capacity, termination, renewal, SLA events and prices."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.context import default_actor, open_services, parse_date
from suanli.cli.render import Col, console, print_json, print_table
from suanli.core.contracts import Contract
from suanli.core.i18n import _
from suanli.core.serialize import to_jsonable
from suanli.services.billing.leasing import LeaseSpec, ReservedSpec

app = typer.Typer(
    help="Lease and reserved-capacity contracts; the on-demand price list.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who does this (default: $USER).")]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="When it happened: YYYY-MM-DD (00:00 UTC) or an ISO datetime with offset; "
        "default now.",
    ),
]


def _show(c: Contract, json_out: bool) -> None:
    if json_out:
        print_json(to_jsonable(c))
        return
    servers = f", servers {', '.join(c.servers)}" if c.servers else ""
    console.print(
        f"{c.number} {c.kind} for {c.customer}: {c.sku} {c.start_date} → {c.end_date} ({c.status}){servers}",
        highlight=False,
    )


@app.command("lease")
def lease(
    customer: str,
    sku: str,
    rent: Annotated[str, typer.Option(help="Monthly rent per server.")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    months: Annotated[int, typer.Option(help="Term in months.")],
    count: Annotated[int | None, typer.Option(help="N servers allocated by the system.")] = None,
    serial: Annotated[
        list[str] | None, typer.Option(help="Lease these servers (repeatable).")
    ] = None,
    cabinet_fee: Annotated[str, typer.Option(help="Per server-month, passed through.")] = "0",
    om_fee: Annotated[str, typer.Option(help="Per server-month, passed through.")] = "0",
    deposit: str = "0",
    prepayment: str = "0",
    notice_days: int = 30,
    penalty_months: Annotated[
        str, typer.Option(help="Early-termination penalty in months of rent.")
    ] = "3",
    sla: Annotated[str, typer.Option(help="Uptime target, e.g. 0.995.")] = "0.995",
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign a bare-metal lease."""
    day = parse_date(start, "start")
    assert day is not None
    spec = LeaseSpec(customer, sku, rent, day, months, count=count, serials=tuple(serial or ()),
                     cabinet_fee=cabinet_fee, om_fee=om_fee, deposit=deposit, prepayment=prepayment,
                     notice_days=notice_days, early_termination_months=penalty_months, sla_uptime=sla)  # fmt: skip
    with open_services() as svc:
        _show(svc.money.leasing.create_lease(spec, by or default_actor()), json_out)


@app.command("reserve")
def reserve(
    customer: str,
    sku: str,
    gpus: Annotated[int, typer.Option(help="Committed GPUs.")],
    rate: Annotated[str, typer.Option(help="Price per GPU-hour.")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    months: Annotated[int, typer.Option(help="Term in months.")],
    minimum: Annotated[
        str, typer.Option(help="Minimum commitment as a share of committed GPU-hours.")
    ] = "0.8",
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Sign a reserved GPU capacity contract."""
    day = parse_date(start, "start")
    assert day is not None
    with open_services() as svc:
        c = svc.money.leasing.create_reserved(
            ReservedSpec(customer, sku, gpus, rate, day, months, minimum), by or default_actor()
        )
    _show(c, json_out)


@app.command("list")
def list_(customer: Annotated[str | None, typer.Option()] = None, kind: Annotated[str | None, typer.Option()] = None,
          status: Annotated[str | None, typer.Option()] = None, limit: int = 50, offset: int = 0,
          json_out: JsonOpt = False) -> None:  # fmt: skip
    """List contracts."""
    with open_services() as svc:
        page = to_jsonable(
            svc.money.leasing.list_contracts(
                customer=customer, kind=kind, status=status, limit=limit, offset=offset
            )
        )
    cols = [Col("number"), Col("customer"), Col("kind", drop=4), Col("status", drop=3),
            Col("sku", drop=2), Col("server_count", "servers"), Col("start_date", "start", drop=1),
            Col("end_date", "end"), Col("monthly_rent", "rent/month", unit="CNY", money=True)]  # fmt: skip
    print_json(page) if json_out else print_table(
        page["items"], cols, _("Contracts (%(n)s)") % {"n": page["total"]}
    )


@app.command("show")
def show(number: str, json_out: JsonOpt = False) -> None:
    """Show a contract and its servers."""
    with open_services() as svc:
        _show(svc.money.leasing.get_contract(number), json_out)


@app.command("terminate")
def terminate(number: str, effective: Annotated[str, typer.Option(help="YYYY-MM-DD")],
              reason: Annotated[str, typer.Option()],
              on: Annotated[str | None, typer.Option(help="Day notice was given, YYYY-MM-DD (default today).")] = None,
              by: ByOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Terminate a lease early (notice counted from --on); the penalty goes on the next
    invoice."""
    day = parse_date(effective, "effective")
    assert day is not None
    notice = parse_date(on, "on")
    with open_services() as svc:
        contract = svc.money.leasing.terminate(number, day, by or default_actor(), reason, notice)
    _show(contract, json_out)


@app.command("renew")
def renew(number: str, months: int,
          on: Annotated[str | None, typer.Option(help="Day the renewal was agreed, YYYY-MM-DD (default today).")] = None,
          by: ByOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Extend a lease by MONTHS; the renewal is recorded with its date (it counts in the
    operating report)."""
    day = parse_date(on, "on")
    with open_services() as svc:
        _show(svc.money.leasing.renew(number, months, by or default_actor(), day), json_out)


@app.command("release")
def release(by: ByOpt = None, when: DateOpt = None) -> None:
    """Return the servers of leases ended or terminated by --date to `available` (each at its
    lease's end), and renew the auto-renewing ones due by then."""
    with open_services() as svc:
        n = svc.money.leasing.release_due(by or default_actor(), when)
    console.print(f"{n} servers released", highlight=False)


@app.command("fail")
def fail(serial: str, reason: Annotated[str, typer.Option()], by: ByOpt = None,
         when: DateOpt = None) -> None:  # fmt: skip
    """A leased server failed: open an SLA downtime record."""
    with open_services() as svc:
        e = svc.money.leasing.server_failed(serial, by or default_actor(), reason, when)
    console.print(
        f"{serial} down since {e.down_from:%Y-%m-%d %H:%M} UTC (contract {e.contract})",
        highlight=False,
    )


@app.command("restore")
def restore(serial: str, by: ByOpt = None, when: DateOpt = None) -> None:
    """Return a repaired leased server to its lease; closes the SLA downtime."""
    with open_services() as svc:
        e = svc.money.leasing.server_restored(serial, by or default_actor(), at=when)
    console.print(
        f"{serial} back in service; down {e.down_until - e.down_from if e.down_until else '?'}",
        highlight=False,
    )


@app.command("price")
def price(sku: str, klass: Annotated[str, typer.Argument(metavar="CLASS", help="high | standard | spot")],
          gpu_hour_price: str, valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
          vat: str = "0.06") -> None:  # fmt: skip
    """Set the on-demand GPU-hour price of SKU and CLASS from a date on."""
    day = parse_date(valid_from, "valid_from")
    assert day is not None
    with open_services() as svc:
        p = svc.money.metering.set_price(sku, klass, gpu_hour_price, day, vat)
    console.print(
        f"{p.sku} {p.priority_class}: {p.gpu_hour_price}/GPU-hour from {p.valid_from}",
        highlight=False,
    )


@app.command("prices")
def prices(json_out: JsonOpt = False) -> None:
    """The price list."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.metering.list_prices())
    print_json(rows) if json_out else print_table(
        rows, ["sku", "priority_class", "gpu_hour_price", "vat_rate", "valid_from"], "Prices"
    )


@app.command("deliver")
def deliver(serial: str, by: ByOpt = None, when: DateOpt = None) -> None:
    """Put a server leased before its delivery into service (it earns rent from the next day)."""
    with open_services() as svc:
        c = svc.money.leasing.deliver(serial, by or default_actor(), when)
    console.print(f"{serial} in service for {c.number} ({c.customer})", highlight=False)
