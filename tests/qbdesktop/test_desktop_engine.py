"""The engine books into QuickBooks Desktop (the fake company file, every request checked
against Intuit's schema) through the same seam as Online: every mode, to the cent, once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App
from connex_desktop.connections import WEB_CONNECTOR_PASSWORD, web_connector_user
from connex_desktop.core.connection import Connection, QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.errors import RetryLaterError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.core.undo_result import UndoOutcome, UndoStatus
from connex_desktop.qbdesktop.fake import transactions
from connex_desktop.qbdesktop.fake.connector import RunningWebConnector, ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import StatusError, Txn
from connex_desktop.qbdesktop.soap import WebConnectorServer
from tests.sync.conftest import row, write_orders

D = Decimal
ORDERS = [
    # 1001: stock items of two vendors, shipping, tax and a discount; paid in full.
    row("1001", "TENT-2P", "1", "299.00", customer_name="Jane Doe",
        customer_email="jane@example.com", shipping_amount="12.00", tax_amount="24.60",
        order_discount="5.00", payment_status="paid", amount_paid="349.60"),
    row("1001", "MUG", "2", "9.50", customer_name="Jane Doe", customer_email="jane@example.com"),
    # 1002: a new buyer and a product QuickBooks does not have yet.
    row("1002", "LAMP-1", "1", "45.00", product_name="Camp Lantern", payment_status="paid",
        amount_paid="45.00"),
]
TOTALS = {"1001": D("349.60"), "1002": D("45.00")}
# The purchase orders of ORDERS, one per vendor, at the items' purchase costs.
PURCHASE_ORDERS = [("Cascade", D("150.00")), ("Pacific", D("7.00"))]
PASSWORD = "typed into the Web Connector"


def desktop_connection(app: App, orders: Path, mode: TransactionMode,
                       **changes: object) -> Connection:
    company = QuickBooksCompany(environment="desktop", realm_id="qbd-demo-file",
                                company_name="Connex Demo Company",
                                product=QuickBooksProduct.DESKTOP)
    return app.connections.add(Connection(
        name="Shop", source_kind="csv", mode=mode, source_settings={"path": str(orders)},
        quickbooks=company, **changes))  # type: ignore[arg-type]


def txns(quickbooks: FakeQuickBooks, kind: str) -> dict[str, Txn]:
    found: dict[str, Txn] = {}
    for txn in quickbooks.company.txns.values():
        if txn.kind == kind:
            assert txn.ref_number not in found, f"two {kind}s numbered {txn.ref_number}"
            found[txn.ref_number] = txn
    return found


def booked_as_ordered(quickbooks: FakeQuickBooks) -> None:
    """Each order's sales order closed by its invoice, to the cent; a purchase order a vendor."""
    invoices, sales_orders = txns(quickbooks, "Invoice"), txns(quickbooks, "SalesOrder")
    assert {number: txn.total for number, txn in invoices.items()} == TOTALS
    assert {number: txn.total for number, txn in sales_orders.items()} == TOTALS
    assert all(order.fully_invoiced for order in sales_orders.values())
    assert purchase_orders(quickbooks) == PURCHASE_ORDERS


def purchase_orders(quickbooks: FakeQuickBooks) -> list[tuple[str, Decimal]]:
    return sorted((txn.entity.name, txn.total) for txn in quickbooks.company.txns.values()
                  if txn.kind == "PurchaseOrder")


def book_mugs(app: App, quickbooks: FakeQuickBooks, tmp_path: Path,
              buyers: dict[str, tuple[str, str]]) -> dict[str, Txn]:
    """A mug for each buyer (order number → name, email), invoiced; the invoices by number."""
    orders = [row(number, "MUG", "1", "9.50", customer_name=name, customer_email=email)
              for number, (name, email) in buyers.items()]
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", orders),
                              TransactionMode.INVOICES)
    sync(app, shop)
    return txns(quickbooks, "Invoice")


def sync(app: App, connection: Connection) -> None:
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors)


