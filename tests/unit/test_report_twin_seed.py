"""The pure half of twin seeding (``seed_overrides``) and the report twin's quantiles, without a
database: a seed at a period's end becomes the same overrides as ``twin run --from-ledger``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from suanli.core.billing import add_months
from suanli.services.reports.twin import contracted_ahead, nearest_rank, payback_quantile
from suanli.services.twin_seed import (
    LedgerSeed,
    SeedLease,
    SeedPrice,
    calibrate,
    seed_overrides,
)
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


def _lease(start: date, months_long: int, servers: int, rent: str) -> SeedLease:
    return SeedLease(start, add_months(start, months_long), servers, Decimal(rent), D13, "c")


def test_demand_is_calibrated_from_the_ledgers_recent_leases() -> None:
    """Today 2024-06-30; leases signed 2024-01-10 (2 servers, 3 months, 90,000), 2024-03-05
    (1, 12, 120,000), 2024-06-01 (1, 3, 100,000), and 2022-12-01 (outside the 12 months before
    July 2024, but the first ever: so 12 months are observed). Rate 3 / 12 = 0.25 a month; sizes
    {1: 2, 2: 1}; terms {3: 2, 12: 1}; rent (2 × 90,000 + 120,000 + 100,000) / 4 = 100,000 net,
    113,000 quoted with 13 % VAT."""
    seed = LedgerSeed(
        date(2024, 6, 30), (None,),
        (_lease(date(2024, 1, 10), 3, 2, "90000"), _lease(date(2024, 3, 5), 12, 1, "120000"),
         _lease(date(2024, 6, 1), 3, 1, "100000"), _lease(date(2022, 12, 1), 6, 4, "50000")),
    )  # fmt: skip
    cal = calibrate(seed)
    assert cal is not None
    assert (cal.requests, cal.months, cal.arrival_rate) == (3, 12, 0.25)
    assert cal.sizes == {1: 2, 2: 1}
    assert cal.terms == {3: 2, 12: 1}
    assert cal.market_rent == Decimal("100000.00")
    got = seed_overrides(seed, load_twin("fragmented-demand"))
    sc = load_twin("fragmented-demand", got)
    assert sc.economics.form.rent_per_server_month == 113000.0  # type: ignore[union-attr]
    assert sc.twin.leases.arrival_rate_per_month == 0.25
    assert sc.twin.leases.sizes.values == [1, 2] and sc.twin.leases.sizes.weights == [2.0, 1.0]
    assert sc.twin.leases.terms.values == [3, 12]


def test_a_young_ledger_observes_fewer_months_and_a_thin_one_keeps_the_scenario() -> None:
    """First lease ever 2024-04-02, three since: observed April-June = 3 months, rate 1.0. With
    two leases only, the scenario's demand stays (no leases override)."""
    leases = (_lease(date(2024, 4, 2), 1, 1, "1"), _lease(date(2024, 5, 2), 1, 1, "1"),
              _lease(date(2024, 6, 2), 1, 1, "1"))  # fmt: skip
    cal = calibrate(LedgerSeed(date(2024, 6, 30), (None,), leases))
    assert cal is not None and cal.arrival_rate == 1.0
    thin = LedgerSeed(date(2024, 6, 30), (None,), leases[:2])
    assert calibrate(thin) is None
    assert "leases" not in seed_overrides(thin, load_twin("fragmented-demand"))["twin"]
