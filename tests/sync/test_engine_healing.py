"""A plain sync tries again the orders that failed before: fixed causes heal by themselves."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from connex_desktop.app import App, quickbooks_key_prefix
from connex_desktop.core.connection import Connection, MissingItemPolicy, QuickBooksMapping
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.quickbooks.auth import QuickBooksAuth
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.sandbox.server import Reply, SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sync import engine as engine_module
from tests.sync.conftest import by_number, connect, money_of, row, write_orders

NEW_SKU = "LNT-CNV"          # not in the sandbox's catalogue until the "user" creates it
KNOWN_SKU = "MUG-ENM-12"     # in the catalogue
FILE_AGE_S = 2 * 3600        # older than the cursor's overlap: the cursor alone reads nothing


def write_old(path: Path, rows: list[dict[str, str]]) -> Path:
    """The order file, exported a while ago: a plain sync's cursor does not read it again."""
    write_orders(path, rows)
    written = time.time() - FILE_AGE_S
    os.utime(path, (written, written))
    return path


def failing_on_missing_items(app: App, sandbox: SandboxServer, orders: Path,
                             **changes: Any) -> Connection:
    return connect(app, sandbox, "Shop", TransactionMode.INVOICES, orders,
                   mapping=QuickBooksMapping(missing_items=MissingItemPolicy.FAIL), **changes)


def create_item(sandbox: SandboxServer, sku: str, name: str) -> None:
    """What the user does in QuickBooks after reading the failure: adds the item."""
    known = next(item for item in sandbox.company.all("Item") if item.get("Sku") == KNOWN_SKU)
    sandbox.company.create("Item", {"Name": name, "Sku": sku, "Type": "NonInventory",
                                    "UnitPrice": "24.50",
                                    "IncomeAccountRef": known["IncomeAccountRef"]})


def test_an_order_failing_for_a_missing_item_is_booked_once_the_item_exists(app, sandbox,
                                                                            tmp_path):
    path = write_old(tmp_path / "orders.csv", [
        row("7001", NEW_SKU, "2", "24.50"),
        row("7002", KNOWN_SKU, "1", "18.00"),
        row("7003", "NO-SUCH-SKU", "1", "5.00"),
    ])
    connection = failing_on_missing_items(app, sandbox, path)
    first = app.engine().run(connection)
    assert (first.status, first.synced, first.failed) == (RunStatus.PARTIAL, 1, 2)
    assert first.new_failures == 2
    assert {error.order: NEW_SKU in error.message for error in first.errors} == {
        "7001": True, "7003": False}
    assert list(by_number(sandbox, "Invoice")) == ["7002"]

    create_item(sandbox, NEW_SKU, "Canvas Lantern")
    second = app.engine().run(connection)   # a plain sync, as the schedule starts it
    assert (second.fetched, second.synced, second.failed) == (2, 1, 1)
    invoices = by_number(sandbox, "Invoice")
    assert sorted(invoices) == ["7001", "7002"]
    assert money_of(invoices["7001"]["TotalAmt"]) == Decimal("49.00")
    # The order still failing keeps its reason, and the run says it is not a new failure.
    (still,) = second.errors
    assert still.order == "7003" and "NO-SUCH-SKU" in still.message
    assert second.message == ("Tried again 2 orders that failed before: 1 went through, "
                              "1 still failing.")
    assert second.new_failures == 0
    assert app.runs.failed_order_numbers(connection.id) == ["7003"]

    third = app.engine().run(connection)
    assert (third.fetched, third.synced, third.failed, third.new_failures) == (1, 0, 1, 0)
    # Retrying the failed orders on request finds nothing new either.
    retried = app.engine().run(connection, retry_failed=True)
    assert (retried.failed, retried.new_failures) == (1, 0)
    assert sorted(by_number(sandbox, "Invoice")) == ["7001", "7002"]   # nothing twice


def test_orders_the_cursor_fetches_are_not_fetched_twice_and_new_failures_are_told_apart(
        app, sandbox, tmp_path):
    path = write_old(tmp_path / "orders.csv", [row("7101", NEW_SKU), row("7102", "GONE-1")])
    connection = failing_on_missing_items(app, sandbox, path)
    assert app.engine().run(connection).failed == 2
    create_item(sandbox, NEW_SKU, "Canvas Lantern")
    # A new export: the cursor reads the whole file again, the failed orders with it.
    write_orders(path, [row("7101", NEW_SKU), row("7102", "GONE-1"), row("7103", "GONE-2")])
    second = app.engine().run(connection)
    assert (second.fetched, second.synced, second.failed) == (3, 1, 2)
    assert second.message == ("Tried again 2 orders that failed before: 1 went through, "
                              "1 still failing. 1 order failed for the first time.")
    assert second.new_failures == 1
    assert sorted(by_number(sandbox, "Invoice")) == ["7101"]


def test_an_order_whose_status_is_no_longer_synced_leaves_the_failed_list(app, sandbox,
                                                                          tmp_path):
    path = write_old(tmp_path / "orders.csv", [row("7201", NEW_SKU)])
    connection = failing_on_missing_items(app, sandbox, path, statuses=("completed",))
    assert app.engine().run(connection).failed == 1
    write_old(path, [row("7201", NEW_SKU, status="cancelled")])
    second = app.engine().run(connection)
    assert (second.fetched, second.skipped, second.failed) == (1, 1, 0)
    (record,) = app.runs.orders(second.run_id)
    assert "cancelled" in record.message
    assert app.runs.failed_order_numbers(connection.id) == []
    assert by_number(sandbox, "Invoice") == {}


