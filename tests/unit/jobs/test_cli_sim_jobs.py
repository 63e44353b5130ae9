"""`suanli sim`: user trace + cluster file to JSON and chart; Philly on one VC; errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suanli.cli.main import main

KEYS = {"avg_jct", "p99_jct", "avg_queue", "utilization", "jobs", "dropped"}


def write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    trace = tmp_path / "jobs.csv"
    trace.write_text("submit,duration,gpus,tenant\n0,100,8,a\n1,10,8,b\n2,10,8,a\n3,1,16,b\n")
    cluster = tmp_path / "cluster.toml"
    cluster.write_text("[[pools]]\nnodes = 1\ngpus = 8\n")
    return trace, cluster


def test_user_trace_to_json_and_chart(tmp_path: Path) -> None:
    trace, cluster = write_inputs(tmp_path)
    out, png = tmp_path / "out.json", tmp_path / "out.png"
    main(["sim", "jobs", "--trace-file", str(trace), "--cluster", str(cluster),
          "--policy", "sjf", "--json", str(out), "--chart", str(png)])  # fmt: skip
    data = json.loads(out.read_text())
    assert set(data["overall"]) >= KEYS and set(data["vcs"]["cluster"]) >= KEYS
    # One 8-GPU node: the 16-GPU job is dropped. SJF: 0-100, then the two 10 s jobs.
    assert data["overall"]["dropped"] == 1
    assert data["overall"]["jobs"] == 3
    assert data["overall"]["avg_jct"] == pytest.approx((100 + 109 + 118) / 3)
    assert png.stat().st_size > 10_000


@pytest.mark.dataset
def test_philly_single_vc(tmp_path: Path, shared_dir: Path) -> None:
    out = tmp_path / "vc.json"
    main(["sim", "jobs", "--trace", "philly", "--data", str(shared_dir / "data" / "philly"),
          "--policy", "las", "--vc", "e13805", "--load", "2", "--json", str(out)])  # fmt: skip
    data = json.loads(out.read_text())
    assert list(data["vcs"]) == ["e13805"]
    assert data["overall"]["jobs"] == 374 and data["load"] == 2.0


def test_missing_cluster_is_a_coded_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace, _ = write_inputs(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["sim", "jobs", "--trace-file", str(trace)])
    assert info.value.code == 1
    assert "sim.missing_input" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sim", "jobs", "--policy", "lottery", "--trace", "synthetic"])
    assert "sim.unknown_policy" in capsys.readouterr().err


@pytest.mark.dataset
def test_sweep_writes_json_chart_and_table(tmp_path: Path, shared_dir: Path) -> None:
    out, png, md = tmp_path / "s.json", tmp_path / "s.png", tmp_path / "s.md"
    main(["sim", "sweep", "--data", str(shared_dir / "data" / "philly"), "--vc", "2869ce",
          "--policies", "fifo,srtf", "--loads", "1,4", "--json", str(out), "--chart", str(png),
          "--markdown", str(md)])  # fmt: skip
    data = json.loads(out.read_text())
    runs = {(r["policy"], r["load"]): r["overall"]["avg_jct"] for r in data["runs"]}
    assert set(runs) == {("fifo", 1.0), ("fifo", 4.0), ("srtf", 1.0), ("srtf", 4.0)}
    assert runs[("srtf", 4.0)] < runs[("fifo", 4.0)]  # more load, SRTF pulls ahead
    assert runs[("fifo", 1.0)] < runs[("fifo", 4.0)]
    assert "| 2869ce | 128 | 422 |" in md.read_text()
    assert png.stat().st_size > 10_000
