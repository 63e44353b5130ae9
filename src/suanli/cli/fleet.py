"""`suanli fleet`: sites, cabinets, servers, lifecycle transitions and CSV import of servers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from suanli.cli.context import default_actor, open_services, report_rejected_rows
from suanli.cli.render import Col, console, print_json, print_table
from suanli.core.fleet import ServerState, parse_state
from suanli.core.i18n import _
from suanli.core.serialize import to_jsonable
from suanli.services.fleet.imports import ImportRejected
from suanli.services.fleet.servers import NewServer, ServerFilter

app = typer.Typer(help="Sites, cabinets and servers; lifecycle transitions.", no_args_is_help=True)
sites = typer.Typer(help="Data-center sites.", no_args_is_help=True)
cabinets = typer.Typer(help="Cabinets and their power budgets.", no_args_is_help=True)
servers = typer.Typer(help="Servers and their lifecycle.", no_args_is_help=True)
app.add_typer(sites, name="sites")
app.add_typer(cabinets, name="cabinets")
app.add_typer(servers, name="servers")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who does this (default: $USER).")]
SERVER_COLUMNS = ["serial", "sku", "state", "site_code", "cabinet_code", "network_group",
                  "supplier", "po_number", "purchase_price"]  # fmt: skip


@sites.command("add")
def sites_add(
    code: str,
    name: str,
    city: Annotated[str | None, typer.Option()] = None,
    json_out: JsonOpt = False,
) -> None:
    """Add a site (CODE is short, e.g. BJ1)."""
    with open_services() as svc:
        site = svc.fleet.add_site(code, name, city)
    print_json(to_jsonable(site)) if json_out else console.print(f"site {site.code} added")


@sites.command("list")
def sites_list(json_out: JsonOpt = False) -> None:
    """List sites."""
    with open_services() as svc:
        rows = to_jsonable(svc.fleet.list_sites())
    print_json(rows) if json_out else print_table(rows, ["code", "name", "city"], "Sites")


@cabinets.command("add")
def cabinets_add(
    site: str,
    code: str,
    power_kw: Annotated[str, typer.Option("--power-kw", help="Power budget in kW.")],
    json_out: JsonOpt = False,
) -> None:
    """Add a cabinet to SITE with a power budget."""
    with open_services() as svc:
        cab = svc.fleet.add_cabinet(site, code, power_kw)
    if json_out:
        print_json(to_jsonable(cab))
    else:
        console.print(f"cabinet {cab.site_code}/{cab.code} added ({cab.power_budget_kw} kW)")


@cabinets.command("list")
def cabinets_list(
    site: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """List cabinets with power used / budget."""
    with open_services() as svc:
        rows = to_jsonable(svc.fleet.list_cabinets(site))
    if json_out:
        print_json(rows)
    else:
        print_table(
            rows, ["site_code", "code", "power_budget_kw", "used_kw", "servers"], "Cabinets"
        )


@servers.command("add")
def servers_add(
    serial: str,
    sku: Annotated[str, typer.Option(help="Server SKU from `suanli catalog servers`.")],
    price: Annotated[str | None, typer.Option("--price", help="Purchase price.")] = None,
    currency: Annotated[str | None, typer.Option()] = None,
    supplier: Annotated[str | None, typer.Option()] = None,
    network_group: Annotated[str | None, typer.Option("--network-group")] = None,
    state: Annotated[str, typer.Option(help="ordered | delivered")] = "ordered",
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Register one server (initial state ordered or delivered)."""
    spec = NewServer(serial, sku, price, currency, supplier, network_group, parse_state(state))
    with open_services() as svc:
        server = svc.fleet.add_server(spec, actor=by or default_actor())
    if json_out:
        print_json(to_jsonable(server))
    else:
        console.print(f"server {server.serial} ({server.sku}) is {server.state.value}")


@servers.command("list")
def servers_list(
    state: Annotated[str | None, typer.Option()] = None,
    sku: Annotated[str | None, typer.Option()] = None,
    site: Annotated[str | None, typer.Option()] = None,
    cabinet: Annotated[str | None, typer.Option(help="SITE/CABINET")] = None,
    supplier: Annotated[str | None, typer.Option()] = None,
    network_group: Annotated[str | None, typer.Option("--network-group")] = None,
    limit: Annotated[int, typer.Option()] = 50,
    offset: Annotated[int, typer.Option()] = 0,
    json_out: JsonOpt = False,
) -> None:
    """List servers, filtered and paginated."""
    flt = ServerFilter(
        parse_state(state) if state else None, sku, site, cabinet, supplier, network_group
    )
    with open_services() as svc:
        page = svc.fleet.list_servers(flt, limit, offset)
    data = to_jsonable(page)
    if json_out:
        print_json(data)
    else:
        shown = f"{offset + 1}-{offset + len(page.items)}" if page.items else "none"
        print_table(
            data["items"],
            SERVER_COLUMNS,
            _("Servers (%(shown)s of %(total)s)") % {"shown": shown, "total": page.total},
        )


@servers.command("show")
def servers_show(serial: str, json_out: JsonOpt = False) -> None:
    """One server with its transition history."""
    with open_services() as svc:
        server = to_jsonable(svc.fleet.get_server(serial))
        history = to_jsonable(svc.fleet.transitions(serial, limit=500).items)
    if json_out:
        print_json({"server": server, "transitions": history})
        return
    for key, value in server.items():
        console.print(f"[bold]{key}[/bold]: {value}", highlight=False)
    rows = [{**h, "at": str(h["at"])[:16].replace("T", " ")} for h in history]
    cols = [Col("at", "at (UTC)"), Col("from_state", "from"), Col("to_state", "to"),
            Col("actor", drop=2), Col("reason"), Col("cabinet_code", "cabinet", drop=1)]  # fmt: skip
    print_table(rows, cols, "Transitions")


@servers.command("transition")
def servers_transition(
    serial: str,
    to_state: Annotated[str, typer.Argument(help=f"One of {[s.value for s in ServerState]}")],
    reason: Annotated[str, typer.Option(help="Why (recorded).")],
    cabinet: Annotated[
        str | None, typer.Option(help="SITE/CABINET, needed when racking (delivered → burn_in).")
    ] = None,
    by: ByOpt = None,
    when: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="When it happened: YYYY-MM-DD (00:00 UTC) or an ISO datetime with offset; "
            "default now.",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Move a server to another lifecycle state; invalid moves are refused and change nothing."""
    target = parse_state(to_state, "to_state")
    with open_services() as svc:
        t = svc.fleet.transition(serial, target, by or default_actor(), reason, cabinet, when)
    if json_out:
        print_json(to_jsonable(t))
    else:
        src = t.from_state.value if t.from_state else "-"
        console.print(f"{t.serial}: {src} → {t.to_state.value}", highlight=False)


@app.command("import")
def import_servers(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV file")],
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Import servers from CSV (all rows or none: one bad row rejects the file; bad rows are
    reported with line and column).

    Columns: serial, sku, purchase_price, currency, supplier, network_group,
    state (ordered|delivered|burn_in|available), cabinet (SITE/CABINET).
    """
    with open_services() as svc, path.open("rb") as stream:  # streamed: any size, UTF-8 checked
        try:
            result = svc.imports.import_servers(
                stream, actor=by or default_actor(), source=path.name
            )
        except ImportRejected as exc:
            report_rejected_rows(exc)
    if json_out:
        print_json(to_jsonable(result))
    else:
        console.print(f"imported {len(result.created)} servers from {path.name}")
