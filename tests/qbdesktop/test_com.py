"""QuickBooks Desktop on this computer: the COM request processor (a fake COM object here), the
32-bit helper process over its pipe, and the connection test."""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from decimal import Decimal

import pytest

from connex_desktop.core.errors import (
    ConnexError,
    OrderDataError,
    ReconnectError,
    RetryLaterError,
    SetupError,
)
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.qbdesktop.com import (
    APP_NAME,
    ComRequestProcessor,
    FileMode,
    com_failure,
    direct_transport_unavailable,
)
from connex_desktop.qbdesktop.com_helper import (
    HELPER_EXE,
    HelperRequestProcessor,
    check_this_computer,
    direct_processor,
)
from connex_desktop.qbdesktop.company_check import check_connection
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.qbxml import message_set
from connex_desktop.qbdesktop.requests import query_request
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.fake_com import COMPANY_FILE, FakeComError, FakeRequestProcessor
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import desktop_connection, sync
from tests.sync.conftest import row, write_orders

OTHER_FILE = r"C:\Users\Public\Documents\Intuit\QuickBooks\Company Files\Other.qbw"


def quickbooks_on_this_pc(**state: object) -> FakeRequestProcessor:
    company = seeded_company()
    company.name = "Trailhead Outfitters"
    return FakeRequestProcessor(FakeQuickBooks(company, validator=schema_errors),
                                **state)  # type: ignore[arg-type]


def processor_for(fake: FakeRequestProcessor, company_file: str = "",
                  **options: object) -> ComRequestProcessor:
    return ComRequestProcessor(company_file, open_com=fake.opener, **options)  # type: ignore[arg-type]


def test_the_connection_test_names_the_company_and_the_quickbooks():
    fake = quickbooks_on_this_pc()
    processor = processor_for(fake)
    company = check_connection(processor)
    assert (company.name, company.product, company.country) == (
        "Trailhead Outfitters", "QuickBooks Premier Edition 2024", "US")
    assert company.describe() == "Trailhead Outfitters (QuickBooks Premier Edition 2024, US)"


def test_the_connection_test_sends_a_request_the_schema_accepts():
    sent: list[str] = []

    class Recording:
        def process(self, request: str) -> str:
            sent.append(request)
            return quickbooks_on_this_pc().quickbooks.process(request)

    check_connection(Recording())
    assert len(sent) == 1 and schema_errors(sent[0]) == ""
    assert "<HostQueryRq" in sent[0] and "<CompanyQueryRq" in sent[0]


def test_a_run_keeps_one_session_and_close_ends_it():
    fake = quickbooks_on_this_pc()
    processor = processor_for(fake, COMPANY_FILE)
    check_connection(processor)
    processor.process(message_set([query_request("Customer", "1")]))
    assert fake.calls == [f"OpenConnection2 {APP_NAME}",
                          f"BeginSession {COMPANY_FILE} DO_NOT_CARE",
                          "ProcessRequest", "ProcessRequest"]
    processor.close()
    assert fake.calls[-2:] == ["EndSession", "CloseConnection"] and not fake.sessions
    processor.close()      # closing twice is harmless
    assert fake.calls.count("CloseConnection") == 1


def test_quickbooks_closing_as_it_books_loses_the_answer_and_the_next_sync_books_nothing_twice(
        app, quickbooks, tmp_path):
    fake = FakeRequestProcessor(quickbooks, lose_answer_to="<SalesReceiptAdd>")
    app.desktop_processor_for = lambda connection: processor_for(fake)
    orders = [row("1001", "MUG", "2", "9.50", customer_name="Jane Doe",
                  customer_email="jane@example.com", payment_status="paid",
                  amount_paid="19.00")]
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", orders),
                              TransactionMode.SALES_RECEIPTS)
    closed = app.engine().run(shop)
    assert closed.status is RunStatus.FAILED and "could not be reached" in closed.message

    fake.running = True      # the user opens QuickBooks again
    sync(app, shop)
    sync(app, shop)
    receipts = [txn for txn in quickbooks.company.txns.values() if txn.kind == "SalesReceipt"]
    assert [(txn.ref_number, txn.total) for txn in receipts] == [("1001", Decimal("19.00"))]


@pytest.mark.parametrize(("state", "company_file", "options", "error", "words"), [
    ({"running": False}, "", {}, SetupError, "QuickBooks Desktop is not running"),
    ({"running": False}, COMPANY_FILE, {}, SetupError, "could not open the company file"),
    ({"open_file": ""}, "", {}, SetupError, "has no company file open"),
    ({"single_user_elsewhere": True}, "", {}, SetupError, "open in another mode"),
    ({"open_mode": FileMode.MULTI_USER}, COMPANY_FILE, {"open_mode": FileMode.SINGLE_USER},
     SetupError, "open in another mode"),
    ({}, OTHER_FILE, {}, SetupError, "another company file is open"),
    ({"refuses_app": True}, "", {}, ReconnectError, "Integrated Applications"),
])
def test_quickbooks_refusing_the_session_says_what_to_do(
        state: dict[str, object], company_file: str, options: dict[str, object],
        error: type[ConnexError], words: str):
    fake = quickbooks_on_this_pc(**state)
    processor = processor_for(fake, company_file, **options)
    with pytest.raises(error) as raised:
        check_connection(processor)
    assert words in raised.value.message and "HRESULT 0x8004" in raised.value.detail
    assert fake.calls[-1] == "CloseConnection" and not fake.sessions    # nothing left open
    assert "ProcessRequest" not in fake.calls


