"""The Configure dialog's Transactions tab: what each order is booked as, and its numbers."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode, sales_orders_unavailable
from connex_desktop.core.quickbooks_rules import DOC_NUMBER_MAX_CHARS
from connex_desktop.sources.base import (
    Source,
    purchase_order_sync_unavailable,
    purchase_orders_unavailable,
)
from connex_desktop.ui.colors import hint_style
from connex_desktop.ui.configure.form import FieldRows

NUMBERING_HINTS = {
    False: "Off: each document takes the order's number (with the prefix).",
    True: "On: QuickBooks gives each document its next number; the order number goes into "
          "the memo."}
PREFIX_HINTS = {
    False: "Put before each order number, e.g. WEB-1001. QuickBooks allows 21 characters in all.",
    True: "Not used while QuickBooks numbers the documents."}

SYNC_PURCHASE_ORDERS_HINT = (
    "Each of the store's own purchase orders becomes a QuickBooks purchase order, changed and "
    "closed as it is there: its supplier matched to a vendor by name (created when missing), "
    "its products to items by SKU (missing ones as the Mapping tab says).")

PREFIX_WARNING = (
    "With a prefix, QuickBooks suggests the next number in the same style (WEB-1002 after "
    "WEB-1001) for invoices made by hand there, and that number then blocks the store's next "
    "order. Consider 'Use QuickBooks numbering'.")


class TransactionsTab(QWidget):
    """The transaction mode (with why one is not offered), numbering, prefix and statuses."""

    def __init__(self, rows: FieldRows) -> None:
        super().__init__()
        self._hints = rows.hints
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)
        layout.addStretch(1)
        self.product = QuickBooksProduct.ONLINE   # whose words the modes are in
        self.desktop_product = ""   # the QuickBooks Desktop a run last found ("": not known)
        self._no_purchase_orders = ""               # why this store takes no purchase orders
        self.mode_combo = QComboBox()
        for mode in TransactionMode:
            self.mode_combo.addItem("", mode.value)
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._on_mode_changed())
        rows.add(form, "Book each order as", self._mode_box(), "mode")
        self.set_product(self.product)
        self.qb_numbering = QCheckBox("Use QuickBooks numbering")
        self.qb_numbering.setToolTip(
            "QuickBooks gives each document its next number; the order number goes into the "
            "memo. Needed for order numbers longer than 21 characters.")
        self.qb_numbering.toggled.connect(self._on_numbering_changed)
        rows.add(form, "Document numbers", self.qb_numbering, "use_qb_numbering",
                 NUMBERING_HINTS[False])
        self.prefix_edit = QLineEdit()
        self.prefix_edit.setMaxLength(DOC_NUMBER_MAX_CHARS)
        self.prefix_edit.setPlaceholderText("e.g. WEB-")
        rows.add(form, "Number prefix", self._prefix_box(), "prefix", PREFIX_HINTS[False])
        self.status_list = QListWidget()
        self.status_list.setMaximumHeight(130)
        rows.add(form, "Order statuses to sync", self.status_list, "statuses",
                 "None ticked: every status.")
        self.sync_purchase_orders = QCheckBox("Sync purchase orders")
        rows.add(form, "The store's purchase orders", self.sync_purchase_orders,
                 "sync_purchase_orders", SYNC_PURCHASE_ORDERS_HINT)

    def _mode_box(self) -> QWidget:
        """The mode's choice, with its explanation and why a mode is not offered."""
        self.mode_explanation = QLabel()
        self.mode_explanation.setWordWrap(True)
        self.mode_unavailable = QLabel()
        self.mode_unavailable.setWordWrap(True)
        self.mode_unavailable.setStyleSheet(hint_style())
        return _column(self.mode_combo, self.mode_explanation, self.mode_unavailable)

    def _prefix_box(self) -> QWidget:
        """The prefix, with the warning under it while a prefix is set and QuickBooks does not
        number the documents."""
        self.prefix_warning = QLabel(PREFIX_WARNING)
        self.prefix_warning.setWordWrap(True)
        self.prefix_warning.hide()
        self.prefix_edit.textChanged.connect(lambda _text: self._show_prefix_warning())
        return _column(self.prefix_edit, self.prefix_warning)

    def load(self, connection: Connection, source: type[Source] | None) -> None:
        self.set_product(connection.quickbooks.product)
        self.set_source(source, connection.statuses)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(connection.mode.value))
        self._on_mode_changed()
        self.qb_numbering.setChecked(connection.use_qb_numbering)
        self._on_numbering_changed(connection.use_qb_numbering)
        self.prefix_edit.setText(connection.prefix)
        self.sync_purchase_orders.setChecked(connection.sync_purchase_orders)

    def set_product(self, product: QuickBooksProduct) -> None:
        """Name the modes, and explain them, in the words of the QuickBooks chosen."""
        self.product = product
        for row in range(self.mode_combo.count()):
            info = TransactionMode(self.mode_combo.itemData(row)).info_in(product)
            self.mode_combo.setItemText(row, info.label)
            self.mode_combo.setItemData(row, info.explanation, Qt.ItemDataRole.ToolTipRole)
        self._on_mode_changed()
        self._show_available()

    def set_desktop_product(self, product_name: str) -> None:
        """The QuickBooks Desktop a run last found the company file to be (e.g. "QuickBooks
        Pro 2024"; "" before any): Pro is not offered the sales-order modes."""
        self.desktop_product = product_name
        self._show_available()

    def set_source(self, source: type[Source] | None, chosen: tuple[str, ...] = ()) -> None:
        """Offer the statuses of this kind of store (those `chosen` ticked), and only the modes
        it allows: a store that keeps its own purchase orders is not offered building them."""
        self.status_list.clear()
        vocabulary = list(source.statuses if source else ())
        vocabulary += [status for status in chosen if status not in vocabulary]
        for status in vocabulary:
            item = QListWidgetItem(status)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if status in chosen
                               else Qt.CheckState.Unchecked)
            self.status_list.addItem(item)
        self._no_purchase_orders = purchase_orders_unavailable(source)
        self._show_available()
        cannot_sync = purchase_order_sync_unavailable(source) if source else ""
        self.sync_purchase_orders.setEnabled(source is not None and not cannot_sync)
        self._hints["sync_purchase_orders"].setText(cannot_sync or SYNC_PURCHASE_ORDERS_HINT)

    def _show_available(self) -> None:
        """Offer each mode this store and this QuickBooks can take, and say why one is not."""
        no_sales_orders = (sales_orders_unavailable(self.desktop_product)
                           if self.product is QuickBooksProduct.DESKTOP else "")
        model = self.mode_combo.model()
        assert isinstance(model, QStandardItemModel)
        for row in range(self.mode_combo.count()):
            mode = TransactionMode(self.mode_combo.itemData(row))
            model.item(row).setEnabled(
                not (mode.books_purchase_orders and self._no_purchase_orders)
                and not (mode.books_estimate and no_sales_orders))
        reasons = " ".join(reason for reason in (self._no_purchase_orders, no_sales_orders)
                           if reason)
        self.mode_unavailable.setText(reasons)
        self.mode_unavailable.setVisible(bool(reasons))

    def syncs_purchase_orders(self) -> bool:
        """Ticked, for a kind of store whose purchase orders can be synced."""
        return self.sync_purchase_orders.isEnabled() and self.sync_purchase_orders.isChecked()

    def statuses(self) -> tuple[str, ...]:
        """The statuses ticked (none: every status)."""
        return tuple(self.status_list.item(row).text() for row in range(self.status_list.count())
                     if self.status_list.item(row).checkState() == Qt.CheckState.Checked)

    def status_states(self) -> list[Qt.CheckState]:
        return [self.status_list.item(row).checkState() for row in range(self.status_list.count())]

    def _on_mode_changed(self) -> None:
        mode = TransactionMode(self.mode_combo.currentData())
        self.mode_explanation.setText(mode.info_in(self.product).explanation)

    def _on_numbering_changed(self, quickbooks_numbers: bool) -> None:
        self.prefix_edit.setEnabled(not quickbooks_numbers)
        self._hints["use_qb_numbering"].setText(NUMBERING_HINTS[quickbooks_numbers])
        self._hints["prefix"].setText(PREFIX_HINTS[quickbooks_numbers])
        self._show_prefix_warning()

    def _show_prefix_warning(self) -> None:
        self.prefix_warning.setVisible(bool(self.prefix_edit.text().strip())
                                       and not self.qb_numbering.isChecked())


def _column(field: QWidget, *under: QWidget) -> QWidget:
    """An input with what is said about it under it, one row of the form, focused as the input."""
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    for widget in (field, *under):
        column.addWidget(widget)
    box.setFocusProxy(field)
    return box
