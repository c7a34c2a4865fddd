"""The store's own purchase orders, end to end through the CLI into the sandbox: created,
changed, closed and undone, each change exactly once across lost answers and re-runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.writing import SentRequest, Unanswered
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.quickbooks.ratelimit import BackoffPolicy
from connex_desktop.quickbooks.writer import QuickBooksOnlineWriter
from connex_desktop.sandbox.server import SandboxServer
from tests.fakes.linnworks import (
    LW_APP_ID,
    LW_SECRET,
    LW_TOKEN,
    FakeLinnworks,
    lw_purchase,
    now_iso,
)
from tests.fakes.skuvault import SV_EMAIL, SV_PASSWORD, FakeSkuVault, sv_purchase
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal
# Every attempt of one write (the first and the client's five retries) loses its answer.
ALL_ATTEMPTS = 6


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """The client's back-off between retries, without the wait."""
    monkeypatch.setattr(BackoffPolicy, "delay_s", lambda *_args, **_kwargs: 0.0)


def linnworks_po(reference: str, items, **kwargs) -> dict:
    """A Linnworks purchase order dated today, in the sandbox company's dollars."""
    po = lw_purchase(reference, items, day=now_iso(-timedelta(minutes=1)), **kwargs)
    po["PurchaseOrderHeader"]["Currency"] = "USD"
    return po


def set_quantity(po: dict, index: int, quantity: int) -> None:
    """The store changes a line's quantity (its Cost is the line total with 20% tax)."""
    item = po["PurchaseOrderItem"][index]
    unit = (D(str(item["Cost"])) - D(str(item["Tax"]))) / item["Quantity"]
    net = unit * quantity
    tax = (net * D("0.20")).quantize(D("0.01"))
    po["PurchaseOrderHeader"]["taxPaid"] = float(
        D(str(po["PurchaseOrderHeader"]["taxPaid"])) - D(str(item["Tax"])) + tax)
    item.update(Quantity=quantity, Cost=float(net + tax), Tax=float(tax))


def add_linnworks(cli, sandbox, store: FakeLinnworks, *options: str) -> None:
    cli("connection", "add", "lw", "--source", "linnworks", "--mode", "invoices",
        "--set", f"application_id={LW_APP_ID}", "--set", f"api_url={store.url}",
        "--set", "timezone=UTC", "--secret", "application_secret",
        "--secret", "installation_token", *options, stdin=f"{LW_SECRET}\n{LW_TOKEN}\n")
    cli.connect_quickbooks("lw", sandbox)


def purchase_orders(sandbox) -> dict[str, dict]:
    return {str(po.get("DocNumber") or po["Id"]): po for po in documents(sandbox, "PurchaseOrder")}


def lines_of(po: dict) -> list[tuple]:
    return [(line["ItemBasedExpenseLineDetail"]["ItemRef"]["name"],
             D(str(line["ItemBasedExpenseLineDetail"]["Qty"])),
             D(str(line["ItemBasedExpenseLineDetail"]["UnitPrice"])), amount(line["Amount"]))
            if line["DetailType"] == "ItemBasedExpenseLineDetail"
            else (line["Description"], amount(line["Amount"])) for line in po["Line"]]


