"""One sync run's state: its orders in flight, what it resolved, and how each order ended."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import Cancelled, ConnexError, ErrorKind, Fix, SetupError
from connex_desktop.core.model import Order
from connex_desktop.core.money import MoneyError, money
from connex_desktop.core.progress import Progress, ProgressCallback
from connex_desktop.core.result import (
    BookedDocument,
    DocumentKind,
    OrderFailure,
    OrderOutcome,
    SyncResult,
)
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sources.base import Source
from connex_desktop.storage.ledger import Confirmation, LedgerRepository
from connex_desktop.storage.repositories import (
    ORDER_ITEM,
    ConnectionRepository,
    RunRepository,
)
from connex_desktop.sync.back_end import QuickBooksBackEnd
from connex_desktop.sync.company_setup import company_problem, company_setup
from connex_desktop.sync.planner import (
    CompanySetup,
    NewEntity,
    NewEntityRef,
    OrderPlan,
    Pending,
    PlannedDocument,
    names_order,
)

# How an order's documents are listed: the sale first, then what follows from it.
DOCUMENT_ORDER = (DocumentKind.ESTIMATE, DocumentKind.INVOICE, DocumentKind.SALES_RECEIPT,
                  DocumentKind.PAYMENT, DocumentKind.PURCHASE_ORDER, DocumentKind.REFUND_RECEIPT)


class RunStopped(Exception):
    """A fault that ends the whole run (authorisation, setup) raised from deep in a window."""

    def __init__(self, error: ConnexError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass
class DocumentInFlight:
    """One planned document on its way: its request id, payload and outcome.

    Its order holds it, and it refers back to its order weakly: with no cycle between them, a
    finished order is freed at once, and never waits for a full garbage collection, whose
    walk over every order and result alive stalls the window's thread too.
    """

    order_ref: weakref.ref[OrderInFlight] = field(repr=False)
    planned: PlannedDocument
    request_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    qb_id: str = ""
    doc_number: str = ""
    done: bool = False       # confirmed (now or earlier)
    blocked: bool = False    # will not be sent: the order failed or something it needs did

    @property
    def order(self) -> OrderInFlight:
        order = self.order_ref()
        assert order is not None, "an order is held for as long as its documents are in use"
        return order

    @property
    def sent_number(self) -> str:
        """The DocNumber sent ("" when QuickBooks numbers the document)."""
        return str(self.payload.get("DocNumber") or "")


@dataclass
class OrderInFlight:
    """A planned order whose documents are being written, and how it is going."""

    order: Order
    plan: OrderPlan
    docs: dict[str, DocumentInFlight] = field(default_factory=dict)
    booked: list[BookedDocument] = field(default_factory=list)
    failure: OrderFailure | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        """Whether a document of it went to QuickBooks in this run."""
        return any(doc.request_id for doc in self.docs.values())

    def fail(self, message: str, *, kind: ErrorKind = ErrorKind.FIX_DATA,
             detail: str = "", fix: Fix | None = None) -> None:
        if self.failure is None:
            self.failure = OrderFailure(self.order.number, message, kind, detail, fix)
        for doc in self.docs.values():
            if not doc.done:
                doc.blocked = True


class SyncRun:
    """What one run of a connection knows and has done, shared by its phases (reconcile, plan,
    write), and the recording of each order's outcome in the run's history."""

    def __init__(self, connection: Connection, client: QuickBooksBackEnd, source: Source, *,
                 result: SyncResult, progress: ProgressCallback, dry_run: bool,
                 runs: RunRepository, ledger: LedgerRepository,
                 connections: ConnectionRepository, refs: ReferenceCache) -> None:
        self.connection = connection
        self.client = client
        self.result = result
        self.progress = progress
        self.dry_run = dry_run
        self.runs = runs
        self.ledger = ledger
        self.connections = connections
        self.realm = connection.quickbooks.realm_id
        # Which QuickBooks: its documents are named in its words (DocumentKind.label_in).
        self.product = connection.quickbooks.product
        # The store the connection has booked from, not what its settings name today: a moved
        # order file or a store's new address must not book everything again.
        assert connection.id is not None
        remembered = connections.store_key(connection.id)
        self.store_key = remembered or source.store_key
        self.store_remembered = bool(remembered)
        self.store_label = source.label
        self.refs = refs
        self.company_loaded = False
        self.setup = CompanySetup()
        self.resolved: dict[Pending, Any] = {}  # hole -> ref / id, for the whole run
        self.retry_later = False
        self.seen_order_ids: set[str] = set()
        self.order_numbers: set[str] = set()     # the order numbers fetched, read or not
        self.in_flight: list[OrderInFlight] = []  # planned orders with documents still to send
        self.entity_faults: dict[Pending, str] = {}  # hole -> why it could not be filled
        self.renamed: dict[NewEntityRef, NewEntity] = {}  # renamed after a name clash
        self.replanned: set[str] = set()          # orders planned again after a stale reference
        self.open_balance: dict[str, Decimal] = {}  # invoice Id -> what is left to pay on it
        # Documents QuickBooks totals otherwise than the store, with why: deleted at once.
        self.wrong_totals: list[tuple[DocumentInFlight, Mapping[str, Any], str]] = []
        # What the progress says beyond the counts (see Progress); set from other threads too.
        self.total: int | None = None
        self.partly_sent = 0
        self.cancel_requested = False
        self.pause: tuple[float, str] = (0.0, "")
        self.current_order = ""

    def load_company(self) -> None:
        """What the run needs of the company, read when first needed: a sync with nothing to
        book asks QuickBooks nothing."""
        if self.company_loaded:
            return
        try:
            preferences = self.refs.preferences()
            problem = company_problem(self.connection, self.refs, preferences)
            if problem:
                raise SetupError(problem)
            self.refs.preload("Customer", "Item", "Vendor", "Account", "TaxCode", "PaymentMethod")
            self.setup = company_setup(self.connection, preferences, self.refs,
                                       store_label=self.store_label,
                                       company_info=self.refs.company_info())
        except Cancelled:   # while it waited for QuickBooks: the run ends as cancelled
            raise
        except ConnexError as error:    # the whole run's problem, wherever it is first needed
            raise RunStopped(error) from error
        self.company_loaded = True

    def note_balance(self, invoice: Mapping[str, Any]) -> None:
        """What QuickBooks says is left to pay on an invoice, for the payments still to go."""
        balance = invoice.get("Balance", invoice.get("TotalAmt"))
        amount = answered_amount(balance) if balance not in (None, "") else None
        if amount is not None:
            self.open_balance[str(invoice.get("Id", ""))] = amount

    def remember_store(self) -> None:
        """From its first write on, the connection books from this store, whatever it is
        called later."""
        if not self.store_remembered:
            assert self.connection.id is not None
            self.connections.remember_store(self.connection.id, self.store_key)
            self.store_remembered = True

    # ---- what the fetch and the requests tell along the way (a RunWatcher) ---------------

    def expect_orders(self, count: int) -> None:
        """The store counted a query's orders: the run's total, steady while it goes."""
        self.total = (self.total or 0) + count
        self.report()

    def fetched_all(self) -> None:
        """Every page is in: the total is what was fetched, whether the store counted or not."""
        self.total = self.result.fetched
        self.report()

    def pausing(self, seconds: float, reason: str) -> None:
        self.pause = (seconds, reason)
        self.report()

    def cancelling(self) -> None:
        """Called from the thread that cancels: no new work, and the window says so now."""
        self.cancel_requested = True
        self.report()

    def begin_sending(self, orders: int) -> None:
        """`orders` had their first document sent: a cancel now finishes them."""
        self.partly_sent += orders
        self.report()

    def all_begun(self) -> bool:
        """Whether every order in flight had a document sent (or failed): none is new."""
        return all(_begun(state) for state in self.in_flight)

    def drop_unsent(self) -> None:
        """Cancelled: the orders nothing was sent for leave the run unrecorded (the next sync
        fetches them again); those partly sent stay, to be finished."""
        self.in_flight = [state for state in self.in_flight if _begun(state)]

    # ---- how each order ended ------------------------------------------------------------

    def finish_completed(self, *, everything: bool = False) -> None:
        """Record the orders with nothing left to send; with `everything`, all of them."""
        still: list[OrderInFlight] = []
        for state in self.in_flight:
            open_docs = [doc for doc in state.docs.values() if not (doc.done or doc.blocked)]
            if open_docs and not everything:
                still.append(state)
                continue
            if open_docs:
                self.retry_later = True
                unsent = open_docs[0].planned.kind.label_in(self.product)
                state.fail(f"its {unsent} could not be sent in this sync; the next sync books "
                           "it.", kind=ErrorKind.RETRY_LATER)
            self._finish(state)
        self.in_flight = still

    def _finish(self, state: OrderInFlight) -> None:
        if state.sent:
            self.partly_sent -= 1
        state.booked.sort(key=lambda doc: DOCUMENT_ORDER.index(doc.kind))
        self.result.documents.extend(state.booked)
        order = state.order
        if state.failure is not None:
            self.finish_failed(order.source_id, order.number, state.failure, state.booked,
                               customer=order.customer, rule=state.plan.rule)
            return
        message = " ".join(state.notes)
        rule = self._note_rule(order, state.plan.rule)
        if not state.booked:
            self.finish_skipped(order, message.rstrip(".") or "nothing was left to book", rule)
            return
        self.result.synced += 1
        self.runs.record_order(self.result.run_id or 0, order.source_id, order.number,
                               OrderOutcome.BOOKED, message, documents=state.booked,
                               customer=order.customer, rule=rule)
        self.report(order.number)

    def finish_dry(self, state: OrderInFlight) -> None:
        documents = [BookedDocument(state.order.number, doc.kind, "", doc.number_label,
                                    doc.total) for doc in state.plan.documents]
        self.result.documents.extend(documents)
        creates = list(dict.fromkeys(entity.label for entity in state.plan.creates))
        self.result.created.extend(label for label in creates if label not in self.result.created)
        words = [f"Would create {', '.join(creates)}."] if creates else []
        message = " ".join(words + state.notes)
        self.result.synced += 1
        self.runs.record_order(self.result.run_id or 0, state.order.source_id,
                               state.order.number, OrderOutcome.PLANNED, message,
                               documents=documents, customer=state.order.customer,
                               rule=self._note_rule(state.order, state.plan.rule))
        self.report(state.order.number)

    def finish_skipped(self, order: Order, reason: str, rule: str = "") -> None:
        self.result.skipped += 1
        self.runs.record_order(self.result.run_id or 0, order.source_id, order.number,
                               OrderOutcome.SKIPPED, f"Skipped: {reason}.",
                               customer=order.customer, rule=self._note_rule(order, rule))
        self.report(order.number)

    def finish_failed(self, order_id: str, number: str, failure: OrderFailure,
                      booked: Iterable[BookedDocument] = (), customer: str = "",
                      item: str = ORDER_ITEM, rule: str = "") -> None:
        self.result.failed += 1
        self.result.errors.append(failure)
        if rule:
            self.result.rules[number] = rule
        self.runs.record_order(self.result.run_id or 0, order_id, number,
                               OrderOutcome.FAILED, failure.message, failure.detail,
                               failure.kind, documents=booked, customer=customer, item=item,
                               fix=failure.fix, rule=rule)
        self.report(number)

    def _note_rule(self, order: Order, rule: str) -> str:
        """The rule that decided the order, kept in the result too (the preview lists it)."""
        if rule:
            self.result.rules[order.number] = rule
        return rule

    def report(self, number: str = "") -> None:
        """The progress as it stands, after order `number` (blank: the last one named)."""
        self.current_order = number or self.current_order
        pause_s, paused_for = self.pause
        self.progress(Progress(self.result.fetched, self.result.synced, self.result.skipped,
                               self.result.failed, self.current_order, total=self.total,
                               pause_s=pause_s, paused_for=paused_for,
                               partly_sent=self.partly_sent, cancelling=self.cancel_requested))


def _begun(state: OrderInFlight) -> bool:
    """A cancel finishes an order once a document of it was sent; a failed one is recorded."""
    return state.sent or state.failure is not None


def confirmation(request_id: str, entity: Mapping[str, Any],
                 sent_total: Decimal) -> Confirmation:
    """What the ledger records of a document QuickBooks holds; its total as QuickBooks answered
    it, or the total sent when the answer is not an amount to the cent."""
    total = answered_amount(entity.get("TotalAmt", ""))
    return Confirmation(request_id, str(entity.get("Id", "")), str(entity.get("DocNumber") or ""),
                        sent_total if total is None else total)


def answered_amount(value: object) -> Decimal | None:
    """An amount from QuickBooks' answer (blank: zero), or None when it is not one."""
    try:
        return money(str(value) if value is not None else "")
    except MoneyError:
        return None


def is_ours(document: Mapping[str, Any], order_number: str) -> bool:
    """A document found by number is ours when its memo names the order."""
    return any(names_order(str(document.get(memo) or ""), order_number)
               for memo in ("PrivateNote", "Memo"))


def fault_text(fault: ConnexError) -> str:
    return f"{fault.message} {fault.detail}".strip()
