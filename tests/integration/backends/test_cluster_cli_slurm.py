"""`suanli cluster` and `suanli job` against the real dev Slurm cluster (marker `slurm`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from backend_harness import clean_slurm, poll

from suanli.backends.slurm import SubprocessRunner
from suanli.cli.main import main

pytestmark = pytest.mark.slurm


def test_operator_commands(
    slurm_conf: str,
    slurm_lock: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clean_slurm(slurm_conf)
    for key, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SLURM_CONF": slurm_conf,
        "CLUSTER_NAME": "suanli-dev",
        "CLUSTER_CABINET": "DEV/R1",
        "GRES_SKUS": '{"h800": "HGX-H800-8"}',
    }.items():
        monkeypatch.setenv(f"SUANLI_{key}", value)

    def run(*argv: str) -> str:
        try:
            main(list(argv))
        except SystemExit as exc:
            assert not exc.code, capsys.readouterr().err
        return capsys.readouterr().out

    run("db", "upgrade")
    run("fleet", "sites", "add", "DEV", "dev")
    run("fleet", "cabinets", "add", "DEV", "R1", "--power-kw", "1000")
    assert json.loads(run("cluster", "sync", "--apply", "--json"))["created"] == [
        "gn1", "gn2", "gn3", "gn4",
    ]  # fmt: skip
    assert json.loads(run("cluster", "drift", "--json")) == []
    run("customer", "create", "acme", "Acme")
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\nsleep 120\n")
    job = json.loads(
        run("job", "submit", "--customer", "acme", "--gpus", "2", "--class", "spot",
            "--script", str(script), "--json")
    )  # fmt: skip
    assert job["state"] == "queued"  # admission happens in the control loop's tick
    ticked = json.loads(run("cluster", "watch", "--once", "--json"))
    assert (ticked["launched"], ticked["errors"]) == (1, [])
    job = json.loads(run("job", "show", job["id"], "--json"))
    assert job["state"] == "running" and len(job["nodes"]) == 1
    runner = SubprocessRunner(slurm_conf)
    poll(lambda: job["engine_name"] in runner.run(["squeue", "-h", "-o", "%j"]).stdout, 20)
    listed = json.loads(run("job", "list", "--json"))
    assert [j["id"] for j in listed] == [job["id"]]
    assert json.loads(run("job", "cancel", job["id"], "--json"))["state"] == "cancelled"
    watched = json.loads(run("cluster", "watch", "--once", "--json"))
    assert watched["failed"] == [] and watched["launched"] == 0
