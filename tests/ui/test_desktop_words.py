"""A QuickBooks Desktop connection's documents named in Desktop's words in the sync log: its
table, the order's details and the export (a Sales order, a credit memo refunded); Online's
words stay Online's."""

from __future__ import annotations

import csv
import dataclasses

from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.storage.sync_log import ORDER_COLUMNS
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import ORDERS, REFUNDED_ORDERS, desktop_connection
from tests.sync.conftest import write_orders
from tests.ui.test_main_window import sync
from tests.ui.test_sync_log import loaded

DOCUMENTS = ORDER_COLUMNS.index("QuickBooks documents")


def documents_of(log, number: str) -> str:
    (row,) = [row for row in log.orders_model.rows if row.order.order_number == number]
    return row.cells[DOCUMENTS]


def test_a_desktop_connections_log_names_its_documents_as_desktop_does(qtbot, desktop,
                                                                       tmp_path):
    app, window = desktop.app, desktop.window
    quickbooks = FakeQuickBooks(seeded_company(), validator=schema_errors)
    app.desktop_processor_for = lambda _connection: quickbooks
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    shop = desktop_connection(app, orders, TransactionMode.SALES_ORDERS_INVOICES_POS)
    window.reload(select_id=shop.id)
    _cid, booked, _request = sync(qtbot, desktop, window.sync_selected)
    write_orders(orders, REFUNDED_ORDERS)          # 1001 refunded in the store
    _cid, refunded, _request = sync(qtbot, desktop, window.sync_selected)
    assert booked.status is refunded.status is RunStatus.SUCCEEDED

    log = loaded(qtbot, window.show_log_of_selected())
    # The newest run first: 1001's refund, a credit memo paid back.
    assert documents_of(log, "1001").startswith("Credit memo (refunded) ")
    log.runs_view.selectRow(1)
    loaded(qtbot, log)
    documents = documents_of(log, "1001")
    assert documents.startswith("Sales order 1001, Invoice 1001, ")
    assert [name.rsplit(" ", 1)[0] for name in documents.split(", ")] == [
        "Sales order", "Invoice", "Payment", "Purchase order", "Purchase order"]
    assert log.select_order("1001")
    detail = log.detail.text()
    assert "Sales order 1001" in detail and "Estimate" not in detail
    # Its documents live in the company file: no address of QuickBooks Online's opens them.
    assert "<a href" not in detail and not log.open_button.isEnabled()
    menu = log.orders.order_menu(log.selected_order())
    opens = [action for action in menu.actions() if action.text().startswith("Open ")]
    assert opens[0].text() == "Open Sales order 1001 in QuickBooks"
    assert not any(action.isEnabled() for action in opens)

    path = tmp_path / "log.csv"
    log.export_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as file:
        kinds = {row["Document type"] for row in csv.DictReader(file)} - {""}
    assert kinds == {"Sales order", "Invoice", "Payment", "Purchase order",
                     "Credit memo (refunded)"}


def test_an_online_connections_log_keeps_online_words(qtbot, desktop):
    app, window = desktop.app, desktop.window
    demo = window.try_demo()
    app.connections.update(dataclasses.replace(demo, mode=TransactionMode.SALES_ORDERS_INVOICES))
    window.reload(select_id=demo.id)
    _cid, _result, _request = sync(qtbot, desktop, window.sync_selected)
    log = loaded(qtbot, window.show_log_of_selected())
    estimates = [row.cells[DOCUMENTS] for row in log.orders_model.rows
                 if row.cells[DOCUMENTS].startswith("Sales order (Estimate) ")]
    assert estimates, "Online's sales orders are Estimates, and say so"
    assert log.select_order(log.orders_model.rows[0].order.order_number)
    assert log.open_button.isEnabled() == bool(log.orders_model.rows[0].order.documents)
