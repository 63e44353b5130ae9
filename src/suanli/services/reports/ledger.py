"""Disclosure ledger use-cases: announcements, their purchase orders, funding sources, fund
transfers, and the report archive.

Single writer of ``announcements``, ``announcement_orders``, ``fund_transfers``,
``report_archive`` and of ``purchase_orders.funding_source``. Every call is one transaction and
checks its input before writing anything; errors carry stable codes (``announcement.*``,
``transfer.*``, ``funding.*``, ``archive.*``).

Archive invariant: for one ``(kind, period)`` versions are 1, 2, 3 ... ; archiving figures equal
to the latest version writes nothing (a regeneration is not news); different figures write the
next version with ``restates_id`` pointing at the previous one and the differences listed, so a
correction is never silent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.core.catalog import Catalog, PConvention, default_catalog
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.money import to_decimal
from suanli.services.common import currency_code, non_negative_money, require_text
from suanli.services.reports.archive import (
    Difference,
    canonical_json,
    differences,
    differences_from_json,
    differences_json,
)
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    AnnouncementOrderRow,
    AnnouncementRow,
    FundTransferRow,
    PurchaseOrderRow,
    ReportArchiveRow,
)

MAX_PLANNED_P = Decimal(10**9)  # PFLOPS; NUMERIC(12, 3) holds < 10^9


class FundingSource(StrEnum):
    RAISED = "raised"  # proceeds of a share issue: only for the announced purpose
    OWN = "own"
    LOAN = "loan"


@dataclass(frozen=True, slots=True)
class NewAnnouncement:
    ref: str
    announced_on: date
    title: str
    sku_mix: Mapping[str, int]
    planned_p: Decimal | str
    p_convention: PConvention
    purpose: str
    funding_source: FundingSource
    raised_amount: Decimal | str | None = None


@dataclass(frozen=True, slots=True)
class Announcement:
    ref: str
    announced_on: date
    title: str
    planned_units: int
    planned_p: Decimal
    p_convention: PConvention
    sku_mix: dict[str, int]
    purpose: str
    funding_source: FundingSource
    raised_amount: Decimal | None
    orders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewTransfer:
    ref: str
    transferred_on: date
    amount: Decimal | str
    funding_source: FundingSource
    counterparty: str
    purpose: str
    announcement: str | None = None
    disclosed: bool = True
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class Transfer:
    ref: str
    transferred_on: date
    amount: Decimal
    currency: str
    funding_source: FundingSource
    counterparty: str
    purpose: str
    announcement: str | None
    disclosed: bool


@dataclass(frozen=True, slots=True)
class ArchivedReport:
    kind: str
    period: str
    version: int
    figures: dict[str, str]
    inputs_hash: str
    generated_at: datetime
    restates_version: int | None
    differences: tuple[Difference, ...]


def funding_source(value: str, field: str = "funding_source") -> FundingSource:
    try:
        return FundingSource(value.strip().lower())
    except ValueError:
        raise ValidationError(
            "funding.unknown_source",
            f"unknown funding source {value!r}",
            {field: f"one of {[f.value for f in FundingSource]}"},
        ) from None


def validate_announcement(catalog: Catalog, spec: NewAnnouncement) -> Decimal:
    """Check an announcement's shape (no database); return its planned P to 3 decimals."""
    require_text(spec.ref, "ref", 64)
    require_text(spec.title, "title", 300)
    require_text(spec.purpose, "purpose", 2000)
    if not spec.sku_mix:
        raise ValidationError(
            "announcement.no_skus", "an announcement needs a SKU mix", {"sku_mix": ">= 1 SKU"}
        )
    for sku, units in spec.sku_mix.items():
        if sku not in catalog.servers:
            raise ValidationError(
                "catalog.unknown_sku",
                f"unknown server SKU {sku!r}",
                {f"sku_mix.{sku}": f"one of {sorted(catalog.servers)}"},
            )
        if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
            raise ValidationError(
                "announcement.invalid_units",
                "units must be an integer > 0",
                {f"sku_mix.{sku}": "> 0"},
            )
    planned_p = to_decimal(spec.planned_p, "planned_p")
    if not 0 <= planned_p < MAX_PLANNED_P:  # the column is NUMERIC(12, 3)
        raise ValidationError(
            "announcement.invalid_p",
            f"planned_p must be >= 0 and < {MAX_PLANNED_P}",
            {"planned_p": f">= 0, < {MAX_PLANNED_P}"},
        )
    if spec.raised_amount is not None:
        non_negative_money(spec.raised_amount, "raised_amount")
    return planned_p.quantize(Decimal("0.001"))


