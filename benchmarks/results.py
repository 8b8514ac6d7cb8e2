"""Measurement results: figures, targets and the method behind them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    """One measured value, with the baseline it is compared to when there is one."""

    name: str
    value: str
    baseline: str = ""
    ratio: str = ""


@dataclass(frozen=True)
class Target:
    """A target and whether the run met it; `gap` and `cause` explain a miss."""

    text: str
    measured: str
    met: bool
    gap: str = ""
    cause: str = ""


@dataclass
class Section:
    """The report of one measurement.

    `error` is set when the measurement failed, `skipped` when it could not run here.
    """

    title: str
    method: str
    figures: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""
    skipped: str = ""
