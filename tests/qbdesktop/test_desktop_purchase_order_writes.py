"""A store's purchase orders written into QuickBooks Desktop (the fake company file, every
request checked against Intuit's schema): new vendors, other costs on the freight item,
changes as PurchaseOrderMod (closing too), and undo's change back."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.writing import Refused, Stored, Write
from connex_desktop.qbdesktop.fake import transactions
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import StatusError, Txn
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from connex_desktop.sync.desktop_writer import DesktopWriter

D = Decimal
COGS = {"value": "", "name": "Cost of Goods Sold"}


@pytest.fixture
def company(quickbooks: FakeQuickBooks) -> QuickBooksDesktop:
    return QuickBooksDesktop(quickbooks)


def item_line(item: str, quantity: str, cost: str) -> dict[str, Any]:
    amount = str((D(quantity) * D(cost)).quantize(D("0.01")))
    return {"DetailType": "ItemBasedExpenseLineDetail", "Amount": amount, "Description": item,
            "ItemBasedExpenseLineDetail": {"ItemRef": {"name": item}, "Qty": quantity,
                                           "UnitPrice": cost}}


def cost_line(amount: str) -> dict[str, Any]:
    return {"DetailType": "AccountBasedExpenseLineDetail", "Amount": amount,
            "Description": "Shipping and other costs",
            "AccountBasedExpenseLineDetail": {"AccountRef": COGS}}


def po_body(vendor: str, *lines: dict[str, Any], status: str = "Open") -> dict[str, Any]:
    return {"VendorRef": {"name": vendor}, "TxnDate": "2026-12-05", "POStatus": status,
            "DocNumber": "PO-7", "PrivateNote": "Purchase PO-7 from Linnworks (revision 1).",
            "Line": list(lines)}


def write_one(writer: DesktopWriter, write: Write) -> Any:
    sealed = writer.with_request_ids([write])[0]
    return writer.send([sealed])[0].outcomes[0]


def only_po(quickbooks: FakeQuickBooks) -> Txn:
    [po] = [txn for txn in quickbooks.company.txns.values() if txn.kind == "PurchaseOrder"]
    return po


def lines_of(po: Txn) -> list[tuple[str, Decimal | None, Decimal]]:
    return [(line.item.name, line.quantity, line.amount) for line in po.lines]


def test_a_new_vendor_is_added_and_its_purchase_order_books_to_it(company, quickbooks):
    writer = company.writer(in_flight=1)
    vendor = write_one(writer, Write("Vendor", {"DisplayName": "Acme Supply",
                                                "CompanyName": "Acme Supply"}))
    assert isinstance(vendor, Stored)
    assert [v.name for v in quickbooks.company.vendors()] == ["Cascade", "Pacific",
                                                              "Acme Supply"]
    body = po_body("", item_line("Mug", "4", "3.50"))
    body["VendorRef"] = {"value": vendor.record["Id"], "name": "Acme Supply"}
    assert isinstance(write_one(writer, Write("PurchaseOrder", body)), Stored)
    assert only_po(quickbooks).entity.name == "Acme Supply"


def test_other_costs_go_on_a_freight_item_made_once_to_the_cent(company, quickbooks):
    writer = company.writer(in_flight=1)
    for _ in range(2):
        body = po_body("Pacific", item_line("Mug", "3", "3.50"), cost_line("7.45"))
        assert isinstance(write_one(writer, Write("PurchaseOrder", body)), Stored)
    freight = [item for item in quickbooks.company.items.values() if item.name == "Freight"]
    assert [item.kind for item in freight] == ["ItemOtherCharge"]
    totals = [txn.total for txn in quickbooks.company.txns.values()]
    assert totals == [D("17.95"), D("17.95")]
    assert lines_of(next(iter(quickbooks.company.txns.values())))[1] == ("Freight", None,
                                                                         D("7.45"))


def booked(company: QuickBooksDesktop, quickbooks: FakeQuickBooks) -> dict[str, Any]:
    writer = company.writer(in_flight=1)
    body = po_body("Cascade", item_line("Tent 2P", "2", "150.00"), cost_line("20.00"))
    assert isinstance(write_one(writer, Write("PurchaseOrder", body)), Stored)
    return company.query_in("PurchaseOrder", "Id", [only_po(quickbooks).txn_id])[0]


def change(current: dict[str, Any], *lines: dict[str, Any],
           status: str = "Open") -> dict[str, Any]:
    body = po_body("Cascade", *lines, status=status)
    body.pop("DocNumber")
    return {**body, "Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True}


def test_a_change_replaces_the_lines_and_closing_closes_it(company, quickbooks):
    current = booked(company, quickbooks)
    writer = company.writer(in_flight=1)
    changed = change(current, item_line("Tent 2P", "3", "150.00"), item_line("Mug", "1", "3.50"),
                     cost_line("25.10"), status="Closed")
    outcome = write_one(writer, Write("PurchaseOrder", changed))
    assert isinstance(outcome, Stored)
    po = only_po(quickbooks)
    assert lines_of(po) == [("Tent 2P", D(3), D("450.00")), ("Mug", D(1), D("3.50")),
                            ("Freight", None, D("25.10"))]
    assert po.total == D("478.60")
    assert po.ref_number == "PO-7"
    assert outcome.record["POStatus"] == "Closed"
    assert company.query_in("PurchaseOrder", "Id", [po.txn_id])[0]["POStatus"] == "Closed"


def test_a_change_naming_a_stale_edit_sequence_changes_nothing(company, quickbooks):
    current = booked(company, quickbooks)
    writer = company.writer(in_flight=1)
    first = change(current, item_line("Tent 2P", "3", "150.00"))
    assert isinstance(write_one(writer, Write("PurchaseOrder", first)), Stored)
    stale = change(current, item_line("Tent 2P", "9", "150.00"))
    outcome = write_one(writer, Write("PurchaseOrder", stale))
    assert isinstance(outcome, Refused)
    assert outcome.fault.kind is ErrorKind.RETRY_LATER
    assert "3200" in outcome.fault.detail
    assert lines_of(only_po(quickbooks)) == [("Tent 2P", D(3), D("450.00"))]


def test_a_change_sent_again_after_a_lost_answer_is_made_once(company, quickbooks):
    current = booked(company, quickbooks)
    writer = company.writer(in_flight=1)
    sealed = writer.with_request_ids(
        [Write("PurchaseOrder", change(current, item_line("Tent 2P", "5", "150.00")))])[0]
    processed = quickbooks.processed
    first, again = (writer.send([sealed])[0].outcomes[0] for _ in range(2))
    assert isinstance(first, Stored) and isinstance(again, Stored)
    assert quickbooks.processed == processed + 1     # the second answered from storage
    po = only_po(quickbooks)
    assert (lines_of(po), po.edit_sequence) == ([("Tent 2P", D(5), D("750.00"))], 2)


def test_undo_changes_it_back_from_the_kept_content_not_its_qbxml(company, quickbooks):
    writer = company.writer(in_flight=1)
    body = po_body("Cascade", item_line("Tent 2P", "2", "150.00"), cost_line("20.00"))
    first = writer.with_request_ids([Write("PurchaseOrder", body)])[0]
    assert isinstance(writer.send([first])[0].outcomes[0], Stored)
    po = only_po(quickbooks)
    current = company.query_in("PurchaseOrder", "Id", [po.txn_id])[0]
    changed = change(current, item_line("Mug", "1", "3.50"), status="Closed")
    assert isinstance(write_one(writer, Write("PurchaseOrder", changed)), Stored)
    # What undo sends: the first booking's kept body (its qbXML an Add), the current
    # EditSequence read just before.
    kept = {key: value for key, value in json.loads(json.dumps(first.body)).items()
            if key != "DocNumber"}
    now = company.query_in("PurchaseOrder", "Id", [po.txn_id])[0]
    record = company.update("PurchaseOrder", {**kept, "Id": po.txn_id,
                                              "SyncToken": now["SyncToken"], "sparse": True},
                            request_id="undo-1")
    assert record["POStatus"] == "Open"
    assert lines_of(po) == [("Tent 2P", D(2), D("300.00")), ("Freight", None, D("20.00"))]
    assert (po.total, len(quickbooks.company.txns)) == (D("320.00"), 1)


def test_one_received_before_it_was_booked_is_closed_right_after_its_add(company, quickbooks):
    writer = company.writer(in_flight=1)
    outcome = write_one(writer, Write("PurchaseOrder", po_body(
        "Pacific", item_line("Mug", "5", "3.00"), status="Closed")))
    assert isinstance(outcome, Stored) and outcome.record["POStatus"] == "Closed"
    po = only_po(quickbooks)
    assert po.manually_closed and po.total == D("15.00")
    assert outcome.record["SyncToken"] == str(po.edit_sequence) == "2"


def test_a_close_refused_after_the_add_leaves_it_booked_and_says_open(company, quickbooks,
                                                                       monkeypatch):
    def busy(*_args: object) -> None:
        raise StatusError(3175, "The record is in use by another user.")

    monkeypatch.setattr(transactions, "purchase_order_mod", busy)
    outcome = write_one(company.writer(in_flight=1), Write("PurchaseOrder", po_body(
        "Pacific", item_line("Mug", "5", "3.00"), status="Closed")))
    assert isinstance(outcome, Stored) and outcome.record["POStatus"] == "Open"
    assert not only_po(quickbooks).manually_closed


def test_a_freight_item_quickbooks_refuses_refuses_the_purchase_order_plainly(
        company, quickbooks, monkeypatch):
    def refused(_add: object) -> None:
        raise StatusError(3140, 'There is an invalid reference to QuickBooks Account "Cost of '
                                'Goods Sold" in the ItemOtherCharge.')

    monkeypatch.setattr(quickbooks.company, "item_other_charge_add", refused)
    outcome = write_one(company.writer(in_flight=1), Write("PurchaseOrder", po_body(
        "Pacific", item_line("Mug", "3", "3.50"), cost_line("7.45"))))
    assert isinstance(outcome, Refused), outcome
    assert 'The item "Freight"' in outcome.fault.message
    assert "3140" in outcome.fault.detail
    assert quickbooks.company.txns == {}
