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


# --- hostlists, GRES, JSON versions (issue 13) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("r[1-2]n[1-2]", ("r1n1", "r1n2", "r2n1", "r2n2")),
        ("gn[01-02],r3n[9-10]", ("gn01", "gn02", "r3n9", "r3n10")),
        ("None assigned", ()),
    ],
)
def test_hostlists_with_several_bracket_groups(text: str, expected: tuple[str, ...]) -> None:
    assert expand_hostlist(text) == expected


def test_a_malformed_hostlist_is_a_coded_error() -> None:
    with pytest.raises(BackendError) as err:
        expand_hostlist("gn[1-")
    assert err.value.code == "backend.bad_hostlist"


def _data(name: str) -> str:
    from pathlib import Path

    return (Path(__file__).parent / "data" / name).read_text()


def test_newer_json_nodes_state_arrays_typed_gres_and_reason_times() -> None:
    """Slurm 23.11 (data_parser v0.0.40): node ``state`` is an array, times are
    ``{set, infinite, number}``; every ``gpu`` GRES entry counts (mixed SKUs on one node)."""
    nodes = {n.name: n for n in parse_nodes(_data("v0040_sinfo.json"))}
    assert (nodes["r1n1"].gpus, nodes["r1n1"].gpu_type, nodes["r1n1"].state) == (
        8,
        "h800",
        NodeState.IDLE,
    )
    assert (nodes["r1n2"].gpus, nodes["r1n2"].gpu_type, nodes["r1n2"].gpus_allocated) == (
        8,
        "a100+h800",
        3,
    )
    assert nodes["r1n2"].state is NodeState.MIXED
    assert (nodes["r2n1"].state, nodes["r2n1"].reason) == (NodeState.DRAINED, "NHC: GPU Xid 79")
    assert nodes["r2n1"].since == datetime.fromtimestamp(1711536000, UTC)
    assert nodes["r2n2"].state is NodeState.DOWN
    assert nodes["r1n1"].since is None  # {"set": false}


def test_newer_json_jobs_state_arrays_and_hold_flags() -> None:
    jobs = parse_jobs(_data("v0040_squeue.json"))
    assert jobs["run-a"].state is JobState.RUNNING
    assert jobs["run-a"].nodes == ("r1n1", "r1n2")
    assert jobs["run-a"].started_at == datetime.fromtimestamp(1711536100, UTC)
    assert jobs["run-b"].state is JobState.REQUEUED  # PENDING + REQUEUE_HOLD flag
    assert jobs["run-c"].state is JobState.FAILED
    assert jobs["run-c"].ended_at == datetime.fromtimestamp(1711535900, UTC)


@pytest.mark.parametrize(
    "meta",
    [
        {},
        {"plugin": {"type": "openapi/v0.0.37"}},
        {"plugin": {"data_parser": "data_parser/v0.0.39"}},
        {"plugin": {"data_parser": "something/else"}},
    ],
)
def test_an_unknown_json_version_is_an_error_not_a_guess(meta: dict[str, object]) -> None:
    doc = json.loads(_data("v0040_squeue.json"))
    doc["meta"] = meta
    with pytest.raises(BackendError) as err:
        parse_jobs(json.dumps(doc))
    assert err.value.code == "backend.unknown_json_version"
