"""The Slurm adapter against a fake runner: which commands it issues and how it reads answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from fake_runner import FakeRunner

from suanli.backends.base import (
    BackendError,
    EventKind,
    JobClass,
    JobSpec,
    JobState,
    Placement,
    Window,
)
from suanli.backends.slurm import SlurmBackend
from suanli.backends.slurm.parse import slurm_time
from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError

NOW = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)


def backend(runner: FakeRunner) -> SlurmBackend:
    return SlurmBackend(
        runner, SimClock(NOW), jobcomp_path="/x/jobcomp.txt", cluster="dev", accounting=False
    )


def test_gang_launch_submits_exact_nodes_and_gres(runner: FakeRunner) -> None:
    runner.on("sbatch", stdout="42\n")
    job = JobSpec(
        "train-1", "acme", "python train.py", 16, time_limit=timedelta(minutes=90, seconds=1)
    )
    backend(runner).launch(job, Placement(("gn3", "gn4"), 8))
    (sbatch,) = runner.called("sbatch")
    assert "--job-name=suanli:train-1:8" in sbatch
    assert {
        "--account=acme",
        "--nodes=2",
        "--nodelist=gn3,gn4",
        "--gres=gpu:8",
        "--requeue",
    } <= set(sbatch)
    assert "--time=91" in sbatch
    assert sbatch[-2:] == ("--wrap", "python train.py")


def test_launch_of_a_known_job_is_a_no_op(runner: FakeRunner) -> None:
    info = backend(runner).launch(JobSpec("gang-1", "acme", "x", 16), Placement(("gn1", "gn2"), 8))
    assert runner.called("sbatch") == [] and runner.called("scontrol", "update") == []
    assert (info.state, info.engine_id) == (JobState.RUNNING, "10")


def test_relaunching_a_requeued_job_moves_and_releases_it(runner: FakeRunner) -> None:
    runner.on("scontrol", "update").on("scontrol", "release")
    spot = JobSpec("spot-1", "beta", "x", 4, job_class=JobClass.SPOT)
    backend(runner).launch(spot, Placement(("gn2",), 4))
    assert runner.called("scontrol", "update") == [
        ("scontrol", "update", "jobid=11", "starttime=now", "reqnodelist=gn2")
    ]
    assert runner.called("scontrol", "release") == [("scontrol", "release", "11")]


def test_a_running_job_cannot_be_moved_and_shapes_must_match(runner: FakeRunner) -> None:
    b = backend(runner)
    with pytest.raises(ConflictError) as err:
        b.launch(JobSpec("gang-1", "acme", "x", 16), Placement(("gn3", "gn4"), 8))
    assert err.value.code == "backend.job_running"
    with pytest.raises(ConflictError) as err:
        b.launch(JobSpec("spot-1", "beta", "x", 8), Placement(("gn2",), 8))
    assert err.value.code == "backend.placement_change_unsupported"
    with pytest.raises(ValidationError):
        b.launch(JobSpec("new", "acme", "x", 9), Placement(("gn1", "gn2"), 4))
    assert runner.called("sbatch") == []


def test_requeue_holds_running_jobs_only(runner: FakeRunner) -> None:
    runner.on("scontrol", "requeuehold")
    b = backend(runner)
    b.requeue("gang-1")
    b.requeue("spot-1")  # already requeued
    b.requeue("smoke1")  # finished
    assert runner.called("scontrol", "requeuehold") == [("scontrol", "requeuehold", "10")]
    with pytest.raises(NotFoundError):
        b.requeue("nope")


def test_cancel_skips_finished_jobs(runner: FakeRunner) -> None:
    runner.on("scancel")
    b = backend(runner)
    b.cancel("smoke1")
    b.cancel("wait-1")
    assert runner.called("scancel") == [("scancel", "12")]


def test_reserve_creates_an_account_reservation_and_is_idempotent(runner: FakeRunner) -> None:
    b = backend(runner)
    existing = b.reservations()[0]
    again = b.reserve(["gn4"], "acme", existing.window, name="suanli-acme-lease1")
    assert again == existing and runner.called("scontrol", "create") == []
    runner.on("scontrol", "create", "reservation")
    later = Window(NOW + timedelta(days=2), NOW + timedelta(days=32))
    with pytest.raises(BackendError):  # created, but the fake's listing does not show it
        b.reserve(["gn1", "gn2"], "acme", later)
    (create,) = runner.called("scontrol", "create")
    assert "nodes=gn1,gn2" in create and "accounts=acme" in create
    start = later.start.astimezone().strftime("%Y-%m-%dT%H:%M:%S")
    assert f"starttime={start}" in create


def test_reserve_maps_slurm_refusals_to_coded_errors(runner: FakeRunner) -> None:
    w = Window(NOW, NOW + timedelta(days=30))
    runner.on(
        "scontrol",
        "create",
        rc=1,
        stderr="Error creating the reservation: Requested nodes are busy",
    )
    with pytest.raises(ConflictError) as err:
        backend(runner).reserve(["gn1"], "acme", w)
    assert err.value.code == "backend.nodes_busy"
    runner.on(
        "scontrol", "create", rc=1, stderr="Requested reservation overlaps with another reservation"
    )
    with pytest.raises(ConflictError) as err:
        backend(runner).reserve(["gn1"], "acme", w)
    assert err.value.code == "backend.reservation_conflict"


def test_release_of_an_unknown_reservation_is_fine(runner: FakeRunner) -> None:
    runner.on("scontrol", "delete", rc=1, stderr="Requested reservation is invalid")
    backend(runner).release("gone")
    runner.on("scontrol", "delete", rc=1, stderr="Unable to contact slurm controller")
    with pytest.raises(BackendError) as err:
        backend(runner).release("gone")
    assert err.value.code == "backend.unavailable"


def test_drain_and_resume_only_change_what_needs_changing(runner: FakeRunner) -> None:
    runner.on("scontrol", "update")
    b = backend(runner)
    b.drain("gn4", "again")  # already drained
    b.resume("gn1")  # not drained
    b.drain("gn1", "PSU")
    b.resume("gn4")
    assert runner.called("scontrol", "update") == [
        ("scontrol", "update", "nodename=gn1", "state=drain", "reason=PSU"),
        ("scontrol", "update", "nodename=gn4", "state=resume"),
    ]
    with pytest.raises(NotFoundError):
        b.drain("gn9", "x")


def test_events_are_the_differences_between_reads(
    runner: FakeRunner, recorded: dict[str, str]
) -> None:
    b = backend(runner)
    first = b.events()
    assert (EventKind.JOB_STARTED, "gang-1") in [(e.kind, e.subject) for e in first]
    assert b.events(first[-1].seq) == []
    sinfo = json.loads(recorded["sinfo"])
    sinfo["nodes"][0].update(state="down", state_flags=["NOT_RESPONDING"])
    squeue = json.loads(recorded["squeue"])
    gang = next(j for j in squeue["jobs"] if j["name"] == "suanli:gang-1:8")
    gang.update(job_state="PENDING", restart_cnt=1, state_reason="BeginTime")
    runner.on("sinfo", "--json", stdout=json.dumps(sinfo)).on(
        "squeue", "--json", stdout=json.dumps(squeue)
    )
    later = [(e.kind, e.subject) for e in b.events(first[-1].seq)]
    assert later == [(EventKind.NODE_DOWN, "gn1"), (EventKind.JOB_REQUEUED, "gang-1")]


def test_usage_reads_the_jobcomp_file_through_the_runner(runner: FakeRunner) -> None:
    b = backend(runner)
    assert b.usage() == b.usage()
    assert runner.called("cat") == [("cat", "/x/jobcomp.txt")] * 2
    missing = FakeRunner().on("cat", rc=1, stderr="cat: /x/jobcomp.txt: No such file or directory")
    assert backend(missing).usage() == []


def test_jobcomp_location_comes_from_the_config_when_not_given(runner: FakeRunner) -> None:
    runner.on(
        "scontrol",
        "show",
        "config",
        stdout="JobCompLoc              = /var/jc.txt\nJobCompType             = jobcomp/filetxt\n",
    )
    SlurmBackend(runner, SimClock(NOW)).usage()
    assert runner.called("cat") == [("cat", "/var/jc.txt")]


def test_sbatch_refusals_become_coded_errors(runner: FakeRunner) -> None:
    runner.on(
        "sbatch",
        rc=1,
        stderr="sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified",
    )
    with pytest.raises(ValidationError) as err:
        backend(runner).launch(JobSpec("n1", "ghost", "x", 8), Placement(("gn1",), 8))
    assert (err.value.code, err.value.fields) == ("backend.invalid_tenant", {"job.tenant": "ghost"})
    runner.on(
        "sbatch",
        rc=1,
        stderr="sbatch: error: Batch job submission failed: Access denied to requested reservation",
    )
    with pytest.raises(ConflictError) as cerr:
        backend(runner).launch(
            JobSpec("n2", "beta", "x", 8, reservation="lease-1"), Placement(("gn4",), 8)
        )
    assert cerr.value.code == "backend.reservation_denied"
    assert "--comment=suanli class=guaranteed" in runner.called("sbatch")[0]


def test_with_slurmdbd_tenants_become_accounts_once_and_usage_comes_from_sacct(
    runner: FakeRunner, recorded: dict[str, str]
) -> None:
    runner.on("sacctmgr", "-n", "-P", "list", stdout="").on(
        "sacctmgr", "-i", rc=1, stderr="Nothing new added."
    )
    runner.on("sbatch", stdout="50\n").on("sacct", stdout=recorded["sacct"])
    b = SlurmBackend(runner, SimClock(NOW), cluster="dev", accounting=True, user="ops")
    with pytest.raises(BackendError) as err:  # the fake never shows the association
        b.launch(JobSpec("n1", "newco", "x", 8), Placement(("gn1",), 8))
    assert err.value.code == "backend.command_failed"
    assert runner.called("sacctmgr", "-i") == [
        ("sacctmgr", "-i", "add", "account", "newco"),
        ("sacctmgr", "-i", "add", "user", "ops", "account=newco"),
    ]
    runner.on("sacctmgr", "-n", "-P", "list", stdout="newco\n")
    b.launch(JobSpec("n1", "newco", "x", 8), Placement(("gn1",), 8))
    b.launch(JobSpec("n2", "newco", "x", 8), Placement(("gn1",), 8))
    assert len(runner.called("sacctmgr", "-n")) == 3  # cached after the first success
    usage = b.usage()
    assert {(u.job_id, u.gpus, u.state) for u in usage} >= {
        ("g2", 16, JobState.COMPLETED),
        ("rq", 4, JobState.REQUEUED),
    }
    (sacct,) = runner.called("sacct")
    assert {"-X", "-D", "-a"} <= set(sacct)


def test_usage_since_a_watermark_asks_sacct_from_it_and_drops_older_runs(
    runner: FakeRunner, recorded: dict[str, str]
) -> None:
    runner.on("sacct", stdout=recorded["sacct"])
    b = SlurmBackend(runner, SimClock(NOW), cluster="dev", accounting=True, user="ops")
    every = b.usage()
    latest = max(u.end for u in every)
    since = b.usage(latest)
    assert since and all(u.end >= latest for u in since) and len(since) < len(every)
    first, second = runner.called("sacct")
    assert first[-1] != second[-1] and second[-1] == f"--starttime={slurm_time(latest)}"
