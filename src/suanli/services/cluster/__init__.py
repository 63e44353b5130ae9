"""Cluster sub-domain: the ledger ↔ cluster-engine wiring.

Who writes what:

- :mod:`.inventory` — ``cluster_nodes`` and the engine-side effects of ledger facts (leases as
  reservations, maintenance as drains, failures as SLA downtime through the fleet service).
- :mod:`.cloud_jobs` — ``cloud_jobs``: submission, admission (the live driver of
  :func:`suanli.scheduling.jobs.cycle.schedule`), launch, state and metering.
- :mod:`.control_loop` — writes nothing itself: the tick (reconcile → watch → requeue lost →
  schedule → meter) that survives errors of any one step.

Backend calls are never made inside a database transaction.
"""
