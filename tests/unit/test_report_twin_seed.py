"""The pure half of twin seeding (``seed_overrides``) and the report twin's quantiles, without a
database: a seed at a period's end becomes the same overrides as ``twin run --from-ledger``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from suanli.core.billing import add_months
from suanli.economics.scenario import Dist
from suanli.services.reports.twin import (
    TWIN_SCENARIO,
    TwinInputs,
    contracted_ahead,
    nearest_rank,
    payback_quantile,
    pooled_seed,
    sku_overrides,
    twin_scenario,
)
from suanli.services.twin_seed import (
    LedgerSeed,
    SeedLease,
    SeedPrice,
    acceptance,
    calibrate,
    calibrate_renewal,
    calibrate_wtp,
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
    # willingness to pay: rents over their average 100,000 are 0.9 (2 servers), 1.2 and 1.0,
    # so uniform 0.9-1.2; (1.2 - 1) / (1.2 - 0.9) = 2/3 of requests pay the market rent, so the
    # request rate is 0.25 / (2/3) = 0.375 and the twin signs 0.25 a month at that rent
    wtp = calibrate_wtp(seed, cal)
    assert wtp is not None and (wtp.leases, wtp.low, wtp.high) == (3, 0.9, 1.2)
    assert sc.twin.leases.willingness_to_pay.low == 0.9
    assert sc.twin.leases.willingness_to_pay.high == 1.2
    assert sc.twin.leases.arrival_rate_per_month == pytest.approx(0.375)
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


def test_renewal_probability_from_the_ledgers_term_ends() -> None:
    """Today 2024-06-30 (window: 2023-07-01 .. 2024-07-01). Term ends: a lease ended 2024-03-01
    unrenewed; one renewed at 2024-02-01 and again at 2024-05-01 (still running); one
    terminated on 2024-04-10; one that ended 2023-05-01 (before the window); one running. So
    4 term ends in the window, 2 renewed: 50 %. With only the first two leases there are 3 term
    ends (2 renewed, 66.7 %); with the first alone, 1 and the scenario's probability stays."""
    first = _lease(date(2023, 12, 1), 3, 1, "1")
    renewed = SeedLease(date(2023, 11, 1), date(2024, 11, 1), 1, Decimal(1), D13, "c",
                        (date(2024, 2, 1), date(2024, 5, 1)))  # fmt: skip
    terminated = SeedLease(date(2024, 1, 1), date(2024, 4, 10), 1, Decimal(1), D13, "c")
    old = _lease(date(2022, 5, 1), 12, 1, "1")
    running = _lease(date(2024, 6, 1), 12, 1, "1")
    seed = LedgerSeed(date(2024, 6, 30), (None,), (first, renewed, terminated, old, running))
    fit, enough = calibrate_renewal(seed)
    assert (fit.term_ends, fit.renewed, enough, fit.probability) == (4, 2, True, 0.5)
    sc = load_twin("fragmented-demand", seed_overrides(seed, load_twin("fragmented-demand")))
    assert sc.twin.leases.renewal_probability == 0.5
    two = LedgerSeed(date(2024, 6, 30), (None,), (first, renewed))
    assert calibrate_renewal(two)[0].probability == pytest.approx(2 / 3)
    one = LedgerSeed(date(2024, 6, 30), (None,), (first,))
    assert calibrate_renewal(one) == (calibrate_renewal(one)[0], False)
    got = seed_overrides(one, load_twin("fragmented-demand"))
    assert "leases" not in got["twin"]  # the scenario's 50 % stays


def test_equal_rents_leave_willingness_to_pay_to_the_scenario() -> None:
    leases = tuple(_lease(date(2024, m, 2), 1, 1, "1000") for m in (4, 5, 6))
    seed = LedgerSeed(date(2024, 6, 30), (None,), leases)
    assert calibrate_wtp(seed, calibrate(seed)) is None
    sc = load_twin("fragmented-demand", seed_overrides(seed, load_twin("fragmented-demand")))
    assert sc.twin.leases.willingness_to_pay.low == 0.8  # the scenario's uniform 0.8-1.2
    # half of the requests pay the market rent under it: 1.0 signed a month needs 2.0 requests
    assert sc.twin.leases.arrival_rate_per_month == 2.0


def test_acceptance_of_a_willingness_to_pay() -> None:
    assert acceptance(Dist(dist="uniform", low=0.8, high=1.2)) == pytest.approx(0.5)
    assert acceptance(Dist(dist="uniform", low=0.9, high=1.0)) == 0.1  # the floor
    assert acceptance(Dist(dist="uniform", low=1.1, high=1.1)) == 1.0
    assert acceptance(Dist(dist="fixed", value=1.0)) == 1.0
    assert acceptance(Dist(dist="fixed", value=0.9)) == 0.1
    assert acceptance(Dist(dist="triangular", low=0.5, mode=1.0, high=1.5)) == 1.0  # uncorrected


def test_a_sku_without_history_takes_the_whole_ledgers_demand_per_server() -> None:
    """Today 2024-06-30. H800: 4 servers, leases of 2024-01-10 (2 servers, 3 months, 90,000),
    2024-03-05 (1, 12, 120,000), 2024-06-01 (1, 3, 100,000): its own demand is calibrated. A800:
    1 server and one lease of 2024-05-02 (1, 3, 50,000): too few. Pooled: 4 leases over the 6
    months observed since 2024-01 = 0.6667 signed a month on 5 servers; A800's share 1/5 gives
    0.1333, over the scenario's acceptance 0.5 = 0.2667 requests a month; sizes {1: 3, 2: 1},
    terms {3: 3, 12: 1}; rent A800's own 50,000 net = 56,500 quoted; staff 125,000 × 1/5."""
    h800 = LedgerSeed(date(2024, 6, 30), (None,) * 4,
                      (_lease(date(2024, 1, 10), 3, 2, "90000"), _lease(date(2024, 3, 5), 12, 1, "120000"),
                       _lease(date(2024, 6, 1), 3, 1, "100000")))  # fmt: skip
    a800 = LedgerSeed(date(2024, 6, 30), (None,), (_lease(date(2024, 5, 2), 3, 1, "50000"),))
    inputs = [TwinInputs("HGX-H800-8", h800), TwinInputs("HGX-A800-8", a800)]
    pooled = pooled_seed(inputs)
    assert pooled.servers == 5 and len(pooled.leases) == 4
    base = load_twin(TWIN_SCENARIO)
    got = sku_overrides(a800, "HGX-A800-8", pooled, base)
    leases = got["twin"]["leases"]
    assert leases["arrival_rate_per_month"] == pytest.approx(4 / 6 / 5 / 0.5)
    assert leases["sizes"] == {"values": [1, 2], "weights": [3.0, 1.0]}
    assert leases["terms"] == {"values": [3, 12], "weights": [3.0, 1.0]}
    assert got["form"] == {"rent_per_server_month": 56500.0}
    assert got["fleet"] == {"sku": "HGX-A800-8"}
    assert got["opex"]["staff_per_month"] == pytest.approx(25_000)
    # the H800 keeps its own calibration: only its SKU and its share of the fixed costs
    own = sku_overrides(h800, "HGX-H800-8", pooled, base)
    assert set(own) == {"horizon_months", "fleet", "opex"}
    sc = twin_scenario(inputs[1], pooled)
    assert sc.economics.fleet is not None and sc.economics.fleet.sku == "HGX-A800-8"
    assert sc.twin.leases.arrival_rate_per_month == pytest.approx(4 / 15)
