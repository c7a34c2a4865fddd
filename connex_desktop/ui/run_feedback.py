"""How the main window follows the controller's runs and undos, wherever they were started."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot

from connex_desktop.core.progress import Progress
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.core.undo_result import UndoResult
from connex_desktop.sources.demo_store import DemoSource, only_planted_failures
from connex_desktop.ui import text
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.worker import RunRequest, UndoRequest

if TYPE_CHECKING:   # the window imports this module
    from connex_desktop.ui.main_window import MainWindow

# Long enough to read the demo's note on the failures it plants.
DEMO_NOTE_MS = 30_000


class RunFeedback(QObject):
    """Progress in the list and the status row, outcomes in the status bar, a preview's log.

    A child of the window, so that the controller's signals stop reaching it with the window.
    """

    def __init__(self, window: MainWindow, controller: SyncController) -> None:
        super().__init__(window)
        self._window = window
        self._controller = controller
        controller.run_started.connect(self._on_run_started)
        controller.run_progressed.connect(self._on_run_progressed)
        controller.run_finished.connect(self._on_run_finished)
        controller.undo_started.connect(lambda _connection_id, _request: window.reload())
        controller.undo_finished.connect(self._on_undo_finished)

    @Slot(int, object)
    def _on_run_started(self, connection_id: int, request: RunRequest) -> None:
        self._window.statusBar().clearMessage()
        self._window.model.set_refusal(connection_id, "")
        self._window.model.set_progress(connection_id, Progress(), request.dry_run)
        self._window.reload()   # the run may come from the tray or the scheduler: show all of it

    @Slot(int, object)
    def _on_run_progressed(self, connection_id: int, progress: Progress) -> None:
        request = self._controller.request(connection_id)
        self._window.model.set_progress(connection_id, progress,
                                        bool(request and request.dry_run))
        if connection_id == self._window.selected_id() and request is not None:
            self._window.status.show_progress(request, progress,
                                              self._controller.run_clock(connection_id))

    @Slot(int, object, object)
    def _on_run_finished(self, connection_id: int, result: SyncResult,
                         request: RunRequest) -> None:
        window = self._window
        window.model.set_progress(connection_id, None)
        if result.run_id is None and result.status is RunStatus.FAILED:
            window.model.set_refusal(connection_id, result.message)     # prepare() said no
        window.reload()
        if result.status is RunStatus.FAILED:
            window.statusBar().showMessage(f"{request.connection.name}: {result.message}", 15_000)
        elif (request.connection.source_kind == DemoSource.kind
              and only_planted_failures(result)):
            window.statusBar().showMessage(
                f"{text.count_of(result.failed, 'order')} failed on purpose, planted by the "
                "demo: the sync log (Ctrl+L) says why and how to book them.", DEMO_NOTE_MS)
        if request.dry_run and connection_id == window.selected_id():
            window.show_log(connection_id)

    @Slot(int, object, object)
    def _on_undo_finished(self, connection_id: int, result: UndoResult,
                          request: UndoRequest) -> None:
        self._window.reload()     # the connection's last run, and its actions, as they are now
        if not request.dry_run and result.message:
            self._window.statusBar().showMessage(f"{request.connection.name}: {result.message}",
                                                 15_000)
