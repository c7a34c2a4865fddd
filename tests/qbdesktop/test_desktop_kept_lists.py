"""QuickBooks Desktop's lists are kept between runs and brought up to date with what QuickBooks
changed (FromModifiedDate) and deleted (ListDeletedQuery) since, by QuickBooks' own clock; a
replaced or restored company file is read whole again."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App
from connex_desktop.core.modes import TransactionMode
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import StatusError
from connex_desktop.qbdesktop.qbxml import message_set
from connex_desktop.qbdesktop.requests import list_deleted_query, query_request
from connex_desktop.qbdesktop.responses import parse_response
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from connex_desktop.sync.desktop_lists import KeptLists
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import desktop_connection, sync, txns
from tests.sync.conftest import row, write_orders

D = Decimal
PACIFIC = timezone(timedelta(hours=-8))
REALM = "qbd-demo-file"


class QuickBooksClock:
    """The QuickBooks workstation's clock: five hours behind this computer's, in its own time
    zone, moved on by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(PACIFIC).replace(microsecond=0) - timedelta(hours=5)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> QuickBooksClock:
    return QuickBooksClock()


@pytest.fixture
def quickbooks(clock: QuickBooksClock) -> FakeQuickBooks:
    return FakeQuickBooks(seeded_company(clock), validator=schema_errors)


@pytest.fixture
def sent(quickbooks: FakeQuickBooks) -> Iterator[list[ET.Element]]:
    """Every request QuickBooks is sent from now on."""
    requests: list[ET.Element] = []
    answer = quickbooks.process

    def process(document: str) -> str:
        msgs = ET.fromstring(document.encode("utf-8")).find("QBXMLMsgsRq")
        requests.extend(msgs if msgs is not None else [])
        return answer(document)

    quickbooks.process = process  # type: ignore[method-assign]
    yield requests


def list_reads(requests: list[ET.Element]) -> list[ET.Element]:
    """The reads of whole lists or of their changes (not the look-ups of one name)."""
    return [request for request in requests if request.tag in {
        "CustomerQueryRq", "ItemQueryRq", "VendorQueryRq", "AccountQueryRq",
        "PaymentMethodQueryRq", "SalesTaxCodeQueryRq"} and request.find("FullName") is None]


def item_refs(requests: list[ET.Element]) -> list[tuple[str, str]]:
    return [(ref.findtext("ListID", ""), ref.findtext("FullName", ""))
            for request in requests if request.tag == "InvoiceAddRq"
            for ref in request.iter("ItemRef")]


def test_a_second_run_books_on_the_items_quickbooks_has_now_reading_only_its_changes(
        app: App, quickbooks: FakeQuickBooks, clock: QuickBooksClock,
        sent: list[ET.Element], tmp_path: Path) -> None:
    company = quickbooks.company
    clock.advance(hours=2)
    company.add_item("Stove")   # the newest change the first run reads: the seeded items,
    # the deleted one among them, were last changed long before it
    orders = [row("3001", "TENT-2P", "1", "299.00", customer_name="Jane Doe",
                  customer_email="jane@example.com")]
    path = write_orders(tmp_path / "orders.csv", orders)
    shop = desktop_connection(app, path, TransactionMode.INVOICES)
    sync(app, shop)

    # Two hours later (by QuickBooks' clock), in QuickBooks: an item added, one renamed, one
    # deleted.
    clock.advance(hours=2)
    headlamp = company.add_item("Headlamp 200", part_number="HEAD-1", price=D("25"))
    mug = next(item for item in company.items.values() if item.name == "Mug")
    company.edit(mug, name="Camp Mug")
    gift = next(item for item in company.items.values() if item.name == "Gift Box")
    company.delete(gift)
    sent.clear()
    write_orders(path, [*orders,
                        row("3002", "HEAD-1", "2", "25.00", product_name="Headlamp"),
                        row("3002", "MUG", "1", "9.50", product_name="Mug"),
                        row("3002", "GIFT", "1", "4.99", product_name="Gift Box")])
    sync(app, shop)

    invoice = txns(quickbooks, "Invoice")["3002"]
    assert [(line.item.name, line.amount) for line in invoice.lines] == [
        ("Headlamp 200", D("50.00")), ("Camp Mug", D("9.50")), ("Gift Box", D("4.99"))]
    assert invoice.total == D("64.49")
    assert invoice.lines[0].item is headlamp and invoice.lines[1].item is mug
    new_gift = invoice.lines[2].item
    assert new_gift.list_id != gift.list_id and new_gift.part_number == "GIFT"
    assert [item.name for item in company.items.values() if item.part_number == "HEAD-1"] == [
        "Headlamp 200"]
    # QuickBooks was told the items by their names now, never the deleted one.
    assert (mug.list_id, "Camp Mug") in item_refs(sent)
    assert gift.list_id not in {list_id for list_id, _name in item_refs(sent)}
    # The second run read only what QuickBooks changed since the first.
    reads = list_reads(sent)
    assert reads and all(read.findtext("FromModifiedDate") for read in reads)
    assert all(read.findtext("ActiveStatus") == "All" for read in reads)
    assert any(request.tag == "ListDeletedQueryRq" for request in sent)

    sync(app, shop)     # exactly once: nothing booked again
    assert sorted(txns(quickbooks, "Invoice")) == ["3001", "3002"]
    assert txns(quickbooks, "Invoice")["3001"].total == D("299.00")


