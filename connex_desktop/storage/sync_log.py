"""The sync log as rows: what each run did with each order, its filters, and its CSV export."""

from __future__ import annotations

import csv
import enum
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.result import BookedDocument, OrderOutcome
from connex_desktop.storage.ledger import LedgerRepository
from connex_desktop.storage.repositories import (
    PURCHASE_ORDER_ITEM,
    RunOrderRecord,
    RunRecord,
    RunRepository,
)

OUTCOME_WORDS = {OrderOutcome.BOOKED: "Booked", OrderOutcome.SKIPPED: "Skipped",
                 OrderOutcome.FAILED: "Failed", OrderOutcome.PLANNED: "Would book"}
CSV_COLUMNS = ("Run", "Started", "Trigger", "Preview", "Order", "Customer", "Result", "Rule",
               "Document type", "Document number", "QuickBooks Id", "Amount", "Reason", "Details")

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
                     if row.state == LedgerState.UNDONE)


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


def item_label(order: RunOrderRecord) -> str:
    """The order's number; a store purchase order's (its vendor in the customer column) says
    so, listed beside the orders."""
    if order.item == PURCHASE_ORDER_ITEM:
        return f"{order.order_number} (purchase order)"
    return order.order_number


def log_rows(runs: Iterable[RunRecord], repository: RunRepository, ledger: LedgerRepository,
             product: QuickBooksProduct) -> Iterator[tuple[str, ...]]:
    """Every run's orders in CSV_COLUMNS, one row per document (or per order without one),
    its documents named as `product` (the connection's QuickBooks) names them."""
    for run in runs:
        head = (str(run.id), run.started_at.isoformat(), run.trigger.value,
                "yes" if run.dry_run else "no")
        undone = undone_documents(ledger, run)
        for order in repository.orders(run.id):
            outcome = order_result(order, undone)
            for doc in order.documents or (None,):
                yield (*head, item_label(order), order.customer, outcome, order.rule,
                       doc.kind.label_in(product) if doc else "", doc.doc_number if doc else "",
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


# ── the log's table: what became of each order, filtered, searched and sorted ────────────────

class Shown(enum.StrEnum):
    """What became of an order, as the log's filter offers it ("N <value>" reads as a count)."""

    FAILED = "failed"
    BOOKED = "booked"
    PLANNED = "would be booked"
    ALREADY_BOOKED = "already booked"
    CLOSED = "skipped: cancelled or refunded"
    STATUS = "skipped: status not synced"
    UNPAID = "skipped: not paid in full"
    RULE = "skipped: by a rule"
    SKIPPED_OTHER = "skipped: other reasons"


# The planner's and the engine's words for why an order was skipped (sync/planner/order.py,
# sync/engine.py); the GUI tests file real syncs' skipped orders, so a change of wording shows.
_SKIP_REASONS = (
    (Shown.ALREADY_BOOKED, re.compile(r"\bbooked already\b")),
    (Shown.CLOSED, re.compile(r"^Skipped: the order is .* and was never booked")),
    (Shown.STATUS, re.compile(r"^Skipped: its status .* is not one this connection syncs")),
    (Shown.UNPAID, re.compile(r"^Skipped: it is not paid in full")),
    (Shown.RULE, re.compile(r"^Skipped: rule '.*' skips it")),
)
_OUTCOME_SHOWN = {OrderOutcome.FAILED: Shown.FAILED, OrderOutcome.BOOKED: Shown.BOOKED,
                  OrderOutcome.PLANNED: Shown.PLANNED}
ORDER_COLUMNS = ("Order", "Customer", "Result", "QuickBooks documents", "Reason")
_DIGITS = re.compile(r"(\d+)")


def shown_as(order: RunOrderRecord) -> Shown:
    """The filter an order falls under; a skipped one by its reason."""
    if order.outcome in _OUTCOME_SHOWN:
        return _OUTCOME_SHOWN[order.outcome]
    return next((shown for shown, pattern in _SKIP_REASONS if pattern.search(order.message)),
                Shown.SKIPPED_OTHER)


def document_name(document: BookedDocument, product: QuickBooksProduct) -> str:
    """ "Invoice 1001": the kind as `product` names it, and the number (the QuickBooks Id when
    it has none)."""
    return f"{document.kind.label_in(product)} {document.doc_number or document.qb_id}".strip()


def documents_text(order: RunOrderRecord, product: QuickBooksProduct) -> str:
    return ", ".join(document_name(doc, product) for doc in order.documents)


def reason_text(order: RunOrderRecord) -> str:
    """The log's reason for an order, naming the rule that decided it unless the message does."""
    by_rule = f"rule '{order.rule}'"
    if order.rule and by_rule not in order.message:
        return f"By {by_rule}. {sentence(order.message)}".strip()
    return sentence(order.message)


def sentence(message: str) -> str:
    """A reason shown on its own starts with a capital letter."""
    return message[:1].upper() + message[1:]


@dataclass(frozen=True)
class LogRow:
    """One order of a run as the log's table shows it, its cells worked out once."""

    order: RunOrderRecord
    cells: tuple[str, ...]    # in ORDER_COLUMNS
    shown: Shown

    def matches(self, search: str) -> bool:
        """Whether the order's number or customer contains `search` (any case)."""
        needle = search.strip().casefold()
        return (not needle or needle in self.order.order_number.casefold()
                or needle in self.order.customer.casefold())


def log_table(orders: Iterable[RunOrderRecord], undone: frozenset[tuple[str, str]],
              product: QuickBooksProduct) -> list[LogRow]:
    """The rows of a run's orders, in the order the run recorded them."""
    return [LogRow(order, (item_label(order), order.customer, order_result(order, undone),
                           documents_text(order, product), reason_text(order)),
                   shown_as(order))
            for order in orders]


def read_run_log(repository: RunRepository, ledger: LedgerRepository, run: RunRecord,
                 product: QuickBooksProduct) -> tuple[list[LogRow], frozenset[tuple[str, str]]]:
    """A run's rows and the documents an undo deleted: the log's (slow) database read."""
    undone = undone_documents(ledger, run)
    return log_table(repository.orders(run.id), undone, product), undone


def natural_key(cell: str) -> tuple:
    """Sorts "1002" before "1010" and "#9" before "#10": digit runs compare as numbers."""
    return tuple(int(part) if index % 2 else part.casefold()
                 for index, part in enumerate(_DIGITS.split(cell)))


def select_rows(rows: Sequence[LogRow], shown: Shown | None = None, search: str = "",
                sort_column: int | None = None, descending: bool = False) -> list[LogRow]:
    """The rows under the filter `shown` (None: all) matching `search`, sorted by a column
    (None: as recorded)."""
    chosen = [row for row in rows
              if (shown is None or row.shown is shown) and row.matches(search)]
    if sort_column is not None:
        chosen.sort(key=lambda row: natural_key(row.cells[sort_column]), reverse=descending)
    return chosen


def tally(rows: Iterable[LogRow]) -> Counter[Shown]:
    return Counter(row.shown for row in rows)


def tally_text(counts: Counter[Shown]) -> str:
    """ "9 booked, 1 already booked, 2 skipped: cancelled or refunded" in Shown's order."""
    return ", ".join(f"{counts[shown]} {shown.value}" for shown in Shown if counts[shown])

