"""The sync log: reading off the GUI thread, filters, search, sort, export, Open in QuickBooks."""

from __future__ import annotations

import csv
import threading
import urllib.request
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QPoint, QStandardPaths, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from connex_desktop.core.connection import QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.result import (
    BookedDocument,
    DocumentKind,
    OrderOutcome,
    QuickBooksUsage,
    RunStatus,
    SyncResult,
)
from connex_desktop.storage.repositories import RunRepository
from connex_desktop.storage.sync_log import CSV_COLUMNS
from connex_desktop.sync.engine import CURSOR_NAME
from connex_desktop.ui import opening, sync_log
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
    online = QuickBooksProduct.ONLINE
    assert {(r["Order"], r["Document type"], r["Document number"], Decimal(r["Amount"]))
            for r in exported} == {(d.order, d.kind.label_in(online), d.doc_number, d.total)
                                   for d in recorded}
    skipped = [row for row in rows if row["Result"] == "Skipped"]
    assert len(skipped) == result.skipped and all(row["Reason"] for row in skipped)


def test_open_in_quickbooks_opens_the_selected_document(qtbot, desktop, monkeypatch):
    log, _result = synced_log(qtbot, desktop)
    opened = []
    monkeypatch.setattr(opening.QDesktopServices, "openUrl",
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


def record_run(app, connection_id, orders, *, dry_run=False):
    """A finished run of `orders` orders, recorded as the engine records them: every fifth
    failed, every seventh skipped as cancelled, the rest booked as an invoice."""
    run_id = app.runs.start(connection_id, "manual", dry_run=dry_run)
    for n in range(orders):
        number = str(100_000 + n)
        if n % 5 == 4:
            app.runs.record_order(run_id, f"id-{n}", number, OrderOutcome.FAILED,
                                  "The SKU 'X-1' is not an item in QuickBooks.",
                                  customer=f"Buyer {n}")
        elif n % 7 == 6:
            app.runs.record_order(run_id, f"id-{n}", number, OrderOutcome.SKIPPED,
                                  "Skipped: the order is cancelled and was never booked, so "
                                  "there is nothing to book.", customer=f"Buyer {n}")
        else:
            app.runs.record_order(run_id, f"id-{n}", number, OrderOutcome.BOOKED, documents=[
                BookedDocument(number, DocumentKind.INVOICE, str(n + 1), number,
                               Decimal("41.93"))], customer=f"Buyer {n}")
    app.runs.finish(run_id, SyncResult("Shop", run_id, RunStatus.PARTIAL, fetched=orders))
    return run_id


def test_a_long_run_is_read_off_the_gui_thread_and_shown_a_page_at_a_time(
        qtbot, desktop, monkeypatch):
    app = desktop.app
    demo = desktop.window.try_demo()
    record_run(app, demo.id, 3_000)
    readers = []
    real_orders = RunRepository.orders

    def orders(self, run_id):
        readers.append(threading.current_thread() is threading.main_thread())
        return real_orders(self, run_id)

    monkeypatch.setattr(RunRepository, "orders", orders)
    log = desktop.window.show_log(demo.id)
    assert log.loading and "reading its orders" not in log.summary.text()
    loaded(qtbot, log)
    assert readers == [False], "the run's orders were read on the GUI thread"
    model = log.orders_model
    assert model.rowCount() == sync_log.ORDERS_PAGE and model.canFetchMore()
    assert len(model.rows) == 3_000
    log.orders_view.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() > sync_log.ORDERS_PAGE)
    # Asking for an order further down fetches as far as it.
    assert log.select_order("102999")
    assert log.selected_order().customer == "Buyer 2999"


def test_the_log_filters_by_what_became_of_each_order_and_searches_by_customer(
        qtbot, desktop):
    first_log, first = synced_log(qtbot, desktop)
    # The store sends every order again (as after a lost bookmark): all are booked already.
    desktop.app.cursors.delete(desktop.app.runs.get(first.run_id).connection_id, CURSOR_NAME)
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.window.sync_selected()
    second = done.args[1]
    log = loaded(qtbot, first_log)
    assert log.selected_run().id == second.run_id
    offered = [log.orders.filter_combo.itemText(i) for i in range(log.orders.filter_combo.count())]
    cancelled = [order for order in desktop.app.runs.orders(second.run_id)
                 if "never booked" in order.message]
    already = second.skipped - len(cancelled)
    assert cancelled and already > 0
    assert offered == [f"All orders ({second.fetched})", f"Already booked ({already})",
                       f"Skipped: cancelled or refunded ({len(cancelled)})"]
    assert f"{already} already booked, {len(cancelled)} skipped: cancelled or refunded" \
        in log.summary.text()

    log.orders.filter_combo.setCurrentIndex(2)
    model = log.orders_model
    assert {model.index(row, model.ORDER).data() for row in range(model.rowCount())} == \
        {order.order_number for order in cancelled}

    log.orders.filter_combo.setCurrentIndex(0)
    customer = cancelled[0].customer
    assert customer
    log.orders.search_edit.setText(customer.split()[0].lower())
    found = {model.index(row, model.CUSTOMER).data() for row in range(model.rowCount())}
    assert customer in found and all(customer.split()[0] in name for name in found)


