"""The sync log: runs, what each did with each order, retry, undo, open in QuickBooks, export."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QStandardPaths,
    Qt,
    QUrl,
    Signal,
    Slot,
)
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.core.connection import QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.money import money_text
from connex_desktop.core.result import QBO_PAGES, BookedDocument, OrderOutcome, RunStatus
from connex_desktop.core.undo_result import (
    UNDO_WORDS,
    UndoDocument,
    UndoOutcome,
    UndoResult,
    UndoStatus,
)
from connex_desktop.quickbooks.auth import api_base_url
from connex_desktop.storage.repositories import RunOrderRecord, RunRecord
from connex_desktop.storage.sync_log import (
    ORDER_COLUMNS,
    LogRow,
    Shown,
    log_rows,
    order_result,
    read_run_log,
    select_rows,
    sentence,
    tally,
    tally_text,
    write_csv,
)
from connex_desktop.ui import text
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.colors import ERROR_COLOR, hint_style, on_palette
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.log_fixes import FixBar
from connex_desktop.ui.opening import open_or_show
from connex_desktop.ui.screen_fit import fit_to_screen
from connex_desktop.ui.worker import UndoRequest

# The invisible root of a flat table (a default argument made once).
_ROOT = QModelIndex()

QBO_APP_URLS = {"production": "https://app.qbo.intuit.com/app",
                "sandbox": "https://app.sandbox.qbo.intuit.com/app"}
UNDO_LIST_MAX = 15   # documents named in the confirmation itself; all of them under Details
ORDERS_PAGE = 200    # rows the table takes at a time: it lays out only what it has fetched
ORDERS_MEASURED = 50   # rows whose text sets the columns' widths
ALL_ORDERS = "All orders"
# Characters a file name cannot hold on Windows (and "/" nowhere).
_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|]')


def document_url(company: QuickBooksCompany, document: BookedDocument) -> str:
    """Where a booked document opens in QuickBooks Online; for a custom (local) company, the
    same page under its own address (the sandbox serves one for each document)."""
    app_url = QBO_APP_URLS.get(company.environment.strip().lower())
    if app_url is None:
        app_url = api_base_url(company.environment).removesuffix("/v3") + "/app"
    return f"{app_url}/{QBO_PAGES[document.kind]}?txnId={document.qb_id}"


def opens_in_browser(company: QuickBooksCompany) -> bool:
    """Whether its documents open in QuickBooks Online's pages; Desktop's live in its company
    file, which no address opens."""
    return company.connected and company.product is QuickBooksProduct.ONLINE


def undo_line(doc: UndoDocument, product: QuickBooksProduct) -> str:
    line = f"{doc.label_in(product)} of order {doc.order}: {money_text(doc.total)}"
    return f"{line} ({doc.reason})" if doc.reason else line


def undo_report(parent: QWidget, result: UndoResult, product: QuickBooksProduct) -> QMessageBox:
    """What the undo did, and what of the run QuickBooks still holds."""
    box = QMessageBox(parent)
    box.setWindowTitle("Undo this run")
    if result.status is UndoStatus.UNDONE:
        box.setIcon(QMessageBox.Icon.Information)
    else:
        box.setIcon(QMessageBox.Icon.Warning)
    box.setText(result.message or "Nothing was deleted.")
    left = [f"• {undo_line(doc, product)}" for doc in result.left[:UNDO_LIST_MAX]]
    if left:
        box.setInformativeText("Still in QuickBooks:\n" + "\n".join(left))
    return box


def undo_question(parent: QWidget, run: RunRecord, preview: UndoResult,
                  product: QuickBooksProduct) -> tuple[QMessageBox, QAbstractButton | None]:
    """What undoing the run would delete, keep and find gone, and the button that confirms it
    (None when nothing can be deleted: the box only says so)."""
    deleting = [doc for doc in preview.documents if doc.outcome is UndoOutcome.WOULD_DELETE]
    gone = [doc for doc in preview.documents if doc.outcome is UndoOutcome.ALREADY_GONE]
    changing = [doc for doc in preview.documents if doc.outcome is UndoOutcome.WOULD_REVERT]
    kept = preview.left
    lines = [f"• {undo_line(doc, product)}" for doc in deleting[:UNDO_LIST_MAX]]
    if len(deleting) > UNDO_LIST_MAX:
        lines.append(f"…and {len(deleting) - UNDO_LIST_MAX} more (see Show Details).")
    if changing:
        lines.append(f"\nChanged back as they were before the run ({len(changing)}):")
        lines += [f"• {undo_line(doc, product)}" for doc in changing[:UNDO_LIST_MAX]]
    if kept:
        lines.append(f"\nKept in QuickBooks ({len(kept)}):")
        lines += [f"• {undo_line(doc, product)}" for doc in kept[:UNDO_LIST_MAX]]
    if gone:
        lines.append(f"\nAlready deleted in QuickBooks: {len(gone)}.")
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Undo this run")
    when = text.when(run.started_at, text.local_now())
    box.setDetailedText("\n".join(f"{sentence(UNDO_WORDS[doc.outcome])}: {undo_line(doc, product)}"
                                  for doc in preview.documents))
    if not (deleting or gone or changing):
        box.setText(f"Nothing of the run of {when} can be deleted from QuickBooks.")
        box.setInformativeText("\n".join(lines).strip())
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        return box, None
    if deleting or not changing:
        back = f", and change {len(changing)} back," if changing else ""
        box.setText(f"Delete {len(deleting)} document{'' if len(deleting) == 1 else 's'}{back} "
                    f"the run of {when} booked from QuickBooks?")
    else:
        box.setText(f"Change back {len(changing)} document{'' if len(changing) == 1 else 's'} "
                    f"the run of {when} changed in QuickBooks?")
    box.setInformativeText("\n".join(lines).strip() + (
        "\n\nThey are deleted, not voided, so a later sync can book these orders again. This "
        "cannot be reversed in QuickBooks." if deleting else ""))
    confirm = box.addButton(f"Delete {len(deleting)}" if deleting else "Change back",
                            QMessageBox.ButtonRole.DestructiveRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box, confirm


class _TableModel(QAbstractTableModel):
    """A read-only table with named columns."""

    columns: tuple[str, ...] = ()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None


class RunsModel(_TableModel):
    """The connection's runs, newest first."""

    columns = ("Started", "Trigger", "Result", "Fetched", "Booked", "Skipped", "Failed")

    def __init__(self) -> None:
        super().__init__()
        self.items: list[RunRecord] = []

    def set_items(self, items: list[RunRecord]) -> None:
        self.beginResetModel()
        self.items = items
        self.endResetModel()

    def cells(self, run: RunRecord) -> tuple[str, ...]:
        kind = "Preview" if run.dry_run else run.trigger.value.capitalize()
        return (text.when(run.started_at, text.local_now()), kind, text.run_result(run),
                str(run.fetched), str(run.synced), str(run.skipped), str(run.failed))

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.items)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        run = self.items[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.cells(run)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and (
                run.failed > 0 or run.status == RunStatus.FAILED.value):
            return on_palette(ERROR_COLOR)
        return None


class OrdersModel(_TableModel):
    """A run's orders (LogRows, read in the background), filtered, searched and sorted, handed
    to the view a page at a time (canFetchMore/fetchMore) so that a run of thousands of orders
    opens as fast as one of twenty."""

    columns = ORDER_COLUMNS
    ORDER, CUSTOMER, RESULT, DOCUMENTS, REASON = range(len(ORDER_COLUMNS))

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[LogRow] = []       # every order of the run, as recorded
        self.visible: list[LogRow] = []    # those the filter and search let through, sorted
        self.fetched = 0                   # how many of `visible` the view has taken
        self.undone: frozenset[tuple[str, str]] = frozenset()   # see order_result
        self.shown: Shown | None = None
        self.search = ""
        self.sort_column: int | None = None
        self.descending = False

    def show(self, rows: list[LogRow], undone: frozenset[tuple[str, str]]) -> None:
        self.rows, self.undone = rows, undone
        self._select()

    def set_filter(self, shown: Shown | None, search: str) -> None:
        self.shown, self.search = shown, search
        self._select()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_column = column if 0 <= column < len(self.columns) else None
        self.descending = order == Qt.SortOrder.DescendingOrder
        self._select()

    def _select(self) -> None:
        self.beginResetModel()
        self.visible = select_rows(self.rows, self.shown, self.search, self.sort_column,
                                   self.descending)
        self.fetched = min(ORDERS_PAGE, len(self.visible))
        self.endResetModel()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> bool:
        return not parent.isValid() and self.fetched < len(self.visible)

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> None:
        more = min(ORDERS_PAGE, len(self.visible) - self.fetched)
        if parent.isValid() or more <= 0:
            return
        self.beginInsertRows(_ROOT, self.fetched, self.fetched + more - 1)
        self.fetched += more
        self.endInsertRows()

    def order_at(self, row: int) -> RunOrderRecord:
        return self.visible[row].order

    def find(self, wanted) -> int | None:
        """The row of the first visible order `wanted(order)` is true of, fetched if need be."""
        row = next((row for row, log_row in enumerate(self.visible) if wanted(log_row.order)),
                   None)
        while row is not None and row >= self.fetched:
            self.fetchMore()
        return row

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else self.fetched

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.visible[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row.cells[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and row.shown is Shown.FAILED:
            return on_palette(ERROR_COLOR)
        return None


class OrdersPane(QWidget):
    """A run's orders: a filter and a search over the table, the selected order's details with
    a link to each of its documents, and a context menu on each row.

    Signals:
        retry_requested(): the user asked to retry the connection's failed orders.
        selection_changed(): another order (or none) is selected.
    """

    retry_requested = Signal()
    selection_changed = Signal()

    def __init__(self, company: Callable[[], QuickBooksCompany],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._company = company
        self.can_retry = False
        self.model = OrdersModel()
        self.view = log_table_view(self.model, "Orders of the selected run")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(OrdersModel.REASON, QHeaderView.ResizeMode.Stretch)
        # Columns fit the first rows' text, not every fetched row's: measuring them all took
        # longer than the window may pause.
        header.setResizeContentsPrecision(ORDERS_MEASURED)
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)   # as recorded, until asked
        self.view.setSortingEnabled(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._show_menu)
        self.menu: QMenu | None = None
        self.filter_combo = QComboBox()
        self.filter_combo.setAccessibleName("Show orders")
        self.filter_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.filter_combo.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Order number or customer")
        self.search_edit.setAccessibleName("Search by order number or customer")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(lambda _text: self._apply_filter())
        QShortcut(QKeySequence.StandardKey.Find, self, self.search_edit.setFocus)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setMinimumHeight(60)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.linkActivated.connect(lambda url: open_url(url, self))
        filters = QHBoxLayout()
        for label, widget, stretch in (("&Show:", self.filter_combo, 0),
                                       ("S&earch:", self.search_edit, 1)):
            caption = QLabel(label)
            caption.setBuddy(widget)
            filters.addWidget(caption)
            filters.addWidget(widget, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.detail)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._on_selected())
        self._selected_id: str | None = None
        self.model.modelReset.connect(self._keep_selection)

    def show_rows(self, rows: list[LogRow], undone: frozenset[tuple[str, str]]) -> None:
        """A run's orders; the filters offer what is there, with counts; the first failed
        order (if any) is selected."""
        counts = tally(rows)
        chosen = self.filter_combo.currentData()
        self.filter_combo.blockSignals(True)
        self.filter_combo.clear()
        self.filter_combo.addItem(f"{ALL_ORDERS} ({len(rows)})", None)
        for shown in Shown:
            if counts[shown]:
                self.filter_combo.addItem(f"{sentence(shown.value)} ({counts[shown]})", shown)
        self.filter_combo.setCurrentIndex(max(0, self.filter_combo.findData(chosen)))
        self.filter_combo.blockSignals(False)
        self.model.shown = self.chosen_filter()
        self.model.show(rows, undone)
        self.select(lambda order: order.outcome is OrderOutcome.FAILED)
        self._on_selected()

    def chosen_filter(self) -> Shown | None:
        chosen = self.filter_combo.currentData()     # Qt hands the enum back as plain text
        return Shown(chosen) if chosen else None

    def _apply_filter(self) -> None:
        self.model.set_filter(self.chosen_filter(), self.search_edit.text())

    def _keep_selection(self) -> None:
        """After a filter, a search, a sort or a reload, the order selected stays selected
        while it is shown."""
        wanted = self._selected_id
        if wanted is None or not self.select(lambda order: order.order_id == wanted):
            self._on_selected()

    def selected_order(self) -> RunOrderRecord | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.order_at(rows[0].row()) if rows else None

    def select(self, wanted: Callable[[RunOrderRecord], bool]) -> bool:
        row = self.model.find(wanted)
        if row is not None:
            self.view.selectRow(row)
        return row is not None

    def _on_selected(self) -> None:
        order = self.selected_order()
        self._selected_id = order.order_id if order else None
        self.detail.setText("" if order is None else self._detail(order))
        self.selection_changed.emit()

    def in_quickbooks(self, order: RunOrderRecord) -> list[BookedDocument]:
        """The order's documents still in QuickBooks: an undo deleted the others."""
        return [doc for doc in order.documents
                if (doc.kind.value, doc.qb_id) not in self.model.undone]

    def selected_in_quickbooks(self) -> list[BookedDocument]:
        order = self.selected_order()
        return self.in_quickbooks(order) if order is not None else []

    def _detail(self, order: RunOrderRecord) -> str:
        head = f"<b>Order {escape(order.order_number, quote=False)}</b>"
        if order.customer:
            head += f" for {escape(order.customer, quote=False)}"
        parts = [f"{head}: {order_result(order, self.model.undone)}"]
        if order.documents:
            company, standing = self._company(), self.in_quickbooks(order)
            parts.append(", ".join(
                f"<a href='{escape(document_url(company, doc))}'>"
                f"{escape(doc.name_in(company.product), quote=False)}</a>"
                if opens_in_browser(company) and doc in standing
                else escape(doc.name_in(company.product), quote=False)
                for doc in order.documents))
        if order.message:
            parts.append(escape(sentence(order.message), quote=False))
        if order.detail:
            parts.append(f"<span style='{hint_style()}'>Details from the service: "
                         f"{escape(order.detail, quote=False)}</span>")
        return "<br>".join(parts)

    def order_menu(self, order: RunOrderRecord) -> QMenu:
        """Open each of the order's documents in QuickBooks, retry, copy the reason."""
        menu = QMenu(self)
        company = self._company()
        standing = self.in_quickbooks(order)
        for doc in order.documents:
            action = menu.addAction(f"Open {doc.name_in(company.product)} in QuickBooks")
            action.setEnabled(opens_in_browser(company) and doc in standing)
            if action.isEnabled():
                url = document_url(company, doc)
                action.triggered.connect(lambda _checked=False, url=url: open_url(url, self))
        if not order.documents:
            menu.addAction("Open in QuickBooks").setEnabled(False)
        retry = menu.addAction("Retry failed orders")
        retry.setEnabled(self.can_retry and order.outcome is OrderOutcome.FAILED)
        retry.triggered.connect(self.retry_requested)
        copy = menu.addAction("Copy the reason")
        copy.setEnabled(bool(order.message))
        copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(
            "\n".join(filter(None, (sentence(order.message), order.detail)))))
        return menu

    def _show_menu(self, point: QPoint) -> None:
        """The clicked row's menu; from the keyboard (the menu key), the current row's."""
        index = self.view.indexAt(point)
        if not index.isValid():
            index = self.view.currentIndex()
            if not index.isValid():
                return
            point = self.view.visualRect(index).center()
        self.view.selectRow(index.row())
        self.menu = self.order_menu(self.model.order_at(index.row()))
        self.menu.popup(self.view.viewport().mapToGlobal(point))


def open_url(url: str, parent: QWidget | None = None) -> None:
    open_or_show(QUrl(url), "the document in QuickBooks", parent)


def export_folder() -> Path:
    """Where an export is offered: the Documents folder; where there is none (a fresh Linux
    account), the home folder, not wherever the app was started."""
    documents = Path(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation))
    return documents if documents.is_dir() else Path.home()


