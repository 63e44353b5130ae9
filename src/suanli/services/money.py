"""The leasing-and-billing service bundle (issue 6), built beside the fleet services."""

from __future__ import annotations

from dataclasses import dataclass

from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.services.billing.credits import CreditService
from suanli.services.billing.idempotency import IdempotencyService
from suanli.services.billing.invoicing import BillingService
from suanli.services.billing.leasing import LeasingService
from suanli.services.billing.metering import MeteringService
from suanli.services.billing.receivables import LedgerService
from suanli.services.billing.tokens import TokenMeteringService
from suanli.services.billing.writeoffs import WriteOffService
from suanli.services.tenancy import TenancyService
from suanli.store.db import SessionFactory


@dataclass(frozen=True)
class MoneyServices:
    tenancy: TenancyService
    leasing: LeasingService
    metering: MeteringService
    billing: BillingService
    ledger: LedgerService
    idempotency: IdempotencyService
    writeoffs: WriteOffService
    credits: CreditService
    tokens: TokenMeteringService


def build_money_services(
    sessions: SessionFactory, clock: Clock, catalog: Catalog, currency: str
) -> MoneyServices:
    billing = BillingService(sessions, clock, currency)
    return MoneyServices(
        tenancy=TenancyService(sessions, clock),
        leasing=LeasingService(sessions, clock, catalog),
        metering=MeteringService(sessions, clock, catalog),
        billing=billing,
        ledger=LedgerService(sessions, clock, billing),
        idempotency=IdempotencyService(sessions, clock),
        writeoffs=WriteOffService(sessions, clock),
        credits=CreditService(sessions, clock),
        tokens=TokenMeteringService(sessions, clock),
    )
