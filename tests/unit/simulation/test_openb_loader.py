"""openb CSV loader on small fixtures: normalisation and clear errors for malformed rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from suanli.core.errors import ValidationError
from suanli.simulation.traces.openb import load_nodes, load_pods, verify

NODES = """sn,cpu_milli,memory_mib,gpu,model
node-b,64000,262144,2,P100
node-a,96000,786432,8,G2
node-c,32000,131072,0,
"""

PODS = """name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time
pod-0,12000,16384,1,1000,,LS,Running,0,1,0
pod-1,6000,12288,1,460,V100M16||V100M32,LS,Running,1,2,1
pod-2,8000,8192,0,1000,T4,BE,Failed,2,3,2
pod-3,4000,0,2,1500,,LS,Pending,3,4,3
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_nodes_load_in_file_order(tmp_path: Path) -> None:
    table = load_nodes(write(tmp_path, "n.csv", NODES))
    assert table.names == ("node-b", "node-a", "node-c")
    assert table.gpu_count.tolist() == [2, 8, 0] and table.models == ("P100", "G2", "")
    assert table.gpu_capacity_milli == 10_000
    assert table.sorted_by_name().names == ("node-a", "node-b", "node-c")


def test_pods_are_normalised(tmp_path: Path) -> None:
    table = load_pods(write(tmp_path, "p.csv", PODS))
    assert table.gpu_milli.tolist() == [1000, 460, 0, 1000]  # CPU-only -> 0; >1000 clamps
    assert table.num_gpu.tolist() == [1, 1, 0, 2]
    assert table.gpu_spec == ("", "V100M16|V100M32", "", "")
    assert table.total_gpu_milli.tolist() == [1000, 460, 0, 2000]
    assert table.request(1).is_sharing and not table.request(0).is_sharing


def test_multigpu_files_without_spec_column(tmp_path: Path) -> None:
    text = "name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1000,1024,4,1000\n"
    table = load_pods(write(tmp_path, "m.csv", text))
    assert table.gpu_spec == ("",) and table.num_gpu.tolist() == [4]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("name,cpu_milli,memory_mib,num_gpu\np,1,1,1\n", 1, "gpu_milli"),
        ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1\n", 2, "gpu_milli"),
        ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1,500\nq,abc,1,0,0\n", 3, "cpu_milli"),
        ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,-5,0,0\n", 2, "memory_mib"),
        ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,0,0\np,1,1,0,0\n", 3, "name"),
        ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,2,500\n", 2, "gpu_milli"),
        ("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1.5,1,0,0\n", 2, "cpu_milli"),
    ],
)
def test_malformed_pods_name_file_line_and_column(
    tmp_path: Path, text: str, line: int, column: str
) -> None:
    path = write(tmp_path, "bad_pods.csv", text)
    with pytest.raises(ValidationError) as info:
        load_pods(path)
    err = info.value
    assert err.code == "trace.malformed"
    assert err.fields == {"file": str(path), "line": line, "column": column}
    assert "bad_pods.csv" in err.message and f"line {line}" in err.message


def test_malformed_nodes(tmp_path: Path) -> None:
    path = write(tmp_path, "bad_nodes.csv", "sn,cpu_milli,memory_mib,gpu,model\nx,1,1,2,\n")
    with pytest.raises(ValidationError) as info:
        load_nodes(path)
    assert info.value.fields["column"] == "model"
    with pytest.raises(ValidationError) as info:
        load_nodes(tmp_path / "missing.csv")
    assert info.value.code == "trace.unreadable"
    with pytest.raises(ValidationError) as info:
        load_nodes(write(tmp_path, "empty.csv", ""))
    assert info.value.code == "trace.malformed"


def test_verify_checks_sha256() -> None:
    sums = {"f.csv": "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}
    assert verify("f.csv", b"hello", sums) == sums["f.csv"]
    with pytest.raises(ValidationError) as info:
        verify("f.csv", b"hellO", sums)
    assert info.value.code == "trace.checksum_mismatch"
    with pytest.raises(ValidationError):
        verify("other.csv", b"hello", sums)
