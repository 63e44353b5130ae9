"""Report sections *contracts*, *revenue* and *receivables*.

Revenue figures reuse the billing ledger's own rules (:meth:`BillingService.revenue` for what
was recognised, :meth:`LedgerService.reconcile` for billed, collected and the deferred and
unbilled balances), summed over the period's months, so the report can never disagree with the
invoices. Definitions of the figures this module adds:

- signed: contracts whose start date falls in the period; renewed: contracts with a renewal
  record (``contract_renewals``) dated in the period (agreed on that day, or the old end date
  for an automatic renewal); ended: contracts whose last day (end or termination) falls in it.
- a contract's end *as known at the end of the period*: a renewal agreed after the period
  does not count (its ``previous_end`` is used), nor does a termination agreed after it
  (``termination_agreed_on``); a closed period's book is not restated by either.
- remaining performance obligations (CAS 14 / IFRS 15): for every contract still running at
  the end, the fixed consideration not yet earned after the end, net of VAT, by calendar year:
  leases ``(rent + fees unless billed as agent) × servers``, prorated by day within each month;
  reserved capacity its minimum commitment ``GPUs × 24 × days × minimum × rate``.
- by product (:mod:`suanli.services.reports.products`): credit notes are counted under the
  product of the line they credit (billed and recognised), and cash applied to invoices in the
  period is split over each invoice's lines pro rata to their gross left after credit notes;
  ``collected`` is all cash received (payments and prepayments), applied or not.
- concentration: each customer's share of revenue recognised in the period; flagged when the
  largest customer has :data:`TOP1_LIMIT` or more, or the five largest :data:`TOP5_LIMIT`.
- expected credit loss (CAS 22 / IFRS 9 simplified approach): open receivables at the last day
  by aging bucket times the operator's loss rate for the bucket, each bucket rounded to the
  cent. The allowance moves as opening (the same matrix on the day before the period) + charge
  for the period − amounts written off = closing; the charge is the balancing figure.
- write-offs: ``receivable_write_offs`` effective in the period (gross, with their reasons);
  recoveries: ``receivable_recoveries`` effective in the period, each reinstating part of a
  write-off; open receivables are net of write-offs and plus recoveries effective by the day
  they are measured, and the movement is opening + charge − written off + recovered = closing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.billing import AGING_BUCKETS, Period, aging_bucket, contract_days, month_of
from suanli.services.billing.invoicing import BillingService
from suanli.services.billing.outstanding import outstanding_by_invoice
from suanli.services.billing.receivables import LedgerService
from suanli.services.billing.writeoffs import recoveries_in, write_offs_in
from suanli.services.reports.model import Figure, Message, Section, Table, cents, pct, plain
from suanli.services.reports.period import ReportPeriod
from suanli.services.reports.products import (
    billed_by_product,
    collected_by_product,
    credits_by_product,
)
from suanli.store.models import (
    ContractRenewalRow,
    ContractRow,
    CustomerRow,
    InvoiceRow,
)

TOP1_LIMIT = Decimal(30)  # % of revenue
TOP5_LIMIT = Decimal(70)
PRODUCTS = ("rent", "fee", "usage", "tokens", "true_up", "penalty", "sla_credit", "credit_notes")
DEFAULT_ECL_RATES: Mapping[str, Decimal] = {
    "0-30": Decimal("0.01"), "31-60": Decimal("0.05"), "61-90": Decimal("0.20"),
    "90+": Decimal("0.50"),
}  # fmt: skip
ZERO = Decimal(0)


def _effective_end(c: ContractRow, later: Mapping[int, date], period_end: date) -> date:
    """The last day + 1 as known at the period's end: renewals and terminations agreed on or
    after it are left out."""
    end = later.get(c.id, c.end_date)
    agreed = c.termination_agreed_on
    if c.terminated_on and (agreed is None or agreed < period_end):
        return min(end, c.terminated_on)
    return end


def _renewals(s: Session, period: ReportPeriod) -> tuple[list[tuple[ContractRenewalRow, str]], dict[int, date]]:  # fmt: skip
    """Renewals dated in the period, and for each contract renewed on or after the period's end
    the end it had before the first such renewal."""
    rows = s.execute(
        select(ContractRenewalRow, ContractRow.number)
        .join(ContractRow, ContractRow.id == ContractRenewalRow.contract_id)
        .where(ContractRenewalRow.renewed_on < period.end)
        .order_by(ContractRenewalRow.renewed_on, ContractRenewalRow.id)
    ).all()
    later: dict[int, date] = {}
    for r in s.scalars(
        select(ContractRenewalRow)
        .where(ContractRenewalRow.renewed_on >= period.end)
        .order_by(ContractRenewalRow.renewed_on.desc(), ContractRenewalRow.id.desc())
    ):
        later[r.contract_id] = r.previous_end  # the earliest one wins (iterated last)
    return [(r, n) for r, n in rows if period.contains(r.renewed_on)], later


def contracts_section(s: Session, period: ReportPeriod) -> Section:
    rows = s.scalars(select(ContractRow).order_by(ContractRow.number)).all()
    renewals, later = _renewals(s, period)
    signed = [c for c in rows if period.contains(c.start_date)]
    ended = [c for c in rows if period.contains(_effective_end(c, later, period.end) - _ONE_DAY)]
    renewed_ids = {r.contract_id for r, _ in renewals}
    renewed = [c for c in rows if c.id in renewed_ids]
    rpo = remaining_obligations(rows, period, later)
    figures = (
        Figure("signed", str(len(signed)), "count"),
        Figure("signed_servers", str(sum(c.server_count for c in signed if c.kind == "lease")), "units"),
        Figure("signed_gpus_reserved", str(sum(c.committed_gpus for c in signed if c.kind == "reserved")), "GPUs"),
        Figure("renewed", str(len(renewed)), "count"),
        Figure("renewed_servers", str(sum(c.server_count for c in renewed)), "units"),
        Figure("renewed_months", str(sum(r.months for r, _ in renewals)), "months"),
        Figure("ended", str(len(ended)), "count"),
        Figure("active_at_end", str(sum(1 for c in rows if _running_after(c, period, later))), "count"),
        Figure("rpo_total", cents(sum(rpo.values(), ZERO)), "CNY"),
    )  # fmt: skip
    return Section(
        "contracts", figures,
        (Table("rpo_by_year", ("year", "amount"), tuple((str(y), cents(v)) for y, v in sorted(rpo.items()))),
         Table("renewals", ("renewal", "contract", "date", "months", "previous_end", "new_end", "automatic"), tuple(
             (f"RN-{r.id:06d}", number, r.renewed_on.isoformat(), str(r.months),
              r.previous_end.isoformat(), r.new_end.isoformat(), "yes" if r.automatic else "no")
             for r, number in renewals)),
         Table("ended", ("contract", "end", "status"), tuple(
             (c.number, (_effective_end(c, later, period.end) - _ONE_DAY).isoformat(), c.status) for c in ended))),
        notes=(Message("contracts.renewals"),),
    )  # fmt: skip


_ONE_DAY = date(2000, 1, 2) - date(2000, 1, 1)


def _running_after(c: ContractRow, period: ReportPeriod, later: Mapping[int, date]) -> bool:
    return c.start_date < period.end < _effective_end(c, later, period.end)


def leases_as_known(
    s: Session, period: ReportPeriod, sku: str
) -> list[tuple[ContractRow, date, tuple[date, ...]]]:
    """Leases of ``sku`` started before the period's end, each with its end (last day + 1) as
    known at the period's end and the ends its renewals agreed before then extended (their
    ``previous_end``); the digital-twin section seeds its book and its renewals from them."""
    _, later = _renewals(s, period)
    rows = s.scalars(
        select(ContractRow)
        .where(ContractRow.kind == "lease", ContractRow.sku == sku,
               ContractRow.start_date < period.end)
        .order_by(ContractRow.number)
    ).all()  # fmt: skip
    ends: dict[int, list[date]] = defaultdict(list)
    for r in s.scalars(
        select(ContractRenewalRow)
        .where(ContractRenewalRow.renewed_on < period.end)
        .order_by(ContractRenewalRow.previous_end, ContractRenewalRow.id)
    ):
        ends[r.contract_id].append(r.previous_end)
    return [(c, _effective_end(c, later, period.end), tuple(ends[c.id])) for c in rows]


def remaining_obligations(
    contracts: Sequence[ContractRow], period: ReportPeriod, later: Mapping[int, date]
) -> dict[int, Decimal]:
    """Unearned fixed consideration after the period, by calendar year, rounded per year."""
    exact: dict[int, Decimal] = defaultdict(Decimal)
    for c in contracts:
        if not _running_after(c, period, later):
            continue
        end = _effective_end(c, later, period.end)
        month = month_of(period.end)
        while month.start < end:
            days = contract_days(month, max(c.start_date, period.end), end)
            exact[month.start.year] += _month_obligation(c, month, days)
            month = month.next()
    return {y: v.quantize(Decimal("0.01")) for y, v in exact.items()}


def _month_obligation(c: ContractRow, month: Period, days: int) -> Decimal:
    if c.kind == "reserved":
        return Decimal(c.committed_gpus * 24 * days) * c.min_commitment * c.gpu_hour_rate
    monthly = c.monthly_rent + (ZERO if c.fees_as_agent else c.cabinet_fee + c.om_fee)
    return monthly * c.server_count * days / month.days


def revenue_section(
    s: Session, period: ReportPeriod, billing: BillingService, ledger: LedgerService
) -> Section:
    months = period.months()
    recs = [ledger.reconcile(m) for m in months]
    opening = ledger.reconcile(months[0].previous())
    recognised: dict[str, Decimal] = defaultdict(Decimal)
    for r in recs:
        for kind, amount in r.recognised_by_kind.items():
            recognised[kind] += amount
    billed = billed_by_product(s, period)  # credit notes under the products they credit
    for kind, net in credits_by_product(s, period).items():
        recognised[kind] += net
        recognised["credit_notes"] -= net
    if not recognised.get("credit_notes"):
        recognised.pop("credit_notes", None)
    collected = sum((r.collected_by_kind.get(k, ZERO) for r in recs for k in ("payment", "prepayment")), ZERO)  # fmt: skip
    total_billed = sum((r.billed_net for r in recs), ZERO)
    total_recognised = sum((r.recognised for r in recs), ZERO)
    closing = recs[-1]
    applied = collected_by_product(s, period)
    by_product = tuple(
        (k, cents(Decimal(billed.get(k, 0) or 0)), cents(recognised.get(k, ZERO)), cents(applied.get(k, ZERO)))
        for k in PRODUCTS if billed.get(k) or recognised.get(k) or applied.get(k)
    )  # fmt: skip
    gap = closing.cumulative_billed_net - closing.cumulative_recognised
    figures = (
        Figure("billed_net", cents(total_billed), "CNY"),
        Figure("billed_tax", cents(sum((r.billed_tax for r in recs), ZERO)), "CNY"),
        Figure("recognised", cents(total_recognised), "CNY"),
        Figure("collected", cents(collected), "CNY"),
        Figure("collected_applied", cents(sum(applied.values(), ZERO)), "CNY"),
        Figure("sla_credits", cents(recognised.get("sla_credit", ZERO)), "CNY"),
        Figure("deferred_opening", cents(opening.deferred_revenue_end), "CNY"),
        Figure("deferred_closing", cents(closing.deferred_revenue_end), "CNY"),
        Figure("deferred_movement", cents(closing.deferred_revenue_end - opening.deferred_revenue_end), "CNY"),
        Figure("unbilled_closing", cents(closing.unbilled_revenue_end), "CNY"),
        Figure("cumulative_billed_net", cents(closing.cumulative_billed_net), "CNY"),
        Figure("cumulative_recognised", cents(closing.cumulative_recognised), "CNY"),
        Figure("tie_out_difference", cents(gap), "CNY"),
    )  # fmt: skip
    concentration, flags = _concentration(s, months, billing, total_recognised)
    return Section("revenue", figures + concentration,
                   (Table("by_product", ("product", "billed_net", "recognised", "collected"), by_product),),
                   flags, notes=(Message("revenue.tie_out"),))  # fmt: skip


def _concentration(
    s: Session, months: list[Period], billing: BillingService, total: Decimal
) -> tuple[tuple[Figure, ...], tuple[Message, ...]]:
    by_customer: dict[str, Decimal] = defaultdict(Decimal)
    for cid, code in s.execute(select(CustomerRow.id, CustomerRow.code)).all():
        for m in months:
            by_customer[code] += sum(billing.revenue(m, cid).values(), ZERO)
    ranked = sorted(by_customer.items(), key=lambda kv: (-kv[1], kv[0]))
    top1 = ranked[0][1] if ranked else ZERO
    top5 = sum((v for _, v in ranked[:5]), ZERO)
    share1, share5 = pct(top1, total), pct(top5, total)
    figures = (
        Figure("top1_customer", ranked[0][0] if ranked and total else "-"),
        Figure("top1_share", share1, "%"),
        Figure("top5_share", share5, "%"),
    )
    flags: tuple[Message, ...] = ()
    if total > 0 and (Decimal(share1) >= TOP1_LIMIT or Decimal(share5) >= TOP5_LIMIT):
        flags = (Message("revenue.concentration", {"customer": ranked[0][0], "top1": share1,
                 "top5": share5, "top1_limit": str(TOP1_LIMIT), "top5_limit": str(TOP5_LIMIT)}),)  # fmt: skip
    return figures, flags


def open_receivables(s: Session, as_of: date) -> list[tuple[str, date, Decimal]]:
    """``(customer, issue date, amount owed)`` of every invoice open at the end of ``as_of``,
    as :func:`outstanding_by_invoice` counts it on that day (later cash, credit notes, credit
    applied, write-offs and recoveries do not change a closed period)."""
    invoices = s.execute(
        select(InvoiceRow.id, CustomerRow.code, InvoiceRow.issue_date)
        .join(CustomerRow, CustomerRow.id == InvoiceRow.customer_id)
        .where(InvoiceRow.kind == "invoice", InvoiceRow.issue_date <= as_of)
        .order_by(CustomerRow.code, InvoiceRow.issue_date, InvoiceRow.id)
    ).all()
    owed = outstanding_by_invoice(s, [i for i, _, _ in invoices], as_of)
    return [(code, issued, owed[i]) for i, code, issued in invoices if owed[i] > 0]


def _aging(s: Session, as_of: date) -> dict[str, dict[str, Decimal]]:
    by_customer: dict[str, dict[str, Decimal]] = {}
    for code, issued, owed in open_receivables(s, as_of):
        row = by_customer.setdefault(code, {b: ZERO for b in AGING_BUCKETS})
        row[aging_bucket(issued, as_of)] += owed
    return by_customer


def _allowance(by_customer: Mapping[str, Mapping[str, Decimal]], rates: Mapping[str, Decimal]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:  # fmt: skip
    """Open amounts and the allowance by bucket (each bucket rounded to the cent)."""
    buckets = {b: sum((row[b] for row in by_customer.values()), ZERO) for b in AGING_BUCKETS}
    return buckets, {b: (buckets[b] * rates[b]).quantize(Decimal("0.01")) for b in AGING_BUCKETS}


def _write_offs(s: Session, period: ReportPeriod) -> list[tuple[str, ...]]:
    return [(w.ref, w.invoice, w.customer, w.written_off_on.isoformat(), cents(w.amount), w.reason)
            for w in write_offs_in(s, None, period.start, period.end)]  # fmt: skip


def _recoveries(s: Session, period: ReportPeriod) -> list[tuple[str, ...]]:
    return [(r.ref, r.write_off, r.invoice, r.customer, r.recovered_on.isoformat(), cents(r.amount),
             r.reason) for r in recoveries_in(s, None, period.start, period.end)]  # fmt: skip


def receivables_section(s: Session, period: ReportPeriod, rates: Mapping[str, Decimal]) -> Section:
    by_customer = _aging(s, period.last_day)
    buckets, provision = _allowance(by_customer, rates)
    opening = sum(_allowance(_aging(s, period.start - _ONE_DAY), rates)[1].values(), ZERO)
    closing = sum(provision.values(), ZERO)
    write_offs = _write_offs(s, period)
    written = sum((Decimal(w[4]) for w in write_offs), ZERO)
    recoveries = _recoveries(s, period)
    recovered = sum((Decimal(r[5]) for r in recoveries), ZERO)
    total = sum(buckets.values(), ZERO)
    figures = (
        Figure("open_total", cents(total), "CNY"),
        Figure("ecl_provision", cents(closing), "CNY"),
        Figure("ecl_coverage", pct(closing, total), "%"),
        Figure("ecl_opening", cents(opening), "CNY"),
        Figure("ecl_charge", cents(closing - opening + written - recovered), "CNY"),
        Figure("write_offs", cents(written), "CNY"),
        Figure("write_offs_count", str(len(write_offs)), "count"),
        Figure("recoveries", cents(recovered), "CNY"),
        Figure("recoveries_count", str(len(recoveries)), "count"),
        Figure("write_offs_net", cents(written - recovered), "CNY"),
    )
    matrix = tuple(
        (b, cents(buckets[b]), plain(rates[b] * 100), cents(provision[b])) for b in AGING_BUCKETS
    )
    aging = tuple(
        (code, *(cents(row[b]) for b in AGING_BUCKETS)) for code, row in sorted(by_customer.items())
    )
    return Section("receivables", figures,
                   (Table("ecl_matrix", ("bucket", "open", "rate_pct", "provision"), matrix),
                    Table("aging", ("customer", *AGING_BUCKETS), aging),
                    Table("write_off_list", ("ref", "invoice", "customer", "date", "amount", "reason"),
                          tuple(write_offs)),
                    Table("recovery_list", ("ref", "write_off", "invoice", "customer", "date", "amount",
                                            "reason"), tuple(recoveries))),
                   notes=(Message("receivables.ecl_movement"),))  # fmt: skip