@pytest.mark.parametrize("mode", list(TransactionMode))
def test_every_mode_books_into_the_company_file_to_the_cent_once(app, quickbooks, tmp_path,
                                                                 mode):
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS), mode)
    sync(app, shop)
    sync(app, shop)     # the ledger knows: nothing is booked twice

    sale = {TransactionMode.SALES_RECEIPTS: "SalesReceipt",
            TransactionMode.SALES_ORDERS: "SalesOrder"}.get(mode, "Invoice")
    booked = txns(quickbooks, sale)
    assert {number: txn.total for number, txn in booked.items()} == TOTALS
    tent = next(item for item in quickbooks.company.items.values() if item.name == "Tent 2P")
    assert tent.on_hand == (D("10") if sale == "SalesOrder" else D("9"))
    lantern = [item for item in quickbooks.company.items.values() if item.part_number == "LAMP-1"]
    assert len(lantern) == 1 and lantern[0].name == "Camp Lantern"
    if mode.books_estimate and sale == "Invoice":
        orders = txns(quickbooks, "SalesOrder")
        assert {number: txn.total for number, txn in orders.items()} == TOTALS
        assert all(order.fully_invoiced for order in orders.values())
        assert {txn.txn_id for txn in booked.values()} == {
            txn_id for order in orders.values() for txn_id in order.linked}
    payments = [txn for txn in quickbooks.company.txns.values() if txn.kind == "ReceivePayment"]
    if mode.books_payments:
        assert sorted(payment.total for payment in payments) == sorted(TOTALS.values())
        assert all(invoice.balance == 0 for invoice in booked.values())
    else:
        assert payments == []
    assert purchase_orders(quickbooks) == (PURCHASE_ORDERS if mode.books_purchase_orders
                                           else [])


class Flaky:
    """QuickBooks Desktop behind a line that fails once: the answer to the first request whose
    document contains `trigger` is lost, after QuickBooks booked it (`booked`) or before it
    reached QuickBooks."""

    def __init__(self, quickbooks: FakeQuickBooks, trigger: str, *, booked: bool) -> None:
        self.quickbooks = quickbooks
        self.trigger = trigger
        self.booked = booked
        self.sent: list[str] = []

    def process(self, request: str) -> str:
        self.sent.append(request)
        if self.trigger and self.trigger in request:
            self.trigger = ""
            if self.booked:
                self.quickbooks.process(request)
            raise RetryLaterError("The QuickBooks Web Connector did not call in time.")
        return self.quickbooks.process(request)


@pytest.mark.parametrize("booked", [True, False], ids=["answer-lost", "request-lost"])
@pytest.mark.parametrize("trigger", ["<InvoiceAdd>", "<ReceivePaymentAdd>"])
def test_a_lost_answer_books_nothing_twice_and_the_same_bytes_go_again(app, quickbooks,
                                                                       tmp_path, trigger,
                                                                       booked):
    flaky = Flaky(quickbooks, trigger, booked=booked)
    app.desktop_processor_for = lambda connection: flaky
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES_WITH_PAYMENTS)
    first = app.engine().run(shop)
    assert first.status is RunStatus.PARTIAL and first.errors[0].kind.value == "retry_later"
    lost = next(request for request in flaky.sent if trigger in request)

    sync(app, shop)
    invoices = txns(quickbooks, "Invoice")
    assert {number: txn.total for number, txn in invoices.items()} == TOTALS
    payments = [txn for txn in quickbooks.company.txns.values() if txn.kind == "ReceivePayment"]
    assert sorted(payment.total for payment in payments) == sorted(TOTALS.values())
    assert all(invoice.balance == 0 for invoice in invoices.values())
    if not booked:      # nothing to find: sent again, byte for byte, from the ledger
        assert flaky.sent.count(lost) == 2


@pytest.fixture
def web_connector(app: App, quickbooks: FakeQuickBooks) -> Iterator[list[RunningWebConnector]]:
    """Each run serves the Web Connector on a free port; a scripted one calls it (the first
    run's stops before passing QuickBooks' answer to an invoice on, as a crashed or closed Web
    Connector does, and is started again)."""
    started: list[RunningWebConnector] = []

    def start(server: WebConnectorServer) -> None:
        connector = ScriptedWebConnector(server.url, web_connector_user(1), PASSWORD, quickbooks,
                                         lose_answer_to="" if started else "<InvoiceAdd>")
        started.append(RunningWebConnector(connector).start())

    app.desktop_processor_for = None
    app.web_connector_port = 0
    app.web_connector_started = start
    app.secrets.set(connection_secret_key(1, WEB_CONNECTOR_PASSWORD), PASSWORD)
    yield started
    for connector in started:
        connector.stop()


