"""User job traces (CSV, or Slurm ``sacct -P`` output) and cluster description files (TOML).

**Job CSV** — one row per job, header required; columns (only the first three are required):

| column | meaning |
|---|---|
| ``submit`` | seconds from any origin, or an ISO-8601 timestamp (``2024-03-01T08:00:00``) |
| ``duration`` | run time in seconds (what the job really needs; oracle policies read it) |
| ``gpus`` | GPUs, all started together (gang) |
| ``tenant`` | customer / account (default ``default``) |
| ``priority`` | ``reserved`` (default) or ``spot`` |
| ``checkpoint`` | seconds of work between checkpoints (empty = none) |
| ``time_limit`` | the user's wall-time request in seconds (backfill's estimate; default = duration) |
| ``kind`` | ``training`` (default) or ``inference`` |
| ``replicas`` | inference only: independent replicas of ``gpus`` GPUs each (default 1) |
| ``name`` | free text |

**Slurm** — the output of
``sacct -a -X -P --format=JobID,Account,Submit,Elapsed,Timelimit,AllocTRES,QOS`` is read as is
(detected by a ``JobID`` column and ``|`` separators): ``Submit`` → submit, ``Elapsed`` →
duration, ``Timelimit`` → time_limit, ``gres/gpu=N`` in ``AllocTRES`` → gpus (rows without GPUs
are skipped), ``Account`` → tenant, a QOS containing ``spot``/``preempt`` → spot.

**Cluster TOML** — pools of identical nodes; leaves are numbered across pools::

    [[pools]]
    nodes = 64          # node count
    gpus = 8            # GPUs per node (or sku = "HGX-H800-8" from the catalog)
    nodes_per_leaf = 16 # network leaf size (default: the whole pool is one leaf)
"""

from __future__ import annotations

import csv
import math
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from suanli.core.catalog import default_catalog
from suanli.core.errors import NotFoundError, ValidationError
from suanli.scheduling.jobs.model import ClusterSpec, JobKind, JobTable, PriorityClass


