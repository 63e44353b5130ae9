"""`suanli catalog`: GPU models, server SKUs, and fleet capacity in P."""

from __future__ import annotations

from typing import Annotated

import typer

from suanli.cli.render import Col, console, print_json, print_table
from suanli.core.catalog import PConvention, default_catalog
from suanli.core.errors import ValidationError
from suanli.core.i18n import _

app = typer.Typer(help="GPU and server catalog.", no_args_is_help=True)


@app.command("gpus")
def gpus(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List GPU models with their TFLOPS, memory, NVLink and TDP."""
    cat = default_catalog()
    rows = [
        {
            "key": g.key,
            "name": g.name,
            "bf16_dense_tflops": g.bf16_dense_tflops,
            "fp16_sparse_tflops": g.fp16_sparse_tflops,
            "fp8_dense_tflops": g.fp8_dense_tflops,
            "memory_gb": g.memory_gb,
            "nvlink_gbps": g.nvlink_gbps,
            "tdp_w": g.tdp_w,
        }
        for g in cat.gpus.values()
    ]
    if json_out:
        print_json({"version": cat.version, "gpus": rows})
    else:
        cols = [Col("key"), Col("name", drop=1), Col("bf16_dense_tflops", "BF16 dense"),
                Col("fp16_sparse_tflops", "FP16 sparse", decimals=0),
                Col("fp8_dense_tflops", "FP8 dense", decimals=0), Col("memory_gb", "mem", unit="GB"),
                Col("nvlink_gbps", "NVLink", unit="GB/s", drop=2), Col("tdp_w", "TDP", unit="W")]  # fmt: skip
        print_table(
            rows,
            cols,
            title=_("GPU catalog %(version)s (TFLOPS per GPU)") % {"version": cat.version},
        )


@app.command("servers")
def servers(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List server SKUs with GPU count, nameplate power and P per server."""
    cat = default_catalog()
    rows = [
        {
            "key": s.key,
            "name": s.name,
            "gpu": s.gpu.key,
            "gpus": s.gpus,
            "nameplate_kw": s.nameplate_kw,
            "p_bf16_dense": round(s.petaflops(PConvention.BF16_DENSE), 3),
            "p_fp16_sparse": round(s.petaflops(PConvention.FP16_SPARSE), 3),
        }
        for s in cat.servers.values()
    ]
    if json_out:
        print_json({"version": cat.version, "servers": rows})
    else:
        cols = [Col("key"), Col("name", drop=1), Col("gpu"), Col("gpus"),
                Col("nameplate_kw", "power", unit="kW", decimals=1),
                Col("p_bf16_dense", "BF16 dense", unit="P"), Col("p_fp16_sparse", "FP16 sparse", unit="P")]  # fmt: skip
        print_table(rows, cols, title=_("Server SKUs %(version)s") % {"version": cat.version})


@app.command("capacity")
def capacity(
    fleet: Annotated[list[str], typer.Argument(help="SKU=COUNT pairs, e.g. HGX-H800-8=330")],
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Computing power of a fleet in P, under both conventions."""
    pairs: list[tuple[str, int]] = []
    for item in fleet:
        key, sep, count = item.partition("=")
        if not sep or not count.isdigit():
            raise ValidationError(
                "catalog.invalid_fleet", f"expected SKU=COUNT, got {item!r}", {"fleet": "SKU=COUNT"}
            )
        pairs.append((key, int(count)))
    cat = default_catalog()
    result = {
        "fleet": dict(pairs),
        "p_bf16_dense": round(cat.capacity_p(pairs, PConvention.BF16_DENSE), 3),
        "p_fp16_sparse": round(cat.capacity_p(pairs, PConvention.FP16_SPARSE), 3),
    }
    if json_out:
        print_json(result)
    else:
        console.print(
            f"{result['p_fp16_sparse']:,} P (FP16 sparse)  ·  {result['p_bf16_dense']:,} P (BF16 dense)"
        )
