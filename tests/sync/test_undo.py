"""Undo of a sync run against the sandbox company: what it deletes, keeps, and finishes later."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connex_desktop.core.errors import ErrorKind, SetupError
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind, RunStatus
from connex_desktop.core.undo_result import UndoOutcome, UndoStatus
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.ledger import Intent
from connex_desktop.sync import undo as undo_module
from connex_desktop.sync.engine import CURSOR_NAME
from tests.sync.conftest import (
    by_number,
    connect,
    docs,
    money_of,
    replace,
    row,
    write_orders,
)
from tests.test_app import HOLD_LOCK, syncing_elsewhere

D = Decimal
SALES = ("Estimate", "Invoice", "SalesReceipt", "Payment", "PurchaseOrder")

# Paid in full, unpaid, and partly paid.
ORDERS = [
    row("U-1001", "SLB-20F-REG", "2", "179.95", payment_status="paid", payment_method="Visa",
        payment_reference="ch_1001"),
    row("U-1002", "MUG-ENM-12", "2", "18.00", status="on-hold"),
    row("U-1003", "HDL-400L", "1", "39.99", payment_status="partially_paid", amount_paid="20.00",
        payment_method="Check", payment_reference="4711"),
]
OTHER_ORDERS = [row("X-2001", "FUEL-230G", "3", "7.49", payment_status="paid")]


def held(sandbox) -> dict[str, int]:
    return {kind: len(docs(sandbox, kind)) for kind in SALES}


def test_undo_deletes_invoices_and_payments_and_a_new_sync_books_them_again_once(
        app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS))
    other = connect(app, sandbox, "Other", TransactionMode.INVOICES_WITH_PAYMENTS,
                    write_orders(tmp_path / "other.csv", OTHER_ORDERS))
    booked = app.engine().run(shop)
    assert booked.status is RunStatus.SUCCEEDED and booked.synced == 3
    kept = app.engine().run(other)
    other_invoice = by_number(sandbox, "Invoice")["X-2001"]
    assert held(sandbox)["Invoice"] == 4 and held(sandbox)["Payment"] == 3

    result = app.undoer().undo(booked.run_id)

    assert result.status is UndoStatus.UNDONE, result.documents
    assert result.count(UndoOutcome.DELETED) == 5 and not result.left
    # Payments went first: QuickBooks refuses to delete an invoice with a payment on it.
    kinds = [doc.kind for doc in result.documents]
    assert kinds.index(DocumentKind.INVOICE) > max(
        i for i, kind in enumerate(kinds) if kind is DocumentKind.PAYMENT)
    assert list(by_number(sandbox, "Invoice")) == ["X-2001"]
    (payment,) = docs(sandbox, "Payment")
    assert payment["Line"][0]["LinkedTxn"][0]["TxnId"] == other_invoice["Id"]
    assert money_of(sandbox.company.read("Invoice", other_invoice["Id"])["Balance"]) == D("0")
    assert {r.state for r in app.ledger.rows_for_run(booked.run_id)} == {LedgerState.UNDONE}
    assert {r.state for r in app.ledger.rows_for_run(kept.run_id)} == {LedgerState.CONFIRMED}
    run = app.runs.get(booked.run_id)
    assert run.undone_at is not None and "5 documents deleted" in run.undo_message
    assert app.runs.get(kept.run_id).undone_at is None

    # A normal sync (the store cursor went back with the undo) books the three orders again.
    again = app.engine().run(shop)
    assert again.status is RunStatus.SUCCEEDED and again.synced == 3, again.errors
    invoices = by_number(sandbox, "Invoice")
    assert sorted(invoices) == ["U-1001", "U-1002", "U-1003", "X-2001"]
    assert money_of(invoices["U-1003"]["Balance"]) == D("19.99")
    assert sorted(money_of(p["TotalAmt"]) for p in docs(sandbox, "Payment")) == [
        D("20.00"), D("22.47"), D("359.90")]
    # And only once: a further sync finds them booked.
    assert app.engine().run(shop, query=OrderQuery()).synced == 0
    assert held(sandbox)["Invoice"] == 4 and held(sandbox)["Payment"] == 3
    # Undoing the same run again has nothing left to do.
    assert app.undoer().undo(booked.run_id).documents == []


@pytest.mark.parametrize("mode", [TransactionMode.SALES_ORDERS_INVOICES_POS,
                                  TransactionMode.SALES_RECEIPTS], ids=lambda m: m.value)
def test_undo_removes_every_kind_of_document_the_mode_books(app, sandbox, tmp_path, mode):
    path = write_orders(tmp_path / "orders.csv", [
        row("P-4001", "TNT-2P-GRN", "2", "349.00", payment_status="paid"),
        row("P-4001", "JKT-RN-M-M", "1", "149.00"),
    ])
    before = held(sandbox)
    shop = connect(app, sandbox, "Shop", mode, path)
    booked = app.engine().run(shop)
    assert booked.status is RunStatus.SUCCEEDED, booked.errors
    kinds = {doc.kind for doc in booked.documents}
    if mode is TransactionMode.SALES_RECEIPTS:
        assert kinds == {DocumentKind.SALES_RECEIPT}
    else:
        assert kinds == {DocumentKind.ESTIMATE, DocumentKind.INVOICE, DocumentKind.PAYMENT,
                         DocumentKind.PURCHASE_ORDER}

    preview = app.undoer().undo(booked.run_id, dry_run=True)
    assert {doc.outcome for doc in preview.documents} == {UndoOutcome.WOULD_DELETE}
    assert len(preview.documents) == len(booked.documents)
    assert held(sandbox) != before     # a dry run deletes nothing

    result = app.undoer().undo(booked.run_id)
    assert result.status is UndoStatus.UNDONE, result.documents
    assert held(sandbox) == before
    if mode is not TransactionMode.SALES_RECEIPTS:
        # The estimate went last, after the invoice that had closed it.
        order = [doc.kind for doc in result.documents]
        assert order[-1] is DocumentKind.ESTIMATE


def test_a_document_deleted_by_hand_is_skipped_with_a_note(app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS[1:2]))
    booked = app.engine().run(shop)
    invoice = by_number(sandbox, "Invoice")["U-1002"]
    sandbox.company.delete("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]})

    result = app.undoer().undo(booked.run_id)
    assert result.status is UndoStatus.UNDONE
    (doc,) = result.documents
    assert doc.outcome is UndoOutcome.ALREADY_GONE and "by hand" in doc.reason
    assert app.runs.get(booked.run_id).undone_at is not None
    assert app.engine().run(shop, query=OrderQuery()).synced == 1   # bookable again


def test_an_invoice_paid_by_hand_is_kept_with_a_plain_reason(app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS))
    booked = app.engine().run(shop)
    invoice = by_number(sandbox, "Invoice")["U-1003"]
    sandbox.company.create("Payment", {   # the bookkeeper records the rest by hand
        "CustomerRef": invoice["CustomerRef"], "TotalAmt": "19.99",
        "Line": [{"Amount": "19.99", "LinkedTxn": [{"TxnId": invoice["Id"],
                                                     "TxnType": "Invoice"}]}]})

    result = app.undoer().undo(booked.run_id)

    assert result.status is UndoStatus.PARTIAL
    left = {(doc.order, doc.kind): doc for doc in result.left}
    assert set(left) == {("U-1003", DocumentKind.INVOICE), ("U-1003", DocumentKind.PAYMENT)}
    reason = left[("U-1003", DocumentKind.INVOICE)].reason
    assert "did not book" in reason and "by hand" in reason
    assert "kept with the order's Invoice U-1003" in left[("U-1003", DocumentKind.PAYMENT)].reason
    # The order is whole in QuickBooks: its invoice, our payment and the hand payment.
    assert list(by_number(sandbox, "Invoice")) == ["U-1003"]
    assert len(docs(sandbox, "Payment")) == 2
    assert money_of(sandbox.company.read("Invoice", invoice["Id"])["Balance"]) == D("0")
    run = app.runs.get(booked.run_id)
    assert run.undone_at is None and run.undo_message.startswith("Partly undone")


def test_a_later_runs_payment_blocks_the_invoice_until_that_run_is_undone(app, sandbox,
                                                                          tmp_path):
    path = tmp_path / "orders.csv"
    write_orders(path, ORDERS[1:2])
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    first = app.engine().run(shop)
    write_orders(path, [row("U-1002", "MUG-ENM-12", "2", "18.00", payment_status="paid")])
    later = app.engine().run(shop, query=OrderQuery())
    assert [doc.kind for doc in later.documents] == [DocumentKind.PAYMENT]

    blocked = app.undoer().undo(first.run_id)
    assert blocked.status is UndoStatus.PARTIAL
    (doc,) = blocked.left
    assert f"undo run #{later.run_id} first" in doc.reason
    assert held(sandbox)["Invoice"] == held(sandbox)["Payment"] == 1

    assert app.undoer().undo(later.run_id).status is UndoStatus.UNDONE
    assert app.undoer().undo(first.run_id).status is UndoStatus.UNDONE
    assert held(sandbox)["Invoice"] == held(sandbox)["Payment"] == 0


def test_a_crash_after_the_first_deletes_is_finished_by_the_next_undo(app, sandbox, tmp_path,
                                                                      monkeypatch):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS))
    booked = app.engine().run(shop)
    real_batch = undo_module.QuickBooksClient.batch
    sent: list[list[str]] = []

    def batch_then_die(client, operations, *, request_id):
        real_batch(client, operations, request_id=request_id)
        sent.append([op.body["Id"] for op in operations])
        raise KeyboardInterrupt("the process was killed after QuickBooks answered")

    monkeypatch.setattr(undo_module.QuickBooksClient, "batch", batch_then_die)
    with pytest.raises(KeyboardInterrupt):
        app.undoer().undo(booked.run_id)
    assert held(sandbox)["Payment"] == 0 and held(sandbox)["Invoice"] == 3
    # The ledger still counts the payments as booked, with the undo's intent recorded.
    payments = [r for r in app.ledger.rows_for_run(booked.run_id) if r.kind == "Payment"]
    assert {r.state for r in payments} == {LedgerState.CONFIRMED} and all(r.undo_request_id
                                                               for r in payments)
    monkeypatch.setattr(undo_module.QuickBooksClient, "batch", real_batch)

    requests_before = sandbox.request_count
    result = app.undoer().undo(booked.run_id)
    assert result.status is UndoStatus.UNDONE, result.documents
    finished = [doc for doc in result.documents if doc.outcome is UndoOutcome.ALREADY_GONE]
    assert {doc.qb_id for doc in finished} == set(sent[0])
    assert all("interrupted" in doc.reason for doc in finished)
    assert result.count(UndoOutcome.DELETED) == 3
    assert held(sandbox)["Invoice"] == 0
    assert sandbox.request_count - requests_before == 3   # 2 reads, 1 batch of invoices


def test_a_lost_answer_to_a_delete_is_retried_without_harm(app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS))
    booked = app.engine().run(shop)
    sandbox.inject("drop_after_write")
    result = app.undoer().undo(booked.run_id)
    assert result.status is UndoStatus.UNDONE, result.documents
    assert result.count(UndoOutcome.DELETED) == 5
    assert held(sandbox)["Invoice"] == held(sandbox)["Payment"] == 0


def test_what_cannot_be_undone_says_why(app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS))
    preview = app.engine().run(shop, dry_run=True)
    with pytest.raises(SetupError, match="preview"):
        app.undoer().undo(preview.run_id)
    with pytest.raises(SetupError, match="No sync run"):
        app.undoer().undo(999)
    booked = app.engine().run(shop)
    assert app.cursors.get(shop.id, CURSOR_NAME) is not None
    held_before = held(sandbox)
    app.connections.update(replace(shop, quickbooks=replace(shop.quickbooks,
                                                            realm_id="elsewhere")))
    with pytest.raises(SetupError, match="another QuickBooks company"):
        app.undoer().undo(booked.run_id)
    assert held(sandbox) == held_before


def test_a_document_never_confirmed_is_reported_not_guessed(app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS[1:2]))
    booked = app.engine().run(shop)
    (invoice_row,) = app.ledger.rows_for_run(booked.run_id)
    # A write of the same run whose answer never came (the process died while it was sent).
    app.ledger.plan(invoice_row.realm_id, invoice_row.store_key, shop.id, booked.run_id,
                    [Intent("lost-1", "U-9999", "invoice", "Invoice", "lost-request", "{}",
                            "U-9999", D("5.00"))])

    result = app.undoer().undo(booked.run_id)

    assert result.status is UndoStatus.PARTIAL
    assert result.count(UndoOutcome.DELETED) == 1
    (left,) = result.left
    assert left.order == "U-9999" and left.outcome is UndoOutcome.NOT_CONFIRMED
    assert "sync this connection" in left.reason
    assert app.runs.get(booked.run_id).undone_at is None


def test_undo_waits_for_a_sync_in_another_process_and_holds_off_one_while_it_runs(
        app, sandbox, tmp_path):
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                   write_orders(tmp_path / "orders.csv", ORDERS))
    booked = app.engine().run(shop)
    held_before = held(sandbox)

    # A command line sync of the shop in another process: the undo does not start.
    with syncing_elsewhere(app, shop.id):
        refused = app.undoer().undo(booked.run_id)
    assert refused.status is UndoStatus.FAILED and refused.failure_kind is ErrorKind.RETRY_LATER
    assert "right now" in refused.message and not refused.documents
    assert held(sandbox) == held_before
    assert app.runs.get(booked.run_id).undone_at is None

    # While the undo runs, another process cannot take the connection's lock to sync it.
    undoer = app.undoer()
    talk_to_quickbooks = undoer.client_for
    others_saw = []

    def client_for(connection):
        other = subprocess.run(
            [sys.executable, "-c", HOLD_LOCK, str(app.sync_locks.folder), str(shop.id)],
            input="\n", capture_output=True, text=True, timeout=60, check=True)
        others_saw.append(other.stdout.strip())
        return talk_to_quickbooks(connection)

    undoer.client_for = client_for
    result = undoer.undo(booked.run_id)
    assert others_saw == ["busy"]
    assert result.status is UndoStatus.UNDONE and result.count(UndoOutcome.DELETED) == 5
    assert held(sandbox)["Invoice"] == held(sandbox)["Payment"] == 0


def test_the_undo_says_when_in_the_computers_time_as_the_window_does(app, sandbox, tmp_path,
                                                                     monkeypatch):
    """The run's undo note is stored and read later, in the log and on the command line: it
    names the day in local time ("6 Dec 03:03"), as the window names every other moment."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES,
                   write_orders(tmp_path / "orders.csv", OTHER_ORDERS))
    booked = app.engine().run(shop)
    undoer = app.undoer()
    undoer.clock = lambda: datetime(2026, 12, 6, 8, 3, tzinfo=UTC)
    try:
        result = undoer.undo(booked.run_id)
    finally:
        monkeypatch.undo()     # the computer's own zone again for the tests after this one
        time.tzset()
    assert result.message == "Undone on 6 Dec 03:03: 1 document deleted."
    assert app.runs.get(booked.run_id).undo_message == result.message
