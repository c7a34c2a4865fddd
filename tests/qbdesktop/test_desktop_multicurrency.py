"""A multicurrency QuickBooks Desktop file (the fake, every request checked against Intuit's
schema): foreign orders on customers in their currency, at the store's rate or the currency
list's, on the A/R account of that currency; clear failures when they cannot be booked."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App, build_app
from connex_desktop.core.connection import QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.desktop_demo import start_desktop_demo
from connex_desktop.qbdesktop.fake.currencies import add_receivable
from connex_desktop.qbdesktop.fake.currencies import currency as listed
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import NameRecord, Txn
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync.company_kind import company_kind
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from tests.fakes.linnworks import FakeLinnworks
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import Flaky, desktop_connection, sync, txns
from tests.qbdesktop.test_desktop_store_purchase_orders import (
    linnworks_into_desktop,
    purchase_orders,
    run,
)
from tests.sync.conftest import row, write_orders
from tests.sync.test_store_purchase_orders import linnworks_po

D = Decimal
ANA = {"customer_name": "Ana Ruiz", "customer_email": "ana@example.eu", "payment_status": "paid"}
# A euro order at the store's rate, one in dollars, a euro order without a rate.
ORDERS = [row("M-1", "MUG", "2", "9.50", currency="EUR", exchange_rate="1.10",
              amount_paid="19.00", **ANA),
          row("M-2", "GIFT", "1", "45.00", amount_paid="45.00", **ANA),
          row("M-3", "MUG", "1", "9.50", currency="EUR", amount_paid="9.50", **ANA)]


@pytest.fixture
def quickbooks() -> FakeQuickBooks:
    """The seeded file with multicurrency on (home: US dollars) and an A/R account in euros."""
    company = seeded_company()
    company.turn_on_multicurrency()
    add_receivable(company, "EUR")
    return FakeQuickBooks(company, validator=schema_errors)


def currency(record: Txn | NameRecord) -> str:
    assert record.currency is not None
    return record.currency.fields["CurrencyCode"]


def booked(quickbooks: FakeQuickBooks, kind: str) -> dict[str, tuple]:
    """Each document of a kind by its order: currency, rate, total, home total, A/R account."""
    return {txn.memo.split()[1]: (currency(txn), txn.exchange_rate, txn.total, txn.home_total,
                                  txn.ar_account.name if txn.ar_account else "")
            for txn in quickbooks.company.txns.values() if txn.kind == kind}


def shop_of(app: App, tmp_path: Path, orders: list[dict[str, str]],
            mode: TransactionMode = TransactionMode.INVOICES_WITH_PAYMENTS):
    return desktop_connection(app, write_orders(tmp_path / "orders.csv", orders), mode)


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_ORDERS_INVOICES_POS])
def test_euro_orders_book_on_a_euro_customer_at_the_stores_rate_else_the_lists(
        app, quickbooks, tmp_path, mode):
    shop = shop_of(app, tmp_path, ORDERS, mode)
    sync(app, shop)

    euro_ar, home_ar = "Accounts Receivable - EUR", "Accounts Receivable"
    assert booked(quickbooks, "Invoice") == {
        "M-1": ("EUR", D("1.10"), D("19.00"), D("20.90"), euro_ar),
        "M-2": ("USD", D("1"), D("45.00"), D("45.00"), home_ar),
        "M-3": ("EUR", D("1.08"), D("9.50"), D("10.26"), euro_ar)}   # the currency list's
    assert booked(quickbooks, "ReceivePayment") == {
        "M-1": ("EUR", D("1.10"), D("19.00"), D("20.90"), euro_ar),
        "M-2": ("USD", D("1"), D("45.00"), D("45.00"), home_ar),
        "M-3": ("EUR", D("1.08"), D("9.50"), D("10.26"), euro_ar)}
    assert all(invoice.balance == 0 for invoice in txns(quickbooks, "Invoice").values())
    if mode.books_estimate:     # sales orders have no A/R account; each closed by its invoice
        assert {number: document[:4] for number, document in
                booked(quickbooks, "SalesOrder").items()} == {
            "M-1": ("EUR", D("1.10"), D("19.00"), D("20.90")),
            "M-2": ("USD", D("1"), D("45.00"), D("45.00")),
            "M-3": ("EUR", D("1.08"), D("9.50"), D("10.26"))}
        assert all(order.fully_invoiced for order in txns(quickbooks, "SalesOrder").values())
    customers = {(record.name, record.email, currency(record))
                 for record in quickbooks.company.customers() if "Ana" in record.name}
    assert customers == {("Ana Ruiz (EUR)", "ana@example.eu", "EUR"),
                         ("Ana Ruiz", "ana@example.eu", "USD")}

    documents = len(quickbooks.company.txns)
    sync(app, shop)     # exactly once: the ledger knows every document
    assert len(quickbooks.company.txns) == documents


def test_an_existing_customer_keeps_its_currency_and_a_twin_takes_the_order(
        app, quickbooks, tmp_path):
    shop = shop_of(app, tmp_path, [
        row("J-1", "MUG", "1", "9.50", customer_name="Jane Doe",
            customer_email="jane@example.com", currency="EUR", exchange_rate="1.05")],
        TransactionMode.SALES_ORDERS)
    sync(app, shop)

    (order,) = txns(quickbooks, "SalesOrder").values()
    assert (order.entity.name, currency(order), order.exchange_rate, order.home_total) == (
        "Jane Doe (EUR)", "EUR", D("1.05"), D("9.98"))
    jane = next(record for record in quickbooks.company.customers() if record.name == "Jane Doe")
    assert currency(jane) == "USD"


def test_a_euro_refund_is_credited_and_paid_back_in_euros(app, quickbooks, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", ORDERS[:1])
    shop = desktop_connection(app, orders, TransactionMode.INVOICES_WITH_PAYMENTS)
    sync(app, shop)
    write_orders(orders, [dict(ORDERS[0], **{"Payment Status": "refunded"})])
    sync(app, shop)
    sync(app, shop)

    euro_ar = "Accounts Receivable - EUR"
    assert booked(quickbooks, "CreditMemo") == {
        "M-1": ("EUR", D("1.10"), D("19.00"), D("20.90"), euro_ar)}
    (refund,) = [txn for txn in quickbooks.company.txns.values()
                 if txn.kind == "ARRefundCreditCard"]
    assert refund.ar_account is not None
    assert (currency(refund), refund.total, refund.home_total, refund.ar_account.name) == (
        "EUR", D("19.00"), D("20.90"), euro_ar)


@pytest.mark.parametrize("booked_first", [True, False], ids=["answer-lost", "request-lost"])
def test_a_lost_answer_to_a_euro_invoice_books_it_once_at_its_rate(app, quickbooks, tmp_path,
                                                                  booked_first):
    flaky = Flaky(quickbooks, "<InvoiceAdd>", booked=booked_first)
    app.desktop_processor_for = lambda connection: flaky
    shop = shop_of(app, tmp_path, ORDERS[:1])
    first = app.engine().run(shop)
    assert first.status is RunStatus.PARTIAL
    lost = next(request for request in flaky.sent if "<InvoiceAdd>" in request)
    assert "<ExchangeRate>1.10</ExchangeRate>" in lost

    sync(app, shop)
    assert booked(quickbooks, "Invoice") == {
        "M-1": ("EUR", D("1.10"), D("19.00"), D("20.90"), "Accounts Receivable - EUR")}
    if not booked_first:
        assert flaky.sent.count(lost) == 2


def test_an_order_in_a_currency_without_an_ar_account_fails_naming_it(app, quickbooks,
                                                                     tmp_path):
    shop = shop_of(app, tmp_path, [
        row("G-1", "MUG", "1", "9.50", currency="GBP", exchange_rate="1.27"),
        row("U-1", "MUG", "1", "9.50")], TransactionMode.INVOICES)
    result = app.engine().run(shop)

    (failure,) = result.errors
    assert failure.order == "G-1"
    assert "GBP" in failure.message and "Accounts Receivable" in failure.message
    assert [txn.memo.split()[1] for txn in txns(quickbooks, "Invoice").values()] == ["U-1"]


def test_an_order_in_a_currency_the_file_does_not_have_fails_naming_it(app, quickbooks,
                                                                       tmp_path):
    shop = shop_of(app, tmp_path, [row("C-1", "MUG", "1", "9.50", currency="CHF",
                                       payment_status="paid", amount_paid="9.50")],
                   TransactionMode.SALES_RECEIPTS)
    result = app.engine().run(shop)

    (failure,) = result.errors
    assert failure.order == "C-1"
    assert "CHF" in failure.message and "Currency List" in failure.message
    assert quickbooks.company.txns == {}
    assert not any("C-1" in record.name or record.email == "buyerC-1@example.com"
                   for record in quickbooks.company.customers())


def test_a_file_without_multicurrency_refuses_a_foreign_order_naming_both(app, tmp_path):
    home_only = FakeQuickBooks(seeded_company(), validator=schema_errors)
    app.desktop_processor_for = lambda connection: home_only
    shop = shop_of(app, tmp_path, [row("F-1", "MUG", "1", "9.50", currency="EUR"),
                                   row("F-2", "MUG", "1", "9.50")], TransactionMode.INVOICES)
    result = app.engine().run(shop)

    (failure,) = result.errors
    assert failure.order == "F-1"
    assert "EUR" in failure.message and "USD" in failure.message
    assert "multicurrency is off" in failure.message
    assert [txn.memo.split()[1] for txn in txns(home_only, "Invoice").values()] == ["F-2"]


def test_quickbooks_refuses_a_euro_invoice_on_the_home_ar_account(quickbooks):
    """The fake as QuickBooks: an A/R account must be in its customer's currency."""
    company = quickbooks.company
    euro = company.add_name("Customer", "Élise Martin", currency=listed(company, "EUR"))
    document = (
        '<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
        '<InvoiceAddRq requestID="1"><InvoiceAdd>'
        f'<CustomerRef><ListID>{euro.list_id}</ListID></CustomerRef>'
        '<ARAccountRef><FullName>Accounts Receivable</FullName></ARAccountRef>'
        '<InvoiceLineAdd><ItemRef><FullName>Mug</FullName></ItemRef><Amount>9.50</Amount>'
        '</InvoiceLineAdd></InvoiceAdd></InvoiceAddRq></QBXMLMsgsRq></QBXML>')
    answer = quickbooks.process(document)
    assert 'statusCode="3140"' in answer and "currency of the account" in answer
    assert company.txns == {}


