"""Reading contracts and SLA events: rows to domain values, shared by the leasing use-cases
(:mod:`.leasing`) and service delivery (:mod:`.sla`). Reads only; writes nothing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.contracts import Contract, SlaEvent
from suanli.core.errors import NotFoundError
from suanli.services.tenancy import SYSTEM, Principal
from suanli.store.models import ContractRow, CustomerRow, LeaseAllocationRow, ServerRow, SlaEventRow


def contract_from_row(row: ContractRow, code: str, servers: list[str]) -> Contract:
    return Contract(
        row.number, code, row.kind, row.status, row.sku, row.server_count, row.start_date,
        row.end_date, row.term_months, row.monthly_rent, row.cabinet_fee, row.om_fee,
        row.fees_as_agent, row.deposit, row.prepayment, row.notice_days, row.auto_renew,
        row.early_termination_months, row.sla_uptime, row.vat_rate, row.fee_vat_rate,
        row.committed_gpus, row.gpu_hour_rate, row.min_commitment, row.terminated_on,
        row.termination_penalty, servers,
    )  # fmt: skip


def get_contract_row(s: Session, number: str, principal: Principal = SYSTEM) -> ContractRow:
    row = s.scalars(select(ContractRow).where(ContractRow.number == number)).one_or_none()
    if row is None or not principal.sees(row.customer_id):
        raise NotFoundError("contract.not_found", f"no contract {number!r}", {"contract": number})
    return row


def contract_view(s: Session, row: ContractRow) -> Contract:
    """``row`` with its customer code and the serials of its servers."""
    code = s.scalar(select(CustomerRow.code).where(CustomerRow.id == row.customer_id)) or ""
    serials = list(
        s.scalars(
            select(ServerRow.serial)
            .join(LeaseAllocationRow, LeaseAllocationRow.server_id == ServerRow.id)
            .where(LeaseAllocationRow.contract_id == row.id)
            .order_by(ServerRow.serial)
        )
    )
    return contract_from_row(row, code, serials)


def sla_event_view(s: Session, row: SlaEventRow) -> SlaEvent:
    number = s.scalar(select(ContractRow.number).where(ContractRow.id == row.contract_id)) or ""
    serial = s.scalar(select(ServerRow.serial).where(ServerRow.id == row.server_id)) or ""
    return SlaEvent(row.id, number, serial, row.down_from, row.down_until, row.reason)
