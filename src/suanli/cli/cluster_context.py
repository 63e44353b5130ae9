"""Building the cluster-wiring services for a CLI command (settings → Slurm adapter → services)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from suanli.cli.context import open_services
from suanli.services.container import Wiring, build_wiring
from suanli.settings import load_settings


@contextmanager
def open_wiring(cluster: str | None = None) -> Iterator[Wiring]:
    """``cluster``: one of ``SUANLI_CLUSTERS`` by name (None: the first or the only one)."""
    settings = load_settings()
    with open_services() as svc:
        yield build_wiring(svc, settings, cluster)
