"""Run long work off the GUI thread, with a progress dialog and Cancel (SPEC §4, issue 4 item 9).

Use :func:`run_in_background` for anything that can take more than a moment —
rendering a large PDF, an export, a renewal run — so the window never freezes::

    def work(progress: TaskProgress) -> Path:
        for done, chunk in enumerate(chunks, start=1):
            progress.check()                    # raises TaskCancelled after Cancel
            write(chunk)
            progress.update("Writing", done, len(chunks))
        return target

    task = run_in_background(
        self, work,
        title=self.tr("Export"), label=self.tr("Exporting the accounts…"),
        on_result=lambda path: self.status.setText(str(path)),
    )

How it behaves:

- ``fn(progress)`` runs on ``QThreadPool.globalInstance()``; every signal and
  callback (``on_result``, ``on_error``, ``on_cancel``) arrives on the GUI
  thread. Nothing in ``fn`` may touch a widget.
- ``progress`` is a :class:`TaskProgress`: it has ``cancelled`` and
  ``update(stage, done, total)`` like :class:`billing_desktop.services.demo.Progress`
  and is callable as ``progress(done, total)``, so it can be handed straight
  to the services that take a ``progress`` argument (``renewal.advance``,
  ``clock.set_simulated_date``, ``demo.generate_accounts``).
- Cancel is cooperative: the dialog's Cancel button sets ``cancelled``; the
  work stops at its next :meth:`TaskProgress.check` (or when it polls
  ``cancelled``). Whatever it returns after Cancel is discarded and
  ``on_cancel`` runs instead of ``on_result``. Work that cannot stop midway
  (one ``QTextDocument.print_``) should check right before its side effect
  (writing the file), so a cancelled task leaves nothing behind.
- The progress dialog is window-modal and appears only if the work lasts
  longer than ``minimum_duration_ms`` (quick tasks do not flash a dialog).
  Until the first ``update`` it shows a busy indicator.
- A :class:`~billing_desktop.domain.errors.DomainError` raised by ``fn`` goes
  to ``on_error`` or, by default, to :func:`billing_desktop.ui.errors.show_service_error`;
  any other exception is re-raised on the GUI thread (the crash handler shows
  it and logs the traceback).
- The returned :class:`BackgroundTask` is a child of ``parent``: if the parent
  is destroyed first, the result is dropped silently. It is not deleted when
  it ends (whoever waits on ``done`` may still hold it); a widget that runs
  many tasks calls ``task.deleteLater()`` from its ``done`` slot. Tests wait
  with ``qtbot.waitSignal(task.done)`` (or ``task.wait()``), never with sleeps.

Database work in ``fn`` is fine: every service call opens its own session and
SQLite connections are per thread (see ``store.database``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from billing_desktop.domain.errors import DomainError

__all__ = ["BackgroundTask", "TaskCancelled", "TaskProgress", "run_in_background"]

log = logging.getLogger("billing_desktop.ui")

T = TypeVar("T")

#: The dialog shows only for work that takes longer than this (milliseconds).
DEFAULT_MINIMUM_DURATION_MS = 400


class TaskCancelled(Exception):
    """Raised by :meth:`TaskProgress.check` once the user pressed Cancel."""


class TaskProgress:
    """What the work function gets: cancellation flag in, progress reports out.

    Thread-safe: ``fn`` calls it from the worker thread; the GUI thread sets
    the flag. Compatible with ``services.demo.Progress`` (``cancelled`` and
    ``update(stage, done, total)``) and with ``(done, total)`` callbacks.
    """

    def __init__(self, report: Callable[[str, int, int], None]) -> None:
        self._event = threading.Event()
        self._report = report

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()

    def check(self) -> None:
        """Raise :class:`TaskCancelled` if the user cancelled; call it between steps."""
        if self._event.is_set():
            raise TaskCancelled()

    def update(self, stage: str, done: int, total: int) -> None:
        """Report ``done`` of ``total`` steps; ``stage`` (translated text) replaces the label
        when not empty. ``total`` 0 means "unknown" (busy indicator)."""
        self._report(stage, int(done), int(total))

    def __call__(self, done: int, total: int) -> None:
        self.update("", done, total)


class _Runnable(QRunnable):
    def __init__(self, task: BackgroundTask[Any], fn: Callable[[TaskProgress], Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._task = task
        self._fn = fn

    def run(self) -> None:
        task = self._task
        progress = task.progress
        try:
            result = self._fn(progress)
        except TaskCancelled:
            task._emit(task._cancelled_in_worker)
        except BaseException as err:  # reported on the GUI thread
            if progress.cancelled:
                task._emit(task._cancelled_in_worker)
            else:
                task._emit(task._failed_in_worker, err)
        else:
            if progress.cancelled:
                task._emit(task._cancelled_in_worker)
            else:
                task._emit(task._succeeded_in_worker, result)
        finally:
            task._finished_event.set()
            self._task = None  # type: ignore[assignment]
            self._fn = None  # type: ignore[assignment]


class BackgroundTask(QObject, Generic[T]):
    """One piece of work running in the thread pool; see the module docstring."""

    #: the work returned a value (GUI thread), not emitted after Cancel
    succeeded = Signal(object)
    #: the work raised (GUI thread); carries the exception
    failed = Signal(object)
    #: the user cancelled and the work has stopped
    cancelled = Signal()
    #: after any of the three above: the task is over
    done = Signal()
    #: ``(stage, done, total)`` as reported by the work (GUI thread)
    progressed = Signal(str, int, int)

    # Emitted from the worker thread; queued to the GUI thread by Qt.
    _succeeded_in_worker = Signal(object)
    _failed_in_worker = Signal(object)
    _cancelled_in_worker = Signal()
    _progress_in_worker = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.progress = TaskProgress(self._report)
        self._finished_event = threading.Event()
        self._over = False
        queued = Qt.ConnectionType.QueuedConnection
        self._succeeded_in_worker.connect(self._on_succeeded, queued)
        self._failed_in_worker.connect(self._on_failed, queued)
        self._cancelled_in_worker.connect(self._on_cancelled, queued)
        self._progress_in_worker.connect(self.progressed, queued)

    # -- worker side -----------------------------------------------------

    def _report(self, stage: str, done: int, total: int) -> None:
        self._emit(self._progress_in_worker, stage, done, total)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the task's parent was destroyed: nobody is listening
            log.debug("background task result dropped: its owner is gone")

    # -- GUI side --------------------------------------------------------

    @property
    def running(self) -> bool:
        return not self._over

    def cancel(self) -> None:
        """Ask the work to stop (it does at its next ``check``); ``cancelled`` follows."""
        self.progress.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work function has returned (not until the signals arrived)."""
        return self._finished_event.wait(timeout)

    def _on_succeeded(self, result: object) -> None:
        self._over = True
        self.succeeded.emit(result)
        self.done.emit()

    def _on_failed(self, err: object) -> None:
        self._over = True
        try:
            self.failed.emit(err)
        finally:
            self.done.emit()

    def _on_cancelled(self) -> None:
        self._over = True
        self.cancelled.emit()
        self.done.emit()


