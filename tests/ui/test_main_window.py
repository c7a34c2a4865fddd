"""The main window, clicked through: try the demo, sync with progress, failures, cancel."""

from __future__ import annotations

import dataclasses
import threading
from typing import ClassVar

from PySide6.QtCore import Qt

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.result import OrderOutcome, RunStatus, RunTrigger
from connex_desktop.quickbooks.auth import CLIENT_SECRET, REFRESH_TOKEN
from connex_desktop.sources.demo_store import DEFAULT_ORDER_COUNT, DemoSource
from connex_desktop.ui.application import Desktop
from connex_desktop.ui.sync_log import sentence
from tests.ui.test_sync_log import loaded

FINISH_TIMEOUT_MS = 60_000
LONG_PREFIX = "WEB-STORE-ORDER-"      # 16 characters: with a 6-digit order number, over 21


def sync(qtbot, desktop, start):
    """Run `start()` (which starts a sync) and return (connection id, result, request)."""
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert start() is None
    return done.args


def booked_numbers(app, run_id):
    return [order.order_number for order in app.runs.orders(run_id)
            if order.outcome is OrderOutcome.BOOKED]


def test_first_run_offers_the_demo_and_a_click_creates_it(qtbot, desktop):
    window = desktop.window
    assert window.pages.currentIndex() == 0
    assert not window.sync_action.isEnabled()
    qtbot.mouseClick(window.demo_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentIndex() == 1
    assert window.model.rowCount() == 1
    row = window.model.rows()[0]
    assert row.connection.name == "Demo store"
    assert window.selected_id() == row.connection.id
    assert window.model.index(0, 2).data() == row.connection.quickbooks.company_name
    assert window.model.index(0, 3).data() == "Invoices with payments"
    assert window.model.index(0, 5).data() == "Never"
    assert window.sync_action.isEnabled()


def test_sync_now_runs_to_the_end_with_progress_and_counts(qtbot, desktop):
    window = desktop.window
    connection = window.try_demo()
    progressed = []
    desktop.controller.run_progressed.connect(lambda _cid, progress: progressed.append(progress))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert window.sync_selected() is None
        assert not window.sync_action.isEnabled()
        assert window.cancel_action.isEnabled()
        assert window.model.index(0, 5).data().startswith("Syncing")
    connection_id, result, _request = done.args
    assert connection_id == connection.id
    assert result.status is RunStatus.SUCCEEDED, result.message
    assert result.synced > 0 and result.synced + result.skipped == result.fetched
    assert progressed and progressed[-1].fetched <= result.fetched
    summary = f"{result.synced} booked, {result.skipped} skipped"
    assert window.model.index(0, 5).data().endswith(summary)
    assert window.progress_label.text().endswith(summary)
    assert window.sync_action.isEnabled() and not window.cancel_action.isEnabled()
    # A second sync books nothing twice.
    _cid, again, _request = sync(qtbot, desktop, window.sync_selected)
    assert again.synced == 0


def test_failed_orders_show_their_reason_and_retry_books_them(qtbot, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    app.connections.update(dataclasses.replace(connection, prefix=LONG_PREFIX))
    _cid, result, _request = sync(qtbot, desktop, window.sync_selected)
    assert result.failed > 0 and result.synced == 0
    assert f"{result.failed} failed" in window.model.index(0, 5).data()

    log = loaded(qtbot, window.show_log_of_selected())
    order = log.selected_order()        # the first failed order is selected
    assert order is not None and order.outcome is OrderOutcome.FAILED
    assert order.order_number in {failure.order for failure in result.errors}
    assert "21" in order.message, order.message
    assert sentence(order.message) in log.detail.text()
    assert log.orders_model.index(log.orders_view.currentIndex().row(),
                                  log.orders_model.RESULT).data() == "Failed"
    assert log.retry_button.isEnabled()
    failed_before = app.runs.failed_order_numbers(connection.id)
    assert len(failed_before) == result.failed

    # The fix: let QuickBooks number the documents; then retry only the failed orders.
    app.connections.update(dataclasses.replace(app.connections.get_by_id(connection.id),
                                               use_qb_numbering=True))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        log.retry_button.click()
    _cid, retried, request = done.args
    assert request.retry_failed and request.trigger is RunTrigger.RETRY
    assert retried.failed == 0 and retried.synced == len(failed_before)
    assert app.runs.failed_order_numbers(connection.id) == []
    assert loaded(qtbot, log).runs_model.rowCount() == 2 and not log.retry_button.isEnabled()
    assert sorted(booked_numbers(app, retried.run_id)) == sorted(failed_before)


class BlockingDemoSource(DemoSource):
    """The demo store, holding its seventh order until the test lets it go."""

    kind: ClassVar[str] = "blocking-demo"
    reached: ClassVar[threading.Event] = threading.Event()
    release: ClassVar[threading.Event] = threading.Event()

    def fetch_orders(self, query, cancel):
        for index, order in enumerate(super().fetch_orders(query, cancel)):
            if index == 6:
                self.reached.set()
                assert self.release.wait(30)
            yield order


def test_cancel_stops_between_orders_and_the_next_sync_resumes(qtbot, desktop, monkeypatch):
    app, window = desktop.app, desktop.window
    BlockingDemoSource.reached.clear()
    BlockingDemoSource.release.clear()
    monkeypatch.setattr(app, "source_kinds", {**app.source_kinds,
                                              BlockingDemoSource.kind: BlockingDemoSource})
    make_engine = app.engine

    def small_windows():       # four orders per write window, sent as soon as planned, so
        engine = make_engine()  # some are booked before the cancel
        engine.window_orders = 4
        engine.fill_batches = False
        return engine

    monkeypatch.setattr(app, "engine", small_windows)
    connection = window.try_demo()
    app.connections.update(dataclasses.replace(connection, source_kind=BlockingDemoSource.kind))
    window.reload()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert window.sync_selected() is None
        try:
            assert BlockingDemoSource.reached.wait(30)
            qtbot.waitUntil(window.cancel_action.isEnabled)
            window.cancel_action.trigger()       # a direct call to the token, from the GUI thread
            assert "Cancelling" in window.progress_label.text()
        finally:
            BlockingDemoSource.release.set()     # also when the test fails: before teardown
    _cid, cancelled, _request = done.args
    assert cancelled.status is RunStatus.CANCELLED
    first = booked_numbers(app, cancelled.run_id)
    assert 0 < len(first) < 10
    assert "Cancelled" in window.model.index(0, 5).data()

    _cid, resumed, _request = sync(qtbot, desktop, window.sync_selected)
    assert resumed.status is RunStatus.SUCCEEDED
    second = booked_numbers(app, resumed.run_id)
    assert not set(first) & set(second), "an order was booked twice"
    assert len(first) + len(second) == 10        # the twelve demo orders less two cancelled


def test_preview_books_nothing_and_opens_the_log(qtbot, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    _cid, preview, request = sync(qtbot, desktop, window.preview_selected)
    assert request.dry_run and preview.dry_run
    log = loaded(qtbot, window._log_dialogs[connection.id])
    assert log.isVisible()
    run = log.selected_run()
    assert run.dry_run and log.runs_model.index(0, 1).data() == "Preview"
    outcomes = {order.outcome for order in app.runs.orders(run.id)}
    assert OrderOutcome.PLANNED in outcomes and OrderOutcome.BOOKED not in outcomes
    _cid, real, _request = sync(qtbot, desktop, window.sync_selected)
    assert real.synced == preview.synced      # the preview wrote nothing


def test_a_preview_does_not_hide_the_last_syncs_failures(qtbot, desktop):
    """The list, the status line and the tray say what the last real sync did: a preview after
    it (which books nothing) does not replace "3 failed" with "Preview: 0 to book"."""
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    app.connections.update(dataclasses.replace(connection, prefix=LONG_PREFIX))
    _cid, failed, _request = sync(qtbot, desktop, window.sync_selected)
    assert failed.failed > 0
    sync(qtbot, desktop, window.preview_selected)
    assert f"{failed.failed} failed" in window.model.index(0, window.model.LAST_SYNC).data()
    assert window.model.index(0, window.model.LAST_SYNC).data(
        Qt.ItemDataRole.ForegroundRole) is not None
    assert f"{failed.failed} failed" in window.status.label.text()
    assert f"{failed.failed} failed" in desktop.tray.status_line() or (
        desktop.tray.status_line().startswith("Needs attention"))
    window.table.clearSelection()
    window.select(connection.id)
    assert window.status.label.text().startswith("Last sync ")
    assert f"{failed.failed} failed" in window.status.label.text()


def test_sync_refused_says_why_next_to_the_progress(qtbot, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    app.connections.update(dataclasses.replace(
        connection, quickbooks=dataclasses.replace(connection.quickbooks, realm_id="")))
    window.reload()
    assert window.model.index(0, 2).data() == "Not connected"
    _cid, result, _request = sync(qtbot, desktop, window.sync_selected)
    assert result.status is RunStatus.FAILED and result.run_id is None
    assert window.progress_label.text() == f"Cannot sync: {result.message}"
    assert "connect" in result.message.lower()


def test_duplicate_and_remove(qtbot, desktop):
    app, window = desktop.app, desktop.window
    original = window.try_demo()
    copy = window.duplicate_selected()
    assert copy.name == "Demo store (copy)"
    assert copy.mode is original.mode and copy.source_settings == original.source_settings
    assert not copy.quickbooks.connected        # tokens rotate: the copy connects on its own
    # The demo signed in through its connect service, which keeps the client id and secret.
    assert copy.quickbooks.client_id == original.quickbooks.client_id == ""
    assert app.secrets.get(f"{quickbooks_key_prefix(copy.id)}/{CLIENT_SECRET}") is None
    assert app.secrets.get(f"{quickbooks_key_prefix(copy.id)}/{REFRESH_TOKEN}") is None
    assert window.model.rowCount() == 2 and window.selected_id() == copy.id
    assert window.remove_selected(confirm=False)
    assert [c.name for c in app.connections.list()] == ["Demo store"]
    assert app.secrets.get(f"{quickbooks_key_prefix(copy.id)}/{CLIENT_SECRET}") is None
    assert window.model.rowCount() == 1


def test_the_demo_says_its_failures_were_planted(qtbot, app):
    desktop = Desktop(app, tray=False, demo_orders=DEFAULT_ORDER_COUNT)   # with marketplace orders
    qtbot.addWidget(desktop.window)
    try:
        desktop.window.try_demo()
        _cid, result, _request = sync(qtbot, desktop, desktop.window.sync_selected)
        assert result.status is RunStatus.PARTIAL and result.failed == 3
        note = desktop.window.statusBar().currentMessage()
        assert note.startswith("3 orders failed on purpose, planted by the demo")
        assert "Ctrl+L" in note
        # Whole in the status bar of a window on an 800 × 600 screen (it ends there).
        assert desktop.window.statusBar().fontMetrics().horizontalAdvance(note) < 760
    finally:
        desktop.shutdown()
