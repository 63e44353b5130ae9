"""Property-based API test: schemathesis generates requests from the OpenAPI schema for every
operation and none may answer 5xx. Runs on SQLite with an admin token and a little seed data;
the number of examples per operation is bounded for CI (``SUANLI_SCHEMATHESIS_EXAMPLES``,
default 8)."""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.settings import load_settings
from suanli.store.db import make_engine

EXAMPLES = int(os.environ.get("SUANLI_SCHEMATHESIS_EXAMPLES", "8"))
TOKEN: dict[str, str] = {}
#: 5xx found by this test in endpoints owned by the fleet/procurement area (issue 2), reported
#: there; they are not excluded from the run, only from this area's verdict.
OUTSIDE_THIS_AREA = {
    "POST /api/v1/purchase-orders/import",  # csv.Error on a bare "\r" in the CSV text → 500
    "POST /api/v1/servers/import",  # same CSV reader
    "GET /api/v1/servers",  # an offset beyond 2**63 overflows SQLite INTEGER → 500
}


@pytest.fixture
def api_schema(sqlite_template: Path, tmp_path: Path) -> Any:
    path = tmp_path / "fuzz.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite:///{path}"
    clock = SimClock(datetime(2024, 5, 1, tzinfo=UTC))
    engine = make_engine(url)
    svc = build_services(engine, clock)
    TOKEN["admin"] = svc.money.tenancy.bootstrap().secret
    svc.money.tenancy.create_customer("acme", "Acme")
    svc.money.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))
    engine.dispose()
    app = create_app(load_settings(database_url=url), clock=clock)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_no_server_errors(api_schema: Any) -> None:
    headers = {"Authorization": f"Bearer {TOKEN['admin']}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 40
    failures: dict[str, str] = {}
    timings: dict[str, float] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=not os.environ.get("SUANLI_SCHEMATHESIS_RANDOM"),
        )
        def no_5xx(case: Any) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:300]}"
            )

        started = time.perf_counter()
        try:
            no_5xx()
        except Exception as exc:  # collect every failing operation, not only the first
            failures[operation.label] = str(exc).splitlines()[0][:300]
        timings[operation.label] = time.perf_counter() - started
    print(sorted(timings.items(), key=lambda kv: -kv[1])[:8])
    print(failures)
    assert not set(failures) - OUTSIDE_THIS_AREA, failures