def test_a_deposit_account_in_another_currency_fails_the_order_saying_so(app, quickbooks,
                                                                         tmp_path):
    checking = quickbooks.company.add_other("Account", "Checking EUR",
                                            {"FullName": "Checking EUR", "AccountType": "Bank"})
    checking.currency = listed(quickbooks.company, "EUR")
    orders = write_orders(tmp_path / "orders.csv", [
        row("D-1", "MUG", "1", "9.50", payment_status="paid", amount_paid="9.50")])
    shop = desktop_connection(app, orders, TransactionMode.SALES_RECEIPTS,
                              mapping=QuickBooksMapping(deposit_account="Checking EUR"))
    result = app.engine().run(shop)

    (failure,) = result.errors
    assert failure.order == "D-1"
    assert "another currency" in failure.message and "Checking EUR" in failure.message
    assert quickbooks.company.txns == {}


@pytest.mark.parametrize("multicurrency", [False, True], ids=["home-only", "multicurrency"])
def test_configure_reads_the_files_multicurrency_preference(multicurrency):
    company = seeded_company()
    if multicurrency:
        company.turn_on_multicurrency()
    desktop = QuickBooksDesktop(FakeQuickBooks(company, validator=schema_errors))
    kind = company_kind(ReferenceCache(desktop))
    assert (kind.home_currency, kind.multicurrency) == ("USD", multicurrency)
    assert ("multicurrency on" in kind.describe()) is multicurrency


