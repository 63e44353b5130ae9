"""Fixtures for the leasing and billing suites (both engines, via ``sessions`` and ``clock``)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from suanli.core.catalog import default_catalog
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState as S
from suanli.services.container import Services, build_services
from suanli.services.fleet.servers import NewServer


@dataclass
class World:
    svc: Services
    clock: SimClock

    def servers(
        self, n: int, sku: str = "HGX-H800-8", prefix: str = "SN", cabinet: str = "BJ1/A01"
    ) -> list[str]:
        """``n`` servers racked and available."""
        serials = [f"{prefix}{i:03d}" for i in range(n)]
        for serial in serials:
            self.svc.fleet.add_server(NewServer(serial, sku, state=S.DELIVERED), actor="ops")
            self.svc.fleet.transition(serial, S.BURN_IN, "ops", "rack", cabinet=cabinet)
            self.svc.fleet.transition(serial, S.AVAILABLE, "ops", "burn-in passed")
        return serials


@pytest.fixture
def world(engine: Engine, clock: SimClock) -> World:
    svc = build_services(engine, clock, "CNY")
    svc.fleet.add_site("BJ1", "Beijing 1")
    svc.fleet.add_cabinet("BJ1", "A01", "100000")
    assert default_catalog().sku("HGX-H800-8").gpus == 8
    return World(svc, clock)
