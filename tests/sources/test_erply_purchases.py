"""Erply's purchase orders (PRCORDER purchase documents) against the local classic API."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connex_desktop.core.errors import RetryLaterError
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.sources.base import FailedOrder
from connex_desktop.sources.erply import ErplySource
from tests.fakes.erply import NOW, FakeErply, erply_po_row, erply_purchase_order
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)
from tests.sources.test_erply import add_erply, make_source

D = Decimal


def purchases(source: ErplySource, since: datetime | None = None, ids=()) -> list:
    return list(source.purchase_orders(since, CancelToken(), ids))


def widget_po(doc_id: int, number: str = "", **fields) -> dict:
    return erply_purchase_order(doc_id, number or str(900 + doc_id),
                                [erply_po_row("W", "Widget", "5", "2.00")], **fields)


def test_tax_exclusive_and_inclusive_rows_read_to_the_cent():
    exclusive = erply_purchase_order(41, "PO-41", [
        erply_po_row("TEE-BLK-M", "Tee black M", "100", "5.00", discount="10"),
        erply_po_row("MUG-1", "Mug", "3", "2.333")],
        referenceNumber="SUP-7781", notes="Before Christmas")
    # Prices entered with 20% VAT: 3 × 10.00 is 25.00 net and 5.00 VAT.
    inclusive = erply_purchase_order(42, "PO-42", [
        erply_po_row("SOCK-3", "Socks", "3", "10.00", with_vat=True),
        erply_po_row("CAP-1", "Cap", "7", "3.99", with_vat=True)], status="PARTIALLY_RECEIVED")
    with FakeErply([], purchases=[exclusive, inclusive]) as store:
        first, second = purchases(make_source(store))
    assert isinstance(first, PurchaseOrder) and isinstance(second, PurchaseOrder)
    assert (first.source, first.source_id, first.number, first.vendor, first.currency) == (
        "erply", "41", "PO-41", "Cotton Supply Co", "USD")
    assert (first.state, first.status) == (PurchaseOrderState.OPEN, "READY")
    assert (first.order_date, first.expected_date) == (date(2026, 11, 2), date(2026, 11, 10))
    assert first.ship_to.line1 == "Main store"
    assert first.memo == ("Erply purchase order PO-41, supplier reference SUP-7781: "
                          "Before Christmas")
    # 100 × 5.00 less 10% is 450.00; 3 × 2.333 is 6.999, 7.00 to the cent.
    assert [(line.sku, line.quantity, line.unit_cost, line.amount) for line in first.lines] == [
        ("TEE-BLK-M", D(100), D("4.50"), D("450.00")), ("MUG-1", D(3), D("2.3333"), D("7.00"))]
    assert (first.subtotal, first.tax, first.total, first.computed_total) == (
        D("457.00"), D("91.40"), D("548.40"), D("548.40"))
    assert (second.state, second.status) == (PurchaseOrderState.PARTLY_RECEIVED,
                                             "PARTIALLY_RECEIVED")
    # 7 × 3.99 with VAT is 27.93: 23.28 net (unit 3.3257) and 4.65 VAT.
    assert [(line.sku, line.unit_cost, line.amount) for line in second.lines] == [
        ("SOCK-3", D("8.3333"), D("25.00")), ("CAP-1", D("3.3257"), D("23.28"))]
    assert (second.subtotal, second.tax, second.total, second.computed_total) == (
        D("48.28"), D("9.65"), D("57.93"), D("57.93"))


def test_each_status_maps_to_a_state_and_a_bad_record_fails_alone():
    pending = widget_po(1, status="PENDING")
    pending["number"] = ""     # an unconfirmed document has no number yet
    received = widget_po(2, status="RECEIVED")
    odd = widget_po(3, status="SHIPPED")
    wrong_net = widget_po(4)
    wrong_net["netTotal"] = 10.5
    nameless = widget_po(5, supplierName="")
    garbled = widget_po(6)
    garbled["rows"][0]["price"] = "two"
    off_rates = widget_po(7, vatTotalsByTaxRate=[{"vatrateID": 1, "total": 1.0}])
    good = widget_po(8)
    with FakeErply([], purchases=[pending, received, odd, wrong_net, nameless, garbled,
                                  off_rates, good]) as store:
        got = purchases(make_source(store))
    assert [(type(p).__name__, p.number) for p in got] == [
        ("PurchaseOrder", "id 1"), ("PurchaseOrder", "902"), ("FailedOrder", "903"),
        ("FailedOrder", "904"), ("FailedOrder", "905"), ("FailedOrder", "906"),
        ("FailedOrder", "907"), ("PurchaseOrder", "908")]
    assert [p.state for p in got if isinstance(p, PurchaseOrder)] == [
        PurchaseOrderState.DRAFT, PurchaseOrderState.RECEIVED, PurchaseOrderState.OPEN]
    assert [p.field for p in got if isinstance(p, FailedOrder)] == [
        "status", "netTotal", "supplierName", "price", "vatTotalsByTaxRate"]
    assert "10.5" in got[3].message and "10.00" in got[3].message


def test_pages_walked_since_a_time_and_orders_asked_for_by_id():
    old = widget_po(1, changed=NOW - 90 * 86_400)
    recent = [widget_po(i) for i in range(2, 7)]
    since = datetime.fromtimestamp(NOW - 30 * 86_400, UTC)
    with FakeErply([], purchases=[old, *recent]) as store:
        source = make_source(store, page_size=2)
        got = purchases(source, since, ids=["1", "3"])
        lists = [f for f in store.forms() if f.get("request") == "getPurchaseDocuments"]
        old["status"] = "RECEIVED"
        [after] = purchases(source, since, ids=["1"])[-1:]
    assert [p.number for p in got] == ["902", "903", "904", "905", "906", "901"]
    assert [(f.get("pageNo"), f.get("ids")) for f in lists] == [
        ("1", None), ("2", None), ("3", None), ("1", "1")]
    assert {k: lists[0][k] for k in ("type", "changedSince", "getRowsForAllInvoices",
                                     "recordsOnPage")} == {
        "type": "PRCORDER", "changedSince": str(NOW - 30 * 86_400),
        "getRowsForAllInvoices": "1", "recordsOnPage": "2"}
    assert (got[-1].state, after.state) == (PurchaseOrderState.OPEN, PurchaseOrderState.RECEIVED)
    assert got[-1].revision != after.revision


def test_the_hourly_quota_stops_the_run_until_the_next_clock_hour():
    with FakeErply([], purchases=[widget_po(1)], quota=2) as store:
        source = make_source(store)
        assert [p.number for p in purchases(source)] == ["901"]
        with pytest.raises(RetryLaterError) as caught:
            purchases(source)
        store.now += 3600
        again = purchases(source)
    assert "1002" in caught.value.message
    assert [p.number for p in again] == ["901"]


def test_an_expired_session_mid_walk_is_renewed_once():
    with FakeErply([], purchases=[widget_po(i) for i in range(1, 5)]) as store:
        store.expire_after = {"getPurchaseDocuments"}
        got = purchases(make_source(store, page_size=2))
        requests = [f["request"] for f in store.forms()]
    assert [p.number for p in got] == ["901", "902", "903", "904"]
    assert requests[:5] == ["verifyUser", "getPurchaseDocuments", "getPurchaseDocuments",
                            "verifyUser", "getPurchaseDocuments"]


def set_amount(po: dict, index: int, amount: str) -> None:
    """Erply's user changes a row's quantity: the document's totals follow, as Erply's do."""
    rows = [erply_po_row(r["code"], r["itemName"], amount if i == index else r["amount"],
                         r["price"]) for i, r in enumerate(po["rows"])]
    changed = erply_purchase_order(po["id"], po["number"], rows, status=po["status"],
                                   changed=int(time.time()))
    po.update({k: changed[k] for k in ("rows", "netTotal", "vatTotal", "total",
                                       "vatTotalsByTaxRate", "lastModified")})


def test_erply_purchase_orders_created_changed_and_closed_once(cli, sandbox):
    po = erply_purchase_order(41, "PO-41", [
        erply_po_row("TEE-BLK-M", "Tee black M", "100", "5.00"),
        erply_po_row("MUG-1", "Mug", "3", "2.333")], changed=int(time.time()))
    with FakeErply([], purchases=[po]) as store:
        add_erply(cli, sandbox, store, "erply", "invoices")
        assert cli("connection", "set", "erply", "--sync-purchase-orders")[0] == 0
        first = cli.sync("erply")
        assert [(d["order"], d["kind"], d["total"]) for d in first["documents"]] == [
            ("PO-41", "PurchaseOrder", "507.00")], first
        assert cli.sync("erply")["documents"] == []          # nothing changed: nothing sent
        set_amount(po, 0, "120")
        changed = cli.sync("erply")
        assert [(d["order"], d["total"]) for d in changed["documents"]] == [
            ("PO-41", "607.00")], changed
        po.update(status="RECEIVED", lastModified=int(time.time()))
        assert [d["order"] for d in cli.sync("erply")["documents"]] == ["PO-41"]
        assert cli.sync("erply")["documents"] == []
    [booked] = documents(sandbox, "PurchaseOrder")
    assert (booked["DocNumber"], booked["POStatus"], amount(booked["TotalAmt"])) == (
        "PO-41", "Closed", D("607.00"))
    assert booked["VendorRef"]["name"] == "Cotton Supply Co"