def test_the_log_sorts_by_a_column_when_its_header_is_clicked(qtbot, desktop):
    app = desktop.app
    demo = desktop.window.try_demo()
    record_run(app, demo.id, 30)
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    model = log.orders_model

    def column(number):
        return [model.index(row, number).data() for row in range(model.rowCount())]

    assert column(model.ORDER) == [str(100_000 + n) for n in range(30)]   # as recorded
    assert log.select_order("100013")
    header = log.orders_view.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(model.RESULT) + 5, 5))
    results = column(model.RESULT)
    assert results == sorted(results) and results[0] == "Booked" and results[-1] == "Skipped"
    assert log.selected_order().order_number == "100013"     # the selection stays put
    assert "Order 100013" in log.detail.text()
    log.orders_view.sortByColumn(model.ORDER, Qt.SortOrder.DescendingOrder)
    assert column(model.ORDER)[:2] == ["100029", "100028"]


def test_a_preview_reads_as_a_preview_even_when_orders_would_fail(qtbot, desktop):
    app = desktop.app
    demo = desktop.window.try_demo()
    record_run(app, demo.id, 10, dry_run=True)
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    assert log.runs_model.index(0, 2).data() == "Preview: some orders would fail"
    assert "Some orders failed" not in log.runs_model.index(0, 2).data()


def test_export_suggests_the_documents_folder_and_says_where_it_wrote(
        qtbot, desktop, monkeypatch, tmp_path):
    log, _result = synced_log(qtbot, desktop)
    suggested = []
    target = tmp_path / "exported.csv"

    def save_as(_parent, _caption, path, _filter):
        suggested.append(path)
        return str(target), _filter

    monkeypatch.setattr(sync_log.QFileDialog, "getSaveFileName", save_as)
    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setattr(sync_log.QStandardPaths, "writableLocation", lambda location: str(
        documents) if location == QStandardPaths.StandardLocation.DocumentsLocation else "")
    with qtbot.waitSignal(log.exported, timeout=FINISH_TIMEOUT_MS) as done:
        log.export_button.click()
    assert suggested == [str(documents / "Demo store sync log.csv")]
    assert str(target) in done.args[0] and str(target) in log.export_report.text()
    assert target.read_text(encoding="utf-8-sig").startswith(",".join(CSV_COLUMNS))


def test_export_suggests_the_home_folder_where_there_is_no_documents_folder(
        qtbot, desktop, monkeypatch, tmp_path):
    """A fresh Linux account may have no ~/Documents: the dialog then opened wherever the app
    was started from (the bundle's folder, or /)."""
    log, _result = synced_log(qtbot, desktop)
    monkeypatch.setattr(sync_log.QStandardPaths, "writableLocation",
                        lambda _location: str(tmp_path / "Documents"))
    suggested = []
    monkeypatch.setattr(sync_log.QFileDialog, "getSaveFileName",
                        lambda _parent, _caption, path, _filter: suggested.append(path) or ("", ""))
    log.export_button.click()
    assert suggested == [str(Path.home() / "Demo store sync log.csv")]


def test_tab_moves_through_the_log_rather_than_across_a_tables_cells(qtbot, desktop):
    """From the runs, Tab reaches the orders, the search and the buttons (it went from cell to
    cell of the runs table, and never left it)."""
    log, _result = synced_log(qtbot, desktop)
    log.show()
    log.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is log)
    log.runs_view.setFocus()
    reached = set()
    for _press in range(12):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.add(QApplication.focusWidget())
    assert {log.orders_view, log.orders.search_edit, log.export_button} <= reached


def test_with_no_browser_open_in_quickbooks_says_where_the_document_is(qtbot, desktop,
                                                                       monkeypatch):
    """No browser set up (Qt only logs "Unable to detect a web browser"): the log shows the
    document's address to open by hand, rather than do nothing."""
    log, _result = synced_log(qtbot, desktop)
    monkeypatch.setattr(opening.QDesktopServices, "openUrl", lambda url: False)
    assert log.orders.select(lambda order: order.outcome is OrderOutcome.BOOKED)
    url = log.open_selected_document()
    [told] = [box for box in log.findChildren(QMessageBox) if box.isVisible()]
    assert url in told.text() and "No program on this computer opened" in told.text()
    told.close()


