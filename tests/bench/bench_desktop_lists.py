"""Benchmark: a second run into a QuickBooks Desktop company file of 20,000 items and 30,000
customers, its lists kept between runs, against the same run reading them whole (the baseline,
measured in the same session)."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App, build_app
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import ItemRecord, NameRecord
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import desktop_connection, txns
from tests.qbdesktop.test_desktop_kept_lists import QuickBooksClock
from tests.sync.conftest import row, write_orders

pytestmark = pytest.mark.bench

D = Decimal
ITEMS = 20_000
CUSTOMERS = 30_000
ORDERS = 50                   # each run's new orders, two lines each
# What the kept lists must save of the second run at least (the figures are deterministic).
TARGET_FEWER_LIST_READS = 5
TARGET_FEWER_RECORDS = 1000
ADDED, RENAMED, DELETED = "SKU-ADDED", "SKU-00007", "SKU-00011"
LIST_READS = {"CustomerQueryRq", "ItemQueryRq", "VendorQueryRq", "AccountQueryRq",
              "PaymentMethodQueryRq", "SalesTaxCodeQueryRq", "ListDeletedQueryRq"}


@dataclass(frozen=True)
class Cost:
    """What one run asked of QuickBooks: qbXML requests (and the message sets carrying them),
    the list records its answers held, and seconds on the clock."""

    requests: int
    list_reads: int     # those reading lists (or what was deleted from them)
    message_sets: int
    records: int
    wall_s: float


class CountingQuickBooks:
    """The fake company file's processor, counting what passes."""

    def __init__(self, quickbooks: FakeQuickBooks) -> None:
        self.quickbooks = quickbooks
        self.requests = self.list_reads = self.message_sets = self.records = 0

    def process(self, document: str) -> str:
        msgs = ET.fromstring(document.encode("utf-8")).find("QBXMLMsgsRq")
        requests = list(msgs) if msgs is not None else []
        self.message_sets += 1
        self.requests += len(requests)
        self.list_reads += sum(request.tag in LIST_READS and request.find("FullName") is None
                               for request in requests)
        answer = self.quickbooks.process(document)
        self.records += sum(1 for ret in ET.fromstring(answer.encode("utf-8")).iter()
                            if ret.tag.endswith("Ret") and ret.find("ListID") is not None
                            and ret.tag != "ListDeletedRet")
        return answer

    def cost(self, started: float) -> Cost:
        return Cost(self.requests, self.list_reads, self.message_sets, self.records,
                    round(time.perf_counter() - started, 2))


def sku(number: int) -> str:
    return f"SKU-{number:05d}"


def large_company(clock: QuickBooksClock) -> FakeCompanyFile:
    """20,000 items (SKU-00000…, $1.00 to $99.00) and 30,000 customers, made over the past
    year (added in bulk: the fake's own add checks every name, which would take minutes)."""
    company = FakeCompanyFile(clock=clock)
    year_ago = company.now() - timedelta(days=365)
    for number in range(ITEMS):
        made = year_ago + timedelta(minutes=number * 10)
        item = ItemRecord(company.new_id(), f"Product {number:05d}", part_number=sku(number),
                          price=D(number % 99 + 1), time_created=made, time_modified=made)
        company.items[item.list_id] = item
    for number in range(CUSTOMERS):
        made = year_ago + timedelta(minutes=number * 10)
        customer = NameRecord(company.new_id(), "Customer", f"Customer {number:05d}",
                              f"customer{number}@example.com", time_created=made,
                              time_modified=made)
        company.names[customer.list_id] = customer
    company.add_item("Shipping", kind="ItemOtherCharge")
    company.add_item("Sales Tax", kind="ItemOtherCharge")
    return company


def orders(first: int, skus: list[str]) -> list[dict[str, str]]:
    """ORDERS orders from `first` on, by existing customers, each a line of two SKUs."""
    rows = []
    for number in range(first, first + ORDERS):
        buyer = {"customer_name": f"Customer {number * 7 % CUSTOMERS:05d}",
                 "customer_email": f"customer{number * 7 % CUSTOMERS}@example.com"}
        for line in range(2):
            code = skus[(number * 2 + line) % len(skus)]
            rows.append(row(str(number), code, "1", price(code), product_name=f"Web {code}",
                            **buyer))
    return rows


def price(code: str) -> str:
    number = int(code.removeprefix("SKU-")) if code[4:].isdigit() else 24
    return f"{number % 99 + 1}.00"