def test_quickbooks_closed_opens_the_file_itself_when_allowed_unattended():
    fake = quickbooks_on_this_pc(running=False, unattended=True)
    assert check_connection(processor_for(fake, COMPANY_FILE)).name == "Trailhead Outfitters"


def test_a_request_quickbooks_cannot_read_fails_alone_and_the_session_goes_on():
    fake = quickbooks_on_this_pc()
    processor = processor_for(fake)
    bad = message_set([ET.Element("NotARequestRq", requestID="1")])
    with pytest.raises(OrderDataError) as raised:
        processor.process(bad)
    assert "could not read a request" in raised.value.message
    assert check_connection(processor).name == "Trailhead Outfitters"
    assert fake.calls.count("BeginSession (open file) DO_NOT_CARE") == 1


def test_quickbooks_closed_mid_run_ends_the_session_and_the_next_document_starts_anew():
    fake = quickbooks_on_this_pc()
    processor = processor_for(fake)
    check_connection(processor)
    fake.running = False
    with pytest.raises(SetupError):
        check_connection(processor)
    fake.running = True
    assert check_connection(processor).name == "Trailhead Outfitters"
    assert sum(call.startswith("BeginSession") for call in fake.calls) == 2


def test_com_errors_are_read_as_pywin32_raises_them():
    assert com_failure(FakeComError(0x80040416, "words")) == (0x80040416, "words")
    class_not_registered = Exception(-2147221164, "Class not registered", None, None)
    assert com_failure(class_not_registered) == (0x80040154, "Class not registered")
    assert com_failure(ValueError("not COM")) is None


def test_a_missing_request_processor_points_at_the_helper_and_the_web_connector():
    def not_installed():
        raise Exception(-2147221164, "Class not registered", None, None)

    with pytest.raises(SetupError) as raised:
        ComRequestProcessor(open_com=not_installed).process("<QBXML/>")
    assert "32-bit QuickBooks helper" in raised.value.message
    assert "Web Connector" in raised.value.message


@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_direct_transport_is_windows_only(monkeypatch, platform: str):
    monkeypatch.setattr(sys, "platform", platform)
    assert "only on Windows" in direct_transport_unavailable()
    assert "Web Connector" in direct_transport_unavailable()
    monkeypatch.setattr(sys, "platform", "win32")
    assert direct_transport_unavailable() == ""


# ── the 32-bit helper, run as a process with the fake COM object in it ───────────────────────

@pytest.fixture
def helper_state() -> dict[str, object]:
    return {}


@pytest.fixture
def helper(helper_state: dict[str, object]) -> Iterator[HelperRequestProcessor]:
    command = [sys.executable, "-m", "tests.qbdesktop.fake_com_helper",
               json.dumps(helper_state)]
    processor = HelperRequestProcessor(COMPANY_FILE, command=command)
    yield processor
    processor.close()


def test_the_helper_answers_as_the_processor_in_the_app_does(helper: HelperRequestProcessor):
    assert check_connection(helper).name == "Trailhead Outfitters"
    answer = helper.process(message_set([query_request("Customer", "1")]))
    assert 'statusCode="1"' in answer     # the fake company has no customers yet
    process = helper._helper
    helper.close()
    assert process is not None and process.wait(timeout=10) == 0


@pytest.mark.parametrize("helper_state", [{"refuses_app": True}])
def test_the_helper_passes_quickbooks_refusal_on(helper: HelperRequestProcessor):
    with pytest.raises(ReconnectError) as raised:
        check_connection(helper)
    assert "Integrated Applications" in raised.value.message
    assert "0x80040420" in raised.value.detail


@pytest.mark.parametrize("helper_state", [{"dies_after": 2}])
def test_a_helper_that_dies_answering_is_reported_then_started_again(
        helper: HelperRequestProcessor):
    check_connection(helper)
    with pytest.raises(RetryLaterError) as raised:
        check_connection(helper)
    assert "helper stopped" in raised.value.message
    assert check_connection(helper).name == "Trailhead Outfitters"


def test_a_helper_gone_while_idle_is_started_again_for_the_next_document(
        helper: HelperRequestProcessor):
    check_connection(helper)
    assert helper._helper is not None
    helper._helper.kill()
    helper._helper.wait()
    assert check_connection(helper).name == "Trailhead Outfitters"


def test_a_helper_that_cannot_start_says_so():
    processor = HelperRequestProcessor(command=["/nonexistent/connex-qb32-helper.exe"])
    with pytest.raises(SetupError) as raised:
        processor.process(message_set([query_request("Customer", "1")]))
    assert "could not be started" in raised.value.message


def test_the_helper_writes_its_complaints_beside_the_pipe():
    command = [sys.executable, "-c", "import sys; sys.stderr.write('no COM here'); sys.exit(3)"]
    processor = HelperRequestProcessor(command=command)
    with pytest.raises(RetryLaterError) as raised:
        processor.process(message_set([query_request("Customer", "1")]))
    assert "no COM here" in raised.value.detail



def test_this_computer_goes_through_the_helper_when_it_is_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "executable", str(tmp_path / "Connex Desktop.exe"))
    assert isinstance(direct_processor(COMPANY_FILE), ComRequestProcessor)
    (tmp_path / HELPER_EXE).write_bytes(b"")
    helper = direct_processor(COMPANY_FILE)
    assert isinstance(helper, HelperRequestProcessor)
    assert helper.command == [str(tmp_path / HELPER_EXE)]
    assert helper.company_file == COMPANY_FILE


def test_this_computer_cannot_be_tested_off_windows(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(SetupError) as raised:
        check_this_computer(COMPANY_FILE)
    assert "only on Windows" in raised.value.message
