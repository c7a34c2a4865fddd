"""Writes that book once, the look-up that recognises a document as ours, and the Web
Connector transport a run waits on."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from connex_desktop.core.errors import ErrorKind, RetryLaterError, SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind
from connex_desktop.qbdesktop.booking import find_booked, write, write_document
from connex_desktop.qbdesktop.qbxml import message_set_id
from connex_desktop.qbdesktop.requests import document_request
from connex_desktop.qbdesktop.responses import RequestResult
from connex_desktop.qbdesktop.transport import WebConnectorTransport
from connex_desktop.sync.planner import CompanySetup, plan_order
from tests.qbdesktop.conftest import D, Desktop, connection, resolve
from tests.qbdesktop.test_web_connector_booking import paid_order


def invoice_document(desktop: Desktop, number: str = "1001", key: str = "1/1001/invoice",
                     lines: int = 2) -> str:
    order = paid_order(number, paid=False)
    order = replace(order, lines=order.lines[:lines], total=order.total if lines == 2
                    else order.total - D("18.00"))
    plan = plan_order(order, connection(TransactionMode.INVOICES), desktop.references(),
                      CompanySetup())
    invoice = plan.documents[0]
    request = document_request(replace(invoice, body=resolve(invoice.body, {})), number, "1",
                               external_key=key)
    return write_document([request.element], message_set_id(key))


def test_a_booked_invoice_is_found_by_its_number_and_recognised_as_ours(desktop: Desktop):
    booked = write(desktop, invoice_document(desktop), order="1001")

    found = find_booked(desktop, DocumentKind.INVOICE, "1001", "1001", "1/1001/invoice")
    other_connection = find_booked(desktop, DocumentKind.INVOICE, "1001", "1001",
                                   "2/1001/invoice")
    assert found is not None and found.value("TxnID") == booked.value("TxnID")
    assert other_connection is None, "the same number booked by someone else is not ours"
    assert find_booked(desktop, DocumentKind.INVOICE, "1002", "1002", "1/1002/invoice") is None


def test_a_changed_document_under_a_used_id_is_refused_and_nothing_is_booked(desktop: Desktop):
    write(desktop, invoice_document(desktop), order="1001")
    changed = invoice_document(desktop, lines=1)   # same id, one line fewer
    with pytest.raises(SetupError, match="sent again changed"):
        write(desktop, changed, order="1001", what="Invoice 1001")
    assert len([t for t in desktop.company.txns.values() if t.kind == "Invoice"]) == 1


def test_a_refused_write_raises_the_error_naming_the_order(desktop: Desktop):
    desktop.quickbooks.busy_answers = 1
    with pytest.raises(RetryLaterError) as raised:
        write(desktop, invoice_document(desktop), order="1001", what="Invoice 1001")
    assert raised.value.order == "1001" and raised.value.kind is ErrorKind.RETRY_LATER


def test_a_run_waits_for_the_web_connector_and_gets_quickbooks_answer(desktop: Desktop):
    transport = WebConnectorTransport(desktop.queue, wait_s=10)
    document = invoice_document(desktop)
    results: list[RequestResult] = []
    writer = threading.Thread(target=lambda: results.append(
        write(transport, document, order="1001")))
    writer.start()
    while not len(desktop.queue):
        threading.Event().wait(0.01)
    desktop.connector.update()      # the Web Connector's scheduled call
    writer.join(timeout=10)

    (result,) = results
    assert result.status_code == 0
    (invoice,) = [t for t in desktop.company.txns.values() if t.kind == "Invoice"]
    assert invoice.total == D("346.42")


def test_a_web_connector_that_never_calls_is_a_retry_later_error_not_a_hang(desktop: Desktop):
    transport = WebConnectorTransport(desktop.queue, wait_s=0.05)
    with pytest.raises(RetryLaterError, match="Web Connector did not call in time"):
        transport.process(invoice_document(desktop))
    assert len(desktop.queue) == 1, "still queued for when the Web Connector comes"
