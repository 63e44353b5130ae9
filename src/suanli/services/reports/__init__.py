"""Disclosure reporting (issue 19).

- :mod:`.ledger` is the single writer of ``announcements``, ``announcement_orders``,
  ``fund_transfers``, ``report_archive`` and of the ``funding_source`` column of
  ``purchase_orders``.
- :mod:`.archive` holds the pure parts: canonical figure JSON, the inputs hash, and the list of
  differences that makes a later version a restatement.
"""
