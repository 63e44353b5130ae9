"""`suanli sim placement` on a small fixture trace: JSON, chart, workers, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from suanli.cli.main import main


def fixture_trace(tmp_path: Path) -> tuple[Path, Path]:
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(
        "sn,cpu_milli,memory_mib,gpu,model\n"
        + "".join(
            f"n{i},64000,262144,{4 if i % 2 else 8},{'T4' if i % 3 else 'G2'}\n" for i in range(10)
        ),
        encoding="utf-8",
    )
    pods = tmp_path / "pods.csv"
    rows = []
    for i in range(150):
        kind = i % 4
        if kind == 0:
            rows.append(f"p{i:03d},4000,8192,0,0,")
        elif kind == 1:
            rows.append(f"p{i:03d},6000,8192,1,{250 + 100 * (i % 6)},")
        elif kind == 2:
            rows.append(f"p{i:03d},8000,8192,1,1000,T4")
        else:
            rows.append(f"p{i:03d},16000,8192,2,1000,")
    pods.write_text(
        "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec\n" + "\n".join(rows) + "\n"
    )
    return nodes, pods


def test_placement_writes_json_and_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nodes, pods = fixture_trace(tmp_path)
    out, chart = tmp_path / "out.json", tmp_path / "fig.png"
    main(
        [
            "sim", "placement", "--nodes", str(nodes), "--pods", str(pods),
            "--policy", "fgd,bestfit", "--policy", "random", "--seeds", "1-3",
            "--json", str(out), "--chart", str(chart), "--rng", "go",
        ]
    )  # fmt: skip
    data = json.loads(out.read_text())
    assert list(data["policies"]) == ["fgd", "bestfit", "random"]
    fgd = data["policies"]["fgd"]
    assert sorted(fgd["seeds"]) == ["1", "2", "3"]
    assert len(fgd["seeds"]["1"]["alloc"]) == len(data["x"]) == 131
    assert data["config"]["rng"] == "go" and data["config"]["seeds"] == [1, 2, 3]
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "median GPU allocation" in capsys.readouterr().out


def test_workers_give_the_same_numbers(tmp_path: Path) -> None:
    nodes, pods = fixture_trace(tmp_path)
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.json"
        main(["sim", "placement", "--nodes", str(nodes), "--pods", str(pods), "--policy", "dotprod",
              "--seeds", "5,6", "--workers", workers, "--json", str(out)])  # fmt: skip
        outs.append(json.loads(out.read_text())["policies"])
    assert outs[0] == outs[1]


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--policy", "tetris"], "placement.unknown_policy"),
        (["--seeds", "x-y"], "placement.bad_seeds"),
        (["--rng", "mt"], "placement.unknown_rng"),
    ],
)
def test_bad_options_exit_with_a_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], code: str
) -> None:
    nodes, pods = fixture_trace(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["sim", "placement", "--nodes", str(nodes), "--pods", str(pods), *extra])
    assert info.value.code == 1
    assert code in capsys.readouterr().err


def test_malformed_trace_names_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nodes, pods = fixture_trace(tmp_path)
    pods.write_text("name,cpu_milli,memory_mib,num_gpu,gpu_milli\np,1,1,1,lots\n")
    with pytest.raises(SystemExit):
        main(["sim", "placement", "--nodes", str(nodes), "--pods", str(pods)])
    err = capsys.readouterr().err
    assert "trace.malformed" in err and "line 2" in err and "gpu_milli" in err
