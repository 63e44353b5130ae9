"""Regression (found by `--through-ledger`): a leased server that is down cannot fail again, so
the twin's outages of one server never overlap and a month's SLA credit counts each second of
downtime once, as the ledger records it."""

from __future__ import annotations

from itertools import pairwise

from suanli.simulation.twin import leasebook as lb
from suanli.simulation.twin.library import load_twin


def _stepped(seed: int) -> lb._Book:
    book = lb._Book(load_twin("ledger-check"), seed)
    for t in range(1, book.months + 1):
        lb._renewals(book, t)
        lb._booked(book, t)
        lb._arrivals(book, t)
        lb._failures(book, t, lb.period_of(book.start, t))
    return book


def test_outages_of_one_server_never_overlap() -> None:
    for seed in range(3):
        book = _stepped(seed)
        assert sum(len(s) for s in book.outages.values()) > 30  # failures ten times Llama 3's
        for spans in book.outages.values():
            spans = sorted(spans)
            assert all(b0 <= a1 for (_, b0), (a1, _) in pairwise(spans))


def test_downtime_hours_are_the_kept_outages() -> None:
    book = lb._Book(load_twin("ledger-check"), 0)
    hours = 0.0
    for t in range(1, book.months + 1):
        lb._renewals(book, t)
        lb._booked(book, t)
        lb._arrivals(book, t)
        hours += lb._failures(book, t, lb.period_of(book.start, t))
    kept = sum(b - a for spans in book.outages.values() for a, b in spans) / 3600.0
    assert abs(hours - kept) < 1e-6
