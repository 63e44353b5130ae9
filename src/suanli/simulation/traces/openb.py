"""Loader for the Alibaba ``openb`` GPU cluster trace (cluster-trace-gpu-v2023, FGD paper).

Owns: reading the node list (``sn, cpu_milli, memory_mib, gpu, model``) and pod lists (``name,
cpu_milli, memory_mib, num_gpu, gpu_milli[, gpu_spec, ...]``) into :class:`NodeTable` /
:class:`PodTable`, the published file list with SHA-256 checksums, and checksum verification for
``suanli traces fetch openb``. Malformed input raises :class:`ValidationError` with code
``trace.malformed`` naming the file, line and column.

Normalisation (as the paper's simulator does it): a pod with ``num_gpu == 0`` has no GPU request;
otherwise the per-GPU milli is clamped to 0..1000; empty ``|``-parts of ``gpu_spec`` are dropped.
Extra columns (qos, phase, times) are ignored. Multi-GPU pods must request whole GPUs.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import GPU_MILLI, NodeTable, PodTable

REPO_URL = "https://raw.githubusercontent.com/alibaba/clusterdata"
DEFAULT_REF = "master"
FOLDER = "cluster-trace-gpu-v2023/csv"
GPU_NODES = "openb_node_list_gpu_node.csv"

#: SHA-256 of the published files (computed from copies taken at clusterdata commit 7a6c496e).
CHECKSUMS: Mapping[str, str] = {
    "openb_node_list_all_node.csv": "5a85c2af79c66a1efff8bbcbda430400aae56d8431370d738480967e1a9c6b15",
    "openb_node_list_gpu_node.csv": "2beca64b4d3dfa342036a34b56a495c6cef9225db836c81f541282cb1df320b5",
    "openb_pod_list_default.csv": "1ee7ed79c27a3b0861cda8ddba86a004c6aba904caafa329a76ae93ca63834a8",
    "openb_pod_list_gpushare100.csv": "12dbc07d6a49bf8641e2275a2ff5bf7be74b5df7d148d531e135b140b95f9a3d",
    "openb_pod_list_gpushare20.csv": "9be2d0efb52e242c32e23dd184cc5fcc1983478c6c9c02cbb6b4b62925c0ffcd",
    "openb_pod_list_gpushare40.csv": "d83ce79a4eb6987524bedbb0c65e41aed3a36bf6c1b78b86234c3687a07e1d40",
    "openb_pod_list_gpushare60.csv": "d31809628128a1f24491086eda4af3e23882b9213d3ef57a56ee2d1af69492fe",
    "openb_pod_list_gpushare80.csv": "88b6649369ced40d0fde287d2498ea61ff4b05fccba8bdc95daf6042f2f8431e",
    "openb_pod_list_multigpu20.csv": "d9ec6f6c74fb980cc0b81239470c6353fceea077ea9abd610003b604c7cc2b01",
    "openb_pod_list_multigpu30.csv": "a5e479c6444b1d83eef848159cf00c3cfa13441b2d1e2c113c391b91f1cc5b11",
    "openb_pod_list_multigpu40.csv": "32c9e8731ca07ef96108aa65f2a289bb9aacb47f642ed9e3789f99b242df60eb",
    "openb_pod_list_multigpu50.csv": "206f2f5959db30ecb7c44e7f13197c8ec50b7a35558ad3777cc3662ef0fe5373",
}

NODE_COLUMNS = ("sn", "cpu_milli", "memory_mib", "gpu", "model")
POD_COLUMNS = ("name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli")


def _malformed(path: Path, line: int, column: str, why: str) -> ValidationError:
    return ValidationError(
        "trace.malformed",
        f"{path.name}, line {line}, column {column!r}: {why}",
        fields={"file": str(path), "line": line, "column": column},
    )


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; checks the header and the field count."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise ValidationError(
            "trace.unreadable", f"cannot read {path}: {exc.strerror}", fields={"file": str(path)}
        ) from exc
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise _malformed(path, 1, required[0], "file is empty")
        header = [h.strip() for h in header]
        for col in required:
            if col not in header:
                raise _malformed(path, 1, col, "missing column in the header")
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                col = header[min(len(row), len(header) - 1)]
                raise _malformed(path, line, col, f"expected {len(header)} fields, got {len(row)}")
            yield line, dict(zip(header, row, strict=True))


def _int(path: Path, line: int, row: dict[str, str], column: str, allow_empty: bool = False) -> int:
    text = row[column].strip()
    if not text and allow_empty:
        return 0
    try:
        value = int(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            raise _malformed(path, line, column, f"not an integer: {text!r}") from None
        if not as_float.is_integer():
            raise _malformed(path, line, column, f"not an integer: {text!r}") from None
        value = int(as_float)
    if value < 0:
        raise _malformed(path, line, column, f"must be ≥ 0, got {value}")
    return value


def load_nodes(path: Path) -> NodeTable:
    """The node list; every row is a node."""
    names: list[str] = []
    cols: dict[str, list[int]] = {"cpu_milli": [], "memory_mib": [], "gpu": []}
    models: list[str] = []
    seen: set[str] = set()
    for line, row in _rows(path, NODE_COLUMNS):
        name = row["sn"].strip()
        if not name:
            raise _malformed(path, line, "sn", "empty node name")
        if name in seen:
            raise _malformed(path, line, "sn", f"duplicate node name {name!r}")
        seen.add(name)
        names.append(name)
        for col, values in cols.items():
            values.append(_int(path, line, row, col))
        model = row["model"].strip()
        if cols["gpu"][-1] > 0 and not model:
            raise _malformed(path, line, "model", "a node with GPUs needs a GPU model")
        models.append(model)
    return NodeTable(
        names=tuple(names),
        cpu_milli=np.array(cols["cpu_milli"], dtype=np.int64),
        memory_mib=np.array(cols["memory_mib"], dtype=np.int64),
        gpu_count=np.array(cols["gpu"], dtype=np.int64),
        models=tuple(models),
    )


def load_pods(path: Path) -> PodTable:
    """A pod list, in file order, with the GPU request normalised (see the module docstring)."""
    names: list[str] = []
    cpu: list[int] = []
    mem: list[int] = []
    num: list[int] = []
    milli: list[int] = []
    specs: list[str] = []
    seen: set[str] = set()
    for line, row in _rows(path, POD_COLUMNS):
        name = row["name"].strip()
        if not name:
            raise _malformed(path, line, "name", "empty pod name")
        if name in seen:
            raise _malformed(path, line, "name", f"duplicate pod name {name!r}")
        seen.add(name)
        n_gpu = _int(path, line, row, "num_gpu")
        g_milli = min(_int(path, line, row, "gpu_milli", allow_empty=True), GPU_MILLI)
        if n_gpu == 0:
            g_milli = 0
        if n_gpu > 1 and 0 < g_milli < GPU_MILLI:
            raise _malformed(path, line, "gpu_milli", "a multi-GPU pod must take whole GPUs (1000)")
        spec = row.get("gpu_spec", "").strip() if g_milli > 0 else ""
        if spec.lower() == "nan":
            spec = ""
        names.append(name)
        cpu.append(_int(path, line, row, "cpu_milli"))
        mem.append(_int(path, line, row, "memory_mib"))
        num.append(n_gpu if g_milli > 0 else 0)
        milli.append(g_milli)
        specs.append("|".join(p for p in spec.split("|") if p))
    return PodTable(
        names=tuple(names),
        cpu_milli=np.array(cpu, dtype=np.int64),
        memory_mib=np.array(mem, dtype=np.int64),
        num_gpu=np.array(num, dtype=np.int64),
        gpu_milli=np.array(milli, dtype=np.int64),
        gpu_spec=tuple(specs),
    )


def pod_file(directory: Path, trace: str) -> Path:
    """``default`` or ``gpushare40`` -> ``DIR/openb_pod_list_<trace>.csv``."""
    return directory / f"openb_pod_list_{trace}.csv"


def file_url(name: str, ref: str = DEFAULT_REF) -> str:
    return f"{REPO_URL}/{ref}/{FOLDER}/{name}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(name: str, data: bytes, checksums: Mapping[str, str] = CHECKSUMS) -> str:
    """The SHA-256 of ``data`` if it is the published ``name``; else ``trace.checksum_mismatch``."""
    if name not in checksums:
        raise ValidationError(
            "trace.unknown_file", f"not an openb file: {name}", fields={"name": name}
        )
    digest = sha256(data)
    if digest != checksums[name]:
        raise ValidationError(
            "trace.checksum_mismatch",
            f"{name}: SHA-256 {digest} differs from the published {checksums[name]}",
            fields={"name": name, "sha256": digest},
        )
    return digest
