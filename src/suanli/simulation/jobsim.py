"""The job simulator: drives the scheduling cycle with simulated time, arrivals and failures.

Single writer of all mutable state of a run: node allocation, running placements, job progress,
pending lanes. Each distinct event time is handled in two steps — first every event at that
time (finishes, repairs, failures, arrivals, LAS demotions, in that priority order), then one
scheduling cycle (:func:`~suanli.scheduling.jobs.cycle.schedule`) whose plan is applied:
preemptions, then admissions.

Accounting invariants (checked by the property tests):

* ``alloc[n] <= capacity[n]`` on every node at every instant (no over-allocation);
* a job holds all its GPUs or none (gang), and finishes exactly once;
* allocated GPU-seconds = requested GPU-seconds + GPU-seconds lost to failures (rolled-back
  work and restart overhead) + preemption overhead.

Vocabulary: *progress* is seconds of useful work a job has done; *attained* is GPU-seconds it
has held (Tiresias' attained service); a *run* is one stretch from admission to finish,
preemption or failure; ``epoch[j]`` counts runs so stale finish events are ignored.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from suanli.scheduling.jobs.cycle import (
    CyclePlan,
    QuotaBook,
    Snapshot,
    admissible_gpus,
    schedule,
)
from suanli.scheduling.jobs.model import ClusterSpec, JobTable, NodeState
from suanli.scheduling.jobs.placement import Placement
from suanli.scheduling.jobs.policies import Policy, next_las_threshold, pending_rank
from suanli.scheduling.jobs.queues import PendingQueues
from suanli.simulation.engine import EventQueue
from suanli.simulation.failures import FailureModel, last_checkpoint

FINISH, REPAIR, FAILURE, ARRIVAL, DEMOTE = 0, 1, 2, 3, 4
WITHDRAW, RETURN = 5, 6  # kinds only: queued at FAILURE's and REPAIR's priority


@dataclass
class SimResult:
    """Raw outcome of a run; :mod:`suanli.simulation.metrics` turns it into figures."""

    jobs: JobTable
    total_gpus: int
    submit: np.ndarray
    first_start: np.ndarray
    finish: np.ndarray
    dropped: np.ndarray
    attained: np.ndarray
    preemptions: np.ndarray
    restarts: np.ndarray
    allocated_gpu_seconds: float
    lost_failure_gpu_seconds: float
    preempt_overhead_gpu_seconds: float
    tenant_gpu_seconds: np.ndarray
    alloc_times: array[float]
    alloc_gpus: array[float]
    events: int
    cycles: int
    node_failures: int
    cycle_seconds: list[float] = field(default_factory=list)


class JobSimulator:
    """One run of ``jobs`` on ``cluster`` under ``policy``. Call :meth:`run` once."""

    def __init__(
        self,
        jobs: JobTable,
        cluster: ClusterSpec,
        policy: Policy,
        *,
        failures: FailureModel | None = None,
        seed: int = 0,
        preempt_overhead: float = 0.0,
        timer: Callable[[], float] | None = None,
        progress: Callable[[int], None] | None = None,
        log: list[tuple[str, float, int, Placement]] | None = None,
        scripted_failures: Sequence[tuple[float, int, float]] = (),
        withdrawals: Sequence[tuple[float, int, float]] = (),
    ) -> None:
        cluster.validate()
        # A job that fits inside the largest node stays on one node.
        policy = replace(policy, single_node=cluster.max_node_gpus)
        self.jobs, self.cluster, self.policy = jobs, cluster, policy
        self.failures: FailureModel | None = failures
        self.preempt_overhead = preempt_overhead
        self.timer, self.progress_cb = timer, progress
        self.log = log
        self.scripted = list(scripted_failures)
        self.withdrawals = list(withdrawals)
        if self.scripted and failures is None:
            self.failures = failures = FailureModel(rate_per_1000_node_days=0.0)
        self.ev = EventQueue(seed)
        n, nodes = len(jobs), cluster.nodes
        self.cap = cluster.node_gpus.astype(np.int64)
        self.alloc = np.zeros(nodes, np.int64)
        self.free = self.cap.copy()
        self.state = np.full(nodes, int(NodeState.UP), np.int64)
        self.usable = np.ones(nodes, dtype=bool)
        self.withdrawn = np.zeros(nodes, dtype=bool)
        self.node_jobs: list[set[int]] = [set() for _ in range(nodes)]
        self.running: dict[int, Placement] = {}
        self.queues = PendingQueues(by_tenant=policy.lanes_by_tenant)
        self.progress = np.zeros(n)
        self.attained = np.zeros(n)
        self.run_start = np.full(n, np.nan)
        self.startup = np.zeros(n)
        self.startup_failure = np.zeros(n, dtype=bool)
        self.est_end = np.full(n, np.inf)
        self.end_heap: list[tuple[float, int]] = []
        self.epoch = [0] * n
        self.first_start = np.full(n, np.nan)
        self.finish = np.full(n, np.nan)
        self.preemptions = np.zeros(n, np.int64)
        self.restarts = np.zeros(n, np.int64)
        limit = np.array(admissible_gpus(policy, len(jobs.tenant_names), cluster.total_gpus))
        self.dropped = jobs.gpus > limit[jobs.tenant]
        self.quota_book = (
            QuotaBook.build(policy, len(jobs.tenant_names), cluster.total_gpus)
            if policy.by_tenant
            else None
        )
        self.tenant_usage = np.zeros(len(jobs.tenant_names), np.int64)
        # running jobs per tenant in start order (fair-share reclaim evicts the newest first)
        self.tenant_running: list[dict[int, None]] = [{} for _ in jobs.tenant_names]
        self.tenant_gs = np.zeros(len(jobs.tenant_names))
        self.gpus = jobs.gpus.tolist()
        self.duration = jobs.duration.tolist()
        self.busy = 0
        self.busy_gs = 0.0
        self.lost_fail = 0.0
        self.lost_preempt = 0.0
        self.alloc_t: array[float] = array("d")
        self.alloc_g: array[float] = array("d")
        self.events = self.cycles = self.node_failures = 0
        self.cycle_seconds: list[float] = []
        self._last = 0.0

    # ------------------------------------------------------------------ run loop
    def run(self) -> SimResult:
        jobs, ev = self.jobs, self.ev
        order = np.argsort(jobs.submit, kind="stable")
        order = order[~self.dropped[order]]
        arrivals = order.tolist()
        times = jobs.submit[order].tolist()
        start = times[0] if times else 0.0
        ev.advance(start)
        self._last = start
        if self.failures is not None and self.failures.rate_per_second > 0:
            for node in range(self.cluster.nodes):
                ev.push(
                    start + self.failures.time_to_failure(ev.rng), FAILURE, FAILURE, (node, None)
                )
        for at, node, repair in self.scripted:  # (time, node, repair seconds): tests, what-ifs
            ev.push(max(at, start), FAILURE, FAILURE, (node, repair))
        for at, node, span in self.withdrawals:  # (time, node, seconds): lent servers taken back
            ev.push(max(at, start), FAILURE, WITHDRAW, (node, at + span))
        ptr, n_arr = 0, len(arrivals)
        pending_work = n_arr
        dirty = False
        while pending_work > 0:
            t_heap, p_heap = ev.peek()
            t_arr = times[ptr] if ptr < n_arr else math.inf
            if t_arr == math.inf and t_heap == math.inf:
                break
            if t_arr < t_heap or (t_arr == t_heap and p_heap > ARRIVAL):
                self._advance(t_arr)
                ev.advance(t_arr)
                job = arrivals[ptr]
                ptr += 1
                self._arrive(job)
            else:
                t, _prio, _seq, kind, payload = ev.pop()
                self._advance(t)
                if kind == FINISH:
                    job, epoch = payload
                    if self.epoch[job] == epoch and job in self.running:
                        self._finish(job)
                        pending_work -= 1
                elif kind == FAILURE:
                    self._fail(*payload)
                elif kind == REPAIR:
                    self._repair(*payload)
                elif kind == WITHDRAW:
                    self._withdraw(*payload)
                elif kind == RETURN:
                    self._return(payload)
                # DEMOTE needs no handling: the job's rank changed, so a cycle must run.
            self.events += 1
            dirty = True
            t_next = min(times[ptr] if ptr < n_arr else math.inf, ev.peek()[0])
            if t_next > ev.now and dirty:
                self._cycle()
                dirty = False
                if self.progress_cb is not None and self.cycles % 4096 == 0:
                    self.progress_cb(n_arr - pending_work)
        return self._result()

    def _advance(self, t: float) -> None:
        if t > self._last:
            self.busy_gs += self.busy * (t - self._last)
            self._last = t

    def _record(self) -> None:
        self.alloc_t.append(self._last)
        self.alloc_g.append(float(self.busy))

    # ------------------------------------------------------------------ events
    def _arrive(self, job: int) -> None:
        rank = pending_rank(self.policy, self.jobs, job, 0.0, 0.0)
        self.queues.push(job, int(self.jobs.tenant[job]), self.gpus[job], rank)

    def _release(self, job: int, why: str) -> Placement:
        placement = self.running.pop(job)
        if self.log is not None:
            self.log.append((why, self.ev.now, job, placement))
        for node, count in placement:
            self.alloc[node] -= count
            self.node_jobs[node].discard(job)
            if self.usable[node]:
                self.free[node] += count
        g = self.gpus[job]
        self.busy -= g
        self.tenant_usage[self.jobs.tenant[job]] -= g
        del self.tenant_running[self.jobs.tenant[job]][job]
        self.est_end[job] = math.inf
        self._record()
        return placement

    def _close_run(self, job: int, useful: float) -> None:
        """Book the run that just ended: progress, attained service and what was lost."""
        g = self.gpus[job]
        elapsed = self.ev.now - float(self.run_start[job])
        held = g * elapsed
        self.attained[job] += held
        self.tenant_gs[self.jobs.tenant[job]] += held
        lost = held - g * useful
        if self.startup_failure[job]:
            self.lost_fail += lost
        else:
            self.lost_preempt += lost
        self.progress[job] += useful
        self.epoch[job] += 1

    def _finish(self, job: int) -> None:
        self._close_run(job, self.duration[job] - float(self.progress[job]))
        self._release(job, "finish")
        self.finish[job] = self.ev.now

    def _requeue(self, job: int, startup: float, failure: bool) -> None:
        self.startup[job] = startup
        self.startup_failure[job] = failure
        rank = pending_rank(
            self.policy, self.jobs, job, float(self.progress[job]), float(self.attained[job])
        )
        self.queues.push(job, int(self.jobs.tenant[job]), self.gpus[job], rank)

    def _preempt(self, job: int) -> None:
        elapsed = self.ev.now - float(self.run_start[job])
        useful = max(0.0, elapsed - float(self.startup[job]))
        useful = min(useful, self.duration[job] - float(self.progress[job]))
        self._close_run(job, useful)
        self._release(job, "preempt")
        self.preemptions[job] += 1
        self._requeue(job, self.preempt_overhead, failure=False)

    def _fail(self, node: int, repair: float | None) -> None:
        assert self.failures is not None
        if self.state[node] == int(NodeState.DOWN):
            if repair is None:  # keep this node's random failure process going
                self._next_failure(node)
            return
        self.node_failures += 1
        for job in sorted(self.node_jobs[node]):
            elapsed = self.ev.now - float(self.run_start[job])
            done = float(self.progress[job]) + max(0.0, elapsed - float(self.startup[job]))
            kept = last_checkpoint(done, float(self.jobs.checkpoint[job]))
            useful = kept - float(self.progress[job])  # may be negative: rolled back
            self.startup_failure[job] = True  # the whole run's loss is the failure's
            self._close_run(job, useful)
            self._release(job, "fail")
            self.restarts[job] += 1
            self._requeue(job, self.failures.restart_overhead, failure=True)
        self.state[node] = int(NodeState.DOWN)
        self.usable[node] = False
        self.free[node] = 0
        if self.log is not None:
            self.log.append(("node_down", self.ev.now, node, ()))
        scripted = repair is not None
        if repair is None:
            repair = self.failures.repair_time(self.ev.rng)
        self.ev.push(self.ev.now + repair, REPAIR, REPAIR, (node, scripted))

    def _repair(self, node: int, scripted: bool) -> None:
        if self.withdrawn[node]:  # repaired while taken back: it comes up when returned
            if not scripted:
                self._next_failure(node)
            return
        self.state[node] = int(NodeState.UP)
        self.usable[node] = True
        self.free[node] = self.cap[node] - self.alloc[node]
        if self.log is not None:
            self.log.append(("node_up", self.ev.now, node, ()))
        if not scripted:
            self._next_failure(node)

    def _withdraw(self, node: int, until: float) -> None:
        """Take ``node`` out of the cluster until ``until`` (a lent server reclaimed by its
        owner): its jobs are preempted (progress kept, as a notified preemption), and the node
        takes no work until :meth:`_return`."""
        for job in sorted(self.node_jobs[node]):
            if job in self.running:
                self._preempt(job)
        self.withdrawn[node] = True
        self.state[node] = int(NodeState.DOWN)
        self.usable[node] = False
        self.free[node] = 0
        if self.log is not None:
            self.log.append(("node_withdrawn", self.ev.now, node, ()))
        if math.isfinite(until):
            self.ev.push(max(until, self.ev.now), REPAIR, RETURN, node)

    def _return(self, node: int) -> None:
        """A withdrawn node is back (repaired, if it failed while away)."""
        self.withdrawn[node] = False
        self.state[node] = int(NodeState.UP)
        self.usable[node] = True
        self.free[node] = self.cap[node] - self.alloc[node]
        if self.log is not None:
            self.log.append(("node_returned", self.ev.now, node, ()))

    def _next_failure(self, node: int) -> None:
        assert self.failures is not None
        nxt = self.ev.now + self.failures.time_to_failure(self.ev.rng)
        if math.isfinite(nxt):
            self.ev.push(nxt, FAILURE, FAILURE, (node, None))

    def drain(self, node: int) -> None:
        """Take no new work on ``node``; jobs on it run to the end."""
        self.state[node] = int(NodeState.DRAINING)
        self.usable[node] = False
        self.free[node] = 0

    # ------------------------------------------------------------------ cycle
    def _cycle(self) -> None:
        if not self.queues:
            return
        if self.busy >= self.cluster.total_gpus and not self.policy.can_evict:
            return
        self.cycles += 1
        snap = Snapshot(
            now=self.ev.now,
            jobs=self.jobs,
            free=self.free,
            usable=self.usable,
            leaf=self.cluster.node_leaf,
            running=self.running,
            progress=self.progress,
            attained=self.attained,
            run_start=self.run_start,
            startup=self.startup,
            est_end=self.est_end,
            end_heap=self.end_heap,
            tenant_usage=self.tenant_usage,
            total_gpus=self.cluster.total_gpus,
            quotas=self.quota_book,
            node_jobs=self.node_jobs,
            tenant_running=self.tenant_running,
        )
        if self.timer is not None:
            t0 = self.timer()
            plan = schedule(snap, self.queues, self.policy)
            self.cycle_seconds.append(self.timer() - t0)
        else:
            plan = schedule(snap, self.queues, self.policy)
        self._apply(plan)

    def _apply(self, plan: CyclePlan) -> None:
        res = plan.reservation
        if self.log is not None and res is not None and math.isfinite(res.at):
            self.log.append(("reserve", res.at, res.job, ()))
        for p in plan.preempts:
            self._preempt(p.job)
        now = self.ev.now
        for a in plan.admits:
            job = a.job
            self.queues.remove(job)
            for node, count in a.placement:
                if count > self.free[node] or not self.usable[node]:
                    raise AssertionError(f"over-allocation of node {node} by job {job}")
                self.free[node] -= count
                self.alloc[node] += count
                self.node_jobs[node].add(job)
            g = self.gpus[job]
            self.running[job] = a.placement
            if self.log is not None:
                self.log.append(("start", now, job, a.placement))
            self.busy += g
            self.tenant_usage[self.jobs.tenant[job]] += g
            self.tenant_running[self.jobs.tenant[job]][job] = None
            self.run_start[job] = now
            if math.isnan(self.first_start[job]):
                self.first_start[job] = now
            startup = float(self.startup[job])
            remaining = self.duration[job] - float(self.progress[job])
            epoch = self.epoch[job]
            self.ev.push(now + startup + remaining, FINISH, FINISH, (job, epoch))
            if self.policy.uses_backfill:
                est = max(float(self.jobs.estimate[job]) - float(self.progress[job]), 0.0)
                self.est_end[job] = now + startup + est
                heapq.heappush(self.end_heap, (now + startup + est, job))
            if self.policy.name == "las":
                thr = next_las_threshold(self.policy, float(self.attained[job]))
                if thr is not None:
                    t = now + (thr - float(self.attained[job])) / g
                    self.ev.push(t, DEMOTE, DEMOTE, (job, epoch))
        if plan.admits or plan.preempts:
            self._record()
        if len(self.end_heap) > 2 * len(self.running) + 1024:
            self.end_heap = [(e, j) for e, j in self.end_heap if self.est_end[j] == e]
            heapq.heapify(self.end_heap)

    def _result(self) -> SimResult:
        self._record()
        return SimResult(
            jobs=self.jobs,
            total_gpus=self.cluster.total_gpus,
            submit=self.jobs.submit,
            first_start=self.first_start,
            finish=self.finish,
            dropped=self.dropped,
            attained=self.attained,
            preemptions=self.preemptions,
            restarts=self.restarts,
            allocated_gpu_seconds=self.busy_gs,
            lost_failure_gpu_seconds=self.lost_fail,
            preempt_overhead_gpu_seconds=self.lost_preempt,
            tenant_gpu_seconds=self.tenant_gs,
            alloc_times=self.alloc_t,
            alloc_gpus=self.alloc_g,
            events=self.events,
            cycles=self.cycles,
            node_failures=self.node_failures,
            cycle_seconds=self.cycle_seconds,
        )


def simulate(
    jobs: JobTable,
    cluster: ClusterSpec,
    policy: Policy,
    *,
    failures: FailureModel | None = None,
    seed: int = 0,
    preempt_overhead: float = 0.0,
) -> SimResult:
    """Run ``jobs`` on ``cluster`` under ``policy`` and return the raw result."""
    sim = JobSimulator(
        jobs, cluster, policy, failures=failures, seed=seed, preempt_overhead=preempt_overhead
    )
    return sim.run()