def log_table_view(model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setTabKeyNavigation(False)     # rows are picked with the arrows; Tab moves on
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 8)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view


def _read_run(app: App, connection_id: int, run: RunRecord | None
              ) -> tuple[list[LogRow], frozenset[tuple[str, str]], bool]:
    """A run's log rows and undone documents (none without a run), and whether to offer
    Reconnect: the log's reads, all off the GUI thread."""
    company = app.connections.get_by_id(connection_id).quickbooks
    if run is None:
        return [], frozenset(), company.needs_reconnect
    return (*read_run_log(app.runs, app.ledger, run, company.product), company.needs_reconnect)


class SyncLogDialog(QDialog):
    """The history of one connection.

    Signals:
        retry_requested(int): the user asked to sync this connection's failed orders again.
        undo_finished(object): an undo the user confirmed ended (its UndoResult), or None
            when it could not start.
        exported(str): an export the user asked for ended; what it says.

    Undoes go through the controller, like syncs: one job per connection, off the GUI thread.
    The runs and a run's orders are read in the background (a run of thousands of orders takes
    a while to read); `loading` is true until what was last asked for is shown.
    """

    retry_requested = Signal(int)
    undo_finished = Signal(object)
    exported = Signal(str)

    def __init__(self, app: App, controller: SyncController, connection_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._controller = controller
        self._connection_id = connection_id
        self._quickbooks: QuickBooksCompany | None = None
        self._reads = 0          # the latest read asked for; older answers are dropped
        self.loading = False
        self._failing: frozenset[str] = frozenset()    # orders whose failure still stands
        fit_to_screen(self, 980, 620)
        self.runs_model = RunsModel()
        self.runs_view = log_table_view(self.runs_model, "Runs")
        self.orders = OrdersPane(self._company)
        self.orders_model, self.orders_view = self.orders.model, self.orders.view
        self.detail = self.orders.detail
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.fixes = FixBar(app, controller, connection_id, self)

        layout = QVBoxLayout(self)
        layout.addWidget(self._build_panes(), 1)
        layout.addWidget(self._build_buttons())
        self.runs_view.selectionModel().selectionChanged.connect(lambda *_: self._show_run())
        controller.undo_finished.connect(self._on_undo_finished)
        self.orders.selection_changed.connect(self._on_order_selected)
        self.orders_view.activated.connect(lambda _index: self.open_selected_document())

    def _build_panes(self) -> QSplitter:
        """The runs above, the selected run's summary and orders below."""
        runs_box = QWidget()
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.setContentsMargins(0, 0, 0, 0)
        runs_layout.addWidget(QLabel("<b>Runs</b>"))
        runs_layout.addWidget(self.runs_view)
        orders_box = QWidget()
        orders_layout = QVBoxLayout(orders_box)
        orders_layout.setContentsMargins(0, 0, 0, 0)
        orders_layout.addWidget(self.summary)
        orders_layout.addWidget(self.fixes)
        orders_layout.addWidget(self.orders, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(runs_box)
        splitter.addWidget(orders_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        return splitter

    def _build_buttons(self) -> QDialogButtonBox:
        """Retry, Undo, Open in QuickBooks and Export; Close. Enter never closes the log."""
        self.retry_button = QPushButton("Retry failed orders")
        self.retry_button.clicked.connect(self._retry)
        self.orders.retry_requested.connect(self._retry)
        self.open_button = QPushButton("Open in QuickBooks")
        self.open_button.clicked.connect(self.open_selected_document)
        self.export_button = QPushButton("Export to CSV…")
        self.export_button.clicked.connect(self._ask_export)
        self.export_report: QMessageBox | None = None
        self.undo_button = QPushButton("Undo this run…")
        self.undo_button.setToolTip("Delete from QuickBooks what this run booked, so its orders "
                                    "can be booked again.")
        self.undo_button.clicked.connect(self.ask_undo)
        self.undo_confirmation: QMessageBox | None = None   # open while the user decides
        self.undo_report: QMessageBox | None = None
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        for button in (self.retry_button, self.undo_button, self.open_button,
                       self.export_button):
            buttons.addButton(button, QDialogButtonBox.ButtonRole.ActionRole)
        for button in buttons.buttons():   # Enter acts on the focused row, never closes the log
            button.setAutoDefault(False)
            button.setDefault(False)
        return buttons

    def _retry(self) -> None:
        self.retry_requested.emit(self._connection_id)

    def _read(self, function: Callable[[], object], then: Callable[[object], None]) -> None:
        """Run a database read in the background; `then(result)` on the GUI thread, unless
        another read was asked for meanwhile."""
        self._reads += 1
        ticket = self._reads
        self.loading = True

        def deliver(result: object) -> None:
            if ticket == self._reads:
                self.loading = False
                then(result)

        def failed(error: Exception) -> None:
            if ticket == self._reads:
                self.loading = False
                self.summary.setText(f"<b>The log could not be read:</b> "
                                     f"{escape(str(error), quote=False)}")

        run_in_background(function, on_success=deliver, on_failure=failed)

    def reload(self, select_run: int | None = None) -> None:
        """Re-read the runs (in the background); the run `select_run` (else the newest) is
        selected."""
        connection = self._app.connections.get_by_id(self._connection_id)
        self._quickbooks = connection.quickbooks
        self.setWindowTitle(f"Sync log: {connection.name}")
        runs, connection_id = self._app.runs, self._connection_id
        self._read(lambda: (runs.list(connection_id), runs.failed_order_numbers(connection_id)),
                   lambda read: self._show_runs(*read, select_run))  # type: ignore[misc]

    def _show_runs(self, runs: list[RunRecord], failed: list[str],
                   select_run: int | None) -> None:
        self.runs_model.set_items(runs)
        self._failing = frozenset(failed)
        self.orders.can_retry = bool(failed)
        self.retry_button.setEnabled(bool(failed))
        if runs:
            self.runs_view.selectRow(next((row for row, run in enumerate(runs)
                                           if run.id == select_run), 0))
        else:
            self._show_run()

    def selected_run(self) -> RunRecord | None:
        rows = self.runs_view.selectionModel().selectedRows()
        return self.runs_model.items[rows[0].row()] if rows else None

    def selected_order(self) -> RunOrderRecord | None:
        return self.orders.selected_order()

    def select_order(self, number: str) -> bool:
        return self.orders.select(lambda order: order.order_number == number)

    def _show_run(self) -> None:
        run = self.selected_run()
        self.undo_button.setEnabled(False)
        self.summary.setText("No runs yet." if run is None else
                             f"<b>Run of {text.when(run.started_at, text.local_now())}</b>: "
                             "reading its orders…")
        app, connection_id = self._app, self._connection_id
        self._read(lambda: _read_run(app, connection_id, run),
                   lambda read: self._show_orders(run, read))  # type: ignore[arg-type]

    def _show_orders(self, run: RunRecord | None,
                     read: tuple[list[LogRow], frozenset[tuple[str, str]], bool]) -> None:
        rows, undone, needs_reconnect = read
        self.orders.show_rows(rows, undone)
        failing = (row.order for row in rows if row.order.order_number in self._failing)
        self.fixes.show_fixes(run, failing, needs_reconnect=needs_reconnect)   # not booked since
        self.undo_button.setEnabled(self._can_undo(run))
        if run is not None:
            summary = escape(text.run_summary(run, tally_text(tally(rows))), quote=False)
            if run.undo_message:
                summary += f"<br>{escape(run.undo_message, quote=False)}"
            if run.quickbooks is not None:
                summary += f" · {text.quickbooks_usage(run.quickbooks)}"
            self.summary.setText(f"<b>Run of {text.when(run.started_at, text.local_now())}</b>"
                                 f": {summary}")

    def _on_order_selected(self) -> None:
        self.open_button.setEnabled(bool(self.orders.selected_in_quickbooks())
                                    and opens_in_browser(self._company()))

    # ---- undo ------------------------------------------------------------------------------

    def _can_undo(self, run: RunRecord | None) -> bool:
        return self._undoable(run) and not self._controller.is_running(self._connection_id)

    def _undoable(self, run: RunRecord | None) -> bool:
        return (run is not None and not run.dry_run
                and not run.running and run.undone_at is None
                and any(row.order.documents for row in self.orders_model.rows))

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
        self._show_run()     # the run as it is (read again), while the user decides
        if preview.status is UndoStatus.FAILED:
            self._undo_not_possible(preview.message)
            return
        box, confirm = undo_question(self, run, preview, self._product())
        if confirm is not None:
            box.finished.connect(lambda _code: self._confirmed(run,
                                                               box.clickedButton() is confirm))
        self.undo_confirmation = box
        box.open()

    def _confirmed(self, run: RunRecord, yes: bool) -> None:
        self.undo_confirmation = None
        if not yes:
            return
        self._start_undo(run, "Deleting this run's documents from QuickBooks…")

    def _undone(self, run: RunRecord, result: UndoResult) -> None:
        self.reload(select_run=run.id)
        self.undo_report = box = undo_report(self, result, self._product())
        box.open()
        self.undo_finished.emit(result)

    def _undo_not_possible(self, message: str) -> None:
        self.undo_button.setEnabled(self._can_undo(self.selected_run()))
        self.summary.setText(f"<b>Undo not possible:</b> {escape(message, quote=False)}")
        self.undo_finished.emit(None)

    def _company(self) -> QuickBooksCompany:
        """The connection's QuickBooks as the last reload read it: not read again at every
        order selected (a database read on the GUI thread)."""
        if self._quickbooks is None:
            self._quickbooks = self._app.connections.get_by_id(self._connection_id).quickbooks
        return self._quickbooks

    def _product(self) -> QuickBooksProduct:
        return self._company().product

    def open_selected_document(self) -> str | None:
        """Open the selected order's first document in QuickBooks; returns the address."""
        standing = self.orders.selected_in_quickbooks()
        if not standing:
            return None
        url = document_url(self._company(), standing[0])
        open_url(url, self)
        return url

    def _ask_export(self) -> None:
        connection = self._app.connections.get_by_id(self._connection_id)
        name = _NOT_IN_FILE_NAMES.sub("-", connection.name)
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export the sync log", str(export_folder() / f"{name} sync log.csv"),
            "CSV files (*.csv)")
        if path:
            self.start_export(Path(path))

    def start_export(self, path: Path) -> None:
        """Export in the background, then say where it went (or why it could not)."""
        runs = list(self.runs_model.items)
        self.export_button.setEnabled(False)
        run_in_background(lambda: self.export_csv(path, runs),
                          on_success=lambda lines: self._exported(
                              f"Exported {lines} line{'' if lines == 1 else 's'} of the sync "
                              f"log to {path}.", QMessageBox.Icon.Information),
                          on_failure=lambda error: self._exported(
                              f"The sync log could not be written to {path}: {error}",
                              QMessageBox.Icon.Warning))

    def _exported(self, message: str, icon: QMessageBox.Icon) -> None:
        self.export_button.setEnabled(True)
        box = QMessageBox(icon, "Export the sync log", message,
                          QMessageBox.StandardButton.Ok, self)
        self.export_report = box
        box.open()
        self.exported.emit(message)

    def export_csv(self, path: Path, runs: list[RunRecord] | None = None) -> int:
        """The runs' (else every listed run's) orders, one line per document (or per order
        without one)."""
        return write_csv(path, log_rows(self.runs_model.items if runs is None else runs,
                                        self._app.runs, self._app.ledger, self._product()))
