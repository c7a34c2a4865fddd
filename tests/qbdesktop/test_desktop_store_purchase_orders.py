"""A store's own purchase orders (the Linnworks fake) into QuickBooks Desktop (the fake company
file, every request checked against Intuit's schema): created, changed, closed, undone, each
once across a lost answer, to the cent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from connex_desktop.app import App
from connex_desktop.core.connection import Connection, QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.errors import RetryLaterError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.core.undo_result import UndoOutcome, UndoStatus
from connex_desktop.qbdesktop.fake import transactions
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import StatusError, Txn
from tests.fakes.linnworks import LW_APP_ID, LW_SECRET, LW_TOKEN, FakeLinnworks, now_iso
from tests.fakes.skuvault import SV_EMAIL, SV_PASSWORD, FakeSkuVault, sv_purchase
from tests.sync.test_store_purchase_orders import linnworks_po, set_quantity

D = Decimal


DESKTOP_FILE = QuickBooksCompany(environment="desktop", realm_id="qbd-demo-file",
                                 company_name="Connex Demo Company",
                                 product=QuickBooksProduct.DESKTOP)


def linnworks_into_desktop(app: App, store: FakeLinnworks) -> Connection:
    connection = app.connections.add(Connection(
        name="LW", source_kind="linnworks", mode=TransactionMode.INVOICES,
        source_settings={"application_id": LW_APP_ID, "api_url": store.url,
                         "timezone": "UTC"},
        quickbooks=DESKTOP_FILE, sync_purchase_orders=True))
    assert connection.id is not None
    app.secrets.set(connection_secret_key(connection.id, "application_secret"), LW_SECRET)
    app.secrets.set(connection_secret_key(connection.id, "installation_token"), LW_TOKEN)
    return connection


def run(app: App, connection: Connection, status: RunStatus = RunStatus.SUCCEEDED) -> SyncResult:
    result = app.engine().run(connection)
    assert result.status is status, (result.message, result.errors)
    return result


def purchase_orders(quickbooks: FakeQuickBooks) -> dict[str, Txn]:
    found: dict[str, Txn] = {}
    for txn in quickbooks.company.txns.values():
        if txn.kind == "PurchaseOrder":
            assert txn.ref_number not in found, f"two purchase orders {txn.ref_number}"
            found[txn.ref_number] = txn
    return found


def lines_of(po: Txn) -> list[tuple[str, Decimal | None, Decimal]]:
    return [(line.item.name, line.quantity, line.amount) for line in po.lines]


def test_linnworks_purchase_orders_created_changed_closed_and_undone(app, quickbooks):
    ordered = linnworks_po("PO-42", [("TENT-2P", 10, "150.00"), ("MUG", 3, "2.333")],
                           shipping="12.00")
    with FakeLinnworks([], purchases=[ordered]) as store:
        connection = linnworks_into_desktop(app, store)
        created = run(app, connection)
        assert [(d.kind.value, d.total) for d in created.documents] == [
            ("PurchaseOrder", D("1519.00"))]
        po = purchase_orders(quickbooks)["PO-42"]
        assert po.entity.name == "Cotton Supply Co"
        assert [v.name for v in quickbooks.company.vendors()].count("Cotton Supply Co") == 1
        assert lines_of(po) == [("Tent 2P", D(10), D("1500.00")), ("Mug", D(3), D("7.00")),
                                ("Freight", None, D("12.00"))]
        assert po.total == D("1519.00") and not po.manually_closed
        assert po.expected_date == "2026-11-10"      # Linnworks' quoted delivery date
        assert run(app, connection).documents == []

        set_quantity(ordered, 0, 12)
        changed = run(app, connection)
        assert [d.total for d in changed.documents] == [D("1819.00")]
        assert list(purchase_orders(quickbooks)) == ["PO-42"]
        assert (lines_of(po)[0], po.total, po.edit_sequence) == (
            ("Tent 2P", D(12), D("1800.00")), D("1819.00"), 2)

        ordered["PurchaseOrderHeader"]["Status"] = "DELIVERED"
        for item in ordered["PurchaseOrderItem"]:
            item["Delivered"] = item["Quantity"]
        closed = run(app, connection)
        assert [d.order for d in closed.documents] == ["PO-42"]
        assert po.manually_closed and "Received in Linnworks: closed." in po.memo
        assert run(app, connection).documents == []

        # Undo changes it back as the run before left it, run by run, then deletes it.
        reopened = app.undoer().undo(closed.run_id)
        assert reopened.status is UndoStatus.UNDONE, reopened.message
        assert reopened.count(UndoOutcome.REVERTED) == 1
        assert not po.manually_closed and po.total == D("1819.00")
        assert app.undoer().undo(changed.run_id).count(UndoOutcome.REVERTED) == 1
        assert lines_of(po) == [("Tent 2P", D(10), D("1500.00")), ("Mug", D(3), D("7.00")),
                                ("Freight", None, D("12.00"))]
        assert po.total == D("1519.00")
        assert app.undoer().undo(created.run_id).count(UndoOutcome.DELETED) == 1
        assert purchase_orders(quickbooks) == {}


def test_a_lost_answer_books_each_purchase_order_and_change_once(app, quickbooks):
    dropped = linnworks_po("PO-50", [("MUG", 12, "3.50")])
    with FakeLinnworks([], purchases=[dropped]) as store:
        connection = linnworks_into_desktop(app, store)
        run(app, connection)
        # The next purchase order is booked, but QuickBooks' answer never arrives.
        second = linnworks_po("PO-51", [("TENT-2P", 2, "149.99")], shipping="7.45")
        store.purchases[second["PurchaseOrderHeader"]["pkPurchaseID"]] = second
        answers_lost(quickbooks, 1)
        lost = run(app, connection, RunStatus.PARTIAL)
        assert "did not confirm" in str(lost.errors)
        assert run(app, connection).status is RunStatus.SUCCEEDED
        # Its change too: made once, found made.
        set_quantity(second, 0, 3)
        answers_lost(quickbooks, 1)
        run(app, connection, RunStatus.PARTIAL)
        run(app, connection)
        assert run(app, connection).documents == []
        pos = purchase_orders(quickbooks)
        assert sorted(pos) == ["PO-50", "PO-51"]
        assert (lines_of(pos["PO-51"]), pos["PO-51"].total) == (
            [("Tent 2P", D(3), D("449.97")), ("Freight", None, D("7.45"))], D("457.42"))
        assert pos["PO-51"].edit_sequence == 2



def skuvault_into_desktop(app: App, store: FakeSkuVault) -> Connection:
    connection = app.connections.add(Connection(
        name="SV", source_kind="skuvault", mode=TransactionMode.INVOICES,
        source_settings={"email": SV_EMAIL, "currency": "USD", "api_url": f"{store.url}/api",
                         "timezone": "UTC"},
        quickbooks=DESKTOP_FILE, sync_purchase_orders=True))
    assert connection.id is not None
    app.secrets.set(connection_secret_key(connection.id, "password"), SV_PASSWORD)
    return connection


def test_skuvault_purchase_orders_cancelled_and_received_are_closed_and_undone(app, quickbooks):
    created = now_iso(-timedelta(days=2))
    kept = sv_purchase("PO-77", [("TENT-2P", 4, "150.25"), ("MUG", 6, "3.10")],
                       created=created)
    dropped = sv_purchase("PO-78", [("MUG", 12, "1.15")], created=created)
    arrived = sv_purchase("PO-79", [("MUG", 5, "3.00")], status="Completed", received=5,
                          created=created)
    with FakeSkuVault([], purchases=[kept, dropped, arrived]) as store:
        connection = skuvault_into_desktop(app, store)
        store.advance(60)
        first = run(app, connection)
        assert sorted((d.order, d.total) for d in first.documents) == [
            ("PO-77", D("619.60")), ("PO-78", D("13.80")), ("PO-79", D("15.00"))]
        pos = purchase_orders(quickbooks)
        # Received before it was ever booked: booked, and closed as Online books it.
        assert pos["PO-79"].manually_closed and not pos["PO-77"].manually_closed

        kept["LineItems"][1]["Quantity"] = 10
        store.touch("PO-77", now_iso())
        dropped["Status"] = "Cancelled"
        store.touch("PO-78", now_iso())
        store.advance(60)
        later = run(app, connection)
        assert sorted((d.order, d.total) for d in later.documents) == [
            ("PO-77", D("632.00")), ("PO-78", D("13.80"))]
        assert pos["PO-77"].total == D("632.00") and not pos["PO-77"].manually_closed
        assert pos["PO-78"].manually_closed
        assert "Cancelled in SkuVault: closed." in pos["PO-78"].memo
        store.advance(60)
        assert run(app, connection).documents == []

        undone = app.undoer().undo(later.run_id)
        assert undone.count(UndoOutcome.REVERTED) == 2, undone.message
        assert (pos["PO-77"].total, pos["PO-78"].manually_closed) == (D("619.60"), False)
        assert len(purchase_orders(quickbooks)) == 3


def test_a_received_one_quickbooks_would_not_close_is_booked_once_and_said_open(
        app, quickbooks, monkeypatch):
    def busy(*_args: object) -> None:
        raise StatusError(3175, "The record is in use by another user.")

    monkeypatch.setattr(transactions, "purchase_order_mod", busy)
    arrived = sv_purchase("PO-80", [("MUG", 5, "3.00")], status="Completed", received=5,
                          created=now_iso(-timedelta(days=1)))
    with FakeSkuVault([], purchases=[arrived]) as store:
        connection = skuvault_into_desktop(app, store)
        store.advance(60)
        booked = run(app, connection)
        [outcome] = app.runs.orders(booked.run_id or 0)
        assert "did not close it; close it there by hand" in outcome.message
        store.advance(60)
        assert run(app, connection).documents == []
    [po] = purchase_orders(quickbooks).values()
    assert (po.total, po.manually_closed) == (D("15.00"), False)


def answers_lost(quickbooks: FakeQuickBooks, writes: int) -> None:
    """QuickBooks books the next `writes` message sets, but their answers are lost, every
    time they are asked for again in this run."""
    real = quickbooks.process
    lost: set[str] = set()

    def process(request: str) -> str:
        answer = real(request)
        if ("ModRq" in request or "PurchaseOrderAddRq" in request) and len(lost) < writes:
            lost.add(request)
        if request in lost:
            raise RetryLaterError("The connection to QuickBooks Desktop was lost.")
        return answer

    quickbooks.process = process  # type: ignore[method-assign]
