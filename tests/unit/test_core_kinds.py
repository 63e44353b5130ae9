"""The StrEnums of core/kinds.py hold exactly the values the database accepts and the
rules use: a member added on one side only fails here, not at the first INSERT."""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from sqlalchemy import CheckConstraint

import suanli.store.models  # noqa: F401  registers every table on Base.metadata
from suanli.core.billing import PRIORITY_CLASSES
from suanli.core.kinds import (
    ContractKind,
    ContractStatus,
    CreditKind,
    DocumentKind,
    JobClass,
    LineKind,
    PaymentKind,
    UsageClass,
)
from suanli.core.pricing import REVENUE_KINDS
from suanli.scheduling.jobs.product import CLASSES
from suanli.store.base import Base


def allowed(table: str, column: str) -> set[str]:
    """The values of ``column IN (...)`` in ``table``'s CHECK constraints."""
    for c in Base.metadata.tables[table].constraints:
        if isinstance(c, CheckConstraint):
            m = re.fullmatch(rf"{column} IN \((.*)\)", str(c.sqltext))
            if m:
                return set(re.findall(r"'([^']*)'", m.group(1)))
    raise AssertionError(f"no CHECK on {table}.{column}")


@pytest.mark.parametrize(
    ("enum", "table", "column"),
    [
        (ContractKind, "contracts", "kind"),
        (ContractStatus, "contracts", "status"),
        (DocumentKind, "invoices", "kind"),
        (PaymentKind, "payments", "kind"),
        (CreditKind, "credit_releases", "kind"),
        (JobClass, "cloud_jobs", "job_class"),
    ],
)
def test_enum_values_are_the_stores_check_values(
    enum: type[StrEnum], table: str, column: str
) -> None:
    assert {m.value for m in enum} == allowed(table, column)


def test_members_compare_equal_to_the_stored_text() -> None:
    assert JobClass.SPOT == "spot" and "spot" in {JobClass.SPOT}
    assert f"{LineKind.SLA_CREDIT}" == "sla_credit"
    assert "sla_credit" in REVENUE_KINDS


def test_the_rules_vocabularies_come_from_the_enums() -> None:
    assert PRIORITY_CLASSES == ("reserved", "high", "standard", "spot") == tuple(UsageClass)
    assert CLASSES == ("reserved", "spot") == tuple(JobClass)
    assert {"rent", "fee", "usage", "true_up", "sla_credit", "penalty", "tokens"} == REVENUE_KINDS
