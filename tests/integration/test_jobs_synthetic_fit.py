"""The synthetic generator's constants are the fit of the Philly table (dataset)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from suanli.simulation.traces.synthetic import PHILLY_FIT, fit

pytestmark = pytest.mark.dataset


def test_constants_match_a_refit_of_philly(shared_dir: Path) -> None:
    with (shared_dir / "data" / "philly" / "philly_jobs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    stamps = np.array([r["timestamp"] for r in rows], dtype="datetime64[s]")
    first = stamps.min()
    submit = (stamps - first).astype(np.float64)
    day_offset = float((first - first.astype("datetime64[D]")).astype(np.int64))
    duration = np.array([float(r["duration"]) for r in rows])
    gpus = np.array([int(r["num_gpus"]) for r in rows])
    refit = fit(submit, duration, gpus, day_offset=day_offset)
    assert refit.sizes == PHILLY_FIT.sizes
    assert np.allclose(refit.probs, PHILLY_FIT.probs, atol=1e-5)
    assert np.allclose(refit.log_mean, PHILLY_FIT.log_mean, atol=1e-3)
    assert np.allclose(refit.log_std, PHILLY_FIT.log_std, atol=1e-3)
    assert np.allclose(refit.hourly, PHILLY_FIT.hourly, atol=1e-3)