def test_a_stores_purchase_order_in_euros_goes_to_a_new_euro_vendor(app, quickbooks):
    ordered = linnworks_po("PO-7", [("MUG", 3, "2.333")])
    ordered["PurchaseOrderHeader"]["Currency"] = "EUR"
    with FakeLinnworks([], purchases=[ordered]) as store:
        run(app, linnworks_into_desktop(app, store))

    po = purchase_orders(quickbooks)["PO-7"]
    assert (po.entity.name, currency(po.entity), currency(po)) == (
        "Cotton Supply Co", "EUR", "EUR")
    assert (po.total, po.exchange_rate, po.home_total) == (D("7.00"), D("1.08"), D("7.56"))


def test_the_desktop_demo_with_multicurrency_books_buyers_abroad_in_their_currency(tmp_path):
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    demo = start_desktop_demo(app, orders=80, mode=None, multicurrency=True)
    try:
        result = app.engine().run(demo.connection)
    finally:
        demo.close()
        app.close()

    assert result.status is RunStatus.SUCCEEDED and not result.errors, result.errors
    sales = [txn for txn in demo.quickbooks.company.txns.values() if txn.kind == "Invoice"]
    abroad = [txn for txn in sales if currency(txn) != "USD"]
    assert abroad and len(abroad) < len(sales)
    for invoice in sales:
        assert invoice.ar_account is not None and invoice.ar_account.currency is invoice.currency
        assert currency(invoice.entity) == currency(invoice)
    assert all(invoice.exchange_rate not in (0, 1) for invoice in abroad)


