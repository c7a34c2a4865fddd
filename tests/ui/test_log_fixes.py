"""Fix it from the log: a failure's fix is a button that makes it, then books those orders."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.connection import MissingItemPolicy, QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.quickbooks.auth import ACCESS_TOKEN, REFRESH_TOKEN
from connex_desktop.sandbox.server import SandboxServer
from tests.sync.conftest import connect, docs, money_of, row, write_orders
from tests.ui.test_connect_dialog import browser, free_port  # noqa: F401  (a fixture)

RUN_TIMEOUT_MS = 30_000
LONG_NUMBERS = ("MARKETPLACE-ORDER-0001", "MARKETPLACE-ORDER-0002", "MARKETPLACE-ORDER-0003")
TENT = "Backpacking Tent 2P - Green"


@pytest.fixture
def sandbox():
    with SandboxServer() as server:
        yield server


@pytest.fixture
def uk_sandbox():
    with SandboxServer(kind="uk") as server:
        yield server


def sync(qtbot, desktop, connection_id: int, start=None):
    """A sync from the window (or `start()`, e.g. a fix's button), to its end; its result."""
    desktop.window.reload(select_id=connection_id)
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=RUN_TIMEOUT_MS) as done:
        (start or desktop.window.sync_selected)()
    return done.args[1]


def open_log(qtbot, desktop, connection_id: int):
    log = desktop.window.show_log(connection_id)
    qtbot.waitUntil(lambda: not log.loading, timeout=RUN_TIMEOUT_MS)
    return log


def fix_button(qtbot, desktop, connection_id: int, label: str):
    """The log, and its one fix button, which says `label`."""
    log = open_log(qtbot, desktop, connection_id)
    (button,) = log.fixes.buttons
    assert button.text() == label
    return log, button


def chooser(qtbot, desktop, connection_id: int, label: str):
    """The list a mapping fix offers, once its button (saying `label`) is clicked."""
    log, button = fix_button(qtbot, desktop, connection_id, label)
    button.click()
    qtbot.waitUntil(lambda: log.fixes.chooser is not None, timeout=RUN_TIMEOUT_MS)
    return log.fixes.chooser


def memo_orders(sandbox, entity: str) -> list[str]:
    """The order each document's memo names ("Order 1001 …"), sorted."""
    return sorted(str(doc["PrivateNote"]).split()[1] for doc in docs(sandbox, entity))


def test_quickbooks_numbering_books_the_orders_whose_numbers_are_too_long(qtbot, desktop,
                                                                         sandbox, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row(number, "TNT-2P-GRN", payment_status="paid") for number in ("1001", *LONG_NUMBERS)])
    connection = connect(desktop.app, sandbox, "Web store", TransactionMode.SALES_RECEIPTS,
                         orders, prefix="WEB-")
    first = sync(qtbot, desktop, connection.id)
    assert (first.synced, first.failed) == (1, 3)
    log, button = fix_button(qtbot, desktop, connection.id,
                             "Use QuickBooks numbering for these 3 orders and retry")
    retried = sync(qtbot, desktop, connection.id, button.click)
    assert (retried.status, retried.synced, retried.fetched) == (RunStatus.SUCCEEDED, 3, 3)
    assert memo_orders(sandbox, "SalesReceipt") == sorted(("1001", *LONG_NUMBERS))
    numbers = [doc.get("DocNumber") for doc in docs(sandbox, "SalesReceipt")]
    assert "WEB-1001" in numbers and not any("MARKETPLACE" in str(n) for n in numbers)
    # For these orders only: the connection keeps its own numbers, and books nothing twice.
    assert not desktop.app.connections.get_by_id(connection.id).use_qb_numbering
    again = sync(qtbot, desktop, connection.id)
    assert (again.synced, again.failed) == (0, 0) and len(docs(sandbox, "SalesReceipt")) == 4
    qtbot.waitUntil(lambda: not log.loading and not log.fixes.isVisible(),
                    timeout=RUN_TIMEOUT_MS)
    # The run where they failed offers the fix no more: they are booked.
    log.runs_view.selectRow(log.runs_model.rowCount() - 1)
    qtbot.waitUntil(lambda: not log.loading, timeout=RUN_TIMEOUT_MS)
    assert log.selected_run().id == first.run_id and not log.fixes.isVisible()


