"""Issue 16's operations alerts on a ledger wired to the simulated engine (both databases): the
watcher stamps each poll, a leased node down beyond its SLA and a drain set by the site raise
alerts on the dashboard's overview, a watcher that stops polling raises one too."""

from __future__ import annotations

from datetime import timedelta

from conftest import Wired
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.cluster.inventory import last_polls
from suanli.web import views
from suanli.web.ops_alerts import WATCH_STALE, ops_alerts


def _kinds(w: Wired) -> list[str]:
    return [a.kind for a in ops_alerts(w.svc, views.all_servers(w.svc))]


def test_watcher_polls_sla_breach_and_foreign_drain_alerts(wired: Wired) -> None:
    w = wired
    w.cluster.sync(apply=True)
    assert last_polls(w.svc.sessions) == {"dev": None}
    assert _kinds(w) == ["watcher_stale"]  # wired, never polled
    w.cluster.watch()
    assert last_polls(w.svc.sessions) == {"dev": w.clock.now()}
    assert _kinds(w) == []

    w.svc.money.tenancy.create_customer("acme", "Acme")
    lease = w.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", w.clock.now().date(), 12, serials=("gn3",),
                  notice_days=0),
        "ops",
    )  # fmt: skip
    w.cluster.reconcile()
    w.backend.fail_node("gn3")
    w.cluster.watch()
    w.clock.advance(timedelta(hours=3))  # 99.5 % of April allows 3.6 h
    w.cluster.watch()
    assert _kinds(w) == []
    w.clock.advance(timedelta(hours=1))
    w.cluster.watch()
    (alert,) = ops_alerts(w.svc, views.all_servers(w.svc))
    assert alert.kind == "sla_breach" and alert.href == "/fleet/gn3#downtime"
    assert f"gn3 leased to acme ({lease.number}) down 4.0 h" in alert.text
    assert "3.6 h" in alert.text and "still down" in alert.text

    w.backend.drain("gn2", "NHC: GPU Xid 79")  # a health check, not Suanli
    w.cluster.reconcile()
    drains = [a for a in ops_alerts(w.svc, views.all_servers(w.svc)) if a.kind == "foreign_drain"]
    assert [a.href for a in drains] == ["/fleet/gn2#downtime"]
    assert "NHC: GPU Xid 79" in drains[0].text

    w.clock.advance(WATCH_STALE + timedelta(seconds=1))  # the watcher stopped
    assert _kinds(w) == ["sla_breach", "foreign_drain", "watcher_stale"]
