"""Synthetic job traces fitted to Philly: for scale tests and for users without a trace.

Model (constants fitted on ``shared/data/philly/philly_jobs.csv``, 82,247 jobs; refit with
:func:`fit` — a dataset test checks the constants against the data):

* **GPUs per job** — Philly's empirical distribution (1 GPU: 93.2 %, 2: 2.2 %, 4: 2.3 %,
  8: 2.0 %, 16: 0.24 %, ... 128);
* **duration** — lognormal per GPU count (mean and standard deviation of ln seconds per size),
  capped at Philly's longest job (4,628,226 s);
* **arrivals** — a non-homogeneous Poisson process whose rate follows Philly's hour-of-day
  profile (24 relative weights, peak ≈ 2.1× the mean at 07:00); the mean rate is set so that
  the offered work is ``load`` × the cluster's GPU-seconds;
* **tenants** — ``tenants`` names with Zipf(1) weights; a ``spot_share`` of jobs is spot class;
  every job checkpoints every ``checkpoint`` seconds.

Pure: everything comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import FloatArray, IntArray, JobTable, PriorityClass

DAY = 86400.0
MAX_DURATION = 4_628_226.0


@dataclass(frozen=True)
class PhillyFit:
    sizes: tuple[int, ...]
    probs: tuple[float, ...]
    log_mean: tuple[float, ...]
    log_std: tuple[float, ...]
    hourly: tuple[float, ...]


PHILLY_FIT = PhillyFit(
    sizes=(1, 2, 4, 8, 12, 16, 24, 32, 64, 128),
    probs=(0.93167, 0.0221, 0.02274, 0.01998, 9e-05, 0.00242, 9e-05, 0.00081, 7e-05, 4e-05),
    log_mean=(6.719, 4.522, 9.106, 9.654, 6.792, 9.27, 6.829, 8.827, 5.703, 6.234),
    log_std=(1.972, 3.268, 2.781, 2.791, 0.82, 3.345, 2.239, 2.468, 3.73, 3.436),
    hourly=(
        1.274, 0.985, 1.119, 1.103, 0.7, 1.153, 1.673, 2.089, 1.109, 1.006, 1.024, 0.869,
        0.749, 0.705, 0.638, 0.649, 0.882, 0.668, 0.801, 0.728, 1.016, 0.917, 1.134, 1.01,
    ),
)  # fmt: skip


def fit(
    submit: FloatArray, duration: FloatArray, gpus: IntArray, day_offset: float = 0.0
) -> PhillyFit:
    """Fit the model to a trace (``submit`` seconds; ``day_offset`` = seconds past midnight of
    the first submit, so hours of day line up)."""
    sizes, counts = np.unique(gpus, return_counts=True)
    logs = np.log(np.maximum(duration, 1.0))
    hours = (((submit + day_offset) % DAY) // 3600).astype(np.int64)
    hist = np.bincount(hours, minlength=24).astype(np.float64)
    return PhillyFit(
        sizes=tuple(int(s) for s in sizes),
        probs=tuple(float(c) / gpus.shape[0] for c in counts),
        log_mean=tuple(float(logs[gpus == s].mean()) for s in sizes),
        log_std=tuple(float(logs[gpus == s].std()) for s in sizes),
        hourly=tuple(float(x) for x in hist / hist.mean()),
    )


def generate(
    n_jobs: int,
    total_gpus: int,
    rng: np.random.Generator,
    *,
    load: float = 0.8,
    tenants: int = 10,
    spot_share: float = 0.0,
    checkpoint: float = 1800.0,
    max_gpus: int | None = None,
    model: PhillyFit = PHILLY_FIT,
) -> JobTable:
    """``n_jobs`` jobs whose offered work is ``load`` × ``total_gpus`` GPU-seconds per second."""
    if n_jobs < 1:
        raise ValidationError("synthetic.invalid", "need at least one job", {"n_jobs": ">= 1"})
    if not load > 0:
        raise ValidationError("synthetic.invalid", "load must be > 0", {"load": "> 0"})
    if tenants < 1:
        raise ValidationError("synthetic.invalid", "need at least one tenant", {"tenants": ">= 1"})
    sizes = np.array(model.sizes, dtype=np.int64)
    probs = np.array(model.probs, dtype=np.float64)
    if max_gpus is not None:
        probs = np.where(sizes <= max_gpus, probs, 0.0)
    probs /= probs.sum()
    kind = rng.choice(sizes.shape[0], size=n_jobs, p=probs)
    gpus = sizes[kind]
    mu = np.array(model.log_mean)[kind]
    sd = np.array(model.log_std)[kind]
    duration = np.minimum(np.maximum(np.rint(np.exp(rng.normal(mu, sd))), 1.0), MAX_DURATION)
    rate = load * total_gpus / float(np.dot(gpus.astype(np.float64), duration) / n_jobs)
    submit = _diurnal_arrivals(n_jobs, rate, np.array(model.hourly), rng)
    weights = 1.0 / np.arange(1, tenants + 1)
    tenant_idx = rng.choice(tenants, size=n_jobs, p=weights / weights.sum())
    names = np.array([f"tenant-{i:02d}" for i in range(tenants)])
    pclass = np.where(
        rng.random(n_jobs) < spot_share, int(PriorityClass.SPOT), int(PriorityClass.RESERVED)
    )
    return JobTable.build(
        submit,
        duration,
        gpus,
        tenant=names[tenant_idx].tolist(),
        pclass=pclass,
        checkpoint=np.full(n_jobs, checkpoint if checkpoint > 0 else math.inf),
    )


def _diurnal_arrivals(
    n: int, rate: float, hourly: FloatArray, rng: np.random.Generator
) -> FloatArray:
    """Time-rescaled Poisson process with mean ``rate`` per second and an hourly profile."""
    profile = hourly / hourly.mean()
    unit = np.cumsum(rng.exponential(1.0, n))  # arrival epochs of a unit-rate process
    hours = math.ceil(float(unit[-1]) / (rate * 3600.0) / float(profile.min())) + 24
    per_hour = rate * 3600.0 * np.resize(profile, hours)
    cum = np.r_[0.0, np.cumsum(per_hour)]
    grid = np.arange(hours + 1, dtype=np.float64) * 3600.0
    return np.interp(unit, cum, grid)