def test_through_the_web_connector_sales_orders_close_and_a_restart_books_nothing_twice(
        app, quickbooks, web_connector, tmp_path):
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.SALES_ORDERS_INVOICES_POS)
    sync(app, shop)
    sync(app, shop)

    # Stopped once, then every other request of the run in one session of the restarted one.
    assert web_connector[0].restarts == 1 and web_connector[0].sessions == 1
    booked_as_ordered(quickbooks)


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_ORDERS_INVOICES_POS])
def test_undo_deletes_what_the_run_booked(app, quickbooks, tmp_path, mode):
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS), mode)
    run = app.engine().run(shop)
    assert run.status is RunStatus.SUCCEEDED and run.run_id is not None
    tent = next(item for item in quickbooks.company.items.values() if item.name == "Tent 2P")
    assert tent.on_hand == D("9")

    undone = app.undoer().undo(run.run_id)
    assert undone.status is UndoStatus.UNDONE, undone.message
    assert undone.count(UndoOutcome.DELETED) == len(run.documents)
    assert quickbooks.company.txns == {}
    assert tent.on_hand == D("10")


# The modes that book a refund: a refund is money paid back, so the sale must have been paid.
REFUNDING_MODES = [TransactionMode.INVOICES_WITH_PAYMENTS, TransactionMode.SALES_RECEIPTS,
                   TransactionMode.SALES_ORDERS_INVOICES_POS]
# After the first sync, 1001 was refunded in full (a refunded order not booked yet is never
# booked); 1002 stays paid.
REFUNDED_ORDERS = [dict(order, **{"Payment Status": "refunded"}) if order["Order Number"] == "1001"
                   else order for order in ORDERS]


def book_then_refund(app: App, tmp_path: Path, mode: TransactionMode) -> Connection:
    """The orders synced as paid, then 1001 refunded in the store."""
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    shop = desktop_connection(app, orders, mode)
    sync(app, shop)
    write_orders(orders, REFUNDED_ORDERS)
    return shop


def refunded_once(quickbooks: FakeQuickBooks) -> None:
    """1001's refund as a credit memo to Jane Doe for the whole order, paid back by one refund
    of that credit (nothing left of it), the tent back in stock; 1002 untouched."""
    credits = [txn for txn in quickbooks.company.txns.values() if txn.kind == "CreditMemo"]
    refunds = [txn for txn in quickbooks.company.txns.values()
               if txn.kind == "ARRefundCreditCard"]
    assert [(credit.entity.name, credit.total, credit.balance) for credit in credits] == [
        ("Jane Doe", TOTALS["1001"], D("0.00"))]
    assert [(refund.entity.name, refund.total, refund.applied) for refund in refunds] == [
        ("Jane Doe", TOTALS["1001"], {credits[0].txn_id: TOTALS["1001"]})]
    tent = next(item for item in quickbooks.company.items.values() if item.name == "Tent 2P")
    assert tent.on_hand == D("10")


@pytest.mark.parametrize("mode", REFUNDING_MODES)
def test_a_refunded_order_is_credited_and_paid_back_to_the_cent_once(app, quickbooks, tmp_path,
                                                                     mode):
    shop = book_then_refund(app, tmp_path, mode)
    sync(app, shop)
    sync(app, shop)

    refunded_once(quickbooks)
    sale = "SalesReceipt" if mode is TransactionMode.SALES_RECEIPTS else "Invoice"
    assert {number: txn.total for number, txn in txns(quickbooks, sale).items()} == TOTALS


@pytest.mark.parametrize("booked", [True, False], ids=["answer-lost", "request-lost"])
def test_a_lost_answer_to_a_refund_books_it_once(app, quickbooks, tmp_path, booked):
    flaky = Flaky(quickbooks, "<CreditMemoAdd ", booked=booked)
    app.desktop_processor_for = lambda connection: flaky
    shop = book_then_refund(app, tmp_path, TransactionMode.INVOICES_WITH_PAYMENTS)
    first = app.engine().run(shop)
    assert first.status is RunStatus.PARTIAL and first.errors[0].kind.value == "retry_later"
    lost = next(request for request in flaky.sent if "<CreditMemoAdd " in request)

    sync(app, shop)
    refunded_once(quickbooks)
    if not booked:      # nothing to find: sent again, byte for byte, from the ledger
        assert flaky.sent.count(lost) == 2


def test_a_refund_quickbooks_refuses_leaves_no_credit_memo_behind(app, quickbooks, tmp_path,
                                                                   monkeypatch):
    def refused(company, add):
        raise StatusError(3210, "The ARRefundCreditCard refunds more than the credit left.")

    shop = book_then_refund(app, tmp_path, TransactionMode.INVOICES_WITH_PAYMENTS)
    with monkeypatch.context() as patched:
        patched.setattr(transactions, "refund_of_credit_add", refused)
        first = app.engine().run(shop)
    assert first.status is not RunStatus.SUCCEEDED and first.errors
    assert "ARRefundCreditCard" in (first.errors[0].detail or "")
    assert {txn.kind for txn in quickbooks.company.txns.values()} == {"Invoice",
                                                                      "ReceivePayment"}

    sync(app, shop)     # the order failed before: tried again, booked once
    refunded_once(quickbooks)


