"""The sync engine, and the undo of a run, on worker objects that live in their own QThread."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import ConnexError, ErrorKind
from connex_desktop.core.progress import CancelToken, Progress
from connex_desktop.core.result import RunStatus, RunTrigger, SyncResult
from connex_desktop.core.undo_result import UndoResult, UndoStatus
from connex_desktop.sources.base import OrderQuery

if TYPE_CHECKING:   # imported by whoever builds them (App.engine, App.undoer), when first needed
    from connex_desktop.sync.engine import Engine
    from connex_desktop.sync.undo import RunUndoer

log = logging.getLogger(__name__)

# About ten progress updates a second reach the GUI, however fast the engine goes.
PROGRESS_INTERVAL_S = 0.1


@dataclass(frozen=True)
class RunRequest:
    """What to run: the connection as it was when the run started, and how."""

    connection: Connection
    trigger: RunTrigger = RunTrigger.MANUAL
    dry_run: bool = False
    retry_failed: bool = False
    orders: tuple[str, ...] = ()     # only these orders (by number), e.g. after a fix


@dataclass(frozen=True)
class UndoRequest:
    """Which run to undo, of the connection as it was when the undo started, and whether only
    to find out what it would delete (`dry_run`: nothing is deleted)."""

    connection: Connection
    run_id: int
    dry_run: bool = False


class SyncWorker(QObject):
    """Runs one sync. Cancel with `cancel()` called directly from the GUI thread.

    Signals:
        progressed(Progress): at most every PROGRESS_INTERVAL_S while the run goes on, and
            whenever it says more than counts (Progress.news_since).
        finished(SyncResult): exactly once, also for a run that failed unexpectedly.
    """

    progressed = Signal(object)
    finished = Signal(object)

    def __init__(self, engine: Engine, request: RunRequest,
                 ready: Callable[[Connection], Connection] = lambda connection: connection
                 ) -> None:
        super().__init__()
        self._engine = engine
        self._ready = ready
        self.request = request
        self._cancel = CancelToken()
        self._last_emit = float("-inf")
        self._last_emitted = Progress()

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
            # ready() may start the demo's company, and prepare() ask QuickBooks
            # (preferences), so they run here, not on the GUI thread. A scheduled run skips
            # prepare(): the engine records its refusal as a failed run, which is what makes
            # the schedule back off.
            # Where QuickBooks now answers, with what the run was started with (a fix's
            # QuickBooks numbering) kept; one not connected is refused below, as it is.
            connection = request.connection
            if connection.quickbooks.connected:
                connection = dataclasses.replace(
                    connection, quickbooks=self._ready(connection).quickbooks)
            reason = None if request.trigger is RunTrigger.SCHEDULE else self._engine.prepare(
                connection)
            if reason:
                self.finished.emit(SyncResult(connection=request.connection.name, run_id=None,
                                              status=RunStatus.FAILED, message=reason,
                                              dry_run=request.dry_run))
                return
            result = self._engine.run(
                connection, progress=self._on_progress, cancel=self._cancel,
                dry_run=request.dry_run, trigger=request.trigger,
                retry_failed=request.retry_failed,
                query=OrderQuery(numbers=request.orders) if request.orders else None)
        except Exception as error:  # the engine reports expected errors in the result
            log.exception("sync of %r stopped unexpectedly", request.connection.name)
            result = SyncResult(
                connection=request.connection.name, run_id=None, status=RunStatus.FAILED,
                dry_run=request.dry_run,
                message=f"The sync stopped unexpectedly ({type(error).__name__}: {error}). "
                        "Details are in the log file.")
        self.finished.emit(result)

    def _on_progress(self, progress: Progress) -> None:
        """Thins out the counts; a total, a pause or a cancel always goes through."""
        now = time.monotonic()
        if (now - self._last_emit >= PROGRESS_INTERVAL_S
                or progress.news_since(self._last_emitted)):
            self._last_emit = now
            self._last_emitted = progress
            self.progressed.emit(progress)


class UndoWorker(QObject):
    """Undoes one run (or, for a dry run, lists what undoing it would delete).

    Signals:
        finished(UndoResult): exactly once; a run that cannot be undone, or an undo that
            stopped unexpectedly, comes as a FAILED result saying why.
    """

    finished = Signal(object)

    def __init__(self, undoer: RunUndoer, request: UndoRequest,
                 ready: Callable[[Connection], Connection] = lambda connection: connection
                 ) -> None:
        super().__init__()
        self._undoer = undoer
        self._ready = ready
        self.request = request

    @Slot()
    def run(self) -> None:
        request = self.request
        try:
            self._ready(request.connection)     # e.g. the demo's company started
            result = self._undoer.undo(request.run_id, dry_run=request.dry_run)
        except ConnexError as error:     # check(): why this run cannot be undone
            result = self._failed(error.message, error.kind)
        except Exception as error:  # the undoer reports QuickBooks' refusals in the result
            log.exception("undo of run %s stopped unexpectedly", request.run_id)
            result = self._failed(f"The undo stopped unexpectedly ({type(error).__name__}: "
                                  f"{error}). Details are in the log file.")
        self.finished.emit(result)

    def _failed(self, message: str, kind: ErrorKind | None = None) -> UndoResult:
        return UndoResult(self.request.connection.name, self.request.run_id, UndoStatus.FAILED,
                          dry_run=self.request.dry_run, message=message, failure_kind=kind)
