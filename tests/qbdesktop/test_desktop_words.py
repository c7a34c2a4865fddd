"""A QuickBooks Desktop user reads Desktop's words for what was booked: a Sales order (not an
Estimate), a credit memo refunded (not a refund receipt), on the command line and in the
engine's messages; an Online connection keeps Online's words."""

from __future__ import annotations

import dataclasses
import re

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind, document_label
from connex_desktop.qbdesktop.fake.connector import RunningWebConnector, ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_cli import (  # noqa: F401  (a fixture)
    add_desktop_shop,
    cli,
    environment,
)
from tests.qbdesktop.test_desktop_engine import (
    ORDERS,
    REFUNDED_ORDERS,
    desktop_connection,
    sync,
)
from tests.sync.conftest import write_orders

ONLINE, DESKTOP = QuickBooksProduct.ONLINE, QuickBooksProduct.DESKTOP


def test_each_quickbooks_names_the_documents_in_its_own_words():
    assert {kind: kind.label_in(ONLINE) for kind in DocumentKind} == {
        DocumentKind.ESTIMATE: "Sales order (Estimate)", DocumentKind.INVOICE: "Invoice",
        DocumentKind.PAYMENT: "Payment", DocumentKind.SALES_RECEIPT: "Sales receipt",
        DocumentKind.PURCHASE_ORDER: "Purchase order",
        DocumentKind.REFUND_RECEIPT: "Refund receipt"}
    assert DocumentKind.ESTIMATE.label_in(DESKTOP) == "Sales order"
    assert DocumentKind.REFUND_RECEIPT.a_label_in(DESKTOP) == "a Credit memo (refunded)"
    assert DocumentKind.INVOICE.a_label_in(DESKTOP) == "an Invoice"
    # A ledger row's kind; one this app does not book is named as QuickBooks names it.
    assert document_label("Estimate", DESKTOP) == "Sales order"
    assert document_label("Deposit", DESKTOP) == "Deposit"


def test_a_sync_on_the_command_line_says_sales_order_and_credit_memo(environment,  # noqa: F811
                                                                     tmp_path):
    data_dir = tmp_path / "data"
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    password, qwc = add_desktop_shop(environment, data_dir, orders, tmp_path)
    quickbooks = FakeQuickBooks(seeded_company(), validator=schema_errors)
    port = environment["CONNEX_WEB_CONNECTOR_PORT"]
    connector = ScriptedWebConnector(f"http://127.0.0.1:{port}/qbwc", qwc.findtext("UserName", ""),
                                     password, quickbooks)
    running = RunningWebConnector(connector).start()
    try:
        booked = cli(environment, data_dir, "sync", "Shop")
        write_orders(orders, REFUNDED_ORDERS)      # 1001 refunded in the store
        refunded = cli(environment, data_dir, "sync", "Shop")
        undo = cli(environment, data_dir, "undo", "2", "--dry-run")
    finally:
        running.stop()

    assert booked.returncode == 0, booked.stderr
    assert "  booked Sales order 1001 for order 1001: 349.60" in booked.stdout.splitlines()
    assert "  booked Sales order 1002 for order 1002: 45.00" in booked.stdout.splitlines()
    assert "Estimate" not in booked.stdout
    assert refunded.returncode == 0, refunded.stderr
    assert re.search(r"^  booked Credit memo \(refunded\) \S+ for order 1001: ", refunded.stdout,
                     re.MULTILINE), refunded.stdout
    assert "Refund receipt" not in refunded.stdout
    assert re.search(r"^  would delete Credit memo \(refunded\) \S+ of order 1001: ",
                     undo.stdout, re.MULTILINE), undo.stdout


def test_the_engine_says_sales_order_to_a_desktop_user(app, tmp_path):
    """Booked as a sales order, then the connection books invoices instead: the order is not
    booked a second time, and the log says why in Desktop's words."""
    quickbooks = FakeQuickBooks(seeded_company(), validator=schema_errors)
    app.desktop_processor_for = lambda _connection: quickbooks
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.SALES_ORDERS)
    sync(app, shop)
    invoicing = dataclasses.replace(shop, mode=TransactionMode.INVOICES)
    app.connections.update(invoicing)
    result = app.engine().run(invoicing)
    (skipped,) = [order for order in app.runs.orders(result.run_id)
                  if order.order_number == "1001"]
    assert "it is booked already (Sales order 1001)" in skipped.message
