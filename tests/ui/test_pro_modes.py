"""Configure does not offer a QuickBooks Desktop Pro company file the sales-order modes, once a
sync has found it to be Pro, and says why; before any sync (Pro or not unknown) it offers them."""

from __future__ import annotations

from connex_desktop.core.connection import DesktopTransport
from connex_desktop.core.modes import TransactionMode
from connex_desktop.qbdesktop.company_check import DesktopCompany
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.ui.configure import ConfigureDialog, desktop_section
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.test_desktop_engine import ORDERS, desktop_connection, sync
from tests.sync.conftest import write_orders
from tests.ui.test_configure_dialog import choose

PRO_REASON = "QuickBooks Pro has no sales orders: Premier or Enterprise has them."
SALES_ORDER_MODES = [mode for mode in TransactionMode if mode.books_estimate]


def offered(dialog: ConfigureDialog) -> list[TransactionMode]:
    combo = dialog.transactions.mode_combo
    return [TransactionMode(combo.itemData(row)) for row in range(combo.count())
            if combo.model().item(row).isEnabled()]


def open_configure(qtbot, app, connection) -> ConfigureDialog:
    dialog = ConfigureDialog(app, app.connections.get_by_id(connection.id))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_a_pro_company_file_is_not_offered_the_sales_order_modes(qtbot, app, tmp_path):
    quickbooks = FakeQuickBooks(seeded_company())
    quickbooks.product = "QuickBooks Pro 2024"
    app.desktop_processor_for = lambda _connection: quickbooks
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES)

    never_synced = open_configure(qtbot, app, shop)
    assert offered(never_synced) == list(TransactionMode)
    assert never_synced.transactions.mode_unavailable.isHidden()
    never_synced.reject()

    sync(app, shop)
    dialog = open_configure(qtbot, app, shop)
    tab = dialog.transactions
    assert offered(dialog) == [mode for mode in TransactionMode if not mode.books_estimate]
    assert not tab.mode_unavailable.isHidden()
    assert tab.mode_unavailable.text() == PRO_REASON
    # Still chosen (say, as saved before): the save refuses it, saying why.
    choose(tab.mode_combo, TransactionMode.SALES_ORDERS_INVOICES.value)
    assert not dialog.save()
    assert PRO_REASON in dialog.errors["mode"].text()
    assert app.connections.get_by_id(shop.id).mode is TransactionMode.INVOICES
    choose(tab.mode_combo, TransactionMode.SALES_RECEIPTS.value)
    assert dialog.save()
    assert app.connections.get_by_id(shop.id).mode is TransactionMode.SALES_RECEIPTS


def test_a_connection_test_that_reaches_pro_takes_the_sales_order_modes_away(
        qtbot, app, tmp_path, monkeypatch):
    """On Windows, Test connection reads which QuickBooks the file is open in (COM, not here:
    its answer stands in), and keeps it as a sync would."""
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES)
    monkeypatch.setattr(desktop_section, "direct_transport_unavailable", lambda: "")
    monkeypatch.setattr(desktop_section, "check_this_computer", lambda _file: DesktopCompany(
        "Outdoor Co", "QuickBooks Pro 2024", "US"))
    dialog = open_configure(qtbot, app, shop)
    assert offered(dialog) == list(TransactionMode)
    choose(dialog.quickbooks.desktop.transport, DesktopTransport.THIS_COMPUTER.value)
    dialog.quickbooks.desktop.test_button.click()
    qtbot.waitUntil(lambda: "Connected to Outdoor Co" in
                    dialog.quickbooks.desktop.test_result.text())
    assert offered(dialog) == [mode for mode in TransactionMode if not mode.books_estimate]
    assert dialog.transactions.mode_unavailable.text() == PRO_REASON
    dialog.reject()

    reopened = open_configure(qtbot, app, shop)
    assert offered(reopened) == [mode for mode in TransactionMode if not mode.books_estimate]
