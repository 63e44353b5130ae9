"""The demo center's disclosure story (issue 19): what was announced, how it was funded, and
one use of raised funds that was never disclosed, so the demo's operating report has a flag.

- ``ANN-2025-01`` (8 January 2025): "1,000 P AI computing centre, phase 1", 40 × 8×H800 and
  20 × 8×A800, funded by 150 M CNY of raised funds; orders PO-2025-001..003 are linked to it.
  Its SKU mix is worth about 733 P FP16 sparse, less than the 1,000 P stated: the report shows
  both figures. PO-2025-001 and -003 are paid from raised funds, PO-2025-002 from own funds.
- ``TR-2025-001`` 30 M CNY of raised funds to New H3C as the deposit on PO-2025-001 (disclosed);
  ``TR-2025-002`` 10 M CNY of own funds to Inspur;
  ``TR-2025-003`` 21.34 M CNY of idle raised funds moved to the computing-power subsidiary,
  linked to no announcement and not disclosed: the source article's case, flagged.
- The 2025Q3 operating report is archived on 1 October; on 15 October a transfer dated
  25 September (``TR-2025-004``, own funds, a Sugon deposit) is booked late, and the report
  regenerated on 16 October is archived as version 2, a restatement listing what changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from suanli.core.catalog import PConvention
from suanli.services.container import Services
from suanli.services.reports.ledger import (
    DisclosureService,
    FundingSource,
    NewAnnouncement,
    NewTransfer,
)
from suanli.services.reports.operating import ReportService

ACTOR = "demo"
ANNOUNCEMENT = NewAnnouncement(
    "ANN-2025-01", date(2025, 1, 8), "1,000 P AI computing centre, phase 1",
    {"HGX-H800-8": 40, "HGX-A800-8": 20}, "1000", PConvention.FP16_SPARSE,
    "AI computing centre phase 1: servers, racking and network", FundingSource.RAISED,
    "150000000.00",
)  # fmt: skip
#: (order, funding, linked on: the order's own date, an hour after it is placed)
FUNDING = (("PO-2025-001", FundingSource.RAISED, date(2025, 1, 10)),
           ("PO-2025-002", FundingSource.OWN, date(2025, 2, 1)),
           ("PO-2025-003", FundingSource.RAISED, date(2025, 5, 15)))  # fmt: skip
TRANSFERS = (
    NewTransfer("TR-2025-001", date(2025, 1, 20), "30000000.00", FundingSource.RAISED, "New H3C",
                "deposit on PO-2025-001", "ANN-2025-01"),
    NewTransfer("TR-2025-002", date(2025, 2, 10), "10000000.00", FundingSource.OWN, "Inspur",
                "deposit on PO-2025-002"),
    NewTransfer("TR-2025-003", date(2025, 8, 12), "21340000.00", FundingSource.RAISED,
                "Suanli Computing Power Co. (subsidiary)",
                "working capital of the computing-power subsidiary", disclosed=False),
)  # fmt: skip
LATE_TRANSFER = NewTransfer("TR-2025-004", date(2025, 9, 25), "5000000.00", FundingSource.OWN,
                            "Sugon", "deposit on a planned H20 order")  # fmt: skip
REPORTED = "2025Q3"


def _ledger(s: Services) -> DisclosureService:
    return DisclosureService(s.sessions, s.clock, s.catalog)


def story(at: Callable[[datetime, Callable[[Services], object]], None]) -> None:
    """Register the dated disclosure steps with the demo's step list."""
    at(datetime(2025, 1, 8, 9, tzinfo=UTC), lambda s: _ledger(s).announce(ANNOUNCEMENT, ACTOR))
    for number, source, on in FUNDING:

        def link(s: Services, number: str = number, source: FundingSource = source) -> object:
            _ledger(s).set_order_funding(number, source)
            return _ledger(s).link_order(ANNOUNCEMENT.ref, number)

        at(_at(on, 10), link)
    for t in TRANSFERS:

        def transfer(s: Services, t: NewTransfer = t) -> object:
            return _ledger(s).record_transfer(t, ACTOR)

        at(_at(t.transferred_on, 11), transfer)

    at(_at(date(2025, 10, 1), 12), _report)
    at(_at(date(2025, 10, 15), 11), lambda s: _ledger(s).record_transfer(LATE_TRANSFER, ACTOR))
    at(_at(date(2025, 10, 16), 12), _report)


def _report(s: Services) -> object:
    # only the archive matters here; the twin section is never archived, so skip its run
    return ReportService(s.sessions, s.clock, s.catalog).generate(REPORTED, ACTOR, twin=False)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
