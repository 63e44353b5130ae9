"""`suanli report`: the disclosure ledger (announcements, funding, transfers) and the operating
report with its archive.

Heavy modules (the ORM behind the services, WeasyPrint) are imported inside the commands that
use them: start-up cost is a feature, not a cycle-dodge.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from suanli.cli.context import default_actor, money, open_services, parse_date
from suanli.cli.render import console, err_console, print_json, print_table, wrote
from suanli.core.catalog import PConvention
from suanli.core.errors import ValidationError
from suanli.core.serialize import to_jsonable

app = typer.Typer(help="Disclosure: announcements, uses of funds, operating report.",
                  no_args_is_help=True)  # fmt: skip

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who does this (default: $USER).")]
FUNDING_HELP = "raised | own | loan"


def _sku_mix(items: list[str]) -> dict[str, int]:
    mix: dict[str, int] = {}
    for i, text in enumerate(items):
        sku, _, units = text.partition(":")
        if not units.isdigit():
            raise ValidationError(
                "announcement.invalid_sku_mix",
                f"expected SKU:UNITS, got {text!r}",
                {f"sku[{i}]": "SKU:UNITS"},
            )
        mix[sku] = mix.get(sku, 0) + int(units)
    return mix


def _required_date(value: str, field: str) -> date:
    parsed = parse_date(value, field)
    assert parsed is not None  # value is a required option, never None
    return parsed


@app.command("announce")
def announce(
    ref: str,
    date_: Annotated[str, typer.Option("--date", help="Announcement date YYYY-MM-DD.")],
    title: Annotated[str, typer.Option()],
    sku: Annotated[list[str], typer.Option("--sku", help="SKU:UNITS (repeat)")],
    planned_p: Annotated[str, typer.Option("--planned-p", help="Announced capacity in P.")],
    purpose: Annotated[str, typer.Option()],
    funding: Annotated[str, typer.Option(help=FUNDING_HELP)],
    convention: Annotated[
        PConvention, typer.Option(help="The P convention the announcement used.")
    ] = PConvention.FP16_SPARSE,
    raised: Annotated[str | None, typer.Option(help="Raised funds earmarked (CNY).")] = None,
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a public announcement of planned capacity."""
    from suanli.services.reports.ledger import DisclosureService, NewAnnouncement, funding_source

    spec = NewAnnouncement(ref, _required_date(date_, "date"), title, _sku_mix(sku), planned_p,
                           convention, purpose, funding_source(funding), raised)  # fmt: skip
    with open_services() as svc:
        ann = DisclosureService(svc.sessions, svc.clock, svc.catalog).announce(
            spec, by or default_actor()
        )
    if json_out:
        print_json(to_jsonable(ann))
    else:
        console.print(f"announcement {ann.ref}: {ann.planned_units} servers, {ann.planned_p} P")


@app.command("link-order")
def link_order(ref: str, order: str, json_out: JsonOpt = False) -> None:
    """Link a purchase order to the announcement it delivers."""
    from suanli.services.reports.ledger import DisclosureService

    with open_services() as svc:
        ann = DisclosureService(svc.sessions, svc.clock, svc.catalog).link_order(ref, order)
    if json_out:
        print_json(to_jsonable(ann))
    else:
        console.print(f"{ann.ref}: orders {', '.join(ann.orders)}")


@app.command("funding")
def funding(
    order: str, source: Annotated[str, typer.Argument(help=FUNDING_HELP)], json_out: JsonOpt = False
) -> None:
    """Set the funding source of a purchase order."""
    from suanli.services.reports.ledger import DisclosureService, funding_source

    src = funding_source(source)
    with open_services() as svc:
        DisclosureService(svc.sessions, svc.clock, svc.catalog).set_order_funding(order, src)
    if json_out:
        print_json({"order": order, "funding_source": src.value})
    else:
        console.print(f"{order}: funded by {src.value}")


