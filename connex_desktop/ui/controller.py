"""The one place that starts, watches and cancels sync runs: one run per connection."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QThread, Signal, Slot

from connex_desktop.app import App
from connex_desktop.core.errors import ConnexError
from connex_desktop.core.progress import Progress
from connex_desktop.core.result import SyncResult
from connex_desktop.ui.worker import RunRequest, SyncWorker

# On quit, how long to wait for a cancelled run to reach a safe point between two orders.
SHUTDOWN_WAIT_MS = 15_000


@dataclass
class _Run:
    thread: QThread
    worker: SyncWorker
    progress: Progress = field(default_factory=Progress)


class SyncController(QObject):
    """Starts runs on worker threads for the window, the tray and the scheduler alike.

    Signals:
        run_started(int, RunRequest): a run of the connection with this id began.
        run_progressed(int, Progress): throttled progress of that run.
        run_finished(int, SyncResult, RunRequest): the run ended (succeeded, partial, failed or
            cancelled).
        running_changed(bool): whether any run is going on.
    """

    run_started = Signal(int, object)
    run_progressed = Signal(int, object)
    run_finished = Signal(int, object, object)
    running_changed = Signal(bool)

    def __init__(self, app: App, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._runs: dict[int, _Run] = {}

    def start(self, connection_id: int, *, trigger: str = "manual", dry_run: bool = False,
              retry_failed: bool = False) -> str | None:
        """Start a run; returns None, or why it cannot start, in plain words.

        What the engine's prepare() finds wrong arrives as a FAILED result without a run id
        (it is checked on the worker thread, since it may ask QuickBooks).
        """
        if connection_id in self._runs:
            return "A sync of this connection is already running."
        try:
            connection = self._app.connections.get_by_id(connection_id)
        except ConnexError as error:
            return error.message
        worker = SyncWorker(self._app.engine(),
                            RunRequest(connection, trigger, dry_run, retry_failed))
        thread = QThread(self)
        thread.setObjectName(f"sync-{connection_id}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        thread.finished.connect(worker.deleteLater)
        worker.progressed.connect(self._on_worker_progressed)
        worker.finished.connect(self._on_worker_finished)
        was_idle = not self._runs
        self._runs[connection_id] = _Run(thread, worker)
        thread.start()
        self.run_started.emit(connection_id, worker.request)
        if was_idle:
            self.running_changed.emit(True)
        return None

    def cancel(self, connection_id: int) -> bool:
        """Ask the run to stop at the next safe point; False if it is not running."""
        run = self._runs.get(connection_id)
        if run is None:
            return False
        run.worker.cancel()
        return True

    def cancel_all(self) -> None:
        for run in self._runs.values():
            run.worker.cancel()

    def is_running(self, connection_id: int) -> bool:
        return connection_id in self._runs

    def running_ids(self) -> list[int]:
        return list(self._runs)

    def progress(self, connection_id: int) -> Progress | None:
        """The latest progress of a running connection."""
        run = self._runs.get(connection_id)
        return run.progress if run is not None else None

    def request(self, connection_id: int) -> RunRequest | None:
        run = self._runs.get(connection_id)
        return run.worker.request if run is not None else None

    def shutdown(self, timeout_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Cancel every run and wait for the threads (the engine stops between orders)."""
        self.cancel_all()
        for run in list(self._runs.values()):
            run.thread.quit()
            run.thread.wait(timeout_ms)

    def _connection_id_of(self, worker: object) -> int | None:
        return next((cid for cid, run in self._runs.items() if run.worker is worker), None)

    @Slot(object)
    def _on_worker_progressed(self, progress: Progress) -> None:
        connection_id = self._connection_id_of(self.sender())
        if connection_id is None:
            return
        self._runs[connection_id].progress = progress
        self.run_progressed.emit(connection_id, progress)

    @Slot(object)
    def _on_worker_finished(self, result: SyncResult) -> None:
        connection_id = self._connection_id_of(self.sender())
        if connection_id is None:
            return
        run = self._runs.pop(connection_id)
        request = run.worker.request
        # finished() is emitted from inside run(), before the thread's loop can stop: end the
        # loop, then wait for the thread to exit before letting go of it.
        run.thread.quit()
        run.thread.wait()
        run.thread.deleteLater()
        self.run_finished.emit(connection_id, result, request)
        if not self._runs:
            self.running_changed.emit(False)
