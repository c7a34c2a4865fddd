"""The sync log dialogs the window keeps open, one per connection."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from connex_desktop.app import App
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.sync_log import SyncLogDialog


class SyncLogDialogs(dict[int, SyncLogDialog]):
    """Each connection's log, made on first show and reloaded whenever a run of it finishes."""

    def __init__(self, app: App, controller: SyncController, parent: QWidget, *,
                 retry_failed: Callable[[int], object]) -> None:
        super().__init__()
        self._app = app
        self._controller = controller
        self._parent = parent
        self._retry_failed = retry_failed

    def show(self, connection_id: int) -> SyncLogDialog:
        """The connection's log, up to date and in front."""
        dialog = self.get(connection_id)
        if dialog is None:
            dialog = SyncLogDialog(self._app, self._controller, connection_id,
                                   parent=self._parent)
            dialog.retry_requested.connect(self._retry_failed)
            self._controller.run_finished.connect(
                lambda finished_id, _result, _request, d=dialog, cid=connection_id:
                d.reload() if finished_id == cid else None)
            self[connection_id] = dialog
        dialog.reload()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def close(self, connection_id: int) -> None:
        """Forget the log of a removed connection, closing it if it is open."""
        dialog = self.pop(connection_id, None)
        if dialog is not None:
            dialog.close()