def _progress_dialog(
    parent: QWidget, title: str, label: str, cancellable: bool, minimum_duration_ms: int
) -> QProgressDialog:
    dialog = QProgressDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setRange(0, 0)  # busy until the first report
    dialog.setMinimumWidth(360)
    if not cancellable:
        dialog.setCancelButton(None)
    dialog.setMinimumDuration(minimum_duration_ms)
    dialog.setValue(0)  # starts the minimum-duration timer
    return dialog


def run_in_background(
    parent: QWidget,
    fn: Callable[[TaskProgress], T],
    *,
    title: str,
    label: str,
    on_result: Callable[[T], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_cancel: Callable[[], None] | None = None,
    cancellable: bool = True,
    minimum_duration_ms: int = DEFAULT_MINIMUM_DURATION_MS,
) -> BackgroundTask[T]:
    """Start ``fn(progress)`` in the thread pool with a progress dialog over ``parent``.

    ``title`` and ``label`` are translated by the caller. Returns the running
    :class:`BackgroundTask`; its signals and the callbacks arrive on the GUI
    thread. See the module docstring for the contract.
    """
    task: BackgroundTask[T] = BackgroundTask(parent)
    dialog = _progress_dialog(parent, title, label, cancellable, minimum_duration_ms)
    dialog.canceled.connect(task.cancel)
    dialog.canceled.connect(
        lambda: dialog.setLabelText(QCoreApplication.translate("BackgroundTask", "Cancelling…"))
    )

    def on_progress(stage: str, done: int, total: int) -> None:
        if stage:
            dialog.setLabelText(stage)
        if total > 0:
            dialog.setRange(0, total)
            dialog.setValue(min(done, total))

    def finish() -> None:
        dialog.reset()
        dialog.hide()
        dialog.deleteLater()

    def failed(err: object) -> None:
        if on_error is not None:
            on_error(err)  # type: ignore[arg-type]
        elif isinstance(err, DomainError):
            from billing_desktop.ui.errors import show_service_error

            show_service_error(parent, err)
        else:
            log.error("background task failed", exc_info=err)  # type: ignore[arg-type]
            raise err  # type: ignore[misc]

    task.progressed.connect(on_progress)
    if on_result is not None:
        task.succeeded.connect(on_result)
    if on_cancel is not None:
        task.cancelled.connect(on_cancel)
    task.failed.connect(failed)
    task.done.connect(finish)
    QThreadPool.globalInstance().start(_Runnable(task, fn))
    return task
