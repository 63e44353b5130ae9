"""Supplementary invoice lines (pure): drafted items minus what was billed for the period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from suanli.core.pricing import DraftLine
from suanli.core.supplement import BilledLine, item_key, unbilled_lines

SPAN = (date(2024, 4, 1), date(2024, 4, 30))


def draft(kind: str, description: str, contract: int | None, qty: str, net: str) -> DraftLine:
    return DraftLine(kind, description, contract, D(qty), "server-day", D("1"), D(net), D("0.13"),
                     *SPAN)  # fmt: skip


def billed(line: DraftLine, net: str, qty: str | None = None) -> BilledLine:
    return BilledLine(line.contract_id, line.kind, line.description, D(qty or line.quantity),
                      line.unit, line.unit_price, D(net), line.vat_rate, *SPAN)  # fmt: skip


RENT = draft("rent", "L-000001 rent H800, 30 server-days", 1, "30", "70000")
CABINET = draft("fee", "L-000001 cabinet fee (pass-through), 30 server-days", 1, "30", "3000")
OM = draft("fee", "L-000001 O&M fee (pass-through), 30 server-days", 1, "30", "1500")
USAGE = draft("usage", "H800 standard GPU-hours, 2024-04", None, "12", "180")


def test_fees_of_one_contract_are_distinct_items() -> None:
    assert item_key(1, "fee", CABINET.description) != item_key(1, "fee", OM.description)
    assert item_key(1, "rent", "L-000001 rent H800, 30 server-days") == item_key(
        1, "rent", "L-000001 rent H800, 15 server-days"
    )


def test_fully_billed_period_owes_nothing_but_new_usage() -> None:
    done = [billed(RENT, "70000.00"), billed(CABINET, "3000.00"), billed(OM, "1500.00")]
    assert unbilled_lines([RENT, CABINET, OM, USAGE], done) == [USAGE]


def test_new_contract_is_billed_as_drafted() -> None:
    late = draft("rent", "L-000002 rent H800, 15 server-days", 2, "15", "50000")
    assert unbilled_lines([RENT, late], [billed(RENT, "70000.00")]) == [late]


def test_changed_item_bills_the_difference_to_the_cent() -> None:
    more = draft("rent", "L-000001 rent H800, 45 server-days", 1, "45", "104999.995")
    (line,) = unbilled_lines([more], [billed(RENT, "70000.00", "30")])
    assert (line.quantity, line.exact_net) == (D("15"), D("35000.00"))  # 105000.00 − 70000.00


def test_item_no_longer_due_is_reversed() -> None:
    credit = draft("sla_credit", "L-000001 SLA credit, 30.000 server-hours", 1, "30", "-2916.67")
    (line,) = unbilled_lines([RENT], [billed(RENT, "70000.00"), billed(credit, "-2916.67")])
    assert (line.kind, line.quantity, line.exact_net) == ("sla_credit", D("-30"), D("2916.67"))