def test_undo_deletes_a_refund_with_its_credit_memo(app, quickbooks, tmp_path):
    shop = book_then_refund(app, tmp_path, TransactionMode.INVOICES_WITH_PAYMENTS)
    run = app.engine().run(shop)
    assert run.status is RunStatus.SUCCEEDED and run.run_id is not None
    refunded_once(quickbooks)

    undone = app.undoer().undo(run.run_id)
    assert undone.status is UndoStatus.UNDONE, undone.message
    assert undone.count(UndoOutcome.DELETED) == len(run.documents) == 1
    assert {txn.kind for txn in quickbooks.company.txns.values()} == {"Invoice",
                                                                      "ReceivePayment"}
    assert all(invoice.balance == 0 for invoice in txns(quickbooks, "Invoice").values())
    tent = next(item for item in quickbooks.company.items.values() if item.name == "Tent 2P")
    assert tent.on_hand == D("9")     # sold again: the credit memo that took it back is gone


def test_a_number_longer_than_desktop_keeps_is_numbered_by_quickbooks_and_said(app,
                                                                               quickbooks,
                                                                               tmp_path):
    orders = [row("AMZ-114-5566", "MUG", "1", "9.50")]
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", orders),
                              TransactionMode.INVOICES)
    run = app.engine().run(shop)
    assert run.status is RunStatus.SUCCEEDED and run.run_id is not None
    [invoice] = txns(quickbooks, "Invoice").values()
    assert invoice.ref_number == "1" and "Order AMZ-114-5566" in invoice.memo
    [booked] = app.runs.orders(run.run_id)
    assert "longer than the 11 characters QuickBooks Desktop keeps" in booked.message
    sync(app, shop)
    assert len(txns(quickbooks, "Invoice")) == 1


def test_a_buyer_named_like_a_vendor_or_an_inactive_customer_is_booked_as_quickbooks_allows(
        app, quickbooks, tmp_path):
    """QuickBooks Desktop keeps a name once across customers and vendors, inactive ones too:
    a buyer named like a vendor becomes "… (customer)"; one named like an inactive customer
    books on that customer, made active again."""
    company = quickbooks.company
    company.add_name("Vendor", "Ridge Supply")
    company.add_name("Customer", "Old Friend").active = False
    invoices = book_mugs(app, quickbooks, tmp_path, {"2001": ("Ridge Supply", "ridge@example.com"),
                                                     "2002": ("Old Friend", "friend@example.com")})
    assert invoices["2001"].entity.name == "Ridge Supply (customer)"
    assert invoices["2002"].entity.name == "Old Friend" and invoices["2002"].entity.active
    assert [record.name for record in company.customers()].count("Old Friend") == 1


def test_prepare_does_not_wait_for_the_web_connector(app, web_connector, tmp_path):
    """The window asks whether a run can start; through the Web Connector, which calls on its
    own schedule, the company is checked when the run starts instead."""
    app.web_connector_started = None    # no Web Connector will call
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES)
    assert app.engine().prepare(shop) is None


def test_buyers_named_in_letters_desktop_cannot_keep_are_named_by_their_email(app, quickbooks,
                                                                              tmp_path):
    """QuickBooks Desktop keeps names in Latin-1: "Иван Петров" and "Олег Попова" would both be
    "???? ??????" there, and the second buyer's orders would go to the first."""
    invoices = book_mugs(app, quickbooks, tmp_path, {"3001": ("Иван Петров", "ivan@example.com"),
                                                     "3002": ("Олег Попова", "oleg@example.com"),
                                                     "3003": ("Zoë Brontë", "zoe@example.com")})
    assert {number: txn.entity.name for number, txn in invoices.items()} == {
        "3001": "ivan@example.com", "3002": "oleg@example.com", "3003": "Zoë Brontë"}


def test_quickbooks_pro_has_no_sales_orders_and_says_so(app, quickbooks, tmp_path):
    quickbooks.product = "QuickBooks Pro 2024"
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    shop = desktop_connection(app, orders, TransactionMode.SALES_ORDERS_INVOICES)
    refused = app.engine().run(shop)
    assert refused.status is RunStatus.FAILED
    assert "QuickBooks Desktop Pro has no sales orders" in refused.message
    assert quickbooks.company.txns == {}

    invoices = app.connections.update(dataclasses.replace(shop, mode=TransactionMode.INVOICES))
    sync(app, invoices)
    assert {number: txn.total for number, txn in txns(quickbooks, "Invoice").items()} == TOTALS
