"""Fixtures for the backend unit tests: outputs recorded on the dev cluster and a fake runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_runner import FakeRunner

DATA = Path(__file__).parent / "data"


@pytest.fixture
def recorded() -> dict[str, str]:
    """Outputs recorded on the dev cluster (Slurm 22.05.8), see tests/unit/backends/data."""
    return {p.stem: p.read_text() for p in DATA.iterdir()}


@pytest.fixture
def runner(recorded: dict[str, str]) -> FakeRunner:
    return (
        FakeRunner()
        .on("sinfo", "--json", stdout=recorded["sinfo"])
        .on("squeue", "--json", stdout=recorded["squeue"])
        .on("scontrol", "show", "reservation", "-o", stdout=recorded["reservations"])
        .on("cat", stdout=recorded["jobcomp"])
    )
