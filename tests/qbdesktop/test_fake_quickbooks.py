"""The fake QuickBooks Desktop answers as the reference documents: status codes, closed sales
orders (reopened when their invoice is deleted), stock, payments against balances, name
uniqueness, iterators and message-set recovery."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from connex_desktop.core.errors import ErrorKind
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks, RequestProcessorError
from connex_desktop.qbdesktop.qbxml import OnError, message_set
from connex_desktop.qbdesktop.requests import add_request, delete_request, query_request
from connex_desktop.qbdesktop.responses import (
    HRESULT_PARSE_ERROR,
    Outcome,
    parse_response,
    result_error,
)
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors


@pytest.fixture
def quickbooks() -> FakeQuickBooks:
    return FakeQuickBooks(seeded_company(), validator=schema_errors)


def sales_order(ref_number: str = "1001", mugs: str = "2") -> ET.Element:
    request, add = add_request("SalesOrderAdd", "so")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    ET.SubElement(add, "RefNumber").text = ref_number
    line = ET.SubElement(add, "SalesOrderLineAdd")
    ET.SubElement(ET.SubElement(line, "ItemRef"), "FullName").text = "Mug"
    ET.SubElement(line, "Quantity").text = mugs
    ET.SubElement(line, "Rate").text = "9.50"
    return request


def invoice_for(txn_id: str) -> ET.Element:
    request, add = add_request("InvoiceAdd", "inv")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    ET.SubElement(add, "LinkToTxnID").text = txn_id
    return request


def payment_for(txn_id: str, amount: str) -> ET.Element:
    request, add = add_request("ReceivePaymentAdd", "pay")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    ET.SubElement(add, "TotalAmount").text = amount
    applied = ET.SubElement(add, "AppliedToTxnAdd")
    ET.SubElement(applied, "TxnID").text = txn_id
    ET.SubElement(applied, "PaymentAmount").text = amount
    return request


def run(quickbooks: FakeQuickBooks, *requests: ET.Element, **attributes: str):
    return parse_response(quickbooks.process(message_set(requests, **attributes)))


def test_an_invoice_closes_its_sales_order_and_a_second_one_is_refused(quickbooks):
    order_id = run(quickbooks, sales_order()).results[0].value("TxnID")
    first = run(quickbooks, invoice_for(order_id)).results[0]
    second = run(quickbooks, invoice_for(order_id)).results[0]

    assert first.value("TotalAmount") == "19.00"
    assert run(quickbooks, query_request("SalesOrder", "q", txn_ids=(order_id,))
               ).results[0].value("IsFullyInvoiced") == "true"
    assert second.status_code == 570 and second.outcome is Outcome.ERROR
    error = result_error(second, order="1001", what="Invoice")
    assert error.kind is ErrorKind.FIX_DATA and "closed already" in str(error)


def test_deleting_an_invoice_reopens_its_sales_order_and_puts_the_stock_back(quickbooks):
    order_id = run(quickbooks, sales_order()).results[0].value("TxnID")
    mug = next(item for item in quickbooks.company.items.values() if item.name == "Mug")
    assert mug.on_hand == 40, "a sales order takes no stock"
    invoice_id = run(quickbooks, invoice_for(order_id)).results[0].value("TxnID")
    assert mug.on_hand == 38

    deleted = run(quickbooks, delete_request("Invoice", invoice_id, "del")).results[0]

    assert deleted.status_code == 0 and mug.on_hand == 40
    assert run(quickbooks, query_request("SalesOrder", "q", txn_ids=(order_id,))
               ).results[0].value("IsFullyInvoiced") == "false"


def test_a_payment_over_the_balance_is_refused_with_3210(quickbooks):
    order_id = run(quickbooks, sales_order()).results[0].value("TxnID")
    invoice_id = run(quickbooks, invoice_for(order_id)).results[0].value("TxnID")

    over = run(quickbooks, payment_for(invoice_id, "19.01")).results[0]
    exact = run(quickbooks, payment_for(invoice_id, "19.00")).results[0]

    assert over.status_code == 3210
    assert result_error(over, order="1001").field == "Amount Paid"
    assert exact.status_code == 0
    invoice = run(quickbooks, query_request("Invoice", "q", txn_ids=(invoice_id,))).results[0]
    assert invoice.value("BalanceRemaining") == "0.00" and invoice.value("IsPaid") == "true"


def test_names_are_unique_across_customers_and_vendors(quickbooks):
    request, add = add_request("CustomerAdd", "c")
    ET.SubElement(add, "Name").text = "cascade"    # a vendor's name, in another case
    result = run(quickbooks, request).results[0]
    assert result.status_code == 3100
    assert result_error(result, order="1001").field == "Customer Name"


def test_the_same_message_set_sent_again_is_answered_from_what_quickbooks_kept(quickbooks):
    first = quickbooks.process(message_set([sales_order()], new_id="cx-1"))
    again = quickbooks.process(message_set([sales_order()], new_id="cx-1"))
    status = run(quickbooks, new_id="cx-1", old_id="cx-1")
    changed = run(quickbooks, sales_order(mugs="3"), new_id="cx-1")

    assert again == first and quickbooks.processed == 1
    assert len(quickbooks.company.txns) == 1
    assert status.status_code == 0 and status.results[0].value("TotalAmount") == "19.00"
    assert changed.status_code == 9001 and not changed.results
    assert run(quickbooks, old_id="cx-1").status_code == 0           # cleared
    assert run(quickbooks, new_id="cx-1", old_id="cx-1").status_code == 600


def test_stop_on_error_runs_nothing_after_the_failed_request(quickbooks):
    result = run(quickbooks, payment_for("nope", "1.00"), sales_order())
    assert [r.status_code for r in result.results] == [3120]
    assert not quickbooks.company.txns

    result = run(quickbooks, payment_for("nope", "1.00"), sales_order(),
                 on_error=OnError.CONTINUE)
    assert [r.status_code for r in result.results] == [3120, 0]


def test_list_queries_page_through_an_iterator_and_an_empty_query_is_not_a_failure(quickbooks):
    first = run(quickbooks, query_request("Item", "1", max_returned=4)).results[0]
    rest = run(quickbooks, query_request("Item", "2", max_returned=4,
                                         iterator_id=first.iterator_id)).results[0]
    nobody = run(quickbooks, query_request("Customer", "3", full_names=("Nobody",))).results[0]

    assert (len(first.rets), first.remaining, len(rest.rets), rest.remaining) == (4, 2, 2, 0)
    names = {ret.findtext("FullName") for ret in first.rets + rest.rets}
    assert names == {"Tent 2P", "Mug", "Gift Box", "Shipping", "Discount", "Sales Tax"}
    assert nobody.status_code == 1 and nobody.outcome is Outcome.EMPTY


def test_a_record_in_use_is_answered_3175_and_means_retry_later(quickbooks):
    quickbooks.busy_answers = 1
    busy = run(quickbooks, sales_order()).results[0]
    assert busy.status_code == 3175
    assert result_error(busy, order="1001").kind is ErrorKind.RETRY_LATER
    assert run(quickbooks, sales_order()).results[0].status_code == 0


def test_a_document_out_of_the_schema_is_not_read_at_all(quickbooks):
    request = sales_order(ref_number="SHOP-1234567")   # 12 characters: the schema takes 11
    with pytest.raises(RequestProcessorError) as raised:
        quickbooks.process(message_set([request]))
    assert raised.value.hresult == HRESULT_PARSE_ERROR and "RefNumber" in raised.value.message
    assert not quickbooks.company.txns


def test_online_only_lines_are_left_out_with_a_warning_as_quickbooks_desktop_does(quickbooks):
    request = sales_order()
    invoice, add = add_request("InvoiceAdd", "inv")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    line = ET.SubElement(add, "InvoiceLineAdd")
    ET.SubElement(ET.SubElement(line, "ItemRef"), "FullName").text = "Mug"
    ET.SubElement(line, "Amount").text = "19.00"
    ET.SubElement(ET.SubElement(add, "DiscountLineAdd"), "Amount").text = "4.00"

    result = run(quickbooks, request, invoice).results[1]

    assert result.status_code == 530 and result.outcome is Outcome.WARNING
    assert result.value("TotalAmount") == "19.00", "the discount was not booked"
