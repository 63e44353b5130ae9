"""`suanli twin sweep --address`: a real local Ray head on loopback runs the sweep, and its
results are identical to the serial run's (issue 14)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ARGS = [
    "twin",
    "sweep",
    "fragmented-demand",
    "--grid",
    "twin.prices.decline_annual=0,0.3",
    "--set",
    "horizon_months=12",
    "--paths",
    "2",
    "--json",
]


# loopback only, no token: a token file left by another local Ray would otherwise make the head
# and the client disagree (Ray >= 2.5x token authentication)
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray() -> str:
    exe = Path(sys.executable).with_name("ray")
    return str(exe) if exe.exists() else (shutil.which("ray") or "ray")


@pytest.fixture
def ray_head() -> Iterator[str]:
    port = _free_port()
    # a short temp dir: Ray's unix socket paths must stay under 108 bytes
    temp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")
    env = ENV
    start = [
        _ray(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
        "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
        f"--temp-dir={temp}",
    ]  # fmt: skip
    subprocess.run(start, check=True, env=env, capture_output=True, timeout=180)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([_ray(), "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def _sweep(extra: list[str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "suanli.cli.main", *ARGS, *extra],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_sweep_on_a_ray_cluster_equals_the_serial_run(ray_head: str) -> None:
    on_ray = _sweep(["--address", ray_head])
    serial = _sweep(["--backend", "serial"])
    assert on_ray["backend"] == "ray" and serial["backend"] == "serial"
    assert on_ray["points"] == serial["points"]
