#!/usr/bin/env python3
"""Convert a vLLM or SGLang request log (JSON lines) into Suanli token usage records.

Reads one JSON object per line and writes one token record per line (JSONL), ready for
``suanli usage ingest records.jsonl`` or ``POST /api/v1/usage/batches``. Standard library only.

Two line shapes are understood (see docs/inference.md, "Token usage from vLLM and SGLang"):

1. An OpenAI-compatible response as a gateway or response logger saves it, from vLLM (started
   with ``--enable-prompt-tokens-details``) or SGLang (``--enable-cache-report``)::

     {"id": "chatcmpl-9f3", "created": 1743559200, "model": "deepseek-ai/DeepSeek-V3",
      "usage": {"prompt_tokens": 1200, "completion_tokens": 300,
                "prompt_tokens_details": {"cached_tokens": 1024}},
      "customer": "acme"}

2. An SGLang native ``/generate`` result (``meta_info``), with a timestamp added by the logger::

     {"timestamp": "2025-04-02T02:00:00Z", "model": "deepseek-v3", "customer": "acme",
      "meta_info": {"id": "a1b2", "prompt_tokens": 1200, "completion_tokens": 300,
                    "cached_tokens": 1024, "e2e_latency": 4.2}}

The customer comes from ``--customer-field`` (default ``customer``; a gateway often logs the
API key's owner or the OpenAI ``user`` field) or, if absent, ``--customer``. ``--model`` maps
a served model name to the price list's name (``--model deepseek-ai/DeepSeek-V3=deepseek-v3``).
The event id is ``<server>/<request id>``: request ids are unique per server, so one request
logged twice is ingested once. Lines that cannot be converted are reported on stderr with their
line number and the exit status is 1; the others are still written.

Usage: python scripts/inference_log_to_usage.py LOG.jsonl --server vllm-bj1 -o records.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO


class LineError(ValueError):
    """A log line that cannot become a token record."""


def _when(value: object) -> datetime:
    """Unix seconds or ISO 8601 → aware UTC."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LineError(f"bad timestamp {value!r}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise LineError("no timestamp (created, timestamp or time)")


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LineError(f"{name} must be a whole number >= 0, got {value!r}")
    return value


def convert(
    line: Mapping[str, Any],
    server: str,
    customer_field: str = "customer",
    default_customer: str | None = None,
    models: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One log line → one token usage record (raises :class:`LineError`)."""
    meta = line.get("meta_info")
    if isinstance(meta, Mapping):  # SGLang native
        request_id = meta.get("id")
        prompt, output = meta.get("prompt_tokens"), meta.get("completion_tokens")
        cached: object = meta.get("cached_tokens", 0)
        started = _when(line.get("timestamp", line.get("time")))
        latency = meta.get("e2e_latency")
    elif isinstance(line.get("usage"), Mapping):  # OpenAI-compatible response
        usage = line["usage"]
        request_id = line.get("id")
        prompt, output = usage.get("prompt_tokens"), usage.get("completion_tokens", 0)
        details = usage.get("prompt_tokens_details") or {}
        cached = details.get("cached_tokens") or 0
        started = _when(line.get("created", line.get("timestamp")))
        latency = line.get("e2e_latency")
    else:
        raise LineError("neither an OpenAI-style 'usage' nor an SGLang 'meta_info'")
    if not request_id:
        raise LineError("no request id")
    customer = line.get(customer_field) or default_customer
    if not customer:
        raise LineError(f"no customer (field {customer_field!r}, or pass --customer)")
    served = str(line.get("model") or "")
    model = (models or {}).get(served, served)
    if not model:
        raise LineError("no model")
    input_tokens = _int(prompt, "prompt_tokens")
    hits = _int(cached, "cached_tokens")
    ended = started
    if isinstance(latency, int | float) and not isinstance(latency, bool) and latency >= 0:
        ended = started + timedelta(seconds=float(latency))
    return {
        "event_id": f"{server}/{request_id}",
        "customer": str(customer),
        "model": model,
        "started_at": started.isoformat(),
        "ended_at": ended.isoformat(),
        "input_tokens": input_tokens,
        "cache_hit_tokens": min(hits, input_tokens),
        "output_tokens": _int(output, "completion_tokens"),
    }


def convert_lines(
    lines: Iterable[str], server: str, **options: Any
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, record or error message) for each non-blank line."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            yield number, convert(json.loads(text), server, **options)
        except json.JSONDecodeError as exc:
            yield number, f"not JSON: {exc.msg}"
        except LineError as exc:
            yield number, str(exc)


def _models(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        served, sep, priced = pair.partition("=")
        if not sep:
            raise SystemExit(f"--model wants SERVED=PRICED, got {pair!r}")
        out[served] = priced
    return out


def main(argv: list[str] | None = None, stdout: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", help="JSON lines request log ('-' for stdin)")
    parser.add_argument("--server", required=True, help="names the server in event ids")
    parser.add_argument("--customer", help="customer code when a line names none")
    parser.add_argument("--customer-field", default="customer")
    parser.add_argument("--model", action="append", default=[], metavar="SERVED=PRICED")
    parser.add_argument("-o", "--output", help="output file (default stdout)")
    args = parser.parse_args(argv)
    source = sys.stdin if args.log == "-" else open(args.log, encoding="utf-8")  # noqa: SIM115
    sink = open(args.output, "w", encoding="utf-8") if args.output else stdout  # noqa: SIM115
    failed = 0
    try:
        for number, result in convert_lines(
            source, args.server, customer_field=args.customer_field,
            default_customer=args.customer, models=_models(args.model),
        ):  # fmt: skip
            if isinstance(result, str):
                failed += 1
                print(f"line {number}: {result}", file=sys.stderr)
            else:
                sink.write(json.dumps(result) + "\n")
    finally:
        if source is not sys.stdin:
            source.close()
        if sink is not stdout:
            sink.close()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
