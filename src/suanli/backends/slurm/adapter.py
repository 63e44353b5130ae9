"""``SlurmBackend``: the backend protocol on a real Slurm 22.05 cluster, through its CLI tools.

Mapping (details and the commands in docs/slurm.md):

- inventory: ``sinfo --json``; jobs: ``squeue --json`` (our jobs are named ``suanli:<id>:<gpn>``);
- lease: ``scontrol create reservation`` of exactly the leased nodes for ``Accounts=<tenant>``;
  end of lease: ``scontrol delete reservation``;
- maintenance: ``scontrol update nodename=... state=drain|resume``;
- cloud job: ``sbatch --nodelist=<decided nodes> --gres=gpu:<n> --account=<tenant> --requeue``;
  relaunch of a pending job elsewhere: ``scontrol update jobid=... reqnodelist=... starttime=now``
  then ``scontrol release``; cancel: ``scancel``; spot preemption: ``scontrol requeuehold``;
- events: each ``events()`` call polls ``sinfo``/``squeue`` and appends the differences to the
  adapter's log (node down/up, job started/requeued/finished/failed/cancelled);
- metering: the ``jobcomp/filetxt`` file (one line per run) read with the runner.

The adapter keeps no state that matters across restarts: jobs are found by name, reservations by
name, usage by re-reading the jobcomp file. The in-memory event log only remembers what this
instance observed. It never runs inside a database transaction (see base.py).
"""

from __future__ import annotations

import getpass
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from suanli.backends.base import (
    BackendError,
    BackendEvent,
    EventKind,
    JobInfo,
    JobSpec,
    JobState,
    Node,
    NodeState,
    Placement,
    Reservation,
    UsageRecord,
    Window,
    check_placement_fits,
    check_tenant,
    reservation_conflict,
    reservation_name,
    unknown_job,
    unknown_node,
)
from suanli.backends.slurm.parse import (
    SlurmJob,
    job_name,
    parse_jobcomp,
    parse_jobs,
    parse_nodes,
    parse_reservations,
    parse_sacct,
    slurm_time,
)
from suanli.backends.slurm.runner import CommandResult, CommandRunner
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError


