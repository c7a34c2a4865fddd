"""Where each document in the ledger stands: planned, confirmed, failed, voided or undone."""

from __future__ import annotations

import enum


class LedgerState(enum.StrEnum):
    PLANNED = "planned"      # recorded before sending: the outcome is not known yet
    CONFIRMED = "confirmed"  # QuickBooks holds it (qb_id, doc_number, total)
    FAILED = "failed"        # QuickBooks refused it; the next attempt gets a new request id
    VOIDED = "voided"
    # Deleted from QuickBooks by an undo, or by the sync at once when QuickBooks' total was not
    # the store's; the order may be booked again.
    UNDONE = "undone"

    @property
    def exists(self) -> bool:
        """QuickBooks holds the document, or may (sent, answer not known): never send it again."""
        return self in (LedgerState.PLANNED, LedgerState.CONFIRMED)
