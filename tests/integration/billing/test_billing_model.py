"""Model-based test of the money path (issue 12), on SQLite and PostgreSQL.

A Hypothesis ``RuleBasedStateMachine`` drives the real services over simulated calendar time:
sign leases (some signed late, starting in a month already invoiced), terminate them, fail and
restore servers, ingest usage (late records and duplicates included), run invoices (plain and
supplementary) for closed months, issue credit notes, record payments and advance the clock.
A plain reference model computes each lease's rent, fee, SLA credit and penalty per month from
the contract terms and the service delivered. Checked:

- after a run, what is billed per contract and month equals the reference to the cent, for
  every customer the run invoiced (a supplementary run: every customer); recognised rent of the
  month equals the reference (never more than was delivered);
- each invoice's usage lines equal its billed records priced by month; a record is billed once;
- credits never exceed a line nor the invoice; outstanding balances are never below zero: a
  credit note beyond what is still owed records the excess as a ``credit_releases`` row (an
  overpayment, at most the cash applied, is the customer's credit balance shown in aging);
  invoice and credit note numbers have no gaps.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text

from suanli.core.billing import Period, month_of
from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError
from suanli.core.fleet import ServerState as S
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.billing.outstanding import applied_by_invoice, credit_balances
from suanli.services.container import build_services
from suanli.services.fleet.servers import NewServer
from suanli.store.base import Base
from suanli.store.db import make_engine, make_session_factory, transaction
from suanli.store.models import (
    ContractRow,
    CustomerRow,
    InvoiceLineRow,
    InvoiceRow,
    UsageRecordRow,
)

H800 = "HGX-H800-8"
PRICE = Decimal(15)
CENT = Decimal("0.01")
CUSTOMERS = ("acme", "beta")
SERVERS = 6
T0 = datetime(2024, 1, 1, 9, tzinfo=UTC)


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


def overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> int:
    return max(0, int((min(a1, b1) - max(a0, b0)).total_seconds()))


@dataclass
class RefLease:
    number: str
    customer: str
    serial: str
    rent: Decimal
    cabinet: Decimal
    start: date
    end: date
    terminated_on: date | None = None
    outages: list[list[datetime | None]] = field(default_factory=list)

    def billed_items(self, p: Period, now: datetime) -> dict[str, Decimal]:
        """The reference: what this lease owes for ``p`` by line kind (docs/billing.md rules)."""
        last = self.terminated_on or self.end
        days = max(0, (min(last, p.end) - max(self.start, p.start)).days)
        out: dict[str, Decimal] = {}
        if days:
            out["rent"] = cents(self.rent * days / p.days)
            if self.cabinet:
                out["fee"] = cents(self.cabinet * days / p.days)
        served_to = datetime(last.year, last.month, last.day, tzinfo=UTC)
        down = 0
        for start, until in self.outages:
            assert start is not None
            down += overlap(p.start_at, min(p.end_at, served_to), start, until or now)
        if Decimal(down) > Decimal("0.005") * p.seconds:
            out["sla_credit"] = cents(-(self.rent * down / p.seconds))
        if self.terminated_on and p.start <= self.terminated_on < p.end:
            out["penalty"] = cents(3 * self.rent)
        return out


class MoneyPath(RuleBasedStateMachine):
    source: str  # a migrated, empty database: a SQLite file copied per example, or PostgreSQL
    workdir: Path
    runs = 0

    def __init__(self) -> None:
        super().__init__()
        type(self).runs += 1
        if self.source.startswith("sqlite"):
            path = self.workdir / f"model-{self.runs}.db"
            shutil.copyfile(self.source.removeprefix("sqlite:///"), path)
            self.engine = make_engine(f"sqlite:///{path}")
        else:  # one database for all examples: emptied before each
            self.engine = make_engine(self.source)
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            with self.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        self.sessions = make_session_factory(self.engine)
        self.clock = SimClock(T0)
        self.svc = build_services(self.engine, self.clock, "CNY")
        self.leases: list[RefLease] = []
        self.free = [f"SN{i:02d}" for i in range(SERVERS)]
        self.down: dict[str, RefLease] = {}
        self.events: list[str] = []
        self.invoiced: set[tuple[str, str]] = set()

    def teardown(self) -> None:
        self.engine.dispose()

    @property
    def today(self) -> date:
        return self.clock.now().date()

    @initialize()
    def setup(self) -> None:
        fleet, m = self.svc.fleet, self.svc.money
        fleet.add_site("BJ1", "Beijing 1")
        fleet.add_cabinet("BJ1", "A01", "100000")
        for sn in self.free:
            fleet.add_server(NewServer(sn, H800, state=S.DELIVERED), actor="ops")
            fleet.transition(sn, S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
            fleet.transition(sn, S.AVAILABLE, "ops", "ok")
        for code in CUSTOMERS:
            m.tenancy.create_customer(code, code.title())
        m.metering.set_price(H800, "standard", str(PRICE), date(2024, 1, 1))

    # --- contracts and service ------------------------------------------------------------

    @precondition(lambda self: self.free)
    @rule(
        customer=st.sampled_from(CUSTOMERS),
        rent=st.sampled_from(["30000", "70000", "99999.99"]),
        cabinet=st.sampled_from(["0", "3000"]),
        back=st.integers(0, 45),
        months=st.integers(1, 3),
    )
    def sign_lease(self, customer: str, rent: str, cabinet: str, back: int, months: int) -> None:
        """Signed today, starting up to 45 days ago: often in a month already invoiced."""
        start = max(self.today - timedelta(days=back), date(2024, 1, 2))
        sn = self.free.pop(0)
        c = self.svc.money.leasing.create_lease(
            LeaseSpec(customer, H800, rent, start, months, serials=(sn,), cabinet_fee=cabinet),
            actor="sales",
        )
        self.leases.append(RefLease(c.number, customer, sn, Decimal(rent), Decimal(cabinet),
                                    start, c.end_date))  # fmt: skip

    def _serving(self) -> list[RefLease]:
        now = self.clock.now()
        return [
            lease
            for lease in self.leases
            if lease.serial not in self.down
            and datetime.combine(lease.start, datetime.min.time(), UTC) <= now
            and now < datetime.combine(lease.terminated_on or lease.end, datetime.min.time(), UTC)
        ]

    @precondition(lambda self: self._serving())
    @rule(pick=st.integers(0, 100))
    def fail(self, pick: int) -> None:
        serving = self._serving()
        lease = serving[pick % len(serving)]
        event = self.svc.money.leasing.server_failed(lease.serial, "noc", "Xid 79")
        lease.outages.append([event.down_from, None])
        self.down[lease.serial] = lease

    @precondition(lambda self: self.down)
    @rule(pick=st.integers(0, 100))
    def restore(self, pick: int) -> None:
        sn = sorted(self.down)[pick % len(self.down)]
        event = self.svc.money.leasing.server_restored(sn, "noc")
        self.down.pop(sn).outages[-1][1] = event.down_until

    @precondition(lambda self: self._terminable())
    @rule(pick=st.integers(0, 100), extra=st.integers(1, 40))
    def terminate(self, pick: int, extra: int) -> None:
        lease = self._terminable()[pick % len(self._terminable())]
        effective = self.today + timedelta(days=30 + extra)
        if not lease.start < effective < lease.end:
            return
        self.svc.money.leasing.terminate(lease.number, effective, "sales", "downsizing")
        lease.terminated_on = effective

    def _terminable(self) -> list[RefLease]:
        return [x for x in self.leases if x.terminated_on is None]

    @rule(
        customer=st.sampled_from(CUSTOMERS),
        back_hours=st.integers(0, 24 * 40),
        seconds=st.sampled_from(["3600", "1800.5", "7200.125"]),
        duplicate=st.booleans(),
    )
    def ingest(self, customer: str, back_hours: int, seconds: str, duplicate: bool) -> None:
        started = max(self.clock.now() - timedelta(hours=back_hours + 1), T0)
        event_id = (
            self.events[back_hours % len(self.events)]
            if duplicate and self.events
            else f"e{len(self.events)}"
        )
        record = dict(event_id=event_id, customer=customer, sku=H800, priority_class="standard",
                      job_id="j", started_at=started.isoformat(),
                      ended_at=(started + timedelta(hours=1)).isoformat(), gpu_seconds=seconds)  # fmt: skip
        result = self.svc.money.metering.ingest([record])
        assert not result.rejected
        if event_id not in self.events:
            assert result.accepted == 1
            self.events.append(event_id)
        else:
            assert result.duplicates == 1

    @rule(hours=st.sampled_from([24 * 9, 7, 30, 24 * 31]))
    def advance(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    # --- money ----------------------------------------------------------------------------

    @precondition(lambda self: self.today >= date(2024, 2, 1))
    @rule(back=st.integers(0, 2), supplementary=st.booleans())
    def run_invoices(self, back: int, supplementary: bool) -> None:
        p = month_of(self.today.replace(day=1) - timedelta(days=1))
        for _ in range(back):
            if p.start > date(2024, 1, 1):
                p = month_of(p.start - timedelta(days=1))
        before = self._billed(p)
        run = self.svc.money.billing.run(p, supplementary=supplementary)
        assert run.to_credit == []
        after = self._billed(p)
        now = self.clock.now()
        for lease in self.leases:
            invoiced_now = {c for c, _ in self.invoiced if _ == p.key}
            if supplementary or lease.customer not in invoiced_now:
                if lease.customer in run.skipped:
                    continue
                want = lease.billed_items(p, now)
                got = {k: v for (n, k), v in after.items() if n == lease.number and v}
                assert got == {k: v for k, v in want.items() if v}, (lease, p.key, got, want)
        for lease in self.leases:  # a plain rerun changes nothing for customers invoiced before
            if not supplementary and (lease.customer, p.key) in self.invoiced:
                mine = {k: v for k, v in after.items() if k[0] == lease.number}
                assert mine == {k: v for k, v in before.items() if k[0] == lease.number}
        with transaction(self.sessions) as s:
            for (code,) in s.execute(
                select(CustomerRow.code)
                .join(InvoiceRow, InvoiceRow.customer_id == CustomerRow.id)
                .where(InvoiceRow.period_key == p.key)
            ):
                self.invoiced.add((code, p.key))
        recognised = self.svc.money.billing.revenue(p).get("rent", Decimal(0))
        assert recognised == sum(
            (x.billed_items(p, now).get("rent", Decimal(0)) for x in self.leases), Decimal(0)
        )

    def _billed(self, p: Period) -> dict[tuple[str, str], Decimal]:
        out: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        with transaction(self.sessions) as s:
            rows = s.execute(
                select(ContractRow.number, InvoiceLineRow.kind, InvoiceLineRow.net)
                .join(InvoiceRow, InvoiceRow.id == InvoiceLineRow.invoice_id)
                .join(ContractRow, ContractRow.id == InvoiceLineRow.contract_id)
                .where(InvoiceRow.kind == "invoice", InvoiceRow.period_start == p.start)
            )
            for number, kind, net in rows:
                out[(number, kind)] += net
        return dict(out)

    def _invoices(self) -> list[str]:
        page = self.svc.money.ledger.list_invoices(kind="invoice", limit=500)
        return [i.number for i in page.items]

    @precondition(lambda self: self._invoices())
    @rule(pick=st.integers(0, 1000), share=st.sampled_from(["0.01", "0.5", "1", "over"]))
    def credit_note(self, pick: int, share: str) -> None:
        numbers = self._invoices()
        invoice = self.svc.money.ledger.get_invoice(numbers[pick % len(numbers)])
        positive = [ln for ln in invoice.lines if ln.net > 0]
        if not positive:
            return
        line = positive[pick % len(positive)]
        with transaction(self.sessions) as s:
            row_id = s.scalar(select(InvoiceRow.id).where(InvoiceRow.number == invoice.number))
            assert row_id is not None
            left = line.net - self.svc.money.ledger._credited_net_by_line(s, row_id)[line.line_no]
        if share == "over":  # more than the line has left: refused, nothing written
            with pytest.raises(ConflictError):
                self.svc.money.ledger.credit_note(
                    invoice.number, "check", {line.line_no: left + CENT}
                )
            return
        # Paid or not: what exceeds the amount still owed becomes a recorded customer credit.
        amount = cents(left * Decimal(share))
        if amount <= 0:
            return
        with transaction(self.sessions) as s:  # the invoice's gross not yet credited
            notes = s.scalar(
                select(func.coalesce(func.sum(InvoiceRow.gross), 0)).where(
                    InvoiceRow.credited_invoice_id == row_id
                )
            )
        invoice_left = invoice.gross + Decimal(notes or 0)
        note_gross = amount + cents(amount * line.vat_rate)
        try:
            self.svc.money.ledger.credit_note(invoice.number, "goodwill", {line.line_no: amount})
        except ConflictError as err:
            # within its line but beyond the invoice, whose SLA credit lines already took part
            # of the rent back: refused, or the customer would get back more than was billed
            # (a cent of slack for the ledger's own VAT rounding of the note)
            assert err.code == "credit_note.exceeds_invoice", err
            assert note_gross > invoice_left - CENT, (note_gross, invoice_left)
        else:
            assert note_gross <= invoice_left + CENT, (note_gross, invoice_left)

    @rule(customer=st.sampled_from(CUSTOMERS), amount=st.sampled_from(["100", "5000", "250000"]))
    def pay(self, customer: str, amount: str) -> None:
        self.svc.money.ledger.record_payment(customer, amount, self.today)

    @rule(customer=st.sampled_from(CUSTOMERS), refund=st.booleans(), share=st.sampled_from(["0.5", "1"]))  # fmt: skip
    def use_credit(self, customer: str, refund: bool, share: str) -> None:
        """Apply part or all of a credit balance to the oldest open invoice, or refund it."""
        credits, ledger = self.svc.money.credits, self.svc.money.ledger
        amount = cents(credits.balance(customer).balance * Decimal(share))
        if amount <= 0:
            return
        if refund:
            credits.refund(customer, self.today, "desk", amount)
            return
        open_ = ledger.list_invoices(customer=customer, unpaid=True, limit=500).items
        if open_:
            oldest = min(open_, key=lambda i: (i.issue_date, i.number))
            credits.apply(
                customer, oldest.number, self.today, "desk", min(amount, oldest.outstanding)
            )

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def balances_never_negative_and_credits_within_lines(self) -> None:
        ledger = self.svc.money.ledger
        for inv in ledger.list_invoices(kind="invoice", limit=500).items:
            assert inv.outstanding >= 0, inv
        with transaction(self.sessions) as s:
            for invoice in s.scalars(select(InvoiceRow).where(InvoiceRow.kind == "invoice")):
                credited = ledger._credited_net_by_line(s, invoice.id)
                for line in invoice.lines:
                    assert credited.get(line.line_no, Decimal(0)) <= max(line.net, Decimal(0))

    @invariant()
    def overpayments_are_recorded_and_credits_within_the_invoice(self) -> None:
        """A credit beyond what is owed is a release row, overpayments at most the cash applied;
        credit notes at most the invoice's gross; the aging credit column sums the releases."""
        with transaction(self.sessions) as s:
            for invoice in s.scalars(select(InvoiceRow).where(InvoiceRow.kind == "invoice")):
                notes = sum(s.scalars(select(InvoiceRow.gross).where(
                    InvoiceRow.credited_invoice_id == invoice.id)), Decimal(0))  # fmt: skip
                assert -notes <= invoice.gross
                paid, released = applied_by_invoice(s, invoice.id)
                assert released <= paid
            credit = credit_balances(s)
            assert all(a > 0 for a in credit.values()), credit  # never overdrawn
            codes = dict(s.execute(select(CustomerRow.id, CustomerRow.code)).all())
        aging = {r.customer: r.credit for r in self.svc.money.ledger.aging(date(2100, 1, 1))}
        assert {codes[i]: a for i, a in credit.items()} == {c: a for c, a in aging.items() if a}

    @invariant()
    def numbers_have_no_gaps(self) -> None:
        with transaction(self.sessions) as s:
            numbers = s.scalars(select(InvoiceRow.number)).all()
        series: dict[str, list[int]] = defaultdict(list)
        for n in numbers:
            head, _, seq = n.rpartition("-")
            series[head].append(int(seq))
        for seqs in series.values():
            assert sorted(seqs) == list(range(1, len(seqs) + 1))

    @invariant()
    def usage_is_billed_once_at_its_price(self) -> None:
        with transaction(self.sessions) as s:
            billed: dict[tuple[int | None, str], Decimal] = defaultdict(Decimal)
            for invoice_id, started, seconds in s.execute(
                select(UsageRecordRow.invoice_id, UsageRecordRow.started_at,
                       UsageRecordRow.gpu_seconds).where(UsageRecordRow.invoice_id.is_not(None))
            ):  # fmt: skip
                billed[(invoice_id, f"{started:%Y-%m}")] += seconds
            lines: dict[int, Decimal] = defaultdict(Decimal)
            for invoice_id, net in s.execute(
                select(InvoiceLineRow.invoice_id, InvoiceLineRow.net).where(
                    InvoiceLineRow.kind == "usage"
                )
            ):
                lines[invoice_id] += net
        want: dict[int | None, Decimal] = defaultdict(Decimal)
        for (invoice_id, _), seconds in billed.items():
            want[invoice_id] += cents(seconds * PRICE / 3600)
        assert dict(lines) == dict(want)


# 30 examples x 40 steps take about 240 s on PostgreSQL at load 4: the suite's 300 s hang guard
# would cut a slow but healthy run, so this test gets its own.
@pytest.mark.timeout(900)
def test_money_path_state_machine(db_url: str, tmp_path: Path) -> None:
    MoneyPath.source, MoneyPath.workdir = db_url, tmp_path
    run_state_machine_as_test(
        MoneyPath,
        settings=settings(
            max_examples=30,
            stateful_step_count=40,
            deadline=None,
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
