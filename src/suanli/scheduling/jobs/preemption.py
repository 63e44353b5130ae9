"""Victim selection: which running jobs to preempt so that one pending job fits. Pure.

:func:`select_victims` takes the free vector and the candidates *in eviction order* (the
policy decides the order: most remaining work first for SRTF, lowest LAS level or spot class
first, most recently started borrower first for fair-share reclaim). It gives candidates' GPUs
back one by one until the job can be placed, then drops every chosen victim whose nodes the
placement does not use, so no job is evicted for nothing. It never mutates its inputs and
returns ``None`` when even evicting every candidate would not make room. With ``whole_nodes``
a job above one node is placed only on nodes that the evictions leave wholly free.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from suanli.scheduling.jobs.model import BoolArray, IntArray
from suanli.scheduling.jobs.placement import Placement, Strategy, place


@dataclass(frozen=True)
class VictimChoice:
    placement: Placement
    victims: tuple[int, ...]


def select_victims(
    free: IntArray,
    leaf: IntArray,
    usable: BoolArray,
    gpus: int,
    candidates: Iterable[int],
    placements: Mapping[int, Placement],
    strategy: Strategy = Strategy.CONSOLIDATED,
    single_node: int = 8,
    whole_nodes: bool = False,
) -> VictimChoice | None:
    """Fewest-in-order victims among ``candidates`` that let a ``gpus``-GPU job be placed."""
    scratch = free.copy()
    total = int(scratch.sum())
    taken: list[int] = []
    for job in candidates:
        taken.append(job)
        touched: list[int] = []
        for node, count in placements[job]:
            if usable[node]:
                scratch[node] += count
                total += count
                touched.append(node)
        if gpus <= single_node:
            fits = [n for n in touched if int(scratch[n]) >= gpus]
            if fits:
                node = min(fits, key=lambda n: (int(scratch[n]), n))
                victims = tuple(j for j in taken if any(n == node for n, _ in placements[j]))
                return VictimChoice(((node, gpus),), victims)
            continue
        if total < gpus:
            continue
        placement = place(scratch, leaf, gpus, strategy, single_node, whole_nodes)
        if placement is not None:
            used = {n for n, _ in placement}
            victims = tuple(j for j in taken if any(n in used for n, _ in placements[j]))
            return VictimChoice(placement, victims)
    return None
