"""Billing sub-domain: contracts and allocations, metering, the invoice run, the ledger after
issue (credit notes, payments, aging, reconciliation), document numbers and idempotency keys.

Who writes what:

- :mod:`.leasing` — ``contracts``, ``lease_allocations``; :mod:`.sla` — ``sla_events`` (service
  delivery, inherited by the leasing service); :mod:`.contract_reads` — rows to values.
- :mod:`.metering` — ``prices``, ``usage_records``.
- :mod:`.invoicing` — ``invoices``, ``invoice_lines``, ``invoice_series`` (the invoice run).
- :mod:`.receivables` — ``payments`` and credit notes (``invoices`` rows of kind credit note).
- :mod:`.outstanding` — ``payment_allocations``: an invoice's balance and applying cash to it,
  inside the caller's session.
- :mod:`.credits` — ``credit_applications``: a customer credit balance applied to an invoice
  or refunded.
- :mod:`.numbering` — the next number of a series and the SQLite write lock.
- :mod:`.idempotency` — ``idempotency_keys``.
"""
