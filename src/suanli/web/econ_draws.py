"""The Monte Carlo inputs of the economics page: which distributions the paths draw from, shown
and editable, and centred on the form's values.

Invariant: the occupancy and rent-decline draws are centred on the form's occupancy and rent
decline (the mode of a triangular, the midpoint of a uniform, the mean of a normal), so the
Monte Carlo describes the scenario the cards describe; the user edits only their *spread*
(how far below and above the form's value a path may fall). The other draws (delivery
shortfall, bad debt, price shocks) are absolute and edited as text, e.g. ``uniform(0, 0.05)``.

Pure: values in, values out; :mod:`suanli.web.economics` renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from suanli.core.errors import ValidationError
from suanli.core.i18n import N_
from suanli.economics.scenario import BareMetal, Dist, MonteCarloSpec, Scenario

#: Used when a scenario has no ``[montecarlo]`` section (spreads as in the reference scenario).
DEFAULT_SPEC = MonteCarloSpec(
    occupancy=Dist(dist="triangular", low=0.3, mode=0.7, high=0.9),
    price_decline_annual=Dist(dist="uniform", low=0.0, high=0.35),
)
TEXT_DRAWS = (
    ("delivery_shortfall", "mc_shortfall", N_("Delivery shortfall (share never delivered)")),
    ("bad_debt_pct", "mc_bad_debt", N_("Bad debt (share of revenue)")),
    ("price_shock_size", "mc_shock_size", N_("Price shock size (each shock)")),
)
_CALL = re.compile(r"^\s*(fixed|uniform|triangular|normal)\s*\(([^()]*)\)\s*$", re.IGNORECASE)
_PARAMS = {
    "fixed": ("value",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "normal": ("mean", "sd", "low", "high"),
}


@dataclass(frozen=True, slots=True)
class Spread:
    """How far below and above its centre a distribution reaches (for a normal: ``below`` is
    the standard deviation and ``above`` is ignored)."""

    kind: str
    below: float
    above: float


def spread_of(dist: Dist | None) -> Spread:
    """The spread of ``dist`` around its centre, rounded to 6 decimals (no 0.39999999 in the
    form)."""
    s = _spread(dist)
    return Spread(s.kind, round(s.below, 6), round(s.above, 6))


def _spread(dist: Dist | None) -> Spread:
    if dist is None or dist.dist == "fixed":
        return Spread("fixed", 0.0, 0.0)
    if dist.dist == "uniform":
        assert dist.low is not None and dist.high is not None
        mid = (dist.low + dist.high) / 2
        return Spread("uniform", mid - dist.low, dist.high - mid)
    if dist.dist == "triangular":
        assert dist.low is not None and dist.mode is not None and dist.high is not None
        return Spread("triangular", dist.mode - dist.low, dist.high - dist.mode)
    assert dist.sd is not None
    return Spread("normal", dist.sd, dist.sd)


def centred(spread: Spread, centre: float, low: float, high: float) -> Dist:
    """The distribution of ``spread`` around ``centre``, cut to ``[low, high]``."""

    def cut(x: float) -> float:
        return round(min(high, max(low, x)), 6)

    c = cut(centre)
    if spread.kind == "fixed" or (spread.below == 0 and spread.above == 0):
        return Dist(dist="fixed", value=c)
    if spread.kind == "uniform":
        return Dist(dist="uniform", low=cut(c - spread.below), high=cut(c + spread.above))
    if spread.kind == "normal":
        return Dist(dist="normal", mean=c, sd=spread.below, low=low, high=high)
    return Dist(dist="triangular", low=cut(c - spread.below), mode=c, high=cut(c + spread.above))


def dist_text(dist: Dist | None) -> str:
    """``triangular(0.3, 0.7, 0.9)``; ``none`` when the input is not drawn."""
    if dist is None:
        return "none"
    values = [getattr(dist, n) for n in _PARAMS[dist.dist]]
    return f"{dist.dist}({', '.join(f'{v:g}' for v in values if v is not None)})"


def parse_dist(text: str, field: str) -> Dist | None:
    """``uniform(0, 0.05)`` → a :class:`Dist`; ``none`` or empty → not drawn."""
    if text.strip().lower() in ("", "none"):
        return None
    match = _CALL.match(text)
    bad = ValidationError(
        "scenario.invalid",
        f"{field}: write fixed(v), uniform(low, high), triangular(low, mode, high) or "
        f"normal(mean, sd[, low, high]), not {text!r}",
        {field: "a distribution"},
    )
    if match is None:
        raise bad
    kind = match.group(1).lower()
    try:
        numbers = [float(x) for x in match.group(2).split(",") if x.strip()]
    except ValueError:
        raise bad from None
    names = _PARAMS[kind]
    if not (len(names) >= len(numbers) >= (2 if kind == "normal" else len(names))):
        raise bad
    try:
        return Dist(dist=kind, **dict(zip(names, numbers, strict=False)))
    except ValueError as exc:
        raise ValidationError(
            "scenario.invalid", f"{field}: {exc}", {field: "a distribution"}
        ) from None


@dataclass(frozen=True, slots=True)
class Draws:
    """The editable Monte Carlo inputs as the form shows them."""

    occupancy: Spread
    price_decline: Spread
    texts: dict[str, str]  # form field → distribution text
    shock_probability: float

    def form_values(self) -> dict[str, Any]:
        return {
            "mc_occ_below": self.occupancy.below,
            "mc_occ_above": self.occupancy.above,
            "mc_dec_below": self.price_decline.below,
            "mc_dec_above": self.price_decline.above,
            "mc_shock_probability": self.shock_probability,
            **self.texts,
        }


def defaults(scenario: Scenario) -> Draws:
    spec = scenario.montecarlo or DEFAULT_SPEC
    return Draws(
        spread_of(spec.occupancy or DEFAULT_SPEC.occupancy),
        spread_of(spec.price_decline_annual or DEFAULT_SPEC.price_decline_annual),
        {name: dist_text(getattr(spec, attr)) for attr, name, _ in TEXT_DRAWS},
        spec.price_shock_probability_annual,
    )


def _number(params: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValidationError(
            "scenario.invalid", f"{name}: not a number: {raw!r}", {name: "a number"}
        ) from None
    if not low <= value <= high:
        raise ValidationError(
            "scenario.invalid", f"{name} must be {low:g}..{high:g}", {name: f"{low:g}..{high:g}"}
        )
    return value


def parse_draws(base: Draws, params: dict[str, str]) -> Draws:
    """The form's Monte Carlo fields over ``base`` (missing fields keep ``base``'s values)."""
    occ = Spread(
        base.occupancy.kind,
        _number(params, "mc_occ_below", base.occupancy.below, 0, 1),
        _number(params, "mc_occ_above", base.occupancy.above, 0, 1),
    )
    dec = Spread(
        base.price_decline.kind,
        _number(params, "mc_dec_below", base.price_decline.below, 0, 2),
        _number(params, "mc_dec_above", base.price_decline.above, 0, 2),
    )
    texts = {}
    for _, name, _ in TEXT_DRAWS:
        text = params.get(name)
        texts[name] = base.texts[name] if text is None else text.strip() or "none"
        parse_dist(texts[name], name)  # checked here, so the error names the field
    shock = _number(params, "mc_shock_probability", base.shock_probability, 0, 1)
    return Draws(occ, dec, texts, shock)


def bare_metal(scenario: Scenario) -> BareMetal:
    """The page's scenarios are bare-metal ones (it offers no other)."""
    if not isinstance(scenario.form, BareMetal):
        raise ValidationError(
            "scenario.invalid", "the what-if page takes bare-metal scenarios", {"scenario": "kind"}
        )
    return scenario.form


def spec_for(scenario: Scenario, draws: Draws) -> MonteCarloSpec:
    """The Monte Carlo spec centred on ``scenario``'s form values (see the module docstring)."""
    form = bare_metal(scenario)
    base = scenario.montecarlo or DEFAULT_SPEC
    ceiling = form.occupancy_ceiling
    fields = {attr: parse_dist(draws.texts[name], name) for attr, name, _ in TEXT_DRAWS}
    return MonteCarloSpec(
        occupancy=centred(draws.occupancy, form.occupancy, 0.0, ceiling),
        price_decline_annual=centred(draws.price_decline, form.price_decline_annual, -1.0, 0.99),
        price_shock_probability_annual=draws.shock_probability,
        price_occupancy_correlation=base.price_occupancy_correlation,
        **fields,
    )


def with_draws(scenario: Scenario, draws: Draws) -> Scenario:
    return scenario.model_copy(update={"montecarlo": spec_for(scenario, draws)})
