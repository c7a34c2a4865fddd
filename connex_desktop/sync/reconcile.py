"""Reconcile: the documents an earlier run sent but never saw confirmed, found or sent again."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

from connex_desktop.core.errors import STOPPING_KINDS, ErrorKind
from connex_desktop.core.result import DocumentKind, OrderFailure, document_label
from connex_desktop.core.writing import DocumentWriter, NumberTaken, Stored, Write, WriteOutcome
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.storage.ledger import Confirmation, LedgerRow
from connex_desktop.storage.repositories import ORDER_ITEM, PURCHASE_ORDER_ITEM
from connex_desktop.sync.planner.store_purchase_orders import LEDGER_PREFIX
from connex_desktop.sync.run_state import (
    RunStopped,
    SyncRun,
    confirmation,
    fault_text,
    is_ours,
)

log = logging.getLogger(__name__)

# Documents whose DocNumber QuickBooks lets us query by (Payment's is not filterable).
NUMBERED_KINDS = frozenset({"Estimate", "Invoice", "SalesReceipt", "PurchaseOrder"})


class Reconciler:
    """Before a run books anything, settles the ledger rows earlier runs left planned: a
    document QuickBooks holds is confirmed, one it does not is sent again with its request id,
    and a row that cannot be checked fails its order until it can."""

    def __init__(self, run: SyncRun, writer: DocumentWriter) -> None:
        self.run = run
        self.writer = writer
        self.ledger = run.ledger

    def reconcile(self) -> None:
        rows = self.ledger.unconfirmed(self.run.realm, self.run.store_key)
        if not rows:
            return
        self.run.load_company()
        log.info("reconciling %d unconfirmed documents", len(rows))
        known_kinds = {kind.value for kind in DocumentKind}
        for row in rows:
            if row.kind not in known_kinds:
                self._unreconciled(row, f"'{row.kind}' is not a document this app books")
        rows = [row for row in rows if row.kind in known_kinds]
        confirmations: list[Confirmation] = []
        resend: list[LedgerRow] = []
        found = self.writer.holders_of_numbers(
            [(row.kind, row.doc_number) for row in rows if row.doc_number
             and row.kind in NUMBERED_KINDS])
        unnumbered = self._find_by_memo([row for row in rows if not row.doc_number])
        for row in rows:
            with self._reconciling(row):
                if row.doc_number:
                    document = found.get((row.kind, row.doc_number))
                    ours = document is not None and is_ours(document, row.order_number)
                else:
                    document = unnumbered.get(row.request_id)
                    ours = document is not None
                if document is not None and ours:
                    confirmations.append(confirmation(row.request_id, document, row.total))
                else:
                    resend.append(row)
        self.ledger.confirm(confirmations)
        self._resend(resend)

    def _resend(self, rows: list[LedgerRow]) -> None:
        """Documents QuickBooks does not have: sent again as they were, with their request id."""
        writes: dict[str, tuple[Write, LedgerRow]] = {}
        for row in rows:
            with self._reconciling(row):
                writes[row.request_id] = (Write(row.kind, json.loads(row.payload),
                                                row.request_id), row)
        failures: list[tuple[str, str]] = []
        for request in self.writer.send([write for write, _ in writes.values()]):
            for outcome in request.outcomes:
                self._take_outcome(writes[outcome.write.request_id][1], outcome, failures)
        self.ledger.fail(failures)

    def _take_outcome(self, row: LedgerRow, outcome: WriteOutcome,
                      failures: list[tuple[str, str]]) -> None:
        if isinstance(outcome, Stored):
            self.ledger.confirm([confirmation(row.request_id, outcome.record, row.total)])
            return
        fault = outcome.fault
        if fault.kind in STOPPING_KINDS:
            raise RunStopped(fault)
        if fault.kind is ErrorKind.RETRY_LATER:
            self.run.retry_later = True     # stays planned; the next run looks again
            return
        if isinstance(outcome, NumberTaken):
            with self._reconciling(row):
                document = self.writer.holders_of_numbers([(row.kind, row.doc_number)]).get(
                    (row.kind, row.doc_number))
                if document is not None and is_ours(document, row.order_number):
                    self.ledger.confirm([confirmation(row.request_id, document, row.total)])
                    return
        failures.append((row.request_id, fault_text(fault)))

    @contextlib.contextmanager
    def _reconciling(self, row: LedgerRow) -> Iterator[None]:
        """Whatever goes wrong with one row is that row's problem, never the whole sync's."""
        try:
            yield
        except RunStopped:
            raise
        except QuickBooksFault as fault:
            if fault.kind in STOPPING_KINDS:
                raise RunStopped(fault) from fault
            if fault.kind is ErrorKind.RETRY_LATER:
                self.run.retry_later = True     # stays planned; the next run looks again
            else:
                self._unreconciled(row, fault_text(fault))
        except Exception as error:
            log.exception("ledger row %s (order %s) could not be reconciled", row.id,
                          row.order_number)
            self._unreconciled(row, f"{type(error).__name__}: {error}")

    def _unreconciled(self, row: LedgerRow, problem: str) -> None:
        """The row stays planned (QuickBooks may hold its document: it is never sent twice) with
        its problem written on it, and its order fails this run, so it is seen and tried again."""
        self.ledger.note_problem(row.request_id, problem)
        if row.order_id in self.run.seen_order_ids:
            return
        # Fetched again in this run, the order is not booked around the row.
        self.run.seen_order_ids.add(row.order_id)
        self.run.order_numbers.add(row.order_number)
        document = f"{document_label(row.kind, self.run.product)} {row.doc_number}".strip()
        self.run.finish_failed(row.order_id, row.order_number, OrderFailure(
            row.order_number,
            f"its {document} left unconfirmed by an earlier sync could not be checked with "
            f"QuickBooks ({problem}). Nothing more is booked for the order until it is; look "
            "for the document in QuickBooks."), item=(
                PURCHASE_ORDER_ITEM if row.order_id.startswith(LEDGER_PREFIX) else ORDER_ITEM))

    def _find_by_memo(self, rows: list[LedgerRow]) -> dict[str, dict[str, Any]]:
        """Documents without a number of ours (payments, and those QuickBooks numbers), found
        among their customer's or vendor's by the exact memo they were sent with.

        The request id alone could replay a write, but QuickBooks does not say for how long it
        remembers one: looking first means a document is never written twice.
        """
        wanted: dict[tuple[str, str], dict[str, list[LedgerRow]]] = {}
        for row in rows:
            with self._reconciling(row):
                payload = json.loads(row.payload or "{}")
                party = "VendorRef" if row.kind == "PurchaseOrder" else "CustomerRef"
                party_id = str((payload.get(party) or {}).get("value", ""))
                memo = str(payload.get("PrivateNote") or "")
                if party_id and memo:
                    wanted.setdefault((row.kind, party), {}).setdefault(party_id, []).append(row)
        found: dict[str, dict[str, Any]] = {}
        for (kind, party), by_party in wanted.items():
            for document in self.run.client.query_in(kind, party, by_party):
                party_id = str((document.get(party) or {}).get("value", ""))
                for row in by_party.get(party_id, []):
                    memo = json.loads(row.payload).get("PrivateNote")
                    if document.get("PrivateNote") == memo:
                        found[row.request_id] = document
        return found
