"""The one place that starts, watches and cancels sync runs and undoes: one job per connection."""

from __future__ import annotations

import dataclasses
import gc
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal, Slot

from connex_desktop.app import App
from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import ConnexError
from connex_desktop.core.progress import Progress, RunClock
from connex_desktop.core.result import RunTrigger
from connex_desktop.ui.worker import RunRequest, SyncWorker, UndoRequest, UndoWorker

# On quit, how long to wait for a cancelled run to reach a safe point between two orders.
SHUTDOWN_WAIT_MS = 15_000


_frozen = False


def freeze_long_lived_objects() -> None:
    """Once, as the first job starts: leave the objects alive then out of every later garbage
    collection.

    A full collection walks every object Python tracks while holding the GIL, so one started
    by a job's thread stalls the window: over 100 ms with the app's own objects (its modules,
    the engine's, imported by now, and Qt's wrappers: most of the heap) in the walk. Those live
    as long as the app. Only once: cyclic garbage frozen with them is never freed.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


@dataclass
class _Job:
    thread: QThread
    worker: SyncWorker | UndoWorker
    progress: Progress = field(default_factory=Progress)
    clock: RunClock = field(default_factory=lambda: RunClock(time.monotonic()))


class SyncController(QObject):
    """Starts syncs and undoes on worker threads for the window, the tray, the scheduler and the
    sync log alike. A connection has at most one job at a time: a sync, or an undo of one of its
    runs (both write to its QuickBooks company and its ledger).

    Signals:
        run_started(int, RunRequest): a run of the connection with this id began.
        run_progressed(int, Progress): throttled progress of that run.
        run_finished(int, SyncResult, RunRequest): the run ended (succeeded, partial, failed or
            cancelled).
        undo_started(int, UndoRequest): an undo (or its dry run) of a run of the connection began.
        undo_finished(int, UndoResult, UndoRequest): that undo ended.
        running_changed(bool): whether any job is going on.
    """

    run_started = Signal(int, object)
    run_progressed = Signal(int, object)
    run_finished = Signal(int, object, object)
    undo_started = Signal(int, object)
    undo_finished = Signal(int, object, object)
    running_changed = Signal(bool)

    def __init__(self, app: App, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._jobs: dict[int, _Job] = {}

    def start(self, connection_id: int, *, trigger: RunTrigger = RunTrigger.MANUAL,
              dry_run: bool = False, retry_failed: bool = False, orders: tuple[str, ...] = (),
              qb_numbering: bool = False) -> str | None:
        """Start a run; returns None, or why it cannot start, in plain words.

        `orders` limits the run to these orders (by number); `qb_numbering` lets QuickBooks
        number this run's documents, whatever the connection says (a fix from the sync log).

        What the engine's prepare() finds wrong arrives as a FAILED result without a run id
        (it is checked on the worker thread, since it may ask QuickBooks).
        """
        connection = self._connection_to_start(
            connection_id, while_syncing="A sync of this connection is already running.",
            while_undoing="A run of this connection is being undone; sync it once that has "
                          "finished.")
        if isinstance(connection, str):
            return connection
        if qb_numbering:
            connection = dataclasses.replace(connection, use_qb_numbering=True)
        worker = SyncWorker(self._app.engine(),
                            RunRequest(connection, trigger, dry_run, retry_failed, orders),
                            ready=self._app.with_demo_running)
        worker.progressed.connect(self._on_worker_progressed)
        self._launch(connection_id, worker, f"sync-{connection_id}")
        self.run_started.emit(connection_id, worker.request)
        return None

    def start_undo(self, connection_id: int, run_id: int, *,
                   dry_run: bool = False) -> str | None:
        """Undo a run of the connection (with `dry_run`, find out what that would delete);
        returns None, or why it cannot start, in plain words. Why the run itself cannot be
        undone arrives as a FAILED UndoResult (it is checked on the worker thread)."""
        connection = self._connection_to_start(
            connection_id,
            while_syncing="A sync of this connection is running; undo the run once it has "
                          "finished.",
            while_undoing="A run of this connection is being undone already.")
        if isinstance(connection, str):
            return connection
        worker = UndoWorker(self._app.undoer(), UndoRequest(connection, run_id, dry_run),
                            ready=self._app.with_demo_running)
        self._launch(connection_id, worker, f"undo-{connection_id}")
        self.undo_started.emit(connection_id, worker.request)
        return None

    def _connection_to_start(self, connection_id: int, *, while_syncing: str,
                             while_undoing: str) -> Connection | str:
        """The connection a new job is for, or why it cannot start now (the job going on, or
        the connection is gone)."""
        if connection_id in self._jobs:
            return while_syncing if self.request(connection_id) is not None else while_undoing
        try:
            return self._app.connections.get_by_id(connection_id)
        except ConnexError as error:
            return error.message

    def _launch(self, connection_id: int, worker: SyncWorker | UndoWorker, name: str) -> None:
        freeze_long_lived_objects()
        thread = QThread(self)
        thread.setObjectName(name)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        thread.finished.connect(worker.deleteLater)
        worker.finished.connect(self._on_worker_finished)
        was_idle = not self._jobs
        self._jobs[connection_id] = _Job(thread, worker)
        thread.start()
        if was_idle:
            self.running_changed.emit(True)

    def cancel(self, connection_id: int) -> bool:
        """Ask the run to stop at the next safe point; False if no run of it is going on (an
        undo is not cancelled: it is short, and the next undo finishes an interrupted one)."""
        job = self._jobs.get(connection_id)
        if job is None or not isinstance(job.worker, SyncWorker):
            return False
        job.worker.cancel()
        return True

    def cancel_all(self) -> None:
        for job in self._jobs.values():
            if isinstance(job.worker, SyncWorker):
                job.worker.cancel()

    def is_running(self, connection_id: int) -> bool:
        """Whether the connection has a job (a sync or an undo) going on."""
        return connection_id in self._jobs

    def running_ids(self) -> list[int]:
        """The connections with a job (a sync or an undo) going on."""
        return list(self._jobs)

    def progress(self, connection_id: int) -> Progress | None:
        """The latest progress of a running sync."""
        if self.request(connection_id) is None:
            return None
        return self._jobs[connection_id].progress

    def run_clock(self, connection_id: int) -> RunClock | None:
        """How long a running sync has run, and when the pause it reported ends."""
        if self.request(connection_id) is None:
            return None
        return self._jobs[connection_id].clock

    def request(self, connection_id: int) -> RunRequest | None:
        """The sync the connection is running, if it is."""
        job = self._jobs.get(connection_id)
        return job.worker.request if job and isinstance(job.worker, SyncWorker) else None

    def undo_request(self, connection_id: int) -> UndoRequest | None:
        """The undo the connection is doing, if it is."""
        job = self._jobs.get(connection_id)
        return job.worker.request if job and isinstance(job.worker, UndoWorker) else None

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Cancel every run and wait for the threads (the engine stops between orders)."""
        self.cancel_all()
        for job in list(self._jobs.values()):
            job.thread.quit()
            job.thread.wait(timeout_ms)

    def _connection_id_of(self, worker: object) -> int | None:
        return next((cid for cid, job in self._jobs.items() if job.worker is worker), None)

    @Slot(object)
    def _on_worker_progressed(self, progress: Progress) -> None:
        connection_id = self._connection_id_of(self.sender())
        if connection_id is None:
            return
        job = self._jobs[connection_id]
        job.progress = progress
        job.clock.heard(progress, time.monotonic())
        self.run_progressed.emit(connection_id, progress)

    @Slot(object)
    def _on_worker_finished(self, result: object) -> None:
        connection_id = self._connection_id_of(self.sender())
        if connection_id is None:
            return
        job = self._jobs.pop(connection_id)
        # finished() is emitted from inside run(), before the thread's loop can stop: end the
        # loop, then wait for the thread to exit before letting go of it.
        job.thread.quit()
        job.thread.wait()
        job.thread.deleteLater()
        if isinstance(job.worker, SyncWorker):
            self.run_finished.emit(connection_id, result, job.worker.request)
        else:
            self.undo_finished.emit(connection_id, result, job.worker.request)
        if not self._jobs:
            self.running_changed.emit(False)
