"""Service delivery and SLA downtime of leased servers (the leasing service's second half).

Single writer of ``sla_events``; ``lease_allocations.delivered_at`` is set here. A server leased
before delivery earns nothing until :meth:`ServiceDelivery.deliver` puts it in service. A
failure of a leased server (``leased → failed``) opens a downtime record at the logged
transition's time; the repair walks ``failed → repaired → available → leased`` and closes it
(a server whose lease ended while it was down goes back to ``available``, its downtime closed at
the lease's end). Failures entered through the fleet service directly are picked up from the
transition log by :meth:`ServiceDelivery.sync_downtime`.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.core.clock import Clock
from suanli.core.contracts import Contract, SlaEvent
from suanli.core.errors import ConflictError
from suanli.core.fleet import ServerState
from suanli.services.billing.contract_reads import contract_view, sla_event_view
from suanli.services.common import Page, check_paging, effective_at
from suanli.services.fleet.downtime import sync_downtime_in
from suanli.services.fleet.servers import get_server_row, transition_in
from suanli.services.tenancy import SYSTEM, Principal
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import ContractRow, CustomerRow, LeaseAllocationRow, ServerRow, SlaEventRow


class ServiceDelivery:
    """Delivery and SLA use-cases of :class:`suanli.services.billing.leasing.LeasingService`
    (which inherits them); each public method is one transaction."""

    sessions: SessionFactory
    clock: Clock

    def _current_allocation(
        self, s: Session, server: ServerRow, when: datetime | None = None
    ) -> LeaseAllocationRow:
        now = when or self.clock.now()
        row = s.scalars(
            select(LeaseAllocationRow).where(
                LeaseAllocationRow.server_id == server.id,
                LeaseAllocationRow.starts_at <= now,
                LeaseAllocationRow.ends_at > now,
            )
        ).one_or_none()
        if row is None:
            raise ConflictError(
                "lease.not_leased",
                f"{server.serial} is not under a lease on {now.isoformat()}",
                {"serial": server.serial},
            )
        return row

    def deliver(self, serial: str, actor: str, at: str | date | datetime | None = None) -> Contract:
        """Put a server leased before delivery into service (``available → leased``) at ``at``
        (the effective date or time, default now): service, and rent, count from then."""
        when = effective_at(at, self.clock.now())
        with transaction(self.sessions) as s:
            server = get_server_row(s, serial)
            alloc = self._current_allocation(s, server, when)
            if alloc.delivered_at is not None:
                raise ConflictError(
                    "lease.already_delivered", f"{serial} is in service", {"serial": serial}
                )
            contract = s.get_one(ContractRow, alloc.contract_id)
            transition_in(
                s,
                self.clock,
                server,
                ServerState.LEASED,
                actor,
                f"delivered for lease {contract.number}",
                at=when,
            )
            alloc.delivered_at = when
            return contract_view(s, contract)

    def server_failed(
        self, serial: str, actor: str, reason: str, at: str | date | datetime | None = None
    ) -> SlaEvent:
        """A leased server failed: ``leased → failed`` and an open SLA downtime record. ``at`` is
        when it failed if known (the effective time, e.g. the engine's failure time; a time
        after now is taken as now), default now."""
        now = self.clock.now()
        if isinstance(at, datetime) and at > now:
            at = now
        when = effective_at(at, now)
        with transaction(self.sessions) as s:
            server = get_server_row(s, serial)
            alloc = self._current_allocation(s, server, when)
            # one time: the downtime starts exactly at the logged transition, so the invoice
            # run's sync from the transition log finds this record instead of adding one
            step = transition_in(s, self.clock, server, ServerState.FAILED, actor, reason, at=when)
            event = SlaEventRow(
                allocation_id=alloc.id, contract_id=alloc.contract_id, customer_id=alloc.customer_id,
                server_id=server.id, down_from=step.at, reason=reason,
            )  # fmt: skip
            s.add(event)
            s.flush()
            return sla_event_view(s, event)

    def server_restored(
        self,
        serial: str,
        actor: str,
        reason: str = "repaired",
        at: str | date | datetime | None = None,
    ) -> SlaEvent:
        """Repair a failed leased server back into the lease and close its downtime record at
        ``at`` (the effective time, default now; not before the failure). A server whose lease
        ended while it was down goes back to ``available``, its downtime closed at the end."""
        when = effective_at(at, self.clock.now())
        with transaction(self.sessions) as s:
            server = get_server_row(s, serial)
            event = s.scalars(
                select(SlaEventRow).where(
                    SlaEventRow.server_id == server.id, SlaEventRow.down_until.is_(None)
                )
            ).one_or_none()
            if event is None:
                raise ConflictError(
                    "sla.no_open_downtime", f"{serial} has no open downtime", {"serial": serial}
                )
            ends_at = s.scalar(
                select(LeaseAllocationRow.ends_at).where(
                    LeaseAllocationRow.id == event.allocation_id
                )
            )
            over = ends_at is not None and when >= ends_at
            walk = [ServerState.REPAIRED, ServerState.AVAILABLE]
            for target in walk if over else [*walk, ServerState.LEASED]:
                step = transition_in(s, self.clock, server, target, actor, reason, at=when)
            event.down_until = min(step.at, ends_at) if over and ends_at else step.at
            return sla_event_view(s, event)

    def sync_downtime(self) -> int:
        """Record SLA downtime for failures entered through the fleet service directly.

        The fleet's transition log is the source of truth: a leased server that went
        ``leased → failed`` during an allocation is down until it is ``leased`` again. Missing
        downtime records are created and open ones closed; returns how many changed.
        """
        with transaction(self.sessions) as s:
            return sync_downtime_in(s)

    def list_sla_events(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[SlaEvent]:
        check_paging(limit, offset)
        customer = principal.scope(customer)
        stmt = select(SlaEventRow)
        if customer:
            stmt = stmt.join(CustomerRow, SlaEventRow.customer_id == CustomerRow.id).where(
                CustomerRow.code == customer
            )
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(stmt.order_by(SlaEventRow.id).limit(limit).offset(offset)).all()
            return Page([sla_event_view(s, r) for r in rows], total, limit, offset)
