"""Dashboard page times on the seeded demo center (SQLite, in-process TestClient).

Figures (JSON): seeding the demo, then the median server time of each page (5 requests after a
warm-up) and, as the baseline measured in the same run, the median time of the JSON API call
that lists every server (``GET /api/v1/servers?limit=500``): each page's ratio to it says what
rendering, the extra queries and the chart data cost.

    .venv/bin/python benchmarks/bench_dashboard.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.cli.demo import prepare_with_logins
from suanli.services.demo.center import DemoClock
from suanli.settings import load_settings

PAGES = (
    "/", "/fleet", "/fleet/H8A001", "/procurement", "/contracts", "/billing",
    "/customers/zhipu", "/economics", "/economics/results?rent=80000", "/simulation",
    "/customers/zhipu/usage", "/invoices/INV-2025-000037",
)  # fmt: skip
REPEAT = 5


def median_seconds(client: TestClient, path: str) -> float:
    assert client.get(path).status_code == 200, path  # warm-up
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - t0)
        assert response.status_code == 200, path
    return statistics.median(times)


def main() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        t0 = time.perf_counter()
        _, tokens = prepare_with_logins(db)
        seed = time.perf_counter() - t0
        app = create_app(load_settings(database_url=f"sqlite:///{db}"), clock=DemoClock())
        with TestClient(app) as client:
            client.cookies.set("suanli_session", tokens["admin"])  # pages
            client.headers["Authorization"] = f"Bearer {tokens['admin']}"  # API
            baseline = median_seconds(client, "/api/v1/servers?limit=500")
            pages = {path: median_seconds(client, path) for path in PAGES}
    return {
        "seed_demo_s": round(seed, 3),
        "baseline_api_servers_s": round(baseline, 4),
        "pages_s": {p: round(t, 4) for p, t in pages.items()},
        "pages_ratio_to_baseline": {p: round(t / baseline, 1) for p, t in pages.items()},
        "slowest_page": max(pages, key=lambda p: pages[p]),
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
