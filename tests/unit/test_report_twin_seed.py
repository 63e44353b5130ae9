"""The pure half of twin seeding (``seed_overrides``) and the report twin's quantiles, without a
database: a seed at a period's end becomes the same overrides as ``twin run --from-ledger``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from suanli.services.reports.twin import contracted_ahead, nearest_rank, payback_quantile
from suanli.services.twin_seed import LedgerSeed, SeedLease, SeedPrice, seed_overrides
from suanli.simulation.twin.library import load_twin

D13 = Decimal("0.13")
SEED = LedgerSeed(
    date(2024, 4, 30),
    (Decimal("2000000"), Decimal("2200000"), None),
    (
        SeedLease(date(2024, 3, 15), date(2025, 3, 15), 3, Decimal("100000"), D13, "acme"),
        SeedLease(date(2023, 11, 1), date(2024, 5, 1), 1, Decimal("90000"), D13, "old"),
        SeedLease(date(2024, 5, 2), date(2025, 5, 2), 1, Decimal("90000"), D13, "later"),
    ),
    {"spot": SeedPrice(Decimal("6.00"), Decimal("0.06"))},
)  # fmt: skip


def test_seed_overrides_fleet_book_and_prices() -> None:
    got = seed_overrides(SEED, load_twin("fragmented-demand"))
    assert got["fleet"] == {
        "count": 3,
        "delivery": [{"month": 0, "count": 3}],
        "unit_price": 2100000.0,  # servers without a price are left out of the average
    }
    assert got["twin"]["start"] == "2024-04"
    # the lease ending with April and the one starting after the 30th are not in force
    assert got["twin"]["book"] == [
        {"start_month": 1, "servers": 3, "term_months": 11,
         "rent_per_server_month": 113000.0, "customer": "acme"},
    ]  # fmt: skip
    assert got["twin"]["pool"] == {"spot_per_gpu_hour": 6.36}


def test_contracted_rent_ahead_and_quantiles() -> None:
    assert contracted_ahead(SEED) == Decimal("3300000")  # 3 × 100,000 × 11 months
    assert nearest_rank([Decimal(v) for v in range(1, 33)], 0.05) == Decimal(2)
    assert nearest_rank([3.0, 1.0, 2.0], 0.5) == 2.0
    assert payback_quantile([None, 30.0, 40.0, None], 0.5) == "40"
    assert payback_quantile([None, 30.0, 40.0, None], 0.9) == "n/a"
