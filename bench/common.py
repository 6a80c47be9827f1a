"""Shared pieces of the benchmarks: timing, medians, rounds, the result line format."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Figure:
    """One benchmark figure: ours against a baseline measured in the same run.

    ``rounds`` holds the ratio of every round that went into the figure (a
    figure measured in several rounds reports the median round's values and
    the range of the ratios); ``target`` is the maximum ratio, None for a
    figure that is only reported.
    """

    name: str
    ours: float
    baseline: float
    unit: str = "s"
    target: float | None = None
    note: str = ""
    rounds: tuple[float, ...] = field(default=())
    #: a text saying what the target means when it is not a plain ratio (memory)
    target_text: str = ""
    #: what the baseline is, in a few words ("bare PySide6 window")
    baseline_label: str = ""
    #: a stable name for the results file (``name`` may carry measured counts)
    key: str = ""
    #: where the time goes when the figure misses its target (phases, a profile)
    profile: str = ""

    @property
    def id(self) -> str:
        return self.key or self.name

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")

    @property
    def ok(self) -> bool:
        return self.target is None or self.ratio <= self.target

    @property
    def ratio_range(self) -> tuple[float, float]:
        values = self.rounds or (self.ratio,)
        return min(values), max(values)

    def ratio_text(self) -> str:
        low, high = self.ratio_range
        text = f"{self.ratio:.2f}x"
        if len(self.rounds) > 1:
            text += f" ({low:.2f}–{high:.2f}x over {len(self.rounds)} rounds)"
        return text

    def target_label(self) -> str:
        if self.target_text:
            return self.target_text
        return f"≤ {self.target:g}x" if self.target is not None else "reported"

    def line(self) -> str:
        target = f"target <= {self.target:g}x" if self.target is not None else "target: reported"
        if self.target_text:
            target = f"target {self.target_text}"
        text = (
            f"{self.name}: ours {fmt(self.ours, self.unit)}, "
            f"baseline {fmt(self.baseline, self.unit)}, ratio {self.ratio_text()}, {target}"
        )
        if self.target is not None and not self.ok:
            text += "  ** MISSED **"
        if self.note:
            text += f"  ({self.note})"
        return text


def fmt(value: float, unit: str) -> str:
    """A measured value for people: milliseconds below a second, else seconds."""
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:,.0f} {unit}"


def paired_medians(
    ours: Callable[[], object], baseline: Callable[[], object], repeat: int, warmup: int = 1
) -> tuple[float, float]:
    """Median wall times of ``ours`` and ``baseline`` run in turn ``repeat`` times each
    (after ``warmup`` runs of both), so that a busy spell hits both alike."""
    for _ in range(warmup):
        ours()
        baseline()
    samples: tuple[list[float], list[float]] = ([], [])
    for n in range(2 * repeat):
        which = n % 2
        action = (ours, baseline)[which]
        started = time.perf_counter()
        action()
        samples[which].append(time.perf_counter() - started)
    return statistics.median(samples[0]), statistics.median(samples[1])


def combine(rounds: Sequence[Figure]) -> Figure:
    """One figure from the same figure measured in several rounds: the median
    round's ours and baseline (the round whose ratio is the median; of an even
    number of rounds, the worse of the middle two), every round's ratio kept
    for the range."""
    if len(rounds) == 1:
        only = rounds[0]
        return replace(only, rounds=only.rounds or (only.ratio,))
    ordered = sorted(rounds, key=lambda f: f.ratio)
    middle = ordered[len(ordered) // 2]
    return replace(middle, rounds=tuple(f.ratio for f in rounds))
