"""Lightspeed's purchase orders (X-Series supplier consignments, R-Series vendor orders) end to
end through the CLI into the sandbox: created, changed, closed, cancelled, undone, exactly once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.fakes.lightspeed_r import FakeLightspeedR, lsr_order
from tests.fakes.lightspeed_x import FakeLightspeedX, lsx_consignment, lsx_line, lsx_sale
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)
from tests.sources.test_lightspeed_r import add_store as add_r_store
from tests.sources.test_lightspeed_x import add_store as add_x_store
from tests.sync.test_store_purchase_orders import (  # the fixture is used by name
    ALL_ATTEMPTS,
    lines_of,
    no_waiting,  # noqa: F401
    purchase_orders,
)

D = Decimal


def now_iso(offset: timedelta = timedelta()) -> str:
    """The real time (the engine's cursor is real time), as Lightspeed writes it."""
    return (datetime.now(UTC) + offset).replace(microsecond=0).isoformat()


def booked(result: dict) -> list[tuple[str, str]]:
    return sorted((d["order"], d["total"]) for d in result["documents"])


def test_lightspeed_x_consignments_created_changed_received_and_cancelled_once(cli, sandbox):
    day = now_iso(-timedelta(days=2))
    restock = lsx_consignment("con-1", "PO-0042", [
        ("prod-mug", 48, "2.375"), ("prod-tee", 12, "6.10"), ("prod-sock", 10, "1.25")],
        status="SENT", date=day)
    dropped = lsx_consignment("con-2", "PO-0043", [("prod-mug", 10, "2.00")], status="SENT",
                              date=day)
    draft = lsx_consignment("con-3", "PO-0044", [("prod-tee", 5, "6.00")], date=day)
    sale = lsx_sale("sale-1", "1001", [lsx_line("prod-mug", 2, "10.00", "0.80")],
                    sale_date=now_iso(-timedelta(hours=1)))
    with FakeLightspeedX([sale], consignments=[restock, dropped, draft]) as store:
        store.default_page_size = 2     # a stock order's products come in more than one page
        add_x_store(cli, sandbox, store, "sales-receipts")
        cli("connection", "set", "pos", "--sync-purchase-orders")
        first = cli.sync("pos")
        assert first["status"] == "succeeded", first
        # The register's sale and the stock orders in one run; the draft waits.
        assert booked(first) == [("1001", "21.60"), ("PO-0042", "199.70"),
                                 ("PO-0043", "20.00")]
        assert first["orders"] == {"fetched": 4, "synced": 3, "skipped": 1, "failed": 0}
        po = purchase_orders(sandbox)["PO-0042"]
        assert (po["POStatus"], po["VendorRef"]["name"]) == ("Open", "Mug Makers Ltd")
        assert sorted(lines_of(po)) == [("Mug / Blue", D(48), D("2.375"), D("114.00")),
                                        ("Socks", D(10), D("1.25"), D("12.50")),
                                        ("T-shirt / M", D(12), D("6.10"), D("73.20"))]
        assert "Lightspeed stock order PO-0042" in po["Memo"]
        # The mugs sold and the mugs ordered are one QuickBooks item.
        [receipt] = documents(sandbox, "SalesReceipt")
        sold = receipt["Line"][0]["SalesItemLineDetail"]["ItemRef"]
        assert sold in [line["ItemBasedExpenseLineDetail"]["ItemRef"] for line in po["Line"]]
        assert [i["Name"] for i in documents(sandbox, "Item")].count(sold["name"]) == 1
        assert cli.sync("pos")["documents"] == []              # nothing changed: nothing sent

        # Before anything arrives: more T-shirts, caps added, socks taken off; the draft is
        # sent. The same purchase order changes, the draft is booked.
        store.set_count("con-1", "prod-tee", 20, when=now_iso())
        store.set_count("con-1", "prod-cap", 6, "3.05", when=now_iso())
        store.remove_product("con-1", "prod-sock", when=now_iso())
        store.move_consignment("con-3", "SENT", when=now_iso())
        changed = cli.sync("pos")
        assert booked(changed) == [("PO-0042", "254.30"), ("PO-0044", "30.00")], changed
        after = purchase_orders(sandbox)["PO-0042"]
        assert (after["Id"], int(after["SyncToken"])) == (po["Id"], 1)
        assert [line[1:] for line in lines_of(after)] == [
            (D(48), D("2.375"), D("114.00")), (D(20), D("6.10"), D("122.00")),
            (D(6), D("3.05"), D("18.30"))]

        # Half the mugs arrive: only the store's copy changes.
        store.move_consignment("con-1", "DISPATCHED", received={"prod-mug": 24}, when=now_iso())
        assert cli.sync("pos")["documents"] == []
        # All of it arrives, and two hats nobody ordered: it closes as ordered.
        store.move_consignment("con-1", "RECEIVED", received={
            "prod-mug": 48, "prod-tee": 20, "prod-cap": 6, "prod-hat": 2}, when=now_iso())
        store.move_consignment("con-2", "CANCELLED", when=now_iso())
        closed = cli.sync("pos")
        assert booked(closed) == [("PO-0042", "254.30"), ("PO-0043", "20.00")], closed
        assert cli.sync("pos")["documents"] == []
    pos = purchase_orders(sandbox)
    assert sorted(pos) == ["PO-0042", "PO-0043", "PO-0044"]
    assert [pos[n]["POStatus"] for n in sorted(pos)] == ["Closed", "Closed", "Open"]
    assert (int(pos["PO-0042"]["SyncToken"]), amount(pos["PO-0042"]["TotalAmt"])) == (
        2, D("254.30"))
    assert lines_of(pos["PO-0042"]) == lines_of(after)
    assert "Received in Lightspeed Retail (X-Series): closed." in pos["PO-0042"]["PrivateNote"]
    assert "Cancelled in Lightspeed Retail (X-Series): closed." in pos["PO-0043"]["PrivateNote"]
    assert amount(pos["PO-0043"]["TotalAmt"]) == D("20.00")


def test_lightspeed_x_lost_answers_book_once_and_undo_puts_back(cli, sandbox):
    day = now_iso(-timedelta(days=1))
    first_po = lsx_consignment("con-1", "PO-1", [("prod-mug", 10, "2.375")], status="SENT",
                               date=day)
    with FakeLightspeedX([], consignments=[first_po]) as store:
        add_x_store(cli, sandbox, store, "sales-receipts")
        cli("connection", "set", "pos", "--sync-purchase-orders")
        first = cli.sync("pos")
        assert booked(first) == [("PO-1", "23.75")], first
        # The next one's write is stored, but every answer to it is lost.
        second = lsx_consignment("con-2", "PO-2", [("prod-tee", 7, "6.15")], status="SENT",
                                 date=now_iso())
        store.add_consignment(second)
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        assert cli.sync("pos", expect=1)["status"] == "partial"
        assert cli.sync("pos")["status"] == "succeeded"
        # A change whose answer is lost is found done, not made twice.
        store.set_count("con-1", "prod-mug", 12, when=now_iso())
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        lost = cli.sync("pos", expect=1)
        assert lost["status"] == "partial"
        healed = cli.sync("pos")
        assert healed["status"] == "succeeded", healed
        assert cli.sync("pos")["documents"] == []
        pos = purchase_orders(sandbox)
        assert sorted(pos) == ["PO-1", "PO-2"]
        assert (int(pos["PO-1"]["SyncToken"]), amount(pos["PO-1"]["TotalAmt"])) == (
            1, D("28.50"))
        assert amount(pos["PO-2"]["TotalAmt"]) == D("43.05")

        # Undo goes latest first: the change, then the run that created it, which the next
        # sync books anew as the store has it now.
        _, out = cli("undo", str(first["run_id"]), "--json", expect=1)
        assert f"undo run #{lost['run_id']} first" in out
        cli("undo", str(lost["run_id"]), "--json")
        assert amount(purchase_orders(sandbox)["PO-1"]["TotalAmt"]) == D("23.75")
        cli("undo", str(first["run_id"]), "--json")
        assert sorted(purchase_orders(sandbox)) == ["PO-2"]
        again = cli.sync("pos")
        assert booked(again) == [("PO-1", "28.50")], again
        assert cli.sync("pos")["documents"] == []
    assert sorted(purchase_orders(sandbox)) == ["PO-1", "PO-2"]


def set_quantity(order: dict, index: int, quantity: int) -> None:
    """R-Series' user changes a line's quantity: its total follows. The order's own timeStamp
    is left as it was (whether a line's change moves it is not documented): the purchase
    orders still open are asked for by id."""
    line = order["_lines"][index]
    line.update(quantity=str(quantity), total=str(D(line["price"]) * quantity))
    order["totalQuantity"] = str(sum(int(ln["quantity"]) for ln in order["_lines"]))


def receive(order: dict, counts: list[int], *, complete: bool = False) -> None:
    """Lines checked in (the order finished when `complete`), as R-Series records them."""
    for line, count in zip(order["_lines"], counts, strict=True):
        line.update(numReceived=str(count), checkedIn=str(count))
    order.update(complete="true" if complete else "false", timeStamp=now_iso())


def test_lightspeed_r_orders_created_changed_received_and_archived_once(cli, sandbox):
    ordered = now_iso(-timedelta(days=2))
    helmets = lsr_order("70", [("6", 10, "140.00", 0), ("8", 24, "3.125", 0)], ordered=ordered,
                        ship="15.00", when=ordered)
    tubes = lsr_order("71", [("8", 12, "3.10", 0)], ordered=ordered, when=ordered)
    draft = lsr_order("73", [("8", 1, "3.10", 0)], when=ordered)
    with FakeLightspeedR(orders=[helmets, tubes, draft], clock=time.time) as store:
        add_r_store(cli, sandbox, store, "sales-receipts")
        cli("connection", "set", "rs", "--sync-purchase-orders")
        first = cli.sync("rs")
        assert first["status"] == "succeeded", first
        assert booked(first) == [("70", "1490.00"), ("71", "37.20")]
        po = purchase_orders(sandbox)["70"]
        assert (po["POStatus"], po["VendorRef"]["name"]) == ("Open", "Bike Parts Inc")
        assert lines_of(po) == [("Helmet L", D(10), D("140.00"), D("1400.00")),
                                ("Inner tube 700c", D(24), D("3.125"), D("75.00")),
                                ("Shipping and other costs", D("15.00"))]
        # Its date is the store's day (the account's time zone), not the UTC one.
        assert po["TxnDate"] == datetime.fromisoformat(ordered).astimezone(
            ZoneInfo("America/Chicago")).date().isoformat()
        assert cli.sync("rs")["documents"] == []

        # Two more helmets and no tubes before anything is checked in; the draft is ordered.
        set_quantity(helmets, 0, 12)
        del helmets["_lines"][1]
        draft.update(orderedDate=now_iso(), timeStamp=now_iso())
        changed = cli.sync("rs")
        assert booked(changed) == [("70", "1695.00"), ("73", "3.10")], changed
        after = purchase_orders(sandbox)["70"]
        assert (after["Id"], int(after["SyncToken"])) == (po["Id"], 1)
        assert lines_of(after) == [("Helmet L", D(12), D("140.00"), D("1680.00")),
                                   ("Shipping and other costs", D("15.00"))]

        receive(helmets, [6])                       # part of it checked in: nothing to send
        assert cli.sync("rs")["documents"] == []
        receive(helmets, [12], complete=True)
        tubes.update(archived="true", timeStamp=now_iso())   # archived before check-in
        # Closing them is stored, but every answer is lost: the next run finds them closed.
        sandbox.inject("drop_after_write", count=2 * ALL_ATTEMPTS)
        lost = cli.sync("rs", expect=1)
        assert sorted(e["order"] for e in lost["errors"]) == ["70", "71"], lost
        assert cli.sync("rs")["status"] == "succeeded"
        assert cli.sync("rs")["documents"] == []
    pos = purchase_orders(sandbox)
    assert sorted(pos) == ["70", "71", "73"]
    assert (pos["70"]["POStatus"], int(pos["70"]["SyncToken"])) == ("Closed", 2)
    assert amount(pos["70"]["TotalAmt"]) == D("1695.00")
    assert (pos["71"]["POStatus"], int(pos["71"]["SyncToken"])) == ("Closed", 1)
    assert "Received in Lightspeed Retail (R-Series): closed." in pos["70"]["PrivateNote"]
    assert pos["71"]["POStatus"] == "Closed"
    assert "Cancelled in Lightspeed Retail (R-Series): closed." in pos["71"]["PrivateNote"]


def test_lightspeed_r_lost_answers_book_once_and_undo_puts_back(cli, sandbox):
    ordered = now_iso(-timedelta(days=1))
    tubes = lsr_order("80", [("8", 12, "3.10", 0)], ordered=ordered, when=ordered)
    with FakeLightspeedR(orders=[tubes], clock=time.time) as store:
        add_r_store(cli, sandbox, store, "sales-receipts")
        cli("connection", "set", "rs", "--sync-purchase-orders")
        assert booked(cli.sync("rs")) == [("80", "37.20")]
        store.orders["81"] = lsr_order("81", [("6", 3, "139.99", 0)], ordered=now_iso(),
                                       when=now_iso())
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        assert cli.sync("rs", expect=1)["status"] == "partial"
        assert cli.sync("rs")["status"] == "succeeded"
        set_quantity(tubes, 0, 20)
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        lost = cli.sync("rs", expect=1)
        assert lost["status"] == "partial"
        assert cli.sync("rs")["status"] == "succeeded"
        assert cli.sync("rs")["documents"] == []
        pos = purchase_orders(sandbox)
        assert {n: (int(p["SyncToken"]), amount(p["TotalAmt"])) for n, p in pos.items()} == {
            "80": (1, D("62.00")), "81": (0, D("419.97"))}

        # Undoing the run whose answer was lost puts the first booking back.
        _, out = cli("undo", str(lost["run_id"]), "--json")
        assert amount(purchase_orders(sandbox)["80"]["TotalAmt"]) == D("37.20"), out
        assert booked(cli.sync("rs")) == [("80", "62.00")]     # and the next sync redoes it
        assert cli.sync("rs")["documents"] == []
    assert len(documents(sandbox, "PurchaseOrder")) == 2