class SlurmBackend:
    """Drive one Slurm cluster. ``jobcomp_path`` is the controller's ``JobCompLoc``."""

    def __init__(
        self,
        runner: CommandRunner,
        clock: Clock,
        *,
        jobcomp_path: str | Path | None = None,
        cluster: str = "slurm",
        partition: str | None = None,
        workdir: str = "/tmp",
        output: str = "/dev/null",
        accounting: bool | None = None,
        user: str | None = None,
        usage_lookback: timedelta = timedelta(days=35),
    ) -> None:
        self._run_cmd = runner
        self._clock = clock
        self._jobcomp = str(jobcomp_path) if jobcomp_path else None
        self._cluster = cluster
        self._partition = partition
        self._workdir = workdir
        self._output = output
        self._accounting = accounting  # None: ask scontrol show config
        self._user = user
        self._usage_lookback = usage_lookback
        self._config_cache: dict[str, str] | None = None
        self._accounts: set[str] = set()
        self._events: list[BackendEvent] = []
        self._seen_nodes: dict[str, bool] = {}  # name -> down
        self._seen_jobs: dict[
            str, tuple[int, JobState, int]
        ] = {}  # id -> (engine id, state, restarts)

    # --- plumbing ------------------------------------------------------------------------------

    def _run(self, *args: str) -> CommandResult:
        return self._run_cmd.run(args)

    def _check(self, result: CommandResult) -> CommandResult:
        if not result.ok:
            text = (result.stderr or result.stdout).strip()
            code = (
                "backend.unavailable"
                if "Unable to contact slurm controller" in text
                else "backend.command_failed"
            )
            raise BackendError(
                code, f"{' '.join(result.args[:2])}: {text}", {"command": result.args[0]}
            )
        return result

    # --- inventory -------------------------------------------------------------------------------

    def nodes(self) -> list[Node]:
        nodes = parse_nodes(self._check(self._run("sinfo", "--json")).stdout)
        for node in nodes:
            self._observe_node(node)
        return nodes

    def _node(self, name: str) -> Node:
        for n in self.nodes():
            if n.name == name:
                return n
        raise unknown_node(name)

    # --- reservations --------------------------------------------------------------------------------

    def reservations(self) -> list[Reservation]:
        result = self._check(self._run("scontrol", "show", "reservation", "-o"))
        return parse_reservations(result.stdout)

    def reserve(
        self, nodes: Sequence[str], tenant: str, window: Window, *, name: str | None = None
    ) -> Reservation:
        check_tenant(tenant)
        window = Window(window.start.replace(microsecond=0), window.end.replace(microsecond=0))
        known = {n.name for n in self.nodes()}
        for n in nodes:
            if n not in known:
                raise unknown_node(n)
        rname = name or reservation_name(nodes, tenant, window)
        existing = {r.name: r for r in self.reservations()}.get(rname)
        if existing is not None:
            if (
                set(existing.nodes) == set(nodes)
                and existing.tenant == tenant
                and existing.window.end == window.end
            ):
                return existing
            raise reservation_conflict(f"reservation {rname} exists with other terms", rname)
        now = self._clock.now()
        if window.end <= now:
            raise ValidationError(
                "backend.invalid_window", "the window has already ended", {"window.end": "future"}
            )
        self._ensure_account(tenant)
        start = "now" if window.start <= now else slurm_time(window.start)
        result = self._run(
            "scontrol", "create", "reservation",
            f"reservationname={rname}",
            f"nodes={','.join(nodes)}",
            f"accounts={tenant}",
            f"starttime={start}",
            f"endtime={slurm_time(window.end)}",
        )  # fmt: skip
        if not result.ok:
            text = result.stderr + result.stdout
            if "busy" in text:
                raise ConflictError(
                    "backend.nodes_busy",
                    f"nodes {', '.join(nodes)} are running jobs",
                    {"nodes": list(nodes)},
                )
            if "overlaps" in text:
                raise reservation_conflict(
                    f"nodes {', '.join(nodes)} are reserved in that window", rname
                )
            self._check(result)
        for r in self.reservations():
            if r.name == rname:
                return r
        raise BackendError(
            "backend.command_failed",
            f"reservation {rname} vanished after creation",
            {"reservation": rname},
        )

    def update_reservation(self, name: str, nodes: Sequence[str]) -> Reservation:
        """``scontrol update reservation``: new nodes, same name, account and window. Works while
        jobs run in the reservation (a delete would fail with "Requested reservation is in use")."""
        current = {r.name: r for r in self.reservations()}.get(name)
        if current is None:
            raise NotFoundError(
                "backend.unknown_reservation", f"no reservation {name!r}", {"reservation": name}
            )
        if set(current.nodes) == set(nodes):
            return current
        result = self._run(
            "scontrol", "update", f"reservationname={name}", f"nodes={','.join(sorted(nodes))}"
        )
        if not result.ok and "overlaps" in (result.stderr + result.stdout):
            raise reservation_conflict(f"nodes {', '.join(nodes)} are reserved elsewhere", name)
        self._check(result)
        for r in self.reservations():
            if r.name == name:
                return r
        raise BackendError(
            "backend.command_failed",
            f"reservation {name} vanished after update",
            {"reservation": name},
        )

    def release(self, reservation: str) -> None:
        result = self._run("scontrol", "delete", f"reservation={reservation}")
        if not result.ok and "invalid" not in (result.stderr + result.stdout).lower():
            self._check(result)

    # --- maintenance -----------------------------------------------------------------------------------

    def drain(self, node: str, reason: str) -> None:
        node_state = self._node(node).state
        if node_state in (NodeState.DRAINED, NodeState.DRAINING):
            return
        self._check(
            self._run(
                "scontrol",
                "update",
                f"nodename={node}",
                "state=drain",
                f"reason={reason or 'maintenance'}",
            )
        )

    def resume(self, node: str) -> None:
        if self._node(node).state not in (NodeState.DRAINED, NodeState.DRAINING):
            return
        self._check(self._run("scontrol", "update", f"nodename={node}", "state=resume"))

    # --- jobs -------------------------------------------------------------------------------------------

    def _our_jobs(self) -> dict[str, SlurmJob]:
        jobs = parse_jobs(self._check(self._run("squeue", "--json")).stdout)
        for job in sorted(jobs.values(), key=lambda j: j.engine_id):
            self._observe_job(job)
        return jobs

    def launch(self, job: JobSpec, placement: Placement) -> JobInfo:
        check_placement_fits(job, placement)
        existing = self._our_jobs().get(job.id)
        if existing is not None:
            if not existing.state.terminal:
                self._relaunch(existing, placement)
            return self.job(job.id)
        engine_id = self._submit(job, placement)
        found = self._our_jobs().get(job.id)
        if found is not None:
            return _info(found)
        return JobInfo(
            job.id, engine_id, job.tenant, JobState.PENDING, placement.nodes, placement.gpus
        )

    def _submit(self, job: JobSpec, placement: Placement) -> str:
        self._ensure_account(job.tenant)
        args = [
            "sbatch", "--parsable",
            f"--job-name={job_name(job.id, placement.gpus_per_node)}",
            f"--account={job.tenant}",
            f"--nodes={len(placement.nodes)}",
            f"--nodelist={','.join(placement.nodes)}",
            f"--gres=gpu:{placement.gpus_per_node}",
            "--requeue",
            f"--chdir={self._workdir}",
            f"--output={self._output}",
            f"--comment=suanli class={job.job_class.value}",
        ]  # fmt: skip
        if self._partition:
            args.append(f"--partition={self._partition}")
        if job.reservation:
            args.append(f"--reservation={job.reservation}")
        if job.time_limit is not None:
            args.append(f"--time={_minutes(job.time_limit)}")
        result = self._run(*args, "--wrap", job.command)
        if not result.ok:
            text = result.stderr + result.stdout
            if job.reservation and ("reservation" in text.lower() or "account" in text.lower()):
                raise ConflictError(
                    "backend.reservation_denied",
                    f"job {job.id}: {text.strip()}",
                    {"job.reservation": job.reservation},
                )
            if "Invalid account" in text:
                raise ValidationError(
                    "backend.invalid_tenant",
                    f"job {job.id}: Slurm does not accept account {job.tenant!r}",
                    {"job.tenant": job.tenant},
                )
            if "Invalid node name" in text:
                raise unknown_node(",".join(placement.nodes))
            if "node configuration is not available" in text:
                raise ValidationError(
                    "backend.invalid_placement",
                    f"job {job.id}: {text.strip()}",
                    {"placement": "fits the nodes"},
                )
            self._check(result)
        return result.stdout.strip().split(";")[0]

    def _relaunch(self, existing: SlurmJob, placement: Placement) -> None:
        """Same job id again: a no-op, or a pending/requeued job released onto ``placement``."""
        moved = set(existing.placement_nodes) != set(placement.nodes)
        if existing.state is JobState.RUNNING:
            if moved:
                raise ConflictError(
                    "backend.job_running",
                    f"job {existing.job_id} is running on other nodes; requeue it first",
                    {"job": existing.job_id},
                )
            return
        if (
            len(existing.placement_nodes) != len(placement.nodes)
            or existing.gpus_per_node != placement.gpus_per_node
        ):
            raise ConflictError(
                "backend.placement_change_unsupported",
                f"job {existing.job_id} can move to other nodes only with the same shape "
                f"({len(existing.placement_nodes)} x {existing.gpus_per_node} GPUs)",
                {
                    "placement": f"{len(existing.placement_nodes)} nodes x {existing.gpus_per_node} GPUs"
                },
            )
        if not moved and existing.state is not JobState.REQUEUED:
            return
        jid = str(existing.engine_id)
        update = ["scontrol", "update", f"jobid={jid}", "starttime=now"]
        if moved:
            update.append(f"reqnodelist={','.join(placement.nodes)}")
        self._check(self._run(*update))
        if existing.state is JobState.REQUEUED:
            self._check(self._run("scontrol", "release", jid))

    def job(self, job_id: str) -> JobInfo:
        found = self._our_jobs().get(job_id)
        if found is None:
            raise unknown_job(job_id)
        return _info(found)

    def jobs(self) -> list[JobInfo]:
        return [_info(j) for j in self._our_jobs().values()]

    def cancel(self, job_id: str) -> None:
        found = self._our_jobs().get(job_id)
        if found is None:
            raise unknown_job(job_id)
        if not found.state.terminal:
            self._check(self._run("scancel", str(found.engine_id)))

    def requeue(self, job_id: str) -> None:
        found = self._our_jobs().get(job_id)
        if found is None:
            raise unknown_job(job_id)
        if found.state is not JobState.RUNNING:
            return
        result = self._run("scontrol", "requeuehold", str(found.engine_id))
        settled = ("pending", "completing", "already")  # requeued a moment ago: nothing to do
        if not result.ok and not any(w in result.stderr.lower() for w in settled):
            self._check(result)

    # --- events and usage ----------------------------------------------------------------------------

    def events(self, since: int = 0) -> list[BackendEvent]:
        self.poll()
        return [e for e in self._events if e.seq > since]

    def poll(self) -> None:
        """Observe nodes and jobs once. Every read of ``sinfo``/``squeue`` (also through
        ``nodes()``, ``job()``, ``jobs()``) logs what changed since the previous read."""
        self.nodes()
        self._our_jobs()

    def _observe_node(self, node: Node) -> None:
        down = node.state is NodeState.DOWN
        before = self._seen_nodes.get(node.name)
        if down and before is not True:
            self._emit(EventKind.NODE_DOWN, node.name, node.reason)
        elif not down and before is True:
            self._emit(EventKind.NODE_UP, node.name)
        self._seen_nodes[node.name] = down

    def _observe_job(self, job: SlurmJob) -> None:
        before = self._seen_jobs.get(job.job_id)
        self._seen_jobs[job.job_id] = (job.engine_id, job.state, job.restarts)
        if before is not None and before[0] != job.engine_id:
            before = None  # a new submission under the same id
        was_state = before[1] if before else None
        if before is not None and job.restarts > before[2]:
            self._emit(EventKind.JOB_REQUEUED, job.job_id, job.reason)
            was_state = JobState.PENDING
        if job.state is JobState.RUNNING and was_state is not JobState.RUNNING:
            self._emit(EventKind.JOB_STARTED, job.job_id, ",".join(job.nodes))
        if job.state.terminal and (was_state is None or not was_state.terminal):
            if was_state is not JobState.RUNNING and job.nodes and job.started_at is not None:
                self._emit(EventKind.JOB_STARTED, job.job_id, ",".join(job.nodes))
            kind = {
                JobState.COMPLETED: EventKind.JOB_FINISHED,
                JobState.CANCELLED: EventKind.JOB_CANCELLED,
            }.get(job.state, EventKind.JOB_FAILED)
            self._emit(kind, job.job_id, job.reason)

    def _emit(self, kind: EventKind, subject: str, detail: str = "") -> None:
        self._events.append(
            BackendEvent(len(self._events) + 1, self._clock.now(), kind, subject, detail)
        )

    def usage(self, since: datetime | None = None) -> list[UsageRecord]:
        """Finished runs of our jobs: from ``sacct`` when slurmdbd accounting is configured
        (exact GPU allocation), else from the jobcomp file. Both give the same ``usage_id``s.
        ``since``: only runs that ended at or after it (``sacct --starttime``: the history before
        it is not reread); None: the last ``usage_lookback``."""
        if self.accounting:
            return self.usage_from_sacct(since)
        return [u for u in self.usage_from_jobcomp() if since is None or u.end >= since]

    def usage_from_jobcomp(self) -> list[UsageRecord]:
        path = self._jobcomp or self._config().get("JobCompLoc", "")
        if not path or (
            self._jobcomp is None and self._config().get("JobCompType") != "jobcomp/filetxt"
        ):
            raise BackendError(
                "backend.no_accounting",
                "usage needs slurmdbd or JobCompType=jobcomp/filetxt (or pass jobcomp_path)",
                {"JobCompType": self._config().get("JobCompType", "")},
            )
        result = self._run("cat", path)
        if not result.ok:
            if "No such file" in result.stderr:
                return []
            self._check(result)
        return parse_jobcomp(result.stdout, self._cluster)

    def usage_from_sacct(self, since: datetime | None = None) -> list[UsageRecord]:
        start = slurm_time(since or self._clock.now() - self._usage_lookback)
        result = self._check(self._run("sacct", "--json", "-X", "-D", "-a", f"--starttime={start}"))
        records = parse_sacct(result.stdout, self._cluster)
        return [u for u in records if since is None or u.end >= since]

    # --- configuration and accounts ------------------------------------------------------------

    def _config(self) -> dict[str, str]:
        if self._config_cache is None:
            text = self._check(self._run("scontrol", "show", "config")).stdout
            pairs = (line.partition("=") for line in text.splitlines())
            self._config_cache = {k.strip(): v.strip() for k, sep, v in pairs if sep}
        return self._config_cache

    @property
    def accounting(self) -> bool:
        """True when the cluster keeps accounts in slurmdbd (then tenants must exist as accounts)."""
        if self._accounting is None:
            storage = self._config().get("AccountingStorageType", "")
            self._accounting = storage == "accounting_storage/slurmdbd"
        return self._accounting

    def _ensure_account(self, tenant: str) -> None:
        """With slurmdbd, a reservation's account and a job's account must exist, and the
        submitting user must belong to it; create both once per tenant (idempotent)."""
        if not self.accounting or tenant in self._accounts:
            return
        user = self._user or getpass.getuser()
        listing = (
            "sacctmgr",
            "-n",
            "-P",
            "list",
            "association",
            f"account={tenant}",
            f"user={user}",
            "format=account",
        )
        if not self._check(self._run(*listing)).stdout.strip():
            self._run("sacctmgr", "-i", "add", "account", tenant)  # "nothing new" when it exists
            self._run("sacctmgr", "-i", "add", "user", user, f"account={tenant}")
            if not self._check(self._run(*listing)).stdout.strip():
                raise BackendError(
                    "backend.command_failed",
                    f"could not create Slurm account {tenant!r}",
                    {"tenant": tenant},
                )
        self._accounts.add(tenant)


def _info(job: SlurmJob) -> JobInfo:
    return JobInfo(
        id=job.job_id,
        engine_id=str(job.engine_id),
        tenant=job.tenant,
        state=job.state,
        nodes=job.placement_nodes,
        gpus=job.gpus_per_node * len(job.placement_nodes),
        restarts=job.restarts,
        started_at=job.started_at,
        ended_at=job.ended_at,
        reason=job.reason,
    )


def _minutes(limit: timedelta) -> int:
    return max(1, math.ceil(limit.total_seconds() / 60))