def test_linnworks_purchase_orders_created_changed_and_closed_once(cli, sandbox):
    ordered = linnworks_po("PO-2026-0042", [("TEE-BLK-M", 100, "5.00"), ("MUG-1", 3, "2.333")],
                           shipping="12.00")
    # Linnworks finds purchase orders by their date: this one keeps a date before any cursor.
    draft = linnworks_po("PO-2026-0043", [("SOCK-3", 10, "1.10")], status="PENDING")
    draft["PurchaseOrderHeader"]["DateOfPurchase"] = now_iso(-timedelta(days=3))
    with FakeLinnworks([], purchases=[ordered, draft]) as store:
        add_linnworks(cli, sandbox, store, "--sync-purchase-orders")
        first = cli.sync("lw")
        assert first["status"] == "succeeded", first
        assert [(d["order"], d["kind"], d["total"]) for d in first["documents"]] == [
            ("PO-2026-0042", "PurchaseOrder", "519.00")]
        [po] = purchase_orders(sandbox).values()
        assert po["DocNumber"] == "PO-2026-0042" and po["POStatus"] == "Open"
        assert po["VendorRef"]["name"] == "Cotton Supply Co"
        assert (po["TxnDate"], po["DueDate"]) == (ordered["PurchaseOrderHeader"][
            "DateOfPurchase"][:10], "2026-11-10")
        # Lines by SKU at the unit cost without tax; the freight on the cost account.
        assert lines_of(po) == [("Tee-Blk-M", D(100), D("5.00"), D("500.00")),
                                ("Mug-1", D(3), D("2.3333"), D("7.00")),
                                ("Shipping and other costs", D("12.00"))]
        assert amount(po["TotalAmt"]) == D("519.00")
        assert "Linnworks purchase order PO-2026-0042" in po["Memo"]
        assert "Purchase Order PO-2026-0042 from Linnworks" in po["PrivateNote"]
        assert [v["DisplayName"] for v in documents(sandbox, "Vendor")
                ].count("Cotton Supply Co") == 1
        _, out = cli("history", "lw", "--json")
        outcomes = {(o["item"], o["order"]): (o["outcome"], o["message"])
                    for o in json.loads(out)["runs"][0]["order_outcomes"]}
        assert outcomes[("purchase_order", "PO-2026-0042")][0] == "booked"
        assert outcomes[("purchase_order", "PO-2026-0043")] == ("skipped", (
            "Skipped: it is still a draft in Linnworks (PENDING); it is booked once it is "
            "ordered."))

        # Nothing changed: nothing sent.
        again = cli.sync("lw")
        assert again["documents"] == [] and again["status"] == "succeeded"

        # A quantity changes before anything is received: the same purchase order changes.
        set_quantity(ordered, 0, 120)
        changed = cli.sync("lw")
        assert [(d["order"], d["total"]) for d in changed["documents"]] == [
            ("PO-2026-0042", "619.00")], changed
        [po_after] = purchase_orders(sandbox).values()
        assert po_after["Id"] == po["Id"] and int(po_after["SyncToken"]) == 1
        assert lines_of(po_after)[0] == ("Tee-Blk-M", D(120), D("5.00"), D("600.00"))
        assert amount(po_after["TotalAmt"]) == D("619.00")

        # Part of it arrives: the store's copy changes, not what QuickBooks holds.
        ordered["PurchaseOrderHeader"]["Status"] = "PARTIAL"
        ordered["PurchaseOrderItem"][0]["Delivered"] = 50
        assert cli.sync("lw")["documents"] == []
        assert int(purchase_orders(sandbox)["PO-2026-0042"]["SyncToken"]) == 1

        # Delivered: it closes, once.
        ordered["PurchaseOrderHeader"]["Status"] = "DELIVERED"
        for item in ordered["PurchaseOrderItem"]:
            item["Delivered"] = item["Quantity"]
        closed = cli.sync("lw")
        assert [d["order"] for d in closed["documents"]] == ["PO-2026-0042"]
        [po_closed] = purchase_orders(sandbox).values()
        assert po_closed["POStatus"] == "Closed" and int(po_closed["SyncToken"]) == 2
        assert "Received in Linnworks: closed." in po_closed["PrivateNote"]
        assert cli.sync("lw")["documents"] == []

        # The draft is ordered days later: it is watched, so it is booked now.
        draft["PurchaseOrderHeader"]["Status"] = "OPEN"
        ordered_later = cli.sync("lw")
        assert [(d["order"], d["total"]) for d in ordered_later["documents"]] == [
            ("PO-2026-0043", "11.00")], ordered_later
    assert sorted(purchase_orders(sandbox)) == ["PO-2026-0042", "PO-2026-0043"]


