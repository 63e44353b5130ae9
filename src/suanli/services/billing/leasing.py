"""Contracts: bare-metal leases and reserved GPU capacity; server allocation; SLA downtime.

Single writer of ``contracts`` and ``lease_allocations`` (service delivery and ``sla_events``
live in :mod:`.sla`, reading rows into values in :mod:`.contract_reads`;
:class:`LeasingService` inherits the delivery use-cases, so callers see one service). Server states are
changed only through :func:`suanli.services.fleet.servers.transition_in` (the fleet service stays the
single writer of ``servers.state``): leasing moves servers ``available → leased``, a failure of a
leased server ``leased → failed`` opens an SLA downtime record, the repair walks
``failed → repaired → available → leased`` and closes it.

No double booking, guaranteed by the database: on PostgreSQL the exclusion constraint
``ex_lease_allocations_no_overlap`` rejects two allocations of one server whose periods overlap;
allocation by SKU picks servers with ``FOR UPDATE SKIP LOCKED`` so concurrent leases never wait on
each other's rows. On SQLite the transaction starts with ``BEGIN IMMEDIATE`` (one allocating
writer at a time) and a trigger rejects overlaps. Any overlap surfaces as
``lease.double_booked``; too few free servers as ``lease.capacity_unavailable``.

A server named by serial may be leased before it is delivered: its allocation has no
``delivered_at`` and earns nothing until :meth:`LeasingService.deliver` puts it in service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suanli.core.billing import add_months, midnight
from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.core.contracts import Contract
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState
from suanli.core.money import round_money, to_decimal
from suanli.services.billing.contract_reads import (
    contract_from_row,
    contract_view,
    get_contract_row,
)
from suanli.services.billing.numbering import next_number, serialise_writes
from suanli.services.billing.sla import ServiceDelivery
from suanli.services.common import (
    Page,
    check_paging,
    effective_at,
    non_negative_money,
    positive_int,
    ratio,
    require_text,
)
from suanli.services.fleet.servers import transition_in
from suanli.services.tenancy import SYSTEM, Principal, get_customer_row
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    ContractRenewalRow,
    ContractRow,
    CustomerRow,
    LeaseAllocationRow,
    ServerRow,
    ServerTransitionRow,
)

PENDING_STATES = frozenset(
    {ServerState.ORDERED, ServerState.DELIVERED, ServerState.BURN_IN, ServerState.REPAIRED}
)


@dataclass(frozen=True, slots=True)
class LeaseSpec:
    customer: str
    sku: str
    monthly_rent: Decimal | str
    start: date
    term_months: int
    count: int | None = None
    serials: tuple[str, ...] = ()
    cabinet_fee: Decimal | str = Decimal(0)
    om_fee: Decimal | str = Decimal(0)
    fees_as_agent: bool = False
    deposit: Decimal | str = Decimal(0)
    prepayment: Decimal | str = Decimal(0)
    notice_days: int = 30
    auto_renew: bool = False
    early_termination_months: Decimal | str = Decimal(3)
    sla_uptime: Decimal | str = Decimal("0.995")
    vat_rate: Decimal | str = Decimal("0.13")
    fee_vat_rate: Decimal | str = Decimal("0.06")


@dataclass(frozen=True, slots=True)
class ReservedSpec:
    customer: str
    sku: str
    committed_gpus: int
    gpu_hour_rate: Decimal | str
    start: date
    term_months: int
    min_commitment: Decimal | str = Decimal("0.8")
    deposit: Decimal | str = Decimal(0)
    prepayment: Decimal | str = Decimal(0)
    vat_rate: Decimal | str = Decimal("0.06")


def _double_booked(exc: IntegrityError) -> ConflictError:
    if "no_overlap" not in str(exc.orig) and "double_booked" not in str(exc.orig):
        raise exc
    return ConflictError(
        "lease.double_booked",
        "a server is already allocated for part of that period",
        {"serials": "servers free for the whole term"},
    )


class LeasingService(ServiceDelivery):
    """Contract use-cases; each public method is one transaction."""

    def __init__(self, sessions: SessionFactory, clock: Clock, catalog: Catalog) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog

    # --- creating contracts -----------------------------------------------------------------

    def _sku(self, key: str) -> str:
        try:
            return self.catalog.sku(key).key
        except NotFoundError as exc:
            raise ValidationError(exc.code, exc.message, exc.fields) from None

    def create_lease(self, spec: LeaseSpec, actor: str) -> Contract:
        """Allocate servers (given serials, or ``count`` free ones of the SKU) and sign a lease."""
        sku = self._sku(spec.sku)
        term = positive_int(spec.term_months, "term_months", 120)
        if (spec.count is None) == (not spec.serials):
            raise ValidationError(
                "lease.servers_required", "give either count or serials", {"count": "or serials"}
            )
        if spec.count is not None:
            positive_int(spec.count, "count", 10000)
        if len(set(spec.serials)) != len(spec.serials):
            raise ValidationError(
                "lease.duplicate_serials", "a serial is listed twice", {"serials": "unique"}
            )
        values = dict(
            monthly_rent=non_negative_money(spec.monthly_rent, "monthly_rent"),
            cabinet_fee=non_negative_money(spec.cabinet_fee, "cabinet_fee"),
            om_fee=non_negative_money(spec.om_fee, "om_fee"),
            deposit=non_negative_money(spec.deposit, "deposit"),
            prepayment=non_negative_money(spec.prepayment, "prepayment"),
            early_termination_months=ratio(spec.early_termination_months, "early_termination_months", high=Decimal(120)),
            sla_uptime=ratio(spec.sla_uptime, "sla_uptime", Decimal("0.5")),
            vat_rate=ratio(spec.vat_rate, "vat_rate"),
            fee_vat_rate=ratio(spec.fee_vat_rate, "fee_vat_rate"),
        )  # fmt: skip
        if not 0 <= spec.notice_days <= 365:
            raise ValidationError(
                "input.out_of_range", "notice_days must be 0..365", {"notice_days": "0..365"}
            )
        end = add_months(spec.start, term)
        try:
            with transaction(self.sessions) as s:
                serialise_writes(s)
                customer = get_customer_row(s, spec.customer)
                servers = (
                    self._pick_servers(s, sku, spec.count, midnight(spec.start), midnight(end))
                    if spec.count is not None
                    else self._named_servers(s, sku, spec.serials)
                )
                number = f"L-{next_number(s, 'contract'):06d}"
                row = ContractRow(
                    number=number, customer_id=customer.id, kind="lease", status="active", sku=sku,
                    server_count=len(servers), start_date=spec.start, term_months=term, end_date=end,
                    notice_days=spec.notice_days, auto_renew=spec.auto_renew, renewal_months=term, committed_gpus=0,
                    gpu_hour_rate=Decimal(0), min_commitment=Decimal(0),
                    fees_as_agent=spec.fees_as_agent, created_at=self.clock.now(), **values,
                )  # fmt: skip
                s.add(row)
                s.flush()
                for server in servers:
                    self._allocate(s, row, server, actor)
                s.flush()
                return contract_from_row(row, customer.code, [sv.serial for sv in servers])
        except IntegrityError as exc:
            raise _double_booked(exc) from None

    def _pick_servers(
        self, s: Session, sku: str, count: int, starts: datetime, ends: datetime
    ) -> list[ServerRow]:
        """``count`` available servers of ``sku`` with no allocation overlapping the term (an
        available server may already be booked for a later lease; it is skipped, not refused)."""
        booked = select(LeaseAllocationRow.id).where(
            LeaseAllocationRow.server_id == ServerRow.id,
            LeaseAllocationRow.starts_at < ends,
            LeaseAllocationRow.ends_at > starts,
        )
        stmt = (
            select(ServerRow)
            .where(
                ServerRow.sku == sku,
                ServerRow.state == ServerState.AVAILABLE.value,
                ~booked.exists(),
            )
            .order_by(ServerRow.id)
            .limit(count)
            .with_for_update(skip_locked=True)
        )
        rows = list(s.scalars(stmt))
        if len(rows) < count:
            raise ConflictError(
                "lease.capacity_unavailable",
                f"{count} {sku} servers requested, {len(rows)} available",
                {"count": f"at most {len(rows)}"},
            )
        return rows

    def _named_servers(self, s: Session, sku: str, serials: tuple[str, ...]) -> list[ServerRow]:
        rows = {
            r.serial: r
            for r in s.scalars(
                select(ServerRow)
                .where(ServerRow.serial.in_(serials))
                .order_by(ServerRow.id)
                .with_for_update()
            )
        }
        for serial in serials:
            row = rows.get(serial)
            if row is None:
                raise NotFoundError(
                    "server.not_found", f"no server {serial!r}", {"serials": serial}
                )
            if row.sku != sku:
                raise ValidationError(
                    "lease.sku_mismatch", f"{serial} is a {row.sku}", {"serials": serial}
                )
            state = ServerState(row.state)
            if state is not ServerState.AVAILABLE and state not in PENDING_STATES:
                raise ConflictError(
                    "lease.capacity_unavailable", f"{serial} is {state.value}", {"serials": serial}
                )
        return [rows[serial] for serial in serials]

    def _allocate(self, s: Session, contract: ContractRow, server: ServerRow, actor: str) -> None:
        starts = midnight(contract.start_date)
        available = ServerState(server.state) is ServerState.AVAILABLE
        s.add(
            LeaseAllocationRow(
                contract_id=contract.id, customer_id=contract.customer_id, server_id=server.id,
                starts_at=starts, ends_at=midnight(contract.end_date),
                delivered_at=starts if available else None,
            )
        )  # fmt: skip
        if available:
            # a lease signed late (starting before today) took the server from its start, or
            # from its last step if that came later; one starting later takes it today
            transition_in(
                s, self.clock, server, ServerState.LEASED, actor, f"lease {contract.number}",
                at=self._step_time(s, server, starts),
            )  # fmt: skip

    def _step_time(self, s: Session, server: ServerRow, wanted: datetime) -> datetime:
        """When a step the contract implies took effect: ``wanted`` (a lease's start or end),
        or the server's last step if that came later, and never after now."""
        last = s.scalar(
            select(func.max(ServerTransitionRow.at)).where(
                ServerTransitionRow.server_id == server.id
            )
        )
        return min(self.clock.now(), max(wanted, last or wanted))

    def create_reserved(self, spec: ReservedSpec, actor: str) -> Contract:
        """Reserved GPU capacity: committed GPUs at a GPU-hour rate with a minimum commitment."""
        sku = self._sku(spec.sku)
        require_text(actor, "actor", 128)
        term = positive_int(spec.term_months, "term_months", 120)
        gpus = positive_int(spec.committed_gpus, "committed_gpus", 100000)
        rate = to_decimal(spec.gpu_hour_rate, "gpu_hour_rate")
        if rate < 0 or rate != rate.quantize(Decimal("0.00000001")):
            raise ValidationError(
                "money.invalid",
                "gpu_hour_rate must be >= 0, 8 decimals at most",
                {"gpu_hour_rate": ">= 0"},
            )
        with transaction(self.sessions) as s:
            customer = get_customer_row(s, spec.customer)
            row = ContractRow(
                number=f"R-{next_number(s, 'contract'):06d}", customer_id=customer.id,
                kind="reserved", status="active", sku=sku, server_count=0, start_date=spec.start,
                term_months=term, end_date=add_months(spec.start, term), monthly_rent=Decimal(0),
                cabinet_fee=Decimal(0), om_fee=Decimal(0), fees_as_agent=False,
                deposit=non_negative_money(spec.deposit, "deposit"),
                prepayment=non_negative_money(spec.prepayment, "prepayment"), notice_days=0,
                auto_renew=False, renewal_months=term, early_termination_months=Decimal(0), sla_uptime=Decimal(1),
                vat_rate=ratio(spec.vat_rate, "vat_rate"), fee_vat_rate=Decimal(0),
                committed_gpus=gpus, gpu_hour_rate=rate,
                min_commitment=ratio(spec.min_commitment, "min_commitment"),
                created_at=self.clock.now(),
            )  # fmt: skip
            s.add(row)
            s.flush()
            return contract_from_row(row, customer.code, [])

    # --- changing contracts -----------------------------------------------------------------

    def terminate(
        self, number: str, effective: date, actor: str, reason: str, on: date | None = None
    ) -> Contract:
        """End a lease early on ``effective``, notice given on ``on`` (default today; the
        notice period counts from it); bills the penalty."""
        require_text(reason, "reason", 2000)
        today = self.clock.now().date()
        on = today if on is None else on
        if on > today:
            raise ValidationError(
                "contract.future_notice", "a termination is recorded once notice is given",
                {"on": f"<= {today}"},
            )  # fmt: skip
        with transaction(self.sessions) as s:
            serialise_writes(s)
            row = get_contract_row(s, number)
            if row.status != "active":
                raise ConflictError(
                    "contract.not_active", f"{number} is {row.status}", {"contract": number}
                )
            if (effective - on).days < row.notice_days:
                raise ConflictError(
                    "contract.notice_too_short",
                    f"{number} needs {row.notice_days} days' notice",
                    {"effective": f">= {on} + {row.notice_days} days"},
                )
            if not row.start_date < effective < row.end_date:
                raise ValidationError(
                    "contract.invalid_termination", "effective date must fall inside the term",
                    {"effective": f"after {row.start_date} and before {row.end_date}"},
                )  # fmt: skip
            row.status = "terminated"
            row.terminated_on = effective
            row.termination_agreed_on = on
            row.termination_penalty = round_money(
                row.early_termination_months * row.monthly_rent * row.server_count
            )
            s.execute(
                update(LeaseAllocationRow)
                .where(LeaseAllocationRow.contract_id == row.id)
                .values(ends_at=midnight(effective))
            )
            if effective <= today:
                self._release(s, row, actor)
            return contract_view(s, row)

    def renew(
        self, number: str, months: int, actor: str = "system", on: date | None = None
    ) -> Contract:
        """Extend a lease by ``months``, agreed on ``on`` (default today), and record the renewal;
        refused when a server is booked in the extension."""
        positive_int(months, "months", 120)
        require_text(actor, "actor", 128)
        today = self.clock.now().date()
        on = today if on is None else on
        if on > today:
            raise ValidationError(
                "contract.future_renewal", "a renewal is recorded once agreed, not before",
                {"on": f"<= {today}"},
            )  # fmt: skip
        try:
            with transaction(self.sessions) as s:
                serialise_writes(s)
                row = get_contract_row(s, number)
                if row.status != "active":
                    raise ConflictError(
                        "contract.not_active", f"{number} is {row.status}", {"contract": number}
                    )
                if not row.start_date <= on <= row.end_date:
                    raise ValidationError(
                        "contract.invalid_renewal_date", "a renewal is agreed during the term",
                        {"on": f"{row.start_date} .. {row.end_date}"},
                    )  # fmt: skip
                previous = row.end_date
                row.term_months += months
                row.end_date = add_months(row.start_date, row.term_months)
                s.execute(
                    update(LeaseAllocationRow)
                    .where(LeaseAllocationRow.contract_id == row.id)
                    .values(ends_at=midnight(row.end_date))
                )
                self._record_renewal(s, row, on, months, previous, automatic=False, actor=actor)
                s.flush()
                return contract_view(s, row)
        except IntegrityError as exc:
            raise _double_booked(exc) from None

    def _record_renewal(
        self, s: Session, row: ContractRow, on: date, months: int, previous: date,
        automatic: bool, actor: str,
    ) -> None:  # fmt: skip
        s.add(
            ContractRenewalRow(
                contract_id=row.id, renewed_on=on, months=months, previous_end=previous,
                new_end=row.end_date, automatic=automatic, actor=actor, created_at=self.clock.now(),
            )
        )  # fmt: skip

    def release_due(self, actor: str, at: str | date | datetime | None = None) -> int:
        """At the end of a term: auto-renewing leases are extended by their initial term (if
        every server is still free for it); the others end and their servers return to
        ``available``. ``at`` is the effective date (default now, never in the future): only
        leases ended by then are released or renewed. Returns how many servers were released."""
        now = effective_at(at, self.clock.now())
        released = 0
        with transaction(self.sessions) as s:
            serialise_writes(s)
            rows = s.scalars(
                select(ContractRow).where(
                    ContractRow.kind == "lease", ContractRow.status != "ended"
                )
            ).all()
            for row in rows:
                if row.status == "active" and row.auto_renew and midnight(row.end_date) <= now:
                    self._auto_renew(s, row, now, actor)
                end = row.terminated_on or row.end_date
                if midnight(end) <= now:
                    released += self._release(s, row, actor)
                    row.status = "ended" if row.status == "active" else row.status
        return released

    def _auto_renew(self, s: Session, row: ContractRow, now: datetime, actor: str) -> None:
        while midnight(row.end_date) <= now:
            end = add_months(row.start_date, row.term_months + row.renewal_months)
            try:
                with s.begin_nested():  # a server booked by someone else: no renewal
                    s.execute(
                        update(LeaseAllocationRow)
                        .where(LeaseAllocationRow.contract_id == row.id)
                        .values(ends_at=midnight(end))
                    )
            except IntegrityError:
                return
            previous = row.end_date
            row.term_months += row.renewal_months
            row.end_date = end
            self._record_renewal(s, row, previous, row.renewal_months, previous, True, actor)

    def _release(self, s: Session, contract: ContractRow, actor: str) -> int:
        servers = s.scalars(
            select(ServerRow)
            .join(LeaseAllocationRow, LeaseAllocationRow.server_id == ServerRow.id)
            .where(
                LeaseAllocationRow.contract_id == contract.id,
                ServerRow.state == ServerState.LEASED.value,
            )
        ).all()
        # the servers came back when the lease ended, not when someone ran the release
        ended = midnight(contract.terminated_on or contract.end_date)
        for server in servers:
            transition_in(
                s, self.clock, server, ServerState.AVAILABLE, actor,
                f"lease {contract.number} ended", at=self._step_time(s, server, ended),
            )  # fmt: skip
        return len(servers)

    # --- reading ----------------------------------------------------------------------------

    def get_contract(self, number: str, principal: Principal = SYSTEM) -> Contract:
        with transaction(self.sessions) as s:
            return contract_view(s, get_contract_row(s, number, principal))

    def list_contracts(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Contract]:
        check_paging(limit, offset)
        customer = principal.scope(customer)
        stmt = select(ContractRow, CustomerRow.code).join(CustomerRow)
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        if kind:
            stmt = stmt.where(ContractRow.kind == kind)
        if status:
            stmt = stmt.where(ContractRow.status == status)
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.execute(stmt.order_by(ContractRow.number).limit(limit).offset(offset)).all()
            return Page([contract_from_row(r, code, []) for r, code in rows], total, limit, offset)