def test_an_item_deleted_while_a_run_books_is_learnt_and_not_used(
        app: App, quickbooks: FakeQuickBooks, clock: QuickBooksClock, tmp_path: Path) -> None:
    """QuickBooks refuses the invoice naming an item deleted after the run read the lists: the
    lists are brought up to date (the deletion learnt) and the order planned again."""
    company = quickbooks.company
    clock.advance(hours=2)
    company.add_item("Stove")   # the newest change kept, well after the gift box's
    path = write_orders(tmp_path / "orders.csv", [row("4001", "TENT-2P", "1", "299.00")])
    shop = desktop_connection(app, path, TransactionMode.INVOICES)
    sync(app, shop)
    gift = next(item for item in company.items.values() if item.name == "Gift Box")
    answer = quickbooks.process

    def deleting_first(document: str) -> str:
        if "InvoiceAddRq" in document and gift.list_id in company.items:
            clock.advance(minutes=5)
            company.delete(gift)    # in QuickBooks, as the run books
        return answer(document)

    quickbooks.process = deleting_first  # type: ignore[method-assign]
    write_orders(path, [row("4001", "TENT-2P", "1", "299.00"),
                        row("4002", "GIFT", "2", "4.99", product_name="Gift Box")])
    sync(app, shop)
    invoice = txns(quickbooks, "Invoice")["4002"]
    [line] = invoice.lines
    assert (line.item.name, line.item.part_number, line.amount) == ("Gift Box", "GIFT",
                                                                    D("9.98"))
    assert line.item.list_id != gift.list_id and invoice.total == D("9.98")


def desktop(app: App, quickbooks: FakeQuickBooks,
            ours: QuickBooksClock | None = None) -> QuickBooksDesktop:
    """One run's QuickBooks Desktop, its lists kept in the app's reference store (`ours`: this
    computer's clock, when not the real one)."""
    lists = KeptLists(app.references, REALM, **({"clock": ours} if ours else {}))
    return QuickBooksDesktop(quickbooks, lists=lists)


def item_names(back_end: QuickBooksDesktop) -> dict[str, bool]:
    """The items as the engine reads them: name → active."""
    return {record["Name"]: record["Active"] for record in back_end.query_all("Item")}


def test_an_item_made_inactive_is_read_as_such_and_a_change_by_a_slow_clock_too(
        app: App, quickbooks: FakeQuickBooks, clock: QuickBooksClock) -> None:
    """The overlap: a change another workstation stamps with a clock behind QuickBooks' last
    stamp is still read."""
    company = quickbooks.company
    assert item_names(desktop(app, quickbooks))["Tent 2P"] is True
    clock.advance(hours=3)
    company.add_item("Stove")
    assert item_names(desktop(app, quickbooks))["Stove"] is True
    tent = next(item for item in company.items.values() if item.name == "Tent 2P")
    clock.advance(minutes=-20)      # another workstation, twenty minutes behind
    company.edit(tent, active=False)
    names = item_names(desktop(app, quickbooks))
    assert names["Tent 2P"] is False and names["Stove"] is True


