"""My connections: the list, its actions, and the progress of the running syncs."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from connex_desktop import APP_DISPLAY_NAME
from connex_desktop.app import App
from connex_desktop.core.app_settings import WINDOW_PLACE
from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.errors import ConnexError
from connex_desktop.core.result import RunTrigger
from connex_desktop.ui import text
from connex_desktop.ui.assets import icon
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.connect_dialog import ConnectDialog
from connex_desktop.ui.connections_model import ConnectionIdRole, ConnectionsModel
from connex_desktop.ui.connections_table import ConnectionsTable
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.detail_pane import DetailPane, ListAndPane
from connex_desktop.ui.empty_page import EmptyPage
from connex_desktop.ui.log_dialogs import SyncLogDialogs
from connex_desktop.ui.run_feedback import RunFeedback
from connex_desktop.ui.run_status import RunStatusRow
from connex_desktop.ui.scheduler import AutoSyncScheduler
from connex_desktop.ui.screen_fit import place_of, size_main_window
from connex_desktop.ui.sync_log import SyncLogDialog
from connex_desktop.ui.window_actions import build_actions, enable_actions

EMPTY_PAGE, LIST_PAGE = 0, 1


def confirmed(parent: QWidget, title: str, question: str) -> bool:
    """Yes or Cancel, Cancel being what Enter or Esc chooses."""
    answer = QMessageBox.question(
        parent, title, question,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
        QMessageBox.StandardButton.Cancel)
    return answer == QMessageBox.StandardButton.Yes


class MainWindow(QMainWindow):
    """The connections and what can be done with them. Closing it keeps the app in the tray.

    Signals:
        hidden_to_tray(): the window was closed while a tray icon keeps the app running.
    """

    hidden_to_tray = Signal()

    # Made by window_actions.build_actions; the menus, the toolbar and the list show them.
    add_action: QAction
    configure_action: QAction
    duplicate_action: QAction
    remove_action: QAction
    connect_action: QAction
    sync_action: QAction
    preview_action: QAction
    cancel_action: QAction
    log_action: QAction
    quit_action: QAction

    def __init__(self, app: App, controller: SyncController, scheduler: AutoSyncScheduler, *,
                 demo_orders: int | None = None) -> None:
        super().__init__()
        self._app = app
        self._controller = controller
        self._scheduler = scheduler
        self._demo_orders = demo_orders
        self.keep_running_in_tray = False
        self._quitting = False
        self.logs_folder = app.paths.logs
        self._log_dialogs = SyncLogDialogs(app, controller, self, retry_failed=self.retry_failed)
        # The platform adds the application's display name to any other title.
        self.setWindowTitle(APP_DISPLAY_NAME)
        self.setWindowIcon(icon("app"))

        self.model = ConnectionsModel(app, scheduler)
        self.table = ConnectionsTable(self.model)
        self.table.doubleClicked.connect(lambda _index: self.configure_selected())

        build_actions(self, scheduler)     # self.add_action … self.quit_action, and their menus
        self.pages = QStackedWidget()
        empty_page = EmptyPage()
        self.demo_button, self.add_button = empty_page.demo_button, empty_page.add_button
        self.demo_button.clicked.connect(self.try_demo)
        self.add_button.clicked.connect(self.add_connection)
        self.pages.addWidget(empty_page)
        self.pages.addWidget(self.table)
        self.detail = DetailPane(app, (self.sync_action, self.preview_action,
                                       self.configure_action, self.log_action))
        self.split = ListAndPane(self.pages, self.detail)

        self.status = RunStatusRow()
        self.progress_label, self.progress_bar = self.status.label, self.status.bar
        # A long progress line wraps, rather than widen the window past a small screen.
        self.progress_label.setWordWrap(True)

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.status)
        self.setCentralWidget(central)

        self._reloading = False     # reload() refreshes the panel once, at its end
        self.table.selectionModel().selectionChanged.connect(
            lambda *_: None if self._reloading else self._refresh_panel())
        self._run_feedback = RunFeedback(self, controller)
        scheduler.paused_changed.connect(lambda _paused: self.reload())
        self.demo_button.setFocus()     # until reload() shows the list instead
        self.reload()
        size_main_window(self, app.settings.get(WINDOW_PLACE))

    # ── state ───────────────────────────────────────────────────────────────────────────────

    def reload(self, select_id: int | None = None) -> None:
        """Re-read the connections, keeping (or moving) the selection."""
        keep = select_id if select_id is not None else self.selected_id()
        self._reloading = True
        try:
            self.model.reload()
            self.table.fit_columns()
            self._show_page(LIST_PAGE if self.model.rowCount() else EMPTY_PAGE)
            if keep is not None:
                self.select(keep)
            elif self.model.rowCount():
                self.table.selectRow(0)
        finally:
            self._reloading = False
        self._refresh_panel()

    def _show_page(self, page: int) -> None:
        """The list, or the first run's page; a page newly shown takes the keys (Enter tries
        the demo, or configures the selected connection)."""
        if page != self.pages.currentIndex():
            self.pages.setCurrentIndex(page)
            (self.table if page == LIST_PAGE else self.demo_button).setFocus()

    def select(self, connection_id: int) -> None:
        row = self.model.row_of(connection_id)
        if row >= 0:
            self.table.selectionModel().select(
                self.model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.table.setCurrentIndex(self.model.index(row, 0))

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return rows[0].data(ConnectionIdRole) if rows else None

    def selected_connection(self) -> Connection | None:
        connection_id = self.selected_id()
        return self._app.connections.get_by_id(connection_id) if connection_id else None

    def _refresh_panel(self) -> None:
        """Enable what applies to the selection; show its progress or its last result."""
        connection_id = self.selected_id()
        enable_actions(
            self, connection_id,
            running=connection_id is not None and self._controller.is_running(connection_id),
            cancellable=(connection_id is not None
                         and self._controller.request(connection_id) is not None))
        row = self.model.row_of(connection_id) if connection_id is not None else -1
        self.detail.show_row(self.model.rows()[row] if row >= 0 else None,
                             self.model.index(row, ConnectionsModel.NEXT_SYNC).data())
        if connection_id is None:
            self.status.show_text("")
            return
        undo = self._controller.undo_request(connection_id)
        progress = self._controller.progress(connection_id)
        request = self._controller.request(connection_id)
        if undo is not None:
            self.status.show_undo(undo)
        elif progress is not None and request is not None:
            self.status.show_progress(request, progress,
                                      self._controller.run_clock(connection_id))
        else:
            self.status.show_text(self._idle_line(connection_id))

    def _idle_line(self, connection_id: int) -> str:
        """Why the connection cannot sync, or what its last sync did."""
        row = self.model.rows()[self.model.row_of(connection_id)]
        if self.model.refusal(connection_id):
            return f"Cannot sync: {self.model.refusal(connection_id)}"
        if row.last_run is None:
            return "Not synced yet. Press Sync now, or Preview to see what would be booked."
        return (f"Last sync {text.when(row.last_run.started_at, text.local_now())}: "
                f"{text.run_summary(row.last_run)}")

    # ── actions ─────────────────────────────────────────────────────────────────────────────

    def try_demo(self) -> Connection | None:
        """The demo store into a sample QuickBooks company on this computer, then selected."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            connection = (self._app.start_demo(orders=self._demo_orders)
                          if self._demo_orders is not None else self._app.start_demo())
        except ConnexError as error:
            QMessageBox.warning(self, "The demo could not start", str(error))
            return None
        finally:
            QApplication.restoreOverrideCursor()
        self.reload(select_id=connection.id)
        self.statusBar().showMessage(
            f"The demo connection {connection.name!r} is ready: press Sync now.", 10_000)
        return connection

    def add_connection(self) -> None:
        dialog = ConfigureDialog(self._app, None, parent=self)
        if dialog.exec() and dialog.saved is not None:
            self.reload(select_id=dialog.saved.id)

    def configure_selected(self, *, quickbooks_tab: bool = False) -> None:
        connection = self.selected_connection()
        if connection is None:
            return
        dialog = ConfigureDialog(self._app, connection, parent=self)
        if quickbooks_tab:
            dialog.tabs.setCurrentWidget(dialog.quickbooks)
        dialog.exec()
        self.reload(select_id=connection.id)

    def duplicate_selected(self) -> Connection | None:
        """A copy under a new name, with the store's secrets but not the QuickBooks tokens
        (see ConnectionService.copy)."""
        original = self.selected_connection()
        if original is None:
            return None
        copy = self._app.connection_service().copy(original.name)
        self.reload(select_id=copy.id)
        self.statusBar().showMessage(
            f"Copied to {copy.name!r}. Connect it to QuickBooks before its first sync.", 10_000)
        return copy

    def remove_selected(self, *, confirm: bool = True) -> bool:
        connection = self.selected_connection()
        if connection is None or connection.id is None:
            return False
        if self._controller.is_running(connection.id):
            return False
        if confirm and not confirmed(
                self, "Remove connection",
                f"Remove the connection {connection.name!r}?\n\nIts settings, saved passwords "
                "and sync history on this computer are deleted. Nothing is deleted in "
                "QuickBooks or in the store."):
            return False
        connection_id = self._app.connection_service().remove(connection.name)
        self._log_dialogs.close(connection_id)
        self.reload()
        return True

    def connect_selected(self) -> None:
        connection = self.selected_connection()
        if connection is None:
            return
        if connection.quickbooks.product is QuickBooksProduct.DESKTOP:
            # Its company file and Web Connector are set up there; no Intuit sign-in.
            self.configure_selected(quickbooks_tab=True)
            return
        ConnectDialog(self._app, connection, parent=self).exec()
        self.reload(select_id=connection.id)

    def sync_selected(self) -> str | None:
        return self._start(trigger=RunTrigger.MANUAL)

    def preview_selected(self) -> str | None:
        return self._start(trigger=RunTrigger.MANUAL, dry_run=True)

    def retry_failed(self, connection_id: int) -> str | None:
        return self._start(connection_id, trigger=RunTrigger.RETRY, retry_failed=True)

    def _start(self, connection_id: int | None = None, **how) -> str | None:
        connection_id = connection_id if connection_id is not None else self.selected_id()
        if connection_id is None:
            return "Select a connection first."
        reason = self._controller.start(connection_id, **how)
        if reason:
            self.model.set_refusal(connection_id, reason)
            self._refresh_panel()
        return reason

    def cancel_selected(self) -> None:
        connection_id = self.selected_id()
        if connection_id is None or self._controller.request(connection_id) is None:
            return
        # Said before the token is set: the run then tells, at once, what it is finishing.
        self.progress_label.setText("Cancelling — no new orders are started…")
        if self._controller.cancel(connection_id):
            self.cancel_action.setEnabled(False)

    def show_log_of_selected(self) -> SyncLogDialog | None:
        connection_id = self.selected_id()
        return self.show_log(connection_id) if connection_id is not None else None

    def show_log(self, connection_id: int) -> SyncLogDialog:
        return self._log_dialogs.show(connection_id)

    def show_and_raise(self) -> None:
        self.showNormal()
        self.raise_()
        self.activateWindow()

    # ── closing ─────────────────────────────────────────────────────────────────────────────

    def quit_app(self) -> bool:
        """End the app, asking first while a sync is running (it is cancelled: the orders
        already sent are finished, and the next sync resumes it); False if the user chose to
        keep it running."""
        requests = {cid: request for cid in self._controller.running_ids()
                    if (request := self._controller.request(cid)) is not None}
        syncing = [request.connection.name for request in requests.values()]
        partly_sent = sum(progress.partly_sent for cid in requests
                          if (progress := self._controller.progress(cid)) is not None)
        if syncing and not confirmed(
                self, "Quit while syncing?",
                f"{', '.join(syncing)} {'is' if len(syncing) == 1 else 'are'} syncing. Quit "
                f"anyway?\n\n{text.quit_while_syncing_note(partly_sent)}"):
            return False
        self._quitting = True
        QApplication.quit()
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.isVisible():    # where the user left it, for the next start
            self._app.settings.set(WINDOW_PLACE, place_of(self))
        # Qt closes every window on quit: only a close of the window alone hides it to the tray.
        if self.keep_running_in_tray and not self._quitting:
            event.ignore()
            self.hide()
            self.hidden_to_tray.emit()
        else:
            event.accept()

