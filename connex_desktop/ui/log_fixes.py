"""The sync log's fix buttons: each fixes what some failed orders need, then retries them."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QPushButton, QWidget

from connex_desktop.app import App
from connex_desktop.core.errors import Remedy
from connex_desktop.core.result import RunTrigger
from connex_desktop.log_fixes import (
    CHOICE_LISTS,
    OfferedFix,
    fixed_connection,
    offered_fixes,
    tax_words,
)
from connex_desktop.storage.repositories import RunOrderRecord, RunRecord
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.connect_dialog import ConnectDialog
from connex_desktop.ui.controller import SyncController


class FixBar(QWidget):
    """A button per fix the selected run's failures have (hidden when none), and a line saying
    what the last one did. The connect dialog and the list to choose from stay reachable as
    `connect_dialog` and `chooser` while open."""

    def __init__(self, app: App, controller: SyncController, connection_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._controller = controller
        self._connection_id = connection_id
        self.offered: list[OfferedFix] = []
        self.buttons: list[QPushButton] = []
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.connect_dialog: ConnectDialog | None = None
        self.chooser: QInputDialog | None = None
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.addWidget(self.note, 1)
        self.hide()

    def show_fixes(self, run: RunRecord | None, orders: Iterable[RunOrderRecord], *,
                   needs_reconnect: bool) -> None:
        for button in self.buttons:
            button.deleteLater()
        self.offered = offered_fixes(run, orders, needs_reconnect=needs_reconnect)
        self.buttons = []
        for offered in self.offered:
            button = QPushButton(offered.label)
            button.setAutoDefault(False)
            button.clicked.connect(lambda _checked=False, chosen=offered: self.apply(chosen))
            self._row.insertWidget(len(self.buttons), button)
            self.buttons.append(button)
        self.note.clear()
        self.setVisible(bool(self.offered))

    def apply(self, offered: OfferedFix) -> None:
        """Make the fix (asking first what to map to, or signing in again), then retry."""
        remedy = offered.fix.remedy
        if remedy is Remedy.USE_QB_NUMBERING:
            self._retry(offered, qb_numbering=True)
        elif remedy is Remedy.RECONNECT:
            self._reconnect()
        else:
            entity, _what = CHOICE_LISTS[remedy]
            self.note.setText("Reading the QuickBooks company's lists…")
            run_in_background(lambda: self._names(entity),
                              on_success=lambda names: self._choose(offered, names),
                              on_failure=lambda error: self.note.setText(
                                  f"The company's lists could not be read: {error}"))

    def _names(self, entity: str) -> list[str]:
        connection = self._app.connections.get_by_id(self._connection_id)
        with self._app.quickbooks_client(connection) as client:
            return sorted(str(record["Name"]) for record in client.query_all(
                entity, "Active = true") if record.get("Name"))

    def _choose(self, offered: OfferedFix, names: list[str]) -> None:
        _entity, what = CHOICE_LISTS[offered.fix.remedy]
        chooser = QInputDialog(self)
        chooser.setWindowTitle(offered.label.rstrip("…"))
        retried = ("the failed order is" if len(offered.orders) == 1
                   else f"the {len(offered.orders)} failed orders are")
        chooser.setLabelText(f"The QuickBooks {what} for {_subject(offered)}; {retried} then "
                             "tried again.")
        chooser.setComboBoxItems(names)
        chooser.setComboBoxEditable(False)
        chooser.textValueSelected.connect(lambda name: self._mapped(offered, name))
        chooser.finished.connect(lambda _code: setattr(self, "chooser", None))
        self.note.clear()
        self.chooser = chooser
        chooser.open()

    def _mapped(self, offered: OfferedFix, name: str) -> None:
        connection = self._app.connections.get_by_id(self._connection_id)
        self._app.connections.update(fixed_connection(connection, offered.fix, name))
        self._retry(offered)

    def _reconnect(self) -> None:
        connection = self._app.connections.get_by_id(self._connection_id)
        dialog = ConnectDialog(self._app, connection, parent=self)
        dialog.connected.connect(lambda _connection: self._sync_after_reconnect(dialog))
        dialog.finished.connect(lambda _code: setattr(self, "connect_dialog", None))
        self.connect_dialog = dialog
        dialog.open()

    def _sync_after_reconnect(self, dialog: ConnectDialog) -> None:
        dialog.accept()
        self._say(self._controller.start(self._connection_id), "Connected again: syncing.")

    def _retry(self, offered: OfferedFix, *, qb_numbering: bool = False) -> None:
        reason = self._controller.start(self._connection_id, trigger=RunTrigger.RETRY,
                                        orders=offered.orders, qb_numbering=qb_numbering)
        count = len(offered.orders)
        self._say(reason, f"Retrying {count} order{'' if count == 1 else 's'}…")

    def _say(self, refusal: str | None, started: str) -> None:
        self.note.setText(refusal or started)


def _subject(offered: OfferedFix) -> str:
    subject = offered.fix.subject
    return f"SKU {subject}" if offered.fix.remedy is Remedy.MAP_ITEM else tax_words(subject)
