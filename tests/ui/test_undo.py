"""The sync log's "Undo this run…": what will be deleted is shown first, the work runs in the
background, and the history then shows the run undone."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from PySide6.QtWidgets import QMessageBox

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.result import BookedDocument, DocumentKind, RunTrigger
from connex_desktop.core.undo_result import UndoDocument, UndoOutcome, UndoResult, UndoStatus
from connex_desktop.sources.demo_store import DemoSource
from connex_desktop.storage.repositories import RunRecord
from connex_desktop.sync.undo import RunUndoer
from connex_desktop.ui.sync_log import undo_question
from tests.ui.test_sync_log import FINISH_TIMEOUT_MS, loaded, synced_log

UNDO_TIMEOUT_MS = 30_000


def in_books(app, documents: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The demo company's documents (kind, Id) of the kinds in `documents`, as it holds them."""
    assert app._demo is not None
    with app._demo.server.books() as company:
        return {(kind, str(doc["Id"])) for kind in {kind for kind, _ in documents}
                for doc in company.all(kind)}


def test_undo_this_run_asks_first_then_deletes_in_the_background(qtbot, desktop, monkeypatch):
    log, result = synced_log(qtbot, desktop)
    app = desktop.app
    booked = {(doc.kind.value, doc.qb_id) for doc in result.documents}
    assert booked and booked <= in_books(app, booked)
    threads: list[bool] = []
    real_undo = RunUndoer.undo

    def undo_off_the_gui_thread(self, run_id, *, dry_run=False):
        threads.append(threading.current_thread() is threading.main_thread())
        return real_undo(self, run_id, dry_run=dry_run)

    monkeypatch.setattr(RunUndoer, "undo", undo_off_the_gui_thread)
    log.reload(select_run=result.run_id)
    assert loaded(qtbot, log).undo_button.isEnabled()

    # Cancelling the confirmation deletes nothing.
    log.undo_button.click()
    qtbot.waitUntil(lambda: log.undo_confirmation is not None, timeout=UNDO_TIMEOUT_MS)
    box = log.undo_confirmation
    assert f"Delete {len(booked)} documents" in box.text()
    listed = box.informativeText()
    assert "Invoice" in listed and "deleted, not voided" in listed
    assert len(box.detailedText().splitlines()) == len(booked)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert log.undo_confirmation is None
    assert booked <= in_books(app, booked)

    # Confirming deletes every document the run booked, away from the GUI thread. The run is
    # read again behind the question, its button enabled once that read is shown.
    assert loaded(qtbot, log).undo_button.isEnabled()
    log.undo_button.click()
    qtbot.waitUntil(lambda: log.undo_confirmation is not None, timeout=UNDO_TIMEOUT_MS)
    box = log.undo_confirmation
    confirm = next(button for button in box.buttons()
                   if box.buttonRole(button) is QMessageBox.ButtonRole.DestructiveRole)
    with qtbot.waitSignal(log.undo_finished, timeout=FINISH_TIMEOUT_MS) as finished:
        confirm.click()
    undone = finished.args[0]
    loaded(qtbot, log)
    assert undone is not None and undone.count(UndoOutcome.DELETED) == len(booked)
    assert threads == [False, False, False]
    assert not booked & in_books(app, booked)

    assert log.selected_run().id == result.run_id
    (selected,) = log.runs_view.selectionModel().selectedRows()
    assert log.runs_model.index(selected.row(), 2).data() == "Undone"
    assert "Undone on" in log.summary.text()
    assert not log.undo_button.isEnabled()
    assert "documents deleted" in log.undo_report.text()
    log.undo_report.close()

    # Each order the run booked now reads "Undone"; the others keep what they were.
    results = {row.order.order_number: row.cells[log.orders_model.RESULT]
               for row in log.orders_model.rows}
    booked_orders = {doc.order for doc in result.documents}
    assert booked_orders and {results[number] for number in booked_orders} == {"Undone"}
    assert "Booked" not in results.values()
    assert set(results.values()) - {"Undone"} <= {"Skipped", "Failed"}
    # Its documents are gone from QuickBooks: nothing offers to open them there.
    assert log.select_order(next(iter(booked_orders)))
    assert not log.open_button.isEnabled() and "<a href" not in log.detail.text()
    assert log.open_selected_document() is None
    menu = log.orders.order_menu(log.selected_order())
    assert not any(action.isEnabled() for action in menu.actions()
                   if action.text().startswith("Open"))

    # The window's list and the tray were refreshed: the last sync reads as undone.
    window = desktop.window
    row = window.model.row_of(window.selected_id())
    last_sync = window.model.index(row, window.model.LAST_SYNC).data()
    assert last_sync.endswith("(undone)")
    assert window.progress_label.text().endswith("(undone)")
    assert window.sync_action.isEnabled()
    assert desktop.tray.status_line().endswith("(undone)")


