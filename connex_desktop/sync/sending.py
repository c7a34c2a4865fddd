"""Writing a run's orders: what is ready goes to the writer round by round; answers come back."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connex_desktop.core.errors import STOPPING_KINDS, ConnexError, ErrorKind, Fix, Remedy
from connex_desktop.core.money import money_text
from connex_desktop.core.result import BookedDocument, DocumentKind, document_label
from connex_desktop.core.writing import (
    DocumentWriter,
    NameTaken,
    NumberTaken,
    SentRequest,
    StaleReference,
    Stored,
    Unanswered,
    Write,
    WriteOutcome,
)
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.storage.ledger import Confirmation, Intent
from connex_desktop.sync.new_records import NewRecords
from connex_desktop.sync.payloads import NotYet, Payloads
from connex_desktop.sync.planner import NewEntity, NewEntityRef, thawed
from connex_desktop.sync.run_state import (
    DocumentInFlight,
    OrderInFlight,
    RunStopped,
    SyncRun,
    answered_amount,
    confirmation,
    fault_text,
    is_ours,
)
from connex_desktop.sync.windows import plan_window
from connex_desktop.sync.wrong_totals import remove_wrong_totals

log = logging.getLogger(__name__)

SALE_KINDS = frozenset({"Estimate", "Invoice", "SalesReceipt"})

Operation = DocumentInFlight | NewEntity


@dataclass
class RoundAnswers:
    """What one round's answers leave to do: record in the ledger, then look into."""

    confirmations: list[Confirmation] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[DocumentInFlight] = field(default_factory=list)  # our number was taken
    clashes: list[NewEntity] = field(default_factory=list)            # the name was taken
    stale: list[OrderInFlight] = field(default_factory=list)  # refused for a stale reference


