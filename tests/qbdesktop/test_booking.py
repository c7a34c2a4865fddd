"""The Web Connector transport a run waits on (the engine's writes that book once, and the
look-up that recognises a document as ours: test_desktop_engine*.py)."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from connex_desktop.core.errors import RetryLaterError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.qbdesktop.qbxml import message_set, message_set_id
from connex_desktop.qbdesktop.requests import document_request
from connex_desktop.qbdesktop.responses import RequestResult, parse_response
from connex_desktop.qbdesktop.transport import WebConnectorTransport
from connex_desktop.sync.planner import CompanySetup, plan_order
from tests.qbdesktop.conftest import D, Desktop, connection, resolve
from tests.qbdesktop.test_web_connector_booking import paid_order


def invoice_document(desktop: Desktop, number: str = "1001", key: str = "1/1001/invoice") -> str:
    plan = plan_order(paid_order(number, paid=False), connection(TransactionMode.INVOICES),
                      desktop.references(), CompanySetup())
    invoice = plan.documents[0]
    request = document_request(replace(invoice, body=resolve(invoice.body, {})), number, "1",
                               external_key=key)
    return message_set([request.element], new_id=message_set_id(key))


def test_a_run_waits_for_the_web_connector_and_gets_quickbooks_answer(desktop: Desktop):
    transport = WebConnectorTransport(desktop.queue, wait_s=10)
    document = invoice_document(desktop)
    results: list[RequestResult] = []
    writer = threading.Thread(target=lambda: results.append(
        parse_response(transport.process(document)).results[0]))
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
