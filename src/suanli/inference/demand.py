"""Daily demand profiles: the DeepSeek hourly theoretical income of 2025-02-27/28 (UTC+8).

Owns the bundled profile and its normalisation. Tokens per hour are proportional to it at a
constant mix (reference: ../shared/reference/inference-economics.md, read off DeepSeek's chart
to about +/-0.3 k$; the 24 values sum to 561.5 k$ against 562.0 k$ published).
"""

from __future__ import annotations

from collections.abc import Sequence

from suanli.core.errors import ValidationError

DEEPSEEK_SOURCE = (
    "deepseek-ai/open-infra-index 202502OpenSourceWeek/day_6 (2025-03-01), hourly theoretical "
    "income chart, 2025-02-27 12:00 to 02-28 12:00 UTC+8"
)

# k$ per hour, indexed by the clock hour (UTC+8) at which the hour starts.
DEEPSEEK_HOURLY_KUSD: tuple[float, ...] = (
    21.7, 18.0, 13.1, 7.9, 6.3, 6.3, 7.9, 13.7, 23.1, 29.4, 30.4, 29.9,  # 00-11
    27.0, 28.5, 30.4, 31.0, 30.4, 27.8, 26.8, 29.6, 30.7, 30.8, 31.0, 29.8,  # 12-23
)  # fmt: skip


def normalise(profile: Sequence[float]) -> tuple[float, ...]:
    """Scale a 24-value profile so its peak is 1."""
    if len(profile) != 24 or min(profile) < 0 or max(profile) <= 0:
        raise ValidationError(
            "demand.bad_profile",
            "a daily profile needs 24 non-negative values with a positive peak",
            {"profile": f"{len(profile)} values"},
        )
    peak = max(profile)
    return tuple(v / peak for v in profile)


def deepseek_shape() -> tuple[float, ...]:
    return normalise(DEEPSEEK_HOURLY_KUSD)
