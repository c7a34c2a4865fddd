"""qbXML requests: every kind the app builds passes Intuit's 13.0 schema (element order,
required elements, lengths, formats); over-long values fail the order naming the field."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest

from connex_desktop.core.connection import MissingItemPolicy, QuickBooksMapping
from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import Buyer, OrderLine
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind
from connex_desktop.qbdesktop.qbxml import (
    MESSAGE_SET_ID_MAX_CHARS,
    amount_text,
    latin1,
    message_set,
    message_set_id,
    price_text,
)
from connex_desktop.qbdesktop.requests import (
    delete_request,
    document_request,
    entity_request,
    host_query,
    query_request,
    refund_requests,
)
from connex_desktop.sync.planner import (
    CompanySetup,
    Pending,
    PlannedDocument,
    PlannedDocumentId,
    plan_order,
)
from tests.qbdesktop.conftest import D, resolve
from tests.qbdesktop.schema import schema_errors
from tests.sync.test_planner import SETUP, FakeReferences, make_order, refunded
from tests.sync.test_planner import connection as qbo_connection

RESOLVED: dict[Pending, str] = {PlannedDocumentId("estimate"): "1A2B-1732550000",
                               PlannedDocumentId("invoice"): "1A30-1732550100"}


def planned_documents(mode: TransactionMode) -> list[PlannedDocument]:
    order = make_order(shipping="5.00", discount="2.00", tax="3.10",
                       paid=None if mode is TransactionMode.INVOICES else "999")
    order = replace(order, total=order.computed_total,
                    payments=tuple(replace(p, amount=order.computed_total)
                                   for p in order.payments))
    plan = plan_order(order, qbo_connection(mode), FakeReferences(), CompanySetup())
    return [replace(doc, body=resolve(doc.body, RESOLVED)) for doc in plan.documents]


@pytest.mark.parametrize("mode", list(TransactionMode))
def test_every_document_of_every_mode_passes_the_schema(mode: TransactionMode):
    documents = planned_documents(mode)
    assert documents
    for number, planned in enumerate(documents, start=1):
        request = document_request(planned, "1001", str(number), external_key=planned.doc_key)
        document = message_set([request.element], new_id=message_set_id("1", planned.doc_key))
        assert schema_errors(document) == "", (planned.kind, document)


def test_lists_queries_deletes_and_recovery_envelopes_pass_the_schema():
    order = replace(make_order(), buyer=Buyer(name="Zoë Quinn", email="zoe@example.com",
                                              phone="+44 20 7946 0958 ext. 1234"),
                    lines=(OrderLine("LAMP-1", "Lantern", D("1"), D("12.00")),))
    conn = qbo_connection(TransactionMode.INVOICES,
                          mapping=QuickBooksMapping(missing_items=MissingItemPolicy.CREATE))
    plan = plan_order(replace(order, total=order.computed_total), conn, FakeReferences(),
                      CompanySetup())
    requests = [entity_request(entity.entity, entity.body, str(number), order="1001").element
                for number, entity in enumerate(plan.creates, start=1)]
    assert [request.tag for request in requests] == ["CustomerAddRq", "ItemNonInventoryAddRq"]
    requests += [query_request("Customer", "3", full_names=("Jane Doe",)),
                 query_request("Item", "4", max_returned=100),
                 query_request("Vendor", "5", max_returned=100, iterator_id="{A1-B2}"),
                 query_request("SalesOrder", "6", ref_number="1001", with_lines=True),
                 query_request("Invoice", "7", txn_ids=("1A30-1732550100",)),
                 host_query("8"),
                 delete_request("Invoice", "1A30-1732550100", "9")]
    for document in (message_set(requests), message_set([], new_id="abc", old_id="abc"),
                     message_set([], old_id="abc")):
        assert schema_errors(document) == "", document


def test_the_schema_check_itself_catches_an_element_out_of_order():
    (invoice,) = planned_documents(TransactionMode.INVOICES)
    element = document_request(invoice, "1001", "1").element
    add = element[0]
    number = add.find("RefNumber")
    assert number is not None
    add.remove(number)
    add.append(number)   # after the lines, where the schema does not allow it
    assert "RefNumber" in schema_errors(message_set([element]))


def test_a_number_over_eleven_characters_is_left_to_quickbooks_with_a_note():
    (invoice,) = planned_documents(TransactionMode.INVOICES)
    request = document_request(replace(invoice, doc_number="SHOP-1234567"), "1234567", "1")
    add = request.element[0]
    assert add.find("RefNumber") is None and request.ref_number is None
    assert "Order 1001" in (add.findtext("Memo") or "")
    assert "QuickBooks numbers it" in request.notes[0]


def test_an_invoice_for_a_sales_order_links_it_and_sends_no_lines_of_its_own():
    estimate, invoice, _ = planned_documents(TransactionMode.SALES_ORDERS_INVOICES)
    add = document_request(invoice, "1001", "1").element[0]
    assert add.findtext("LinkToTxnID") == RESOLVED[PlannedDocumentId("estimate")]
    assert add.find("InvoiceLineAdd") is None
    assert document_request(estimate, "1001", "1").element[0].tag == "SalesOrderAdd"


def test_an_exchange_rate_is_sent_with_all_its_decimals():
    (invoice,) = planned_documents(TransactionMode.INVOICES)
    body = dict(invoice.body, ExchangeRate="1.1234567")
    request = document_request(replace(invoice, body=body), "1001", "1")
    assert request.element[0].findtext("ExchangeRate") == "1.1234567"
    assert schema_errors(message_set([request.element])) == ""


def test_a_payment_is_applied_to_its_invoice_for_the_amount_paid():
    payment = planned_documents(TransactionMode.INVOICES_WITH_PAYMENTS)[1]
    add = document_request(payment, "1001", "1").element[0]
    assert add.findtext("AppliedToTxnAdd/TxnID") == RESOLVED[PlannedDocumentId("invoice")]
    assert add.findtext("AppliedToTxnAdd/PaymentAmount") == add.findtext("TotalAmount")
    assert add.findtext("RefNumber") == "ch_123"


def test_an_item_name_over_31_characters_fails_the_order_naming_the_field():
    body = {"Name": "Ultralight Backpacking Tent for Two", "Sku": "X"}
    with pytest.raises(OrderDataError) as raised:
        entity_request("Item", body, "1", order="1001")
    assert raised.value.order == "1001" and raised.value.field == "Product Name"
    assert "35 characters" in str(raised.value) and "at most 31" in str(raised.value)


@pytest.mark.parametrize("amounts", [("337.63",), ("20.00", "5.25")], ids=["full", "partial"])
def test_a_refund_is_a_credit_memo_and_its_refund_to_the_cent_in_schema_order(amounts):
    order = refunded(*amounts)
    plan = plan_order(order, qbo_connection(TransactionMode.INVOICES_WITH_PAYMENTS),
                      FakeReferences(), SETUP)
    refunds = [doc for doc in plan.documents if doc.kind is DocumentKind.REFUND_RECEIPT]
    assert [doc.total for doc in refunds] == [D(amount) for amount in amounts]
    resolved = RESOLVED | {entity.key: "80000009-1732550000" for entity in plan.creates}
    for planned in refunds:
        credit, refund = refund_requests(replace(planned, body=resolve(planned.body, resolved)),
                                         "1001", "7", external_key=planned.doc_key)
        document = message_set([credit.element, refund.element], new_id=message_set_id("1"))
        assert schema_errors(document) == "", document
        credit_add, refund_add = credit.element[0], refund.element[0]
        assert credit_add.tag == "CreditMemoAdd" and refund_add.tag == "ARRefundCreditCardAdd"
        lines = sum((D(line.findtext("Amount")) for line in credit_add.iter("CreditMemoLineAdd")),
                    D("0"))
        assert lines == planned.total
        assert refund_add.findtext("RefundAppliedToTxnAdd/RefundAmount") == str(planned.total)
        assert refund_add.find("RefundAppliedToTxnAdd/TxnID").get("useMacro") == (
            credit_add.get("defMacro"))
        assert refund_add.findtext("RefundFromAccountRef/FullName") == "Undeposited Funds"


def test_text_is_latin_1_and_numbers_have_the_schema_formats():
    assert latin1("Zoë Łukasz — “Café” Ǆ ☃") == 'Zoë Lukasz - "Café" DZ ?'
    assert amount_text(D("5")) == "5.00" and amount_text("1005.5") == "1005.50"
    assert price_text(D("2")) == "2" and price_text(D("19.990")) == "19.99"
    assert price_text(D("6.666667")) is None


def test_message_set_ids_are_stable_and_short_enough():
    first = message_set_id("connection-1", "AMZ-112-7788123-4455667", "invoice")
    assert first == message_set_id("connection-1", "AMZ-112-7788123-4455667", "invoice")
    assert first != message_set_id("connection-1", "AMZ-112-7788123-4455667", "payment:1")
    assert len(first) <= MESSAGE_SET_ID_MAX_CHARS


def test_the_envelope_carries_the_version_header_and_message_set_attributes():
    document = message_set([host_query("1")], new_id="cx1", old_id="cx0")
    assert document.splitlines()[1] == '<?qbxml version="13.0"?>'
    msgs = ET.fromstring(document.encode()).find("QBXMLMsgsRq")
    assert msgs is not None
    assert msgs.attrib == {"onError": "stopOnError", "newMessageSetID": "cx1",
                           "oldMessageSetID": "cx0"}
