"""Percentiles and the formatting of figures."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the `fraction` quantile (0 to 1) with linear interpolation between ranks.

    This is NumPy's default method. Raises ValueError for an empty sequence.
    """
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def median(values: Sequence[float]) -> float:
    return percentile(values, 0.5)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.inf


def times(value: float) -> str:
    return f"{value:.2f}x"


def mebibytes(size: float) -> str:
    return f"{size / 2**20:.1f} MiB"