def test_a_lost_answer_books_each_revision_once_across_re_runs(cli, sandbox, monkeypatch):
    first_po = linnworks_po("PO-1", [("TEE-BLK-M", 10, "5.00")])
    with FakeLinnworks([], purchases=[first_po]) as store:
        add_linnworks(cli, sandbox, store, "--sync-purchase-orders")
        assert cli.sync("lw")["status"] == "succeeded"
        # The next purchase order's write is stored, but every answer to it is lost.
        second_po = linnworks_po("PO-2", [("TEE-BLK-M", 7, "5.10")])
        store.purchases[second_po["PurchaseOrderHeader"]["pkPurchaseID"]] = second_po
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        lost = cli.sync("lw", expect=1)
        assert lost["status"] == "partial" and "did not confirm" in json.dumps(lost["errors"])
        assert sorted(purchase_orders(sandbox)) == ["PO-1", "PO-2"]
        healed = cli.sync("lw")
        assert healed["status"] == "succeeded", healed
        assert sorted(purchase_orders(sandbox)) == ["PO-1", "PO-2"]

        # A change whose answer is lost is found done, not made twice.
        set_quantity(second_po, 0, 9)
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        assert cli.sync("lw", expect=1)["status"] == "partial"
        assert cli.sync("lw")["status"] == "succeeded"
        assert cli.sync("lw")["documents"] == []
        po = purchase_orders(sandbox)["PO-2"]
        assert (int(po["SyncToken"]), amount(po["TotalAmt"])) == (1, D("45.90"))

        # A change lost on its way, before QuickBooks saw it, is sent again: the purchase
        # order of that number is there, but it is not taken for the change.
        set_quantity(second_po, 0, 11)
        real_send = QuickBooksOnlineWriter.send
        monkeypatch.setattr(QuickBooksOnlineWriter, "send", lost_on_the_way)
        assert cli.sync("lw", expect=1)["status"] == "partial"
        monkeypatch.setattr(QuickBooksOnlineWriter, "send", real_send)
        assert cli.sync("lw")["status"] == "succeeded"
        assert cli.sync("lw")["documents"] == []
    po = purchase_orders(sandbox)["PO-2"]
    assert (int(po["SyncToken"]), amount(po["TotalAmt"])) == (2, D("56.10"))
    assert len(documents(sandbox, "PurchaseOrder")) == 2


def lost_on_the_way(_writer, writes):
    """Every request is lost before it reaches QuickBooks."""
    fault = QuickBooksFault("the connection was lost.", kind=ErrorKind.RETRY_LATER)
    return [SentRequest((Unanswered(write, fault),), fault) for write in writes]


def add_skuvault(cli, sandbox, store: FakeSkuVault, *options: str) -> None:
    cli("connection", "add", "sv", "--source", "skuvault", "--mode", "invoices",
        "--set", f"email={SV_EMAIL}", "--set", "currency=USD",
        "--set", f"api_url={store.url}/api", "--set", "timezone=UTC",
        "--secret", "password", *options, stdin=f"{SV_PASSWORD}\n")
    cli.connect_quickbooks("sv", sandbox)


def sync_a_minute_later(cli, store: FakeSkuVault) -> dict:
    """Syncs a minute apart, as a schedule would: getPOs allows a few calls a minute."""
    store.advance(60)
    return cli.sync("sv")


