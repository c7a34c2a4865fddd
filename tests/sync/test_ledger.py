"""The ledger's rules, and what a run does with documents an earlier run left unconfirmed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.quickbooks.writer import QuickBooksOnlineWriter
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.database import Database
from connex_desktop.storage.ledger import (
    Confirmation,
    Intent,
    LedgerRepository,
)
from tests.sync.conftest import by_number, connect, docs, row, write_orders


def intent(order: str, doc_key: str, request_id: str, kind: str = "Invoice") -> Intent:
    return Intent(f"id-{order}", order, doc_key, kind, request_id, "{}", order, Decimal("5.00"))


def test_plan_confirm_fail_and_plan_again():
    ledger = LedgerRepository(Database.memory())
    recorded, refused = ledger.plan("r1", "csv|a", 1, 1, [intent("1", "invoice", "req-1")])
    assert len(recorded) == 1 and refused == []
    assert [row.state for row in ledger.unconfirmed("r1", "csv|a")] == [LedgerState.PLANNED]
    ledger.fail([("req-1", "QuickBooks refused it")])
    # A failed document is planned again with a new request id.
    recorded, refused = ledger.plan("r1", "csv|a", 1, 2, [intent("1", "invoice", "req-2")])
    assert len(recorded) == 1
    ledger.confirm([Confirmation("req-2", "130", "1", Decimal("5.00"))])
    (entry,) = ledger.for_orders("r1", "csv|a", ["id-1"])["id-1"].values()
    assert (entry.state, entry.qb_id, entry.request_id, entry.total) == (
        LedgerState.CONFIRMED, "130", "req-2", Decimal("5.00"))
    assert ledger.unconfirmed("r1", "csv|a") == []


def test_one_sale_per_order_and_store_whatever_the_connection():
    ledger = LedgerRepository(Database.memory())
    ledger.plan("r1", "csv|a", 1, 1, [intent("1", "invoice", "req-1")])
    # Another connection on the same store wants a sales receipt for the same order: refused.
    recorded, refused = ledger.plan("r1", "csv|a", 2, 2,
                                    [intent("1", "sales_receipt", "req-2", "SalesReceipt")])
    assert recorded == [] and refused[0][1].doc_key == "invoice"
    # The same order number in another store, or another company, is another order.
    assert ledger.plan("r1", "csv|b", 2, 2, [intent("1", "invoice", "req-3")])[1] == []
    assert ledger.plan("r2", "csv|a", 2, 2, [intent("1", "invoice", "req-4")])[1] == []
    ledger.fail([("req-1", "refused")])
    recorded, _ = ledger.plan("r1", "csv|a", 2, 3,
                              [intent("1", "sales_receipt", "req-5", "SalesReceipt")])
    assert len(recorded) == 1


class Killed(BaseException):
    """Stands for the process dying: nothing after it runs, not even except-Exception blocks."""


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_RECEIPTS])
@pytest.mark.parametrize("use_qb_numbering", [False, True], ids=["order-numbers", "qb-numbers"])
def test_documents_sent_before_a_crash_are_adopted_not_sent_twice(app, sandbox, tmp_path,
                                                                  monkeypatch, mode,
                                                                  use_qb_numbering):
    path = write_orders(tmp_path / "orders.csv", [
        row(str(500 + n), "MUG-ENM-12", "1", "18.00", payment_status="paid") for n in range(4)])
    connection = connect(app, sandbox, "Shop", mode, path, use_qb_numbering=use_qb_numbering)
    real_send = QuickBooksOnlineWriter._send_request
    sent = 0

    def send_then_die(self, writes):
        nonlocal sent
        answer = real_send(self, writes)   # QuickBooks stores the documents...
        sent += 1
        if sent == 2:
            raise Killed()                 # ...and the app dies before it records the answers
        return answer

    monkeypatch.setattr(QuickBooksOnlineWriter, "_send_request", send_then_die)
    with pytest.raises(Killed):
        app.engine().run(connection)
    monkeypatch.setattr(QuickBooksOnlineWriter, "_send_request", real_send)
    assert app.ledger.unconfirmed(sandbox.realm_id, f"csv|{path.resolve()}")

    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    assert app.ledger.unconfirmed(sandbox.realm_id, f"csv|{path.resolve()}") == []
    sale = "Invoice" if mode is TransactionMode.INVOICES_WITH_PAYMENTS else "SalesReceipt"
    stored = docs(sandbox, sale)
    assert sorted(doc["PrivateNote"].split()[1] for doc in stored) == ["500", "501", "502",
                                                                       "503"]
    if not use_qb_numbering:
        assert sorted(by_number(sandbox, sale)) == ["500", "501", "502", "503"]
    if mode is TransactionMode.INVOICES_WITH_PAYMENTS:
        assert len(docs(sandbox, "Payment")) == 4
        assert all(doc["Balance"] == 0 for doc in stored)
    rows = [entry for entry in app.ledger.rows_for_order(sandbox.realm_id, "500")]
    assert {entry.state for entry in rows} == {LedgerState.CONFIRMED}
    assert LedgerState.FAILED not in {entry.state for number in ("501", "502", "503")
                          for entry in app.ledger.rows_for_order(sandbox.realm_id, number)}


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_ORDERS_INVOICES_POS])
def test_unconfirmed_documents_are_looked_up_before_anything_is_sent_again(app, sandbox,
                                                                         tmp_path, mode):
    """QuickBooks may have forgotten a request id: documents are found by number or memo."""
    path = write_orders(tmp_path / "orders.csv", [
        row(str(700 + n), "JKT-RN-M-M", "1", "149.00", payment_status="paid")
        for n in range(3)])
    connection = connect(app, sandbox, "Shop", mode, path, use_qb_numbering=True)
    assert app.engine().run(connection).status is RunStatus.SUCCEEDED
    kinds = ("Estimate", "Invoice", "Payment", "PurchaseOrder")
    before = {kind: sorted(doc["Id"] for doc in docs(sandbox, kind)) for kind in kinds}
    # As if every answer had been lost, under request ids QuickBooks never saw.
    app.database.execute("UPDATE ledger SET state = 'planned', qb_id = '',"
                         " request_id = 'lost-' || id")

    result = app.engine().run(connection, query=OrderQuery())
    assert result.status is RunStatus.SUCCEEDED, result.errors
    assert before == {kind: sorted(doc["Id"] for doc in docs(sandbox, kind)) for kind in kinds}
    rows = [entry for number in ("700", "701", "702")
            for entry in app.ledger.rows_for_order(sandbox.realm_id, number)]
    assert rows and {entry.state for entry in rows} == {LedgerState.CONFIRMED}
    assert all(entry.qb_id for entry in rows)
