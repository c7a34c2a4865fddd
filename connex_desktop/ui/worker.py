"""The sync engine on a worker object that lives in its own QThread."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from connex_desktop.core.connection import Connection
from connex_desktop.core.progress import CancelToken, Progress
from connex_desktop.core.result import RunStatus, SyncResult

if TYPE_CHECKING:   # the engine is imported by whoever builds it (App.engine), when first needed
    from connex_desktop.sync.engine import Engine

log = logging.getLogger(__name__)

# About ten progress updates a second reach the GUI, however fast the engine goes.
PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class RunRequest:
    """What to run: the connection as it was when the run started, and how."""

    connection: Connection
    trigger: str = "manual"
    dry_run: bool = False
    retry_failed: bool = False


class SyncWorker(QObject):
    """Runs one sync. Cancel with `cancel()` called directly from the GUI thread.

    Signals:
        progressed(Progress): at most every PROGRESS_INTERVAL_S while the run goes on.
        finished(SyncResult): exactly once, also for a run that failed unexpectedly.
    """

    progressed = Signal(object)
    finished = Signal(object)

    def __init__(self, engine: Engine, request: RunRequest) -> None:
        super().__init__()
        self._engine = engine
        self.request = request
        self._cancel = CancelToken()
        self._last_emit = float("-inf")

    def cancel(self) -> None:
        """Thread-safe: sets the token the engine checks between orders and pages.

        A direct call, not a queued slot: the worker's thread is busy inside run() and would
        not deliver a queued call before the run ends.
        """
        self._cancel.cancel()

    @Slot()
    def run(self) -> None:
        request = self.request
        try:
            # prepare() may ask QuickBooks (preferences), so it runs here, not on the GUI
            # thread. A scheduled run skips it: the engine records its refusal as a failed
            # run, which is what makes the schedule back off.
            reason = None if request.trigger == "schedule" else self._engine.prepare(
                request.connection)
            if reason:
                self.finished.emit(SyncResult(connection=request.connection.name, run_id=None,
                                              status=RunStatus.FAILED, message=reason,
                                              dry_run=request.dry_run))
                return
            result = self._engine.run(
                request.connection, progress=self._on_progress, cancel=self._cancel,
                dry_run=request.dry_run, trigger=request.trigger,
                retry_failed=request.retry_failed)
        except Exception as error:  # the engine reports expected errors in the result
            log.exception("sync of %r stopped unexpectedly", request.connection.name)
            result = SyncResult(
                connection=request.connection.name, run_id=None, status=RunStatus.FAILED,
                dry_run=request.dry_run,
                message=f"The sync stopped unexpectedly ({type(error).__name__}: {error}). "
                        "Details are in the log file.")
        self.finished.emit(result)

    def _on_progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self._last_emit >= PROGRESS_INTERVAL_S:
            self._last_emit = now
            self.progressed.emit(progress)
