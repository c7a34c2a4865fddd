"""The sync log's CSV export: every document, and no cell a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
from decimal import Decimal

import pytest

from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import BookedDocument, DocumentKind
from connex_desktop.storage.database import Database
from connex_desktop.storage.ledger import LedgerRepository
from connex_desktop.storage.repositories import ConnectionRepository, OrderOutcome, RunRepository
from connex_desktop.storage.sync_log import CSV_COLUMNS, log_rows, spreadsheet_safe, write_csv


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
            BookedDocument("=1+1", DocumentKind.REFUND_RECEIPT, "77", "@R1", Decimal("-12.50"))])
        runs.record_order(run_id, "id-2", "1002", OrderOutcome.FAILED,
                          message="+cmd|' /C calc'!A0", detail="-2+3")
        path = tmp_path / "log.csv"
        lines = write_csv(path, log_rows([runs.get(run_id)], runs, LedgerRepository(db)))
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert lines == len(rows) == 2 and tuple(rows[0]) == CSV_COLUMNS
    refund, failed = rows
    assert (refund["Order"], refund["Document number"], refund["Amount"]) == (
        "'=1+1", "'@R1", "-12.50")
    assert (failed["Reason"], failed["Details"]) == ("'+cmd|' /C calc'!A0", "'-2+3")
