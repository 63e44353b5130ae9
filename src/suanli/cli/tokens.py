"""`suanli tokens`: the inference product's token price list, token usage and usage by day.

Token records are ingested with the GPU usage: ``suanli usage ingest FILE`` (CSV or JSONL).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from suanli.cli.context import open_services, parse_date
from suanli.cli.render import console, print_json, print_table
from suanli.core.billing import midnight
from suanli.core.serialize import to_jsonable

app = typer.Typer(help="Inference tokens: price list, usage, usage by day.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DayOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD (UTC)")]


@app.command("price")
def price(
    model: str,
    input_miss: Annotated[str, typer.Argument(help="CNY per M input tokens, cache miss")],
    input_hit: Annotated[str, typer.Argument(help="CNY per M input tokens, cache hit")],
    output: Annotated[str, typer.Argument(help="CNY per M output tokens")],
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    night_discount: Annotated[str, typer.Option(help="fraction off at night, e.g. 0.5")] = "0",
    night: Annotated[str, typer.Option(help="local night window HH:MM-HH:MM")] = "00:30-08:30",
    utc_offset_minutes: Annotated[int, typer.Option(help="local time zone (+480: Beijing)")] = 480,
    vat: str = "0.06",
) -> None:
    """Set MODEL's token prices (CNY per million tokens) from a date on."""
    day = parse_date(valid_from, "valid_from")
    assert day is not None
    start, _, end = night.partition("-")
    with open_services() as svc:
        p = svc.money.tokens.set_price(
            model, input_miss, input_hit, output, day, night_discount, start, end,
            utc_offset_minutes, vat,
        )  # fmt: skip
    console.print(
        f"{p.model} from {p.valid_from}: input {p.input_miss_per_m} (miss) / "
        f"{p.input_hit_per_m} (hit), output {p.output_per_m} CNY per M tokens; night "
        f"{p.night_start:%H:%M}-{p.night_end:%H:%M} -{p.night_discount * 100:.0f} %",
        highlight=False,
    )


@app.command("prices")
def prices(model: Annotated[str | None, typer.Option()] = None, json_out: JsonOpt = False) -> None:
    """The token price list (every version)."""
    with open_services() as svc:
        rows = to_jsonable(svc.money.tokens.list_prices(model))
    cols = ["model", "valid_from", "input_miss_per_m", "input_hit_per_m", "output_per_m",
            "night_discount", "night_start", "night_end", "vat_rate"]  # fmt: skip
    print_json(rows) if json_out else print_table(rows, cols, "Token prices (CNY per M tokens)")


def _at(value: str | None, field: str) -> datetime | None:
    day = parse_date(value, field)
    return midnight(day) if day else None


@app.command("list")
def list_(customer: Annotated[str | None, typer.Option()] = None,
          model: Annotated[str | None, typer.Option()] = None, since: DayOpt = None,
          until: DayOpt = None, limit: int = 50, offset: int = 0,
          json_out: JsonOpt = False) -> None:  # fmt: skip
    """Token usage records by start time."""
    with open_services() as svc:
        page = to_jsonable(
            svc.money.tokens.list_usage(
                customer=customer, model=model, since=_at(since, "since"),
                until=_at(until, "until"), limit=limit, offset=offset,
            )
        )  # fmt: skip
    cols = ["event_id", "customer", "model", "started_at", "input_tokens", "cache_hit_tokens",
            "output_tokens", "invoiced"]  # fmt: skip
    print_json(page) if json_out else print_table(
        page["items"], cols, f"Token usage ({page['total']})"
    )


@app.command("daily")
def daily(customer: Annotated[str | None, typer.Option()] = None, since: DayOpt = None,
          until: DayOpt = None, json_out: JsonOpt = False) -> None:  # fmt: skip
    """Tokens by UTC day and model."""
    with open_services() as svc:
        rows = to_jsonable(
            svc.money.tokens.daily(
                customer=customer, since=_at(since, "since"), until=_at(until, "until")
            )
        )
    cols = ["day", "model", "requests", "input_tokens", "cache_hit_tokens", "output_tokens"]
    print_json(rows) if json_out else print_table(rows, cols, "Token usage by day")
