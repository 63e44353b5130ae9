"""Chaos run of the Slurm watcher on the 4-node dev cluster (issue 13).

The real ``suanli cluster watch`` runs as a child process (as a site's supervisor would run it)
on a fresh ledger, while a seeded fault injector, for ``--polls`` watcher ticks:

- kills slurmd daemons (``kill -9``) and restarts them a few polls later;
- restarts slurmctld;
- ``kill -9``s the watcher itself (the supervisor starts it again at once);
- drains nodes the way a node health check does (``NHC: GPU Xid 79``) and resumes them later;
- starts and ends leases (two customers' bare-metal contracts);
- submits reserved and spot jobs of 4, 8 and 16 GPUs, some of which fail on their own (exit 3).

Then it restores every node, lets the jobs finish and the watcher catch up, stops the watcher and
checks, against Slurm's own records:

- ``metering``: every run ``sacct`` shows for our jobs is metered exactly once with the same
  GPU-seconds (``gres/gpu`` x elapsed), except ``NODE_FAIL``/``BOOT_FAIL`` runs (not charged);
  ``FAILED`` runs are charged; no usage record without a run;
- ``downtime``: every outage of a leased node (a ``down`` episode the injector saw in ``sinfo``)
  has exactly one SLA downtime row, starting at Slurm's ``reason_changed_at``; no row without an
  outage;
- ``reservations``: every active lease has its reservation with exactly its nodes, and no
  ``lease-*`` reservation is left for an ended lease;
- ``health_drains``: no drain set by the health check was undone (checked every poll);
- ``watcher``: it never exited on its own, ticked after every restart, and its last tick (with
  the cluster whole again) had no error; no server is left ``failed``.

The last line printed is JSON with the counts and ``violations`` (0 when everything holds), then
``violation_list``. Needs root and the dev cluster with slurmdbd (``SUANLI_SLURM_DBD=1``, which
this script starts if the cluster is down). Holds the Slurm tests' lock while it runs.
Run: ``PYTHONPATH=src .venv/bin/python benchmarks/chaos_slurm.py --polls 200 --seed 7``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from suanli.backends.base import Node, NodeState
from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.core.clock import SimClock, SystemClock
from suanli.core.errors import SuanliError
from suanli.services.billing.leasing import LeaseSpec, ReservedSpec
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import build_services
from suanli.store.db import make_engine, transaction, upgrade
from suanli.store.models import UsageRecordRow

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "dev-slurm-cluster"
SLURM_DIR = Path(os.environ.get("SUANLI_SLURM_DIR", "/var/tmp/suanli-slurm"))
CONF = str(SLURM_DIR / "slurm.conf")
CLUSTER = "suanli-dev"
NODES = ("gn1", "gn2", "gn3", "gn4")
NHC_REASON = "NHC: GPU Xid 79"
OUR_FAULT = ("NODE_FAIL", "BOOT_FAIL")
SKU = "HGX-H800-8"


def script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUANLI_SLURM_DBD": os.environ.get("SUANLI_SLURM_DBD", "1")}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=240, check=False, env=env
    )


def utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


class Watcher:
    """``suanli cluster watch --json`` as a child process; its ticks arrive on a queue."""

    def __init__(self, env: dict[str, str], log: IO[str]) -> None:
        self.env, self.log = env, log
        self.ticks: queue.Queue[dict[str, Any]] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self) -> None:
        cmd = [sys.executable, "-m", "suanli.cli.main", "cluster", "watch", "--interval", "1"]
        self.proc = subprocess.Popen(
            [*cmd, "--json"], stdout=subprocess.PIPE, stderr=self.log, text=True, env=self.env
        )
        self.starts += 1
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        buf: list[str] = []
        for line in proc.stdout:  # one indented JSON object per tick, closed by "}" alone
            buf.append(line)
            if line.rstrip("\n") == "}":
                try:
                    self.ticks.put(json.loads("".join(buf)))
                except ValueError:
                    self.log.write(f"watcher printed non-JSON: {''.join(buf)}")
                buf = []

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def next_tick(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.ticks.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@dataclass
class Lease:
    number: str
    nodes: tuple[str, ...]
    start: date
    created: datetime
    ended: datetime | None = None


@dataclass
class Outage:
    node: str
    since: datetime
    up_seen: datetime | None = None


@dataclass
class Chaos:
    polls: int
    seed: int
    counts: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)

    def violate(self, text: str) -> None:
        self.violations.append(text)


def setup_ledger(url: str, backend: SlurmBackend) -> None:
    """Servers synced three days ago (so leases may start yesterday and end today), two
    customers: ``acme`` with 16 reserved GPUs, ``beta`` spot only (at the spot price list)."""
    engine = make_engine(url)
    upgrade(engine)
    past = SimClock(SystemClock().now() - timedelta(days=3))
    svc = build_services(engine, past, "CNY")
    svc.fleet.add_site("DEV", "dev cluster")
    svc.fleet.add_cabinet("DEV", "R1", "1000")
    ClusterService(
        svc.sessions, past, svc.catalog, backend, ClusterConfig(CLUSTER, cabinet="DEV/R1")
    ).sync(apply=True)
    svc.money.tenancy.create_customer("acme", "Acme")
    svc.money.tenancy.create_customer("beta", "Beta")
    svc.money.metering.set_price(SKU, "spot", "12", past.now().date())
    svc.money.leasing.create_reserved(
        ReservedSpec("acme", SKU, 16, "20", past.now().date(), 12), "ops"
    )
    engine.dispose()


def clean_cluster(runner: SubprocessRunner, backend: SlurmBackend) -> None:
    runner.run(["scancel", "--partition=gpu"])
    for r in backend.reservations():
        backend.release(r.name)
    for n in backend.nodes():
        if n.state is NodeState.DOWN:
            script("start-node", n.name)
        backend.resume(n.name)
    deadline = time.monotonic() + 120
    while not all(n.state is NodeState.IDLE for n in backend.nodes()):
        if time.monotonic() > deadline:
            runner.run(["scontrol", "reconfigure"])
            deadline = time.monotonic() + 120
        time.sleep(0.5)


def read_nodes(backend: SlurmBackend) -> dict[str, Node] | None:
    try:
        return {n.name: n for n in backend.nodes()}
    except SuanliError:
        return None  # the controller is restarting


class Injector:
    """The seeded faults and the workload; it also watches Slurm every poll."""

    def __init__(self, chaos: Chaos, backend: SlurmBackend, runner: SubprocessRunner, svc: Any,
                 jobs: CloudJobService, watcher: Watcher) -> None:  # fmt: skip
        self.c, self.backend, self.runner = chaos, backend, runner
        self.svc, self.jobs, self.watcher = svc, jobs, watcher
        self.rng = random.Random(chaos.seed)
        self.killed: dict[str, int] = {}  # node -> poll it was killed
        self.nhc: dict[str, int] = {}  # node -> poll it was drained
        self.outages: dict[tuple[str, datetime], Outage] = {}
        self.leases: list[Lease] = []
        self.ever_leased: set[str] = set()

    def step(self, poll: int) -> None:
        rng, c = self.rng, self.c
        for node, at in list(self.killed.items()):
            if poll - at >= rng.randint(2, 6) and self._down_seen(node):
                script("start-node", node)
                del self.killed[node]
                c.counts["node_restarts"] += 1
        for node, at in list(self.nhc.items()):
            if poll - at >= rng.randint(3, 8) and self.resume(node):
                del self.nhc[node]
        r = rng.random()
        healthy = [n for n in NODES if n not in self.killed and n not in self.nhc]
        if r < 0.12 and len(self.killed) < 2 and healthy:
            leased = [
                n for n in healthy if any(n in x.nodes for x in self.leases if x.ended is None)
            ]
            node = rng.choice(leased if leased and rng.random() < 0.6 else healthy)
            script("kill-node", node)
            self.killed[node] = poll
            c.counts["node_kills"] += 1
        elif r < 0.17:
            if script("restart-ctld").returncode == 0:
                c.counts["ctld_restarts"] += 1
        elif r < 0.23:
            self.watcher.kill9()
            c.counts["watcher_kills"] += 1
            self.watcher.start()
        elif r < 0.29 and healthy and not self.nhc:
            node = rng.choice(healthy)
            done = self.runner.run(
                ["scontrol", "update", f"nodename={node}", "state=drain", f"reason={NHC_REASON}"]
            )
            if done.ok:
                self.nhc[node] = poll
                c.counts["health_drains"] += 1
        elif r < 0.37:
            self._start_lease()
        elif r < 0.42:
            self._end_lease()
        if rng.random() < 0.5:
            self._submit()

    def resume(self, node: str) -> bool:
        """The health check clears its drain (retried next poll if the controller is away)."""
        return self.runner.run(["scontrol", "update", f"nodename={node}", "state=resume"]).ok

    def _down_seen(self, node: str) -> bool:
        return any(o.node == node and o.up_seen is None for o in self.outages.values())

    def _start_lease(self) -> None:
        held = {n for lease in self.leases if lease.ended is None for n in lease.nodes}
        free = [n for n in NODES if n not in held and n not in self.killed and n not in self.nhc]
        if not free:
            return
        if len(held) >= 2:  # half the cluster stays in the cloud pool for the jobs
            return
        nodes = (self.rng.choice(free),)
        today = SystemClock().now().date()
        # a lease may end on the day it is terminated only if it started before: servers never
        # leased in this run start yesterday (endable), the others today
        start = today if self.ever_leased & set(nodes) else today - timedelta(days=1)
        spec = LeaseSpec("beta", SKU, "1000", start, 1, serials=nodes, notice_days=0)
        try:
            contract = self.svc.money.leasing.create_lease(spec, "chaos")
        except SuanliError as exc:
            self.c.counts[f"lease_refused:{exc.code}"] += 1
            return
        self.ever_leased |= set(nodes)
        self.leases.append(Lease(contract.number, nodes, start, SystemClock().now()))
        self.c.counts["leases_started"] += 1

    def _end_lease(self) -> None:
        today = SystemClock().now().date()
        endable = [x for x in self.leases if x.ended is None and x.start < today]
        if not endable:
            return
        lease = self.rng.choice(endable)
        self.svc.money.leasing.terminate(lease.number, today, "chaos", "chaos: lease ends")
        lease.ended = SystemClock().now()
        self.c.counts["leases_ended"] += 1

    def _submit(self) -> None:
        rng = self.rng
        reserved = rng.random() < 0.5
        gpus = rng.choice((4, 8, 8, 16))
        command = "sleep 4; exit 3" if rng.random() < 0.2 else f"sleep {rng.randint(5, 25)}"
        try:
            self.jobs.submit("acme" if reserved else "beta", gpus,
                             "reserved" if reserved else "spot", command)  # fmt: skip
            self.c.counts["jobs_submitted"] += 1
        except SuanliError as exc:
            self.c.counts[f"submit_refused:{exc.code}"] += 1

    def observe(self) -> None:
        """Record down episodes (node, Slurm's since) and check the health-check drains."""
        nodes = read_nodes(self.backend)
        if nodes is None:
            self.c.counts["observe_skipped"] += 1
            return
        now = SystemClock().now()
        for n in nodes.values():
            if n.state is NodeState.DOWN and n.since is not None:
                self.outages.setdefault((n.name, utc(n.since)), Outage(n.name, utc(n.since)))
            elif n.state is not NodeState.DOWN:
                for o in self.outages.values():
                    if o.node == n.name and o.up_seen is None:
                        o.up_seen = now
        for node in self.nhc:
            n = nodes[node]
            # right after a slurmctld restart a drained node is UNKNOWN (drain flag and reason kept)
            drained = n.state in (NodeState.DRAINED, NodeState.DRAINING, NodeState.UNKNOWN)
            if not drained or n.reason != NHC_REASON:
                self.c.violate(f"health drain of {node} undone: {n.state.value} {n.reason!r}")
                self.nhc.pop(node)
                break


def tick_or_restart(chaos: Chaos, watcher: Watcher, timeout: float = 120) -> dict[str, Any] | None:
    """The next watcher tick; an exit the injector did not cause is a violation (and the
    supervisor starts it again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tick = watcher.next_tick(1.0)
        if tick is not None:
            chaos.counts["ticks"] += 1
            for e in tick.get("errors", []):
                chaos.counts[f"tick_error:{e['step']}:{e['code']}"] += 1
            for e in tick.get("reconciled", {}).get("errors", []):
                chaos.counts[f"object_error:{str(e).split(': ', 1)[-1]}"] += 1
            for reason in tick.get("usage_rejected", []):
                chaos.counts[f"usage_rejected:{reason}"] += 1
            return tick
        rc = watcher.exited()
        if rc is not None:
            chaos.violate(f"the watcher exited on its own with {rc}")
            watcher.start()
    chaos.violate(f"no watcher tick within {timeout} s")
    return None


def sacct_runs(names: set[str], since: datetime) -> list[dict[str, Any]]:
    """Our runs as ``sacct`` shows them (epoch times), independently of the adapter's parser."""
    fields = "JobIDRaw,JobName,State,Start,End,AllocTRES"
    epochs = SubprocessRunner(CONF, env={"SLURM_TIME_FORMAT": "%s"})
    done = epochs.run(["sacct", "-X", "-D", "-a", "-P", "-n", f"--starttime={since:%Y-%m-%dT%H:%M:%S}", f"--format={fields}"])  # fmt: skip
    runs = []
    for line in done.stdout.splitlines():
        jobid, name, state, start, end, tres = line.split("|")
        ours = (
            name.split(":")[1] if name.count(":") == 2 else ""
        )  # suanli:<engine name>:<GPUs/node>
        if ours not in names or not start.isdigit() or not end.isdigit():
            continue
        tres_map = dict(kv.split("=", 1) for kv in tres.split(",") if "=" in kv)
        gpus = int(tres_map.get("gres/gpu", "0"))
        runs.append({"id": f"{CLUSTER}:{jobid}:{start}", "name": name, "state": state.split()[0],
                     "gpu_seconds": gpus * (int(end) - int(start))})  # fmt: skip
    return runs


def check_metering(chaos: Chaos, svc: Any, runs: list[dict[str, Any]]) -> None:
    with transaction(svc.sessions) as s:
        rows = {r.event_id: r.gpu_seconds for r in s.scalars(select(UsageRecordRow))}
    chaos.counts["sacct_runs"] = len(runs)
    chaos.counts["usage_records"] = len(rows)
    seen: set[str] = set()
    for run in runs:
        chaos.counts[f"runs_{run['state'].lower()}"] += 1
        if run["id"] in seen:
            chaos.violate(f"sacct lists run {run['id']} twice")
        seen.add(run["id"])
        charged = run["state"] not in OUR_FAULT
        if charged and run["id"] not in rows:
            chaos.violate(f"run {run['id']} ({run['state']}) not metered")
        elif not charged and run["id"] in rows:
            chaos.violate(f"run {run['id']} ({run['state']}) charged")
        elif charged and rows[run["id"]] != run["gpu_seconds"]:
            chaos.violate(f"run {run['id']}: {rows[run['id']]} GPU-s metered, sacct {run['gpu_seconds']}")  # fmt: skip
    for event_id in set(rows) - seen:
        chaos.violate(f"usage record {event_id} has no sacct run")


def check_downtime(chaos: Chaos, svc: Any, inj: Injector) -> None:
    events = svc.money.leasing.list_sla_events(limit=500).items
    chaos.counts["sla_events"] = len(events)
    matched: set[int] = set()
    for o in inj.outages.values():
        leased = [
            x for x in inj.leases
            if o.node in x.nodes and x.created < o.since
            and (x.ended is None or (o.up_seen is not None and x.ended > o.up_seen))
        ]  # fmt: skip
        chaos.counts["outages"] += 1
        if not leased:
            continue
        chaos.counts["outages_leased"] += 1
        mine = [e for e in events if e.serial == o.node and utc(e.down_from) == o.since]
        if not mine and any(_covers(e, o) for e in events):
            # the node was killed again before the watcher saw it up: the first outage's row,
            # still open (or closed later), covers this one too
            chaos.counts["outages_inside_earlier_row"] += 1
            continue
        if len(mine) != 1:
            chaos.violate(f"outage of {o.node} at {o.since:%H:%M:%S}: {len(mine)} downtime rows")
        matched |= {e.id for e in mine}
    for e in events:
        if e.id not in matched and not any(o.node == e.serial for o in inj.outages.values()):
            chaos.violate(f"downtime row {e.id} of {e.serial} from {e.down_from} has no outage")


def _covers(event: Any, o: Outage) -> bool:
    until = None if event.down_until is None else utc(event.down_until)
    return (
        event.serial == o.node
        and utc(event.down_from) < o.since
        and (until is None or until > o.since)
    )


def check_end_state(chaos: Chaos, svc: Any, backend: SlurmBackend, inj: Injector) -> None:
    want = {f"lease-{x.number}": set(x.nodes) for x in inj.leases if x.ended is None}
    have = {r.name: set(r.nodes) for r in backend.reservations() if r.name.startswith("lease-")}
    for name in sorted(set(want) | set(have)):
        if want.get(name) != have.get(name):
            chaos.violate(f"reservation {name}: lease {want.get(name)} vs Slurm {have.get(name)}")
    chaos.counts["active_leases"] = len(want)
    for node in NODES:
        state = svc.fleet.get_server(node).state.value
        chaos.counts[f"servers_{state}"] += 1
        if state == "failed":
            chaos.violate(f"server {node} still failed with the cluster whole")


def run(polls: int, seed: int, database_url: str | None, workdir: Path) -> Chaos:
    chaos = Chaos(polls, seed)
    if script("status").returncode != 0 and script("start", "4").returncode != 0:
        raise SystemExit("the dev Slurm cluster does not start (scripts/dev-slurm-cluster)")
    runner = SubprocessRunner(CONF)
    backend = SlurmBackend(runner, SystemClock(), cluster=CLUSTER)
    clean_cluster(runner, backend)
    url = database_url or f"sqlite:///{workdir / 'ledger.db'}"
    setup_ledger(url, backend)
    engine = make_engine(url)
    svc = build_services(engine, SystemClock(), "CNY")
    cluster = ClusterService(svc.sessions, svc.clock, svc.catalog, backend,
                             ClusterConfig(CLUSTER, cabinet="DEV/R1"))  # fmt: skip
    jobs = CloudJobService(svc.sessions, svc.clock, svc.catalog, cluster)
    env = {**os.environ, "SUANLI_DATABASE_URL": url, "SUANLI_SLURM_CONF": CONF,
           "SUANLI_CLUSTER_NAME": CLUSTER, "SUANLI_CLUSTER_CABINET": "DEV/R1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    started = SystemClock().now() - timedelta(seconds=5)
    with open(workdir / "watcher.log", "w") as log:
        watcher = Watcher(env, log)
        inj = Injector(chaos, backend, runner, svc, jobs, watcher)
        watcher.start()
        try:
            for poll in range(polls):
                inj.step(poll)
                tick_or_restart(chaos, watcher)
                inj.observe()
            last = finish(chaos, inj, watcher, jobs)
        finally:
            watcher.stop()
        chaos.counts["watcher_starts"] = watcher.starts
    if last is None or last.get("errors") or last.get("reconciled", {}).get("errors"):
        chaos.violate(f"the watcher's last tick with the cluster whole was not clean: {last}")
    names = {j.engine_name for j in jobs.list_jobs(limit=500).items}
    for j in jobs.list_jobs(limit=500).items:
        chaos.counts[f"jobs_{j.state}"] += 1
    check_metering(chaos, svc, sacct_runs(names, started))
    check_downtime(chaos, svc, inj)
    check_end_state(chaos, svc, backend, inj)
    engine.dispose()
    clean_cluster(runner, backend)  # leave the shared cluster as the Slurm tests expect it
    return chaos


def finish(chaos: Chaos, inj: Injector, watcher: Watcher, jobs: CloudJobService) -> dict[str, Any] | None:  # fmt: skip
    """Repair everything, let the jobs end (cancel stragglers) and the watcher catch up."""
    for node in list(inj.killed):
        script("start-node", node)
    inj.killed.clear()
    while inj.nhc:
        inj.nhc = {node: at for node, at in inj.nhc.items() if not inj.resume(node)}
        time.sleep(1)
    deadline = time.monotonic() + 150
    last = None
    while True:
        last = tick_or_restart(chaos, watcher)
        inj.observe()
        active = [j for j in jobs.list_jobs(limit=500).items if j.state in ("queued", "running")]
        nodes = read_nodes(inj.backend) or {}
        whole = len(nodes) == len(NODES) and all(
            n.state is not NodeState.DOWN for n in nodes.values()
        )
        if not active and whole:
            break
        if time.monotonic() > deadline:
            for j in active:
                jobs.cancel(j.id)
                chaos.counts["jobs_cancelled_at_end"] += 1
            deadline = time.monotonic() + 120
    for _ in range(3):  # the watcher meters the last runs and restores the last servers
        last = tick_or_restart(chaos, watcher)
    return last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=200, help="watcher ticks under faults")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    SLURM_DIR.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    with open(SLURM_DIR / "tests.lock", "w") as lock, tempfile.TemporaryDirectory() as tmp:
        fcntl.flock(lock, fcntl.LOCK_EX)
        chaos = run(args.polls, args.seed, args.database_url, Path(tmp))
        log_tail = (Path(tmp) / "watcher.log").read_text()[-2000:]
    if chaos.violations:
        print(log_tail, file=sys.stderr)
    out = {"polls": args.polls, "seed": args.seed, "seconds": round(time.monotonic() - t0, 1),
           **dict(sorted(chaos.counts.items())), "violations": len(chaos.violations),
           "violation_list": chaos.violations[:50]}  # fmt: skip
    print(json.dumps(out))
    return 0 if not chaos.violations else 1


if __name__ == "__main__":
    sys.exit(main())
