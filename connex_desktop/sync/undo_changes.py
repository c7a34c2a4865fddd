"""Undoing a change a sync made to a document it booked earlier: the document changed back."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from connex_desktop.core.errors import STOPPING_KINDS, ErrorKind
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.undo_result import UndoOutcome
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.storage.ledger import LedgerRepository, LedgerRow
from connex_desktop.sync.back_end import QuickBooksBackEnd

# What a change sends besides what it changes, never sent back.
_NOT_CONTENT = frozenset({"Id", "SyncToken", "sparse", "DocNumber"})

Report = Callable[[LedgerRow, UndoOutcome, str], None]


def is_change(row: LedgerRow) -> bool:
    """A row that changed a document booked before (its body names the document's Id)."""
    return bool(json.loads(row.payload or "{}").get("Id"))


class ChangeReverter:
    """Puts documents a run changed back as the booking before it left them."""

    def __init__(self, ledger: LedgerRepository, client: QuickBooksBackEnd, *,
                 dry_run: bool, report: Report, stopped: Callable[[QuickBooksFault], Exception]
                 ) -> None:
        self.ledger = ledger
        self.client = client
        self.dry_run = dry_run
        self.report = report
        self.stopped = stopped

    def later_bookings(self, rows: Iterable[LedgerRow]) -> dict[int, LedgerRow]:
        """For each row (by id) with one, a change of the same document that a later run
        booked and no undo took back; the ledger is read once for all the rows' orders."""
        rows = list(rows)
        by_store: dict[tuple[str, str], set[str]] = {}
        for row in rows:
            by_store.setdefault((row.realm_id, row.store_key), set()).add(row.order_id)
        booked = {store: self.ledger.for_orders(*store, order_ids)
                  for store, order_ids in by_store.items()}
        found: dict[int, LedgerRow] = {}
        for row in rows:
            order_rows = booked[(row.realm_id, row.store_key)].get(row.order_id, {})
            later = [other for other in order_rows.values()
                     if other.id > row.id and other.state == LedgerState.CONFIRMED
                     and other.run_id != row.run_id and other.qb_id == row.qb_id
                     and is_change(other)]
            if later:
                found[row.id] = min(later, key=lambda other: other.id)
        return found

    def revert(self, row: LedgerRow, document: Mapping[str, Any]) -> None:
        """Send back the content the booking before this change sent."""
        before = self._booking_before(row)
        if before is None:
            self.report(row, UndoOutcome.KEPT, "the booking it changed is not in the ledger "
                        "any more; change it back in QuickBooks by hand.")
            return
        if self.dry_run:
            self.report(row, UndoOutcome.WOULD_REVERT, "")
            return
        content = {key: value for key, value in json.loads(before.payload).items()
                   if key not in _NOT_CONTENT}
        body = {**content, "Id": row.qb_id, "SyncToken": str(document["SyncToken"]),
                "sparse": True}
        try:
            self.client.update(row.kind, body, request_id=str(uuid.uuid4()))
        except QuickBooksFault as fault:
            if fault.kind in STOPPING_KINDS:
                raise self.stopped(fault) from fault
            outcome = (UndoOutcome.NOT_CONFIRMED if fault.kind is ErrorKind.RETRY_LATER
                       else UndoOutcome.KEPT)
            self.report(row, outcome, f"QuickBooks did not take the change back: "
                        f"{fault.message} {fault.detail}".strip())
            return
        self.ledger.mark_undone([(row.id, "changed back by an undo")])
        self.report(row, UndoOutcome.REVERTED, "")

    def _booking_before(self, row: LedgerRow) -> LedgerRow | None:
        rows = self.ledger.for_orders(row.realm_id, row.store_key, [row.order_id])
        earlier = [other for other in rows.get(row.order_id, {}).values()
                   if other.id < row.id and other.state == LedgerState.CONFIRMED]
        return max(earlier, key=lambda other: other.id) if earlier else None
