"""`suanli traces fetch openb`: download logic and checksum verification with a fake fetcher."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from suanli.cli.traces import fetch_openb
from suanli.core.errors import ValidationError
from suanli.simulation.traces import openb

FILES = {"openb_pod_list_default.csv": b"name\npod\n", "openb_node_list_gpu_node.csv": b"sn\nn\n"}
SUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}


class FakeFetcher:
    def __init__(self, overrides: dict[str, bytes] | None = None) -> None:
        self.urls: list[str] = []
        self.overrides = overrides or {}

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        name = url.rsplit("/", 1)[-1]
        return self.overrides.get(name, FILES[name])


def test_downloads_and_verifies(tmp_path: Path) -> None:
    get = FakeFetcher()
    rows = fetch_openb(tmp_path / "openb", get, checksums=SUMS)
    assert [r["status"] for r in rows] == ["downloaded", "downloaded"]
    assert (tmp_path / "openb" / "openb_pod_list_default.csv").read_bytes() == FILES[
        "openb_pod_list_default.csv"
    ]
    assert get.urls[0] == openb.file_url("openb_pod_list_default.csv")
    assert "alibaba/clusterdata/master/cluster-trace-gpu-v2023/csv/" in get.urls[0]
    again = FakeFetcher()
    rows = fetch_openb(tmp_path / "openb", again, checksums=SUMS)
    assert [r["status"] for r in rows] == ["present", "present"] and again.urls == []


def test_checksum_mismatch_writes_nothing(tmp_path: Path) -> None:
    get = FakeFetcher({"openb_node_list_gpu_node.csv": b"tampered"})
    with pytest.raises(ValidationError) as info:
        fetch_openb(tmp_path, get, checksums=SUMS)
    assert info.value.code == "trace.checksum_mismatch"
    assert info.value.fields["name"] == "openb_node_list_gpu_node.csv"
    assert not (tmp_path / "openb_node_list_gpu_node.csv").exists()
    assert not list(tmp_path.glob("*.part"))


def test_corrupt_local_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "openb_pod_list_default.csv").write_bytes(b"old")
    rows = fetch_openb(
        tmp_path, FakeFetcher(), names=["openb_pod_list_default.csv"], checksums=SUMS
    )
    assert rows[0]["status"] == "downloaded"
    with pytest.raises(ValidationError):
        fetch_openb(tmp_path, FakeFetcher(), names=["nope.csv"], checksums=SUMS)


def test_published_list_covers_the_paper_files() -> None:
    assert openb.GPU_NODES in openb.CHECKSUMS
    assert all(len(v) == 64 for v in openb.CHECKSUMS.values())
    assert sum(name.startswith("openb_pod_list_") for name in openb.CHECKSUMS) == 10
