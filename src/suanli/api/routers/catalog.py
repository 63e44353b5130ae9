"""/api/v1/catalog: GPU models and server SKUs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from suanli.core.catalog import PConvention, default_catalog

router = APIRouter(prefix="/catalog", tags=["catalog"])


@router.get("/gpus")
def list_gpus() -> dict[str, Any]:
    cat = default_catalog()
    return {"version": cat.version, "items": [_gpu(g) for g in cat.gpus.values()]}


def _gpu(g: Any) -> dict[str, Any]:
    return {f: getattr(g, f) for f in g.__slots__}


@router.get("/servers")
def list_servers() -> dict[str, Any]:
    cat = default_catalog()
    items = [
        {
            "key": s.key,
            "name": s.name,
            "gpu": s.gpu.key,
            "gpus": s.gpus,
            "nameplate_kw": s.nameplate_kw,
            "p_bf16_dense": s.petaflops(PConvention.BF16_DENSE),
            "p_fp16_sparse": s.petaflops(PConvention.FP16_SPARSE),
        }
        for s in cat.servers.values()
    ]
    return {"version": cat.version, "items": items}
