"""Disclosure ledger on SQLite and PostgreSQL: announcements linked to orders, funding sources,
transfers, and the archive's restatement rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from suanli.core.catalog import PConvention
from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.services.fleet.procurement import NewLine, NewOrder, ProcurementService
from suanli.services.reports.ledger import (
    DisclosureService,
    FundingSource,
    NewAnnouncement,
    NewTransfer,
    funding_source,
)
from suanli.store.db import SessionFactory
from suanli.store.models import AnnouncementRow, FundTransferRow, PurchaseOrderRow


@pytest.fixture
def disclosure(sessions: SessionFactory, clock: SimClock) -> DisclosureService:
    po = ProcurementService(sessions, clock)
    po.add_supplier("New H3C")
    po.create_order(NewOrder("PO-1", "New H3C", date(2024, 1, 5),
                             [NewLine("HGX-H800-8", 40, "2100000", date(2024, 3, 31))]))  # fmt: skip
    return DisclosureService(sessions, clock)


def _announcement(ref: str = "ANN-2024-01", **kw: object) -> NewAnnouncement:
    base: dict[str, object] = dict(
        ref=ref, announced_on=date(2024, 1, 2), title="2,000 P intelligent computing centre",
        sku_mix={"HGX-H800-8": 60}, planned_p="2000", p_convention=PConvention.FP16_SPARSE,
        purpose="AI computing centre phase 1", funding_source=FundingSource.RAISED,
        raised_amount="150000000.00",
    )  # fmt: skip
    base.update(kw)
    return NewAnnouncement(**base)  # type: ignore[arg-type]


def test_announcement_links_orders(disclosure: DisclosureService) -> None:
    ann = disclosure.announce(_announcement(), actor="secretary")
    assert (ann.planned_units, ann.planned_p, ann.orders) == (60, Decimal("2000.000"), ())
    linked = disclosure.link_order("ANN-2024-01", "PO-1")
    assert linked.orders == ("PO-1",)
    assert disclosure.list_announcements()[0].raised_amount == Decimal("150000000.00")
    with pytest.raises(ConflictError) as info:
        disclosure.link_order("ANN-2024-01", "PO-1")
    assert info.value.code == "announcement.order_linked"
    with pytest.raises(NotFoundError) as nf:
        disclosure.link_order("ANN-2024-01", "PO-404")
    assert nf.value.code == "po.not_found"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"sku_mix": {}}, "announcement.no_skus", "sku_mix"),
        ({"sku_mix": {"NOPE": 1}}, "catalog.unknown_sku", "sku_mix.NOPE"),
        ({"sku_mix": {"HGX-H800-8": 0}}, "announcement.invalid_units", "sku_mix.HGX-H800-8"),
        ({"planned_p": "-1"}, "announcement.invalid_p", "planned_p"),
        ({"raised_amount": "1.001"}, "money.too_precise", "raised_amount"),
        ({"title": "  "}, "input.required", "title"),
    ],
)
def test_bad_announcement_writes_nothing(
    disclosure: DisclosureService, sessions: SessionFactory, change: dict[str, object],
    code: str, field: str,
) -> None:  # fmt: skip
    with pytest.raises(ValidationError) as info:
        disclosure.announce(_announcement(**change), actor="x")
    assert (info.value.code, field in info.value.fields) == (code, True)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(AnnouncementRow)) == 0


def test_duplicate_announcement_is_a_conflict(disclosure: DisclosureService) -> None:
    disclosure.announce(_announcement(), actor="x")
    with pytest.raises(ConflictError) as info:
        disclosure.announce(_announcement(), actor="x")
    assert info.value.code == "announcement.exists"


def test_funding_source_on_orders(disclosure: DisclosureService, sessions: SessionFactory) -> None:
    disclosure.set_order_funding("PO-1", FundingSource.RAISED)
    with sessions() as s:
        assert s.scalar(select(PurchaseOrderRow.funding_source)) == "raised"
    with pytest.raises(ValidationError) as info:
        funding_source("equity")
    assert info.value.code == "funding.unknown_source"
    assert funding_source(" Loan ") is FundingSource.LOAN


def test_transfers_tagged_by_source(
    disclosure: DisclosureService, sessions: SessionFactory
) -> None:
    disclosure.announce(_announcement(), actor="x")
    t = disclosure.record_transfer(
        NewTransfer("TR-1", date(2024, 2, 1), "21340000.00", FundingSource.RAISED,
                    "Suanli Compute Co.", "working capital of the subsidiary",
                    announcement=None, disclosed=False), actor="cfo")  # fmt: skip
    assert (t.amount, t.currency, t.disclosed, t.announcement) == (
        Decimal("21340000.00"), "CNY", False, None)  # fmt: skip
    disclosure.record_transfer(
        NewTransfer("TR-2", date(2024, 1, 20), "5000000", FundingSource.RAISED, "New H3C",
                    "deposit on PO-1", announcement="ANN-2024-01"), actor="cfo")  # fmt: skip
    assert [x.ref for x in disclosure.list_transfers()] == ["TR-2", "TR-1"]
    assert disclosure.list_transfers()[0].announcement == "ANN-2024-01"
    for bad, code in [("0", "transfer.zero_amount"), ("-3", "money.negative")]:
        with pytest.raises(ValidationError) as info:
            disclosure.record_transfer(
                NewTransfer("TR-3", date(2024, 2, 1), bad, FundingSource.OWN, "x", "y"), "cfo"
            )
        assert info.value.code == code
    with pytest.raises(NotFoundError):
        disclosure.record_transfer(
            NewTransfer("TR-3", date(2024, 2, 1), "1", FundingSource.OWN, "x", "y", "ANN-X"), "cfo"
        )
    with pytest.raises(ConflictError):
        disclosure.record_transfer(
            NewTransfer("TR-1", date(2024, 2, 1), "1", FundingSource.OWN, "x", "y"), "cfo"
        )
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(FundTransferRow)) == 2


def test_archive_restates_only_on_change(disclosure: DisclosureService, clock: SimClock) -> None:
    figures = {"revenue.billed": "100.00", "capacity.delivered_units": "12"}
    first = disclosure.archive("operating", "2024Q1", figures, "h1", actor="x")
    again = disclosure.archive("operating", "2024Q1", dict(figures), "h1", actor="x")
    assert (first.version, again.version, again.generated_at) == (1, 1, first.generated_at)
    corrected = {"revenue.billed": "99.50", "capacity.delivered_units": "12", "new.fig": "1"}
    second = disclosure.archive("operating", "2024Q1", corrected, "h2", actor="x")
    assert (second.version, second.restates_version) == (2, 1)
    assert [(d.figure, d.before, d.after) for d in second.differences] == [
        ("new.fig", None, "1"), ("revenue.billed", "100.00", "99.50")]  # fmt: skip
    listed = disclosure.archived("operating", "2024Q1")
    assert [r.version for r in listed] == [1, 2]
    assert listed[0].figures == figures
