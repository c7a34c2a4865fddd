"""Documents QuickBooks totalled otherwise than the store: deleted at once, and said so."""

from __future__ import annotations

from connex_desktop.core.writing import DocumentWriter
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.sync.run_state import SyncRun


def remove_wrong_totals(run: SyncRun, writer: DocumentWriter) -> None:
    """A document whose total QuickBooks computed otherwise than the store is deleted at
    once, so nothing wrong stays in the books; the ledger records it gone (the order can
    be booked again once fixed, and is never booked twice)."""
    wrong, run.wrong_totals = run.wrong_totals, []
    removed: list[tuple[str, str]] = []
    for doc, entity, problem in wrong:
        label = f"{doc.planned.kind.label_in(run.product)} {doc.doc_number or doc.qb_id}"
        try:
            writer.delete(doc.planned.kind.value, entity)
        except QuickBooksFault as fault:
            doc.order.fail(
                f"{problem} The {label} could not be deleted ({fault.message}): delete "
                f"it in QuickBooks, or undo sync run {run.result.run_id}.",
                kind=fault.kind, detail=fault.detail)
            continue
        removed.append((doc.request_id, f"deleted at once: {problem}"))
        doc.order.booked = [booked for booked in doc.order.booked
                            if (booked.kind, booked.qb_id) != (doc.planned.kind, doc.qb_id)]
        doc.order.fail(f"{problem} The {label} was deleted at once; nothing of this order "
                       "stays in QuickBooks from it.")
    run.ledger.mark_deleted(removed)