def test_skuvault_purchase_orders_changed_cancelled_and_undone(cli, sandbox):
    created = now_iso(-timedelta(days=2))
    kept = sv_purchase("PO-77", [("TEE-BLK-M", 40, "4.25"), ("MUG-1", 6, "3.10")],
                       created=created)
    dropped = sv_purchase("PO-78", [("SOCK-3", 12, "1.15")], created=created)
    with FakeSkuVault([], purchases=[kept, dropped]) as store:
        add_skuvault(cli, sandbox, store, "--sync-purchase-orders")
        first = sync_a_minute_later(cli, store)
        assert sorted((d["order"], d["total"]) for d in first["documents"]) == [
            ("PO-77", "188.60"), ("PO-78", "13.80")], first
        run_id = first["run_id"]

        kept["LineItems"][1]["Quantity"] = 10
        store.touch("PO-77", now_iso())
        dropped["Status"] = "Cancelled"
        store.touch("PO-78", now_iso())
        later = sync_a_minute_later(cli, store)
        assert sorted((d["order"], d["total"]) for d in later["documents"]) == [
            ("PO-77", "201.00"), ("PO-78", "13.80")], later
        pos = purchase_orders(sandbox)
        assert amount(pos["PO-77"]["TotalAmt"]) == D("201.00")
        assert pos["PO-78"]["POStatus"] == "Closed"
        assert "Cancelled in SkuVault: closed." in pos["PO-78"]["PrivateNote"]
        assert sync_a_minute_later(cli, store)["documents"] == []

        # Undoing the later run puts each purchase order back as the first run booked it.
        _, out = cli("undo", str(later["run_id"]), "--json")
        pos = purchase_orders(sandbox)
        assert amount(pos["PO-77"]["TotalAmt"]) == D("188.60"), out
        assert pos["PO-78"]["POStatus"] == "Open"
        # The first run's purchase orders go with it; the next sync books them anew.
        cli("undo", str(run_id), "--json")
        assert purchase_orders(sandbox) == {}
        # Changed long before the cursor: only asking for them by number finds them.
        store.po_modified = dict.fromkeys(store.po_modified, datetime(2026, 1, 1, tzinfo=UTC))
        again = sync_a_minute_later(cli, store)
        assert [(d["order"], d["total"]) for d in again["documents"]] == [
            ("PO-77", "201.00")], again     # PO-78 is cancelled: nothing to book
        assert again["orders"] == {"fetched": 1, "synced": 1, "skipped": 0, "failed": 0}
        assert sorted(purchase_orders(sandbox)) == ["PO-77"]


def test_a_purchase_order_healed_after_a_lost_answer_is_recorded_booked_and_left_alone(
        cli, sandbox):
    """A create whose answer was lost is found booked by the next run, which records it so:
    the run after asks SkuVault nothing of it and sends QuickBooks nothing."""
    created = now_iso(-timedelta(days=2))
    kept = sv_purchase("PO-77", [("TEE-BLK-M", 40, "4.25")], created=created)
    with FakeSkuVault([], purchases=[kept]) as store:
        add_skuvault(cli, sandbox, store, "--sync-purchase-orders")
        assert sync_a_minute_later(cli, store)["status"] == "succeeded"
        # Received in full: booked closed. Every answer to its write is lost.
        store.purchases["PO-79"] = sv_purchase("PO-79", [("TEE-BLK-M", 4, "5.10")],
                                               status="Completed", received=4, created=created)
        store.touch("PO-79", now_iso())
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        store.advance(60)
        lost = cli.sync("sv", expect=1)
        assert lost["status"] == "partial" and "did not confirm" in json.dumps(lost["errors"])

        healed = sync_a_minute_later(cli, store)
        assert healed["status"] == "succeeded", healed
        _, out = cli("history", "sv", "--json")
        outcomes = {(o["item"], o["order"]): (o["outcome"], o["message"])
                    for o in json.loads(out)["runs"][0]["order_outcomes"]}
        assert outcomes[("purchase_order", "PO-79")] == (
            "booked", "Created the purchase order, closed (received in the store).")

        # Changed long before the next run's cursor: only asking by number would find it.
        store.po_modified = dict.fromkeys(store.po_modified, datetime(2026, 1, 1, tzinfo=UTC))
        asked, requests = len(store.bodies("/api/purchaseorders/getPOs")), sandbox.request_count
        after = sync_a_minute_later(cli, store)
        assert after["status"] == "succeeded" and after["documents"] == [], after
        numbers = [body.get("PONumbers") for body in
                   store.bodies("/api/purchaseorders/getPOs")[asked:]]
        assert ["PO-77"] in numbers and not any("PO-79" in (n or []) for n in numbers)
        assert sandbox.request_count == requests    # PO-77, still open, is unchanged
    po = purchase_orders(sandbox)["PO-79"]
    assert (po["POStatus"], int(po["SyncToken"]), amount(po["TotalAmt"])) == (
        "Closed", 0, D("20.40"))
    assert len(documents(sandbox, "PurchaseOrder")) == 2


