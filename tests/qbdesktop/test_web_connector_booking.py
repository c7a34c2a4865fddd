"""Orders booked into a QuickBooks Desktop company through the app's Web Connector service."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from connex_desktop.core.errors import ErrorKind, OrderDataError
from connex_desktop.core.model import Address, Buyer, Order, OrderLine, Payment, PaymentStatus
from connex_desktop.core.modes import TransactionMode
from connex_desktop.qbdesktop.fake.connector import ConnectorStopped, ScriptedWebConnector
from connex_desktop.qbdesktop.qbxml import message_set, message_set_id
from connex_desktop.qbdesktop.requests import document_request
from connex_desktop.qbdesktop.responses import parse_response, result_error
from connex_desktop.sync.planner import CompanySetup, plan_order
from tests.qbdesktop.conftest import PASSWORD, USER, Desktop, connection, resolve

D = Decimal


def paid_order(number: str = "1001", *, paid: bool = True) -> Order:
    """A tent and two mugs, 1.00 off the mugs, shipping and tax: 318.00 - 1.00 + 7.95 + 21.47."""
    lines = (OrderLine("TENT-2P", "Tent 2P", D("1"), D("299.00")),
             OrderLine("MUG", "Mug", D("2"), D("9.50"), discount=D("1.00")))
    total = D("299.00") + D("19.00") - D("1.00") + D("7.95") + D("21.47")
    return Order(source="test", source_id=f"id-{number}", number=number,
                 order_date=date(2026, 11, 25), status="completed",
                 payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
                 currency="USD", buyer=Buyer(name="Jane Doe", email="jane@example.com"),
                 lines=lines, total=total, shipping=D("7.95"), tax=D("21.47"),
                 payments=(Payment(total, "Visa", "ch_1"),) if paid else (),
                 shipping_address=Address(line1="9 Elm St", city="Springfield", region="IL"))


def txns(desktop: Desktop, kind: str) -> list:
    return [txn for txn in desktop.company.txns.values() if txn.kind == kind]


def test_an_answer_lost_on_the_way_back_books_nothing_twice_when_the_connector_runs_again(
        desktop: Desktop):
    order = paid_order()
    plan = plan_order(order, connection(TransactionMode.INVOICES), desktop.references(),
                      CompanySetup())
    (invoice,) = plan.documents
    request = document_request(replace(invoice, body=resolve(invoice.body, {})), "1001", "1")
    processed = desktop.quickbooks.processed      # the lists read for the plan
    answer = desktop.queue.submit(message_set([request.element],
                                              new_id=message_set_id("1", "1001", "invoice")))
    desktop.connector.lose_answer_after = 0
    with pytest.raises(ConnectorStopped):
        desktop.connector.update()
    assert len(txns(desktop, "Invoice")) == 1 and not answer.done()

    desktop.connector.lose_answer_after = None
    report = desktop.connector.update()   # the Web Connector's next scheduled run

    assert report.progress == [100]
    (booked,) = txns(desktop, "Invoice")
    assert parse_response(answer.result(timeout=5)).results[0].value("TxnID") == booked.txn_id
    assert desktop.quickbooks.processed == processed + 1   # the invoice, run once


def test_an_app_killed_before_the_answer_sends_the_same_bytes_again_and_books_nothing_twice(
        desktop: Desktop):
    def invoice_message_set() -> str:   # built afresh, as after a restart, from the same order
        plan = plan_order(paid_order(), connection(TransactionMode.INVOICES),
                          desktop.references(), CompanySetup())
        request = document_request(replace(plan.documents[0],
                                            body=resolve(plan.documents[0].body, {})),
                                    "1001", "1", external_key="1/1001/invoice")
        return message_set([request.element], new_id=message_set_id("1", "1001", "invoice"))

    first = invoice_message_set()
    desktop.queue.submit(first)
    desktop.connector.lose_answer_after = 0
    with pytest.raises(ConnectorStopped):
        desktop.connector.update()
    desktop.queue.fail(OrderDataError("the app was killed"))   # its queue is gone with it
    desktop.connector.lose_answer_after = None

    again = invoice_message_set()
    result = desktop.send(again).results[0]

    assert again == first
    (booked,) = txns(desktop, "Invoice")
    assert result.value("TxnID") == booked.txn_id and booked.total == D("346.42")


def test_progress_is_reported_as_the_web_connector_pulls_the_requests(desktop: Desktop):
    answers = [desktop.queue.submit(message_set([])) for _ in range(4)]
    report = desktop.connector.update()
    assert report.progress == [25, 50, 75, 100]
    assert desktop.progress == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert all(answer.done() for answer in answers)


def test_nothing_waiting_ends_the_session_at_once(desktop: Desktop):
    assert desktop.connector.update().authenticated == "none"


def test_a_wrong_password_is_refused_books_nothing_and_is_never_logged(
        desktop: Desktop, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    desktop.queue.submit(message_set([]))
    intruder = ScriptedWebConnector(desktop.server.url, USER, "guess", desktop.quickbooks)
    stranger = ScriptedWebConnector(desktop.server.url, "admin", PASSWORD, desktop.quickbooks)

    assert intruder.update().authenticated == "nvu"
    assert stranger.update().authenticated == "nvu"
    assert len(desktop.queue) == 1
    assert "guess" not in caplog.text and PASSWORD not in caplog.text
    assert "wrong user name or password" in caplog.text


def test_a_document_quickbooks_refuses_fails_its_order_naming_the_field(desktop: Desktop):
    plan = plan_order(paid_order(), connection(TransactionMode.INVOICES), desktop.references(),
                      CompanySetup())
    invoice = plan.documents[0]
    body = resolve(invoice.body, {})
    body["Line"][0]["SalesItemLineDetail"]["ItemRef"] = {"name": "Tent 3P"}   # not in the file
    request = document_request(replace(invoice, body=body), "1001", "1")

    result = desktop.send(message_set([request.element])).results[0]
    error = result_error(result, order="1001", what="Invoice 1001")

    assert result.status_code == 3140 and not txns(desktop, "Invoice")
    assert error.kind is ErrorKind.FIX_DATA and error.field == "SKU"
    assert str(error).startswith("Order 1001: Invoice 1001 names something")
    assert "Tent 3P" in str(error)


def test_a_request_out_of_schema_order_is_refused_and_its_sender_hears_why(desktop: Desktop):
    bad = ('<?xml version="1.0" encoding="utf-8"?>\n<?qbxml version="13.0"?>\n<QBXML>'
           '<QBXMLMsgsRq onError="stopOnError"><SalesOrderAddRq><SalesOrderAdd>'
           "<RefNumber>1001</RefNumber><CustomerRef><FullName>Jane Doe</FullName></CustomerRef>"
           "<SalesOrderLineAdd><ItemRef><FullName>Mug</FullName></ItemRef></SalesOrderLineAdd>"
           "</SalesOrderAdd></SalesOrderAddRq></QBXMLMsgsRq></QBXML>")
    answer = desktop.queue.submit(bad)
    report = desktop.connector.update()

    assert report.progress == [-1] and "could not read" in report.last_error
    with pytest.raises(OrderDataError, match="could not read"):
        answer.result(timeout=5)
    assert not desktop.company.txns
