"""Pure archive arithmetic: canonical JSON of report figures and their differences.

Vocabulary: *figures* are a flat mapping ``"section.name" -> str`` (amounts as strings to the
cent, so nothing is lost to floats). Two figure sets are the same report iff their canonical
JSON is byte-identical; otherwise :func:`differences` lists every key whose value changed,
appeared or disappeared, sorted by key, which is what a restatement shows.

Only ledger facts are archived: the digital twin's section is a projection of a model, left out
of the figures (``Section.archived`` false), so a change of scenario, seed or model is never a
restatement.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Difference:
    figure: str
    before: str | None
    after: str | None


def canonical_json(figures: Mapping[str, str]) -> str:
    return json.dumps(dict(figures), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def inputs_hash(canonical_inputs: str) -> str:
    """SHA-256 of the canonical text of every ledger row a report read."""
    return hashlib.sha256(canonical_inputs.encode("utf-8")).hexdigest()


def differences(before: Mapping[str, str], after: Mapping[str, str]) -> list[Difference]:
    keys = sorted(set(before) | set(after))
    return [
        Difference(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)
    ]


def differences_json(diffs: list[Difference]) -> str:
    return json.dumps(
        [{"figure": d.figure, "before": d.before, "after": d.after} for d in diffs],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def differences_from_json(text: str | None) -> list[Difference]:
    if not text:
        return []
    return [Difference(d["figure"], d["before"], d["after"]) for d in json.loads(text)]
