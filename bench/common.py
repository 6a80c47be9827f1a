"""Shared pieces of the benchmarks: timing, medians, the result line format."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One benchmark figure: ours against a baseline measured in the same run."""

    name: str
    ours: float
    baseline: float
    unit: str = "s"
    target: float | None = None  # maximum ratio; None = reported only
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def ok(self) -> bool:
        return self.target is None or self.ratio <= self.target

    def line(self) -> str:
        target = f"target <= {self.target:g}x" if self.target is not None else "target: reported"
        text = (
            f"{self.name}: ours {_fmt(self.ours, self.unit)}, "
            f"baseline {_fmt(self.baseline, self.unit)}, ratio {self.ratio:.2f}x, {target}"
        )
        if self.target is not None and not self.ok:
            text += "  ** MISSED **"
        if self.note:
            text += f"  ({self.note})"
        return text


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:,.0f} {unit}"


def median_time(action: Callable[[], object], repeat: int, warmup: int = 1) -> float:
    """Median wall time of ``action`` over ``repeat`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
