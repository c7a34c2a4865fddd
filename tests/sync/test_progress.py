"""What a run reports as it goes: a total that holds still, its pauses, and a cancel that
finishes only the orders already sent."""

from __future__ import annotations

from decimal import Decimal

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.connection import Connection
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.progress import CancelToken, Progress
from connex_desktop.core.result import OrderOutcome, RunStatus
from connex_desktop.quickbooks.auth import QuickBooksAuth
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.sync.engine import Engine
from tests.sync.conftest import by_number, connect, docs, money_of, row, write_orders

QUICKBOOKS_THROTTLED_WAIT_S = 60.0   # "API call limits and throttles": wait a minute after 429


def paid_orders(count: int, prefix: str = "P") -> list[dict[str, str]]:
    return [row(f"{prefix}{n:03}", "MUG-ENM-12", "1", "18.00", payment_status="paid")
            for n in range(count)]


def test_a_store_that_counts_gives_a_total_that_holds_still(app):
    connection = app.start_demo(orders=150)
    engine = app.engine()
    engine.window_orders = 60
    seen: list[Progress] = []
    result = engine.run(connection, progress=seen.append)
    assert result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), result.message
    assert result.fetched == 150
    # The demo store says how many orders it holds before the first one arrives: every report
    # carries that total, while the orders fetched grow window by window.
    assert {snapshot.total for snapshot in seen} == {150}
    assert len({snapshot.fetched for snapshot in seen}) > 2
    assert seen[-1].done == 150


def test_a_store_that_cannot_count_has_no_total_until_every_page_is_in(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", paid_orders(150))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    engine = app.engine()
    engine.window_orders = 60
    seen: list[Progress] = []
    result = engine.run(connection, progress=seen.append)
    assert result.status is RunStatus.SUCCEEDED, result.errors[:3]
    # An order file is read as it goes: no total (a busy bar with counts) until its end.
    before_the_end = [snapshot for snapshot in seen if snapshot.fetched < 150]
    assert before_the_end and all(snapshot.total is None for snapshot in before_the_end)
    assert {snapshot.total for snapshot in seen} - {None} == {150}
    assert seen[-1].total == seen[-1].done == 150


def test_a_wait_for_quickbooks_limit_is_reported_with_its_seconds(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", paid_orders(3))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    slept: list[float] = []

    def client_for(connection: Connection) -> QuickBooksClient:
        assert connection.id is not None
        auth = QuickBooksAuth(connection.quickbooks, app.secrets_for(connection),
                              quickbooks_key_prefix(connection.id))
        return QuickBooksClient(connection.quickbooks, auth, sleep=slept.append)

    engine = Engine(runs=app.runs, ledger=app.ledger, cursors=app.cursors,
                    connections=app.connections, secrets=app.secrets,
                    source_for=app.source_for, client_for=client_for,
                    source_kinds=app.source_kinds)
    seen: list[Progress] = []
    sandbox.inject("429")
    result = engine.run(connection, progress=seen.append)
    assert result.status is RunStatus.SUCCEEDED, result.message
    assert slept == [QUICKBOOKS_THROTTLED_WAIT_S]
    pauses = [(snapshot.pause_s, snapshot.paused_for) for snapshot in seen]
    begun = pauses.index((QUICKBOOKS_THROTTLED_WAIT_S, "QuickBooks' limit"))
    # ... and its end, before the orders are booked.
    assert (0.0, "") in pauses[begun:]
    assert seen[-1].pause_s == 0 and seen[-1].booked == 3


def test_cancel_finishes_the_orders_already_sent_and_starts_no_other(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", paid_orders(45))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    engine = app.engine()
    engine.window_orders = 45
    cancel = CancelToken()
    seen: list[Progress] = []

    def progress(snapshot: Progress) -> None:
        seen.append(snapshot)
        if snapshot.partly_sent and not cancel.cancelled:
            cancel.cancel()       # the first invoices are on their way

    result = engine.run(connection, progress=progress, cancel=cancel)
    assert result.status is RunStatus.CANCELLED
    cancelling = next(snapshot for snapshot in seen if snapshot.cancelling)
    sent = cancelling.partly_sent
    # Batches of 30 go out: the first holds the customers, the next the rest of them and the
    # first invoices, so some of the 45 orders were sent and the others not begun.
    assert 0 < sent < 45
    assert result.synced == sent and result.failed == 0
    booked = [order for order in app.runs.orders(result.run_id)
              if order.outcome is OrderOutcome.BOOKED]
    assert len(booked) == len(app.runs.orders(result.run_id)) == sent
    # Each order sent has its invoice and its payment: none is left half booked ...
    invoices = by_number(sandbox, "Invoice")
    assert sorted(invoices) == sorted(order.order_number for order in booked)
    assert all(money_of(invoice["Balance"]) == Decimal("0") for invoice in invoices.values())
    assert len(docs(sandbox, "Payment")) == sent
    assert {ledger_row.state for ledger_row in app.ledger.rows_for_run(result.run_id)} == {
        LedgerState.CONFIRMED}
    # ... and the window said so while it finished them, down to none.
    assert seen[-1].cancelling and seen[-1].partly_sent == 0
    resumed = app.engine().run(connection)
    assert resumed.status is RunStatus.SUCCEEDED
    assert (resumed.synced, resumed.skipped) == (45 - sent, sent)
    assert len(by_number(sandbox, "Invoice")) == len(docs(sandbox, "Payment")) == 45
