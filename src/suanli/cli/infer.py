"""`suanli infer`: inference capacity planning (``plan``) and the DeepSeek day model (``day``).

Thin edge: parses options, calls :mod:`suanli.simulation.inference.planning` /
:mod:`suanli.inference.day`, renders tables, JSON and charts. Heavy imports (numpy, the
simulator, matplotlib) happen inside the commands so ``suanli --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    help="Inference: capacity planning, cost per token, day model.", no_args_is_help=True
)

# Default price per GPU-hour, CNY. H800: DeepSeek's $2 at 7.25 CNY/$ (inference-economics.md);
# A800: 2 CNY/card-hour promotion (source article, spring 2024) is a floor, we use a rental
# estimate; H20 / 910B: estimates [E]. Override with --gpu-price SKU=price.
DEFAULT_GPU_PRICE_CNY = {"H800-SXM": 14.5, "A800-SXM": 8.0, "H20": 7.0, "Ascend-910B": 6.0}
PROFILES = ("azure-conv", "azure-code")


def _shared() -> Path:
    """The shared data directory of the settings (``SUANLI_SHARED``)."""
    from suanli.settings import load_settings  # pydantic-settings only when a command needs it

    return load_settings().shared_dir()


def _prices(values: list[str] | None) -> dict[str, float]:
    from suanli.core.errors import ValidationError

    prices = dict(DEFAULT_GPU_PRICE_CNY)
    for v in values or []:
        key, _, raw = v.partition("=")
        try:
            prices[key.strip()] = float(raw)
        except ValueError:
            raise ValidationError(
                "infer.bad_price", f"cannot read price {v!r}", {"gpu_price": "SKU=CNY per GPU-hour"}
            ) from None
    return prices


@app.command("plan")
def plan(
    model: Annotated[str, typer.Option("--model", help="model key, e.g. llama-3.1-70b")],
    traffic: Annotated[
        str, typer.Option("--traffic", help="azure-conv | azure-code")
    ] = "azure-conv",
    slo: Annotated[
        str, typer.Option("--slo", help="ttft_p99=2s,tpot_p99=100ms")
    ] = "ttft_p99=2s,tpot_p99=100ms",
    peak_rps: Annotated[
        float, typer.Option("--peak-rps", help="requests/s at the daily peak")
    ] = 20.0,
    gpu: Annotated[
        list[str] | None, typer.Option("--gpu", help="GPU keys to compare (repeatable)")
    ] = None,
    gpu_price: Annotated[
        list[str] | None, typer.Option("--gpu-price", help="SKU=CNY per GPU-hour")
    ] = None,
    prefix_hit_rate: Annotated[float, typer.Option("--prefix-hit-rate")] = 0.0,
    price_input: Annotated[
        float | None, typer.Option("--price-input", help="CNY per M input tokens")
    ] = None,
    price_output: Annotated[
        float | None, typer.Option("--price-output", help="CNY per M output tokens")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="PNG: provisioned capacity vs demand")
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Cheapest GPU, parallel degree and hourly replicas meeting the SLO over the DeepSeek-shaped day."""
    from rich.progress import Progress

    from suanli.cli.render import dumps, err_console, print_table, wrote
    from suanli.core.catalog import default_catalog
    from suanli.core.errors import ValidationError
    from suanli.inference.demand import deepseek_shape
    from suanli.inference.models import get_model
    from suanli.simulation.inference.planning import PlanRequest, demand_series, parse_slo, plan_sku
    from suanli.simulation.inference.workload import AzureKind, azure_path, fit_lengths, load_azure

    if traffic not in PROFILES:
        raise ValidationError(
            "infer.unknown_traffic", f"unknown traffic {traffic!r}", {"traffic": list(PROFILES)}
        )
    fit = fit_lengths(load_azure(azure_path(_shared(), AzureKind(traffic.removeprefix("azure-")))))
    req = PlanRequest(
        get_model(model),
        fit,
        peak_rps,
        deepseek_shape(),
        parse_slo(slo),
        prefix_hit_rate,
        seed=seed,
    )
    prices = _prices(gpu_price)
    cat = default_catalog()
    keys = gpu or list(DEFAULT_GPU_PRICE_CNY)
    plans = []
    with Progress(console=err_console, transient=True, disable=as_json) as prog:
        task = prog.add_task("planning", total=len(keys))
        for key in keys:
            if key not in prices:
                raise ValidationError(
                    "infer.no_price", f"no GPU-hour price for {key}", {"gpu_price": f"{key}=..."}
                )
            p = plan_sku(cat.gpu(key), prices[key], req, lambda s: prog.update(task, description=s))
            prog.advance(task)
            if p is not None:
                plans.append(p)
    if not plans:
        raise ValidationError(
            "infer.infeasible", "no GPU meets the SLO for this model", {"slo": slo}
        )
    rows: list[dict[str, Any]] = []
    for p in sorted(plans, key=lambda p: p.cost_per_day):
        row: dict[str, Any] = {
            "gpu": p.gpu,
            "gpus_per_replica": p.gpus_per_replica,
            "precision": p.precision,
            "replica_capacity_rps": round(p.replica_capacity_rps, 3),
            "peak_replicas": max(p.hourly_replicas),
            "gpu_hours_per_day": p.gpu_hours_per_day,
            "cost_per_day_cny": round(p.cost_per_day, 2),
            "cost_per_m_input_cny": round(p.cost_per_m_input, 4),
            "cost_per_m_output_cny": round(p.cost_per_m_output, 4),
            "valley_node_hours": p.valley_node_hours,
            "gpu_hour_price_cny": p.gpu_hour_price,
            "hourly_replicas": list(p.hourly_replicas),
        }
        if price_input is not None and price_output is not None:
            row["price_covers_cost"] = p.covers(price_input, price_output)
        rows.append(row)
    if chart is not None:
        from suanli.cli.infer_charts import capacity_vs_demand

        best = min(plans, key=lambda p: p.cost_per_day)
        capacity_vs_demand(
            demand_series(peak_rps, req.shape),
            [h * best.replica_capacity_rps for h in best.hourly_replicas],
            f"{model} on {best.gpu} x{best.gpus_per_replica}: provisioned vs demand",
            chart,
        )
        wrote(chart)
    if as_json:
        typer.echo(dumps({"model": model, "traffic": traffic, "slo": slo, "plans": rows}))
        return
    short = {
        "gpu": "gpu",
        "gpus_per_replica": "gpus",
        "replica_capacity_rps": "req/s per replica",
        "peak_replicas": "peak",
        "gpu_hours_per_day": "GPU-h/day",
        "cost_per_day_cny": "CNY/day",
        "cost_per_m_input_cny": "CNY/M in",
        "cost_per_m_output_cny": "CNY/M out",
        "valley_node_hours": "valley node-h",
        "price_covers_cost": "price covers cost",
    }
    table = [{short[k]: v for k, v in r.items() if k in short} for r in rows]
    cols = [short[k] for k in short if k in rows[0]]
    print_table(table, cols, title=f"{model}, {traffic}, peak {peak_rps:g} req/s, SLO {slo}")


