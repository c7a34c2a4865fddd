"""Writing the store's purchase orders: their vendors and items first, then each one, once."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connex_desktop.core.errors import STOPPING_KINDS, ConnexError, ErrorKind
from connex_desktop.core.plan import NewEntity, NewEntityRef, Pending, thawed
from connex_desktop.core.purchase_order import PurchaseOrderState
from connex_desktop.core.result import BookedDocument, DocumentKind
from connex_desktop.core.writing import (
    DocumentWriter,
    NameTaken,
    NumberTaken,
    Stored,
    Unanswered,
    Write,
    WriteOutcome,
)
from connex_desktop.storage.ledger import Confirmation, Intent, LedgerRow
from connex_desktop.sync.new_records import NewRecords
from connex_desktop.sync.planner.entities import ITEM_NAME_TRIES
from connex_desktop.sync.planner.store_purchase_orders import ledger_id
from connex_desktop.sync.run_state import (
    RunStopped,
    SyncRun,
    confirmation,
    fault_text,
    is_ours,
)

if TYPE_CHECKING:
    from connex_desktop.sync.purchase_orders import Booking

KIND = DocumentKind.PURCHASE_ORDER


class PurchaseOrderWrites:
    """Sends the run's purchase orders through the writer and records each in the ledger
    before it is sent and again once QuickBooks answers."""

    def __init__(self, run: SyncRun, writer: DocumentWriter) -> None:
        self.run = run
        self.writer = writer
        self.new_records = NewRecords(run, writer)

    def book(self, bookings: list[Booking]) -> None:
        bookings = [booking for booking in bookings if booking.plan is not None]
        if not bookings:
            return
        self._create_records(bookings)
        current = self._current(bookings)
        ready: list[tuple[Booking, Write]] = []
        for booking in bookings:
            payload = self._payload(booking, current)
            if payload is not None:
                ready.append((booking, Write(KIND.value, payload)))
        if ready:
            self._send(ready)

    # ---- vendors and items ---------------------------------------------------------------

    def _create_records(self, bookings: list[Booking]) -> None:
        """The vendors and items the purchase orders need, created; a name QuickBooks has is
        settled (ours to use, or the next name tried) round by round."""
        run = self.run
        for _ in range(ITEM_NAME_TRIES + 1):
            ready: dict[NewEntityRef, NewEntity] = {}
            for booking in bookings:
                assert booking.plan is not None
                for entity in booking.plan.creates:
                    if entity.key not in run.resolved and entity.key not in run.entity_faults:
                        ready.setdefault(entity.key, run.renamed.get(entity.key, entity))
            if not ready:
                return
            writes = self.writer.with_request_ids(
                [Write(entity.entity, thawed(entity.body)) for entity in ready.values()])
            by_request = dict(zip((write.request_id for write in writes), ready.values(),
                                  strict=True))
            for request in self.writer.send(writes):
                for outcome in request.outcomes:
                    self._take_record(by_request[outcome.write.request_id], outcome)

    def _take_record(self, entity: NewEntity, outcome: WriteOutcome) -> None:
        if isinstance(outcome, Stored):
            self.new_records.created(entity, outcome.record)
        elif isinstance(outcome, NameTaken):
            self.new_records.settle_name_clash(entity)
        elif outcome.fault.kind in STOPPING_KINDS:
            raise RunStopped(outcome.fault)
        else:
            self.new_records.failed(entity, outcome.fault)

    # ---- what each sends -----------------------------------------------------------------

    def _current(self, bookings: list[Booking]) -> dict[str, dict[str, Any]]:
        """The purchase orders booked before, as QuickBooks holds them now (SyncToken)."""
        ids = [booking.previous.qb_id for booking in bookings if booking.previous is not None]
        if not ids:
            return {}
        return {str(document["Id"]): document
                for document in self.run.client.query_in(KIND.value, "Id", ids)}

    def _payload(self, booking: Booking,
                 current: Mapping[str, dict[str, Any]]) -> dict[str, Any] | None:
        """The body to send: the plan's, its vendor and items filled in; for a purchase order
        booked before, a sparse change of the one QuickBooks holds. None when it fails."""
        assert booking.plan is not None

        def fill(pending: Pending) -> Any:
            if pending in self.run.resolved:
                return self.run.resolved[pending]
            why = self.run.entity_faults.get(pending, "it was not created")
            raise _NotCreated(f"could not create {pending}: {why}")

        try:
            payload: dict[str, Any] = thawed(booking.plan.body, fill)
        except _NotCreated as missing:
            booking.fail(str(missing))
            return None
        if booking.previous is None:
            return payload
        document = current.get(booking.previous.qb_id)
        if booking.purchase.state is PurchaseOrderState.DELETED:
            booking.skipped = self._deleted_left_alone(booking.previous, document)
        if booking.skipped:
            return None
        if document is None:
            booking.fail(f"its purchase order (Id {booking.previous.qb_id}) is no longer in "
                         "QuickBooks; undo the sync run that booked it to book it anew.")
            return None
        if document.get("POStatus") == "Closed":
            booking.skipped = ("it was closed in QuickBooks by hand; the store's changes are "
                               "not booked")
            return None
        payload.pop("DocNumber", None)     # kept as QuickBooks has it
        if document.get("LinkedTxn"):
            payload.pop("Line")
            booking.notes.append("Its lines are kept as they are in QuickBooks: a bill there "
                                 "is linked to them.")
        return {**payload, "Id": document["Id"], "SyncToken": document["SyncToken"],
                "sparse": True}

    def _deleted_left_alone(self, booked: LedgerRow, document: Mapping[str, Any] | None) -> str:
        """Why the purchase order of one the store deleted is not closed ("" when it is): it
        is gone from QuickBooks too, or a bill there is linked to it (closing it is the
        bookkeeper's call). One closed by hand is left alone as for any change."""
        store = self.run.store_label
        if document is None:
            return (f"it was deleted in {store}, and its purchase order (Id {booked.qb_id}) is "
                    "no longer in QuickBooks either")
        if document.get("LinkedTxn") and document.get("POStatus") != "Closed":
            name = " ".join(("purchase order", str(document.get("DocNumber") or ""))).strip()
            return (f"it was deleted in {store}, but a bill in QuickBooks is linked to its "
                    f"{name}: it is left open there; close it by hand if nothing more is coming")
        return ""

    # ---- sending and the answers ---------------------------------------------------------

    def _send(self, ready: list[tuple[Booking, Write]]) -> None:
        run = self.run
        writes = self.writer.with_request_ids([write for _, write in ready])
        by_request = {write.request_id: (booking, write)
                      for (booking, _), write in zip(ready, writes, strict=True)}
        intents = [_intent(booking, write) for booking, write in by_request.values()]
        run.remember_store()
        _, refused = run.ledger.plan(run.realm, run.store_key, run.connection.id,
                                     run.result.run_id, intents)
        for intent, row in refused:
            by_request.pop(intent.request_id)[0].fail(
                f"meanwhile its purchase order {row.doc_number or row.qb_id} was booked by "
                "another sync of the same store; nothing more was booked.",
                kind=ErrorKind.RETRY_LATER)
        confirmations: list[Confirmation] = []
        failures: list[tuple[str, str]] = []
        try:
            for request in self.writer.send([write for _, write in by_request.values()]):
                for outcome in request.outcomes:
                    booking, write = by_request[outcome.write.request_id]
                    confirmed = self._answer(booking, write, outcome, failures)
                    if confirmed is not None:
                        confirmations.append(confirmed)
        finally:
            run.ledger.confirm(confirmations)
            run.ledger.fail(failures)

    def _answer(self, booking: Booking, write: Write, outcome: WriteOutcome,
                failures: list[tuple[str, str]]) -> Confirmation | None:
        if isinstance(outcome, Stored):
            return self._confirmed(booking, write, outcome.record)
        fault = outcome.fault
        if fault.kind in STOPPING_KINDS:
            raise RunStopped(fault)
        if isinstance(outcome, NumberTaken):
            number = str(write.body.get("DocNumber", ""))
            document = self.writer.holders_of_numbers([(KIND.value, number)]).get(
                (KIND.value, number))
            if document is not None and is_ours(document, booking.purchase.number):
                return self._confirmed(booking, write, document)
            message = (f"QuickBooks already has a purchase order numbered {number} that "
                       "Connex Desktop did not book. Give this connection a prefix, or let "
                       "QuickBooks number the documents.")
            failures.append((write.request_id, message))
            booking.fail(message)
        elif isinstance(outcome, Unanswered) or fault.kind is ErrorKind.RETRY_LATER:
            self._unconfirmed(booking, fault)
        else:
            failures.append((write.request_id, fault_text(fault)))
            booking.fail(f"QuickBooks refused its purchase order: {fault.message}",
                         kind=fault.kind, detail=fault.detail)
        return None

    def _unconfirmed(self, booking: Booking, fault: ConnexError) -> None:
        """No answer after the client's retries: the row stays planned for the next run."""
        self.run.retry_later = True
        booking.fail(f"QuickBooks did not confirm its purchase order: {fault.message} The "
                     "next sync checks before sending it again.", kind=ErrorKind.RETRY_LATER,
                     detail=fault.detail)

    def _confirmed(self, booking: Booking, write: Write,
                   document: Mapping[str, Any]) -> Confirmation:
        assert booking.plan is not None
        confirmed = confirmation(write.request_id, document, booking.plan.total)
        if document.get("POStatus", "Closed") == "Open" and write.body.get("POStatus") == "Closed":
            booking.notes.append("It was booked but QuickBooks did not close it; close it "
                                 "there by hand.")
        booking.booked.append(BookedDocument(booking.purchase.number, KIND, confirmed.qb_id,
                                             confirmed.doc_number, confirmed.total))
        return confirmed


class _NotCreated(Exception):
    """A vendor or item the purchase order needs could not be created."""


def _intent(booking: Booking, write: Write) -> Intent:
    """The ledger row of one revision. A change carries no number of ours: an earlier run
    that left it unconfirmed finds it by its memo, which names the revision, so a change
    QuickBooks never made is never taken for done."""
    assert booking.plan is not None
    purchase = booking.purchase
    number = "" if write.is_update else str(write.body.get("DocNumber") or "")
    return Intent(ledger_id(purchase), purchase.number, booking.doc_key, KIND.value,
                  write.request_id, json.dumps(write.body, default=str), number,
                  booking.plan.total)