def test_undo_during_a_sync_of_the_connection_says_why_it_cannot_start(
        qtbot, desktop, monkeypatch):
    log, result = synced_log(qtbot, desktop)
    demo_id = desktop.app.runs.get(result.run_id).connection_id
    release = threading.Event()
    fetch_orders = DemoSource.fetch_orders

    def held_fetch(self, query, cancel):
        # The sync runs until the test lets it go, however long a busy machine makes the test
        # (a time limit here would end the sync early, and the undo would no longer be refused).
        release.wait()
        yield from fetch_orders(self, query, cancel)

    monkeypatch.setattr(DemoSource, "fetch_orders", held_fetch)
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert desktop.controller.start(demo_id) is None
        try:
            log.reload(select_run=result.run_id)
            assert not loaded(qtbot, log).undo_button.isEnabled()
            with qtbot.waitSignal(log.undo_finished) as refused:
                log.ask_undo()
            assert refused.args == [None]
            assert "A sync of this connection is running; undo the run once it has finished." \
                in log.summary.text()
        finally:
            release.set()     # also when the test fails: the sync then ends before teardown
    assert desktop.controller.running_ids() == []


def test_a_run_that_only_changed_documents_can_be_undone_by_changing_them_back(qtbot):
    run = RunRecord(id=7, connection_id=1, trigger=RunTrigger.MANUAL, dry_run=False,
                    status="succeeded", started_at=datetime.now(UTC), finished_at=None,
                    fetched=1, synced=1, skipped=0, failed=0, message="")
    preview = UndoResult("Shop", 7, UndoStatus.UNDONE, dry_run=True, documents=[UndoDocument(
        "PO-77", DocumentKind.PURCHASE_ORDER, "12", "PO-77", Decimal("201.00"),
        UndoOutcome.WOULD_REVERT)])
    box, confirm = undo_question(None, run, preview, QuickBooksProduct.ONLINE)
    qtbot.addWidget(box)
    assert confirm is not None and confirm.text() == "Change back"
    assert box.text().startswith("Change back 1 document the run of ")
    assert box.informativeText() == ("Changed back as they were before the run (1):\n"
                                     "• Purchase order PO-77 of order PO-77: 201.00")


def test_the_undo_question_names_a_document_as_the_sync_log_does(qtbot):
    """A payment has no number of its own: the log calls it "Payment 237", and so does the
    question before undoing its run (not "Payment (Id 237)")."""
    run = RunRecord(id=8, connection_id=1, trigger=RunTrigger.MANUAL, dry_run=False,
                    status="succeeded", started_at=datetime.now(UTC), finished_at=None,
                    fetched=1, synced=1, skipped=0, failed=0, message="")
    payment = BookedDocument("1001", DocumentKind.PAYMENT, "237", "", Decimal("36.00"))
    preview = UndoResult("Shop", 8, UndoStatus.UNDONE, dry_run=True, documents=[UndoDocument(
        "1001", DocumentKind.PAYMENT, "237", "", Decimal("36.00"), UndoOutcome.WOULD_DELETE)])
    box, _confirm = undo_question(None, run, preview, QuickBooksProduct.ONLINE)
    qtbot.addWidget(box)
    assert "• Payment 237 of order 1001: 36.00" in box.informativeText()
    assert box.detailedText() == "Would delete: Payment 237 of order 1001: 36.00"
    assert payment.name_in(QuickBooksProduct.ONLINE) == "Payment 237"   # the log's name
