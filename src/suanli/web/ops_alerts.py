"""Operations alerts of the overview (issue 16): a leased server down longer than its SLA
allows, a drain set outside Suanli, a failure watcher that has not polled recently.

The rules are pure functions of domain values (SLA events and contracts, servers and their
last transition, the watcher's last polls); :func:`ops_alerts` reads those values through the
services. Vocabulary:

- *SLA allowance*: the downtime a lease's uptime promise leaves in a calendar month per
  server, ``(1 - sla_uptime) × hours of the month`` (99.5 % of a 31-day month: 3.7 h);
- *foreign drain*: the cluster engine drained a node with a reason Suanli did not write (a
  health check, an operator); ``cluster reconcile`` moves such an in-service server to
  ``maintenance`` with the reason ``drained by the site: …``;
- *stale watcher*: no finished poll of a wired cluster for :data:`WATCH_STALE` (``cluster
  watch`` ticks every 10 s by default), or none ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from suanli.core.billing import month_of
from suanli.core.contracts import Contract, SlaEvent
from suanli.core.fleet import Server, ServerState, Transition
from suanli.core.i18n import _
from suanli.services.cluster.inventory import ACTOR as CLUSTER_ACTOR
from suanli.services.cluster.inventory import SITE_DRAIN, last_polls
from suanli.services.container import Services
from suanli.web import money_views as mv
from suanli.web import views
from suanli.web.views import Alert

WATCH_STALE = timedelta(minutes=10)


def _hours(delta: timedelta) -> str:
    h = delta.total_seconds() / 3600
    return f"{h:,.1f} h" if h < 72 else _("%(days).1f days") % {"days": h / 24}


def sla_breaches(
    events: Iterable[SlaEvent], contracts: Mapping[str, Contract], now: datetime
) -> list[Alert]:
    """Leased servers whose downtime this month exceeds their lease's SLA allowance."""
    month = month_of(now.date())
    start = datetime.combine(month.start, datetime.min.time(), tzinfo=UTC)
    month_hours = (month.end - month.start).days * 24
    down: dict[tuple[str, str], timedelta] = {}
    still_down: set[tuple[str, str]] = set()
    for e in events:
        key = (e.contract, e.serial)
        until = e.down_until or now
        overlap = min(until, now) - max(e.down_from, start)
        if overlap > timedelta(0):
            down[key] = down.get(key, timedelta(0)) + overlap
        if e.down_until is None:
            still_down.add(key)
    out = []
    for (number, serial), total in sorted(down.items()):
        contract = contracts.get(number)
        if contract is None:
            continue
        allowed = timedelta(hours=float(1 - contract.sla_uptime) * month_hours)
        if total > allowed:
            state = _("still down") if (number, serial) in still_down else _("back up")
            out.append(
                Alert(
                    "sla_breach",
                    "danger",
                    _(
                        "%(serial)s leased to %(customer)s (%(contract)s) down %(down)s in "
                        "%(month)s, beyond the %(allowed)s its %(sla)s SLA allows; %(state)s"
                    )
                    % {
                        "serial": serial,
                        "customer": contract.customer,
                        "contract": number,
                        "down": _hours(total),
                        "month": month.key,
                        "allowed": _hours(allowed),
                        "sla": f"{contract.sla_uptime:.1%}",
                        "state": state,
                    },
                    f"/fleet/{serial}#downtime",
                )
            )
    return out


def foreign_drains(servers: Iterable[Server], last: Mapping[str, Transition]) -> list[Alert]:
    """Servers in maintenance because the engine drained their node outside Suanli."""
    out = []
    for s in servers:
        t = last.get(s.serial)
        if (
            s.state is ServerState.MAINTENANCE
            and t is not None
            and t.actor == CLUSTER_ACTOR
            and t.reason.startswith(SITE_DRAIN)
        ):
            out.append(
                Alert(
                    "foreign_drain",
                    "warning",
                    _(
                        "%(serial)s drained outside Suanli since %(at)s UTC (%(reason)s); "
                        "it returns to service when the site resumes the node"
                    )
                    % {
                        "serial": s.serial,
                        "at": f"{t.at:%Y-%m-%d %H:%M}",
                        "reason": t.reason.removeprefix(SITE_DRAIN).lstrip(": ") or _("no reason"),
                    },
                    f"/fleet/{s.serial}#downtime",
                )
            )
    return out


def stale_watchers(
    polls: Mapping[str, datetime | None], now: datetime, stale: timedelta = WATCH_STALE
) -> list[Alert]:
    """Wired clusters whose failure watcher has not finished a poll within ``stale``."""
    out = []
    for cluster, at in sorted(polls.items()):
        if at is not None and now - at <= stale:
            continue
        when = (
            _("has never polled")
            if at is None
            else _("last polled %(ago)s ago") % {"ago": _hours(now - at)}
        )
        out.append(
            Alert(
                "watcher_stale",
                "danger",
                _(
                    "the failure watcher of cluster %(cluster)s %(when)s: node failures are not "
                    "turned into SLA downtime (run `suanli cluster watch`)"
                )
                % {"cluster": cluster, "when": when},
                None,
            )
        )
    return out


def last_transitions(history: Iterable[Transition]) -> dict[str, Transition]:
    last: dict[str, Transition] = {}
    for t in sorted(history, key=lambda t: (t.at, t.id)):
        last[t.serial] = t
    return last


def ops_alerts(
    svc: Services,
    servers: list[Server],
    contracts: list[Contract] | None = None,
    events: list[SlaEvent] | None = None,
) -> list[Alert]:
    """The three alerts, reading what the caller did not pass (the overview passes what it
    already read)."""
    now = svc.clock.now()
    by_number = {c.number: c for c in (mv.contracts(svc) if contracts is None else contracts)}
    events = mv.sla_events(svc) if events is None else events
    in_maintenance = [s for s in servers if s.state is ServerState.MAINTENANCE]
    last = {s.serial: t for s in in_maintenance if (t := _last(svc, s.serial)) is not None}
    return [
        *sla_breaches(events, by_number, now),
        *foreign_drains(in_maintenance, last),
        *stale_watchers(last_polls(svc.sessions), now),
    ]


def _last(svc: Services, serial: str) -> Transition | None:
    history = views.all_transitions(svc, serial)
    return last_transitions(history).get(serial)
