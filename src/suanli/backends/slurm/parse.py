"""Reading what the Slurm 22.05 tools print. Pure functions over strings; no commands run here.

Sources and formats (Slurm 22.05.8, checked on the dev cluster):

- ``sinfo --json`` and ``squeue --json``: OpenAPI v0.0.38 documents (``nodes`` / ``jobs``). In
  22.05 the ``--json`` mode ignores filters such as ``-j``/``-n``, so callers filter here.
- ``scontrol show reservation -o``: one ``Key=Value`` line per reservation (``scontrol`` has no
  ``--json`` in 22.05).
- the ``jobcomp/filetxt`` file: one ``Key=Value`` line per finished *run* (a requeued job writes a
  line per run; the requeue-hold run is logged as ``JobState=PENDING``, a run lost with its node
  as ``NODE_FAIL``). It has no GPU counts, hence the job name convention below.

Job names: the adapter submits ``suanli:<job id>:<gpus per node>`` so that the platform's job id
and the GPU shape can be recovered from any Slurm record, including the jobcomp file.
Slurm times without zone are the controller's local time; they are converted to UTC here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import hostlist

from suanli.backends.base import (
    BackendError,
    JobState,
    Node,
    NodeState,
    Reservation,
    UsageRecord,
    Window,
)

JOB_PREFIX = "suanli:"

_KV = re.compile(r"(\w+)=(\S*)")


def job_name(job_id: str, gpus_per_node: int) -> str:
    return f"{JOB_PREFIX}{job_id}:{gpus_per_node}"


def parse_job_name(name: str) -> tuple[str, int] | None:
    """``suanli:<id>:<gpus per node>`` -> (id, gpus per node); None for jobs that are not ours."""
    if not name.startswith(JOB_PREFIX):
        return None
    body = name[len(JOB_PREFIX) :]
    job_id, sep, gpn = body.rpartition(":")
    if not sep or not job_id or not gpn.isdigit():
        return None
    return job_id, int(gpn)


def expand_hostlist(text: str) -> tuple[str, ...]:
    """``r[1-2]n[1-2],x5`` -> ``("r1n1", "r1n2", "r2n1", "r2n2", "x5")``, through python-hostlist
    (Slurm's own syntax, several bracket groups per name, zero padding kept)."""
    if not text or text in ("(null)", "None", "None assigned"):
        return ()
    return _expand(text)


@lru_cache(maxsize=8192)
def _expand(text: str) -> tuple[str, ...]:
    """Cached: a poll sees the same node sets many times (jobs, runs, reservations)."""
    try:
        return tuple(hostlist.expand_hostlist(text))
    except hostlist.BadHostlist as exc:
        raise BackendError(
            "backend.bad_hostlist", f"cannot expand hostlist {text!r}: {exc}", {"hostlist": text}
        ) from None


def slurm_time(when: datetime) -> str:
    """A UTC datetime as Slurm's local ``YYYY-MM-DDTHH:MM:SS``."""
    return when.astimezone().strftime("%Y-%m-%dT%H:%M:%S")


def from_slurm_time(text: str) -> datetime | None:
    if not text or text in ("Unknown", "None", "(null)"):
        return None
    return datetime.fromisoformat(text).astimezone(UTC)


def from_epoch(value: Any) -> datetime | None:
    """An epoch as 22.05 prints it (an int) or as 0.0.40+ prints it (``{set, infinite, number}``)."""
    if isinstance(value, dict):
        if not value.get("set") or value.get("infinite"):
            return None
        value = value.get("number")
    if not isinstance(value, int) or value <= 0:
        return None
    return datetime.fromtimestamp(value, UTC)


_SUPPORTED = ("0.0.38",)  # 22.05; and every 0.0.40+ (23.11, 24.x) below


def json_version(doc: dict[str, Any], what: str = "slurm --json") -> str:
    """The data-parser version of a ``--json`` document: ``meta.plugin.type`` in 22.05
    (``openapi/v0.0.38``, ``openapi/dbv0.0.38``), ``meta.plugin.data_parser`` from 23.02 on
    (``data_parser/v0.0.40``). 22.05 and 0.0.40+ are read; anything else is an error rather
    than a silent misreading (e.g. every job ``PENDING``)."""
    plugin = (doc.get("meta") or {}).get("plugin") or {}
    tag = str(plugin.get("data_parser") or plugin.get("type") or "")
    match = re.search(r"v(\d+)\.(\d+)\.(\d+)$", tag)
    if match:
        version = ".".join(match.groups())
        major, minor, patch = (int(g) for g in match.groups())
        if version in _SUPPORTED or ((major, minor) == (0, 0) and patch >= 40):
            return version
    raise BackendError(
        "backend.unknown_json_version",
        f"{what} printed JSON of an unsupported version {tag or '(none)'!r}; "
        "supported: openapi/v0.0.38 (Slurm 22.05) and data_parser/v0.0.40+ (23.11, 24.x)",
        {"meta.plugin": tag, "expected": "v0.0.38 or v0.0.40+"},
    )


def load_json(text: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BackendError(
            "backend.bad_output", f"{what} did not print JSON: {exc}", {"command": what}
        ) from None
    if not isinstance(doc, dict):
        raise BackendError(
            "backend.bad_output", f"{what} printed no JSON object", {"command": what}
        )
    json_version(doc, what)
    errors = doc.get("errors") or []
    if errors:
        raise BackendError("backend.command_failed", f"{what}: {errors}", {"command": what})
    return doc


# --- nodes -------------------------------------------------------------------------------------


def _gpu_gres(gres: str) -> tuple[str, int]:
    """Every ``gpu`` entry of a GRES string, summed: ``gpu:h800:8(S:0)`` -> ("h800", 8);
    ``gpu:a100:4,gpu:h800:4,shard:8`` -> ("a100+h800", 8); ``gpu:8`` -> ("", 8); none -> ("", 0).
    Entries are split on commas outside parentheses (``(IDX:0-1,3)`` holds commas)."""
    types: set[str] = set()
    total = 0
    for item in re.split(r",(?![^(]*\))", gres):
        fields = item.split("(")[0].strip().split(":")
        if fields[0] != "gpu" or len(fields) < 2 or not fields[-1].isdigit():
            continue
        total += int(fields[-1])
        if len(fields) >= 3:
            types.add(fields[1])
    return "+".join(sorted(types)), total


def _state_words(raw: dict[str, Any]) -> tuple[str, set[str]]:
    """(base state, flags) from 22.05's ``state`` + ``state_flags`` or 0.0.40+'s ``state`` array
    (``["IDLE", "DRAIN"]``: the first word is the base state)."""
    state = raw.get("state", "")
    flags = {str(f).upper() for f in raw.get("state_flags", [])}
    if isinstance(state, list):
        words = [str(w).upper() for w in state]
        return (words[0].lower() if words else ""), flags | set(words[1:])
    return str(state).lower(), flags


def parse_nodes(text: str) -> list[Node]:
    """Nodes from ``sinfo --json``; the state is reported from the GPUs' point of view.
    ``since`` is Slurm's ``reason_changed_at`` (when the node went down/drained)."""
    nodes = []
    for raw in load_json(text, "sinfo --json").get("nodes", []):
        gpu_type, gpus = _gpu_gres(str(raw.get("gres", "")))
        _, used = _gpu_gres(str(raw.get("gres_used", "")))
        base, flags = _state_words(raw)
        if base in ("down", "fail", "failing", "future", "unknown") or "FAIL" in flags:
            state = NodeState.DOWN if base != "unknown" else NodeState.UNKNOWN
        elif "DRAIN" in flags:
            state = (
                NodeState.DRAINING
                if base in ("mixed", "allocated", "completing")
                else NodeState.DRAINED
            )
        elif used == 0 and not raw.get("alloc_cpus"):
            state = NodeState.IDLE
        else:
            state = NodeState.ALLOCATED if used >= gpus > 0 else NodeState.MIXED
        nodes.append(
            Node(
                str(raw["name"]), gpus, gpu_type, used, state, str(raw.get("reason") or ""),
                since=from_epoch(raw.get("reason_changed_at")),
            )
        )  # fmt: skip
    return nodes


# --- jobs ----------------------------------------------------------------------------------------

_RUNNING = {
    "RUNNING",
    "COMPLETING",
    "CONFIGURING",
    "SUSPENDED",
    "STAGE_OUT",
    "SIGNALING",
    "RESIZING",
}
_FAILED = {"FAILED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED"}
_HELD = {"JobHeldUser", "JobHeldAdmin"}


def state_word(value: Any) -> str:
    """A job state as 22.05 prints it (``"PENDING"``) or 0.0.40+ does (``["PENDING",
    "REQUEUE_HOLD"]``: base state then flags; a hold flag is what we act on)."""
    if not isinstance(value, list):
        return str(value or "")
    words = [str(w).upper() for w in value]
    for flag in ("REQUEUE_HOLD", "SPECIAL_EXIT"):
        if flag in words:
            return flag
    return words[0] if words else ""


def job_state(slurm_state: str, reason: str = "") -> JobState:
    s = slurm_state.upper()
    if s in _RUNNING:
        return JobState.RUNNING
    if s == "COMPLETED":
        return JobState.COMPLETED
    if s == "CANCELLED":
        return JobState.CANCELLED
    if s in _FAILED:
        return JobState.FAILED
    if s in ("REQUEUE_HOLD", "SPECIAL_EXIT") or reason in _HELD:
        return JobState.REQUEUED
    return JobState.PENDING


@dataclass(frozen=True, slots=True)
class SlurmJob:
    """One of our jobs in ``squeue --json``."""

    job_id: str
    engine_id: int
    gpus_per_node: int
    tenant: str
    state: JobState
    reason: str
    nodes: tuple[str, ...]  # where it runs (or ran)
    required_nodes: tuple[str, ...]  # the placement it was given
    restarts: int
    started_at: datetime | None
    ended_at: datetime | None

    @property
    def placement_nodes(self) -> tuple[str, ...]:
        return self.required_nodes or self.nodes


def parse_jobs(text: str) -> dict[str, SlurmJob]:
    """Our jobs from ``squeue --json``, by platform job id (the newest submission wins)."""
    found: dict[str, SlurmJob] = {}
    for raw in load_json(text, "squeue --json").get("jobs", []):
        parsed = parse_job_name(str(raw.get("name", "")))
        if parsed is None:
            continue
        job_id, gpn = parsed
        reason = str(raw.get("state_reason") or "")
        raw_state = raw.get("job_state", "")
        raw_state = state_word(raw_state)
        state = job_state(str(raw_state), reason)
        started = from_epoch(raw.get("start_time")) if state is not JobState.PENDING else None
        job = SlurmJob(
            job_id=job_id,
            engine_id=int(raw["job_id"]),
            gpus_per_node=gpn,
            tenant=str(raw.get("account", "")),
            state=state,
            reason="" if reason == "None" else reason,
            nodes=expand_hostlist(str(raw.get("nodes", ""))),
            required_nodes=expand_hostlist(str(raw.get("required_nodes", ""))),
            restarts=int(raw.get("restart_cnt") or 0),
            started_at=started if state in (JobState.RUNNING,) or state.terminal else None,
            ended_at=from_epoch(raw.get("end_time")) if state.terminal else None,
        )
        if job_id not in found or found[job_id].engine_id < job.engine_id:
            found[job_id] = job
    return found


# --- reservations ---------------------------------------------------------------------------------


def parse_reservations(text: str) -> list[Reservation]:
    """``scontrol show reservation -o``; ``tenant`` is the reservation's (first) account."""
    out = []
    for line in text.splitlines():
        if not line.startswith("ReservationName="):
            continue
        kv = dict(_KV.findall(line))
        start, end = (
            from_slurm_time(kv.get("StartTime", "")),
            from_slurm_time(kv.get("EndTime", "")),
        )
        if start is None or end is None:
            continue
        accounts = kv.get("Accounts", "")
        tenant = "" if accounts == "(null)" else accounts.split(",")[0]
        out.append(
            Reservation(
                kv["ReservationName"],
                expand_hostlist(kv.get("Nodes", "")),
                tenant,
                Window(start, end),
            )
        )
    return out


# --- accounting (jobcomp/filetxt) ------------------------------------------------------------------

_USAGE_STATE = {
    "COMPLETED": JobState.COMPLETED,
    "CANCELLED": JobState.CANCELLED,
    "PENDING": JobState.REQUEUED,
    "REQUEUED": JobState.REQUEUED,
}


def parse_jobcomp(text: str, cluster: str = "slurm") -> list[UsageRecord]:
    """Usage records from the jobcomp file: our runs that held nodes, one record per run."""
    records: dict[str, UsageRecord] = {}
    for line in text.splitlines():
        kv = dict(_KV.findall(line))
        parsed = parse_job_name(kv.get("Name", ""))
        nodes = expand_hostlist(kv.get("NodeList", ""))
        start, end = (
            from_slurm_time(kv.get("StartTime", "")),
            from_slurm_time(kv.get("EndTime", "")),
        )
        if parsed is None or not nodes or start is None or end is None or "JobId" not in kv:
            continue
        job_id, gpn = parsed
        node_count = int(kv.get("NodeCnt", len(nodes)) or len(nodes))
        usage_id = f"{cluster}:{kv['JobId']}:{int(start.timestamp())}"
        records[usage_id] = UsageRecord(
            usage_id=usage_id,
            job_id=job_id,
            engine_id=kv["JobId"],
            tenant=kv.get("Account", ""),
            gpus=gpn * node_count,
            start=start,
            end=end,
            state=_USAGE_STATE.get(kv.get("JobState", ""), JobState.FAILED),
            nodes=nodes,
            engine_state=kv.get("JobState", ""),
        )
    return list(records.values())


def parse_sacct(text: str, cluster: str = "slurm") -> list[UsageRecord]:
    """Usage records from ``sacct --json -X -D`` (slurmdbd accounting): one per run that held
    nodes, with the exact ``gres/gpu`` allocation. Ids match :func:`parse_jobcomp`'s."""
    records: dict[str, UsageRecord] = {}
    for raw in load_json(text, "sacct --json").get("jobs", []):
        parsed = parse_job_name(str(raw.get("name", "")))
        times = raw.get("time") or {}
        start, end = from_epoch(times.get("start")), from_epoch(times.get("end"))
        nodes = expand_hostlist(str(raw.get("nodes", "")))
        if (
            parsed is None
            or start is None
            or end is None
            or not nodes
            or nodes == ("None assigned",)
        ):
            continue
        tres = (raw.get("tres") or {}).get("allocated") or []
        gpus = sum(
            int(t.get("count") or 0)
            for t in tres
            if t.get("type") == "gres" and t.get("name") == "gpu"
        )
        state = state_word((raw.get("state") or {}).get("current", ""))
        usage_id = f"{cluster}:{raw['job_id']}:{int(start.timestamp())}"
        records[usage_id] = UsageRecord(
            usage_id=usage_id,
            job_id=parsed[0],
            engine_id=str(raw["job_id"]),
            tenant=str(raw.get("account", "")),
            gpus=gpus,
            start=start,
            end=end,
            state=_USAGE_STATE.get(state, JobState.FAILED),
            nodes=nodes,
            engine_state=state,
        )
    return list(records.values())