@app.command("day")
def day(
    name: Annotated[
        str, typer.Argument(help="bundled day scenario, e.g. deepseek-day")
    ] = "deepseek-day",
    profile: Annotated[
        Path | None,
        typer.Option("--profile", help="file of 24 hourly demand weights (own profile)"),
    ] = None,
    target_util: Annotated[float | None, typer.Option("--target-util")] = None,
    max_nodes: Annotated[int | None, typer.Option("--max-nodes")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="PNG: nodes vs demand")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Day model: autoscaled inference nodes, theoretical revenue, cost and the night valley."""
    import dataclasses

    from suanli.cli.render import Col, dumps, print_table, wrote
    from suanli.core.errors import ValidationError
    from suanli.core.serialize import to_jsonable
    from suanli.inference.day import scenario, serve_day

    shape, inputs = scenario(name)
    if profile is not None:
        try:
            values = [float(v) for v in profile.read_text("utf-8").replace(",", " ").split()]
        except (OSError, ValueError) as exc:
            raise ValidationError(
                "day.bad_profile_file", f"cannot read {profile}: {exc}", {"profile": "24 numbers"}
            ) from None
        shape = tuple(values)
    if target_util is not None or max_nodes is not None:
        inputs = dataclasses.replace(
            inputs,
            target_util=inputs.target_util if target_util is None else target_util,
            max_nodes=max_nodes if max_nodes is not None else inputs.max_nodes,
        )
    res = serve_day(shape, inputs)
    if chart is not None:
        from suanli.cli.infer_charts import capacity_vs_demand

        capacity_vs_demand(
            res.hourly_demand_nodes,
            res.hourly_nodes,
            f"{name}: inference nodes vs demand",
            chart,
            "nodes",
        )
        wrote(chart)
    if as_json:
        typer.echo(dumps({"scenario": name, **to_jsonable(res)}))
        return
    rows = [
        {"figure": "theoretical revenue (USD)", "value": f"{res.theoretical_revenue_usd:,}"},
        {"figure": "cost (USD)", "value": f"{res.cost_usd:,}"},
        {"figure": "average inference nodes", "value": f"{res.avg_inference_nodes:.2f}"},
        {"figure": "peak inference nodes", "value": str(res.peak_inference_nodes)},
        {
            "figure": "valley node-hours (free for training)",
            "value": f"{res.valley_node_hours:,.0f}",
        },
        {"figure": "cost-profit margin", "value": f"{res.margin:.0%}"},
    ]
    print_table(rows, ["figure", Col("value", as_is=True)], title=name)