def test_lists_last_brought_up_to_date_beyond_quickbooks_deletion_record_are_read_whole(
        app: App, quickbooks: FakeQuickBooks, clock: QuickBooksClock) -> None:
    """QuickBooks reports 90 days of deletions: a list not read for longer is read whole."""
    company = quickbooks.company
    ours = QuickBooksClock()
    clock.advance(hours=2)
    company.add_item("Stove")       # the newest change kept, well after the gift box's
    assert "Gift Box" in item_names(desktop(app, quickbooks, ours))
    clock.advance(days=1)
    company.delete(next(item for item in company.items.values() if item.name == "Gift Box"))
    clock.advance(days=91)
    ours.advance(days=92)
    assert "Gift Box" not in item_names(desktop(app, quickbooks, ours))


def test_a_list_whose_changes_quickbooks_will_not_tell_is_read_whole(
        app: App, quickbooks: FakeQuickBooks, clock: QuickBooksClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    company = quickbooks.company
    assert "Gift Box" in item_names(desktop(app, quickbooks))
    clock.advance(hours=2)
    company.delete(next(item for item in company.items.values() if item.name == "Gift Box"))

    def refused(*_args: object) -> None:
        raise StatusError(3000, "The request is not supported.")

    monkeypatch.setattr(company, "deleted_since", refused)
    assert "Gift Box" not in item_names(desktop(app, quickbooks))


def test_a_restored_or_replaced_company_file_is_read_whole_again(
        app: App, quickbooks: FakeQuickBooks, clock: QuickBooksClock) -> None:
    company = quickbooks.company
    clock.advance(hours=1)
    backup = copy.deepcopy(company)
    clock.advance(hours=1)
    company.add_item("Headlamp 200", part_number="HEAD-1")
    assert "Headlamp 200" in item_names(desktop(app, quickbooks))

    clock.advance(hours=1)
    quickbooks.company = backup     # restored from the backup made before the headlamp
    assert "Headlamp 200" not in item_names(desktop(app, quickbooks))

    quickbooks.company = FakeCompanyFile("Another Shop", clock=clock)   # another file
    items = item_names(desktop(app, quickbooks))
    assert items == {}
    assert [record["Name"] for record in desktop(app, quickbooks).query_all("Account")] == [
        account.name for account in quickbooks.company.other("Account")]


def ask(quickbooks: FakeQuickBooks, request: ET.Element) -> list[ET.Element]:
    return list(parse_response(quickbooks.process(message_set([request]))).results[0].rets)


def test_the_fake_answers_modified_dates_active_status_and_deletions_as_quickbooks(
        quickbooks: FakeQuickBooks, clock: QuickBooksClock) -> None:
    company = quickbooks.company
    start = clock()
    clock.advance(minutes=5)
    mug = next(item for item in company.items.values() if item.name == "Mug")
    company.edit(mug, active=False)
    gift = next(item for item in company.items.values() if item.name == "Gift Box")
    company.delete(gift)

    def names(**criteria: str) -> list[str]:
        rets = ask(quickbooks, query_request("Item", "1", **criteria))
        return [ret.findtext("Name", "") for ret in rets]

    assert "Mug" not in names() and "Gift Box" not in names()       # ActiveOnly by default
    assert names(active_status="All", modified_since=(start + timedelta(minutes=1)).isoformat()
                 ) == ["Mug"]
    assert names(active_status="InactiveOnly") == ["Mug"]
    # Without an offset, FromModifiedDate is in the company file's time zone.
    assert names(active_status="All",
                 modified_since=clock().replace(tzinfo=None).isoformat()) == ["Mug"]
    [deleted] = ask(quickbooks, list_deleted_query(("ItemNonInventory",), start.isoformat(), "1"))
    assert (deleted.findtext("ListID"), deleted.findtext("FullName")) == (gift.list_id,
                                                                           "Gift Box")
    assert ask(quickbooks, list_deleted_query(("Customer",), start.isoformat(), "1")) == []
    clock.advance(days=91)      # QuickBooks reports 90 days of deletions
    assert ask(quickbooks, list_deleted_query(("ItemNonInventory",), start.isoformat(),
                                              "1")) == []
