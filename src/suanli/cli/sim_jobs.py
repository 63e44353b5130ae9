"""`suanli sim jobs` and `suanli sim sweep`: simulate gang-scheduled training jobs (Philly
replay, user traces, synthetic traces, load sweeps). Registered on the ``sim`` group by
:mod:`suanli.cli.sim`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from suanli.cli.charts import pyplot
from suanli.cli.render import Col, dumps, err_console, print_table, wrote
from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import ClusterSpec
from suanli.scheduling.jobs.placement import Strategy
from suanli.scheduling.jobs.policies import make_policy
from suanli.settings import load_settings
from suanli.simulation.failures import FailureModel
from suanli.simulation.jobs_runs import run_philly, run_trace, sweep_philly
from suanli.simulation.traces.synthetic import generate
from suanli.simulation.traces.usertrace import load_cluster_toml, load_jobs_csv

FIGURES = [
    Col("jobs"),
    Col("avg_jct", "avg JCT", unit="h", decimals=2),
    Col("p99_jct", "p99 JCT", unit="h", decimals=2),
    Col("avg_queue", "avg queue", unit="min", decimals=1),
    Col("utilization", "util", unit="%", decimals=1),
]
COLUMNS = [
    Col("vc"),
    FIGURES[0],
    Col("dropped", drop=3),
    *FIGURES[1:],
    Col("preemptions", "preempt", drop=2),
    Col("restarts", drop=1),
]


def _progress() -> Progress:
    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )


def _default_philly() -> Path:
    """``data/philly`` in the shared data directory of the settings (``SUANLI_SHARED``)."""
    return load_settings().shared_dir() / "data" / "philly"


def jobs(
    trace: Annotated[str, typer.Option("--trace", help="philly | synthetic | file")] = "philly",
    data: Annotated[Path | None, typer.Option("--data", help="Philly data directory")] = None,
    policy: Annotated[
        str, typer.Option("--policy", help="fifo|sjf|srtf|las|fair|priority|backfill")
    ] = "fifo",
    vc: Annotated[list[str] | None, typer.Option("--vc", help="Philly VC id (repeatable)")] = None,
    load: Annotated[float, typer.Option("--load", help="arrival-rate multiplier")] = 1.0,
    failures: Annotated[
        bool, typer.Option("--failures", help="inject node failures (Llama 3 rate)")
    ] = False,
    failure_rate: Annotated[
        float, typer.Option("--failure-rate", help="per 1,000 node-days")
    ] = 3.79,
    strategy: Annotated[Strategy, typer.Option("--placement")] = Strategy.CONSOLIDATED,
    backfill: Annotated[bool, typer.Option("--backfill", help="EASY backfill (with fair)")] = False,
    checkpoint: Annotated[
        float | None, typer.Option("--checkpoint", help="Philly: checkpoint every N seconds")
    ] = None,
    trace_file: Annotated[
        Path | None, typer.Option("--trace-file", help="job CSV or sacct -P")
    ] = None,
    cluster: Annotated[Path | None, typer.Option("--cluster", help="cluster TOML")] = None,
    n_jobs: Annotated[int, typer.Option("--jobs", help="synthetic: job count")] = 10_000,
    nodes: Annotated[int, typer.Option("--nodes", help="synthetic: 8-GPU nodes")] = 64,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the figures here")] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="PNG: JCT per VC, GPUs over time")
    ] = None,
) -> None:
    """Simulate a trace under one policy; print a table, write JSON and a chart."""
    pol = make_policy(policy, strategy=strategy, backfill=backfill)
    fail = FailureModel(rate_per_1000_node_days=failure_rate) if failures else None
    if trace_file is not None or trace == "file":
        if trace_file is None or cluster is None:
            raise ValidationError(
                "sim.missing_input",
                "a user trace needs --trace-file and --cluster",
                {"trace_file": "required", "cluster": "required"},
            )
        table, spec = load_jobs_csv(trace_file), load_cluster_toml(cluster)
        result = _with_bar(
            len(table),
            lambda tick: run_trace(table, spec, pol, failures=fail, seed=seed, progress=tick),
        )
    elif trace == "synthetic":
        spec = ClusterSpec.uniform(nodes, 8, 32)
        table = generate(n_jobs, spec.total_gpus, np.random.default_rng(seed), load=load)
        result = _with_bar(
            len(table),
            lambda tick: run_trace(
                table, spec, pol, failures=fail, seed=seed, progress=tick, name="synthetic"
            ),
        )
    elif trace == "philly":
        root = data or _default_philly()
        result = _with_bar(
            None,
            lambda tick, total: run_philly(
                root,
                pol,
                load=load,
                vcs=vc,
                failures=fail,
                seed=seed,
                progress=tick,
                total=total,
                checkpoint=checkpoint,
            ),
        )
    else:
        raise ValidationError(
            "sim.unknown_trace", f"unknown trace {trace!r}", {"trace": "philly|synthetic|file"}
        )
    rows = [{"vc": k, **_fmt(v)} for k, v in result["vcs"].items()]
    rows.append({"vc": "overall", **_fmt(result["overall"])})
    print_table(rows, COLUMNS, title=f"{'file' if trace_file else trace} · {policy} · load {load}")
    if json_out is not None:
        json_out.write_text(dumps(result))
        wrote(json_out)
    if chart is not None:
        _chart_run(result, chart)
        wrote(chart)


def _with_bar(total: int | None, body: Any) -> dict[str, Any]:
    with _progress() as bar:
        task = bar.add_task("simulating", total=total)

        def tick(n: int) -> None:
            bar.advance(task, n)

        if total is None:
            return body(tick, lambda t: bar.update(task, total=t))  # type: ignore[no-any-return]
        return body(tick)  # type: ignore[no-any-return]


def _fmt(fig: dict[str, Any]) -> dict[str, Any]:
    """Seconds in the results, hours / minutes / % on screen (the headers say which)."""
    out = dict(fig)
    for k, per in (("avg_jct", 3600), ("p99_jct", 3600), ("avg_queue", 60)):
        if out.get(k) is not None:
            out[k] = out[k] / per
    if out.get("utilization") is not None:
        out["utilization"] = out["utilization"] * 100
    return out


def _chart_run(result: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    names = list(result["vcs"])
    ax1.bar(names, [result["vcs"][n]["avg_jct"] / 3600 for n in names], color="#4477aa")
    ax1.set_ylabel("average JCT (hours)")
    ax1.set_title(f"{result['policy']}: average JCT per VC")
    ax1.tick_params(axis="x", rotation=60)
    for name, series in result.get("allocation", {}).items():
        t = np.array(series["t"])
        ax2.step((t - t[0]) / 86400 if t.size else t, series["gpus"], where="post", label=name)
    ax2.set_xlabel("days")
    ax2.set_ylabel("allocated GPUs")
    ax2.set_title("GPU allocation over time")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def sweep(
    data: Annotated[Path | None, typer.Option("--data", help="Philly data directory")] = None,
    policies: Annotated[str, typer.Option("--policies")] = "fifo,sjf,srtf,las",
    loads: Annotated[str, typer.Option("--loads")] = "0.5,1,2,4,8",
    vc: Annotated[list[str] | None, typer.Option("--vc")] = None,
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="PNG: average JCT vs load")] = None,
    markdown: Annotated[
        Path | None, typer.Option("--markdown", help="per-VC table at load 1")
    ] = None,
) -> None:
    """Philly replay at several loads under several policies (the docs' table and chart)."""
    try:
        load_values = [float(x) for x in loads.split(",") if x]
    except ValueError as exc:
        raise ValidationError(
            "sim.invalid_load", "loads must be numbers", {"loads": loads}
        ) from exc
    pols = [make_policy(p.strip()) for p in policies.split(",") if p.strip()]
    root = data or _default_philly()
    with _progress() as bar:
        task = bar.add_task("sweeping", total=None)
        result = sweep_philly(
            root, pols, load_values, vcs=vc, progress=lambda n: bar.advance(task, n)
        )
    rows = [
        {"policy": r["policy"], "load": r["load"], **_fmt(r["overall"])} for r in result["runs"]
    ]
    print_table(rows, [Col("policy"), Col("load", unit="×"), *FIGURES])
    if json_out is not None:
        json_out.write_text(dumps(result))
        wrote(json_out)
    if chart is not None:
        _chart_sweep(result, chart)
        wrote(chart)
    if markdown is not None:
        markdown.write_text(_markdown(result))
        wrote(markdown)


def _chart_sweep(result: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    by_policy: dict[str, list[tuple[float, float]]] = {}
    for r in result["runs"]:
        by_policy.setdefault(r["policy"], []).append((r["load"], r["overall"]["avg_jct"] / 3600))
    for name, pts in by_policy.items():
        pts.sort()
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name.upper())
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("load (arrival-rate multiplier)")
    ax.set_ylabel("average JCT over all jobs (hours)")
    ax.set_title("Philly replay, all VCs: average JCT vs load")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _markdown(result: dict[str, Any]) -> str:
    lines: list[str] = []
    for load in result["loads"]:
        runs = [r for r in result["runs"] if r["load"] == load]
        if not runs:
            continue
        names = [r["policy"].upper() for r in runs]
        lines.append(
            f"\n**Load {load:g}×** — average JCT (hours) / average queueing delay (minutes)\n"
        )
        lines.append("| VC | GPUs | jobs | " + " | ".join(names) + " |")
        lines.append("|---|---:|---:|" + "---:|" * len(names))
        for vc_name, fig in runs[0]["vcs"].items():
            cells = [
                f"{r['vcs'][vc_name]['avg_jct'] / 3600:.2f} / {r['vcs'][vc_name]['avg_queue'] / 60:.1f}"
                for r in runs
            ]
            lines.append(
                f"| {vc_name} | {fig['gpus']} | {fig['jobs']} | " + " | ".join(cells) + " |"
            )
        cells = [
            f"{r['overall']['avg_jct'] / 3600:.2f} / {r['overall']['avg_queue'] / 60:.1f}"
            for r in runs
        ]
        total = runs[0]["overall"]["jobs"]
        lines.append(f"| **all** | | {total} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