def test_a_run_tries_a_bounded_number_oldest_first(app, sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module, "HEALING_ORDERS_MAX", 2)
    numbers = ["7301", "7302", "7303"]
    path = write_old(tmp_path / "orders.csv", [row(number, "GONE") for number in numbers])
    connection = failing_on_missing_items(app, sandbox, path)
    assert app.engine().run(connection).failed == 3

    def tried(result: Any) -> set[str]:
        return {record.order_number for record in app.runs.orders(result.run_id)}

    assert tried(app.engine().run(connection)) == {"7301", "7302"}
    # The one left out has failed longest ago now: it goes first.
    assert tried(app.engine().run(connection)) == {"7303", "7301"}


def test_a_plain_preview_shows_the_retries_and_an_explicit_query_tries_nothing_else(
        app, sandbox, tmp_path):
    """A preview shows what Sync now would do, so a plain one includes the orders that failed
    before (a plain sync retries them); it still books, records and moves nothing. An explicit
    query, previewed or synced, stays the orders it names."""
    path = write_old(tmp_path / "orders.csv", [row("7401", NEW_SKU, "2", "24.50"),
                                               row("7402", KNOWN_SKU)])
    connection = failing_on_missing_items(app, sandbox, path)
    assert app.engine().run(connection).failed == 1
    create_item(sandbox, NEW_SKU, "Canvas Lantern")
    cursor = app.cursors.get(connection.id, engine_module.CURSOR_NAME)
    writes = sandbox.usage().writes

    preview = app.engine().run(connection, dry_run=True)
    assert (preview.status, preview.fetched, preview.synced, preview.failed) == (
        RunStatus.SUCCEEDED, 1, 1, 0)
    assert [(doc.order, doc.kind) for doc in preview.documents] == [("7401", "Invoice")]
    assert preview.message == ("Would try again 1 order that failed before: 1 would go "
                               "through, 0 would still fail.")
    # Read-only: nothing in QuickBooks or the ledger, the cursor where it was, the failure
    # still waiting for the real sync.
    assert sandbox.usage().writes == writes
    assert list(by_number(sandbox, "Invoice")) == ["7402"]
    assert app.ledger.rows_for_run(preview.run_id) == []
    assert app.cursors.get(connection.id, engine_module.CURSOR_NAME) == cursor
    assert app.runs.failed_order_numbers(connection.id) == ["7401"]

    chosen = app.engine().run(connection, dry_run=True, query=OrderQuery(numbers=("7402",)))
    assert (chosen.fetched, chosen.failed, chosen.message) == (1, 0, "")
    assert [record.order_number for record in app.runs.orders(chosen.run_id)] == ["7402"]
    chosen = app.engine().run(connection, query=OrderQuery(numbers=("7402",)))
    assert chosen.fetched == 1 and chosen.failed == 0

    synced = app.engine().run(connection)    # what the preview showed, now for real
    assert (synced.fetched, synced.synced, synced.failed) == (1, 1, 0)
    invoices = by_number(sandbox, "Invoice")
    assert sorted(invoices) == ["7401", "7402"]
    assert money_of(invoices["7401"]["TotalAmt"]) == Decimal("49.00")


# ---- retry later: QuickBooks unavailable for one order's invoice ----------------------------

class OutageServer(SandboxServer):
    """The sandbox, answering 503 to the next `invoice_outage` requests that create invoices."""

    invoice_outage = 0

    def handle(self, method: str, target: str, headers: Mapping[str, str],
               body: bytes) -> Reply:
        if (method == "POST" and urlsplit(target).path.endswith("/invoice")
                and self.invoice_outage > 0):
            self.invoice_outage -= 1
            self.inject("503")
        return super().handle(method, target, headers, body)


@pytest.fixture
def outage_sandbox() -> Iterator[OutageServer]:
    with OutageServer() as server:
        yield server


def test_a_retry_later_failure_heals_on_the_next_plain_run(app, outage_sandbox, tmp_path):
    sandbox = outage_sandbox
    path = write_old(tmp_path / "orders.csv", [row("7501", KNOWN_SKU, "2", "18.00")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    engine = app.engine()

    def impatient_client(connection: Connection) -> QuickBooksClient:
        assert connection.id is not None
        auth = QuickBooksAuth(connection.quickbooks, app.secrets,
                              quickbooks_key_prefix(connection.id))
        return QuickBooksClient(connection.quickbooks, auth, max_retries=1,
                                sleep=lambda _s: None)

    engine.client_for = impatient_client
    sandbox.invoice_outage = 2      # the first attempt and its one retry
    first = engine.run(connection)
    (error,) = first.errors
    assert error.order == "7501" and error.kind is ErrorKind.RETRY_LATER
    assert by_number(sandbox, "Invoice") == {}

    second = engine.run(connection)
    assert second.status is RunStatus.SUCCEEDED and second.failed == 0
    invoices = by_number(sandbox, "Invoice")
    assert list(invoices) == ["7501"]
    assert money_of(invoices["7501"]["TotalAmt"]) == Decimal("36.00")
    assert app.runs.failed_order_numbers(connection.id) == []
    assert engine.run(connection).documents == []
    assert len(by_number(sandbox, "Invoice")) == 1