def test_an_unknown_sku_is_mapped_to_an_item_and_its_orders_booked(qtbot, desktop, sandbox,
                                                                  tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row("2001", "OLD-TENT-7", "2", "150.00", payment_status="paid"),
        row("2002", "OLD-TENT-7", "1", "150.00", payment_status="paid")])
    connection = connect(desktop.app, sandbox, "Web store", TransactionMode.SALES_RECEIPTS,
                         orders, mapping=QuickBooksMapping(missing_items=MissingItemPolicy.FAIL))
    assert sync(qtbot, desktop, connection.id).failed == 2
    items = chooser(qtbot, desktop, connection.id, "Map SKU OLD-TENT-7 to an item…")
    assert TENT in items.comboBoxItems()
    items.setTextValue(TENT)
    retried = sync(qtbot, desktop, connection.id, items.accept)
    assert (retried.synced, retried.failed) == (2, 0), retried.errors
    tent_id = next(item["Id"] for item in docs(sandbox, "Item") if item["Name"] == TENT)
    receipts = docs(sandbox, "SalesReceipt")
    assert memo_orders(sandbox, "SalesReceipt") == ["2001", "2002"]
    assert {line["SalesItemLineDetail"]["ItemRef"]["value"] for receipt in receipts
            for line in receipt["Line"] if line["DetailType"] == "SalesItemLineDetail"} == {
        tent_id}
    assert sorted(money_of(receipt["TotalAmt"]) for receipt in receipts) == [
        Decimal("150.00"), Decimal("300.00")]
    mapping = desktop.app.connections.get_by_id(connection.id).mapping
    assert mapping.item_map == {"OLD-TENT-7": TENT}


def test_a_tax_the_company_does_not_know_is_mapped_to_a_tax_code(qtbot, desktop, uk_sandbox,
                                                                tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row("3007", "HDL-400L", "1", "10.00", tax_code="Standard", tax_amount="2.00",
            currency="GBP", payment_status="paid")])
    connection = connect(desktop.app, uk_sandbox, "UK store", TransactionMode.SALES_RECEIPTS,
                         orders)
    assert sync(qtbot, desktop, connection.id).failed == 1
    codes = chooser(qtbot, desktop, connection.id, "Choose a tax code for tax 'Standard'…")
    codes.setTextValue("20.0% S")
    retried = sync(qtbot, desktop, connection.id, codes.accept)
    assert (retried.synced, retried.failed) == (1, 0), retried.errors
    (receipt,) = docs(uk_sandbox, "SalesReceipt")
    assert money_of(receipt["TotalAmt"]) == Decimal("12.00")
    codes = {code["Id"]: code["Name"] for code in docs(uk_sandbox, "TaxCode")}
    assert [codes[line["SalesItemLineDetail"]["TaxCodeRef"]["value"]]
            for line in receipt["Line"] if line["DetailType"] == "SalesItemLineDetail"] == [
        "20.0% S"]


@pytest.mark.usefixtures("browser")
def test_refused_tokens_are_fixed_by_reconnecting_then_the_orders_book(qtbot, desktop, sandbox,
                                                                       tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row("4001", "TNT-2P-GRN", payment_status="paid")])
    app = desktop.app
    connection = connect(app, sandbox, "Web store", TransactionMode.SALES_RECEIPTS, orders)
    company = dataclasses.replace(connection.quickbooks,
                                  redirect_uri=f"http://localhost:{free_port()}/callback")
    connection = app.connections.update(dataclasses.replace(connection, quickbooks=company))
    prefix = quickbooks_key_prefix(connection.id)
    app.secrets.set(f"{prefix}/{ACCESS_TOKEN}", "revoked-access")
    app.secrets.set(f"{prefix}/{REFRESH_TOKEN}", "revoked-refresh")
    refused = sync(qtbot, desktop, connection.id)
    assert refused.message.startswith("Reconnect to QuickBooks")
    log, button = fix_button(qtbot, desktop, connection.id, "Reconnect to QuickBooks")
    button.click()
    dialog = log.fixes.connect_dialog
    assert dialog is not None
    booked = sync(qtbot, desktop, connection.id, dialog.authorize)
    assert (booked.status, booked.synced) == (RunStatus.SUCCEEDED, 1), booked.message
    assert memo_orders(sandbox, "SalesReceipt") == ["4001"]
    assert not app.connections.get_by_id(connection.id).quickbooks.needs_reconnect
