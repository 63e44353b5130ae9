"""Purchase planning: how many servers of which SKU to order in which month.

Owns the planning scenario (:mod:`.spec`, bundled default ``default.toml``), seeded scenario
draws (:mod:`.sampling`), the shared cash-flow arithmetic (:mod:`.valuation`), the
sample-average MILP (:mod:`.model`, ``scipy.optimize.milp``/HiGHS), the end-to-end planner with
frontier, baselines and out-of-sample figures (:mod:`.planner`) and delivery risk read from
procurement history (:mod:`.history`). Pure: no I/O beyond package data, no printing, no clock.
See docs/economics.md, "Purchase planning".
"""

from importlib import resources

from suanli.economics.planning.planner import PurchasePlan, plan_purchase
from suanli.economics.planning.spec import PlanningSpec, parse_spec, spec_from_mapping


def default_text() -> str:
    """The bundled default planning file."""
    return resources.files("suanli.economics.planning").joinpath("default.toml").read_text("utf-8")


def default_spec() -> PlanningSpec:
    return parse_spec(default_text())


__all__ = [
    "PlanningSpec",
    "PurchasePlan",
    "default_spec",
    "default_text",
    "parse_spec",
    "plan_purchase",
    "spec_from_mapping",
]
