"""Property-based API test: schemathesis generates requests from the OpenAPI schema for every
operation (none excluded) and checks each answer against the operation's declared responses
(:data:`CHECKS`): no 5xx, only declared statuses, the declared content type, and a body valid
against the declared schema (2xx: the operation's body, errors: the ``{code, message, fields}``
envelope of :mod:`suanli.api.schemas`). Runs on SQLite with a little seed data, once
as an admin and once as a customer user (the tenant-scoped paths differ); the number of examples
per operation is bounded for CI (``SUANLI_SCHEMATHESIS_EXAMPLES``, default 8; about 20 s in
all). Generated ``DELETE /tokens/{id}`` calls may revoke the caller's own token: the test then
issues a fresh one, and checks that every operation got past authentication at least once, so a
run that only collected 401s cannot pass. ``SUANLI_SCHEMATHESIS_OPS`` (a regular expression
over labels such as ``POST /api/v1/sites``) narrows a run to some operations while iterating."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from suanli.api.app import create_app
from suanli.api.routers.jobs import get_wiring
from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock
from suanli.core.errors import UnauthorizedError
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import Wiring
from suanli.services.tenancy import TenancyService
from suanli.settings import load_settings

EXAMPLES = int(os.environ.get("SUANLI_SCHEMATHESIS_EXAMPLES", "8"))
ONLY = re.compile(os.environ.get("SUANLI_SCHEMATHESIS_OPS", ""))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class Caller:
    """A user's ``Authorization`` header, renewed whenever the fuzzer revokes its token."""

    def __init__(self, tenancy: TenancyService, user: str) -> None:
        self.tenancy, self.user = tenancy, user
        self.header = self._issue()

    def _issue(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tenancy.issue_token(self.user).secret}"}

    def renew_if_revoked(self) -> None:
        try:
            self.tenancy.authenticate(self.header["Authorization"].removeprefix("Bearer "))
        except UnauthorizedError:
            self.header = self._issue()


@pytest.fixture
def fuzzed(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Any, TenancyService]]:
    path = tmp_path / "fuzz.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    clock = SimClock(datetime(2024, 5, 1, tzinfo=UTC))
    # planning requests are capped small: a fuzzed plan is answered (or refused) in about a
    # second, inside the client's 10 s read timeout; the default caps are tested in
    # tests/unit/test_api_economics_plan.py
    caps = {"plan_max_scenarios": 50, "plan_max_oos": 500, "plan_max_cells": 200_000}
    settings = load_settings(database_url=url, plan_max_seconds=1.0, **caps)
    app = create_app(settings, clock=clock)
    money = app.state.services.money
    money.tenancy.bootstrap()
    money.tenancy.create_customer("acme", "Acme")
    money.tenancy.create_user("ann", "customer", "acme")
    money.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))
    # POST /cluster/tick drives the cluster engine: a simulated one here (2 nodes), so that its
    # answers depend on the requests, not on the state of whatever Slurm the machine runs
    svc = app.state.services
    svc.fleet.add_site("DEV", "dev cluster")
    svc.fleet.add_cabinet("DEV", "R1", "1000")
    cluster = ClusterService(
        svc.sessions, clock, svc.catalog, SimulatedBackend.uniform(clock, 2),
        ClusterConfig("dev", cabinet="DEV/R1"),
    )  # fmt: skip
    cluster.sync(apply=True)
    wiring = Wiring(svc, cluster, CloudJobService(svc.sessions, clock, svc.catalog, cluster))
    app.dependency_overrides[get_wiring] = lambda: wiring
    yield schemathesis.openapi.from_asgi("/openapi.json", app), money.tenancy


def _fuzz(operation: Any, caller: Caller, statuses: set[int]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=not os.environ.get("SUANLI_SCHEMATHESIS_RANDOM"),
    )
    def conforms(case: Any) -> None:
        headers = caller.header
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        caller.renew_if_revoked()
        case.validate_response(response, checks=CHECKS, headers=headers)

    conforms()


@pytest.mark.parametrize("user", ["admin", "ann"])
def test_responses_conform(fuzzed: tuple[Any, TenancyService], user: str) -> None:
    api_schema, tenancy = fuzzed
    caller = Caller(tenancy, user)
    operations = [
        op for op in (result.ok() for result in api_schema.get_all_operations())
        if ONLY.search(op.label)
    ]  # fmt: skip
    assert len(operations) > 40 or ONLY.pattern
    failures: dict[str, str] = {}
    timings: dict[str, float] = {}
    never_authenticated: list[str] = []
    for operation in operations:
        statuses: set[int] = set()
        started = time.perf_counter()
        try:
            _fuzz(operation, caller, statuses)
        # collect every failing operation, not only the first (a FailureGroup is a BaseException)
        except (Exception, BaseExceptionGroup) as exc:
            failures[operation.label] = "\n".join(str(exc).splitlines()[:14])[:1500]
        timings[operation.label] = time.perf_counter() - started
        if statuses == {401}:
            never_authenticated.append(operation.label)
    print(sorted(timings.items(), key=lambda kv: -kv[1])[:8])
    assert not failures, "\n\n".join(f"{label}:\n{why}" for label, why in failures.items())
    assert not never_authenticated, never_authenticated
