"""The sync log as rows: what each run did with each order, and its export to CSV."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from connex_desktop.storage.ledger import UNDONE, LedgerRepository
from connex_desktop.storage.repositories import (
    OrderOutcome,
    RunOrderRecord,
    RunRecord,
    RunRepository,
)

OUTCOME_WORDS = {OrderOutcome.BOOKED: "Booked", OrderOutcome.SKIPPED: "Skipped",
                 OrderOutcome.FAILED: "Failed", OrderOutcome.PLANNED: "Would book"}
CSV_COLUMNS = ("Run", "Started", "Trigger", "Preview", "Order", "Result", "Document type",
               "Document number", "QuickBooks Id", "Amount", "Reason", "Details")

# OWASP's CSV injection rule: a spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A plain number (a refund's -12.50) is no formula and stays a number the spreadsheet can add.
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def spreadsheet_safe(value: object) -> str:
    """The cell as text a spreadsheet shows but never runs: a would-be formula gets a leading '."""
    cell = str(value)
    if cell.startswith(_FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def undone_documents(ledger: LedgerRepository, run: RunRecord) -> frozenset[tuple[str, str]]:
    """The run's documents (kind, QuickBooks Id) an undo deleted, as the ledger says."""
    if not run.undo_message:     # never undone, not even in part: nothing to look up
        return frozenset()
    return frozenset((row.kind, row.qb_id) for row in ledger.rows_for_run(run.id)
                     if row.state == UNDONE)


def order_result(order: RunOrderRecord, undone: frozenset[tuple[str, str]]) -> str:
    """What became of the order: a booked order whose documents (kind, QuickBooks Id) an undo
    deleted since is "Undone" ("Partly undone" when some of them are still in QuickBooks)."""
    if order.outcome is OrderOutcome.BOOKED and order.documents:
        deleted = sum((doc.kind.value, doc.qb_id) in undone for doc in order.documents)
        if deleted == len(order.documents):
            return "Undone"
        if deleted:
            return "Partly undone"
    return OUTCOME_WORDS.get(order.outcome, order.outcome.value)


def log_rows(runs: Iterable[RunRecord], repository: RunRepository,
             ledger: LedgerRepository) -> Iterator[tuple[str, ...]]:
    """Every run's orders in CSV_COLUMNS, one row per document (or per order without one)."""
    for run in runs:
        head = (str(run.id), run.started_at.isoformat(), run.trigger.value,
                "yes" if run.dry_run else "no")
        undone = undone_documents(ledger, run)
        for order in repository.orders(run.id):
            outcome = order_result(order, undone)
            for doc in order.documents or (None,):
                yield (*head, order.order_number, outcome,
                       doc.kind.label if doc else "", doc.doc_number if doc else "",
                       doc.qb_id if doc else "", str(doc.total) if doc else "",
                       order.message, order.detail)


def write_csv(path: Path, rows: Iterable[tuple[str, ...]]) -> int:
    """Write CSV_COLUMNS and the rows, every cell spreadsheet-safe; returns how many rows."""
    lines = 0
    with path.open("w", newline="", encoding="utf-8-sig") as file:  # BOM: Excel reads UTF-8
        writer = csv.writer(file)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            writer.writerow([spreadsheet_safe(cell) for cell in row])
            lines += 1
    return lines
