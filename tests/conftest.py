"""Shared fixtures. PostgreSQL tests get a database of their own, created and dropped per run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pg_databases import fresh_pg_database


def _find_shared() -> Path:
    """``SUANLI_SHARED``, else ``../shared`` beside the checkout, else the workplace's /work/shared."""
    env = os.environ.get("SUANLI_SHARED")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[1].parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


SHARED = _find_shared()
# the CLI reads the shared data directory through Settings (SUANLI_SHARED), wherever pytest runs
os.environ.setdefault("SUANLI_SHARED", str(SHARED))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the checkout: real traces and reference data (read in place)."""
    return SHARED.resolve()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this test session (per xdist worker)."""
    with fresh_pg_database("suanli_test") as url:
        yield url