def _announcement_from_row(row: AnnouncementRow, orders: tuple[str, ...]) -> Announcement:
    return Announcement(
        ref=row.ref,
        announced_on=row.announced_on,
        title=row.title,
        planned_units=row.planned_units,
        planned_p=row.planned_p,
        p_convention=PConvention(row.p_convention),
        sku_mix={str(k): int(v) for k, v in json.loads(row.sku_mix).items()},
        purpose=row.purpose,
        funding_source=FundingSource(row.funding_source),
        raised_amount=row.raised_amount,
        orders=orders,
    )


def _transfer_from_row(row: FundTransferRow, announcement: str | None) -> Transfer:
    return Transfer(
        ref=row.ref,
        transferred_on=row.transferred_on,
        amount=row.amount,
        currency=row.currency,
        funding_source=FundingSource(row.funding_source),
        counterparty=row.counterparty,
        purpose=row.purpose,
        announcement=announcement,
        disclosed=row.disclosed,
    )


def _archive_from_row(row: ReportArchiveRow, restates: int | None) -> ArchivedReport:
    return ArchivedReport(
        kind=row.kind,
        period=row.period,
        version=row.version,
        figures={str(k): str(v) for k, v in json.loads(row.figures).items()},
        inputs_hash=row.inputs_hash,
        generated_at=row.generated_at,
        restates_version=restates,
        differences=tuple(differences_from_json(row.differences)),
    )


def _get_announcement_row(s: Session, ref: str) -> AnnouncementRow:
    row = s.scalars(select(AnnouncementRow).where(AnnouncementRow.ref == ref)).one_or_none()
    if row is None:
        raise NotFoundError("announcement.not_found", f"no announcement {ref!r}", {"ref": ref})
    return row


def _get_order_row(s: Session, number: str) -> PurchaseOrderRow:
    row = s.scalars(select(PurchaseOrderRow).where(PurchaseOrderRow.number == number)).one_or_none()
    if row is None:
        raise NotFoundError("po.not_found", f"no purchase order {number!r}", {"number": number})
    return row


def _order_numbers(s: Session, announcement_id: int) -> tuple[str, ...]:
    return tuple(
        s.scalars(
            select(PurchaseOrderRow.number)
            .join(AnnouncementOrderRow, AnnouncementOrderRow.order_id == PurchaseOrderRow.id)
            .where(AnnouncementOrderRow.announcement_id == announcement_id)
            .order_by(PurchaseOrderRow.number)
        )
    )


