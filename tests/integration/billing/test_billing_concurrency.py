"""Concurrent money writes on SQLite and PostgreSQL (issue 12, defects 1 and 2): ten desks at
once must never credit more than a line holds nor apply more cash than an invoice owes.

Each client is a thread with its own session (its own connection from the pool), started
together behind a barrier so the read-check-write paths overlap.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.billing import parse_period
from suanli.core.errors import ConflictError
from suanli.services.billing.leasing import LeaseSpec
from suanli.settings import load_settings

CLIENTS = 10


def _together(n: int, work: Callable[[int], object]) -> tuple[list[object], list[BaseException]]:
    """Run ``work(i)`` in ``n`` threads released at once; results and errors."""
    barrier = threading.Barrier(n)
    results: list[object] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def body(i: int) -> None:
        barrier.wait()
        try:
            got = work(i)
            with lock:
                results.append(got)
        except BaseException as exc:  # collected and asserted by the caller
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results, errors


def _one_invoice(world) -> str:  # type: ignore[no-untyped-def]
    """acme leases one server for April 2024 at 100.00 a month: one invoice, rent line 100.00."""
    m = world.svc.money
    world.servers(1)
    m.tenancy.create_customer("acme", "Acme AI")
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100", date(2024, 4, 1), 1, count=1), actor="sales"
    )
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    run = m.billing.run(parse_period("2024-04"))
    assert len(run.created) == 1
    number = run.created[0]
    assert m.ledger.get_invoice(number).lines[0].net == D("100.00")
    return number


def test_concurrent_credit_notes_never_exceed_the_line(world) -> None:  # type: ignore[no-untyped-def]
    number = _one_invoice(world)
    ledger = world.svc.money.ledger
    results, errors = _together(
        CLIENTS, lambda i: ledger.credit_note(number, f"desk {i}", {1: "100"})
    )
    assert len(results) == 1, errors
    assert all(
        isinstance(e, ConflictError) and e.code == "credit_note.exceeds_line" for e in errors
    ), errors
    notes = ledger.list_invoices(kind="credit_note").items
    assert sum((n.net for n in notes), D(0)) == D("-100.00")
    assert ledger.get_invoice(number).outstanding == D("0.00")


def test_concurrent_payments_never_overapply(world) -> None:  # type: ignore[no-untyped-def]
    number = _one_invoice(world)
    ledger = world.svc.money.ledger
    gross = ledger.get_invoice(number).gross
    results, errors = _together(
        CLIENTS,
        lambda i: ledger.record_payment("acme", gross, date(2024, 5, 10), reference=f"desk {i}"),
    )
    assert not errors and len(results) == CLIENTS
    applied = sum((p.applied for p in results), D(0))  # type: ignore[attr-defined]
    assert applied == gross
    assert ledger.get_invoice(number).outstanding == D("0.00")
    assert sum((r.total for r in ledger.aging(date(2024, 6, 1))), D(0)) == D(0)


@pytest.fixture
def app_and_admin(world, db_url: str):  # type: ignore[no-untyped-def]
    app = create_app(load_settings(database_url=db_url), clock=world.clock)
    secret = app.state.services.money.tenancy.bootstrap().secret
    return app, {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/customers", {"code": "same", "name": "Same Co"}),
        ("/api/v1/sites", {"code": "SH2", "name": "Shanghai 2"}),
        ("/api/v1/users", {"name": "sam", "role": "operator"}),
    ],
)
def test_defect11_concurrent_creates_answer_409_not_500(
    app_and_admin, path: str, body: dict
) -> None:  # type: ignore[no-untyped-def,type-arg]
    app, admin = app_and_admin
    with TestClient(app, raise_server_exceptions=False) as client:
        results, errors = _together(CLIENTS, lambda i: client.post(path, json=body, headers=admin))
    assert not errors
    codes = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert codes == [201] + [409] * (CLIENTS - 1), [r.text for r in results]  # type: ignore[attr-defined]
    assert all(r.json()["code"] for r in results if r.status_code == 409)  # type: ignore[attr-defined]


def test_defect11_a_500_says_connection_close(app_and_admin) -> None:  # type: ignore[no-untyped-def]
    app, _ = app_and_admin

    def boom() -> None:
        raise RuntimeError("unexpected")

    app.add_api_route("/boom-for-test", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = client.get("/boom-for-test")
    assert resp.status_code == 500 and resp.headers["connection"] == "close"
    assert resp.json() == {
        "code": "internal.error",
        "message": "internal error (logged)",
        "fields": {},
    }


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/invoice-runs", {"period": "not-a-month"}),
        ("/api/v1/contracts/leases", {"customer": 5}),
        ("/api/v1/usage/batches", {"records": "nope"}),
        ("/api/v1/customers", {}),
    ],
)
def test_authorisation_comes_before_validation(app_and_admin, path: str, body: dict) -> None:  # type: ignore[no-untyped-def,type-arg]
    """A customer token posting an invalid body to a staff operation gets 403, not a 422 that
    would describe a body it may not send at all."""
    app, admin = app_and_admin
    tenancy = app.state.services.money.tenancy
    tenancy.create_customer("acme", "Acme AI")
    tenancy.create_user("ann", "customer", "acme")
    ann = {"Authorization": f"Bearer {tenancy.issue_token('ann').secret}"}
    with TestClient(app) as client:
        resp = client.post(path, json=body, headers=ann)
        assert resp.status_code == 403 and resp.json()["code"] == "auth.forbidden", resp.text
        assert client.post(path, json=body, headers=admin).status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body", "created"),
    [
        (
            "POST",
            "/api/v1/servers",
            {"serial": "NEW-1", "sku": "HGX-H800-8", "state": "delivered"},
            201,
        ),
        (
            "POST",
            "/api/v1/purchase-orders",
            {
                "number": "PO-9",
                "supplier": "New H3C",
                "ordered_on": "2024-01-01",
                "lines": [
                    {
                        "sku": "HGX-H800-8",
                        "quantity": 2,
                        "unit_price": "100",
                        "promised_on": "2024-02-01",
                    }
                ],
            },
            201,
        ),
        (
            "PUT",
            "/api/v1/prices",
            {
                "sku": "HGX-H800-8",
                "priority_class": "spot",
                "gpu_hour_price": "5",
                "valid_from": "2024-01-01",
            },
            None,
        ),
    ],
)
def test_defect11_concurrent_servers_orders_and_prices_never_500(
    app_and_admin, method: str, path: str, body: dict, created: int | None
) -> None:  # type: ignore[no-untyped-def,type-arg]
    """The rest of defect 11's list (server, order, price): ten clients at once; a create has one
    winner and coded 409s for the others; identical ``PUT /prices`` are idempotent: all 200 with
    the same price, and one row stored."""
    app, admin = app_and_admin
    app.state.services.procurement.add_supplier("New H3C")
    with TestClient(app, raise_server_exceptions=False) as client:
        results, errors = _together(
            CLIENTS, lambda i: client.request(method, path, json=body, headers=admin)
        )
    assert not errors
    codes = sorted(r.status_code for r in results)  # type: ignore[attr-defined]
    assert all(c < 500 for c in codes), [r.text for r in results]  # type: ignore[attr-defined]
    if created is not None:
        assert codes == [created] + [409] * (CLIENTS - 1), [r.text for r in results]  # type: ignore[attr-defined]
    else:
        assert codes == [200] * CLIENTS, [r.text for r in results]  # type: ignore[attr-defined]
        assert len({r.text for r in results}) == 1  # type: ignore[attr-defined]
        prices = app.state.services.money.metering.list_prices("HGX-H800-8")
        assert [(p.priority_class, p.gpu_hour_price) for p in prices] == [("spot", 5)]
    assert all(r.json()["code"] for r in results if r.status_code >= 400)  # type: ignore[attr-defined]


def test_defect11_concurrent_ingest_never_500(app_and_admin) -> None:  # type: ignore[no-untyped-def]
    """Ten clients posting usage batches at once (``database is locked`` on SQLite was a 500):
    each batch is stored, or refused as a coded ``db.busy`` 503 that asks for a retry."""
    app, admin = app_and_admin
    svc = app.state.services.money
    svc.tenancy.create_customer("acme", "Acme AI")
    svc.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))

    def batch(i: int) -> list[dict[str, str]]:
        return [
            {"event_id": f"c{i}-{k}", "customer": "acme", "sku": "HGX-H800-8",
             "priority_class": "standard", "job_id": f"j{i}",
             "started_at": "2024-04-02T00:00:00Z", "ended_at": "2024-04-02T01:00:00Z",
             "gpu_seconds": "3600"}
            for k in range(200)
        ]  # fmt: skip

    with TestClient(app, raise_server_exceptions=False) as client:
        results, errors = _together(
            CLIENTS,
            lambda i: client.post(
                "/api/v1/usage/batches", json={"records": batch(i)}, headers=admin
            ),
        )
    assert not errors
    codes = [r.status_code for r in results]  # type: ignore[attr-defined]
    assert all(c < 300 or c == 503 for c in codes), [r.text for r in results]  # type: ignore[attr-defined]
    busy = [r for r in results if r.status_code == 503]  # type: ignore[attr-defined]
    assert all(r.json()["code"] == "db.busy" and r.headers["retry-after"] for r in busy)
    stored = svc.metering.list_usage(limit=1).total
    assert stored == 200 * (CLIENTS - len(busy))


def _credit_balance(world) -> str:  # type: ignore[no-untyped-def]
    """acme: April (113.00 gross) paid and fully credited → a 113.00 credit balance; May's
    invoice (113.00, issued 2024-06-01) is open. Returns May's invoice number."""
    m = world.svc.money
    world.servers(1)
    m.tenancy.create_customer("acme", "Acme AI")
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100", date(2024, 4, 1), 2, count=1), actor="sales"
    )
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    (april,) = m.billing.run(parse_period("2024-04")).created
    m.ledger.record_payment("acme", "113.00", date(2024, 5, 10))
    m.ledger.credit_note(april, "cancelled", issue_date=date(2024, 5, 20))
    world.clock.set(datetime(2024, 6, 2, tzinfo=UTC))
    (may,) = m.billing.run(parse_period("2024-05"), issue_date=date(2024, 6, 1)).created
    assert m.credits.balance("acme").balance == D("113.00")
    return str(may)


