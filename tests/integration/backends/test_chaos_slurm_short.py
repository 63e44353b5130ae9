"""The chaos run (benchmarks/chaos_slurm.py) in short: about 20 watcher polls under seeded faults
on the real dev cluster, with every final check. The script holds the Slurm tests' lock itself
and leaves the cluster clean and running."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from backend_harness import REPO, script

pytestmark = pytest.mark.slurm


def test_short_chaos_run_holds_every_invariant() -> None:
    if script("status").returncode != 0 and os.geteuid() != 0:
        pytest.skip("the dev Slurm cluster is not running and only root can start it")
    assert script("start", "4").returncode == 0
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "chaos_slurm.py"), "--polls", "20", "--seed", "11"],
        capture_output=True, text=True, timeout=1200, check=False, env=env, cwd=REPO,
    )  # fmt: skip
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["violation_list"] == [], done.stderr[-3000:]
    assert (out["violations"], done.returncode) == (0, 0)
    # the run did exercise the faults and the checks (the seed gives these)
    assert out["ticks"] >= 20 and out["jobs_submitted"] >= 3 and out["sacct_runs"] >= 3
    assert out["node_kills"] + out.get("ctld_restarts", 0) + out.get("watcher_kills", 0) >= 2
    assert out["usage_records"] >= 1
