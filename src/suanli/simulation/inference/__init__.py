"""Request-level LLM inference simulator (pure, numpy, seeded).

Owns: workloads (:mod:`.workload`: Azure 2023 replay, synthetic Poisson / bursty arrivals with
token lengths fitted to the trace), the event-driven serving engine (:mod:`.engine`: continuous
batching per replica, least-outstanding-tokens router, prefix cache, autoscaler with cold
start) and its metrics (:mod:`.metrics`: TTFT/TPOT percentiles, SLO attainment, goodput,
GPU-hours, cost per million tokens). Reading the trace CSV is the only I/O.
"""