def test_concurrent_credit_applications_never_overapply(world) -> None:  # type: ignore[no-untyped-def]
    """Ten desks apply 20.00 of a 113.00 credit balance at once: five fit, five are refused."""
    may = _credit_balance(world)
    credits = world.svc.money.credits
    results, errors = _together(
        CLIENTS, lambda i: credits.apply("acme", may, date(2024, 6, 1), f"desk {i}", "20.00")
    )
    assert len(results) == 5, errors
    refused = {"credit.exceeds_balance", "credit.exceeds_invoice"}  # both are 13.00 then
    assert all(isinstance(e, ConflictError) and e.code in refused for e in errors), errors
    assert credits.balance("acme").balance == D("13.00")
    assert world.svc.money.ledger.get_invoice(may).outstanding == D("13.00")


def test_concurrent_refunds_and_applications_never_overdraw(world) -> None:  # type: ignore[no-untyped-def]
    """Ten desks at once, half refunding 30.00 and half applying 30.00: at most 113.00 used."""
    may = _credit_balance(world)
    credits = world.svc.money.credits

    def use(i: int) -> object:
        if i % 2:
            return credits.refund("acme", date(2024, 6, 1), f"desk {i}", "30.00")
        return credits.apply("acme", may, date(2024, 6, 1), f"desk {i}", "30.00")

    results, errors = _together(CLIENTS, use)
    assert len(results) == 3, errors
    assert all(
        isinstance(e, ConflictError) and e.code == "credit.exceeds_balance" for e in errors
    ), errors
    uses = credits.list_uses(customer="acme")
    assert sum((u.amount for u in uses), D(0)) == D("90.00")
    assert credits.balance("acme").balance == D("23.00")
