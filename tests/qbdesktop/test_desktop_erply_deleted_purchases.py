"""Erply purchase orders deleted in Erply, into QuickBooks Desktop (the fake company file, every
request checked against Intuit's schema): closed by hand there once, a billed one left open."""

from __future__ import annotations

import time
from decimal import Decimal

from connex_desktop.app import App
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.secret_store import connection_secret_key
from tests.fakes.erply import ERPLY_CODE, ERPLY_PASSWORD, ERPLY_USER, FakeErply
from tests.qbdesktop.test_desktop_store_purchase_orders import (
    DESKTOP_FILE,
    lines_of,
    purchase_orders,
    run,
)
from tests.sources.test_erply_deleted_purchases import erply_po

D = Decimal


def erply_into_desktop(app: App, store: FakeErply) -> Connection:
    connection = app.connections.add(Connection(
        name="Erply", source_kind="erply", mode=TransactionMode.INVOICES,
        source_settings={"client_code": ERPLY_CODE, "username": ERPLY_USER,
                         "api_url": f"{store.url}/api/"},
        quickbooks=DESKTOP_FILE, sync_purchase_orders=True))
    assert connection.id is not None
    app.secrets.set(connection_secret_key(connection.id, "password"), ERPLY_PASSWORD)
    return connection


def test_deleted_in_erply_closes_once_and_a_billed_one_is_left_open(app, quickbooks):
    with FakeErply([], purchases=[erply_po(41, "PO-41"), erply_po(42, "PO-42")]) as store:
        connection = erply_into_desktop(app, store)
        assert len(run(app, connection).documents) == 2
        pos = purchase_orders(quickbooks)
        booked_lines, booked_total = lines_of(pos["PO-41"]), pos["PO-41"].total
        pos["PO-42"].linked["bill-1"] = "Bill"          # the bookkeeper bills part of PO-42
        store.delete_purchase(41, when=int(time.time()))
        store.delete_purchase(42, when=int(time.time()))
        closing = run(app, connection)
        assert [(d.order, d.total) for d in closing.documents] == [("PO-41", booked_total)]
        said = {o.order_number: o.message for o in app.runs.orders(closing.run_id or 0)}
        assert run(app, connection).documents == []
    assert pos["PO-41"].manually_closed and not pos["PO-42"].manually_closed
    assert "Deleted in Erply: closed." in pos["PO-41"].memo
    assert lines_of(pos["PO-41"]) == booked_lines
    assert pos["PO-41"].total == booked_total == D("50.00")
    assert said["PO-41"] == "Closed the purchase order: deleted in the store."
    assert said["PO-42"].startswith("Skipped: it was deleted in Erply, but a bill in QuickBooks "
                                    "is linked to its purchase order PO-42")