class DocumentSender:
    """Sends the run's orders in flight through the writer: customers and items first, then
    each document once what it refers to exists; records every answer in the ledger."""

    def __init__(self, run: SyncRun, writer: DocumentWriter, *, fill_batches: bool) -> None:
        self.run = run
        self.writer = writer
        # Hold back part-filled requests until the last window (fewer requests, same result).
        self.fill_batches = fill_batches
        self.new_records = NewRecords(run, writer)
        self.payloads = Payloads(run)

    def send_ready(self, *, final: bool) -> None:
        """Send what is ready, in requests of up to the writer's most, round by round.

        Until `final`, only full requests go out and the rest waits for the next window, so
        the company's 40-batches-a-minute limit carries as many documents as it can.
        """
        while self._orders_to_send():
            self.payloads.load_sale_customers(self.run.in_flight)
            operations: list[Operation] = [*self._entities_ready(), *self._documents_ready()]
            count = len(operations)
            if self.fill_batches and not final:
                count -= count % self.writer.operations_per_request
            if count == 0:
                break
            if self.run.cancel_requested and not self.run.all_begun():
                continue    # cancelled while this round was made ready: again, without them
            # Payments are fitted to what is still open on their invoice only now, as they go.
            self._send_round([operation for operation in operations[:count]
                              if not isinstance(operation, DocumentInFlight)
                              or operation.planned.kind is not DocumentKind.PAYMENT
                              or self.payloads.fit_payment(operation)])
            self.run.finish_completed()
        if final:
            self.run.finish_completed(everything=True)

    # ---- what is ready to send -----------------------------------------------------------

    def _orders_to_send(self) -> bool:
        """Whether orders are left to send; once cancelled, only those begun are."""
        if self.run.cancel_requested:
            self.run.drop_unsent()
        return bool(self.run.in_flight)

    def _entities_ready(self) -> list[NewEntity]:
        ready: dict[NewEntityRef, NewEntity] = {}
        for state in self.run.in_flight:
            if state.failure is not None:
                continue
            for entity in state.plan.creates:
                if entity.key not in self.run.resolved and entity.key not in self.run.entity_faults:
                    ready.setdefault(entity.key, self.run.renamed.get(entity.key, entity))
        return list(ready.values())

    def _documents_ready(self) -> list[DocumentInFlight]:
        ready = []
        for state in self.run.in_flight:
            for doc in state.docs.values():
                if doc.done or doc.blocked or doc.request_id:
                    continue
                if not all(state.docs[key].done for key in doc.planned.depends_on
                           if key in state.docs):
                    continue
                try:
                    doc.payload = self.payloads.filled(state, doc)
                except NotYet:
                    continue
                except KeyError as missing:
                    why = self.run.entity_faults.get(missing.args[0])
                    state.fail(f"its {doc.planned.kind.label_in(self.run.product)} needs "
                               f"{missing.args[0]}, which could not be created: {why}")
                    continue
                ready.append(doc)
        return ready

    # ---- one round: send, then take the answers in -------------------------------------

    def _send_round(self, operations: list[Operation]) -> None:
        writes = self.writer.with_request_ids([_write_of(operation) for operation in operations])
        by_request: dict[str, Operation] = {}
        beginning = {id(operation.order) for operation in operations
                     if isinstance(operation, DocumentInFlight) and not operation.order.sent}
        for operation, write in zip(operations, writes, strict=True):
            if isinstance(operation, DocumentInFlight):
                operation.request_id = write.request_id
                # As the writer will send it (QuickBooks Desktop's carries its exact message),
                # for the ledger to keep and a later run to send again unchanged.
                operation.payload = dict(write.body)
            by_request[write.request_id] = operation
        if beginning:
            self.run.begin_sending(len(beginning))
        refused = self._record_intents([operation for operation in operations
                                        if isinstance(operation, DocumentInFlight)])
        answered = RoundAnswers()
        for request in self.writer.send([write for write in writes
                                         if write.request_id not in refused]):
            self._take_request(request, by_request, answered)
        answered.confirmations.extend(self._adopt_duplicates(answered.duplicates,
                                                             answered.failures))
        self._save(answered.confirmations, answered.failures)
        remove_wrong_totals(self.run, self.writer)
        for entity in answered.clashes:
            self.new_records.settle_name_clash(entity)
        if answered.stale:
            self._plan_again(answered.stale)

    def _plan_again(self, states: list[OrderInFlight]) -> None:
        """Orders a document of which QuickBooks refused for a record the cached lists still
        had (made inactive or deleted there meanwhile): the lists are brought up to date and
        the orders planned again, once. QuickBooks stored nothing of the refused document."""
        run = self.run
        run.refs.refresh()
        again = {id(state) for state in states}
        run.in_flight = [state for state in run.in_flight if id(state) not in again]
        run.partly_sent -= len(states)     # each had its one document sent, and refused
        for state in states:
            run.replanned.add(state.order.source_id)
            run.seen_order_ids.discard(state.order.source_id)
            run.result.fetched -= 1
        run.in_flight.extend(plan_window(run, [state.order for state in states]))

    def _record_intents(self, docs: list[DocumentInFlight]) -> set[str]:
        """Every document goes into the ledger before it is sent; the request ids of those
        another sync of the same store booked meanwhile, which are not sent."""
        intents = [_intent(doc) for doc in docs]
        if intents:
            self.run.remember_store()
        run = self.run
        _, refused = run.ledger.plan(run.realm, run.store_key, run.connection.id,
                                     run.result.run_id, intents)
        by_request = {doc.request_id: doc for doc in docs}
        for intent, row in refused:
            by_request[intent.request_id].order.fail(
                f"meanwhile its {document_label(row.kind, run.product)} "
                f"{row.doc_number or row.qb_id} was booked by another "
                "sync of the same store; nothing more was booked.", kind=ErrorKind.RETRY_LATER)
        return {intent.request_id for intent, _ in refused}

    def _take_request(self, request: SentRequest, by_request: Mapping[str, Operation],
                      answered: RoundAnswers) -> None:
        for outcome in request.outcomes:
            operation = by_request[outcome.write.request_id]
            if not isinstance(outcome, Stored) and outcome.fault.kind in STOPPING_KINDS:
                self._save(answered.confirmations, answered.failures)
                raise RunStopped(outcome.fault)
            if isinstance(outcome, Unanswered):
                self._unconfirmed([operation], outcome.fault)
                continue
            try:
                self._take_answer(operation, outcome, answered)
            except Exception as error:  # one answer not taken in fails its order, not the run
                log.exception("an answer from QuickBooks was not taken in")
                self._unconfirmed([operation], QuickBooksFault(
                    f"its answer could not be read ({type(error).__name__}: {error}).",
                    kind=ErrorKind.RETRY_LATER))
        if request.fault is not None:
            self._stop_window(request.fault)

    def _take_answer(self, operation: Operation, outcome: WriteOutcome,
                     answered: RoundAnswers) -> None:
        if isinstance(operation, NewEntity):
            if isinstance(outcome, Stored):
                self.new_records.created(operation, outcome.record)
            elif isinstance(outcome, NameTaken):
                answered.clashes.append(operation)
            else:
                self.new_records.failed(operation, outcome.fault)
        elif isinstance(outcome, Stored):
            answered.confirmations.append(self._confirmed(operation, outcome.record))
        elif isinstance(outcome, NumberTaken):
            answered.duplicates.append(operation)
        elif outcome.fault.kind is ErrorKind.RETRY_LATER:
            self._unconfirmed([operation], outcome.fault)
        elif isinstance(outcome, StaleReference) and self._worth_planning_again(operation):
            answered.failures.append((operation.request_id, fault_text(outcome.fault)))
            answered.stale.append(operation.order)
        else:
            answered.failures.append((operation.request_id, fault_text(outcome.fault)))
            operation.order.fail(
                f"QuickBooks refused its {operation.planned.kind.label_in(self.run.product)}: "
                f"{outcome.fault.message}", kind=outcome.fault.kind, detail=outcome.fault.detail)

    def _worth_planning_again(self, doc: DocumentInFlight) -> bool:
        """An order refused for a reference the cache may hold stale is planned again when the
        refused document is the only one of it sent in this run, and only once."""
        state = doc.order
        return (state.failure is None and state.order.source_id not in self.run.replanned
                and all(other is doc or not other.request_id for other in state.docs.values()))

    def _save(self, confirmations: list[Confirmation], failures: list[tuple[str, str]]) -> None:
        self.run.ledger.confirm(confirmations)
        self.run.ledger.fail(failures)
        confirmations.clear()
        failures.clear()

    def _unconfirmed(self, operations: Iterable[Operation], fault: ConnexError) -> None:
        """No answer after the client's retries: documents stay planned for the next run."""
        self.run.retry_later = True
        for operation in operations:
            if isinstance(operation, NewEntity):
                self.new_records.failed(operation, fault)
                continue
            operation.order.fail(
                f"QuickBooks did not confirm its "
                f"{operation.planned.kind.label_in(self.run.product)}: "
                f"{fault.message} The next sync checks before sending it again.",
                kind=ErrorKind.RETRY_LATER, detail=fault.detail)

    def _stop_window(self, fault: ConnexError) -> None:
        """QuickBooks stayed unreachable: the window's unsent documents wait for the next run."""
        for state in self.run.in_flight:
            if state.failure is None and any(not (doc.done or doc.request_id)
                                             for doc in state.docs.values()):
                state.fail(f"not booked in full: {fault.message} The next sync books the rest.",
                           kind=ErrorKind.RETRY_LATER, detail=fault.detail)

    # ---- documents QuickBooks holds ------------------------------------------------------

    def _confirmed(self, doc: DocumentInFlight, entity: Mapping[str, Any]) -> Confirmation:
        doc.qb_id = str(entity.get("Id", ""))
        doc.doc_number = str(entity.get("DocNumber") or "")
        doc.done = True
        confirmed = confirmation(doc.request_id, entity, doc.planned.total)
        kind = doc.planned.kind
        if kind is DocumentKind.INVOICE:
            self.run.note_balance(entity)
        doc.order.booked.append(BookedDocument(doc.order.order.number, kind, doc.qb_id,
                                               doc.doc_number, confirmed.total))
        checked = kind.value in SALE_KINDS or kind is DocumentKind.REFUND_RECEIPT
        label = f"{kind.label_in(self.run.product)} {doc.doc_number or doc.qb_id}"
        if answered_amount(entity.get("TotalAmt", "")) is None:
            doc.order.fail(
                f"QuickBooks answered {entity.get('TotalAmt')} as the total of its {label}, "
                "which is not an amount to the cent; check the "
                "document in QuickBooks. Nothing more was booked for it.")
        elif checked and confirmed.total != doc.planned.total:
            what = "the refund" if kind is DocumentKind.REFUND_RECEIPT else "the order's total"
            self.run.wrong_totals.append((doc, entity, (
                f"QuickBooks computed {money_text(confirmed.total)} for its {label} but {what} is "
                f"{money_text(doc.planned.total)}; check the tax and discount settings.")))
        return confirmed

    def _adopt_duplicates(self, duplicates: list[DocumentInFlight],
                          failures: list[tuple[str, str]]) -> list[Confirmation]:
        """Our number was taken: the document is ours if its memo names the order."""
        if not duplicates:
            return []
        found = self.writer.holders_of_numbers(
            [(doc.planned.kind.value, doc.sent_number) for doc in duplicates])
        adopted = []
        for doc in duplicates:
            number = doc.sent_number
            document = found.get((doc.planned.kind.value, number))
            if document is not None and is_ours(document, doc.order.order.number):
                adopted.append(self._confirmed(doc, document))
                continue
            taken = doc.planned.kind.a_label_in(self.run.product)
            message = (f"QuickBooks already has {taken} numbered {number} "
                       "that Connex Desktop did not book. Give this connection a prefix, or let "
                       "QuickBooks number the documents.")
            failures.append((doc.request_id, message))
            doc.order.fail(message, fix=Fix(Remedy.USE_QB_NUMBERING))
        return adopted


def _write_of(operation: Operation) -> Write:
    if isinstance(operation, NewEntity):
        return Write(operation.entity, thawed(operation.body))
    return Write(operation.planned.kind.value, operation.payload)


def _intent(doc: DocumentInFlight) -> Intent:
    order = doc.order.order
    return Intent(order.source_id, order.number, doc.planned.doc_key, doc.planned.kind.value,
                  doc.request_id, json.dumps(doc.payload, default=str),
                  doc.sent_number, doc.planned.total)
