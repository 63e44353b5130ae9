"""The economics engine: pure, vectorised projections of a computing-power business.

Owns scenarios (:mod:`.scenario`, :mod:`.loader`, :mod:`.library`), their resolution onto a
monthly grid (:mod:`.plan`), the cash-flow table (:mod:`.cashflow`), metrics (:mod:`.metrics`,
:mod:`.evaluate`), break-even search (:mod:`.breakeven`), sensitivity (:mod:`.sensitivity`),
Monte Carlo (:mod:`.montecarlo`) and the comparison of business forms (:mod:`.compare`).

No I/O except reading the bundled scenario files (package data), no printing, no clock:
callers pass values (and seeds) and render the results. See docs/economics.md.
"""

from suanli.economics.evaluate import Evaluation, evaluate
from suanli.economics.loader import parse_scenario, scenario_from_mapping, with_overrides
from suanli.economics.montecarlo import MonteCarloResult, run_montecarlo
from suanli.economics.scenario import Scenario

__all__ = [
    "Evaluation",
    "MonteCarloResult",
    "Scenario",
    "evaluate",
    "parse_scenario",
    "run_montecarlo",
    "scenario_from_mapping",
    "with_overrides",
]
