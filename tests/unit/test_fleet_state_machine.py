"""Every lifecycle rule of core.fleet: the full edge table, cabinet needs and the power check."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from suanli.core.errors import ConflictError, ValidationError
from suanli.core.fleet import (
    RACKED_STATES,
    TRANSITIONS,
    ServerState,
    check_power_budget,
    decide_transition,
    parse_state,
)

S = ServerState
# Written out independently of TRANSITIONS so a change to the table must be a deliberate one.
EXPECTED_EDGES = {
    (S.ORDERED, S.DELIVERED), (S.ORDERED, S.CANCELLED),
    (S.DELIVERED, S.BURN_IN), (S.DELIVERED, S.RETIRED),
    (S.BURN_IN, S.AVAILABLE), (S.BURN_IN, S.FAILED),
    (S.AVAILABLE, S.LEASED), (S.AVAILABLE, S.CLOUD_POOL), (S.AVAILABLE, S.MAINTENANCE),
    (S.AVAILABLE, S.FAILED), (S.AVAILABLE, S.RETIRED),
    (S.LEASED, S.AVAILABLE), (S.LEASED, S.MAINTENANCE), (S.LEASED, S.FAILED),
    (S.CLOUD_POOL, S.AVAILABLE), (S.CLOUD_POOL, S.MAINTENANCE), (S.CLOUD_POOL, S.FAILED),
    (S.MAINTENANCE, S.AVAILABLE), (S.MAINTENANCE, S.FAILED), (S.MAINTENANCE, S.RETIRED),
    (S.FAILED, S.REPAIRED), (S.FAILED, S.RETIRED),
    (S.REPAIRED, S.AVAILABLE), (S.REPAIRED, S.BURN_IN),
}  # fmt: skip


def test_edge_table_is_the_documented_one() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == EXPECTED_EDGES
    assert set(TRANSITIONS) == set(ServerState)


@pytest.mark.parametrize(("source", "target"), list(product(ServerState, ServerState)))
def test_every_pair_is_allowed_iff_an_edge(source: ServerState, target: ServerState) -> None:
    if (source, target) in EXPECTED_EDGES:
        decision = decide_transition(source, target, has_cabinet=True)
        assert (decision.source, decision.target) == (source, target)
    else:
        with pytest.raises(ConflictError) as info:
            decide_transition(source, target, has_cabinet=True)
        assert info.value.code == "server.invalid_transition"
        assert "to_state" in info.value.fields


def test_only_racking_needs_a_cabinet() -> None:
    racking = {(a, b) for a, b in EXPECTED_EDGES if b in RACKED_STATES and a not in RACKED_STATES}
    assert racking == {(S.DELIVERED, S.BURN_IN)}
    with pytest.raises(ValidationError) as info:
        decide_transition(S.DELIVERED, S.BURN_IN, has_cabinet=False)
    assert info.value.code == "server.cabinet_required"
    assert decide_transition(S.DELIVERED, S.BURN_IN, has_cabinet=True).needs_cabinet
    # moves between racked states keep the cabinet and need none
    assert not decide_transition(S.AVAILABLE, S.LEASED, has_cabinet=False).needs_cabinet


@pytest.mark.parametrize(("source", "target"), sorted(EXPECTED_EDGES))
def test_leaving_the_racked_states_releases_the_cabinet(
    source: ServerState, target: ServerState
) -> None:
    decision = decide_transition(source, target, has_cabinet=True)
    assert decision.releases_cabinet == (target not in RACKED_STATES)


def test_terminal_states_have_no_exit() -> None:
    for terminal in (S.RETIRED, S.CANCELLED):
        with pytest.raises(ConflictError, match=r"terminal|cannot"):
            decide_transition(terminal, S.AVAILABLE, has_cabinet=True)


def test_power_budget_boundary() -> None:
    check_power_budget(Decimal("20.4"), Decimal("10.2"), Decimal("10.2"))  # exactly full is fine
    with pytest.raises(ConflictError) as info:
        check_power_budget(Decimal("20.4"), Decimal("10.2"), Decimal("10.201"))
    assert info.value.code == "cabinet.power_budget_exceeded"


def test_parse_state() -> None:
    assert parse_state("cloud_pool") is S.CLOUD_POOL
    with pytest.raises(ValidationError) as info:
        parse_state("broken", field="to_state")
    assert info.value.fields.keys() == {"to_state"}
