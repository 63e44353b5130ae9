"""The twin scenario: an economics scenario (fleet, costs, taxes, financing) plus a ``[twin]``
section with the calendar start, the price path, the lease demand, the delivery risk and the
failure model (pydantic v2, validated; every failure names its field).

Files are TOML with ``base = "name"`` inheritance, resolved against the twin library first and
then the economics library, so a twin can start from any economics case
(``base = "h800-bare-metal-2p1m"``) and only add its demand.

Units follow the economics scenarios: amounts in the scenario's currency, rates as fractions,
``*_annual`` per year, ``*_months`` in months. ``rent_per_server_month`` is quoted like the
economics form's rent (VAT-inclusive when ``taxes.prices_include_vat``); the twin signs
contracts at the net rent, ``quoted / (1 + vat_rate)`` rounded to the cent, as the ledger
stores a contract's ``monthly_rent`` net of VAT.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from suanli.economics.scenario import BareMetal, Dist, Scenario
from suanli.scheduling.jobs.policies import PolicyName

NonNeg = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Model):
    """A discrete distribution: ``values`` drawn with probabilities proportional to ``weights``."""

    values: list[Annotated[int, Field(ge=1)]]
    weights: list[Annotated[float, Field(gt=0.0)]]

    @model_validator(mode="after")
    def _same_length(self) -> Choice:
        if not self.values or len(self.values) != len(self.weights):
            raise ValueError("values and weights must be non-empty lists of the same length")
        return self


class Prices(_Model):
    """The operator's asked rent per server-month over time, and the market's.

    The market rent is the economics form's ``rent_per_server_month`` times the path's factor;
    the operator asks ``rent_per_server_month`` here (default: the market rent) times the same
    factor. Customers' willingness to pay is relative to the market rent, so asking above the
    market loses requests.

    ``path``: ``decline`` (a constant yearly decline), ``series`` (one factor per month, the last
    repeated), or ``random`` (a seeded geometric random walk with the yearly drift ``-decline``
    and ``volatility_annual``). The factor never goes below ``floor``.
    """

    rent_per_server_month: NonNeg | None = None  # default: the economics form's rent
    path: Literal["decline", "series", "random"] = "decline"
    decline_annual: Annotated[float, Field(ge=-1.0, lt=1.0)] = 0.0
    series: list[Annotated[float, Field(ge=0.0)]] = Field(default_factory=list)
    volatility_annual: NonNeg = 0.0
    floor: NonNeg = 0.0

    @model_validator(mode="after")
    def _series_given(self) -> Prices:
        if self.path == "series" and not self.series:
            raise ValueError("path = 'series' needs a non-empty series of monthly factors")
        return self


class BookedLease(_Model):
    """A lease known in advance (signed contracts, or a deterministic book for tests)."""

    start_month: Annotated[int, Field(ge=1)]
    servers: Annotated[int, Field(ge=1)]
    term_months: Annotated[int, Field(ge=1)]
    rent_per_server_month: NonNeg | None = None  # quoted; default: the list rent at start
    customer: str | None = None


class Leases(_Model):
    """Random bare-metal lease requests. Each month ``Poisson(arrival_rate_per_month)`` requests
    arrive; each asks for ``sizes`` servers for ``terms`` months and pays at most
    ``willingness_to_pay`` × the market rent at arrival (a request is lost when the asked rent is
    above it, or when not enough servers are free). At the end of its term a lease renews with
    ``renewal_probability`` at the then asked rent, if that is still within its willingness to pay.
    """

    arrival_rate_per_month: NonNeg = 0.0
    sizes: Choice = Choice(values=[1], weights=[1.0])
    terms: Choice = Choice(values=[12], weights=[1.0])
    willingness_to_pay: Dist = Dist(dist="fixed", value=1.0)
    renewal_probability: Fraction = 0.0


class Delivery(_Model):
    """Supplier risk per delivery batch: the share never delivered and the delay in months."""

    shortfall: Dist | None = None
    delay_months: Dist | None = None


class Failures(_Model):
    """Server failures while leased (rate per 1,000 server-days; repairs after
    :class:`suanli.simulation.failures.FailureModel`) and the SLA the contracts promise."""

    rate_per_1000_node_days: NonNeg = 0.0
    sla_uptime: Annotated[float, Field(gt=0.0, le=1.0)] = 0.99


class Pool(_Model):
    """A cloud GPU pool run on a static share of the fleet (:mod:`suanli.simulation.twin.pool`).

    ``servers`` of the delivered fleet serve the pool (the first ones to arrive; bare-metal
    leases get the rest). Each month a Philly-fitted synthetic workload arrives at ``load`` ×
    the pool's GPU capacity (× ``(1 + load_growth_annual) ** (t / 12)``), jobs' GPU counts ×
    ``job_gpu_scale`` (8 = whole-server jobs), and the job simulator runs a ``window_days``
    sample of it under ``policy``; the month is billed per GPU-hour at ``standard_per_gpu_hour``
    (the simulator's reserved class) and ``spot_per_gpu_hour``, quoted like the rent (VAT
    included when ``taxes.prices_include_vat``) at ``vat_rate`` (6 %: IT services).

    ``split``: ``"static"`` (the pool runs on its ``servers`` only) or ``"dynamic"`` (it also
    borrows every bare-metal server no lease holds that month; a lease starting later takes it
    back, and the jobs on it are preempted and requeued). ``load`` stays relative to the pool's
    own ``servers``, so ``load > 1`` is demand the own servers cannot serve that a dynamic
    split serves on borrowed servers; a dynamic pool needs ``servers >= 1`` for its demand.
    """

    servers: Annotated[int, Field(ge=0)] = 0
    split: Literal["static", "dynamic"] = "static"
    gpus_per_server: Annotated[int, Field(ge=1, le=64)] = 8
    load: Annotated[float, Field(ge=0.0, le=4.0)] = 0.7
    load_growth_annual: Annotated[float, Field(ge=-0.99, le=10.0)] = 0.0
    policy: str = "fifo"
    spot_share: Fraction = 0.0
    tenants: Annotated[int, Field(ge=1, le=1000)] = 10
    window_days: Annotated[int, Field(ge=1, le=31)] = 7
    job_gpu_scale: Annotated[int, Field(ge=1, le=64)] = 1
    standard_per_gpu_hour: NonNeg = 15.0
    spot_per_gpu_hour: NonNeg = 7.5
    vat_rate: Fraction = 0.06

    @field_validator("policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        names = [p.value for p in PolicyName]
        if value not in names:
            raise ValueError(f"policy must be one of {', '.join(names)}")
        return value


class Inference(_Model):
    """An inference service on a static share of the fleet (:mod:`suanli.simulation.twin.inference`).

    ``servers`` nodes (after the pool's; leases get the rest) serve a day of
    ``input_tokens_per_day`` (``cache_hit_share`` of them from the prefix cache) and
    ``output_tokens_per_day``, spread over the hours by ``profile`` (``"deepseek"``: the
    bundled DeepSeek hourly profile, or 24 values in local time, UTC+8) and growing by
    ``demand_growth_annual``. An hour needs ``input / (3600 × prefill/s) + output / (3600 ×
    decode/s)`` nodes; the autoscaler provisions ``ceil(need / target_util)`` of them, at least
    ``min_nodes`` and at most the servers, and tokens beyond that are not served. Tokens are
    priced by the ledger's token rule at ``*_per_m`` per million (quoted like the rent,
    falling ``price_decline_annual``; ``night_discount`` off in the night window), VAT
    ``vat_rate``. Node-hours the service leaves free (the valley) go to spot training:
    ``valley_fill`` of them are sold at the pool's ``spot_per_gpu_hour`` (``valley = "share"``),
    or (``valley = "pool"``) they are lent hour by hour to the twin's pool, whose job queue
    runs on them until the autoscaler takes them back, preempting the jobs on them.
    ``gpu_hour_cost`` (optional) prices the node-hours used, for a cost per day beside the
    economics engine's own costs (DeepSeek's $2 per GPU-hour). Prices are in ``currency``;
    ``fx_rate`` converts them into the scenario's currency for the P&L.
    """

    servers: Annotated[int, Field(ge=0)] = 0
    gpus_per_server: Annotated[int, Field(ge=1, le=64)] = 8
    model: str = "deepseek-r1"
    currency: str = "CNY"  # of the token prices and gpu_hour_cost
    fx_rate: Annotated[float, Field(gt=0.0)] = 1.0  # the scenario's currency per unit of it
    profile: Literal["deepseek"] | Annotated[list[NonNeg], Field(min_length=24, max_length=24)] = (
        "deepseek"
    )
    input_tokens_per_day: Annotated[int, Field(ge=0, le=10**15)] = 0
    cache_hit_share: Fraction = 0.0
    output_tokens_per_day: Annotated[int, Field(ge=0, le=10**15)] = 0
    demand_growth_annual: Annotated[float, Field(ge=-0.99, le=10.0)] = 0.0
    prefill_tokens_per_node_s: Annotated[float, Field(gt=0.0)] = 73_700.0
    decode_tokens_per_node_s: Annotated[float, Field(gt=0.0)] = 14_800.0
    target_util: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    min_nodes: Annotated[int, Field(ge=0)] = 0
    input_miss_per_m: NonNeg = 0.0
    input_hit_per_m: NonNeg = 0.0
    output_per_m: NonNeg = 0.0
    price_decline_annual: Annotated[float, Field(ge=-1.0, lt=1.0)] = 0.0
    night_discount: Fraction = 0.0
    vat_rate: Fraction = 0.06
    valley_fill: Fraction = 0.0
    valley: Literal["share", "pool"] = "share"
    gpu_hour_cost: NonNeg | None = None

    @model_validator(mode="after")
    def _profile(self) -> Inference:
        if isinstance(self.profile, list) and sum(self.profile) <= 0:
            raise ValueError("profile needs a positive value")
        return self


class TwinSpec(_Model):
    start: str = "2024-01"  # the calendar month of grid month 0 (YYYY-MM)
    prices: Prices = Prices()
    leases: Leases = Leases()
    book: list[BookedLease] = Field(default_factory=list)
    delivery: Delivery = Delivery()
    failures: Failures = Failures()
    pool: Pool = Pool()
    inference: Inference = Inference()

    @field_validator("start")
    @classmethod
    def _month(cls, value: str) -> str:
        parts = value.split("-")
        ok = len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts)
        if not ok or len(parts[0]) != 4 or not 1 <= int(parts[1]) <= 12:
            raise ValueError("start must be YYYY-MM")
        return value


class TwinScenario(_Model):
    """An economics scenario with ``form.kind = "bare_metal"`` and the twin's own inputs."""

    economics: Scenario
    twin: TwinSpec

    @model_validator(mode="after")
    def _bare_metal(self) -> TwinScenario:
        if not isinstance(self.economics.form, BareMetal):
            raise ValueError(
                "the twin runs bare-metal leasing: economics form.kind must be bare_metal"
            )
        for i, lease in enumerate(self.twin.book):
            if lease.start_month > self.economics.horizon_months:
                raise ValueError(f"twin.book[{i}].start_month is after the horizon")
        if self.twin.inference.valley == "pool" and self.twin.pool.servers < 1:
            raise ValueError(
                "twin.inference.valley = 'pool' lends the valley to the pool's job queue: "
                "it needs twin.pool.servers >= 1 (the pool's own servers size its demand)"
            )
        return self

    @property
    def name(self) -> str:
        return self.economics.name

    @property
    def quoted_rent(self) -> float:
        form = self.economics.form
        assert isinstance(form, BareMetal)
        given = self.twin.prices.rent_per_server_month
        return form.rent_per_server_month if given is None else given

    @property
    def market_rent(self) -> float:
        """The market rent at month 0: the economics form's rent (what customers compare with)."""
        form = self.economics.form
        assert isinstance(form, BareMetal)
        return form.rent_per_server_month

    @staticmethod
    def split(document: dict[str, Any]) -> dict[str, Any]:
        """``{economics: <every key but twin>, twin: <the twin table>}`` of a resolved document."""
        twin = document.get("twin", {})
        return {"economics": {k: v for k, v in document.items() if k != "twin"}, "twin": twin}
