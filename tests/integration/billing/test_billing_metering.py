"""Usage ingestion on both engines: idempotency by event id, row-level rejections, late rows;
tokens: hashed at rest, shown once, expiring and revocable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from suanli.core.errors import ConflictError, UnauthorizedError, ValidationError
from suanli.services.tenancy import Role, hash_secret
from suanli.store.db import make_session_factory, transaction
from suanli.store.models import ApiTokenRow, UsageRecordRow

H800 = "HGX-H800-8"


def rec(event_id: str, **kw) -> dict:  # type: ignore[no-untyped-def, type-arg]
    base = dict(event_id=event_id, customer="acme", sku=H800, priority_class="standard", job_id="j",
                started_at="2024-04-02T00:00:00+00:00", ended_at="2024-04-02T01:00:00+00:00", gpu_seconds="28800")  # fmt: skip
    base.update(kw)
    return base


def test_ingestion_is_idempotent_and_reports_bad_rows(world, engine) -> None:  # type: ignore[no-untyped-def]
    m = world.svc.money
    m.tenancy.create_customer("acme", "Acme AI")
    m.metering.set_price(H800, "standard", "15", date(2024, 1, 1))
    batch = [
        rec("a1"),
        rec("a2", customer="ghost"),
        rec("a3", gpu_seconds="-5"),
        rec("a4", gpu_seconds="lots"),
        rec("a5", priority_class="spot"),  # no spot price
        rec("a6", priority_class="reserved"),  # no reserved contract
        rec("a7", ended_at="2024-04-01T00:00:00+00:00"),
        rec("a8", sku="NOPE"),
        rec("a9", started_at="yesterday"),
        rec("a1"),  # repeated inside the batch
        rec(
            "a10", started_at="2024-04-01T23:00:00+00:00", ended_at="2024-04-02T00:00:00+00:00"
        ),  # out of order
    ]
    result = m.metering.ingest(batch)
    assert (result.received, result.accepted, result.duplicates) == (11, 2, 1)
    assert [(r.row, r.event_id, r.field) for r in result.rejected] == [
        (1, "a2", "customer"), (2, "a3", "gpu_seconds"), (3, "a4", "gpu_seconds"),
        (4, "a5", "priority_class"), (5, "a6", "priority_class"), (6, "a7", "ended_at"),
        (7, "a8", "sku"), (8, "a9", "started_at"),
    ]  # fmt: skip
    assert "unknown customer" in result.rejected[0].reason
    again = m.metering.ingest(batch)
    assert (again.accepted, again.duplicates) == (0, 3)
    with transaction(make_session_factory(engine)) as s:
        assert len(s.scalars(select(UsageRecordRow.event_id)).all()) == 2
    page = m.metering.list_usage(customer="acme", limit=1)
    assert page.total == 2 and page.items[0].event_id == "a10"  # ordered by start
    with pytest.raises(ValidationError):
        m.metering.set_price(H800, "reserved", "1", date(2024, 1, 1))


def test_tokens_hashed_expiring_revocable(world, engine) -> None:  # type: ignore[no-untyped-def]
    t = world.svc.money.tenancy
    t.create_customer("acme", "Acme AI")
    issued = t.bootstrap()
    with pytest.raises(ConflictError):
        t.bootstrap()
    assert t.authenticate(issued.secret).role is Role.ADMIN
    with transaction(make_session_factory(engine)) as s:
        stored = s.scalars(select(ApiTokenRow.token_hash)).one()
    assert stored == hash_secret(issued.secret) and issued.secret not in stored
    user = t.create_user("ann", "customer", customer="acme")
    assert user.customer == "acme"
    with pytest.raises(ValidationError):
        t.create_user("bob", "customer")
    tok = t.issue_token("ann", days=1)
    p = t.authenticate(tok.secret)
    assert (p.role, p.customer_code) == (Role.CUSTOMER, "acme")
    world.clock.advance(timedelta(days=1, seconds=1))
    with pytest.raises(UnauthorizedError) as info:
        t.authenticate(tok.secret)
    assert info.value.code == "auth.token_expired"
    tok2 = t.issue_token("ann", days=30)
    t.revoke_token(tok2.token.id)
    with pytest.raises(UnauthorizedError) as info:
        t.authenticate(tok2.secret)
    assert info.value.code == "auth.token_revoked"
    with pytest.raises(UnauthorizedError):
        t.authenticate("sl_forged")
