"""Reconciling a document an earlier run left unconfirmed when its number is already taken."""

from __future__ import annotations

from typing import Any

from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.sources.base import OrderQuery
from tests.sync.conftest import by_number, connect, docs, row, write_orders

NUMBER = "800"


def book_then_lose_the_answers(app, sandbox, tmp_path):
    """Order 800 booked as invoice 800 with its payment; then, as if every answer had been
    lost, its ledger rows are unconfirmed under request ids QuickBooks never saw."""
    path = write_orders(tmp_path / "orders.csv",
                        [row(NUMBER, "MUG-ENM-12", "1", "18.00", payment_status="paid")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    assert app.engine().run(connection).status is RunStatus.SUCCEEDED
    app.database.execute("UPDATE ledger SET state = 'planned', qb_id = '',"
                         " request_id = 'lost-' || id")
    return connection


def test_our_own_document_met_as_a_duplicate_number_while_resending_is_adopted(
        app, sandbox, tmp_path, monkeypatch):
    connection = book_then_lose_the_answers(app, sandbox, tmp_path)
    (invoice,) = docs(sandbox, "Invoice")
    payments = [doc["Id"] for doc in docs(sandbox, "Payment")]
    # QuickBooks' query lags behind its writes once: the first look by number finds nothing,
    # so the invoice is sent again and QuickBooks answers 6140 (duplicate document number).
    query_all = QuickBooksClient.query_all
    lagging = ["DocNumber IN"]

    def lagging_query_all(self, entity: str, where: str = "") -> list[dict[str, Any]]:
        if lagging and where.startswith(lagging[0]):
            lagging.clear()
            return []
        return query_all(self, entity, where)

    monkeypatch.setattr(QuickBooksClient, "query_all", lagging_query_all)
    # A plain run: the order file has not changed, so only the reconciling can settle it.
    result = app.engine().run(connection)

    assert result.status is RunStatus.SUCCEEDED and result.errors == [], result.errors
    # Settled while reconciling: not booked again, and only the one refused write was sent.
    assert (result.synced, result.documents, result.quickbooks.writes) == (0, [], 1)
    assert not lagging, "the number was never looked up"
    assert [doc["Id"] for doc in docs(sandbox, "Invoice")] == [invoice["Id"]]
    assert [doc["Id"] for doc in docs(sandbox, "Payment")] == payments
    rows = app.ledger.rows_for_order(sandbox.realm_id, NUMBER)
    assert {(entry.doc_key, entry.state, entry.qb_id) for entry in rows
            if entry.kind == "Invoice"} == {("invoice", LedgerState.CONFIRMED, invoice["Id"])}
    assert {entry.state for entry in rows} == {LedgerState.CONFIRMED}


def test_a_duplicate_number_on_someone_elses_document_fails_the_order_and_adopts_nothing(
        app, sandbox, tmp_path):
    connection = book_then_lose_the_answers(app, sandbox, tmp_path)
    (invoice,) = docs(sandbox, "Invoice")
    # Someone typed another order's invoice under the same number by hand.
    sandbox.company.update("Invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"],
                                       "sparse": True, "PrivateNote": "Typed by hand"})
    result = app.engine().run(connection, query=OrderQuery())

    (failure,) = result.errors
    assert failure.order == NUMBER
    assert f"already has an Invoice numbered {NUMBER} that Connex Desktop did not book" in (
        failure.message)
    assert list(by_number(sandbox, "Invoice")) == [NUMBER]
    assert docs(sandbox, "Invoice")[0]["PrivateNote"] == "Typed by hand"
    rows = app.ledger.rows_for_order(sandbox.realm_id, NUMBER)
    invoice_rows = [entry for entry in rows if entry.kind == "Invoice"]
    assert [entry.state for entry in invoice_rows] == [LedgerState.FAILED]
    assert [entry.error for entry in invoice_rows] == [failure.message]
