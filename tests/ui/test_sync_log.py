"""The sync log: export to CSV, open a document in QuickBooks, the links per environment."""

from __future__ import annotations

import csv
import urllib.request
from decimal import Decimal

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.core.result import BookedDocument, DocumentKind, RunStatus, SyncResult
from connex_desktop.storage.repositories import OrderOutcome
from connex_desktop.storage.sync_log import CSV_COLUMNS
from connex_desktop.ui import sync_log
from connex_desktop.ui.sync_log import document_url

FINISH_TIMEOUT_MS = 60_000


def loaded(qtbot, log):
    """The log once its background reads are shown."""
    qtbot.waitUntil(lambda: not log.loading, timeout=FINISH_TIMEOUT_MS)
    return log


def synced_log(qtbot, desktop):
    desktop.window.try_demo()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.window.sync_selected()
    return loaded(qtbot, desktop.window.show_log_of_selected()), done.args[1]


def test_export_writes_every_document_with_its_amount(qtbot, desktop, tmp_path):
    log, result = synced_log(qtbot, desktop)
    path = tmp_path / "log.csv"
    lines = log.export_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == lines and tuple(rows[0]) == CSV_COLUMNS
    recorded = [doc for order in desktop.app.runs.orders(result.run_id) for doc in order.documents]
    exported = [row for row in rows if row["Document type"]]
    assert len(exported) == len(recorded)
    assert {(r["Order"], r["Document type"], r["Document number"], Decimal(r["Amount"]))
            for r in exported} == {(d.order, d.kind.label, d.doc_number, d.total)
                                   for d in recorded}
    skipped = [row for row in rows if row["Result"] == "Skipped"]
    assert len(skipped) == result.skipped and all(row["Reason"] for row in skipped)


def test_open_in_quickbooks_opens_the_selected_document(qtbot, desktop, monkeypatch):
    log, _result = synced_log(qtbot, desktop)
    opened = []
    monkeypatch.setattr(sync_log.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toString()) or True)
    assert log.orders.select(lambda order: order.outcome is OrderOutcome.BOOKED)
    assert log.open_button.isEnabled()
    assert "Invoice" in log.detail.text()
    url = log.open_selected_document()
    invoice = log.selected_order().documents[0]
    company = desktop.app.connections.list()[0].quickbooks
    assert opened == [url] == [
        f"{company.environment.rstrip('/')}/app/invoice?txnId={invoice.qb_id}"]
    # The demo's sandbox shows that invoice at that address, as QuickBooks Online would.
    with urllib.request.urlopen(url, timeout=10) as page:
        shown = page.read().decode()
    assert f"Invoice {invoice.doc_number}" in shown and f"{invoice.total}" in shown


def test_links_to_quickbooks_online_pages():
    invoice = BookedDocument("1001", DocumentKind.INVOICE, "130", "1001", Decimal("41.93"))
    payment = BookedDocument("1001", DocumentKind.PAYMENT, "77", "", Decimal("41.93"))
    production = QuickBooksCompany(environment="production", realm_id="1")
    sandbox = QuickBooksCompany(environment="sandbox", realm_id="1")
    assert document_url(production, invoice) == "https://app.qbo.intuit.com/app/invoice?txnId=130"
    assert document_url(production, payment) == \
        "https://app.qbo.intuit.com/app/recvpayment?txnId=77"
    assert document_url(sandbox, invoice) == \
        "https://app.sandbox.qbo.intuit.com/app/invoice?txnId=130"


def test_a_failure_shows_the_reason_with_the_service_detail_underneath(qtbot, desktop):
    app = desktop.app
    demo = desktop.window.try_demo()
    run_id = app.runs.start(demo.id, "manual")
    detail = ("Duplicate Document Number Error : You must specify a different number. "
              "DocNumber=1001 is assigned to TxnType=Invoice with TxnId=12")
    app.runs.record_order(run_id, "demo-1", "1001", OrderOutcome.FAILED,
                          "QuickBooks already has a document with this number.", detail,
                          "fix_data")
    app.runs.finish(run_id, SyncResult(demo.name, run_id, RunStatus.PARTIAL, fetched=1,
                                       failed=1))
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    assert log.selected_order().order_number == "1001"
    shown = log.detail.text()
    assert shown.index("QuickBooks already has a document") < shown.index(
        "DocNumber=1001 is assigned to TxnType=Invoice")
    assert log.orders_model.index(0, log.orders_model.REASON).data() == \
        "QuickBooks already has a document with this number."
    assert log.retry_button.isEnabled()


def test_export_writes_no_formula_a_store_sent(qtbot, desktop, tmp_path):
    log, result = synced_log(qtbot, desktop)
    desktop.app.runs.record_order(result.run_id, "hostile", "=HYPERLINK(\"http://x\")",
                                  OrderOutcome.FAILED, message="@SUM(A1)", detail="+1+1")
    path = tmp_path / "log.csv"
    log.export_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as file:
        hostile = next(row for row in csv.DictReader(file) if "HYPERLINK" in row["Order"])
    assert (hostile["Order"], hostile["Reason"], hostile["Details"]) == (
        "'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "'+1+1")