def _open(path: Path | str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NotFoundError("trace.missing", f"{p} not found", {"path": str(p)})
    return p


def _seconds(text: str, field: str, row: int) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(np.datetime64(text.strip().replace(" ", "T"), "s").astype(np.int64))
    except ValueError as exc:
        raise ValidationError(
            "trace.invalid", f"row {row}: {field} is neither seconds nor a timestamp", {field: text}
        ) from exc


def _slurm_duration(text: str) -> float:
    """``[D-]HH:MM:SS`` or ``MM:SS`` → seconds; ``UNLIMITED``/empty → inf."""
    text = text.strip()
    if not text or text.upper() in ("UNLIMITED", "PARTITION_LIMIT", "INVALID"):
        return math.inf
    days = 0
    if "-" in text:
        d, text = text.split("-", 1)
        days = int(d)
    parts = [float(x) for x in text.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    h, m, s = parts
    return days * 86400 + h * 3600 + m * 60 + s


def load_jobs_csv(path: Path | str) -> JobTable:
    """Read a job CSV or ``sacct -P`` file (see module docstring)."""
    p = _open(path)
    with p.open(newline="") as fh:
        head = fh.readline()
        fh.seek(0)
        if "|" in head and "JobID" in head:
            return _from_rows(_sacct_rows(csv.DictReader(fh, delimiter="|")))
        reader = csv.DictReader(fh)
        missing = {"submit", "duration", "gpus"} - set(reader.fieldnames or [])
        if missing:
            raise ValidationError(
                "trace.invalid",
                "job CSV lacks required columns",
                {c: "required" for c in sorted(missing)},
            )
        return _from_rows(reader)


def _sacct_rows(reader: Iterable[dict[str, str]]) -> Iterable[dict[str, str]]:
    for row in reader:
        tres = row.get("AllocTRES", "") or ""
        gpus = 0
        for part in tres.split(","):
            if part.startswith("gres/gpu=") or part.startswith("gres/gpu:"):
                gpus = int(part.split("=", 1)[1]) if "=" in part else gpus
        if gpus <= 0:
            continue
        limit = _slurm_duration(row.get("Timelimit", ""))
        qos = (row.get("QOS") or "").lower()
        yield {
            "submit": row["Submit"],
            "duration": str(_slurm_duration(row["Elapsed"])),
            "gpus": str(gpus),
            "tenant": row.get("Account") or "default",
            "priority": "spot" if ("spot" in qos or "preempt" in qos) else "reserved",
            "time_limit": "" if math.isinf(limit) else str(limit),
            "name": row.get("JobID", ""),
        }


def _from_rows(rows: Iterable[dict[str, Any]]) -> JobTable:
    cols: dict[str, list[Any]] = {
        k: []
        for k in ("submit", "duration", "gpus", "tenant", "pclass", "ckpt", "est", "kind", "name")
    }
    for i, row in enumerate(rows, start=2):
        submit = _seconds(row["submit"], "submit", i)
        try:
            duration = float(row["duration"])
            gpus = int(row["gpus"])
            replicas = int(row.get("replicas") or 1)
            ckpt = float(row["checkpoint"]) if row.get("checkpoint") else math.inf
            est = float(row["time_limit"]) if row.get("time_limit") else duration
        except ValueError as exc:
            raise ValidationError("trace.invalid", f"row {i}: {exc}", {"row": i}) from exc
        prio = (row.get("priority") or "reserved").strip().lower()
        if prio not in ("reserved", "spot"):
            raise ValidationError("trace.invalid", f"row {i}: unknown priority", {"priority": prio})
        kind = (row.get("kind") or "training").strip().lower()
        if kind not in ("training", "inference"):
            raise ValidationError("trace.invalid", f"row {i}: unknown kind", {"kind": kind})
        for _ in range(max(replicas, 1) if kind == "inference" else 1):
            cols["submit"].append(submit)
            cols["duration"].append(duration)
            cols["gpus"].append(gpus)
            cols["tenant"].append(row.get("tenant") or "default")
            cols["pclass"].append(int(PriorityClass[prio.upper()]))
            cols["ckpt"].append(ckpt)
            cols["est"].append(est)
            cols["kind"].append(int(JobKind[kind.upper()]))
            cols["name"].append(row.get("name") or "")
    if not cols["submit"]:
        raise ValidationError("trace.empty", "the trace has no jobs", {"rows": ">= 1"})
    submit_arr = np.array(cols["submit"], dtype=np.float64)
    order = np.argsort(submit_arr, kind="stable")
    return JobTable.build(
        submit_arr - submit_arr.min(),
        cols["duration"],
        cols["gpus"],
        tenant=cols["tenant"],
        pclass=cols["pclass"],
        checkpoint=cols["ckpt"],
        estimate=cols["est"],
        kind=cols["kind"],
        names=cols["name"],
    ).subset(order.astype(np.int64))


def load_cluster_toml(path: Path | str) -> ClusterSpec:
    """Read a cluster description (see module docstring)."""
    p = _open(path)
    try:
        doc = tomllib.loads(p.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError("cluster.invalid", f"{p}: {exc}", {"path": str(p)}) from exc
    pools = doc.get("pools")
    if not isinstance(pools, list) or not pools:
        raise ValidationError(
            "cluster.invalid", "cluster file needs [[pools]]", {"pools": "required"}
        )
    gpus: list[int] = []
    leaves: list[int] = []
    skus: list[str] = []
    next_leaf = 0
    for k, pool in enumerate(pools):
        nodes = int(pool.get("nodes", 0))
        if nodes < 1:
            raise ValidationError(
                "cluster.invalid", f"pool {k}: nodes must be >= 1", {"nodes": ">= 1"}
            )
        sku = str(pool.get("sku", ""))
        per_node = (
            int(pool["gpus"]) if "gpus" in pool else (default_catalog().sku(sku).gpus if sku else 8)
        )
        per_leaf = int(pool.get("nodes_per_leaf", nodes)) or nodes
        leaf = next_leaf + np.arange(nodes) // per_leaf
        next_leaf = int(leaf.max()) + 1
        gpus.extend([per_node] * nodes)
        leaves.extend(leaf.tolist())
        skus.extend([sku] * nodes)
    spec = ClusterSpec(
        np.array(gpus, dtype=np.int64), np.array(leaves, dtype=np.int64), tuple(skus)
    )
    spec.validate()
    return spec
