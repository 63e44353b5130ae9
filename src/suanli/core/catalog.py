"""The versioned GPU and server catalog, shipped as ``core/data/catalog.toml``.

Owns: GPU models (TFLOPS under each convention, memory and its bandwidth, NVLink, network, TDP) and server SKUs (GPUs per
server, nameplate power), and the conversion of a fleet into computing power in P (PFLOPS).

Vocabulary: *P* is PFLOPS. Two conventions exist and must always be named:
``bf16_dense`` (what engineers count) and ``fp16_sparse`` (2:4 sparsity, what announcements
count; 330 H800 servers are about 5,225 P under it).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

from suanli.core.errors import NotFoundError


class PConvention(StrEnum):
    BF16_DENSE = "bf16_dense"
    FP16_SPARSE = "fp16_sparse"


@dataclass(frozen=True, slots=True)
class GpuModel:
    key: str
    name: str
    vendor: str
    bf16_dense_tflops: float
    fp16_dense_tflops: float
    fp16_sparse_tflops: float
    fp8_dense_tflops: float | None
    memory_gb: int
    nvlink_gbps: int
    tdp_w: int
    source: str
    hbm_gb_per_s: float | None = None
    network_gbit_per_s: float | None = None
    perf_source: str = ""

    def tflops(self, convention: PConvention) -> float:
        if convention is PConvention.BF16_DENSE:
            return self.bf16_dense_tflops
        return self.fp16_sparse_tflops


@dataclass(frozen=True, slots=True)
class ServerSku:
    key: str
    name: str
    gpu: GpuModel
    gpus: int
    nameplate_kw: float
    source: str

    def petaflops(self, convention: PConvention = PConvention.FP16_SPARSE) -> float:
        """Computing power of one server in P under ``convention``."""
        return self.gpus * self.gpu.tflops(convention) / 1000.0


@dataclass(frozen=True, slots=True)
class Catalog:
    version: str
    gpus: Mapping[str, GpuModel]
    servers: Mapping[str, ServerSku]

    def gpu(self, key: str) -> GpuModel:
        try:
            return self.gpus[key]
        except KeyError:
            raise NotFoundError(
                "catalog.unknown_gpu",
                f"unknown GPU model {key!r}",
                {"gpu": f"one of {sorted(self.gpus)}"},
            ) from None

    def sku(self, key: str) -> ServerSku:
        try:
            return self.servers[key]
        except KeyError:
            raise NotFoundError(
                "catalog.unknown_sku",
                f"unknown server SKU {key!r}",
                {"sku": f"one of {sorted(self.servers)}"},
            ) from None

    def capacity_p(
        self,
        fleet: Iterable[tuple[str, int]],
        convention: PConvention = PConvention.FP16_SPARSE,
    ) -> float:
        """Total P of ``fleet``, an iterable of (server SKU key, server count)."""
        return sum(self.sku(key).petaflops(convention) * count for key, count in fleet)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def parse_catalog(doc: Mapping[str, Any]) -> Catalog:
    """Build a :class:`Catalog` from the parsed TOML document."""
    gpus: dict[str, GpuModel] = {}
    for key, g in doc["gpus"].items():
        fp8 = g.get("fp8_dense_tflops")
        gpus[key] = GpuModel(
            key=key,
            name=g["name"],
            vendor=g["vendor"],
            bf16_dense_tflops=float(g["bf16_dense_tflops"]),
            fp16_dense_tflops=float(g["fp16_dense_tflops"]),
            fp16_sparse_tflops=float(g["fp16_sparse_tflops"]),
            fp8_dense_tflops=None if fp8 is None else float(fp8),
            memory_gb=int(g["memory_gb"]),
            nvlink_gbps=int(g["nvlink_gbps"]),
            tdp_w=int(g["tdp_w"]),
            source=g["source"],
            hbm_gb_per_s=_opt_float(g.get("hbm_gb_per_s")),
            network_gbit_per_s=_opt_float(g.get("network_gbit_per_s")),
            perf_source=str(g.get("perf_source", "")),
        )
    servers = {
        key: ServerSku(
            key=key,
            name=s["name"],
            gpu=gpus[s["gpu"]],
            gpus=int(s["gpus"]),
            nameplate_kw=float(s["nameplate_kw"]),
            source=s["source"],
        )
        for key, s in doc["servers"].items()
    }
    return Catalog(version=str(doc["version"]), gpus=gpus, servers=servers)


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The catalog shipped with the package (read once, then cached)."""
    text = resources.files("suanli.core").joinpath("data/catalog.toml").read_text("utf-8")
    return parse_catalog(tomllib.loads(text))
