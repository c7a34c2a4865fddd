"""The window names a connection's transaction mode in its QuickBooks' words: a Desktop user
reads Sales orders in the list, Configure and the rule editor, an Online user (as ever) Sales
orders (Estimates); Configure re-words them when the QuickBooks chosen changes."""

from __future__ import annotations

from PySide6.QtCore import Qt

from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import Rule
from connex_desktop.ui.configure import ConfigureDialog
from tests.qbdesktop.test_desktop_engine import desktop_connection
from tests.sync.conftest import row, write_orders
from tests.ui.test_configure_dialog import choose

DESKTOP, ONLINE = QuickBooksProduct.DESKTOP, QuickBooksProduct.ONLINE
POS = TransactionMode.SALES_ORDERS_INVOICES_POS
MODE_COLUMN = 3
DESKTOP_LABELS = ["Invoices", "Invoices with payments", "Sales receipts", "Sales orders",
                  "Sales orders and invoices", "Sales orders, invoices and purchase orders"]
ONLINE_LABELS = ["Invoices", "Invoices with payments", "Sales receipts",
                 "Sales orders (Estimates in QuickBooks Online)",
                 "Sales orders (Estimates) and invoices",
                 "Sales orders (Estimates), invoices and purchase orders"]
DROP_SHIP = Rule("Drop ship", mode=TransactionMode.SALES_ORDERS)


def shops(app, tmp_path) -> tuple[Connection, Connection]:
    """The same store booked into QuickBooks Desktop (Shop) and Online (Web), both as sales
    orders, invoices and purchase orders, with a rule booking sales orders alone."""
    orders = write_orders(tmp_path / "orders.csv", [row("1001", "MUG")])
    desktop = desktop_connection(app, orders, POS, rules=(DROP_SHIP,))
    online = app.connections.add(Connection("Web", "csv", POS, rules=(DROP_SHIP,),
                                            source_settings={"path": str(orders)}))
    return desktop, online


def test_the_connections_list_names_each_mode_in_its_quickbooks_words(qtbot, desktop,
                                                                      tmp_path):
    shop, _web = shops(desktop.app, tmp_path)
    window = desktop.window
    window.reload(select_id=shop.id)
    cells = {listed.connection.name: window.model.index(place, MODE_COLUMN)
             for place, listed in enumerate(window.model.rows())}
    assert cells["Shop"].data() == "Sales orders, invoices and purchase orders"
    assert cells["Shop"].data(Qt.ItemDataRole.ToolTipRole) == POS.info_in(DESKTOP).explanation
    assert "estimate" not in cells["Shop"].data(Qt.ItemDataRole.ToolTipRole).lower()
    assert cells["Web"].data() == "Sales orders (Estimates), invoices and purchase orders"
    assert cells["Web"].data(Qt.ItemDataRole.ToolTipRole) == (
        "As estimates and invoices, plus a purchase order per vendor from each item's default "
        "vendor and purchase cost.")


def mode_words(dialog) -> tuple[list[str], list[str], str]:
    """The Transactions tab's modes, their tooltips, and the chosen one's explanation."""
    combo = dialog.transactions.mode_combo
    return ([combo.itemText(place) for place in range(combo.count())],
            [combo.itemData(place, Qt.ItemDataRole.ToolTipRole) for place in range(combo.count())],
            dialog.transactions.mode_explanation.text())


def open_configure(qtbot, app, connection) -> ConfigureDialog:
    dialog = ConfigureDialog(app, connection)
    qtbot.addWidget(dialog)
    return dialog


def test_configure_words_a_desktop_connections_modes_as_desktop_does(qtbot, app, tmp_path):
    shop, _web = shops(app, tmp_path)
    dialog = open_configure(qtbot, app, shop)
    labels, tips, explanation = mode_words(dialog)
    assert labels == DESKTOP_LABELS
    assert tips == [mode.info_in(DESKTOP).explanation for mode in TransactionMode]
    assert explanation == POS.info_in(DESKTOP).explanation
    assert "Pro has no sales orders" in explanation
    assert dialog.rules.rule_list.item(0).text() == (
        "1. Drop ship: Every order: book as Sales orders")

    dialog.tabs.setCurrentWidget(dialog.rules)
    dialog.rules.rule_list.setCurrentRow(0)
    dialog.rules.edit_rule()
    editor = dialog.rules.editor
    assert [editor.mode.itemText(place) for place in range(1, editor.mode.count())] == \
        DESKTOP_LABELS
    assert editor.summary.text() == "Every order: book as Sales orders"
    editor.reject()


def test_configure_rewords_the_modes_when_the_quickbooks_chosen_changes(qtbot, app, tmp_path):
    shop, _web = shops(app, tmp_path)
    dialog = open_configure(qtbot, app, shop)
    choose(dialog.quickbooks.product, ONLINE.value)
    labels, tips, explanation = mode_words(dialog)
    assert labels == ONLINE_LABELS
    assert tips == [mode.info_in(ONLINE).explanation for mode in TransactionMode]
    assert explanation == POS.info_in(ONLINE).explanation
    assert dialog.transactions.mode_combo.currentData() == POS.value   # the choice is kept
    assert dialog.rules.rule_list.item(0).text() == (
        "1. Drop ship: Every order: book as Sales orders (Estimates in QuickBooks Online)")

    choose(dialog.quickbooks.product, DESKTOP.value)
    assert mode_words(dialog)[0] == DESKTOP_LABELS
    assert mode_words(dialog)[2] == POS.info_in(DESKTOP).explanation
    assert dialog.rules.rule_list.item(0).text().endswith("book as Sales orders")


def test_configure_keeps_online_words_for_an_online_connection(qtbot, app, tmp_path):
    _shop, web = shops(app, tmp_path)
    dialog = open_configure(qtbot, app, web)
    labels, _tips, explanation = mode_words(dialog)
    assert labels == ONLINE_LABELS
    assert explanation == ("As estimates and invoices, plus a purchase order per vendor from "
                           "each item's default vendor and purchase cost.")
    assert dialog.rules.rule_list.item(0).text().endswith(
        "book as Sales orders (Estimates in QuickBooks Online)")
