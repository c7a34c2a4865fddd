"""What an undo of a sync run did: the status, and what became of each document it booked."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.result import DocumentKind


class UndoOutcome(enum.StrEnum):
    DELETED = "deleted"              # this undo deleted it
    WOULD_DELETE = "would_delete"    # a dry run: it would be deleted
    ALREADY_GONE = "already_gone"    # not in QuickBooks any more (by hand, or an earlier undo)
    KEPT = "kept"                    # left alone on purpose: deleting it is not safe
    NOT_CONFIRMED = "not_confirmed"  # no answer from QuickBooks; the next undo finishes it
    REVERTED = "reverted"            # a change the run made to an earlier booking, taken back
    WOULD_REVERT = "would_revert"    # a dry run: the change would be taken back


# What happened to each document, in the words the CLI and the sync log both show.
UNDO_WORDS = {UndoOutcome.DELETED: "deleted", UndoOutcome.WOULD_DELETE: "would delete",
              UndoOutcome.ALREADY_GONE: "already gone", UndoOutcome.KEPT: "kept",
              UndoOutcome.NOT_CONFIRMED: "not confirmed", UndoOutcome.REVERTED: "changed back",
              UndoOutcome.WOULD_REVERT: "would change back"}


class UndoStatus(enum.StrEnum):
    UNDONE = "undone"      # nothing the run booked is left in QuickBooks
    PARTIAL = "partial"    # some documents were kept or could not be deleted
    FAILED = "failed"      # nothing could be done (setup, authorisation, unreachable)


@dataclass(frozen=True)
class UndoDocument:
    order: str
    kind: DocumentKind
    qb_id: str
    doc_number: str
    total: Decimal
    outcome: UndoOutcome
    reason: str = ""     # why it was kept, not confirmed, or already gone

    def label_in(self, product: QuickBooksProduct) -> str:
        """ "Invoice 1001" as `product` names it; its Id when it has no number."""
        number = self.doc_number or (f"(Id {self.qb_id})" if self.qb_id else "")
        return f"{self.kind.label_in(product)} {number}".strip()


@dataclass
class UndoResult:
    connection: str
    run_id: int
    status: UndoStatus
    dry_run: bool = False
    documents: list[UndoDocument] = field(default_factory=list)
    message: str = ""
    failure_kind: ErrorKind | None = None   # for a FAILED undo: what the user can do

    def count(self, outcome: UndoOutcome) -> int:
        return sum(1 for doc in self.documents if doc.outcome is outcome)

    @property
    def left(self) -> list[UndoDocument]:
        """Documents of the run QuickBooks still holds after this undo."""
        return [doc for doc in self.documents
                if doc.outcome in (UndoOutcome.KEPT, UndoOutcome.NOT_CONFIRMED)]
