"""From an engine's request log to an invoice with the CLI: scripts/inference_log_to_usage.py turns
vLLM (OpenAI-style) and SGLang (meta_info) lines into token records, ``suanli usage ingest``
stores them, ``suanli tokens`` prices and shows them, ``suanli invoice run`` bills them.
The figures are the two hand-worked requests of ``test_billing_tokens.py`` (net 6.12)."""

from __future__ import annotations

import importlib.util
import io
import json
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "inference_log_to_usage.py"


def converter() -> ModuleType:
    spec = importlib.util.spec_from_file_location("inference_log_to_usage", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LOG = [
    # vLLM --enable-prompt-tokens-details, as logged by a gateway (2025-04-02T02:00:00Z, day)
    {"id": "chatcmpl-1", "created": 1743559200, "model": "deepseek-ai/DeepSeek-V3", "customer": "acme",
     "usage": {"prompt_tokens": 1234567, "completion_tokens": 345678, "total_tokens": 1580245,
               "prompt_tokens_details": {"cached_tokens": 234567}}},
    # SGLang native /generate (night: 01:00 Beijing)
    {"timestamp": "2025-04-02T17:00:00Z", "model": "deepseek-ai/DeepSeek-V3",
     "meta_info": {"id": "9f0c", "prompt_tokens": 500000, "completion_tokens": 200001,
                   "cached_tokens": 100000, "e2e_latency": 12.5}},
    {"id": "chatcmpl-2", "created": 1743559300, "model": "x", "usage": {"prompt_tokens": -1}},
    "not json",
]  # fmt: skip


def ok(cli: Any, *argv: str) -> str:
    code, out, err = cli(*argv)
    assert code == 0, err
    return out  # type: ignore[no-any-return]


def test_converter_handles_both_engines_and_reports_bad_lines(tmp_path: Path, capsys: Any) -> None:
    log = tmp_path / "requests.jsonl"
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in LOG) + "\n")
    out = io.StringIO()
    status = converter().main(
        [str(log), "--server", "bj1", "--customer", "acme",
         "--model", "deepseek-ai/DeepSeek-V3=deepseek-v3"], stdout=out,
    )  # fmt: skip
    assert status == 1
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert records == [
        {"event_id": "bj1/chatcmpl-1", "customer": "acme", "model": "deepseek-v3",
         "started_at": "2025-04-02T02:00:00+00:00", "ended_at": "2025-04-02T02:00:00+00:00",
         "input_tokens": 1234567, "cache_hit_tokens": 234567, "output_tokens": 345678},
        {"event_id": "bj1/9f0c", "customer": "acme", "model": "deepseek-v3",
         "started_at": "2025-04-02T17:00:00+00:00", "ended_at": "2025-04-02T17:00:12.500000+00:00",
         "input_tokens": 500000, "cache_hit_tokens": 100000, "output_tokens": 200001},
    ]  # fmt: skip
    err = capsys.readouterr().err
    assert "line 3: prompt_tokens must be a whole number >= 0" in err and "line 4: not JSON" in err


def test_log_to_invoice_with_the_cli(cli: Any, tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    log.write_text("\n".join(json.dumps(x) for x in LOG[:2]) + "\n")
    records = tmp_path / "records.jsonl"
    assert converter().main([str(log), "--server", "bj1", "--customer", "acme", "--model",
                             "deepseek-ai/DeepSeek-V3=deepseek-v3", "-o", str(records)]) == 0  # fmt: skip
    ok(cli, "init")
    ok(cli, "customer", "create", "acme", "Acme AI")
    out = ok(cli, "tokens", "price", "deepseek-v3", "2", "0.5", "8", "--valid-from", "2025-02-09",
             "--night-discount", "0.5")  # fmt: skip
    assert "night 00:30-08:30 -50 %" in out
    code, _, err = cli("tokens", "price", "deepseek-v3", "2", "0.5", "8", "--valid-from",
                       "2025-02-09", "--night", "24:00-08:00")  # fmt: skip
    assert code == 1 and "input.invalid_time" in err
    prices = json.loads(ok(cli, "tokens", "prices", "--json"))
    assert [(p["model"], Decimal(p["output_per_m"])) for p in prices] == [
        ("deepseek-v3", Decimal(8))
    ]
    assert "2 records: 2 new" in ok(cli, "usage", "ingest", str(records))
    assert "0 new, 2 already known" in ok(cli, "usage", "ingest", str(records))
    daily = json.loads(ok(cli, "tokens", "daily", "--customer", "acme", "--json"))
    assert daily == [{"day": "2025-04-02", "model": "deepseek-v3", "requests": 2,
                      "input_tokens": 1734567, "cache_hit_tokens": 334567, "output_tokens": 545679}]  # fmt: skip
    page = json.loads(ok(cli, "tokens", "list", "--since", "2025-04-02", "--json"))
    assert page["total"] == 2
    run = json.loads(ok(cli, "invoice", "run", "2025-04", "--issue-date", "2025-05-01", "--json"))
    inv = json.loads(ok(cli, "invoice", "show", run["created"][0], "--json"))
    assert (Decimal(inv["net"]), Decimal(inv["tax"])) == (Decimal("6.12"), Decimal("0.37"))
    assert {line["kind"] for line in inv["lines"]} == {"tokens"}
