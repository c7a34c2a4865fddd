"""UK and Canadian QuickBooks Desktop files (the fake, every request checked against Intuit's
schema and its notes on what each edition takes): each line on the VAT/GST code of its rate,
QuickBooks' tax and totals the store's to the cent, once; a rate no code has fails its order."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App
from connex_desktop.core.connection import QuickBooksMapping, TaxPolicy
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.qbdesktop.fake.processor import NOT_IN_EDITIONS, SALES_ADDS, FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import Txn
from connex_desktop.qbdesktop.qbxml import message_set
from connex_desktop.qbdesktop.requests import add_request, host_query, query_request
from connex_desktop.qbdesktop.responses import Outcome, parse_response
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sync.company_kind import company_kind
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.ops_notes import EDITIONS, edition_checker, not_in
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import desktop_connection, txns
from tests.sync.conftest import row, write_orders

D = Decimal
SALES = ("SalesOrder", "Invoice", "SalesReceipt")
# UK: 3 × 19.99 at 20 % (11.99 VAT), 12.50 zero-rated, 4.95 shipping at 20 % (0.99): 90.40.
UK_ORDER = [row("3001", "MUG", "3", "19.99", tax_rate="20", tax_amount="12.98",
                shipping_amount="4.95", payment_status="paid", amount_paid="90.40",
                currency="GBP"),
            row("3001", "GIFT", "1", "12.50", tax_rate="0")]
# Canada (Ontario): 3 × 33.33 at 13 % HST (13.00), 19.99 at 5 % GST (1.00): 133.98.
CA_ORDER = [row("4001", "MUG", "3", "33.33", tax_rate="13", tax_amount="14.00",
                payment_status="paid", amount_paid="133.98", currency="CAD"),
            row("4001", "GIFT", "1", "19.99", tax_rate="5")]
BOOKED = {"UK": ("3001", D("90.40"), D("12.98"), ["S", "Z", "S"]),
          "CA": ("4001", D("133.98"), D("14.00"), ["H", "G"])}
ORDERS = {"UK": UK_ORDER, "CA": CA_ORDER}
HOME = {"UK": "GBP", "CA": "CAD"}
KINDS = {TransactionMode.SALES_RECEIPTS: ["SalesReceipt"],
         TransactionMode.INVOICES_WITH_PAYMENTS: ["Invoice"],
         TransactionMode.SALES_ORDERS_INVOICES: ["Invoice", "SalesOrder"]}


@pytest.fixture
def quickbooks(request) -> FakeQuickBooks:
    """A UK (or, parametrized, Canadian) file, as the seeded US one is otherwise."""
    country = getattr(request, "param", "UK")
    return FakeQuickBooks(seeded_company(country=country), validator=edition_checker(country))


def edition(*countries: str):
    return pytest.mark.parametrize("quickbooks", countries, indirect=True)


def book(app: App, quickbooks: FakeQuickBooks, tmp_path: Path, rows: list[dict[str, str]],
         mode: TransactionMode, **changes: object):
    """Book the rows, then sync them all again: the second run must book nothing."""
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", rows), mode, **changes)
    result = app.engine().run(shop)
    count = len(quickbooks.company.txns)
    again = app.engine().run(shop, query=OrderQuery())
    assert again.documents == [], again.errors
    assert len(quickbooks.company.txns) == count
    return result


def sales(quickbooks: FakeQuickBooks) -> list[Txn]:
    return [txn for txn in quickbooks.company.txns.values() if txn.kind in SALES]


def codes(txn: Txn) -> list[str]:
    return [line.tax_code.name if line.tax_code else "(none)" for line in txn.lines]


@edition("UK", "CA")
@pytest.mark.parametrize("mode", list(KINDS), ids=lambda mode: mode.value)
def test_each_line_takes_the_code_of_its_rate_and_the_books_match_the_store(
        app, quickbooks, tmp_path, mode):
    country = quickbooks.company.country
    number, total, tax, line_codes = BOOKED[country]
    result = book(app, quickbooks, tmp_path, ORDERS[country], mode)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    booked = sales(quickbooks)
    assert sorted(txn.kind for txn in booked) == KINDS[mode]
    for txn in booked:
        assert (txn.ref_number, txn.total, txn.sales_tax, codes(txn)) == (
            number, total, tax, line_codes)
        assert txn.tax_included is False
    for invoice in txns(quickbooks, "Invoice").values():
        assert invoice.balance == (0 if mode.books_payments else total)
    for order in txns(quickbooks, "SalesOrder").values():
        assert order.fully_invoiced


@edition("UK", "CA")
def test_purchase_orders_carry_the_code_of_the_sales_rate(app, quickbooks, tmp_path):
    country = quickbooks.company.country
    result = book(app, quickbooks, tmp_path, ORDERS[country],
                  TransactionMode.SALES_ORDERS_INVOICES_POS)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (purchase,) = txns(quickbooks, "PurchaseOrder").values()
    assert (purchase.entity.name, purchase.total, codes(purchase)) == (
        "Pacific", D("10.50"), [{"UK": "S", "CA": "H"}[country]])


@edition("UK", "CA")
def test_prices_that_include_tax_book_as_tax_inclusive(app, quickbooks, tmp_path):
    # 2 × 12.00 with 20 % VAT in it (4.00), 6.00 zero-rated: 30.00, of it 4.00 VAT (at 13 %
    # HST in Ontario: 2.76).
    country = quickbooks.company.country
    rate, tax = {"UK": ("20", D("4.00")), "CA": ("13", D("2.76"))}[country]
    rows = [row("3002", "MUG", "2", "12.00", tax_rate=rate, tax_amount=f"{tax}",
                prices_include_tax="yes", payment_status="paid", amount_paid="30.00",
                currency=HOME[country]),
            row("3002", "GIFT", "1", "6.00", tax_rate="0")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.INVOICES_WITH_PAYMENTS)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = txns(quickbooks, "Invoice").values()
    assert invoice.tax_included is True
    assert (invoice.total, invoice.sales_tax, invoice.balance) == (D("30.00"), tax, 0)
    assert codes(invoice) == [{"UK": "S", "CA": "H"}[country], "Z"]


@edition("UK", "CA")
def test_a_refunded_order_is_credited_with_its_vat_and_paid_back_to_the_cent_once(
        app, quickbooks, tmp_path):
    country = quickbooks.company.country
    _, total, tax, line_codes = BOOKED[country]
    orders = write_orders(tmp_path / "orders.csv", ORDERS[country])
    shop = desktop_connection(app, orders, TransactionMode.INVOICES_WITH_PAYMENTS)
    assert app.engine().run(shop).status is RunStatus.SUCCEEDED
    write_orders(orders, [dict(line, **{"Payment Status": "refunded"})
                          for line in ORDERS[country]])
    for _ in range(2):
        result = app.engine().run(shop, query=OrderQuery())
        assert result.status is RunStatus.SUCCEEDED, result.errors
    (credit,) = txns(quickbooks, "CreditMemo").values()
    assert (credit.total, credit.sales_tax, credit.balance, codes(credit)) == (
        total, tax, 0, line_codes)
    (refund,) = [txn for txn in quickbooks.company.txns.values()
                 if txn.kind == "ARRefundCreditCard"]
    assert refund.applied == {credit.txn_id: total}


@edition("UK")
def test_a_rate_changed_in_quickbooks_is_read_by_the_next_sync(app, quickbooks, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", UK_ORDER)
    shop = desktop_connection(app, orders, TransactionMode.INVOICES)
    assert app.engine().run(shop).status is RunStatus.SUCCEEDED
    standard = next(item for item in quickbooks.company.items.values()
                    if item.name == "Standard rate VAT 20%")
    quickbooks.company.edit(standard, name="Standard rate VAT 17.5%", tax_rate=D("17.5"))
    write_orders(orders, [row("3011", "MUG", "1", "40.00", tax_rate="17.5", tax_amount="7.00",
                              currency="GBP")])
    result = app.engine().run(shop)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    invoice = txns(quickbooks, "Invoice")["3011"]
    assert (invoice.total, invoice.sales_tax, codes(invoice)) == (D("47.00"), D("7.00"), ["S"])


@edition("UK")
def test_a_rate_no_code_has_fails_its_order_naming_the_rate(app, quickbooks, tmp_path):
    rows = [row("3005", "MUG", "1", "10.00", tax_rate="7", tax_amount="0.70", currency="GBP"),
            row("3006", "MUG", "1", "10.00", tax_rate="20", tax_amount="2.00", currency="GBP")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.INVOICES)
    (failure,) = result.errors
    assert failure.order == "3005"
    assert "7 %" in failure.message and "S (20 %)" in failure.message
    assert list(txns(quickbooks, "Invoice")) == ["3006"]


@edition("UK")
def test_a_discount_on_lines_of_one_code_is_taxed_at_it(app, quickbooks, tmp_path):
    # 2 × 20.00 and 10.00 at 20 %, 5.00 off, 4.95 shipping at 20 %: VAT 10.00 − 1.00 + 0.99.
    rows = [row("3009", "MUG", "2", "20.00", tax_rate="20", order_discount="5.00",
                shipping_amount="4.95", tax_amount="9.99", payment_status="paid",
                amount_paid="59.94", currency="GBP"),
            row("3009", "GIFT", "1", "10.00", tax_rate="20")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.SALES_RECEIPTS)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (receipt,) = txns(quickbooks, "SalesReceipt").values()
    assert (receipt.total, receipt.sales_tax) == (D("59.94"), D("9.99"))
    assert [(line.item.name, line.amount, line.tax_code.name if line.tax_code else "")
            for line in receipt.lines] == [
        ("Mug", D("40.00"), "S"), ("Gift Box", D("10.00"), "S"), ("Shipping", D("4.95"), "S"),
        ("Discount", D("-5.00"), "S")]


@edition("UK")
def test_a_discount_on_lines_of_different_rates_fails_its_order(app, quickbooks, tmp_path):
    rows = [row("3010", "MUG", "1", "20.00", tax_rate="20", order_discount="2.00",
                tax_amount="3.73", currency="GBP"),
            row("3010", "GIFT", "1", "10.00", tax_rate="0")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.INVOICES)
    (failure,) = result.errors
    assert failure.order == "3010"
    assert "discount" in failure.message and "S (20 %)" in failure.message
    assert sales(quickbooks) == []


@edition("UK")
def test_the_connections_tax_codes_override_the_code_chosen_by_rate(app, quickbooks, tmp_path):
    rows = [row("3007", "GIFT", "1", "12.00", tax_rate="0", tax_amount="2.00", currency="GBP"),
            row("3007", "MUG", "1", "10.00", tax_code="Standard")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.INVOICES,
                  mapping=QuickBooksMapping(tax_codes={"0": "E", "standard": "S"}))
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = txns(quickbooks, "Invoice").values()
    assert codes(invoice) == ["E", "S"]
    assert (invoice.total, invoice.sales_tax) == (D("24.00"), D("2.00"))


@edition("UK")
def test_tax_the_store_rounded_otherwise_fails_its_order_rather_than_book_other_vat(
        app, quickbooks, tmp_path):
    # Four lines of 1.09 at 5 %: QuickBooks Desktop rounds per line (0.20); the store, on
    # the total (0.22). Desktop cannot be told the store's tax.
    rows = [row("3004", "MUG", "1", "1.09", tax_rate="5", tax_amount="0.22", currency="GBP"),
            *[row("3004", sku, "1", "1.09", tax_rate="5") for sku in ("GIFT", "TENT-2P")],
            row("3004", "GIFT", "1", "1.09", tax_rate="5")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.INVOICES)
    (failure,) = result.errors
    assert failure.order == "3004"
    assert "0.22" in failure.message and "0.20" in failure.message
    assert sales(quickbooks) == []


@edition("UK")
def test_vat_booked_as_an_item_line_takes_no_vat_of_quickbooks(app, quickbooks, tmp_path):
    rows = [row("3008", "MUG", "1", "40.00", tax_rate="20", tax_amount="8.00",
                payment_status="paid", amount_paid="48.00", currency="GBP")]
    result = book(app, quickbooks, tmp_path, rows, TransactionMode.INVOICES_WITH_PAYMENTS,
                  mapping=QuickBooksMapping(tax_policy=TaxPolicy.LINE_ITEM))
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = txns(quickbooks, "Invoice").values()
    assert [(line.item.name, line.amount, line.tax_code.name if line.tax_code else "")
            for line in invoice.lines] == [("Mug", D("40.00"), "Z"),
                                           ("Sales Tax", D("8.00"), "Z")]
    assert (invoice.total, invoice.sales_tax, invoice.balance) == (D("48.00"), 0, 0)


@edition("UK", "CA")
def test_the_company_kind_names_the_country_its_tax_and_its_codes_by_rate(quickbooks):
    kind = company_kind(ReferenceCache(QuickBooksDesktop(quickbooks)))
    expected = {"UK": ("United Kingdom, VAT, home currency GBP, multicurrency off.",
                       {"20": "S", "5": "R", "0": "Z"}),
                "CA": ("Canada, GST/HST, home currency CAD, multicurrency off.",
                       {"5": "G", "13": "H", "0": "Z"})}
    assert (kind.describe(), kind.rate_table()) == expected[quickbooks.company.country]


def test_a_file_of_another_edition_is_refused_naming_it(app, tmp_path):
    quickbooks = FakeQuickBooks(seeded_company(country="AU"), validator=schema_errors)
    app.desktop_processor_for = lambda connection: quickbooks
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", UK_ORDER),
                              TransactionMode.INVOICES)
    result = app.engine().run(shop)
    assert result.status is RunStatus.FAILED
    assert "AU edition" in result.message
    assert quickbooks.company.txns == {}


# --- the fake company file's editions ---------------------------------------------------------

def sale(kind: str, *lines: tuple[str, str, str], tax_included: str = "") -> ET.Element:
    """A sale to Jane Doe: (item, amount, tax code) lines, IsTaxIncluded as given."""
    request, add = add_request(f"{kind}Add", "1")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    if tax_included:
        ET.SubElement(add, "IsTaxIncluded").text = tax_included
    for item, amount, code in lines:
        line = ET.SubElement(add, f"{kind}LineAdd")
        ET.SubElement(ET.SubElement(line, "ItemRef"), "FullName").text = item
        ET.SubElement(line, "Amount").text = amount
        ET.SubElement(ET.SubElement(line, "SalesTaxCodeRef"), "FullName").text = code
    return request


def answer(quickbooks: FakeQuickBooks, request: ET.Element):
    (result,) = parse_response(quickbooks.process(message_set([request]))).results
    return result


def test_a_uk_file_says_its_country_and_lists_its_vat_codes_with_their_rates():
    quickbooks = FakeQuickBooks(seeded_company(country="UK"), validator=schema_errors)
    (host,) = answer(quickbooks, host_query("1")).rets
    assert host.findtext("Country") == "UK"
    rates = {ret.findtext("ListID"): ret.findtext("TaxRate")
             for ret in answer(quickbooks, query_request("ItemSalesTax", "1")).rets}
    codes = {ret.findtext("Name"): rates[ret.findtext("ItemSalesTaxRef/ListID", "")]
             for ret in answer(quickbooks, query_request("SalesTaxCode", "1")).rets}
    assert codes == {"S": "20", "R": "5", "Z": "0", "E": "0", "O": "0"}


@pytest.mark.parametrize("included, total, tax", [("false", "110.10", "18.35"),
                                                   ("true", "91.75", "15.30")])
def test_a_uk_file_works_vat_out_line_by_line_from_each_lines_code(included, total, tax):
    # 45.99 + 45.76 at 20 %: 9.198 → 9.20 and 9.152 → 9.15 (or, within: 7.665 → 7.67 and
    # 7.6267 → 7.63); zero-rated 0.00.
    quickbooks = FakeQuickBooks(seeded_company(country="UK"), validator=schema_errors)
    result = answer(quickbooks, sale("SalesReceipt", ("Mug", "45.99", "S"),
                                     ("Gift Box", "45.76", "S"), ("Mug", "0.00", "Z"),
                                     tax_included=included))
    assert result.outcome is Outcome.OK
    (receipt,) = result.rets
    assert (receipt.findtext("TotalAmount"), receipt.findtext("SalesTaxTotal")) == (total, tax)


def test_a_line_naming_a_code_the_file_lacks_is_refused():
    quickbooks = FakeQuickBooks(seeded_company(country="UK"), validator=schema_errors)
    result = answer(quickbooks, sale("Invoice", ("Mug", "10.00", "T")))
    assert (result.status_code, result.outcome) == (3140, Outcome.ERROR)
    assert 'Sales Tax Code "T"' in result.message
    assert quickbooks.company.txns == {}


@pytest.mark.parametrize("country, request_element, dropped", [
    ("US", lambda: sale("Invoice", ("Mug", "10.00", "Tax"), tax_included="true"),
     "IsTaxIncluded"),
    ("UK", lambda: customer_with_sales_tax_item(), "ItemSalesTaxRef"),
    ("CA", lambda: customer_with_sales_tax_item(), "ItemSalesTaxRef"),
])
def test_an_element_not_in_the_files_edition_is_left_out_with_a_warning(
        country, request_element, dropped):
    quickbooks = FakeQuickBooks(seeded_company(country=country), validator=schema_errors)
    result = answer(quickbooks, request_element())
    assert (result.status_code, result.outcome) == (530, Outcome.WARNING)
    assert dropped in result.message


def customer_with_sales_tax_item() -> ET.Element:
    request, add = add_request("CustomerAdd", "1")
    ET.SubElement(add, "Name").text = "Ann Lee"
    ET.SubElement(ET.SubElement(add, "ItemSalesTaxRef"), "FullName").text = "Sales Tax"
    return request


def test_the_fakes_edition_rules_are_intuits():
    """Each element the fake leaves out of an edition's files is one Intuit notes is not in
    that edition; and US files take IsTaxIncluded on none of their sales."""
    notes = not_in()
    for (aggregate, element), countries in NOT_IN_EDITIONS.items():
        paths = [path for path in notes if path[-2:] == (aggregate, element)]
        assert paths, (aggregate, element)
        for path in paths:
            assert {EDITIONS[country] for country in countries} <= notes[path], path
    for add in SALES_ADDS:
        assert "QBD" in notes[(f"{add}Rq", add, "IsTaxIncluded")]
