"""Fleet domain: sites, cabinets, servers and the server lifecycle state machine (pure code).

Owns the *rules* of the server lifecycle; the services layer applies them and records every
transition (who, when, why). Nothing here touches a database.

States and edges (``TRANSITIONS`` is the single source of truth)::

    ordered ──► delivered ──► burn_in ──► available ◄──► leased
       │            │            │           ▲  ▲ ◄──► cloud_pool
       ▼            ▼            │           │  └──── maintenance ◄── available | leased | cloud_pool
    cancelled    retired         ▼           │
                              failed ◄── burn_in | available | leased | cloud_pool | maintenance
                                │
                                ├──► repaired ──► burn_in (re-test) | available
                                └──► retired ◄── delivered | available | maintenance | failed

- ``ordered``: a server announced on a purchase order (serial known before shipment).
- ``delivered``: received, not yet in a cabinet. Initial states are ``ordered`` and ``delivered``.
- ``burn_in``: racked in a cabinet and under acceptance test. Racking (``delivered → burn_in``)
  needs a cabinet and must fit the cabinet's power budget: the sum of nameplate kW of the
  servers already in it plus this one must not exceed ``power_budget_kw``.
- ``available`` ⇄ ``leased`` (bare-metal lease) and ``available`` ⇄ ``cloud_pool`` (sold by the
  GPU-hour). ``maintenance`` is entered from any in-service state and returns to ``available``.
- ``failed`` → ``repaired`` → ``available`` (or back to ``burn_in``), or ``failed`` → ``retired``.
- ``retired`` and ``cancelled`` are terminal; leaving the fleet releases the cabinet slot.

Servers keep their cabinet in every racked state, so the power budget counts them until they
are retired.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from suanli.core.errors import ConflictError, ValidationError


class ServerState(StrEnum):
    ORDERED = "ordered"
    DELIVERED = "delivered"
    BURN_IN = "burn_in"
    AVAILABLE = "available"
    LEASED = "leased"
    CLOUD_POOL = "cloud_pool"
    MAINTENANCE = "maintenance"
    FAILED = "failed"
    REPAIRED = "repaired"
    RETIRED = "retired"
    CANCELLED = "cancelled"


S = ServerState

TRANSITIONS: Mapping[ServerState, frozenset[ServerState]] = {
    S.ORDERED: frozenset({S.DELIVERED, S.CANCELLED}),
    S.DELIVERED: frozenset({S.BURN_IN, S.RETIRED}),
    S.BURN_IN: frozenset({S.AVAILABLE, S.FAILED}),
    S.AVAILABLE: frozenset({S.LEASED, S.CLOUD_POOL, S.MAINTENANCE, S.FAILED, S.RETIRED}),
    S.LEASED: frozenset({S.AVAILABLE, S.MAINTENANCE, S.FAILED}),
    S.CLOUD_POOL: frozenset({S.AVAILABLE, S.MAINTENANCE, S.FAILED}),
    S.MAINTENANCE: frozenset({S.AVAILABLE, S.FAILED, S.RETIRED}),
    S.FAILED: frozenset({S.REPAIRED, S.RETIRED}),
    S.REPAIRED: frozenset({S.AVAILABLE, S.BURN_IN}),
    S.RETIRED: frozenset(),
    S.CANCELLED: frozenset(),
}

INITIAL_STATES: frozenset[ServerState] = frozenset({S.ORDERED, S.DELIVERED})
TERMINAL_STATES: frozenset[ServerState] = frozenset({S.RETIRED, S.CANCELLED})
#: States in which a server occupies a cabinet slot (and its power budget).
RACKED_STATES: frozenset[ServerState] = frozenset(
    {S.BURN_IN, S.AVAILABLE, S.LEASED, S.CLOUD_POOL, S.MAINTENANCE, S.FAILED, S.REPAIRED}
)


def parse_state(value: str, field: str = "state") -> ServerState:
    """Parse a state name, raising a coded :class:`ValidationError` naming ``field``."""
    try:
        return ServerState(value)
    except ValueError:
        raise ValidationError(
            "server.invalid_state",
            f"unknown server state {value!r}",
            {field: f"one of {[s.value for s in ServerState]}"},
        ) from None


@dataclass(frozen=True, slots=True)
class TransitionDecision:
    """What applying ``source → target`` requires: a cabinet to rack into, or releasing one."""

    source: ServerState
    target: ServerState
    needs_cabinet: bool
    releases_cabinet: bool


def decide_transition(
    source: ServerState, target: ServerState, *, has_cabinet: bool
) -> TransitionDecision:
    """Validate ``source → target`` and return what it implies; raise on a forbidden edge.

    ``has_cabinet`` says whether a cabinet is known for the server after the move (given with
    the request, or already assigned). Entering ``burn_in`` from ``delivered`` racks the server.
    """
    if target not in TRANSITIONS[source]:
        allowed = sorted(s.value for s in TRANSITIONS[source])
        raise ConflictError(
            "server.invalid_transition",
            f"a server cannot go from {source.value} to {target.value}",
            {"to_state": f"one of {allowed}" if allowed else f"none: {source.value} is terminal"},
        )
    needs_cabinet = target in RACKED_STATES and source not in RACKED_STATES
    if needs_cabinet and not has_cabinet:
        raise ValidationError(
            "server.cabinet_required",
            f"moving a server to {target.value} racks it: name the cabinet",
            {"cabinet": "required when racking"},
        )
    return TransitionDecision(
        source=source,
        target=target,
        needs_cabinet=needs_cabinet,
        releases_cabinet=target not in RACKED_STATES,
    )


def check_power_budget(budget_kw: Decimal, used_kw: Decimal, adding_kw: Decimal) -> None:
    """Raise ``cabinet.power_budget_exceeded`` when ``used + adding`` exceeds ``budget``."""
    if used_kw + adding_kw > budget_kw:
        raise ConflictError(
            "cabinet.power_budget_exceeded",
            f"racking needs {adding_kw} kW but the cabinet has {budget_kw - used_kw} kW "
            f"left of {budget_kw} kW",
            {"cabinet": f"at most {budget_kw - used_kw} kW free"},
        )


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    code: str
    name: str
    city: str | None


@dataclass(frozen=True, slots=True)
class Cabinet:
    id: int
    site_code: str
    code: str
    power_budget_kw: Decimal
    used_kw: Decimal
    servers: int


@dataclass(frozen=True, slots=True)
class Server:
    id: int
    serial: str
    sku: str
    gpu_count: int
    nameplate_kw: Decimal
    state: ServerState
    purchase_price: Decimal | None
    currency: str
    supplier: str | None
    po_number: str | None
    po_line_no: int | None
    site_code: str | None
    cabinet_code: str | None
    network_group: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Transition:
    id: int
    serial: str
    from_state: ServerState | None
    to_state: ServerState
    actor: str
    reason: str
    at: datetime  # when the step took effect (the business date)
    cabinet_code: str | None
    recorded_at: datetime | None = None  # when it was written (audit wall clock)
