"""Gang-scheduled GPU jobs: types, queue policies, placement, preemption, backfill, the cycle.

Pure (no I/O, mypy-strict). The simulator (:mod:`suanli.simulation.jobsim`) and, later, the live
service drive :func:`~suanli.scheduling.jobs.cycle.schedule` and apply the plans it returns.
"""
