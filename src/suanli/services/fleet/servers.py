"""Fleet use-cases: sites, cabinets, servers and lifecycle transitions.

Single writer of ``sites``, ``cabinets``, ``servers.state``/``servers.cabinet_id`` and
``server_transitions``. The rules live in :mod:`suanli.core.fleet` (states, edges, power
budget); this module applies them inside one transaction per call and records every
transition (who, when, why) in ``server_transitions``. A rejected call writes nothing.

Cabinets are named ``SITE/CABINET`` (e.g. ``BJ1/A01``) wherever one reference is needed.
Racking locks the cabinet row (``SELECT ... FOR UPDATE`` on PostgreSQL; a no-op ``UPDATE`` that
takes the write lock on SQLite) so two concurrent rackings cannot both pass the power check.

Tenant scope: ``leased_to`` (a customer id) on :class:`ServerFilter` and
:meth:`FleetService.get_server` limits answers to servers that are or were allocated to that
customer's leases (``lease_allocations``); any other serial is ``server.not_found``.

Session-level functions (``*_in``) let other services compose these steps inside their own
transaction (deliveries, CSV import, leasing); the :class:`FleetService` methods wrap them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, joinedload

from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import (
    INITIAL_STATES,
    RACKED_STATES,
    Cabinet,
    Server,
    ServerState,
    Site,
    Transition,
    check_power_budget,
    decide_transition,
)
from suanli.core.money import to_decimal
from suanli.services.common import (
    Page,
    check_paging,
    currency_code,
    effective_at,
    non_negative_money,
    optional_text,
    require_text,
)
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    CabinetRow,
    LeaseAllocationRow,
    PurchaseOrderLineRow,
    ServerRow,
    ServerTransitionRow,
    SiteRow,
    SupplierRow,
)

#: Far above any real cabinet (a few hundred kW), well inside the ``Power`` column.
MAX_CABINET_KW = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class NewServer:
    serial: str
    sku: str
    purchase_price: Decimal | str | None = None
    currency: str | None = None
    supplier: str | None = None
    network_group: str | None = None
    state: ServerState = ServerState.ORDERED
    po_line_id: int | None = None


@dataclass(frozen=True, slots=True)
class ServerFilter:
    state: ServerState | None = None
    sku: str | None = None
    site: str | None = None
    cabinet: str | None = None
    supplier: str | None = None
    network_group: str | None = None
    leased_to: int | None = None  # customer id: only servers ever allocated to its leases


# --- converters (ORM row -> domain value) ---------------------------------------------------


def site_from_row(row: SiteRow) -> Site:
    return Site(id=row.id, code=row.code, name=row.name, city=row.city)


def cabinet_from_row(row: CabinetRow, used_kw: Decimal, servers: int) -> Cabinet:
    return Cabinet(
        id=row.id,
        site_code=row.site.code,
        code=row.code,
        power_budget_kw=row.power_budget_kw,
        used_kw=used_kw,
        servers=servers,
    )


def server_from_row(row: ServerRow) -> Server:
    line = row.po_line
    return Server(
        id=row.id,
        serial=row.serial,
        sku=row.sku,
        gpu_count=row.gpu_count,
        nameplate_kw=row.nameplate_kw,
        state=ServerState(row.state),
        purchase_price=row.purchase_price,
        currency=row.currency,
        supplier=row.supplier.name if row.supplier else None,
        po_number=line.order.number if line else None,
        po_line_no=line.line_no if line else None,
        site_code=row.cabinet.site.code if row.cabinet else None,
        cabinet_code=row.cabinet.code if row.cabinet else None,
        network_group=row.network_group,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def transition_from_row(row: ServerTransitionRow, cabinet: CabinetRow | None) -> Transition:
    return Transition(
        id=row.id,
        serial=row.server.serial,
        from_state=ServerState(row.from_state) if row.from_state else None,
        to_state=ServerState(row.to_state),
        actor=row.actor,
        reason=row.reason,
        at=row.at,
        cabinet_code=f"{cabinet.site.code}/{cabinet.code}" if cabinet else None,
        recorded_at=row.recorded_at,
    )


_SERVER_LOAD = (
    joinedload(ServerRow.supplier),
    joinedload(ServerRow.cabinet).joinedload(CabinetRow.site),
    joinedload(ServerRow.po_line).joinedload(PurchaseOrderLineRow.order),
)


# --- session-level steps --------------------------------------------------------------------


def get_site_row(s: Session, code: str) -> SiteRow:
    row = s.scalars(select(SiteRow).where(SiteRow.code == code)).one_or_none()
    if row is None:
        raise NotFoundError("site.not_found", f"no site {code!r}", {"site": "an existing site"})
    return row


def get_cabinet_row(s: Session, ref: str, *, lock: bool = False) -> CabinetRow:
    site_code, sep, code = ref.partition("/")
    if not sep or not site_code or not code:
        raise ValidationError(
            "cabinet.invalid_ref", f"expected SITE/CABINET, got {ref!r}", {"cabinet": "SITE/CODE"}
        )
    stmt = (
        select(CabinetRow)
        .join(SiteRow)
        .where(SiteRow.code == site_code, CabinetRow.code == code)
        .options(joinedload(CabinetRow.site))
    )
    if lock:
        stmt = stmt.with_for_update(of=CabinetRow)
    row = s.scalars(stmt).one_or_none()
    if row is None:
        raise NotFoundError(
            "cabinet.not_found", f"no cabinet {ref!r}", {"cabinet": "an existing SITE/CABINET"}
        )
    if lock and s.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE; a no-op write takes the database write lock (waiting up to
        # the busy timeout), so the power check that follows reads the latest committed state.
        s.execute(
            update(CabinetRow)
            .where(CabinetRow.id == row.id)
            .values(power_budget_kw=CabinetRow.power_budget_kw)
        )
    return row


def get_server_row(s: Session, serial: str, leased_to: int | None = None) -> ServerRow:
    """The server ``serial``; with ``leased_to``, only if it is or was in that customer's leases
    (otherwise ``server.not_found``, exactly as for a serial that does not exist)."""
    row = s.scalars(
        select(ServerRow).where(ServerRow.serial == serial).options(*_SERVER_LOAD)
    ).one_or_none()
    if row is None or (leased_to is not None and not _ever_leased_to(s, row.id, leased_to)):
        raise NotFoundError("server.not_found", f"no server {serial!r}", {"serial": serial})
    return row


def _leased_to_clause(customer_id: int) -> ColumnElement[bool]:
    return (
        select(LeaseAllocationRow.id)
        .where(
            LeaseAllocationRow.server_id == ServerRow.id,
            LeaseAllocationRow.customer_id == customer_id,
        )
        .exists()
    )


def _ever_leased_to(s: Session, server_id: int, customer_id: int) -> bool:
    found = s.scalars(
        select(LeaseAllocationRow.id).where(
            LeaseAllocationRow.server_id == server_id,
            LeaseAllocationRow.customer_id == customer_id,
        )
    ).first()
    return found is not None


def existing_serials(s: Session, serials: Sequence[str]) -> set[str]:
    """Which of ``serials`` are already in the fleet (one query per 500)."""
    found: set[str] = set()
    unique = sorted(set(serials))
    for i in range(0, len(unique), 500):
        chunk = unique[i : i + 500]
        found.update(s.scalars(select(ServerRow.serial).where(ServerRow.serial.in_(chunk))))
    return found


def get_supplier_row(s: Session, name: str) -> SupplierRow:
    row = s.scalars(select(SupplierRow).where(SupplierRow.name == name)).one_or_none()
    if row is None:
        raise NotFoundError(
            "supplier.not_found", f"no supplier {name!r}", {"supplier": "an existing supplier"}
        )
    return row


def cabinet_load(s: Session, cabinet_id: int) -> tuple[Decimal, int]:
    """(sum of nameplate kW, number of servers) currently racked in the cabinet."""
    used, count = s.execute(
        select(func.coalesce(func.sum(ServerRow.nameplate_kw), 0), func.count(ServerRow.id)).where(
            ServerRow.cabinet_id == cabinet_id,
            ServerRow.state.in_([st.value for st in RACKED_STATES]),
        )
    ).one()
    return Decimal(used), int(count)


def record_transition(
    s: Session,
    clock: Clock,
    server: ServerRow,
    source: ServerState | None,
    target: ServerState,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> ServerTransitionRow:
    """Append a step to the log: ``at`` is when it took effect (default now), ``recorded_at``
    the wall clock of this write (audit)."""
    now = clock.now()
    row = ServerTransitionRow(
        server=server,
        from_state=source.value if source else None,
        to_state=target.value,
        actor=require_text(actor, "actor", 128),
        reason=require_text(reason, "reason", 2000),
        at=at or now,
        recorded_at=now,
        cabinet_id=server.cabinet_id,
    )
    s.add(row)
    return row


def create_server_in(
    s: Session,
    clock: Clock,
    catalog: Catalog,
    spec: NewServer,
    actor: str,
    reason: str,
    *,
    check_unique: bool = True,
) -> ServerRow:
    """Register one server in an initial state (``ordered`` or ``delivered``).

    Nothing is flushed here, so bulk callers can batch inserts; ``check_unique=False`` is for
    callers that already checked every serial against the database in one query.
    """
    serial = require_text(spec.serial, "serial", 128)
    if spec.state not in INITIAL_STATES:
        raise ValidationError(
            "server.invalid_initial_state",
            f"a new server starts as one of {sorted(INITIAL_STATES)}, not {spec.state.value}",
            {"state": f"one of {sorted(INITIAL_STATES)}"},
        )
    try:
        sku = catalog.sku(spec.sku)
    except NotFoundError as exc:
        raise ValidationError(exc.code, exc.message, exc.fields) from None
    price = None
    if spec.purchase_price is not None and str(spec.purchase_price).strip() != "":
        price = non_negative_money(spec.purchase_price, "purchase_price")
    supplier = get_supplier_row(s, spec.supplier) if spec.supplier else None
    if check_unique and s.scalars(select(ServerRow.id).where(ServerRow.serial == serial)).first():
        raise ConflictError(
            "server.serial_exists", f"a server {serial!r} exists", {"serial": "unique"}
        )
    now = clock.now()
    row = ServerRow(
        serial=serial,
        sku=sku.key,
        gpu_count=sku.gpus,
        nameplate_kw=Decimal(str(sku.nameplate_kw)),
        state=spec.state.value,
        purchase_price=price,
        currency=currency_code(spec.currency, "CNY"),
        supplier=supplier,
        po_line_id=spec.po_line_id,
        network_group=optional_text(spec.network_group, "network_group", 64),
        created_at=now,
        updated_at=now,
    )
    s.add(row)
    record_transition(s, clock, row, None, spec.state, actor, reason)
    return row


def transition_in(
    s: Session,
    clock: Clock,
    server: ServerRow,
    target: ServerState,
    actor: str,
    reason: str,
    cabinet: str | None = None,
    at: datetime | None = None,
) -> ServerTransitionRow:
    """Move ``server`` to ``target`` (racking into ``cabinet`` when the edge needs one).

    ``at`` is the effective time (default now; see :func:`effective_at`); it may not precede
    the server's last step, so the log stays in the order the states were taken
    (``transition.out_of_order``)."""
    source = ServerState(server.state)
    when = effective_at(at, clock.now())
    if at is not None and server.id is not None:
        last = s.scalar(
            select(func.max(ServerTransitionRow.at)).where(
                ServerTransitionRow.server_id == server.id
            )
        )
        if last is not None and when < last:
            raise ConflictError(
                "transition.out_of_order",
                f"{server.serial} last changed state at {last.isoformat()}; "
                f"a step cannot take effect before that ({when.isoformat()})",
                {"at": f">= {last.isoformat()}"},
            )
    decision = decide_transition(source, target, has_cabinet=cabinet is not None)
    require_text(actor, "actor", 128)
    require_text(reason, "reason", 2000)
    if cabinet is not None and not decision.needs_cabinet:
        raise ValidationError(
            "server.cabinet_not_expected",
            f"{source.value} → {target.value} does not rack the server; omit the cabinet",
            {"cabinet": "only when racking"},
        )
    if decision.needs_cabinet:
        assert cabinet is not None
        cab = get_cabinet_row(s, cabinet, lock=True)
        s.flush()  # the budget must count servers racked earlier in this transaction
        used, _ = cabinet_load(s, cab.id)
        check_power_budget(cab.power_budget_kw, used, server.nameplate_kw)
        server.cabinet_id = cab.id
    elif decision.releases_cabinet:
        server.cabinet_id = None
    server.state = target.value
    server.updated_at = clock.now()
    return record_transition(s, clock, server, source, target, actor, reason, when)


# --- the service ----------------------------------------------------------------------------


class FleetService:
    """Fleet use-cases; each public method is one transaction."""

    def __init__(
        self, sessions: SessionFactory, clock: Clock, catalog: Catalog | None = None
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog or default_catalog()

    # sites and cabinets

    def add_site(self, code: str, name: str, city: str | None = None) -> Site:
        with transaction(self.sessions) as s:
            code = require_text(code, "code", 64)
            if "/" in code:
                raise ValidationError(
                    "site.invalid_code", "site codes cannot contain '/'", {"code": "no '/'"}
                )
            if s.scalars(select(SiteRow.id).where(SiteRow.code == code)).first():
                raise ConflictError("site.exists", f"a site {code!r} exists", {"code": "unique"})
            row = SiteRow(
                code=code,
                name=require_text(name, "name"),
                city=optional_text(city, "city", 100),
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return site_from_row(row)

    def list_sites(self) -> list[Site]:
        with transaction(self.sessions) as s:
            return [site_from_row(r) for r in s.scalars(select(SiteRow).order_by(SiteRow.code))]

    def add_cabinet(self, site: str, code: str, power_budget_kw: Decimal | str | float) -> Cabinet:
        with transaction(self.sessions) as s:
            site_row = get_site_row(s, require_text(site, "site", 64))
            code = require_text(code, "code", 64)
            budget = to_decimal(power_budget_kw, "power_budget_kw")
            if not 0 < budget <= MAX_CABINET_KW:  # checked before quantize, which overflows
                raise ValidationError(
                    "cabinet.invalid_budget",
                    f"power budget must be > 0 and <= {MAX_CABINET_KW} kW",
                    {"power_budget_kw": f"> 0, <= {MAX_CABINET_KW}"},
                )
            budget = budget.quantize(Decimal("0.001"))
            exists = s.scalars(
                select(CabinetRow.id).where(
                    CabinetRow.site_id == site_row.id, CabinetRow.code == code
                )
            ).first()
            if exists:
                raise ConflictError(
                    "cabinet.exists", f"cabinet {site}/{code} exists", {"code": "unique per site"}
                )
            row = CabinetRow(
                site=site_row, code=code, power_budget_kw=budget, created_at=self.clock.now()
            )
            s.add(row)
            s.flush()
            return cabinet_from_row(row, Decimal(0), 0)

    def list_cabinets(self, site: str | None = None) -> list[Cabinet]:
        with transaction(self.sessions) as s:
            stmt = select(CabinetRow).join(SiteRow).options(joinedload(CabinetRow.site))
            if site:
                stmt = stmt.where(SiteRow.code == site)
            rows = s.scalars(stmt.order_by(SiteRow.code, CabinetRow.code)).all()
            return [cabinet_from_row(r, *cabinet_load(s, r.id)) for r in rows]

    def get_cabinet(self, ref: str) -> Cabinet:
        with transaction(self.sessions) as s:
            row = get_cabinet_row(s, ref)
            return cabinet_from_row(row, *cabinet_load(s, row.id))

    # servers

    def add_server(self, spec: NewServer, actor: str, reason: str = "registered") -> Server:
        with transaction(self.sessions) as s:
            row = create_server_in(s, self.clock, self.catalog, spec, actor, reason)
            return server_from_row(get_server_row(s, row.serial))

    def get_server(self, serial: str, leased_to: int | None = None) -> Server:
        """``leased_to`` (a customer id) limits the answer to that tenant's servers."""
        with transaction(self.sessions) as s:
            return server_from_row(get_server_row(s, serial, leased_to))

    def list_servers(
        self, flt: ServerFilter | None = None, limit: int = 50, offset: int = 0
    ) -> Page[Server]:
        check_paging(limit, offset)
        flt = flt or ServerFilter()
        stmt = select(ServerRow)
        if flt.state:
            stmt = stmt.where(ServerRow.state == flt.state.value)
        if flt.sku:
            stmt = stmt.where(ServerRow.sku == flt.sku)
        if flt.network_group:
            stmt = stmt.where(ServerRow.network_group == flt.network_group)
        if flt.leased_to is not None:
            stmt = stmt.where(_leased_to_clause(flt.leased_to))
        if flt.supplier:
            stmt = stmt.join(SupplierRow, ServerRow.supplier_id == SupplierRow.id).where(
                SupplierRow.name == flt.supplier
            )
        if flt.site or flt.cabinet:
            stmt = stmt.join(CabinetRow, ServerRow.cabinet_id == CabinetRow.id).join(SiteRow)
            if flt.site:
                stmt = stmt.where(SiteRow.code == flt.site)
            if flt.cabinet:
                site_code, _, cab_code = flt.cabinet.partition("/")
                stmt = stmt.where(SiteRow.code == site_code, CabinetRow.code == cab_code)
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(
                stmt.options(*_SERVER_LOAD).order_by(ServerRow.serial).limit(limit).offset(offset)
            ).unique()
            return Page([server_from_row(r) for r in rows], total, limit, offset)

    def transition(
        self,
        serial: str,
        target: ServerState,
        actor: str,
        reason: str,
        cabinet: str | None = None,
        at: str | date | datetime | None = None,
    ) -> Transition:
        """Move a server; ``at`` is the effective date or time (default now)."""
        when = effective_at(at, self.clock.now())
        with transaction(self.sessions) as s:
            server = get_server_row(s, serial)
            row = transition_in(
                s, self.clock, server, target, actor, reason, cabinet, when if at else None
            )
            s.flush()
            cab = s.get(CabinetRow, row.cabinet_id) if row.cabinet_id else None
            return transition_from_row(row, cab)

    def transitions(
        self, serial: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[Transition]:
        check_paging(limit, offset)
        stmt = select(ServerTransitionRow)
        with transaction(self.sessions) as s:
            if serial is not None:
                stmt = stmt.where(ServerTransitionRow.server_id == get_server_row(s, serial).id)
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(
                stmt.options(joinedload(ServerTransitionRow.server))
                .order_by(ServerTransitionRow.at, ServerTransitionRow.id)
                .limit(limit)
                .offset(offset)
            ).all()
            cabinets = {
                c.id: c
                for c in s.scalars(
                    select(CabinetRow)
                    .where(CabinetRow.id.in_({r.cabinet_id for r in rows if r.cabinet_id}))
                    .options(joinedload(CabinetRow.site))
                )
            }
            items = [transition_from_row(r, cabinets.get(r.cabinet_id or -1)) for r in rows]
            return Page(items, total, limit, offset)


__all__ = [
    "FleetService",
    "NewServer",
    "ServerFilter",
    "create_server_in",
    "get_cabinet_row",
    "get_server_row",
    "get_supplier_row",
    "transition_in",
]
