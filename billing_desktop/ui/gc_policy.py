"""Cyclic garbage is collected on the GUI thread only.

Python's cyclic collector runs on whichever thread happens to allocate when a
generation's threshold is crossed. When that is a worker thread (an export, a
send, a renewal run: :mod:`billing_desktop.ui.workers`) it may free Qt widgets
left in reference cycles from the wrong thread, and Qt crashes. So once the
window is on screen :func:`install` turns automatic collection off and a timer
on the GUI thread collects instead, choosing the generation the way CPython
would (:func:`generation_due`, from ``gc.get_count()`` and the thresholds):

- every :data:`CHECK_INTERVAL_MS` it looks at the counts, which costs nothing
  when nothing was allocated;
- the young generation is collected once more than ``threshold0`` new objects
  exist (700 by default), the middle one after more than ``threshold1`` young
  collections, a full collection after more than ``threshold2`` middle ones
  (so at most every 121 checks, and only when the program kept allocating).

Garbage made by a worker thread is therefore freed within one interval, on the
GUI thread (the worker waits for the interpreter lock meanwhile), and memory
cannot grow without bound. Start-up keeps the automatic collector (only the GUI
thread runs then, and nothing is collected later than usual); the first check
comes one interval after the first paint.
"""

from __future__ import annotations

import gc
import logging
import time

from PySide6.QtCore import QObject, Qt, QTimer

__all__ = ["CHECK_INTERVAL_MS", "GuiThreadCollector", "generation_due", "install"]

log = logging.getLogger("billing_desktop.ui")

#: How often the GUI thread looks at the collector's counts (milliseconds).
CHECK_INTERVAL_MS = 1_000
#: A collection slower than this is logged (at debug level), with what it freed.
SLOW_COLLECTION_MS = 50.0


def generation_due(count: tuple[int, int, int], threshold: tuple[int, int, int]) -> int | None:
    """The generation CPython's automatic collector would collect now, or None.

    ``count`` is ``gc.get_count()``: the objects allocated (minus those freed)
    since the last young collection, the young collections since the last
    middle one, the middle collections since the last full one. ``threshold``
    is ``gc.get_threshold()``; a young threshold of 0 means "never". As CPython
    (3.11), a generation is due when its count exceeds its threshold, the oldest
    first; CPython's extra condition for a full collection (enough objects new
    since the last one) is left out: it cannot be read from Python, and full
    collections here are rare anyway.
    """
    if threshold[0] <= 0 or count[0] <= threshold[0]:
        return None
    for generation in (2, 1):
        if count[generation] > threshold[generation]:
            return generation
    return 0


class GuiThreadCollector(QObject):
    """The timer that collects garbage on the GUI thread (see the module's docstring).

    Created by :func:`install`; :meth:`uninstall` stops it and turns automatic
    collection back on (tests, or a caller that ends the event loop).
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS):
        super().__init__(parent)
        self.setObjectName("gcPolicy")
        self.threshold: tuple[int, int, int] = gc.get_threshold()
        self._was_enabled = gc.isenabled()
        #: collections made so far, by generation (for the log and the tests)
        self.collections = [0, 0, 0]
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.CoarseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self.timer.start()

    def uninstall(self) -> None:
        """Stop the timer; automatic collection is on again if it was on before."""
        self.timer.stop()
        if self._was_enabled:
            gc.enable()

    def check(self) -> int | None:
        """Collect the generation that is due, if any; returns it."""
        generation = generation_due(gc.get_count(), self.threshold)
        if generation is None:
            return None
        started = time.perf_counter()
        freed = gc.collect(generation)
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.collections[generation] += 1
        if elapsed_ms >= SLOW_COLLECTION_MS:
            log.debug(
                "garbage collection of generation %d: %d objects freed in %.0f ms",
                generation, freed, elapsed_ms,
            )  # fmt: skip
        return generation


def install(parent: QObject, interval_ms: int = CHECK_INTERVAL_MS) -> GuiThreadCollector:
    """From now on, collect cyclic garbage only on the GUI thread (``parent``'s thread:
    call this from the GUI thread, after the first paint)."""
    collector = GuiThreadCollector(parent, interval_ms)
    collector.start()
    return collector