def test_a_euro_refund_of_a_sale_booked_on_a_dollar_customer_fails_naming_both(
        app, quickbooks, tmp_path):
    """The sale went in before the store said euros (or before multicurrency was on): its
    customer keeps dollars, so a refund in euros cannot go on it."""
    orders = write_orders(tmp_path / "orders.csv", [
        row("P-1", "MUG", "2", "9.50", amount_paid="19.00", **ANA)])
    shop = desktop_connection(app, orders, TransactionMode.INVOICES_WITH_PAYMENTS)
    sync(app, shop)
    write_orders(orders, [row("P-1", "MUG", "2", "9.50", currency="EUR", amount_paid="19.00",
                              **dict(ANA, payment_status="refunded"))])
    result = app.engine().run(shop)

    (failure,) = result.errors
    assert failure.order == "P-1"
    assert 'customer "Ana Ruiz" is in USD' in failure.message and "EUR" in failure.message
    assert booked(quickbooks, "CreditMemo") == {}
    assert failure.detail == ""     # told before anything was sent, not refused by QuickBooks


def test_a_stores_purchase_order_in_euros_for_a_dollar_vendor_fails_naming_both(app,
                                                                                 quickbooks):
    quickbooks.company.add_name("Vendor", "Cotton Supply Co")     # in dollars, the home currency
    ordered = linnworks_po("PO-8", [("MUG", 3, "2.333")])
    ordered["PurchaseOrderHeader"]["Currency"] = "EUR"
    with FakeLinnworks([], purchases=[ordered]) as store:
        result = app.engine().run(linnworks_into_desktop(app, store))

    (failure,) = result.errors
    assert failure.order == "PO-8"
    assert 'vendor "Cotton Supply Co" is in USD' in failure.message and "EUR" in failure.message
    assert purchase_orders(quickbooks) == {}
