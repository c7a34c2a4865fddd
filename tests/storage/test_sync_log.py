"""The sync log as rows: filed by outcome, searched, sorted, exported with no formula."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import BookedDocument, DocumentKind, OrderOutcome
from connex_desktop.storage.database import Database
from connex_desktop.storage.ledger import LedgerRepository
from connex_desktop.storage.repositories import (
    PURCHASE_ORDER_ITEM,
    ConnectionRepository,
    RunOrderRecord,
    RunRepository,
)
from connex_desktop.storage.sync_log import (
    CSV_COLUMNS,
    Shown,
    log_rows,
    log_table,
    select_rows,
    shown_as,
    spreadsheet_safe,
    tally,
    tally_text,
    write_csv,
)

ONLINE = QuickBooksProduct.ONLINE


@pytest.mark.parametrize(("cell", "shown"), [
    ("=HYPERLINK(\"http://evil.example\",\"Click\")", "'=HYPERLINK(\"http://evil.example\",\"Click\")"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("-12.50", "-12.50"),     # a refund's amount stays a number
    ("1001", "1001"),
    ("Unknown SKU 'X-1'", "Unknown SKU 'X-1'"),
])
def test_a_cell_that_would_be_a_formula_is_shown_as_text(cell, shown):
    assert spreadsheet_safe(cell) == shown


def test_exported_log_neutralises_formulas_from_the_store(tmp_path):
    """Order numbers, reasons and details come from the store and from QuickBooks: a hostile one
    must reach the spreadsheet as text."""
    with Database.open(tmp_path / "connex.sqlite3") as db:
        connection_id = ConnectionRepository(db).add(Connection(
            name="Shop", source_kind="demo", mode=TransactionMode.INVOICES)).id
        runs = RunRepository(db)
        run_id = runs.start(connection_id, "manual")
        runs.record_order(run_id, "id-1", "=1+1", OrderOutcome.BOOKED, documents=[
            BookedDocument("=1+1", DocumentKind.REFUND_RECEIPT, "77", "@R1", Decimal("-12.50"))],
            customer="=Grace Liu")
        runs.record_order(run_id, "id-2", "1002", OrderOutcome.FAILED,
                          message="+cmd|' /C calc'!A0", detail="-2+3")
        path = tmp_path / "log.csv"
        lines = write_csv(path, log_rows([runs.get(run_id)], runs, LedgerRepository(db), ONLINE))
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert lines == len(rows) == 2 and tuple(rows[0]) == CSV_COLUMNS
    refund, failed = rows
    assert (refund["Order"], refund["Customer"], refund["Document number"], refund["Amount"]) \
        == ("'=1+1", "'=Grace Liu", "'@R1", "-12.50")
    assert (failed["Reason"], failed["Details"]) == ("'+cmd|' /C calc'!A0", "'-2+3")


def _order(number, outcome, message="", customer=""):
    return RunOrderRecord(run_id=1, order_id=f"id-{number}", order_number=number,
                          outcome=outcome, message=message, detail="", error_kind="",
                          documents=(), customer=customer)


# The engine's words (sync/engine.py, sync/planner/) for each reason an order is skipped.
SKIPPED = {
    "Skipped: it is booked already (the invoice 1001).": Shown.ALREADY_BOOKED,
    "Skipped: everything this connection books for it is booked already.":
        Shown.ALREADY_BOOKED,
    "Skipped: the order is refunded and was never booked, so there is nothing to book.":
        Shown.CLOSED,
    "Skipped: its status 'on-hold' is not one this connection syncs.": Shown.STATUS,
    "Skipped: it is not paid in full; a sales receipt records a sale paid at checkout.":
        Shown.UNPAID,
    "Skipped: its invoice is still being confirmed with QuickBooks.": Shown.SKIPPED_OTHER,
}


@pytest.mark.parametrize(("message", "shown"), SKIPPED.items())
def test_a_skipped_order_is_filed_under_its_reason(message, shown):
    assert shown_as(_order("1", OrderOutcome.SKIPPED, message)) is shown


def test_already_booked_is_counted_apart_from_cancelled_and_refunded():
    rows = log_table([_order(str(n), OrderOutcome.SKIPPED, message)
                      for n, message in enumerate(SKIPPED)]
                     + [_order("9", OrderOutcome.BOOKED), _order("10", OrderOutcome.FAILED)],
                     frozenset(), ONLINE)
    assert tally_text(tally(rows)) == (
        "1 failed, 1 booked, 2 already booked, 1 skipped: cancelled or refunded, "
        "1 skipped: status not synced, 1 skipped: not paid in full, 1 skipped: other reasons")


def test_rows_are_searched_by_order_or_customer_and_sorted_as_numbers():
    rows = log_table([_order("WEB-10", OrderOutcome.BOOKED, customer="Chloé Dubois"),
                      _order("WEB-9", OrderOutcome.FAILED, "No SKU.", customer="Grace Liu"),
                      _order("WEB-100", OrderOutcome.BOOKED, customer="José Álvarez")],
                     frozenset(), ONLINE)
    assert [row.order.order_number for row in select_rows(rows, search="chloé")] == ["WEB-10"]
    assert [row.order.order_number for row in select_rows(rows, search="web-1")] == [
        "WEB-10", "WEB-100"]
    assert [row.order.order_number for row in select_rows(rows, sort_column=0)] == [
        "WEB-9", "WEB-10", "WEB-100"]
    assert [row.order.order_number for row in select_rows(rows, Shown.BOOKED,
                                                          sort_column=0, descending=True)] == [
        "WEB-100", "WEB-10"]
    assert select_rows(rows, Shown.FAILED)[0].cells == (
        "WEB-9", "Grace Liu", "Failed", "", "No SKU.")


def _a_run(db: Database) -> tuple[RunRepository, int, int]:
    """The run history, a connection's id and the id of a run of it just started."""
    connection_id = ConnectionRepository(db).add(Connection(
        name="Shop", source_kind="demo", mode=TransactionMode.INVOICES)).id
    assert connection_id is not None
    runs = RunRepository(db)
    return runs, connection_id, runs.start(connection_id, "manual")


def test_the_customer_of_each_order_is_kept(tmp_path):
    with Database.open(tmp_path / "connex.sqlite3") as db:
        runs, _, run_id = _a_run(db)
        runs.record_order(run_id, "id-1", "1001", OrderOutcome.BOOKED, customer="Grace Liu")
        assert [order.customer for order in runs.orders(run_id)] == ["Grace Liu"]


def test_store_purchase_orders_are_listed_beside_the_orders_with_their_vendor(tmp_path):
    with Database.open(tmp_path / "connex.sqlite3") as db:
        runs, connection_id, run_id = _a_run(db)
        runs.record_order(run_id, "id-1", "1001", OrderOutcome.FAILED, "No SKU.",
                          customer="Grace Liu")
        runs.record_order(run_id, "purchase-order:7", "PO-7", OrderOutcome.FAILED, "No vendor.",
                          customer="Cotton Supply Co", item=PURCHASE_ORDER_ITEM)
        rows = log_table(runs.orders(run_id), frozenset(), ONLINE)
        # Failed orders are retried as orders, failed purchase orders as purchase orders.
        assert runs.failed_order_numbers(connection_id) == ["1001"]
        assert runs.latest_item_ids(connection_id, PURCHASE_ORDER_ITEM,
                                    OrderOutcome.FAILED) == ["purchase-order:7"]
    assert [row.cells[:3] for row in rows] == [
        ("1001", "Grace Liu", "Failed"),
        ("PO-7 (purchase order)", "Cotton Supply Co", "Failed")]
