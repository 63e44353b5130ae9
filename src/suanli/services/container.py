"""The service bundle built once per process (CLI command or API app) and passed down."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.services.fleet.imports import ImportService
from suanli.services.fleet.procurement import ProcurementService
from suanli.services.fleet.servers import FleetService
from suanli.services.money import MoneyServices, build_money_services
from suanli.store.db import SessionFactory, make_session_factory


@dataclass(frozen=True)
class Services:
    engine: Engine
    sessions: SessionFactory
    clock: Clock
    catalog: Catalog
    fleet: FleetService
    procurement: ProcurementService
    imports: ImportService
    money: MoneyServices


def build_services(engine: Engine, clock: Clock, currency: str = "CNY") -> Services:
    """Wire every service to one session factory and one clock."""
    sessions = make_session_factory(engine)
    catalog = default_catalog()
    return Services(
        engine=engine,
        sessions=sessions,
        clock=clock,
        catalog=catalog,
        fleet=FleetService(sessions, clock, catalog),
        procurement=ProcurementService(sessions, clock, catalog, currency),
        imports=ImportService(sessions, clock, catalog, currency),
        money=build_money_services(sessions, clock, catalog, currency),
    )
