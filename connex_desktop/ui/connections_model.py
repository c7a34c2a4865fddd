"""The table of connections in the main window: what each books, and how its syncs went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from connex_desktop.app import App
from connex_desktop.core.connection import Connection
from connex_desktop.core.progress import Progress
from connex_desktop.core.result import RunStatus
from connex_desktop.core.token_life import reconnect_warning
from connex_desktop.quickbooks.errors import RECONNECT_PREFIX
from connex_desktop.storage.repositories import RunRecord
from connex_desktop.ui import text
from connex_desktop.ui.colors import ERROR_COLOR, WARNING_COLOR, on_palette
from connex_desktop.ui.scheduler import AutoSyncScheduler

# The invisible root of a flat table (a default argument made once).
_ROOT = QModelIndex()

RECONNECT = RECONNECT_PREFIX.rstrip(": ")
ConnectionIdRole = Qt.ItemDataRole.UserRole + 1
# The next sync of a connection the scheduler leaves alone until it is connected.
NOT_CONNECTED_SCHEDULE = "Connect to QuickBooks first"
NEEDS_RECONNECT_SCHEDULE = "Reconnect to QuickBooks first"


@dataclass
class ConnectionRow:
    connection: Connection
    store: str
    last_run: RunRecord | None
    next_due: datetime | None
    progress: Progress | None = None     # set while a run of this connection is going on
    dry_run: bool = False
    refusal: str = ""                    # why the last Sync now could not start

    @property
    def needs_reconnect(self) -> bool:
        run, company = self.last_run, self.connection.quickbooks
        # A failed run from before the latest sign-in says nothing of the new tokens.
        run_failure = (run.message if run and run.status == RunStatus.FAILED.value and not (
            company.signed_in_at and run.started_at <= datetime.fromisoformat(
                company.signed_in_at)) else "")
        return company.needs_reconnect or (self.refusal or run_failure).startswith(RECONNECT)

    def reconnect_note(self, now: datetime) -> str:
        """What the QuickBooks company cell says after the company's name ("" when all is well)."""
        if not self.connection.quickbooks.connected:
            return ""
        if self.needs_reconnect:
            return RECONNECT
        return reconnect_warning(self.connection.quickbooks, now)


class ConnectionsModel(QAbstractTableModel):
    """One row per connection; `reload()` re-reads them, `set_progress()` updates one row."""

    COLUMNS = ("Connection", "Store", "QuickBooks company", "Transactions", "Order statuses",
               "Last sync", "Next sync")
    LAST_SYNC, NEXT_SYNC = 5, 6

    def __init__(self, app: App, scheduler: AutoSyncScheduler) -> None:
        super().__init__()
        self._app = app
        self._scheduler = scheduler
        self._rows: list[ConnectionRow] = []
        self._refusals: dict[int, str] = {}

    def reload(self) -> None:
        now = text.local_now()
        running = {row.connection.id: row for row in self._rows if row.progress is not None}
        rows = []
        for connection in self._app.connections.list():
            assert connection.id is not None
            source = self._app.source_kinds.get(connection.source_kind)
            store = (text.store_address(source, connection.source_settings) if source
                     else f"Unknown kind of store: {connection.source_kind}")
            row = ConnectionRow(connection, store, self._app.runs.last_sync(connection.id),
                                self._scheduler.next_due(connection, now))
            row.refusal = self._refusals.get(connection.id, "")
            if connection.id in running:
                row.progress = running[connection.id].progress
                row.dry_run = running[connection.id].dry_run
            rows.append(row)
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def rows(self) -> list[ConnectionRow]:
        return list(self._rows)

    def row_of(self, connection_id: int) -> int:
        return next((i for i, row in enumerate(self._rows) if row.connection.id == connection_id),
                    -1)

    def connection_at(self, row: int) -> Connection | None:
        return self._rows[row].connection if 0 <= row < len(self._rows) else None

    def refusal(self, connection_id: int) -> str:
        return self._refusals.get(connection_id, "")

    def set_refusal(self, connection_id: int, reason: str) -> None:
        """Remember why a sync could not start ("" clears it when the next one starts)."""
        if reason:
            self._refusals[connection_id] = reason
        else:
            self._refusals.pop(connection_id, None)
        row = self.row_of(connection_id)
        if row >= 0:
            self._rows[row].refusal = reason
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def set_progress(self, connection_id: int, progress: Progress | None,
                     dry_run: bool = False) -> None:
        """Show a running sync's counts in its row (None: the run ended)."""
        row = self.row_of(connection_id)
        if row < 0:
            return
        self._rows[row].progress = progress
        self._rows[row].dry_run = dry_run
        cell = self.index(row, self.LAST_SYNC)
        self.dataChanged.emit(cell, cell, [Qt.ItemDataRole.DisplayRole])

    # ── Qt model interface ──────────────────────────────────────────────────────────────────

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        if role == ConnectionIdRole:
            return row.connection.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            shown = self._cell_text(row, index.column())
            if role == Qt.ItemDataRole.ToolTipRole:
                return self._tooltip(row, index.column()) or shown
            return shown
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._cell_color(row, index.column())
        return None

    def _cell_text(self, row: ConnectionRow, column: int) -> str:
        connection = row.connection
        now = text.local_now()
        match column:
            case 0:
                return connection.name
            case 1:
                return row.store
            case 2:
                if not connection.quickbooks.connected:
                    return "Not connected"
                company = connection.quickbooks.company_name or connection.quickbooks.realm_id
                note = row.reconnect_note(now)
                return f"{company}: {note}" if note else company
            case 3:
                label = connection.mode_info.label
                return f"{label} (QuickBooks numbering)" if connection.use_qb_numbering else label
            case 4:
                return ", ".join(connection.statuses) or "All"
            case 5:
                if row.progress is not None:
                    return text.running_summary(row.progress, dry_run=row.dry_run)
                if row.last_run is None:
                    return "Never"
                started = text.when(row.last_run.started_at, now)
                return f"{started}: {text.run_summary(row.last_run)}"
            case _:
                if row.progress is not None:
                    return "After this sync"
                if not connection.schedule.enabled:
                    return "Off"
                if not connection.quickbooks.connected:
                    return NOT_CONNECTED_SCHEDULE
                if connection.quickbooks.needs_reconnect:
                    return NEEDS_RECONNECT_SCHEDULE
                if self._scheduler.paused:
                    return "Paused"
                if row.next_due is None:
                    return "Off"
                return "Due now" if row.next_due <= now else text.when(row.next_due, now)

    def _tooltip(self, row: ConnectionRow, column: int) -> str:
        if column == 2 and row.needs_reconnect:
            return row.refusal or (row.last_run.message if row.last_run else "")
        if column == self.LAST_SYNC and row.last_run is not None and row.last_run.message:
            return row.last_run.message
        if column == 1:
            return "\n".join(f"{name}: {value}" for name, value
                             in row.connection.source_settings.items() if value)
        if column == 2 and not row.connection.quickbooks.connected:
            return "Use Connect to QuickBooks to choose the company to book into."
        if column == 3:
            return row.connection.mode_info.explanation
        return ""

    def _cell_color(self, row: ConnectionRow, column: int) -> QColor | None:
        if column == 2 and (row.needs_reconnect or not row.connection.quickbooks.connected):
            return on_palette(ERROR_COLOR)
        if column == self.LAST_SYNC and row.progress is None and row.last_run is not None:
            if row.last_run.status == RunStatus.FAILED.value:
                return on_palette(ERROR_COLOR)
            if row.last_run.status == RunStatus.PARTIAL.value:
                return on_palette(WARNING_COLOR)
        return None
