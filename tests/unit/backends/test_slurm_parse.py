"""Parsing of Slurm 22.05 output recorded on the dev cluster (tests/unit/backends/data)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from suanli.backends.base import BackendError, JobState, NodeState
from suanli.backends.slurm.parse import (
    expand_hostlist,
    job_name,
    parse_job_name,
    parse_jobcomp,
    parse_jobs,
    parse_nodes,
    parse_reservations,
    parse_sacct,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gn1", ("gn1",)),
        ("gn[1-2]", ("gn1", "gn2")),
        ("gn[1-2,4],x5", ("gn1", "gn2", "gn4", "x5")),
        ("node[08-10]", ("node08", "node09", "node10")),
        ("a[1-2]b,c", ("a1b", "a2b", "c")),
        ("", ()),
        ("(null)", ()),
    ],
)
def test_expand_hostlist(text: str, expected: tuple[str, ...]) -> None:
    assert expand_hostlist(text) == expected


def test_job_names_round_trip_and_foreign_names_are_ignored() -> None:
    assert parse_job_name(job_name("train-7.a", 4)) == ("train-7.a", 4)
    for foreign in ("other-user-job", "suanli:f1", "suanli:s1:g4", "suanli::8"):
        assert parse_job_name(foreign) is None


def test_nodes_from_sinfo_json(recorded: dict[str, str]) -> None:
    nodes = {n.name: n for n in parse_nodes(recorded["sinfo"])}
    assert {n.gpus for n in nodes.values()} == {8}
    assert {n.gpu_type for n in nodes.values()} == {"h800"}
    assert (nodes["gn1"].gpus_allocated, nodes["gn1"].state) == (8, NodeState.ALLOCATED)
    assert (nodes["gn3"].gpus_allocated, nodes["gn3"].state) == (2, NodeState.MIXED)
    assert (nodes["gn4"].state, nodes["gn4"].reason, nodes["gn4"].gpus_free) == (
        NodeState.DRAINED,
        "fan replacement",
        0,
    )


def test_a_node_that_stopped_responding_is_down(recorded: dict[str, str]) -> None:
    doc = json.loads(recorded["sinfo"])
    doc["nodes"][0].update(state="down", state_flags=["NOT_RESPONDING"], reason="Not responding")
    node = parse_nodes(json.dumps(doc))[0]
    assert (node.state, node.gpus_free, node.reason) == (NodeState.DOWN, 0, "Not responding")


def test_errors_in_the_json_document_raise(recorded: dict[str, str]) -> None:
    doc = json.loads(recorded["sinfo"])
    doc["errors"] = [{"error": "Unable to contact slurm controller"}]
    with pytest.raises(BackendError):
        parse_nodes(json.dumps(doc))
    with pytest.raises(BackendError) as err:
        parse_nodes("sinfo: error: not json")
    assert err.value.code == "backend.bad_output"


def test_jobs_from_squeue_json(recorded: dict[str, str]) -> None:
    jobs = parse_jobs(recorded["squeue"])
    assert "other-user-job" not in {j.job_id for j in jobs.values()}
    gang, spot, waiting = jobs["gang-1"], jobs["spot-1"], jobs["wait-1"]
    assert (gang.state, gang.nodes, gang.gpus_per_node, gang.tenant) == (
        JobState.RUNNING,
        ("gn1", "gn2"),
        8,
        "acme",
    )
    assert gang.started_at is not None and gang.ended_at is None
    assert (spot.state, spot.restarts, spot.placement_nodes, spot.started_at) == (
        JobState.REQUEUED,
        1,
        ("gn3",),
        None,
    )
    assert (waiting.state, waiting.reason) == (JobState.PENDING, "Resources")
    assert jobs["smoke1"].state is JobState.COMPLETED and jobs["smoke1"].ended_at is not None


def test_reservations_from_scontrol(recorded: dict[str, str]) -> None:
    (r,) = parse_reservations(recorded["reservations"])
    assert (r.name, r.nodes, r.tenant) == ("suanli-acme-lease1", ("gn4",), "acme")
    assert r.window.start.tzinfo is UTC
    assert (r.window.end - r.window.start).total_seconds() == 3600
    assert parse_reservations("No reservations in the system\n") == []


def test_usage_from_jobcomp_one_record_per_run_of_our_jobs(recorded: dict[str, str]) -> None:
    records = parse_jobcomp(recorded["jobcomp"], "dev")
    assert {r.job_id.rsplit("-", 1)[0] for r in records} == {"gang", "spot", "victim"}
    gang = next(r for r in records if r.job_id.startswith("gang"))
    assert (gang.gpus, gang.nodes, gang.state, gang.tenant) == (
        16,
        ("gn1", "gn2"),
        JobState.COMPLETED,
        "acme",
    )
    assert gang.gpu_seconds == 16 * int((gang.end - gang.start).total_seconds())
    assert gang.start == datetime.fromisoformat("2026-11-26T06:01:52").astimezone(UTC)  # local time
    states = sorted((r.job_id.split("-")[0], r.state.value) for r in records)
    assert ("spot", "requeued") in states and ("victim", "failed") in states
    assert len({r.usage_id for r in records}) == len(records)
    assert parse_jobcomp(recorded["jobcomp"] * 2, "dev") == records  # duplicates collapse


def test_usage_from_sacct_has_exact_gpus_and_one_record_per_run(recorded: dict[str, str]) -> None:
    records = parse_sacct(recorded["sacct"], "dev")
    runs = sorted((r.job_id, r.state.value, r.gpus, r.nodes) for r in records)
    assert runs == [
        ("a1", "completed", 8, ("gn2",)),
        ("g2", "completed", 16, ("gn1", "gn2")),
        ("rq", "cancelled", 4, ("gn1",)),
        ("rq", "requeued", 4, ("gn1",)),
    ]  # the never-started job 2 has no record
    assert all(r.usage_id.startswith("dev:") and r.end >= r.start for r in records)
