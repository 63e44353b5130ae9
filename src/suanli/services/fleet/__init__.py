"""Fleet sub-domain: sites, cabinets, servers through their lifecycle, purchase orders and
deliveries, bulk imports, and SLA downtime read from the transition log.

Who writes what:

- :mod:`.servers` — single writer of ``sites``, ``cabinets``, ``servers.state``/``cabinet_id`` and
  ``server_transitions`` (every lifecycle change goes through ``transition_in``).
- :mod:`.procurement` — single writer of ``suppliers``, ``purchase_orders``,
  ``purchase_order_lines`` and ``deliveries``; registers delivered servers through :mod:`.servers`.
- :mod:`.imports` — all-or-nothing CSV/JSON-lines loads (the service); :mod:`.import_servers` and
  :mod:`.import_orders` bulk-insert the same rows the two writers above would write, validated
  with :mod:`.import_rows`' row parsers.
- :mod:`.downtime` — reads transitions; writes nothing.
"""
