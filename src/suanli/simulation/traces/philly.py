"""Philly trace replay (Microsoft, 2017; derived tables in ``shared/data/philly``).

Protocol (Helios, SC'21; see the data README): each virtual cluster (VC) is an isolated
cluster of ``node num`` × 8 GPUs in one network leaf; its jobs arrive at their timestamps with
their GPU count and run time and are placed consolidated. Jobs asking more GPUs than their VC
has are dropped and counted; VCs without a node count are left out and counted.

``load`` compresses inter-arrival times: submit times become ``t0 + (t - t0) / load`` where
``t0`` is the first submit of the whole trace, so ``load=4`` offers four times the work per
unit of time. Reading the CSV files is the only I/O of the simulation layer.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from suanli.core.errors import NotFoundError, ValidationError
from suanli.scheduling.jobs.model import GPUS_PER_NODE, ClusterSpec, JobTable

JOBS_FILE = "philly_jobs.csv"
VC_FILE = "philly_vc_nodes.csv"


@dataclass(frozen=True)
class VcTrace:
    vc: str
    jobs: JobTable
    cluster: ClusterSpec
    dropped: int


@dataclass(frozen=True)
class PhillyTrace:
    vcs: tuple[VcTrace, ...]
    excluded_jobs: int
    excluded_vcs: tuple[str, ...]

    def vc(self, name: str) -> VcTrace:
        for v in self.vcs:
            if v.vc == name:
                return v
        raise NotFoundError(
            "philly.unknown_vc", f"no VC {name!r}", {"vc": [v.vc for v in self.vcs]}
        )

    @property
    def jobs(self) -> int:
        return sum(len(v.jobs) for v in self.vcs)


def _require(path: Path) -> Path:
    if not path.is_file():
        raise NotFoundError("philly.missing", f"{path} not found", {"data": str(path.parent)})
    return path


def load_philly(
    data_dir: Path | str, load: float = 1.0, vcs: list[str] | None = None
) -> PhillyTrace:
    """Read the Philly tables from ``data_dir`` and split them into per-VC replays."""
    if not load > 0:
        raise ValidationError("philly.invalid_load", "load must be > 0", {"load": "> 0"})
    root = Path(data_dir)
    with _require(root / VC_FILE).open(newline="") as fh:
        nodes = {row["vc"]: int(row["node num"]) for row in csv.DictReader(fh)}
    with _require(root / JOBS_FILE).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    stamps = np.array([r["timestamp"] for r in rows], dtype="datetime64[s]")
    submit_all = (stamps - stamps.min()).astype(np.float64) / load
    duration = np.array([float(r["duration"]) for r in rows])
    gpus = np.array([int(r["num_gpus"]) for r in rows], dtype=np.int64)
    vc_col = np.array([r["cluster"] for r in rows])
    wanted = sorted(nodes) if vcs is None else vcs
    for name in wanted:
        if name not in nodes:
            raise NotFoundError("philly.unknown_vc", f"no VC {name!r}", {"vc": sorted(nodes)})
    out: list[VcTrace] = []
    for name in wanted:
        idx = np.flatnonzero(vc_col == name)
        idx = idx[np.argsort(submit_all[idx], kind="stable")]
        cap = nodes[name] * GPUS_PER_NODE
        fits = gpus[idx] <= cap
        keep = idx[fits]
        jobs = JobTable.build(
            submit_all[keep], duration[keep], gpus[keep], tenant=[name] * int(keep.shape[0])
        )
        out.append(VcTrace(name, jobs, ClusterSpec.uniform(nodes[name]), int((~fits).sum())))
    out.sort(key=lambda v: -len(v.jobs))
    excluded = sorted(set(vc_col.tolist()) - set(nodes))
    excluded_jobs = int(np.isin(vc_col, excluded).sum())
    return PhillyTrace(tuple(out), excluded_jobs, tuple(excluded))
