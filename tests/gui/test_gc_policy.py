"""Cyclic garbage is collected on the GUI thread only (ui/gc_policy.py).

A worker thread that allocates must never run the collector: it could free Qt
widgets left in reference cycles from the wrong thread. Each test frees cycles
holding an object whose ``__del__`` notes the thread it runs on.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from billing_desktop.ui import gc_policy


class Traced:
    """Part of a reference cycle (it refers to itself): only the cyclic collector frees
    it. ``freed_on`` gets the name of the thread that did."""

    alive = 0

    def __init__(self, freed_on: list[str] | None = None) -> None:
        self.me = self
        self.payload = bytearray(256)
        self.freed_on = freed_on
        Traced.alive += 1

    def __del__(self) -> None:
        Traced.alive -= 1
        if self.freed_on is not None:
            self.freed_on.append(threading.current_thread().name)


def drop_a_cycle() -> list[str]:
    """A cycle that is garbage once this returns; the list says which thread freed it."""
    freed_on: list[str] = []
    Traced(freed_on)
    return freed_on


def allocate(count: int) -> list[dict]:
    """``count`` new tracked objects, kept: the young generation's count grows past its
    threshold (700) many times over."""
    return [{} for _ in range(count)]


class Allocator(threading.Thread):
    """A worker allocating as fast as it can until :meth:`stop` (an export, a renewal run)."""

    def __init__(self, rounds: int | None = None) -> None:
        super().__init__(name="allocating-worker", daemon=True)
        self.rounds = rounds
        self.stopping = threading.Event()

    def run(self) -> None:
        done = 0
        kept: list[list[dict]] = []
        while not self.stopping.is_set() and (self.rounds is None or done < self.rounds):
            kept.append(allocate(1_000))
            if len(kept) > 50:
                kept.pop(0)
            done += 1

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@pytest.fixture
def collector(qapp) -> Iterator[gc_policy.GuiThreadCollector]:
    gc.collect()
    installed = gc_policy.install(qapp, interval_ms=10)
    yield installed
    installed.uninstall()
    assert gc.isenabled()


def test_without_the_policy_a_worker_thread_frees_the_cycle() -> None:
    """What the policy prevents: the automatic collector runs on the allocating thread."""
    assert gc.isenabled()
    gc.collect()
    freed_on = drop_a_cycle()
    worker = Allocator(rounds=100)
    worker.start()
    worker.join()
    assert freed_on == ["allocating-worker"]


def test_collection_is_off_once_installed(collector, qapp) -> None:
    assert not gc.isenabled()
    freed_on = drop_a_cycle()
    kept = allocate(100_000)  # on the GUI thread: nothing is collected either
    worker = Allocator(rounds=100)
    worker.start()
    worker.join()
    assert freed_on == []
    assert gc.get_count()[0] > 100_000
    del kept


def test_a_cycle_dropped_while_a_worker_allocates_is_freed_on_the_gui_thread(
    collector, qtbot
) -> None:
    freed_on = drop_a_cycle()
    worker = Allocator()
    worker.start()
    try:
        qtbot.waitUntil(lambda: bool(freed_on))
    finally:
        worker.stop()
    assert freed_on == [threading.main_thread().name]
    assert collector.collections[0] >= 1


def test_cycles_made_all_the_time_are_freed_by_the_timer(collector, qtbot) -> None:
    """Memory does not grow without bound: round after round of cycles is freed, the
    ones that lived through a few collections by the older generations' collections."""
    collector.threshold = (700, 2, 2)  # older generations collected sooner than 10 and 10
    batch = 2_000
    kept: list[Traced] = []
    most_alive = 0
    rounds = 24
    for _round in range(rounds):
        kept = [Traced() for _ in range(batch)]  # the previous round's batch is garbage
        most_alive = max(most_alive, Traced.alive)
        done = sum(collector.collections)
        qtbot.waitUntil(lambda done=done: sum(collector.collections) > done)
    del kept
    filler: list[list[dict]] = []

    def all_freed() -> bool:
        filler.append(allocate(1_000))  # the program goes on allocating
        return Traced.alive == 0

    qtbot.waitUntil(all_freed)
    # at most the live batch and those waiting for their generation's turn
    assert most_alive <= rounds // 2 * batch, most_alive
    assert collector.collections[1] >= 1
    assert collector.collections[2] >= 1


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        ((0, 0, 0), None),
        ((700, 10, 10), None),  # nothing new beyond the threshold yet
        ((701, 0, 0), 0),
        ((50_000, 10, 0), 0),
        ((701, 11, 0), 1),
        ((701, 11, 10), 1),
        ((701, 3, 11), 2),
    ],
)  # fmt: skip
def test_the_generation_collected_is_the_one_cpython_would(count, expected) -> None:
    assert gc_policy.generation_due(count, (700, 10, 10)) == expected
    assert gc_policy.generation_due(count, (0, 10, 10)) is None  # threshold 0: never


_RUN_GUI_SCRIPT = """
import gc, json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

app = QApplication(sys.argv[:1])
result = {}
kept = []


class Cycle:
    def __init__(self):
        self.me = self

    def __del__(self):
        result.setdefault("freed", True)


def first_paint():
    from billing_desktop.ui.gc_policy import GuiThreadCollector
    from billing_desktop.ui.main_window import MainWindow

    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    if not window.isVisible():
        QTimer.singleShot(10, first_paint)
        return
    QApplication.processEvents()  # the first paint of the window
    collector = app.findChild(GuiThreadCollector)
    result["enabled_at_paint"] = gc.isenabled()
    result["collections_at_paint"] = list(collector.collections)
    Cycle()
    kept.append([{} for _ in range(10_000)])  # the program goes on allocating
    def freed():
        if "freed" in result:
            result["collections"] = list(collector.collections)
            QApplication.quit()
        else:
            QTimer.singleShot(10, freed)
    freed()


QTimer.singleShot(0, first_paint)
from billing_desktop.app import run_gui
from billing_desktop.config import target_from

code = run_gui(target_from(sys.argv[1]), lang="en_US")
print(json.dumps({"code": code, **result}))
"""


def test_the_application_collects_on_the_gui_thread_after_the_first_paint(
    make_account, db_path
) -> None:
    """``run_gui``: automatic collection is off once the window is up, nothing was
    collected by the timer before the first paint, and garbage is freed afterwards."""
    import json
    import subprocess
    import sys

    make_account("Rossi Impianti S.r.l.")
    result = subprocess.run(
        [sys.executable, "-c", _RUN_GUI_SCRIPT, str(db_path)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 0
    assert outcome["enabled_at_paint"] is False
    assert outcome["collections_at_paint"] == [0, 0, 0]
    assert outcome["freed"] is True
    assert sum(outcome["collections"]) >= 1
