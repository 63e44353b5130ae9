"""User traces (CSV, sacct), cluster files and the synthetic generator."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from suanli.core.errors import NotFoundError, ValidationError
from suanli.scheduling.jobs.model import JobKind, PriorityClass
from suanli.simulation.traces.synthetic import PHILLY_FIT, fit, generate
from suanli.simulation.traces.usertrace import load_cluster_toml, load_jobs_csv


def test_job_csv_with_all_columns(tmp_path: Path) -> None:
    f = tmp_path / "jobs.csv"
    f.write_text(
        "submit,duration,gpus,tenant,priority,checkpoint,time_limit,kind,replicas,name\n"
        "2024-03-01T08:00:10,3600,16,acme,reserved,600,7200,training,,pretrain\n"
        "2024-03-01T08:00:00,86400,1,beta,spot,,,inference,3,chat\n"
    )
    jobs = load_jobs_csv(f)
    assert len(jobs) == 4  # three inference replicas + one training job
    assert jobs.submit.tolist() == [0, 0, 0, 10]  # sorted, origin at the first submit
    assert jobs.gpus.tolist() == [1, 1, 1, 16]
    assert jobs.kind.tolist() == [int(JobKind.INFERENCE)] * 3 + [int(JobKind.TRAINING)]
    assert jobs.pclass.tolist() == [int(PriorityClass.SPOT)] * 3 + [int(PriorityClass.RESERVED)]
    assert jobs.estimate[3] == 7200 and jobs.checkpoint[3] == 600
    assert math.isinf(jobs.checkpoint[0])
    assert [jobs.tenant_names[t] for t in jobs.tenant] == ["beta"] * 3 + ["acme"]


def test_sacct_output_is_read_as_is(tmp_path: Path) -> None:
    f = tmp_path / "sacct.txt"
    f.write_text(
        "JobID|Account|Submit|Elapsed|Timelimit|AllocTRES|QOS\n"
        "101|lab|2024-03-01T08:00:00|1-02:00:00|2-00:00:00|billing=64,cpu=64,gres/gpu=8,node=1|normal\n"
        "102|lab|2024-03-01T09:00:00|00:10:00|UNLIMITED|billing=4,cpu=4,node=1|normal\n"
        "103|ops|2024-03-01T10:00:00|05:00|01:00:00|cpu=8,gres/gpu=2,node=1|spot\n"
    )
    jobs = load_jobs_csv(f)
    assert len(jobs) == 2  # the CPU-only job is skipped
    assert jobs.duration.tolist() == [26 * 3600, 300]
    assert jobs.gpus.tolist() == [8, 2]
    assert jobs.estimate.tolist() == [48 * 3600, 3600]
    assert jobs.pclass.tolist() == [int(PriorityClass.RESERVED), int(PriorityClass.SPOT)]


def test_bad_traces_name_the_field(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("submit,gpus\n0,1\n")
    with pytest.raises(ValidationError) as err:
        load_jobs_csv(f)
    assert "duration" in err.value.fields
    f.write_text("submit,duration,gpus,priority\n0,10,1,urgent\n")
    with pytest.raises(ValidationError) as err:
        load_jobs_csv(f)
    assert err.value.fields == {"priority": "urgent"}
    f.write_text("submit,duration,gpus\n0,10,0\n")
    with pytest.raises(ValidationError) as err:
        load_jobs_csv(f)
    assert "gpus" in err.value.fields
    with pytest.raises(NotFoundError):
        load_jobs_csv(tmp_path / "missing.csv")


def test_cluster_toml_pools_and_leaves(tmp_path: Path) -> None:
    f = tmp_path / "cluster.toml"
    f.write_text(
        "[[pools]]\nnodes = 4\ngpus = 8\nnodes_per_leaf = 2\n"
        '[[pools]]\nnodes = 3\nsku = "HGX-H800-8"\n'
    )
    spec = load_cluster_toml(f)
    assert spec.nodes == 7 and spec.total_gpus == 56
    assert spec.node_leaf.tolist() == [0, 0, 1, 1, 2, 2, 2]
    f.write_text("[[pools]]\nnodes = 0\n")
    with pytest.raises(ValidationError) as err:
        load_cluster_toml(f)
    assert "nodes" in err.value.fields


def test_synthetic_trace_offers_the_requested_load_with_a_diurnal_profile() -> None:
    rng = np.random.default_rng(1)
    jobs = generate(200_000, 8 * 1000, rng, load=0.7, tenants=5)
    span = jobs.submit.max() - jobs.submit.min()
    offered = jobs.requested_gpu_seconds() / (span * 8000)
    assert offered == pytest.approx(0.7, rel=0.05)
    refit = fit(jobs.submit, jobs.duration, jobs.gpus)
    assert refit.probs[0] == pytest.approx(PHILLY_FIT.probs[0], abs=0.005)
    assert refit.log_mean[0] == pytest.approx(PHILLY_FIT.log_mean[0], abs=0.05)
    # 07:00 is Philly's busiest hour (≈2.1× the mean), 14:00 among the quietest (≈0.64×).
    assert refit.hourly[7] == pytest.approx(PHILLY_FIT.hourly[7], rel=0.1)
    assert refit.hourly[14] < 0.8 < 1.6 < refit.hourly[7]
    again = generate(200_000, 8 * 1000, np.random.default_rng(1), load=0.7, tenants=5)
    assert np.array_equal(again.submit, jobs.submit)  # seeded: same trace


def test_synthetic_rejects_bad_parameters() -> None:
    with pytest.raises(ValidationError):
        generate(0, 8, np.random.default_rng(0))
    with pytest.raises(ValidationError):
        generate(10, 8, np.random.default_rng(0), load=0)
