"""Inference workloads: the Azure LLM inference trace 2023 and fitted synthetic traces.

A :class:`Workload` is three aligned numpy arrays sorted by arrival: arrival time in seconds
from the first request, prompt tokens and output tokens. Synthetic token lengths are drawn
from log-normal distributions fitted to a trace by matching its median and 90th percentile
(the Azure prompt lengths are multi-modal, so moment fits miss the median by 25 %); arrivals
are Poisson, or bursty (a two-state Markov-modulated Poisson process).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from suanli.core.errors import NotFoundError, ValidationError

AZURE_FILES = {
    "conv": "AzureLLMInferenceTrace_conv.csv",
    "code": "AzureLLMInferenceTrace_code.csv",
}


class AzureKind(StrEnum):
    CONV = "conv"
    CODE = "code"


@dataclass(frozen=True)
class Workload:
    arrival_s: npt.NDArray[np.float64]
    prompt: npt.NDArray[np.int64]
    output: npt.NDArray[np.int64]
    name: str

    def __post_init__(self) -> None:
        n = len(self.arrival_s)
        if len(self.prompt) != n or len(self.output) != n:
            raise ValidationError("workload.misaligned", "arrays differ in length", {"n": n})
        if n and (np.any(np.diff(self.arrival_s) < 0) or np.any(self.output < 1)):
            raise ValidationError(
                "workload.invalid",
                "arrivals must be sorted and every request must ask >= 1 output token",
                {"workload": self.name},
            )

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def duration_s(self) -> float:
        return float(self.arrival_s[-1]) if len(self) else 0.0

    def head(self, n: int) -> Workload:
        return Workload(self.arrival_s[:n], self.prompt[:n], self.output[:n], self.name)


def azure_path(shared: Path, kind: AzureKind) -> Path:
    return shared / "data" / "azure-llm-2023" / AZURE_FILES[kind.value]


def load_azure(path: Path, name: str | None = None) -> Workload:
    """Read one Azure 2023 CSV (``TIMESTAMP,ContextTokens,GeneratedTokens``)."""
    if not path.is_file():
        raise NotFoundError("azure.missing", f"{path} not found", {"trace": str(path)})
    stamps: list[float] = []
    prompt: list[int] = []
    output: list[int] = []
    with path.open(encoding="utf-8") as fh:
        header = fh.readline().strip().split(",")
        if header != ["TIMESTAMP", "ContextTokens", "GeneratedTokens"]:
            raise ValidationError(
                "azure.bad_header", "unexpected columns", {"header": header, "file": str(path)}
            )
        for lineno, line in enumerate(fh, start=2):
            if not line.strip():
                continue
            try:
                ts, ctx, gen = line.rstrip("\n").split(",")
                # 7 fractional digits: keep microseconds for fromisoformat.
                stamps.append(datetime.fromisoformat(ts[:26]).timestamp())
                prompt.append(int(ctx))
                output.append(int(gen))
            except ValueError:
                raise ValidationError(
                    "azure.bad_row", f"cannot parse line {lineno}", {"line": lineno}
                ) from None
    t = np.asarray(stamps, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t = t[order] - t[order][0]
    return Workload(
        t,
        np.asarray(prompt, dtype=np.int64)[order],
        np.maximum(np.asarray(output, dtype=np.int64)[order], 1),
        name or path.stem,
    )


@dataclass(frozen=True, slots=True)
class LengthFit:
    """Log-normal fit of prompt and output token counts (median and p90 matched)."""

    prompt_mu: float
    prompt_sigma: float
    output_mu: float
    output_sigma: float
    prompt_max: int
    output_max: int
    rate_per_s: float


def fit_lengths(w: Workload) -> LengthFit:
    if len(w) < 2:
        raise ValidationError("workload.too_small", "need at least 2 requests to fit", {})
    pm, ps = _quantile_fit(w.prompt)
    om, os_ = _quantile_fit(w.output)
    return LengthFit(
        pm,
        ps,
        om,
        os_,
        int(w.prompt.max()),
        int(w.output.max()),
        (len(w) - 1) / max(w.duration_s, 1e-9),
    )


Z90 = 1.2815515655446004  # standard normal 90th percentile


def _quantile_fit(tokens: npt.NDArray[np.int64]) -> tuple[float, float]:
    med, p90 = np.percentile(np.maximum(tokens, 1), [50, 90])
    mu = float(np.log(med))
    return mu, max(float(np.log(p90)) - mu, 1e-6) / Z90


def _lengths(
    fit: LengthFit, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    p = np.rint(rng.lognormal(fit.prompt_mu, fit.prompt_sigma, n))
    o = np.rint(rng.lognormal(fit.output_mu, fit.output_sigma, n))
    return (
        np.clip(p, 1, fit.prompt_max).astype(np.int64),
        np.clip(o, 1, fit.output_max).astype(np.int64),
    )


def poisson(
    fit: LengthFit, rate_per_s: float, duration_s: float, rng: np.random.Generator
) -> Workload:
    """Poisson arrivals at ``rate_per_s`` over ``duration_s`` with fitted token lengths."""
    _check_rate(rate_per_s, duration_s)
    n = int(rng.poisson(rate_per_s * duration_s))
    t = np.sort(rng.uniform(0.0, duration_s, n))
    p, o = _lengths(fit, n, rng)
    return Workload(t, p, o, f"poisson-{rate_per_s:g}/s")


def bursty(
    fit: LengthFit,
    rate_per_s: float,
    duration_s: float,
    rng: np.random.Generator,
    burst_factor: float = 4.0,
    burst_share: float = 0.2,
    mean_period_s: float = 60.0,
) -> Workload:
    """Two-state MMPP: a share ``burst_share`` of the time at ``burst_factor`` x the calm rate,
    with exponential sojourns (mean ``mean_period_s`` overall), same mean ``rate_per_s``."""
    _check_rate(rate_per_s, duration_s)
    if burst_factor < 1 or not 0 < burst_share < 1:
        raise ValidationError(
            "workload.bad_burst",
            "burst_factor must be >= 1 and burst_share in (0, 1)",
            {"burst_factor": burst_factor, "burst_share": burst_share},
        )
    calm = rate_per_s / (1 - burst_share + burst_share * burst_factor)
    times: list[npt.NDArray[np.float64]] = []
    t, burst = 0.0, False
    while t < duration_s:
        mean = mean_period_s * (burst_share if burst else 1 - burst_share)
        end = min(duration_s, t + float(rng.exponential(mean)))
        rate = calm * (burst_factor if burst else 1.0)
        k = int(rng.poisson(rate * (end - t)))
        times.append(rng.uniform(t, end, k))
        t, burst = end, not burst
    arr = np.sort(np.concatenate(times)) if times else np.zeros(0)
    p, o = _lengths(fit, len(arr), rng)
    return Workload(arr, p, o, f"bursty-{rate_per_s:g}/s")


def _check_rate(rate: float, duration: float) -> None:
    if rate <= 0 or duration <= 0:
        raise ValidationError(
            "workload.bad_rate",
            "rate and duration must be positive",
            {"rate_per_s": rate, "duration_s": duration},
        )
