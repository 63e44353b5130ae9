from __future__ import annotations

import pytest

from suanli.core.catalog import PConvention, default_catalog
from suanli.core.errors import NotFoundError

REQUIRED_GPUS = [
    "H100-SXM",
    "H800-SXM",
    "H20",
    "A100-SXM",
    "A800-SXM",
    "L20",
    "L40S",
    "Ascend-910B",
]


def test_catalog_has_required_gpus_with_all_figures() -> None:
    cat = default_catalog()
    for key in REQUIRED_GPUS:
        g = cat.gpu(key)
        assert g.bf16_dense_tflops > 0 and g.memory_gb > 0 and g.tdp_w > 0
        assert g.fp16_sparse_tflops == pytest.approx(
            2 * g.fp16_dense_tflops, rel=0.02
        )  # L40S datasheet: 362 dense, 733 sparse


def test_330_h800_servers_are_about_5225_p_sparse() -> None:
    # Lotus Health filing, Sep 2023: 330 H800 servers, "约5225 PetaFlops" (reference 1c).
    cat = default_catalog()
    p = cat.capacity_p([("HGX-H800-8", 330)], PConvention.FP16_SPARSE)
    assert p == pytest.approx(5225, abs=1.0)
    dense = cat.capacity_p([("HGX-H800-8", 330)], PConvention.BF16_DENSE)
    assert dense == pytest.approx(p / 2, rel=0.001)


def test_server_nameplate_power_from_reference() -> None:
    cat = default_catalog()
    assert cat.sku("HGX-H800-8").nameplate_kw == 10.2
    assert cat.sku("HGX-A800-8").nameplate_kw == 6.5


def test_unknown_sku_is_a_coded_not_found() -> None:
    with pytest.raises(NotFoundError) as info:
        default_catalog().sku("HGX-B200-8")
    assert info.value.code == "catalog.unknown_sku"
    assert "sku" in info.value.fields
