"""The operating report: every section computed from the ledger for one period, and archived.

:class:`ReportService.build` reads the ledger (one read-only session plus the billing services'
own reads) and returns an :class:`~.model.OperatingReport`; :meth:`ReportService.generate`
also archives its figures with the hash of the ledger rows it read, so that regenerating a
closed period either changes nothing or records a restatement (see :mod:`.ledger`).

The inputs hash is SHA-256 over the canonical text of every row of the tables the report reads,
in primary-key order; it fingerprints the ledger as read, so an auditor can tell whether two
archived versions saw the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.billing import AGING_BUCKETS
from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.core.errors import ValidationError
from suanli.services.billing.invoicing import BillingService
from suanli.services.billing.receivables import LedgerService
from suanli.services.reports.archive import inputs_hash
from suanli.services.reports.book import (
    DEFAULT_ECL_RATES,
    contracts_section,
    receivables_section,
    revenue_section,
)
from suanli.services.reports.capacity import capacity_section, load_lines, procurement_section
from suanli.services.reports.funds import funds_section, measured_occupancy, operations_section
from suanli.services.reports.ledger import ArchivedReport, DisclosureService
from suanli.services.reports.model import OperatingReport, Section
from suanli.services.reports.period import ReportPeriod, parse_report_period
from suanli.services.reports.risk import breakeven_occupancy, calibrate, risks_section
from suanli.services.reports.twin import read_seeds_at, report_twins, twin_section
from suanli.store.db import SessionFactory
from suanli.store.models import (
    AnnouncementOrderRow,
    AnnouncementRow,
    ContractRenewalRow,
    ContractRow,
    CreditApplicationRow,
    CreditReleaseRow,
    DeliveryRow,
    FundTransferRow,
    InvoiceLineRow,
    InvoiceRow,
    LeaseAllocationRow,
    PaymentAllocationRow,
    PaymentRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    RecoveryRow,
    ServerRow,
    ServerTransitionRow,
    SlaEventRow,
    UsageRecordRow,
    WriteOffRow,
)

KIND = "operating"
INPUT_TABLES = (AnnouncementRow, AnnouncementOrderRow, PurchaseOrderRow, PurchaseOrderLineRow,
                DeliveryRow, ServerRow, ServerTransitionRow, ContractRow, LeaseAllocationRow,
                SlaEventRow, UsageRecordRow, InvoiceRow, InvoiceLineRow, PaymentRow,
                PaymentAllocationRow, FundTransferRow, ContractRenewalRow, WriteOffRow)  # fmt: skip
# Later inputs count only once they hold rows, so a report archived before they existed keeps
# its hash (an empty new table is not a restatement).
LATER_INPUT_TABLES = (CreditReleaseRow, CreditApplicationRow, RecoveryRow)


@dataclass(frozen=True, slots=True)
class Generated:
    report: OperatingReport
    archived: ArchivedReport
    closed: bool


def ecl_rates(values: Mapping[str, str | Decimal] | None) -> dict[str, Decimal]:
    """Operator loss rates by aging bucket (fractions 0..1); unnamed buckets keep the default."""
    rates = dict(DEFAULT_ECL_RATES)
    for bucket, value in (values or {}).items():
        if bucket not in AGING_BUCKETS:
            raise ValidationError("report.unknown_bucket", f"unknown aging bucket {bucket!r}",
                                  {"ecl_rates": f"buckets {list(AGING_BUCKETS)}"})  # fmt: skip
        try:
            rate = Decimal(str(value))
        except ArithmeticError:
            rate = Decimal(-1)
        if not Decimal(0) <= rate <= Decimal(1):
            raise ValidationError("report.invalid_rate", f"loss rate for {bucket} must be 0..1",
                                  {f"ecl_rates.{bucket}": "0..1"})  # fmt: skip
        rates[bucket] = rate
    return rates


def ledger_hash(s: Session) -> str:
    parts: list[str] = []
    for model in (*INPUT_TABLES, *LATER_INPUT_TABLES):
        cols = list(model.__table__.columns)
        rows = s.execute(select(*cols).order_by(cols[0])).all()
        if not rows and model in LATER_INPUT_TABLES:
            continue
        parts.append(model.__tablename__)
        for row in rows:
            parts.append("|".join("" if v is None else str(v) for v in row))
    return inputs_hash("\n".join(parts))


class ReportService:
    def __init__(self, sessions: SessionFactory, clock: Clock, catalog: Catalog | None = None,
                 currency: str = "CNY") -> None:  # fmt: skip
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog or default_catalog()
        self.currency = currency
        self.billing = BillingService(sessions, clock, currency)
        self.ledger = LedgerService(sessions, clock, self.billing)
        self.disclosure = DisclosureService(sessions, clock, self.catalog, currency)

    def build(self, period: ReportPeriod, rates: Mapping[str, str | Decimal] | None = None,
              twin: bool = True) -> tuple[OperatingReport, str]:  # fmt: skip
        """The report and the hash of the ledger it read. With ``twin`` the digital-twin
        section is added when the ledger has servers installed at the period's end (one twin per
        SKU, added path by path)."""
        rates = ecl_rates(rates)
        with self.sessions() as s:
            capacity = capacity_section(s, period, self.catalog)
            procurement = procurement_section(s, period)
            contracts = contracts_section(s, period)
            revenue = revenue_section(s, period, self.billing, self.ledger)
            funds = funds_section(s, period)
            servers = int(
                next(f.value for f in capacity.figures if f.key == "fleet_in_service_units")
            )
            occupancy = measured_occupancy(s, period)
            cal = calibrate(s, period.end, servers, occupancy)
            operations = operations_section(s, period, occupancy, breakeven_occupancy(cal))
            open_lines = [ln for ln in load_lines(s, period) if ln.outstanding > 0]
            risks = risks_section(cal, open_lines, period.end)
            receivables = receivables_section(s, period, rates)
            seeds = read_seeds_at(s, period) if twin else []
            digest = ledger_hash(s)
        sections: tuple[Section, ...] = (
            capacity,
            procurement,
            contracts,
            revenue,
            receivables,
            operations,
            funds,
            risks,
        )
        twins = report_twins(seeds)  # the twins run outside the session
        if twins:
            sections += (twin_section(twins),)
        report = OperatingReport(period.key, period.start.isoformat(), period.last_day.isoformat(),
                                 self.currency, sections)  # fmt: skip
        return report, digest

    def generate(self, period_key: str, actor: str,
                 rates: Mapping[str, str | Decimal] | None = None,
                 twin: bool = True) -> Generated:  # fmt: skip
        """Build and archive; the twin section (a projection) is shown but never archived."""
        period = parse_report_period(period_key)
        report, digest = self.build(period, rates, twin)
        archived = self.disclosure.archive(KIND, period.key, report.figures(), digest, actor)
        return Generated(report, archived, period.closed(self.clock.now().date()))
