"""The Web Connector's callbacks at their edges, and the .qwc file the user adds."""

from __future__ import annotations

import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import pytest

from connex_desktop.core.errors import ErrorKind, RetryLaterError, SetupError
from connex_desktop.qbdesktop.qwc import connection_guid, qwc_file, qwc_settings
from connex_desktop.qbdesktop.responses import hresult_error
from connex_desktop.qbdesktop.soap import LOOPBACK
from tests.qbdesktop.conftest import PASSWORD, USER, Desktop


def test_the_service_listens_on_loopback_only(desktop: Desktop):
    assert desktop.server.url.startswith(f"http://{LOOPBACK}:")
    assert desktop.server.url.endswith("/qbwc")


def test_a_ticket_from_before_a_restart_ends_the_session_politely(desktop: Desktop):
    connector = desktop.connector
    desktop.queue.submit("<QBXML/>")
    assert connector.call_text("sendRequestXML", "old-ticket", "", "", "US", "13", "0") == ""
    assert "session has ended" in connector.call_text("getLastError", "old-ticket")
    assert connector.call_text("receiveResponseXML", "old-ticket", "<x/>", "", "") == "-1"
    assert len(desktop.queue) == 1, "nothing was taken off the queue"


def test_quickbooks_that_cannot_be_opened_is_explained(desktop: Desktop):
    desktop.queue.submit("<QBXML/>")
    connector = desktop.connector
    ticket, company_file = connector.call_list("authenticate", USER, PASSWORD)
    assert company_file == ""   # the company file open in QuickBooks
    answer = connector.call_text("connectionError", ticket, "0x80040408",
                                 "Could not start QuickBooks.")
    assert answer == "done"
    assert "open QuickBooks with the company file" in connector.call_text("getLastError", ticket)


def test_the_support_page_says_what_the_address_is(desktop: Desktop):
    with urllib.request.urlopen(f"http://{LOOPBACK}:{desktop.server.port}/", timeout=5) as page:
        assert b"Web Connector service" in page.read()


def test_a_quickbooks_too_old_for_qbxml_13_is_named_and_nothing_is_sent(desktop: Desktop):
    answers = [desktop.queue.submit("<QBXML/>") for _ in range(2)]
    connector = desktop.connector
    ticket, _ = connector.call_list("authenticate", USER, PASSWORD)

    sent = connector.call_text("sendRequestXML", ticket, "", "", "US", "8", "0")

    assert sent == ""
    assert "up to version 8.0" in connector.call_text("getLastError", ticket)
    for answer in answers:
        with pytest.raises(SetupError, match="QuickBooks 2014 or later"):
            answer.result(timeout=1)


def test_a_call_that_is_not_soap_gets_a_fault(desktop: Desktop):
    request = urllib.request.Request(desktop.server.url, b"not xml",
                                     {"Content-Type": "text/xml"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 500
    assert b"Not a Web Connector call" in raised.value.read()


@pytest.mark.parametrize(("hresult", "kind"), [
    ("0x80040416", ErrorKind.FIX_SETUP), ("0x80040420", ErrorKind.RECONNECT),
    ("0x80040400", ErrorKind.FIX_DATA), ("0x8004041A", ErrorKind.RETRY_LATER)])
def test_hresults_become_errors_the_user_can_act_on(hresult: str, kind: ErrorKind):
    error = hresult_error(hresult, "words")
    assert error.kind is kind and hresult.upper()[2:] in error.detail


def test_a_failed_request_reaches_its_sender(desktop: Desktop):
    answer = desktop.queue.submit("<QBXML/>")
    desktop.queue.fail(RetryLaterError("QuickBooks Desktop did not answer."))
    with pytest.raises(RetryLaterError):
        answer.result(timeout=1)


def test_the_qwc_file_points_at_the_service_and_keeps_its_ids_per_connection(desktop: Desktop):
    settings = qwc_settings("Connex Desktop - Shop", desktop.server.qwc_url, USER, "folder-ab12",
                            1, run_every_minutes=15)
    text = qwc_file(settings)
    root = ET.fromstring(text)

    assert root.tag == "QBWCXML"
    assert root.findtext("AppURL") == f"http://localhost:{desktop.server.port}/qbwc"
    assert root.findtext("AppSupport") == f"http://localhost:{desktop.server.port}/"
    assert root.findtext("UserName") == USER and root.findtext("QBType") == "QBFS"
    assert root.findtext("Scheduler/RunEveryNMinutes") == "15"
    assert root.findtext("OwnerID") == connection_guid("folder-ab12", 1, "owner")
    assert root.findtext("OwnerID") != root.findtext("FileID")
    assert qwc_file(qwc_settings("Connex Desktop - Shop", desktop.server.qwc_url, USER,
                                 "folder-ab12", 1, 15)) == text, "the same file every time"
    assert connection_guid("folder-ab12", 2, "owner") != root.findtext("OwnerID")
    assert PASSWORD not in text
    assert [child.tag for child in root][:9] == [
        "AppName", "AppID", "AppURL", "AppDescription", "AppSupport", "UserName", "OwnerID",
        "FileID", "QBType"]