class DisclosureService:
    """Record what was announced and where the money went; archive generated reports."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        catalog: Catalog | None = None,
        currency: str = "CNY",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog or default_catalog()
        self.currency = currency

    # --- announcements -----------------------------------------------------------------------

    def announce(self, spec: NewAnnouncement, actor: str) -> Announcement:
        planned_p = validate_announcement(self.catalog, spec)
        ref = spec.ref.strip()
        with transaction(self.sessions) as s:
            if s.scalars(select(AnnouncementRow.id).where(AnnouncementRow.ref == ref)).first():
                raise ConflictError(
                    "announcement.exists", f"announcement {ref!r} exists", {"ref": "unique"}
                )
            row = AnnouncementRow(
                ref=ref,
                announced_on=spec.announced_on,
                title=spec.title.strip(),
                planned_units=sum(spec.sku_mix.values()),
                planned_p=planned_p,
                p_convention=spec.p_convention.value,
                sku_mix=json.dumps(dict(sorted(spec.sku_mix.items())), separators=(",", ":")),
                purpose=spec.purpose.strip(),
                funding_source=spec.funding_source.value,
                raised_amount=(
                    None
                    if spec.raised_amount is None
                    else non_negative_money(spec.raised_amount, "raised_amount")
                ),
                actor=actor,
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return _announcement_from_row(row, ())

    def link_order(self, ref: str, order_number: str) -> Announcement:
        """Record that purchase order ``order_number`` was placed to deliver announcement ``ref``."""
        with transaction(self.sessions) as s:
            ann = _get_announcement_row(s, ref)
            order = _get_order_row(s, order_number)
            exists = s.scalars(
                select(AnnouncementOrderRow.id).where(
                    AnnouncementOrderRow.announcement_id == ann.id,
                    AnnouncementOrderRow.order_id == order.id,
                )
            ).first()
            if exists:
                raise ConflictError(
                    "announcement.order_linked",
                    f"order {order_number} is already linked to {ref}",
                    {"order": "not yet linked"},
                )
            s.add(
                AnnouncementOrderRow(
                    announcement_id=ann.id, order_id=order.id, created_at=self.clock.now()
                )
            )
            s.flush()
            return _announcement_from_row(ann, _order_numbers(s, ann.id))

    def list_announcements(self) -> list[Announcement]:
        with self.sessions() as s:
            rows = s.scalars(
                select(AnnouncementRow).order_by(AnnouncementRow.announced_on, AnnouncementRow.ref)
            ).all()
            return [_announcement_from_row(r, _order_numbers(s, r.id)) for r in rows]

    # --- funding -----------------------------------------------------------------------------

    def set_order_funding(self, order_number: str, source: FundingSource) -> str:
        with transaction(self.sessions) as s:
            order = _get_order_row(s, order_number)
            order.funding_source = source.value
            return order.number

    # --- transfers ---------------------------------------------------------------------------

    def record_transfer(self, spec: NewTransfer, actor: str) -> Transfer:
        ref = require_text(spec.ref, "ref", 64)
        counterparty = require_text(spec.counterparty, "counterparty")
        purpose = require_text(spec.purpose, "purpose", 2000)
        amount = non_negative_money(spec.amount, "amount")
        if amount == 0:
            raise ValidationError("transfer.zero_amount", "amount must be > 0", {"amount": "> 0"})
        currency = currency_code(spec.currency, self.currency)
        with transaction(self.sessions) as s:
            if s.scalars(select(FundTransferRow.id).where(FundTransferRow.ref == ref)).first():
                raise ConflictError(
                    "transfer.exists", f"transfer {ref!r} exists", {"ref": "unique"}
                )
            ann = None if spec.announcement is None else _get_announcement_row(s, spec.announcement)
            row = FundTransferRow(
                ref=ref,
                transferred_on=spec.transferred_on,
                amount=amount,
                currency=currency,
                funding_source=spec.funding_source.value,
                counterparty=counterparty,
                purpose=purpose,
                announcement_id=None if ann is None else ann.id,
                disclosed=spec.disclosed,
                actor=actor,
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return _transfer_from_row(row, None if ann is None else ann.ref)

    def list_transfers(self) -> list[Transfer]:
        with self.sessions() as s:
            rows = s.execute(
                select(FundTransferRow, AnnouncementRow.ref)
                .outerjoin(AnnouncementRow, AnnouncementRow.id == FundTransferRow.announcement_id)
                .order_by(FundTransferRow.transferred_on, FundTransferRow.ref)
            ).all()
            return [_transfer_from_row(row, ref) for row, ref in rows]

    # --- archive -----------------------------------------------------------------------------

    def archive(
        self, kind: str, period: str, figures: Mapping[str, str], inputs_hash: str, actor: str
    ) -> ArchivedReport:
        """Archive ``figures``; unchanged figures return the latest version without writing."""
        text = canonical_json(figures)
        with transaction(self.sessions) as s:
            latest = s.scalars(
                select(ReportArchiveRow)
                .where(ReportArchiveRow.kind == kind, ReportArchiveRow.period == period)
                .order_by(ReportArchiveRow.version.desc())
                .limit(1)
            ).first()
            if latest is not None and latest.figures == text:
                return _archive_from_row(latest, self._restated_version(s, latest))
            diffs = [] if latest is None else differences(json.loads(latest.figures), figures)
            row = ReportArchiveRow(
                kind=kind,
                period=period,
                version=1 if latest is None else latest.version + 1,
                figures=text,
                inputs_hash=inputs_hash,
                generated_at=self.clock.now(),
                restates_id=None if latest is None else latest.id,
                differences=None if latest is None else differences_json(diffs),
                actor=actor,
            )
            s.add(row)
            s.flush()
            return _archive_from_row(row, None if latest is None else latest.version)

    def archived(self, kind: str | None = None, period: str | None = None) -> list[ArchivedReport]:
        with self.sessions() as s:
            query = select(ReportArchiveRow)
            if kind is not None:
                query = query.where(ReportArchiveRow.kind == kind)
            if period is not None:
                query = query.where(ReportArchiveRow.period == period)
            rows = s.scalars(
                query.order_by(
                    ReportArchiveRow.kind, ReportArchiveRow.period, ReportArchiveRow.version
                )
            ).all()
            return [_archive_from_row(r, self._restated_version(s, r)) for r in rows]

    @staticmethod
    def _restated_version(s: Session, row: ReportArchiveRow) -> int | None:
        if row.restates_id is None:
            return None
        return s.scalar(
            select(ReportArchiveRow.version).where(ReportArchiveRow.id == row.restates_id)
        )

    def count_versions(self, kind: str, period: str) -> int:
        with self.sessions() as s:
            return int(
                s.scalar(
                    select(func.count(ReportArchiveRow.id)).where(
                        ReportArchiveRow.kind == kind, ReportArchiveRow.period == period
                    )
                )
                or 0
            )
