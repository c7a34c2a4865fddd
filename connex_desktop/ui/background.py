"""Short background calls (test a connection, fetch lists, exchange a code) off the GUI thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class BackgroundCall(QObject):
    """One function run on the thread pool; its outcome is delivered on the GUI thread.

    Exactly one of `on_success(result)` or `on_failure(exception)` is called, from the GUI
    thread, because the signals below are queued to this object, which lives there; none is
    when the `owner` given (a window) is gone by then, since Qt deletes this object with it.
    """

    _succeeded = Signal(object)
    _failed = Signal(object)

    # Calls in flight, kept alive until they report (nothing else may hold a reference).
    _pending: ClassVar[set[BackgroundCall]] = set()

    def __init__(self, function: Callable[[], Any], on_success: Callable[[Any], None],
                 on_failure: Callable[[Exception], None], owner: QObject | None = None) -> None:
        super().__init__(owner)
        self._function = function
        self._on_success = on_success
        self._on_failure = on_failure
        self._succeeded.connect(self._deliver_success)
        self._failed.connect(self._deliver_failure)

    def start(self, *, own_thread: bool = False) -> BackgroundCall:
        BackgroundCall._pending.add(self)
        if own_thread:
            threading.Thread(target=self.run_here, name="background-wait", daemon=True).start()
        else:
            QThreadPool.globalInstance().start(_Runnable(self))
        return self

    def run_here(self) -> None:
        """Runs the function in the calling (pool) thread and posts the outcome."""
        try:
            result = self._function()
        except Exception as error:  # reported to the caller, who shows it in plain words
            log.debug("background call failed: %s", type(error).__name__)
            self._post(self._failed, error)
        else:
            self._post(self._succeeded, result)

    def _post(self, signal, value: object) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            # The application is shutting down and took this object with it: nobody is left
            # to tell, and a pool thread must not die with a traceback.
            BackgroundCall._pending.discard(self)

    @Slot(object)
    def _deliver_success(self, result: object) -> None:
        BackgroundCall._pending.discard(self)
        self._on_success(result)

    @Slot(object)
    def _deliver_failure(self, error: Exception) -> None:
        BackgroundCall._pending.discard(self)
        self._on_failure(error)


class _Runnable(QRunnable):
    def __init__(self, call: BackgroundCall) -> None:
        super().__init__()
        self._call = call

    def run(self) -> None:
        self._call.run_here()


def run_in_background(function: Callable[[], Any], *, on_success: Callable[[Any], None],
                      on_failure: Callable[[Exception], None],
                      owner: QObject | None = None) -> BackgroundCall:
    """Start `function` on the pool; see BackgroundCall for how the outcome comes back."""
    return BackgroundCall(function, on_success, on_failure, owner).start()


def wait_in_background(function: Callable[[], Any], *, on_success: Callable[[Any], None],
                       on_failure: Callable[[Exception], None]) -> BackgroundCall:
    """Like run_in_background, for a call that waits minutes (a sign-in in the browser): on a
    thread of its own, so the pool's few threads stay free for short calls."""
    return BackgroundCall(function, on_success, on_failure).start(own_thread=True)
