"""The demo center's customers, contracts, cloud usage, invoices and payments (issue 6 services).

Part of the story told in :mod:`suanli.services.demo.center` (which runs these steps in date order):

- eight bare-metal customers, each with a lease of its own term and rent and a deposit of one
  month's rent; three leases end within 60 days of the demo's today (Lingxi Media on 11-01,
  Kestrel Robotics on 11-20, Zhipu Research on 12-15); Moonstone AI renewed for 12 months;
- two cloud customers (Pixel Forge, Dawn NLP) and Zhipu Research run jobs on the 8-server H800
  cloud pool in September and October (the job simulator on a synthetic trace:
  :mod:`suanli.services.demo.usage`), metered at the list prices below (September's usage is
  billed by the October run, October's is recognised but not yet billed);
- an invoice run on the 1st of every month for the month before (April to October);
- payments: each customer pays its open invoices a fixed number of days after each run;
  Tsinghua Lab 7 pays late (61–90 days), Hefei Auto Vision stopped paying after July's run
  (receivables older than 90 days); on 2025-09-30 finance wrote off half of its July invoice
  (:data:`WRITE_OFF`), so the Q3 operating report shows a write-off and the allowance movement;
  on 2025-10-20 the administrator paid a first dividend of 9,000.00 and finance recorded it as
  a recovery of that write-off (:data:`RECOVERY`), so October's report shows a recovery;
- Zhipu Research's server ``H8A001`` failed on 2025-09-30 16:48 and is still down: the
  September invoice carries the SLA credit (7 h 12 min down, beyond the 99.5 % uptime allowance).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from suanli.core.billing import month_of
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.container import Services
from suanli.services.demo.usage import pool_run, pool_usage
from suanli.services.fleet.servers import ServerFilter

ACTOR = "demo"
Action = Callable[[Services], object]
At = Callable[[datetime, Action], None]


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    code: str
    name: str
    gpu: str  # H800 | A800 | H20
    servers: int
    start: date
    term_months: int
    rent: Decimal  # per server-month, VAT included
    pays_after_days: int
    pays_until: date | None = None  # stops paying for runs after this day
    cabinet_fee: Decimal = Decimal(0)


CUSTOMERS = (
    DemoCustomer("zhipu", "Zhipu Research", "H800", 5, date(2025, 3, 15), 9, Decimal(95000), 25),
    DemoCustomer("moonstone", "Moonstone AI", "H800", 4, date(2025, 4, 8), 6, Decimal(90000), 30),
    DemoCustomer("tsinghua", "Tsinghua Lab 7", "A800", 3, date(2025, 4, 20), 24, Decimal(48000), 75),
    DemoCustomer("hefei", "Hefei Auto Vision", "A800", 2, date(2025, 5, 5), 12, Decimal(45000), 30, date(2025, 7, 31)),
    DemoCustomer("kestrel", "Kestrel Robotics", "H800", 2, date(2025, 5, 20), 6, Decimal(85000), 35, cabinet_fee=Decimal(4000)),
    DemoCustomer("jade", "Jade Finance", "H20", 2, date(2025, 7, 20), 36, Decimal(32000), 20),
    DemoCustomer("lingxi", "Lingxi Media", "H800", 1, date(2025, 8, 1), 3, Decimal(80000), 30),
    DemoCustomer("bamboo", "Bamboo Bio", "H20", 1, date(2025, 9, 1), 12, Decimal(30000), 30),
)  # fmt: skip
CLOUD_CUSTOMERS = (("pixel", "Pixel Forge"), ("dawn", "Dawn NLP"))
RENEWAL = ("moonstone", date(2025, 9, 20), 12)
#: (customer, invoiced period, effective date, amount, reason)
WRITE_OFF = ("hefei", "2025-07", date(2025, 9, 30), "45000.00",
             "settlement with the insolvency administrator: half of July's rent waived")  # fmt: skip
#: (customer, effective date, amount, reason): part of :data:`WRITE_OFF` recovered, paid that day
RECOVERY = ("hefei", date(2025, 10, 20), "9000.00",
            "insolvency administrator's first dividend: 20 % of the amount written off")  # fmt: skip
#: On-demand list prices of the cloud pool, CNY per GPU-hour (VAT 6 % on top).
PRICES = (("standard", "12.50"), ("high", "25.00"), ("spot", "6.25"))
FAILED_SERIAL_CUSTOMER = "zhipu"
#: 7 h 12 min of September: beyond the 99.5 % allowance (3 h 36 min), credit 950.00 exactly.
FAILED_ON = datetime(2025, 9, 30, 16, 48, tzinfo=UTC)
RUNS = tuple(date(2025, m, 1) for m in range(4, 11))  # invoice runs, for the month before
USAGE_MONTHS = (date(2025, 9, 1), date(2025, 10, 1))
USAGE_CUT = datetime(2025, 10, 31, 5, 0, tzinfo=UTC)  # October's usage, ingested before today


def _day(d: date, hour: int) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)


def _sku(gpu: str) -> str:
    return f"HGX-{gpu}-8"


def setup(svc: Services) -> None:
    """Users, customers and prices (before the story's first date)."""
    t = svc.money.tenancy
    t.bootstrap("admin")
    t.create_user("ops", "operator")
    t.create_user("finance", "finance")
    for c in CUSTOMERS:
        t.create_customer(c.code, c.name, f"billing@{c.code}.example", 30)
        t.create_user(f"{c.code}-portal", "customer", c.code)
    for code, name in CLOUD_CUSTOMERS:
        t.create_customer(code, name, f"billing@{code}.example", 30)
        t.create_user(f"{code}-portal", "customer", code)
    for klass, price in PRICES:
        svc.money.metering.set_price("HGX-H800-8", klass, price, date(2025, 1, 1))


def story(at: At) -> None:
    """Dated steps: leases, deposits, the renewal, the failure, usage, runs and payments."""
    for c in CUSTOMERS:
        at(_day(c.start, 10), _lease(c))
        at(_day(c.start, 11), _pay(c.code, c.rent * c.servers, "deposit", c.start))
    at(_day(RENEWAL[1], 10), _renew(*RENEWAL))
    at(_day(WRITE_OFF[2], 17), _write_off)
    at(_day(RECOVERY[1], 15), _recover)
    at(_day(RECOVERY[1], 16), _pay(RECOVERY[0], Decimal(RECOVERY[2]), "payment", RECOVERY[1]))
    at(FAILED_ON, _fail)
    at(_day(date(2025, 10, 1), 5), _ingest_usage(USAGE_MONTHS[0], None))
    at(USAGE_CUT, _ingest_usage(USAGE_MONTHS[1], USAGE_CUT))
    for run in RUNS:
        at(_day(run, 6), _run(run))
        for c in CUSTOMERS:
            if c.pays_until is None or run <= c.pays_until:
                at(_day(run + timedelta(days=c.pays_after_days), 15), _settle(c.code, run))
        for code, _ in CLOUD_CUSTOMERS:
            at(_day(run + timedelta(days=15), 15), _settle(code, run))


def _lease(c: DemoCustomer) -> Action:
    def lease(s: Services) -> object:
        spec = LeaseSpec(
            customer=c.code, sku=_sku(c.gpu), monthly_rent=c.rent, start=c.start,
            term_months=c.term_months, count=c.servers, cabinet_fee=c.cabinet_fee,
            deposit=c.rent * c.servers, notice_days=30, auto_renew=c.code == RENEWAL[0],
        )  # fmt: skip
        return s.money.leasing.create_lease(spec, ACTOR)

    return lease


def _contract_of(s: Services, code: str) -> str:
    return s.money.leasing.list_contracts(customer=code, kind="lease", limit=1).items[0].number


def _renew(code: str, on: date, months: int) -> Action:
    return lambda s: s.money.leasing.renew(_contract_of(s, code), months, ACTOR, on)


def _write_off(s: Services) -> object:
    code, period, on, amount, reason = WRITE_OFF
    invoice = s.money.ledger.list_invoices(customer=code, period=period, kind="invoice").items[0]
    return s.money.writeoffs.write_off(invoice.number, on, reason, ACTOR, amount)


def _recover(s: Services) -> object:
    code, on, amount, reason = RECOVERY
    ref = s.money.writeoffs.list_write_offs(customer=code)[0].ref
    return s.money.writeoffs.recover(ref, on, reason, ACTOR, amount)


def _fail(s: Services) -> object:
    contract = s.money.leasing.get_contract(_contract_of(s, FAILED_SERIAL_CUSTOMER))
    serial = contract.servers[0]
    return s.money.leasing.server_failed(
        serial, ACTOR, "GPU 3 fell off the bus (Xid 79); SLA incident"
    )


def _pay(code: str, amount: Decimal, kind: str, on: date) -> Action:
    return lambda s: s.money.ledger.record_payment(code, amount, on, kind, f"demo {kind}")


def _settle(code: str, run: date) -> Action:
    """Pay what the customer owes on invoices issued on or before ``run``."""

    def settle(s: Services) -> object:
        today = s.clock.now().date()
        invoices = s.money.ledger.list_invoices(customer=code, unpaid=True, limit=500).items
        owed = sum((i.outstanding for i in invoices if i.issue_date <= run), Decimal(0))
        if owed <= 0:
            return None
        return s.money.ledger.record_payment(code, owed, today, "payment", f"bank transfer {today}")

    return settle


def _run(run: date) -> Action:
    return lambda s: s.money.billing.run(month_of(run - timedelta(days=1)))


POOL_CUSTOMERS = [code for code, _ in CLOUD_CUSTOMERS] + [FAILED_SERIAL_CUSTOMER]


def usage_seed(month: date) -> int:
    return 2025 + month.month


def _ingest_usage(month: date, until: datetime | None) -> Action:
    def ingest(s: Services) -> object:
        records = pool_usage(
            month_of(month), _pool_gpus(s), POOL_CUSTOMERS, usage_seed(month), until
        )
        return s.money.metering.ingest(records)

    return ingest


def pool_simulation(month: date = USAGE_MONTHS[0], pool_gpus: int = 64) -> dict[str, Any]:
    """The job-simulator run behind a month of the pool's usage (for the Simulation page)."""
    return pool_run(month_of(month), pool_gpus, len(POOL_CUSTOMERS), usage_seed(month))


def _pool_gpus(s: Services) -> int:
    pool = s.fleet.list_servers(ServerFilter(state=ServerState.CLOUD_POOL), limit=500).items
    return sum(server.gpu_count for server in pool)