def test_refused_for_a_store_without_its_own_purchase_orders(cli, tmp_path):
    (tmp_path / "orders.csv").write_text("Order Number\n")
    _, out = cli("connection", "add", "shop", "--source", "csv", "--mode", "invoices",
                 "--set", f"path={tmp_path / 'orders.csv'}", "--sync-purchase-orders",
                 expect=2)
    assert "keeps no purchase orders of its own to sync" in out


def test_a_vat_company_books_each_line_with_its_purchase_tax_code(cli):
    """The store's unit costs go without tax; the company's VAT codes add it back to the
    store's total to the cent."""
    ordered = lw_purchase("PO-UK-1", [("TEE-BLK-M", 100, "5.00"), ("MUG-1", 3, "2.333")],
                          shipping="12.00", day=now_iso(-timedelta(minutes=1)))
    with SandboxServer(kind="uk") as sandbox, FakeLinnworks([], purchases=[ordered]) as store:
        add_linnworks(cli, sandbox, store, "--sync-purchase-orders")
        assert cli.sync("lw")["status"] == "succeeded"
        [po] = purchase_orders(sandbox).values()
        codes = {code["Id"]: code for code in documents(sandbox, "TaxCode")}
        rates = {rate["Id"]: D(str(rate["RateValue"])) for rate in documents(sandbox, "TaxRate")}

        def purchase_rate(line: dict) -> Decimal:
            detail = line.get("ItemBasedExpenseLineDetail") or line[
                "AccountBasedExpenseLineDetail"]
            code = codes[detail["TaxCodeRef"]["value"]]
            return sum((rates[d["TaxRateRef"]["value"]] for d in code[
                "PurchaseTaxRateList"]["TaxRateDetail"]), D(0))

        assert [purchase_rate(line) for line in po["Line"]] == [D(20), D(20), D(0)]
        assert amount(po["TotalAmt"]) == D("620.40")    # Linnworks' total with its tax


def test_quickbooks_numbering_keeps_the_number_in_the_memo_and_finds_a_lost_one_by_it(
        cli, sandbox):
    created = now_iso(-timedelta(days=1))
    first_po = sv_purchase("PO-90", [("TEE-BLK-M", 8, "4.25")], created=created)
    with FakeSkuVault([], purchases=[first_po]) as store:
        add_skuvault(cli, sandbox, store, "--sync-purchase-orders", "--use-qb-numbering")
        _, out = cli("sync", "sv", "--dry-run", "--json")
        assert [(d["order"], d["kind"], d["qb_id"]) for d in json.loads(out)["documents"]] == [
            ("PO-90", "PurchaseOrder", "")]
        assert purchase_orders(sandbox) == {}
        assert sync_a_minute_later(cli, store)["status"] == "succeeded"
        second_po = sv_purchase("PO-91", [("TEE-BLK-M", 5, "4.40")], created=now_iso())
        store.purchases["PO-91"] = second_po
        store.touch("PO-91", now_iso())
        sandbox.inject("drop_after_write", count=ALL_ATTEMPTS)
        store.advance(60)
        assert cli.sync("sv", expect=1)["status"] == "partial"
        assert sync_a_minute_later(cli, store)["status"] == "succeeded"
        assert sync_a_minute_later(cli, store)["documents"] == []
    pos = documents(sandbox, "PurchaseOrder")
    assert sorted(po["Memo"] for po in pos) == ["SkuVault purchase order PO-90",
                                                "SkuVault purchase order PO-91"]
    assert not {po.get("DocNumber") for po in pos} & {"PO-90", "PO-91"}
    assert sorted(amount(po["TotalAmt"]) for po in pos) == [D("22.00"), D("34.00")]