def totals(rows: list[dict[str, str]]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for values in rows:
        found[values["Order Number"]] = (found.get(values["Order Number"], D(0))
                                         + D(values["Unit Price"]) * D(values["Quantity"]))
    return found


def two_runs(app: App, tmp_path: Path, clock: QuickBooksClock,
             quickbooks: FakeQuickBooks, counting: CountingQuickBooks) -> tuple[Cost, Cost]:
    """The first run, changes made in QuickBooks, then the second run; each run's cost."""
    company = quickbooks.company
    first = orders(1, [sku(number) for number in range(0, ITEMS, 97)])
    path = write_orders(tmp_path / "orders.csv", first)
    shop: Connection = desktop_connection(app, path, TransactionMode.INVOICES)
    costs = []
    for rows in (first, None):
        if rows is None:    # in QuickBooks, two hours later: an item added, one renamed, one gone
            clock.advance(hours=2)
            company.add_item("Headlamp 200", part_number=ADDED, price=D(25))
            by_sku = {item.part_number: item for item in company.items.values()}
            company.edit(by_sku[RENAMED], name="Product 00007 (blue)")
            company.delete(by_sku[DELETED])
            rows = first + orders(1 + ORDERS, [ADDED, RENAMED, DELETED, sku(500), sku(900)])
            write_orders(path, rows)
        counting.requests = counting.list_reads = counting.message_sets = counting.records = 0
        started = time.perf_counter()
        result = app.engine().run(shop)
        costs.append(counting.cost(started))
        assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors[:3])
        invoices = txns(quickbooks, "Invoice")
        assert {number: txn.total for number, txn in invoices.items()} == totals(rows)
    second = txns(quickbooks, "Invoice")
    named = {line.item.part_number: line.item.name for txn in second.values()
             for line in txn.lines}
    assert (named[ADDED], named[RENAMED]) == ("Headlamp 200", "Product 00007 (blue)")
    assert named[DELETED] == f"Web {DELETED}"      # created anew: the old one is gone
    return costs[0], costs[1]


def measured(tmp_path: Path, *, kept: bool) -> tuple[Cost, Cost]:
    clock = QuickBooksClock()
    quickbooks = FakeQuickBooks(large_company(clock), validator=schema_errors)
    counting = CountingQuickBooks(quickbooks)
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    app.desktop_processor_for = lambda connection: counting
    if not kept:    # the baseline: every run reads every list whole, as before
        app.quickbooks_company = lambda connection: QuickBooksDesktop(  # type: ignore[method-assign]
            counting, mapping=connection.mapping)
    try:
        return two_runs(app, tmp_path, clock, quickbooks, counting)
    finally:
        app.close()


def test_a_second_run_reads_only_what_quickbooks_changed(tmp_path: Path) -> None:
    whole_first, whole = measured(tmp_path / "whole", kept=False)
    kept_first, kept = measured(tmp_path / "kept", kept=True)
    figures = {"items": ITEMS, "customers": CUSTOMERS, "orders_per_run": ORDERS,
               "baseline_first_run": asdict(whole_first), "baseline_second_run": asdict(whole),
               "kept_first_run": asdict(kept_first), "kept_second_run": asdict(kept),
               "fewer_requests": round(whole.requests / kept.requests, 1),
               "fewer_list_reads": round(whole.list_reads / kept.list_reads, 1),
               "fewer_records": round(whole.records / max(kept.records, 1), 1),
               "less_wall_time": round(whole.wall_s / kept.wall_s, 1)}
    (tmp_path / "bench_desktop_lists.json").write_text(json.dumps(figures, indent=2))
    print()
    print(f"QuickBooks Desktop: {ITEMS:,} items, {CUSTOMERS:,} customers, {ORDERS} new orders "
          "a run")
    print(f"{'':32} {'requests':>9} {'list reads':>11} {'msg sets':>9} {'records':>9} "
          f"{'wall s':>8}")
    for label, cost in (("lists read whole, first run", whole_first),
                        ("lists read whole, second run", whole),
                        ("lists kept, first run", kept_first),
                        ("lists kept, second run", kept)):
        print(f"{label:32} {cost.requests:>9} {cost.list_reads:>11} {cost.message_sets:>9} "
              f"{cost.records:>9} {cost.wall_s:>8.2f}")
    print(f"second run: {figures['fewer_requests']}x fewer requests "
          f"({figures['fewer_list_reads']}x fewer list reads), "
          f"{figures['fewer_records']}x fewer records, {figures['less_wall_time']}x less time")
    print("BENCH_DESKTOP_LISTS_JSON " + json.dumps(figures))
    assert whole.list_reads >= TARGET_FEWER_LIST_READS * kept.list_reads
    assert whole.records >= TARGET_FEWER_RECORDS * kept.records
