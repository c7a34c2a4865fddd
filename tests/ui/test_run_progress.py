"""The progress a running sync shows: a total that holds, its pauses counting down, an
estimate of the time left, and a cancel that says what it still finishes."""

from __future__ import annotations

import re
import threading

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.connection import Connection
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.progress import Progress, RunClock
from connex_desktop.core.result import OrderOutcome, RunStatus
from connex_desktop.quickbooks.auth import QuickBooksAuth
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.ui import main_window, text
from connex_desktop.ui.run_status import RunStatusRow
from connex_desktop.ui.worker import RunRequest, SyncWorker
from tests.ui.test_main_window import FINISH_TIMEOUT_MS

LIMIT_WAIT_S = 60     # what QuickBooks' client waits after a 429


def status_row(qtbot, now: list[float]) -> RunStatusRow:
    row = RunStatusRow(now=lambda: now[0])
    qtbot.addWidget(row)
    return row


def request(name: str = "Shop") -> RunRequest:
    return RunRequest(Connection(name=name, source_kind="csv", mode=TransactionMode.INVOICES))


def test_a_counted_run_shows_a_steady_total_and_an_uncounted_one_a_busy_bar(qtbot):
    row = status_row(qtbot, [0.0])
    row.show_progress(request(), Progress(fetched=120, booked=100, skipped=10, failed=2,
                                          total=300), RunClock(0.0))
    assert (row.bar.minimum(), row.bar.maximum(), row.bar.value()) == (0, 300, 112)
    assert row.bar.text() == "112 of 300 orders"
    # Orders fetched are not the total: the store has not said how many there are.
    row.show_progress(request(), Progress(fetched=120, booked=100, skipped=10, failed=2),
                      RunClock(0.0))
    assert (row.bar.minimum(), row.bar.maximum()) == (0, 0)
    assert row.label.text() == "Syncing Shop: 120 fetched · 100 booked · 10 skipped · 2 failed"


def test_the_time_left_is_estimated_once_enough_is_done(qtbot):
    now = [5.0]
    row = status_row(qtbot, now)
    clock = RunClock(0.0)
    row.show_progress(request(), Progress(fetched=120, booked=2, total=300), clock)
    assert "left" not in row.label.text()         # 2 of 300 in 5 s says little yet
    now[0] = 60.0
    row.show_progress(request(), Progress(fetched=120, booked=100, total=300), clock)
    assert row.label.text().endswith(" · about 2 min left")   # 100 a minute, 200 to go


def test_a_pause_counts_down(qtbot):
    now = [100.0]
    row = status_row(qtbot, now)
    clock = RunClock(90.0)
    paused = Progress(fetched=30, booked=12, pause_s=42, paused_for="QuickBooks' limit")
    clock.heard(paused, now[0])
    row.show_progress(request(), paused, clock)
    assert row.label.text() == "Syncing Shop: Waiting for QuickBooks' limit — resumes in 42 s"
    now[0] = 102.5
    row.tick()
    assert row.label.text() == "Syncing Shop: Waiting for QuickBooks' limit — resumes in 40 s"


def test_a_pause_or_a_cancel_is_never_thinned_out_with_the_counts(qtbot, app):
    worker = SyncWorker(app.engine(), request())
    emitted: list[Progress] = []
    worker.progressed.connect(emitted.append)
    limit = Progress(fetched=1, pause_s=LIMIT_WAIT_S, paused_for="QuickBooks' limit")
    for progress in (Progress(fetched=1), limit, Progress(fetched=2), Progress(fetched=3),
                     Progress(fetched=3, cancelling=True, partly_sent=37)):
        worker._on_progress(progress)    # all within a tenth of a second
    # The counts that follow the first are thinned out; the pause, its end and the cancel not.
    assert emitted == [Progress(fetched=1), limit, Progress(fetched=2),
                       Progress(fetched=3, cancelling=True, partly_sent=37)]


