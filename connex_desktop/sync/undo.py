"""Undo a sync run: delete from QuickBooks what it booked, exactly once, payments first."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.errors import (
    STOPPING_KINDS,
    ConnexError,
    ErrorKind,
    SetupError,
    busy_message,
)
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.money import money, money_text
from connex_desktop.core.quickbooks_rules import BATCH_MAX_OPERATIONS
from connex_desktop.core.result import DocumentKind, RunStatus, document_label
from connex_desktop.core.undo_result import (
    UndoDocument,
    UndoOutcome,
    UndoResult,
    UndoStatus,
)
from connex_desktop.quickbooks.client import (  # noqa: F401  (QuickBooksClient: tests patch it here)
    BatchOperation,
    BatchOutcome,
    QuickBooksClient,
)
from connex_desktop.quickbooks.errors import QuickBooksCode, QuickBooksFault
from connex_desktop.storage.ledger import LedgerRepository, LedgerRow
from connex_desktop.storage.repositories import (
    ConnectionRepository,
    CursorRepository,
    RunRecord,
    RunRepository,
)
from connex_desktop.storage.sync_locks import SyncLocks
from connex_desktop.sync.back_end import QuickBooksBackEnd
from connex_desktop.sync.engine import CURSOR_NAME, SOURCE_CURSOR_NAME
from connex_desktop.sync.undo_changes import ChangeReverter, is_change

log = logging.getLogger(__name__)

# Deleted in this order: refund receipts before the sale they pay back, then a payment
# first gives its invoice its balance back (QuickBooks refuses to delete an invoice with a
# payment applied), an invoice before the estimate it closed.
DELETE_ROUNDS: tuple[frozenset[str], ...] = (
    frozenset({"RefundReceipt"}),
    frozenset({"Payment"}),
    frozenset({"PurchaseOrder", "Invoice", "SalesReceipt"}),
    frozenset({"Estimate"}),
)


class UndoStopped(Exception):
    """Authorisation or setup failed in the middle: the undo stops, the next one goes on."""

    def __init__(self, fault: QuickBooksFault) -> None:
        super().__init__(fault.message)
        self.fault = fault


class RunUndoer:
    """Deletes from QuickBooks the documents a sync run booked, and records it in the ledger.

    Exactly once: each delete's request id is recorded before it is sent and the document
    stays confirmed until QuickBooks says it is gone, so an undo interrupted at any point is
    finished by the next one, and a sync in between still counts the order as booked.
    """

    def __init__(self, *, runs: RunRepository, ledger: LedgerRepository,
                 cursors: CursorRepository, connections: ConnectionRepository,
                 client_for: Callable[[Connection], QuickBooksBackEnd],
                 locks: SyncLocks | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.runs = runs
        self.ledger = ledger
        self.cursors = cursors
        self.connections = connections
        self.client_for = client_for
        # The sync's own lock: no sync (in any process) of the connection runs during its undo.
        # Without locks the caller guarantees it.
        self.locks = locks
        self.clock = clock

    def check(self, run_id: int) -> tuple[RunRecord, Connection]:
        """The run and its connection; SetupError saying why this run cannot be undone."""
        run = self.runs.get(run_id)
        connection = self.connections.get_by_id(run.connection_id)
        if run.dry_run:
            raise SetupError(f"Run #{run_id} was a preview and booked nothing; there is nothing "
                             "to undo.")
        if run.running:
            raise SetupError(f"Run #{run_id} has not finished yet; undo it once it has.")
        latest = self.runs.last(run.connection_id)
        if latest is not None and latest.running:
            raise SetupError(f"A sync of {connection.name} is running; undo run #{run_id} once "
                             "it has finished.")
        if not connection.quickbooks.connected:
            raise SetupError(f"{connection.name} is not connected to QuickBooks; connect it "
                             "to the company the run booked into first.")
        realms = {row.realm_id for row in self.ledger.booked_by_run(run_id)}
        if realms - {connection.quickbooks.realm_id}:
            raise SetupError(f"Run #{run_id} booked into another QuickBooks company than the "
                             f"one {connection.name} is connected to now; reconnect it to that "
                             "company to undo the run.")
        return run, connection

    def undo(self, run_id: int, *, dry_run: bool = False) -> UndoResult:
        """Delete (or with `dry_run`, list) what the run booked. Raises SetupError when the
        run cannot be undone at all (see check); a FAILED result (retry later) when another
        process is syncing or undoing the connection right now."""
        if self.locks is None:
            return self._undo(run_id, dry_run)
        connection_id = self.runs.get(run_id).connection_id
        with self.locks.hold(connection_id) as held:
            if not held:
                connection = self.connections.get_by_id(connection_id)
                return UndoResult(connection.name, run_id, UndoStatus.FAILED, dry_run=dry_run,
                                  message=busy_message("undo"), failure_kind=ErrorKind.RETRY_LATER)
            # No live process syncs this connection: a run of it still "running" was left by
            # a process that died, and must not keep the undo from starting.
            self.runs.mark_interrupted(connection_id)
            return self._undo(run_id, dry_run)

    def _undo(self, run_id: int, dry_run: bool) -> UndoResult:
        run, connection = self.check(run_id)
        result = UndoResult(connection.name, run_id, UndoStatus.UNDONE, dry_run=dry_run)
        rows = self.ledger.booked_by_run(run_id)
        # Sent, but QuickBooks never answered: the next sync finds out whether it is there.
        for row in self.ledger.rows_for_run(run_id):
            if row.state == LedgerState.PLANNED:
                result.documents.append(UndoDocument(
                    row.order_number, DocumentKind(row.kind), row.qb_id, row.doc_number,
                    row.total, UndoOutcome.NOT_CONFIRMED,
                    "QuickBooks never confirmed it was booked; sync this connection so it is "
                    "checked, then undo the run again."))
        if not rows:
            if not result.documents:
                result.message = (f"Run #{run_id} was undone already." if run.undone_at else
                                  f"Run #{run_id} left nothing in QuickBooks to undo.")
            else:
                result.status = UndoStatus.PARTIAL
            return result
        try:
            with self.client_for(connection) as client:
                _RunUndo(self, connection, client, result).undo(rows)
        except UndoStopped as stopped:
            self._fail(result, stopped.fault)
        except ConnexError as error:
            self._fail(result, error)
        if result.status is not UndoStatus.FAILED and result.left:
            result.status = UndoStatus.PARTIAL
        if not dry_run:
            self._record(run, result)
        log.info("undo of run %s (%s) %s: %d deleted, %d already gone, %d left", run_id,
                 connection.name, result.status.value, result.count(UndoOutcome.DELETED),
                 result.count(UndoOutcome.ALREADY_GONE), len(result.left))
        return result

    @staticmethod
    def _fail(result: UndoResult, error: ConnexError) -> None:
        result.status = UndoStatus.FAILED
        result.failure_kind = error.kind
        result.message = error.message + (f" ({error.detail})" if error.detail else "")

    def _record(self, run: RunRecord, result: UndoResult) -> None:
        removed = (result.count(UndoOutcome.DELETED) + result.count(UndoOutcome.ALREADY_GONE)
                   + result.count(UndoOutcome.REVERTED))
        if not removed:
            return
        when = self.clock().astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        deleted = result.count(UndoOutcome.DELETED)
        words = f"{deleted} document{'' if deleted == 1 else 's'} deleted"
        gone = result.count(UndoOutcome.ALREADY_GONE)
        if gone:
            words += f", {gone} already gone"
        reverted = result.count(UndoOutcome.REVERTED)
        if reverted:
            words += f", {reverted} changed back"
        left = len(result.left)
        if left:
            message = (f"Partly undone on {when}: {words}; {left} still in QuickBooks "
                       "(see the undo's report).")
        else:
            message = f"Undone on {when}: {words}."
        if not result.message:
            result.message = message
        self.runs.mark_undone(run.id, message, complete=not left)
        self._rewind_cursor(run)

    def _rewind_cursor(self, run: RunRecord) -> None:
        """The next sync reads the undone run's orders again: it starts where that run did
        (the store's own position is forgotten: its feed is read from the start, within the
        time cursor)."""
        self.cursors.delete(run.connection_id, SOURCE_CURSOR_NAME)
        earlier = [other for other in self.runs.list(run.connection_id, limit=1000)
                   if other.id < run.id and not other.dry_run
                   and other.status in (RunStatus.SUCCEEDED.value, RunStatus.PARTIAL.value)]
        if not earlier:
            self.cursors.delete(run.connection_id, CURSOR_NAME)
            return
        since = earlier[0].started_at.isoformat()
        current = self.cursors.get(run.connection_id, CURSOR_NAME)
        if current is None or datetime.fromisoformat(current) > earlier[0].started_at:
            self.cursors.set(run.connection_id, CURSOR_NAME, since)


class _RunUndo:
    """One undo: read every document, decide per order, then delete round by round."""

    def __init__(self, undoer: RunUndoer, connection: Connection, client: QuickBooksBackEnd,
                 result: UndoResult) -> None:
        self.ledger = undoer.ledger
        self.realm = connection.quickbooks.realm_id
        self.product = connection.quickbooks.product
        self.client = client
        self.result = result
        self.changes = ChangeReverter(undoer.ledger, client, dry_run=result.dry_run,
                                      report=self._report, stopped=UndoStopped)

    def undo(self, rows: list[LedgerRow]) -> None:
        found = self._read(rows)
        ours = {(row.kind, row.qb_id) for row in rows}
        present: list[tuple[LedgerRow, dict[str, Any]]] = []
        gone: list[LedgerRow] = []
        for row in rows:
            document = found.get((row.kind, row.qb_id))
            if document is None:
                gone.append(row)
            else:
                present.append((row, document))
        kept = self._kept_orders(present, ours)
        for row in gone:
            self._report(row, UndoOutcome.ALREADY_GONE, _gone_reason(row))
        if not self.result.dry_run:
            self.ledger.mark_undone((row.id, _gone_reason(row)) for row in gone)
        to_delete: list[tuple[LedgerRow, dict[str, Any]]] = []
        for row, document in present:
            blocker = kept.get(row.order_id)
            if blocker is not None:
                blocker_row, problem = blocker
                self._report(row, UndoOutcome.KEPT, problem if blocker_row is row else
                             f"kept with the order's {self._label(blocker_row)}: {problem}")
            elif is_change(row):
                self.changes.revert(row, document)
            elif self.result.dry_run:
                self._report(row, UndoOutcome.WOULD_DELETE)
            else:
                to_delete.append((row, document))
        failed_orders: dict[str, str] = {}
        deleted_before = False
        for kinds in DELETE_ROUNDS:
            ready = []
            for row, _ in to_delete:
                if row.kind not in kinds:
                    continue
                if row.order_id in failed_orders:
                    self._report(row, UndoOutcome.KEPT, failed_orders[row.order_id])
                else:
                    ready.append(row)
            if not ready:
                continue
            # Deleting a payment changes its invoice (balance, SyncToken): read them again.
            if deleted_before:
                found = self._read(ready)
            batch = []
            for row in ready:
                document = found.get((row.kind, row.qb_id))
                if document is None:
                    self._report(row, UndoOutcome.ALREADY_GONE, _gone_reason(row))
                    self.ledger.mark_undone([(row.id, _gone_reason(row))])
                else:
                    batch.append((row, document))
            for start in range(0, len(batch), BATCH_MAX_OPERATIONS):
                self._delete(batch[start:start + BATCH_MAX_OPERATIONS], failed_orders)
            deleted_before = True

    # ---- reading -------------------------------------------------------------------------

    def _read(self, rows: Sequence[LedgerRow]) -> dict[tuple[str, str], dict[str, Any]]:
        """Each document as QuickBooks holds it now (fresh SyncToken); absent when deleted."""
        by_kind: dict[str, list[str]] = {}
        for row in rows:
            by_kind.setdefault(row.kind, []).append(row.qb_id)
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, ids in by_kind.items():
            for document in self.client.query_in(kind, "Id", ids):
                found[(kind, str(document.get("Id", "")))] = document
        return found

    def _kept_orders(self, present: Sequence[tuple[LedgerRow, dict[str, Any]]],
                     ours: set[tuple[str, str]]) -> dict[str, tuple[LedgerRow, str]]:
        """Orders whose documents must all stay, by order id, with the document that holds
        them and why: it was changed in QuickBooks so that deleting it would lose or break
        something that is not ours to touch. An order is undone whole or not at all."""
        linked: dict[str, set[str]] = {}
        for row, document in present:
            for kind, qb_id in _links(row, document):
                if (kind, qb_id) not in ours:
                    linked.setdefault(kind, set()).add(qb_id)
        booked = {kind: self.ledger.booked_by_qb_id(self.realm, kind, ids)
                  for kind, ids in linked.items()}
        later = self.changes.later_bookings(row for row, _ in present)
        kept: dict[str, tuple[LedgerRow, str]] = {}
        for row, document in present:
            if row.order_id in kept:
                continue
            problem = self._problem(row, document, ours, booked, later.get(row.id))
            if problem:
                kept[row.order_id] = (row, problem)
        return kept

    def _problem(self, row: LedgerRow, document: Mapping[str, Any],
                 ours: set[tuple[str, str]], booked: Mapping[str, Mapping[str, LedgerRow]],
                 later: LedgerRow | None) -> str:
        if later is not None:
            return (f"a later sync (run #{later.run_id}) changed it again; undo run "
                    f"#{later.run_id} first.")
        total = document.get("TotalAmt")
        if total not in (None, "") and money(str(total)) != row.total:
            return (f"it was changed in QuickBooks after it was booked: its total is now "
                    f"{money_text(money(str(total)))}, not {money_text(row.total)}. Delete it "
                    "there by hand if it should go.")
        for kind, qb_id in _links(row, document):
            if (kind, qb_id) in ours:
                continue
            linked = _a_kind(kind, self.product)
            other = booked.get(kind, {}).get(qb_id)
            if other is not None and other.run_id is not None:
                return (f"it has {linked} booked by a later sync (run #{other.run_id}); undo "
                        f"run #{other.run_id} first.")
            return (f"it has {linked} (Id {qb_id}) that Connex Desktop did not book, entered "
                    "in QuickBooks by hand. Delete or unapply it there first, or keep this "
                    "order as it is.")
        return ""

    # ---- deleting ------------------------------------------------------------------------

    def _delete(self, batch: Sequence[tuple[LedgerRow, dict[str, Any]]],
                failed_orders: dict[str, str]) -> None:
        batch_id = str(uuid.uuid4())
        operations = [BatchOperation(f"d{index}", "delete", row.kind,
                                     {"Id": row.qb_id, "SyncToken": str(document["SyncToken"])})
                      for index, (row, document) in enumerate(batch)]
        # The intent first: a crash after this leaves rows a later undo knows it was deleting.
        self.ledger.intend_undo((row.id, f"{batch_id}/{operation.bid}")
                                for (row, _), operation in zip(batch, operations, strict=True))
        try:
            outcomes = self.client.batch(operations, request_id=batch_id)
        except QuickBooksFault as fault:
            if fault.kind in STOPPING_KINDS:
                raise UndoStopped(fault) from fault
            outcomes = [BatchOutcome(operation.bid, None, fault) for operation in operations]
        deleted: list[tuple[int, str]] = []
        try:
            for (row, _), outcome in zip(batch, outcomes, strict=True):
                problem = outcome.fault
                if problem is None:
                    deleted.append((row.id, "deleted by an undo"))
                    self._report(row, UndoOutcome.DELETED)
                elif problem.code == QuickBooksCode.NOT_FOUND:
                    deleted.append((row.id, _gone_reason(row)))
                    self._report(row, UndoOutcome.ALREADY_GONE, _gone_reason(row))
                elif problem.kind in STOPPING_KINDS:
                    raise UndoStopped(problem)
                elif problem.kind is ErrorKind.RETRY_LATER:
                    reason = (f"QuickBooks did not confirm the deletion ({problem.message}); "
                              "undo the run again to finish.")
                    self._report(row, UndoOutcome.NOT_CONFIRMED, reason)
                    failed_orders[row.order_id] = (
                        f"kept for now: the deletion of the order's {self._label(row)} was not "
                        "confirmed; undo the run again to finish.")
                else:
                    words = f"{problem.message} {problem.detail}".strip()
                    reason = f"QuickBooks refused to delete it: {words}"
                    self._report(row, UndoOutcome.KEPT, reason)
                    failed_orders[row.order_id] = (
                        f"kept with the order's {self._label(row)}, which QuickBooks refused to "
                        f"delete ({words}).")
        finally:
            self.ledger.mark_undone(deleted)

    def _label(self, row: LedgerRow) -> str:
        return f"{document_label(row.kind, self.product)} {row.doc_number or f'(Id {row.qb_id})'}"

    def _report(self, row: LedgerRow, outcome: UndoOutcome, reason: str = "") -> None:
        self.result.documents.append(UndoDocument(
            row.order_number, DocumentKind(row.kind), row.qb_id, row.doc_number, row.total,
            outcome, reason))


def _links(row: LedgerRow, document: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    """What else in QuickBooks points at this document and would be left dangling.

    An invoice's link to its estimate is not one: deleting the invoice re-opens the estimate.
    A payment's own links are the invoices it pays, which deleting it frees.
    """
    if row.kind == "Payment":
        return
    for link in document.get("LinkedTxn") or []:
        kind = str(link.get("TxnType", ""))
        if row.kind == "Invoice" and kind == "Estimate":
            continue
        yield kind, str(link.get("TxnId", ""))


def _a_kind(kind: str, product: QuickBooksProduct) -> str:
    """ "an invoice"; a kind this app does not book as QuickBooks names it: "a Deposit"."""
    try:
        return DocumentKind(kind).a_label_in(product).lower()
    except ValueError:
        return f"a {kind}"


def _gone_reason(row: LedgerRow) -> str:
    if row.undo_request_id:
        return "deleted by an earlier undo that was interrupted"
    return "already deleted in QuickBooks (by hand)"