def test_a_row_menu_opens_each_document_retries_and_copies_the_reason(
        qtbot, desktop, monkeypatch):
    app = desktop.app
    demo = desktop.window.try_demo()
    record_run(app, demo.id, 10)
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    opened = []
    monkeypatch.setattr(opening.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toString()) or True)
    assert log.select_order("100000")
    menu = log.orders.order_menu(log.selected_order())
    actions = {action.text(): action for action in menu.actions()}
    actions["Open Invoice 100000 in QuickBooks"].trigger()
    assert opened == [document_url(app.connections.get_by_id(demo.id).quickbooks,
                                   log.selected_order().documents[0])]
    assert not actions["Retry failed orders"].isEnabled()     # this one did not fail
    # Its details link to each document; Enter on the row opens the first.
    assert f"<a href='{opened[0]}'>Invoice 100000</a>" in log.detail.text()
    log.show()
    log.orders_view.setFocus()
    retried = []
    log.retry_requested.connect(retried.append)
    qtbot.keyClick(log.orders_view, Qt.Key.Key_Return)
    assert opened == [opened[0]] * 2 and log.isVisible() and not retried

    assert log.select_order("100004")
    menu = log.orders.order_menu(log.selected_order())
    actions = {action.text(): action for action in menu.actions()}
    actions["Copy the reason"].trigger()
    assert QGuiApplication.clipboard().text() == "The SKU 'X-1' is not an item in QuickBooks."
    with qtbot.waitSignal(log.retry_requested) as retry:
        actions["Retry failed orders"].trigger()
    assert retry.args == [demo.id]

    # Right-clicking a row (or the menu key, on the current row) opens that row's menu.
    view = log.orders_view
    view.customContextMenuRequested.emit(view.visualRect(log.orders_model.index(2, 0)).center())
    assert log.selected_order().order_number == "100002"
    assert "Open Invoice 100002 in QuickBooks" in [a.text() for a in log.orders.menu.actions()]
    log.orders.menu.close()
    log.orders.menu = None
    view.customContextMenuRequested.emit(QPoint(-5, -5))      # off the rows: the current one
    assert "Open Invoice 100002 in QuickBooks" in [a.text() for a in log.orders.menu.actions()]
    log.orders.menu.close()


def test_ctrl_f_goes_to_the_search(qtbot, desktop):
    demo = desktop.window.try_demo()
    record_run(desktop.app, demo.id, 10)
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    log.activateWindow()
    qtbot.waitUntil(log.isActiveWindow)
    log.orders_view.setFocus()
    qtbot.keyClick(log.orders_view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert log.orders.search_edit.hasFocus()


def test_the_run_summary_says_what_the_run_asked_of_quickbooks(qtbot, desktop):
    log, result = synced_log(qtbot, desktop)
    usage = result.quickbooks
    assert usage.reads > 0 and usage.writes > 0 and usage.requests > 0
    assert (f"QuickBooks: {usage.reads} reads, {usage.writes} writes in {usage.requests} "
            "requests") in log.summary.text()


def test_the_run_summary_counts_each_kind_of_outcome_once(qtbot, desktop):
    """What the orders became, once: it read "3 booked — 3 booked", or "267 booked, 30 skipped,
    3 failed — 3 failed, 267 booked, 30 skipped: cancelled or refunded"."""
    log, result = synced_log(qtbot, desktop)
    summary = log.summary.text().split("</b>: ")[1].split(" · QuickBooks")[0]
    assert summary.count("booked") == 1 and summary.startswith(f"{result.synced} booked")


def test_a_run_from_before_reads_were_counted_shows_no_quickbooks_figures(qtbot, desktop):
    app = desktop.app
    demo = desktop.window.try_demo()
    uncounted = record_run(app, demo.id, 3)
    app.database.execute("UPDATE runs SET qb_reads = NULL, qb_writes = NULL, qb_requests = NULL"
                         " WHERE id = ?", (uncounted,))
    counted = app.runs.start(demo.id, "manual")
    app.runs.finish(counted, SyncResult("Shop", counted, RunStatus.SUCCEEDED,
                                        quickbooks=QuickBooksUsage(1, 12, 4)))
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    assert log.selected_run().id == counted
    assert "QuickBooks: 1 read, 12 writes in 4 requests" in log.summary.text()
    log.reload(select_run=uncounted)
    qtbot.waitUntil(lambda: log.selected_run().id == uncounted and not log.loading
                    and "reading its orders" not in log.summary.text())
    assert log.summary.text().endswith(": 3 booked")     # nothing about QuickBooks