@app.command("transfer")
def transfer(
    ref: str,
    amount: Annotated[str, typer.Option()],
    funding: Annotated[str, typer.Option(help=FUNDING_HELP)],
    to: Annotated[str, typer.Option("--to", help="Counterparty.")],
    purpose: Annotated[str, typer.Option()],
    date_: Annotated[str, typer.Option("--date", help="Transfer date YYYY-MM-DD.")],
    announcement: Annotated[
        str | None, typer.Option(help="The announcement whose purpose this serves.")
    ] = None,
    undisclosed: Annotated[
        bool, typer.Option("--undisclosed", help="Not (yet) publicly disclosed.")
    ] = False,
    currency: Annotated[str | None, typer.Option()] = None,
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Record a transfer of funds tagged by funding source."""
    from suanli.services.reports.ledger import DisclosureService, NewTransfer, funding_source

    spec = NewTransfer(ref, _required_date(date_, "date"), amount, funding_source(funding), to,
                       purpose, announcement, not undisclosed, currency)  # fmt: skip
    with open_services() as svc:
        t = DisclosureService(svc.sessions, svc.clock, svc.catalog).record_transfer(
            spec, by or default_actor()
        )
    if json_out:
        print_json(to_jsonable(t))
    else:
        console.print(f"transfer {t.ref}: {money(t.amount)} {t.currency} from {t.funding_source}")


@app.command("announcements")
def announcements(json_out: JsonOpt = False) -> None:
    """List announcements with their orders."""
    from suanli.services.reports.ledger import DisclosureService

    with open_services() as svc:
        rows = to_jsonable(DisclosureService(svc.sessions, svc.clock).list_announcements())
    if json_out:
        print_json(rows)
        return
    for r in rows:
        r["orders"] = ", ".join(r["orders"])
    cols = ["ref", "announced_on", "planned_units", "planned_p", "p_convention",
            "funding_source", "orders"]  # fmt: skip
    print_table(rows, cols, "Announcements")


@app.command("transfers")
def transfers(json_out: JsonOpt = False) -> None:
    """List fund transfers."""
    from suanli.services.reports.ledger import DisclosureService

    with open_services() as svc:
        rows = to_jsonable(DisclosureService(svc.sessions, svc.clock).list_transfers())
    if json_out:
        print_json(rows)
        return
    cols = ["ref", "transferred_on", "amount", "currency", "funding_source", "counterparty",
            "announcement", "disclosed"]  # fmt: skip
    print_table(rows, cols, "Fund transfers")


def _rates(items: list[str] | None) -> dict[str, str]:
    rates: dict[str, str] = {}
    for i, text in enumerate(items or []):
        bucket, sep, rate = text.partition("=")
        if not sep:
            raise ValidationError("report.invalid_rate", f"expected BUCKET=RATE, got {text!r}",
                                  {f"ecl_rate[{i}]": "e.g. 90+=0.5"})  # fmt: skip
        rates[bucket] = rate
    return rates


@app.command("operating")
def operating(
    period: Annotated[str, typer.Option(help="2024Q1 | 2024-03 | 2024")],
    html: Annotated[Path | None, typer.Option(help="Write the HTML report here.")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Write the PDF report here.")] = None,
    lang: Annotated[str, typer.Option(help="zh | en")] = "zh",
    ecl_rate: Annotated[
        list[str] | None, typer.Option("--ecl-rate", help="BUCKET=RATE loss rate, e.g. 90+=0.5")
    ] = None,
    twin: Annotated[
        bool,
        typer.Option(
            "--twin/--no-twin",
            help="Add the digital-twin projection (section 9; never archived).",
        ),
    ] = True,
    by: ByOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Build the operating report from the ledger, archive it, and write HTML/PDF."""
    from suanli.services.reports.i18n import check_lang, sentence
    from suanli.services.reports.operating import ReportService
    from suanli.services.reports.render import to_html, to_pdf

    check_lang(lang)
    with open_services() as svc, err_console.status(f"building the {period} report"):
        done = ReportService(svc.sessions, svc.clock, svc.catalog).generate(
            period, by or default_actor(), _rates(ecl_rate), twin
        )
    page = to_html(done.report, done.archived, lang)
    if html:
        html.write_text(page, encoding="utf-8")
        wrote(html)
    if pdf:
        with err_console.status(f"rendering {pdf}"):
            pdf.write_bytes(to_pdf(page))
        wrote(pdf)
    a = done.archived
    if json_out:
        print_json({"period": a.period, "version": a.version, "closed": done.closed,
                    "inputs_hash": a.inputs_hash, "figures": a.figures,
                    "projections": done.report.projections(),
                    "differences": to_jsonable(list(a.differences))})  # fmt: skip
        return
    restated = f", restates v{a.restates_version}" if a.restates_version else ""
    console.print(f"operating report {a.period}: version {a.version}{restated}"
                  f"{'' if done.closed else ' (period not closed yet)'}")  # fmt: skip
    for d in a.differences:
        console.print(f"  changed {d.figure}: {d.before} → {d.after}")
    for _, flag in done.report.flags():
        console.print(f"[red]⚑[/red] {sentence(lang, flag)}", highlight=False)


@app.command("archive")
def archive(
    period: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False
) -> None:
    """List archived reports and their restatements."""
    from suanli.services.reports.ledger import DisclosureService

    with open_services() as svc:
        rows = DisclosureService(svc.sessions, svc.clock).archived("operating", period)
    data = [{"period": r.period, "version": r.version, "generated_at": r.generated_at.isoformat(),
             "restates": r.restates_version, "changes": len(r.differences),
             "inputs_hash": r.inputs_hash[:12]} for r in rows]  # fmt: skip
    if json_out:
        print_json(to_jsonable(rows))
    else:
        print_table(data, list(data[0]) if data else ["period"], "Archived operating reports")
