"""SLA downtime derived from the fleet's transition log.

The fleet service is the single writer of server states and records every transition; a leased
server that goes ``leased → failed`` during an allocation is down until it is ``leased`` again.
:func:`sync_downtime_in` creates the missing ``sla_events`` rows and closes open ones, so a
failure entered through the fleet directly still earns the customer its SLA credit.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.fleet import ServerState
from suanli.store.models import LeaseAllocationRow, ServerTransitionRow, SlaEventRow


def _outages(steps: list[ServerTransitionRow]) -> list[tuple[datetime, datetime | None, str]]:
    """``[down_from, down_until)`` of each failure of a leased server in a transition history."""
    out: list[tuple[datetime, datetime | None, str]] = []
    down: tuple[datetime, str] | None = None
    for t in steps:
        if (
            down is None
            and t.from_state == ServerState.LEASED.value
            and t.to_state == ServerState.FAILED.value
        ):
            down = (t.at, t.reason)
        elif down is not None and t.to_state == ServerState.LEASED.value:
            out.append((down[0], t.at, down[1]))
            down = None
    if down is not None:
        out.append((down[0], None, down[1]))
    return out


def sync_downtime_in(s: Session) -> int:
    changed = 0
    failed_servers = select(ServerTransitionRow.server_id).where(
        ServerTransitionRow.to_state == ServerState.FAILED.value,
        ServerTransitionRow.from_state == ServerState.LEASED.value,
    )
    allocations = s.scalars(
        select(LeaseAllocationRow).where(LeaseAllocationRow.server_id.in_(failed_servers))
    ).all()
    for alloc in allocations:
        steps = list(
            s.scalars(
                select(ServerTransitionRow)
                .where(
                    ServerTransitionRow.server_id == alloc.server_id,
                    ServerTransitionRow.at >= alloc.starts_at,
                    ServerTransitionRow.at < alloc.ends_at,
                )
                .order_by(ServerTransitionRow.at, ServerTransitionRow.id)
            )
        )
        # outages starting at the same instant (failed, restored and failed again at one
        # effective time) are matched to their records in order, never to the same record
        known: dict[datetime, list[SlaEventRow]] = defaultdict(list)
        for e in s.scalars(
            select(SlaEventRow)
            .where(SlaEventRow.allocation_id == alloc.id)
            .order_by(SlaEventRow.id)
        ):
            known[e.down_from].append(e)
        for down_from, down_until, reason in _outages(steps):
            same_start = known.get(down_from)
            event = same_start.pop(0) if same_start else None
            if event is None:
                s.add(SlaEventRow(allocation_id=alloc.id, contract_id=alloc.contract_id, customer_id=alloc.customer_id,
                                  server_id=alloc.server_id, down_from=down_from, down_until=down_until, reason=reason))  # fmt: skip
                changed += 1
            elif event.down_until is None and down_until is not None:
                event.down_until = down_until
                changed += 1
    return changed
