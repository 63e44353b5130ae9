"""Idempotency keys for the POSTs that create contracts, usage batches and invoices.

Single writer of ``idempotency_keys``. Protocol (one row per (scope, key), unique):

1. :meth:`IdempotencyService.claim` inserts a pending row. If one exists with the same request
   hash and a stored response, that response is returned (the retry is answered from the
   table, nothing runs twice); same key with a different body → ``idempotency.key_reused``
   (422); a pending row → ``idempotency.in_progress`` (409) while its lease runs.
2. The caller runs the operation, then :meth:`complete` stores status and body; on a coded
   error :meth:`release` drops the claim so the client may retry.

A key's status is read from its row: *pending* (no stored response) or *done* (response
stored). A pending claim is a lease of :data:`LEASE` from ``created_at``: when a process dies
holding it (``kill -9`` during ``POST /invoice-runs``) nobody calls :meth:`release`, and once the
lease has expired the next retry takes the key over (compare-and-set on ``created_at``, so one
retry wins) and runs the operation again. That is safe for the keyed operations because each is
idempotent in the database too: an invoice run skips customers already invoiced for the
period, usage batches are idempotent by event id. A contract whose commit landed just before
the crash would be signed again on such a retry: check ``GET /contracts`` first after a crash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, ValidationError
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import IdempotencyKeyRow

LEASE = timedelta(minutes=15)
"""How long a pending claim blocks retries before it counts as abandoned."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    body: Any


def request_hash(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


class IdempotencyService:
    def __init__(self, sessions: SessionFactory, clock: Clock, lease: timedelta = LEASE) -> None:
        self.sessions = sessions
        self.clock = clock
        self.lease = lease

    def claim(self, scope: str, key: str, digest: str) -> StoredResponse | None:
        """``None`` when the caller should run the operation; the stored answer otherwise."""
        if not key or len(key) > 200:
            raise ValidationError(
                "idempotency.invalid_key",
                "Idempotency-Key is 1..200 characters",
                {"Idempotency-Key": "1..200 chars"},
            )
        try:
            with transaction(self.sessions) as s:
                s.add(
                    IdempotencyKeyRow(
                        scope=scope, key=key, request_hash=digest, created_at=self.clock.now()
                    )
                )
            return None
        except IntegrityError:
            pass
        with transaction(self.sessions) as s:
            row = s.scalars(
                select(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
                )
            ).one_or_none()
            if row is None:  # released in between: try once more
                return self.claim(scope, key, digest)
            if row.request_hash != digest:
                raise ValidationError(
                    "idempotency.key_reused",
                    "this Idempotency-Key was used with another request",
                    {"Idempotency-Key": "a new key per request"},
                )
            if row.status_code is None or row.response is None:
                if self._take_over(row):
                    return None
                expires = row.created_at + self.lease
                raise ConflictError(
                    "idempotency.in_progress",
                    f"a request with this Idempotency-Key is still running (claim held until "
                    f"{expires.isoformat()})",
                    {"Idempotency-Key": f"retry after {expires.isoformat()}"},
                )
            return StoredResponse(row.status_code, json.loads(row.response))

    def _take_over(self, row: IdempotencyKeyRow) -> bool:
        """Claim a pending key whose lease has expired; ``True`` for the one retry that wins."""
        now = self.clock.now()
        if row.created_at + self.lease > now:
            return False
        with transaction(self.sessions) as s:
            taken = s.connection().execute(
                update(IdempotencyKeyRow)
                .where(
                    IdempotencyKeyRow.id == row.id,
                    IdempotencyKeyRow.status_code.is_(None),
                    IdempotencyKeyRow.created_at == row.created_at,
                )
                .values(created_at=now)
            )
            return bool(taken.rowcount == 1)

    def complete(self, scope: str, key: str, status_code: int, body: Any) -> None:
        with transaction(self.sessions) as s:
            s.execute(
                update(IdempotencyKeyRow)
                .where(IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key)
                .values(status_code=status_code, response=json.dumps(body))
            )

    def release(self, scope: str, key: str) -> None:
        with transaction(self.sessions) as s:
            s.execute(
                delete(IdempotencyKeyRow).where(
                    IdempotencyKeyRow.scope == scope, IdempotencyKeyRow.key == key
                )
            )