class HeldPause:
    """QuickBooks' client waiting out a limit, held until the test lets it go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.reached.set()
        assert self.release.wait(30)


def throttle_the_first_invoices(app, monkeypatch, pause: HeldPause) -> None:
    """The demo company answers the first batch of invoices 429; its client waits `pause`."""
    server = app._demo.server
    throttled = threading.Event()

    class Client(QuickBooksClient):
        def batch(self, operations, *, request_id):
            if not throttled.is_set() and any(op.entity == "Invoice" for op in operations):
                throttled.set()
                server.inject("429")
            return super().batch(operations, request_id=request_id)

    def client_for(connection: Connection, **_kwargs) -> QuickBooksClient:
        assert connection.id is not None
        auth = QuickBooksAuth(connection.quickbooks, app.secrets_for(connection),
                              quickbooks_key_prefix(connection.id))
        return Client(connection.quickbooks, auth, sleep=pause)

    monkeypatch.setattr(app, "quickbooks_client", client_for)


def resumes_in(window, words: str) -> int | None:
    """The seconds the window's pause line counts down from, if it shows one."""
    shown = re.fullmatch(rf"{re.escape(words)} (\d+) s", window.progress_label.text())
    return int(shown[1]) if shown else None


def test_a_wait_for_quickbooks_and_a_cancel_say_what_happens(qtbot, desktop, monkeypatch):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    pause = HeldPause()
    throttle_the_first_invoices(app, monkeypatch, pause)
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert window.sync_selected() is None
        try:
            assert pause.reached.wait(30)
            # The minute QuickBooks asks for is said, and counts down, in the window and the tray
            # (a busy machine may read it a tick late, or skip a number between two ticks).
            words = f"Syncing {connection.name}: Waiting for QuickBooks' limit — resumes in"
            qtbot.waitUntil(lambda: resumes_in(window, words) is not None)
            first = resumes_in(window, words)
            assert first is not None and LIMIT_WAIT_S - 5 < first <= LIMIT_WAIT_S
            qtbot.waitUntil(lambda: 0 < (resumes_in(window, words) or 0) < first)
            assert f"{connection.name}: Waiting for QuickBooks' limit" in desktop.tray.toolTip()
            # The invoices waiting are sent; a cancel finishes those orders, and starts none.
            sent = desktop.controller.progress(connection.id).partly_sent
            assert sent > 0
            # Quit asks first, and says what it will really do: what a cancel does.
            asked: list[str] = []
            monkeypatch.setattr(main_window, "confirmed",
                                lambda _parent, _title, question: asked.append(question) or False)
            assert window.quit_app() is False
            assert asked == [f"{connection.name} is syncing. Quit anyway?\n\nQuitting first "
                             f"finishes the {sent} orders already sent to QuickBooks, then stops "
                             "before any other; nothing is booked twice, and the next sync goes on "
                             "from there."]
            window.cancel_action.trigger()
            finishing = f"Cancelling — finishing {sent} orders already sent"
            assert window.progress_label.text() == finishing
            assert f"{connection.name}: {finishing}" in desktop.tray.toolTip()
            assert "Cancelling" in window.model.index(0, 5).data()
        finally:
            pause.release.set()    # also when the test fails: the sync ends before teardown
    _cid, result, _request = done.args
    assert result.status is RunStatus.CANCELLED
    assert pause.slept == [LIMIT_WAIT_S]
    booked = [order for order in app.runs.orders(result.run_id)
              if order.outcome is OrderOutcome.BOOKED]
    assert len(booked) == result.synced == sent
    # Those orders are booked whole (every document confirmed), and no other order at all.
    with app._demo.server.books() as company:
        assert len(company.all("Invoice")) == sent
    assert {ledger_row.state for ledger_row in app.ledger.rows_for_run(result.run_id)} == {
        LedgerState.CONFIRMED}


def test_quitting_says_it_stops_at_once_when_no_order_is_half_sent():
    assert text.quit_while_syncing_note(0).startswith(
        "Quitting stops the sync now: no order is half sent;")
    assert "finishes the 1 order already sent" in text.quit_while_syncing_note(1)


def test_counts_are_words_not_order_s():
    """ "Cancelling… 1 order to finish", never "1 order(s)"."""
    assert text.running_summary(Progress(cancelling=True, partly_sent=1)).startswith(
        "Cancelling… 1 order to finish")
    assert text.running_summary(Progress(cancelling=True, partly_sent=37)).startswith(
        "Cancelling… 37 orders to finish")
