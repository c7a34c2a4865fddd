"""The sync log: runs, what each did with each order, retry, undo, open in QuickBooks, export."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.core.result import BookedDocument, DocumentKind, RunStatus
from connex_desktop.quickbooks.auth import api_base_url
from connex_desktop.storage.repositories import OrderOutcome, RunOrderRecord, RunRecord
from connex_desktop.storage.sync_log import log_rows, order_result, undone_documents, write_csv
from connex_desktop.ui import text
from connex_desktop.ui.connections_model import FAILED_COLOR
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.worker import UndoRequest

if TYPE_CHECKING:   # loaded with the undoer (App.undoer): the window shows without QuickBooks
    from connex_desktop.sync.undo import UndoDocument, UndoResult

# The invisible root of a flat table (a default argument made once).
_ROOT = QModelIndex()

# QuickBooks Online's own pages for each kind of document (`…/app/<page>?txnId=<Id>`).
QBO_PAGES = {
    DocumentKind.INVOICE: "invoice",
    DocumentKind.PAYMENT: "recvpayment",
    DocumentKind.SALES_RECEIPT: "salesreceipt",
    DocumentKind.ESTIMATE: "estimate",
    DocumentKind.PURCHASE_ORDER: "purchaseorder",
    DocumentKind.REFUND_RECEIPT: "refundreceipt",
}
QBO_APP_URLS = {"production": "https://app.qbo.intuit.com/app",
                "sandbox": "https://app.sandbox.qbo.intuit.com/app"}
UNDO_LIST_MAX = 15   # documents named in the confirmation itself; all of them under Details


def document_url(company: QuickBooksCompany, document: BookedDocument) -> str:
    """Where a booked document opens in QuickBooks Online; a custom (local) company's own
    address, since a sandbox on this computer has no QuickBooks screens to open."""
    app_url = QBO_APP_URLS.get(company.environment.strip().lower())
    if app_url is None:
        return api_base_url(company.environment).removesuffix("/v3")
    return f"{app_url}/{QBO_PAGES[document.kind]}?txnId={document.qb_id}"


def sentence(message: str) -> str:
    """A reason shown on its own starts with a capital letter."""
    return message[:1].upper() + message[1:]


def _run_result(run: RunRecord) -> str:
    if run.undone_at is not None:
        return "Undone"
    if run.undo_message:
        return "Partly undone"
    return text.STATUS_WORDS.get(run.status, run.status)


def undo_line(doc: UndoDocument) -> str:
    line = f"{doc.label} of order {doc.order}: {doc.total:.2f}"
    return f"{line} ({doc.reason})" if doc.reason else line


def documents_text(order: RunOrderRecord) -> str:
    return ", ".join(f"{doc.kind.label} {doc.doc_number or doc.qb_id}".strip()
                     for doc in order.documents)


class _TableModel(QAbstractTableModel):
    """A read-only table over a list of rows, each turned into cells by `cells(row)`."""

    columns: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.items: list = []

    def set_items(self, items: list) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def cells(self, item) -> tuple[str, ...]:
        raise NotImplementedError

    def failed(self, item) -> bool:
        return False

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self.items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cells(item)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and self.failed(item):
            return FAILED_COLOR
        return None


class RunsModel(_TableModel):
    columns = ("Started", "Trigger", "Result", "Fetched", "Booked", "Skipped", "Failed")

    def cells(self, run: RunRecord) -> tuple[str, ...]:
        kind = "Preview" if run.dry_run else run.trigger.value.capitalize()
        return (text.when(run.started_at, text.local_now()), kind, _run_result(run),
                str(run.fetched), str(run.synced), str(run.skipped), str(run.failed))

    def failed(self, run: RunRecord) -> bool:
        return run.failed > 0 or run.status == RunStatus.FAILED.value


class OrdersModel(_TableModel):
    columns = ("Order", "Result", "QuickBooks documents", "Reason")

    def __init__(self) -> None:
        super().__init__()
        self.undone: frozenset[tuple[str, str]] = frozenset()   # see order_result

    def show(self, orders: list[RunOrderRecord], undone: frozenset[tuple[str, str]]) -> None:
        self.undone = undone
        self.set_items(orders)

    def cells(self, order: RunOrderRecord) -> tuple[str, ...]:
        return (order.order_number, order_result(order, self.undone),
                documents_text(order), sentence(order.message))

    def failed(self, order: RunOrderRecord) -> bool:
        return order.outcome is OrderOutcome.FAILED


class SyncLogDialog(QDialog):
    """The history of one connection.

    Signals:
        retry_requested(int): the user asked to sync this connection's failed orders again.
        undo_finished(object): an undo the user confirmed ended (its UndoResult), or None
            when it could not start.

    Undoes go through the controller, like syncs: one job per connection, off the GUI thread.
    """

    retry_requested = Signal(int)
    undo_finished = Signal(object)

    def __init__(self, app: App, controller: SyncController, connection_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._controller = controller
        self._connection_id = connection_id
        self.resize(980, 620)
        self.runs_model = RunsModel()
        self.orders_model = OrdersModel()
        self.runs_view = self._table(self.runs_model)
        self.orders_view = self._table(self.orders_model)
        self.orders_view.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setMinimumHeight(60)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(QLabel("<b>Runs</b>"))
        runs_layout.addWidget(self.runs_view)
        orders_box = QWidget()
        orders_layout = QVBoxLayout(orders_box)
        orders_layout.setContentsMargins(0, 0, 0, 0)
        orders_layout.addWidget(self.summary)
        orders_layout.addWidget(self.orders_view, 1)
        orders_layout.addWidget(self.detail)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(runs_box)
        splitter.addWidget(orders_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)

        self.retry_button = QPushButton("Retry failed orders")
        self.retry_button.clicked.connect(lambda: self.retry_requested.emit(self._connection_id))
        self.open_button = QPushButton("Open in QuickBooks")
        self.open_button.clicked.connect(self.open_selected_document)
        self.export_button = QPushButton("Export to CSV…")
        self.export_button.clicked.connect(self._ask_export)
        self.undo_button = QPushButton("Undo this run…")
        self.undo_button.setToolTip("Delete from QuickBooks what this run booked, so its orders "
                                    "can be booked again.")
        self.undo_button.clicked.connect(self.ask_undo)
        self.undo_confirmation: QMessageBox | None = None   # open while the user decides
        self.undo_report: QMessageBox | None = None
        controller.undo_finished.connect(self._on_undo_finished)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for button in (self.retry_button, self.undo_button, self.open_button,
                       self.export_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)

        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.runs_view.selectionModel().selectionChanged.connect(lambda *_: self._show_run())
        self.orders_view.selectionModel().selectionChanged.connect(lambda *_: self._show_order())

    @staticmethod
    def _table(model: QAbstractTableModel) -> QTableView:
        view = QTableView()
        view.setModel(model)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setStretchLastSection(True)
        view.setWordWrap(False)
        return view

    def reload(self, select_run: int | None = None) -> None:
        """Re-read the runs; the run `select_run` (else the newest) is selected."""
        connection = self._app.connections.get_by_id(self._connection_id)
        self.setWindowTitle(f"Sync log: {connection.name}")
        self.runs_model.set_items(self._app.runs.list(self._connection_id))
        self.retry_button.setEnabled(bool(self._app.runs.failed_order_numbers(
            self._connection_id)))
        if self.runs_model.rowCount():
            row = next((row for row, run in enumerate(self.runs_model.items)
                        if run.id == select_run), 0)
            self.runs_view.selectRow(row)
        self._show_run()

    def selected_run(self) -> RunRecord | None:
        rows = self.runs_view.selectionModel().selectedRows()
        return self.runs_model.items[rows[0].row()] if rows else None

    def selected_order(self) -> RunOrderRecord | None:
        rows = self.orders_view.selectionModel().selectedRows()
        return self.orders_model.items[rows[0].row()] if rows else None

    def select_order(self, number: str) -> bool:
        for row, order in enumerate(self.orders_model.items):
            if order.order_number == number:
                self.orders_view.selectRow(row)
                return True
        return False

    def _show_run(self) -> None:
        run = self.selected_run()
        if run is None:
            self.orders_model.show([], frozenset())
        else:
            self.orders_model.show(self._app.runs.orders(run.id),
                                   undone_documents(self._app.ledger, run))
        self.undo_button.setEnabled(self._can_undo(run))
        if run is None:
            self.summary.setText("No runs yet.")
        else:
            summary = escape(text.run_summary(run), quote=False)
            if run.undo_message:
                summary += f"<br>{escape(run.undo_message, quote=False)}"
            self.summary.setText(f"<b>Run of {text.when(run.started_at, text.local_now())}</b>"
                                 f": {summary}")
        first_failed = next((row for row, order in enumerate(self.orders_model.items)
                             if order.outcome is OrderOutcome.FAILED), None)
        if first_failed is not None:
            self.orders_view.selectRow(first_failed)
        self._show_order()

    def _show_order(self) -> None:
        order = self.selected_order()
        self.open_button.setEnabled(bool(order and order.documents and self._company().connected))
        if order is None:
            self.detail.setText("")
            return
        parts = [f"<b>Order {escape(order.order_number, quote=False)}</b>: "
                 f"{order_result(order, self.orders_model.undone)}"]
        if order.documents:
            parts.append(escape(documents_text(order), quote=False))
        if order.message:
            parts.append(escape(sentence(order.message), quote=False))
        if order.detail:
            parts.append("<span style='color:#555'>Details from the service: "
                         f"{escape(order.detail, quote=False)}</span>")
        self.detail.setText("<br>".join(parts))

    # ---- undo ------------------------------------------------------------------------------

    def _can_undo(self, run: RunRecord | None) -> bool:
        return self._undoable(run) and not self._controller.is_running(self._connection_id)

    def _undoable(self, run: RunRecord | None) -> bool:
        return (run is not None and not run.dry_run
                and not run.running and run.undone_at is None
                and any(order.documents for order in self.orders_model.items))

    def ask_undo(self) -> None:
        """Find out (in the background: it asks QuickBooks) what undoing the selected run
        would delete, then ask the user to confirm it."""
        run = self.selected_run()
        if not self._undoable(run):     # a sync going on is refused by the controller, in words
            return
        assert run is not None
        self._start_undo(run, "Checking what this run left in QuickBooks…", dry_run=True)

    def _start_undo(self, run: RunRecord, note: str, *, dry_run: bool = False) -> None:
        reason = self._controller.start_undo(self._connection_id, run.id, dry_run=dry_run)
        if reason:
            self._undo_not_possible(reason)
            return
        self.undo_button.setEnabled(False)
        self.summary.setText(note)

    @Slot(int, object, object)
    def _on_undo_finished(self, connection_id: int, result: UndoResult,
                          request: UndoRequest) -> None:
        if connection_id != self._connection_id:
            return
        run = self._app.runs.get(request.run_id)
        if request.dry_run:
            self._confirm_undo(run, result)
        else:
            self._undone(run, result)

    def _confirm_undo(self, run: RunRecord, preview: UndoResult) -> None:
        from connex_desktop.sync.undo import UNDO_WORDS, UndoOutcome, UndoStatus

        self._show_run()     # the run as it is, while the user decides
        if preview.status is UndoStatus.FAILED:
            self._undo_not_possible(preview.message)
            return
        deleting = [doc for doc in preview.documents
                    if doc.outcome is UndoOutcome.WOULD_DELETE]
        gone = [doc for doc in preview.documents if doc.outcome is UndoOutcome.ALREADY_GONE]
        kept = preview.left
        lines = [f"• {undo_line(doc)}" for doc in deleting[:UNDO_LIST_MAX]]
        if len(deleting) > UNDO_LIST_MAX:
            lines.append(f"…and {len(deleting) - UNDO_LIST_MAX} more (see Show Details).")
        if kept:
            lines.append(f"\nKept in QuickBooks ({len(kept)}):")
            lines += [f"• {undo_line(doc)}" for doc in kept[:UNDO_LIST_MAX]]
        if gone:
            lines.append(f"\nAlready deleted in QuickBooks: {len(gone)}.")
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Undo this run")
        when = text.when(run.started_at, text.local_now())
        box.setDetailedText("\n".join(
            f"{sentence(UNDO_WORDS[doc.outcome])}: {undo_line(doc)}"
            for doc in preview.documents))
        if not (deleting or gone):
            box.setText(f"Nothing of the run of {when} can be deleted from QuickBooks.")
            box.setInformativeText("\n".join(lines).strip())
            box.setStandardButtons(QMessageBox.StandardButton.Close)
            self.undo_confirmation = box
            box.open()
            return
        box.setText(f"Delete {len(deleting)} document{'' if len(deleting) == 1 else 's'} the "
                    f"run of {when} booked from QuickBooks?")
        box.setInformativeText(
            "\n".join(lines).strip() + "\n\nThey are deleted, not voided, so a later sync can "
            "book these orders again. This cannot be reversed in QuickBooks.")
        confirm = box.addButton(f"Delete {len(deleting)}", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _code: self._confirmed(run, box.clickedButton() is confirm))
        self.undo_confirmation = box
        box.open()

    def _confirmed(self, run: RunRecord, yes: bool) -> None:
        self.undo_confirmation = None
        if not yes:
            return
        self._start_undo(run, "Deleting this run's documents from QuickBooks…")

    def _undone(self, run: RunRecord, result: UndoResult) -> None:
        from connex_desktop.sync.undo import UndoStatus

        self.reload(select_run=run.id)
        box = QMessageBox(self)
        box.setWindowTitle("Undo this run")
        if result.status is UndoStatus.UNDONE:
            box.setIcon(QMessageBox.Icon.Information)
        else:
            box.setIcon(QMessageBox.Icon.Warning)
        box.setText(result.message or "Nothing was deleted.")
        left = [f"• {undo_line(doc)}" for doc in result.left[:UNDO_LIST_MAX]]
        if left:
            box.setInformativeText("Still in QuickBooks:\n" + "\n".join(left))
        self.undo_report = box
        box.open()
        self.undo_finished.emit(result)

    def _undo_not_possible(self, message: str) -> None:
        self.undo_button.setEnabled(self._can_undo(self.selected_run()))
        self.summary.setText(f"<b>Undo not possible:</b> {escape(message, quote=False)}")
        self.undo_finished.emit(None)

    def _company(self) -> QuickBooksCompany:
        return self._app.connections.get_by_id(self._connection_id).quickbooks

    def open_selected_document(self) -> str | None:
        """Open the selected order's first document in QuickBooks; returns the address."""
        order = self.selected_order()
        if order is None or not order.documents:
            return None
        url = document_url(self._company(), order.documents[0])
        QDesktopServices.openUrl(QUrl(url))
        return url

    def _ask_export(self) -> None:
        connection = self._app.connections.get_by_id(self._connection_id)
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export the sync log", f"{connection.name} sync log.csv", "CSV files (*.csv)")
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> int:
        """Every listed run's orders, one line per document (or per order without one)."""
        return write_csv(path, log_rows(self.runs_model.items, self._app.runs, self._app.ledger))
