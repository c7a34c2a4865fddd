"""Through the engine into QuickBooks Desktop: an order's documents line by line, a document
found again by its number and memo after a lost answer (never one the user numbered alike), a
busy company file tried again, a message changed under a booked id refused, and QuickBooks
asked which it is once a run."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.core.writing import Refused, Stored, Write
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import Txn
from connex_desktop.qbdesktop.qbxml import message_set
from connex_desktop.qbdesktop.requests import add_request
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from tests.qbdesktop.test_desktop_engine import (
    ORDERS,
    TOTALS,
    Flaky,
    desktop_connection,
    sync,
)
from tests.sync.conftest import write_orders

D = Decimal


def documents(quickbooks: FakeQuickBooks, kind: str) -> list[Txn]:
    return [txn for txn in quickbooks.company.txns.values() if txn.kind == kind]


def test_an_invoice_carries_the_orders_lines_and_every_document_names_its_order(app, quickbooks,
                                                                               tmp_path):
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.SALES_ORDERS_INVOICES_POS)
    sync(app, shop)

    invoice = next(txn for txn in documents(quickbooks, "Invoice") if txn.ref_number == "1001")
    assert [(line.item.name, line.amount) for line in invoice.lines] == [
        ("Tent 2P", D("299.00")), ("Mug", D("19.00")), ("Shipping", D("12.00")),
        ("Discount", D("-5.00")), ("Sales Tax", D("24.60"))]
    (payment,) = [txn for txn in documents(quickbooks, "ReceivePayment")
                  if invoice.txn_id in txn.applied]
    assert payment.applied == {invoice.txn_id: TOTALS["1001"]} and invoice.balance == 0
    for txn in quickbooks.company.txns.values():
        assert "Order 1001" in txn.memo or "Order 1002" in txn.memo, (txn.kind, txn.memo)


def users_invoice(quickbooks: FakeQuickBooks, number: str) -> None:
    """An invoice the user typed into QuickBooks with the number an order will have."""
    request, add = add_request("InvoiceAdd", "user")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    ET.SubElement(add, "RefNumber").text = number
    ET.SubElement(add, "Memo").text = "Walk-in sale"
    line = ET.SubElement(add, "InvoiceLineAdd")
    ET.SubElement(ET.SubElement(line, "ItemRef"), "FullName").text = "Mug"
    ET.SubElement(line, "Quantity").text = "1"
    ET.SubElement(line, "Rate").text = "9.50"
    quickbooks.process(message_set([request]))


@pytest.mark.parametrize("booked", [True, False], ids=["answer-lost", "request-lost"])
def test_a_lost_answer_is_found_by_number_and_memo_never_as_the_users_invoice(
        app, quickbooks, tmp_path, booked):
    users_invoice(quickbooks, "1001")
    flaky = Flaky(quickbooks, "<InvoiceAdd>", booked=booked)
    app.desktop_processor_for = lambda connection: flaky
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS[:2]),
                              TransactionMode.INVOICES)
    first = app.engine().run(shop)
    assert first.status is RunStatus.PARTIAL and first.errors[0].kind.value == "retry_later"
    lost = next(request for request in flaky.sent if "<InvoiceAdd>" in request)

    sync(app, shop)
    invoices = sorted((txn.total, "Order 1001" in txn.memo)
                      for txn in documents(quickbooks, "Invoice") if txn.ref_number == "1001")
    assert invoices == [(D("9.50"), False), (TOTALS["1001"], True)]
    # Booked: found by its number and memo, not sent again; lost before QuickBooks had it: the
    # user's invoice of that number is not taken for it, and the kept bytes go again.
    assert flaky.sent.count(lost) == (1 if booked else 2)


def test_a_busy_company_file_fails_the_order_for_now_and_the_next_sync_books_it_once(
        app, quickbooks, tmp_path):
    quickbooks.busy_answers = 1      # "record in use by another user" (3175) for the first write
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS[:2]),
                              TransactionMode.INVOICES)
    first = app.engine().run(shop)
    assert first.status is not RunStatus.SUCCEEDED and not documents(quickbooks, "Invoice")
    (error,) = first.errors
    assert error.order == "1001" and error.kind.value == "retry_later"

    sync(app, shop)
    sync(app, shop)
    assert [txn.total for txn in documents(quickbooks, "Invoice")] == [TOTALS["1001"]]


def test_a_run_asks_quickbooks_which_it_is_once(app, quickbooks, tmp_path: Path):
    recording = Flaky(quickbooks, "", booked=False)
    app.desktop_processor_for = lambda connection: recording
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.SALES_ORDERS_INVOICES)
    sync(app, shop)
    assert sum("<HostQueryRq" in request for request in recording.sent) == 1


def test_a_message_sent_again_changed_under_a_booked_id_is_refused_and_books_nothing(quickbooks):
    writer = QuickBooksDesktop(quickbooks).writer(in_flight=1)
    (sealed,) = writer.with_request_ids([Write("Customer", {"DisplayName": "Ann Lee"})])
    changed = Write("Customer", dict(sealed.body, qbXML=sealed.body["qbXML"].replace(
        "Ann Lee", "Ann Leigh")), sealed.request_id)

    (first,), (again,) = (request.outcomes for request in writer.send([sealed, changed]))

    assert isinstance(first, Stored) and isinstance(again, Refused)
    assert "sent again changed" in again.fault.message
    assert again.fault.kind is ErrorKind.FIX_SETUP
    assert [customer.name for customer in quickbooks.company.customers()] == ["Jane Doe",
                                                                              "Ann Lee"]
