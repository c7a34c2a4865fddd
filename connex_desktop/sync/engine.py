"""The sync engine: fetch orders, plan their documents, book them exactly once, record it all."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import Cancelled, ConnexError, ErrorKind, SetupError
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.model import Order
from connex_desktop.core.money import ZERO, MoneyError, money
from connex_desktop.core.progress import (
    CancelToken,
    Progress,
    ProgressCallback,
    ignore_progress,
)
from connex_desktop.core.result import (
    BookedDocument,
    DocumentKind,
    OrderFailure,
    OrderOutcome,
    RunStatus,
    SyncResult,
)
from connex_desktop.core.secret_store import SecretStore, connection_secret_key
from connex_desktop.quickbooks.client import (
    BATCH_MAX_OPERATIONS,
    BatchOperation,
    BatchOutcome,
    QuickBooksClient,
)
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.quickbooks.references import ReferenceCache, ReferenceStore
from connex_desktop.sources.base import FailedOrder, OrderQuery, Source, missing_settings
from connex_desktop.storage.database import StorageError
from connex_desktop.storage.ledger import (
    Confirmation,
    Intent,
    LedgerRepository,
    LedgerRow,
)
from connex_desktop.storage.repositories import (
    ConnectionRepository,
    CursorRepository,
    RunRepository,
)
from connex_desktop.storage.sync_locks import SyncLocks
from connex_desktop.sync.company_setup import (
    company_setup,
    numbering_problem,
    purchase_order_problem,
)
from connex_desktop.sync.customer_fields import currency_of
from connex_desktop.sync.planner import (
    BookedSaleCustomerRef,
    CompanySetup,
    LedgerEntry,
    NewEntity,
    NewEntityRef,
    OrderPlan,
    Pending,
    PlannedDocument,
    PlannedDocumentId,
    money_text,
    names_order,
    other_sku,
    plan_order,
    shrunk_payment,
    thawed,
)

log = logging.getLogger(__name__)

WINDOW_ORDERS = 120          # orders planned and written together, in dependency rounds
SINGLE_REQUESTS_MAX = 3      # rounds this small go as plain requests, not a batch
WRITERS = 4                  # batches in flight at once (QuickBooks allows 10 concurrent)
CURSOR_NAME = "modified_since"
CURSOR_OVERLAP = timedelta(hours=1)   # re-read a little before the cursor; the ledger de-dupes
# A plain sync also fetches again this many orders whose last attempt failed, those that failed
# longest ago first, so failures heal by themselves once their cause is fixed.
HEALING_ORDERS_MAX = 200
BUSY_MESSAGE = ("Another Connex Desktop process (the window or a command line sync) is syncing "
                "this connection right now; this sync did not start. Try again when it is done.")
# Documents whose DocNumber QuickBooks lets us query by (Payment's is not filterable).
NUMBERED_KINDS = frozenset({"Estimate", "Invoice", "SalesReceipt", "PurchaseOrder"})
SALE_KINDS = frozenset({"Estimate", "Invoice", "SalesReceipt"})
NOT_FOUND_CODE = "610"   # QuickBooks' "Object Not Found": deleted already
# A reference QuickBooks no longer takes: made inactive (610, 6250) or gone (2500, 610).
STALE_REFERENCE_CODES = frozenset({NOT_FOUND_CODE, "2500", "6250"})
# How an order's documents are listed: the sale first, then what follows from it.
DOCUMENT_ORDER = (DocumentKind.ESTIMATE, DocumentKind.INVOICE, DocumentKind.SALES_RECEIPT,
                  DocumentKind.PAYMENT, DocumentKind.PURCHASE_ORDER, DocumentKind.REFUND_RECEIPT)
_STOPPING_KINDS = frozenset({ErrorKind.RECONNECT, ErrorKind.FIX_SETUP, ErrorKind.QUOTA})


class _NotYet(Exception):
    """A document needs something this run has not created yet (it waits for a later round)."""


class RunStopped(Exception):
    """A fault that ends the whole run (authorisation, setup) raised from deep in a window."""

    def __init__(self, error: ConnexError) -> None:
        super().__init__(str(error))
        self.error = error


class Engine:
    """Books a connection's orders into its QuickBooks company. Qt-free; the GUI and CLI share it.

    Wiring comes from app.py: `source_for` builds a connection's source (with its secrets),
    `client_for` a QuickBooks client for its company.
    """

    def __init__(self, *, runs: RunRepository, ledger: LedgerRepository,
                 cursors: CursorRepository, connections: ConnectionRepository,
                 secrets: SecretStore,
                 source_for: Callable[[Connection], Source],
                 client_for: Callable[[Connection], QuickBooksClient],
                 source_kinds: Mapping[str, type[Source]],
                 window_orders: int = WINDOW_ORDERS, writers: int = WRITERS,
                 fill_batches: bool = True, locks: SyncLocks | None = None,
                 references: ReferenceStore | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.runs = runs
        self.ledger = ledger
        self.cursors = cursors
        self.connections = connections
        self.secrets = secrets
        self.source_for = source_for
        self.client_for = client_for
        self.source_kinds = source_kinds
        self.window_orders = window_orders
        self.writers = writers
        # Hold back part-filled batches until the last window (fewer requests, same result).
        self.fill_batches = fill_batches
        # One run per connection across processes; without locks the caller guarantees it.
        self.locks = locks
        # The company's lists kept between runs; without it each run reads them afresh.
        self.references = references
        self.clock = clock

    # ---- before a run --------------------------------------------------------------------

    def prepare(self, connection: Connection) -> str | None:
        """Why this connection cannot sync right now, in plain words; None when it can."""
        problem = self._local_problem(connection)
        if problem:
            return problem
        try:
            client = self.client_for(connection)
            try:
                refs = self.reference_cache(connection, client)
                return _company_problem(connection, refs, refs.preferences())
            finally:
                client.close()
        except ConnexError as error:
            return error.message

    def _local_problem(self, connection: Connection) -> str | None:
        if connection.id is None:
            return "Save the connection before syncing it."
        source_kind = self.source_kinds.get(connection.source_kind)
        if source_kind is None:
            return f"This app does not know the store kind '{connection.source_kind}'."
        if not connection.quickbooks.connected:
            return "This connection is not connected to QuickBooks yet; connect it first."
        connection_id = connection.id
        try:
            missing = missing_settings(source_kind, connection.source_settings, lambda name: bool(
                (self.secrets.get(connection_secret_key(connection_id, name)) or "").strip()))
        except SetupError as error:
            return error.message
        for setting in missing[:1]:
            return (f"The store setting '{setting.label}' ({setting.name}) is missing; set it "
                    f"first (command line: {setting.cli_option}).")
        if connection.mode.books_purchase_orders and source_kind.keeps_own_purchase_orders:
            return (f"{source_kind.label} keeps its own purchase orders; choose a mode without "
                    "purchase orders for this connection and sync those instead.")
        return None

    # ---- the run -------------------------------------------------------------------------

    def run(self, connection: Connection, *, progress: ProgressCallback = ignore_progress,
            cancel: CancelToken | None = None, query: OrderQuery | None = None,
            dry_run: bool = False, trigger: str = "manual",
            retry_failed: bool = False) -> SyncResult:
        if connection.id is None:
            return SyncResult(connection.name, None, RunStatus.FAILED,
                              message="Save the connection before syncing it.", dry_run=dry_run,
                              failure_kind=ErrorKind.FIX_SETUP)
        run = functools.partial(self._run, connection, progress=progress,
                                cancel=cancel or CancelToken(), query=query, dry_run=dry_run,
                                trigger=trigger, retry_failed=retry_failed)
        try:
            if self.locks is None:
                return run()
            with self.locks.hold(connection.id) as held:
                if not held:
                    return SyncResult(connection.name, None, RunStatus.FAILED,
                                      message=BUSY_MESSAGE, dry_run=dry_run,
                                      failure_kind=ErrorKind.RETRY_LATER)
                # No live process syncs this connection: a run of it still "running" was left
                # by a process that died.
                self.runs.mark_interrupted(connection.id)
                return run()
        except StorageError as error:   # the run could not even be recorded as started
            return SyncResult(connection.name, None, RunStatus.FAILED, message=error.message,
                              dry_run=dry_run, failure_kind=error.kind)

    def _run(self, connection: Connection, *, progress: ProgressCallback, cancel: CancelToken,
             query: OrderQuery | None, dry_run: bool, trigger: str,
             retry_failed: bool) -> SyncResult:
        assert connection.id is not None
        started = self.clock()
        run_id = self.runs.start(connection.id, trigger, dry_run)
        result = SyncResult(connection.name, run_id, RunStatus.SUCCEEDED, dry_run=dry_run)
        client: QuickBooksClient | None = None
        retry_later = False
        default_query = query is None and not retry_failed
        # Read before this run records anything: the failures of earlier runs, which a plain
        # sync tries again.
        failing_before = self.runs.failed_order_numbers(connection.id) if not dry_run else []
        failed_before = failing_before if default_query else []
        healing_note = ""
        try:
            problem = self._local_problem(connection)
            if problem:
                raise SetupError(problem)
            client = self.client_for(connection)
            source = self.source_for(connection)
            session = _Session(self, connection, client, source, result, progress, dry_run)
            if not dry_run:
                session.reconcile()
            order_query = self._query(connection, query, retry_failed)
            try:
                if order_query is not None:
                    # In the same fetch, so a source that reads everything reads it once. No
                    # status filter on them: process() skips an order whose status this
                    # connection does not sync, and says so, where a filtered fetch would
                    # leave it failed for ever.
                    healing = failed_before[:HEALING_ORDERS_MAX]
                    self._fetch(session, source.fetch_orders_and_retries(
                        order_query, healing, cancel), cancel)
            except Cancelled:
                cancel.cancel()
            # Orders already planned are finished even when cancelled: no order is left half
            # booked by a cancel.
            session.drain(final=True)
            retry_later = session.retry_later
            if not dry_run:
                result.new_failures = len({failure.order for failure in result.errors}
                                          - set(failing_before))
            healing_note = _healing_note(failed_before, session.numbers, result.errors,
                                         result.new_failures)
            if cancel.cancelled:
                raise Cancelled()
        except Cancelled:
            result.status = RunStatus.CANCELLED
            result.message = "The sync was cancelled; the next sync goes on where it stopped."
        except RunStopped as stopped:
            self._fail_run(result, stopped.error)
        except ConnexError as error:
            self._fail_run(result, error)
        except Exception as error:  # the run must end recorded, whatever went wrong
            log.exception("sync of %s failed", connection.name)
            self._fail_run(result, ConnexError(
                f"The sync stopped on an unexpected error ({type(error).__name__}: {error}).",
                kind=ErrorKind.RETRY_LATER))
        finally:
            if client is not None:
                result.quickbooks = client.usage()
                client.close()
        if result.status is RunStatus.SUCCEEDED and result.failed:
            result.status = RunStatus.PARTIAL
        if healing_note and result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
            result.message = healing_note
        try:
            if (default_query and not dry_run and not retry_later
                    and result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)):
                self.cursors.set(connection.id, CURSOR_NAME, started.isoformat())
            self.runs.finish(run_id, result)
        except StorageError as error:
            # The run stays "running" in the history until the next run marks it interrupted;
            # the cursor stays where it was, so the next sync reads these orders again.
            self._fail_run(result, error)
        log.info("sync of %s (run %s) %s: %d fetched, %d synced, %d skipped, %d failed%s",
                 connection.name, run_id, result.status.value, result.fetched, result.synced,
                 result.skipped, result.failed, f": {result.message}" if result.message else "")
        return result

    def reference_cache(self, connection: Connection,
                        client: QuickBooksClient) -> ReferenceCache:
        return ReferenceCache(client, self.references, realm_id=connection.quickbooks.realm_id,
                              clock=self.clock)

    def _fetch(self, session: _Session, orders: Iterable[Order | FailedOrder],
               cancel: CancelToken) -> None:
        for window in _windows(orders, self.window_orders, cancel):
            session.process(window)

    def _fail_run(self, result: SyncResult, error: ConnexError) -> None:
        result.status = RunStatus.FAILED
        result.failure_kind = error.kind
        result.message = error.message
        if error.detail:
            result.message += f" ({error.detail})"

    def _query(self, connection: Connection, query: OrderQuery | None,
               retry_failed: bool) -> OrderQuery | None:
        assert connection.id is not None
        if retry_failed:
            numbers = tuple(self.runs.failed_order_numbers(connection.id))
            if not numbers:
                return None
            return OrderQuery(numbers=numbers, statuses=connection.statuses)
        if query is not None:
            if not query.statuses and connection.statuses and not query.numbers:
                return OrderQuery(query.created_from, query.created_to, query.modified_since,
                                  query.numbers, connection.statuses)
            return query
        cursor = self.cursors.get(connection.id, CURSOR_NAME)
        since = datetime.fromisoformat(cursor) - CURSOR_OVERLAP if cursor else None
        return OrderQuery(modified_since=since, statuses=connection.statuses)


def _company_problem(connection: Connection, refs: ReferenceCache,
                     preferences: Mapping[str, Any]) -> str | None:
    """Why the company's settings or plan rule out this connection; CompanyInfo is read only
    when the connection books purchase orders."""
    return numbering_problem(connection, preferences) or (
        purchase_order_problem(connection, refs.company_info())
        if connection.mode.books_purchase_orders else None)


def _healing_note(failed_before: list[str], tried: set[str],
                  failures: Iterable[OrderFailure], new: int) -> str:
    """What became of the orders that had failed before, and how many failures are new."""
    retried = [number for number in failed_before if number in tried]
    if not retried:
        return ""
    failing = {failure.order for failure in failures}
    still = sum(1 for number in retried if number in failing)
    note = (f"Tried again {_orders(len(retried))} that failed before: "
            f"{len(retried) - still} went through, {still} still failing.")
    return note + (f" {_orders(new)} failed for the first time." if new else "")


def _orders(count: int) -> str:
    return f"{count} order" + ("" if count == 1 else "s")


def _windows(orders: Iterable[Order | FailedOrder], size: int,
             cancel: CancelToken) -> Iterator[list[Order | FailedOrder]]:
    window: list[Order | FailedOrder] = []
    for order in orders:
        window.append(order)
        if len(window) >= size:
            if cancel.cancelled:
                return
            yield window
            window = []
    if window and not cancel.cancelled:
        yield window


# ---- one run's state ---------------------------------------------------------------------

@dataclass
class _Doc:
    """One planned document on its way: its request id, payload and outcome."""

    order: _OrderState
    planned: PlannedDocument
    request_id: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    qb_id: str = ""
    doc_number: str = ""
    done: bool = False       # confirmed (now or earlier)
    blocked: bool = False    # will not be sent: the order failed or something it needs did

    @property
    def sent_number(self) -> str:
        """The DocNumber sent ("" when QuickBooks numbers the document)."""
        return str(self.payload.get("DocNumber") or "")


@dataclass
class _OrderState:
    order: Order
    plan: OrderPlan
    docs: dict[str, _Doc] = field(default_factory=dict)
    booked: list[BookedDocument] = field(default_factory=list)
    failure: OrderFailure | None = None
    notes: list[str] = field(default_factory=list)

    def fail(self, message: str, *, kind: ErrorKind = ErrorKind.FIX_DATA,
             detail: str = "") -> None:
        if self.failure is None:
            self.failure = OrderFailure(self.order.number, message, kind, detail)
        for doc in self.docs.values():
            if not doc.done:
                doc.blocked = True


@dataclass
class _Answers:
    """What one round's answers leave to do: record in the ledger, then look into."""

    confirmations: list[Confirmation] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[_Doc] = field(default_factory=list)    # 6140 on our own number
    clashes: list[NewEntity] = field(default_factory=list)  # 6240: the name is taken
    stale: list[_OrderState] = field(default_factory=list)  # refused for a stale reference


class _Session:
    def __init__(self, engine: Engine, connection: Connection, client: QuickBooksClient,
                 source: Source, result: SyncResult, progress: ProgressCallback,
                 dry_run: bool) -> None:
        self.engine = engine
        self.connection = connection
        self.client = client
        self.source = source
        self.result = result
        self.progress = progress
        self.dry_run = dry_run
        self.realm = connection.quickbooks.realm_id
        # The store the connection has booked from, not what its settings name today: a moved
        # order file or a store's new address must not book everything again.
        assert connection.id is not None
        remembered = engine.connections.store_key(connection.id)
        self.store_key = remembered or source.store_key
        self.store_remembered = bool(remembered)
        self.refs = engine.reference_cache(connection, client)
        self.company_loaded = False
        self.setup = CompanySetup()
        self.resolved: dict[Pending, Any] = {}  # hole -> ref / id, for the whole run
        self.retry_later = False
        self.seen: set[str] = set()
        self.numbers: set[str] = set()           # the order numbers fetched, read or not
        self.carried: list[_OrderState] = []     # planned orders with documents still to send
        self.entity_faults: dict[Pending, str] = {}  # hole -> why it could not be filled
        self.renamed: dict[NewEntityRef, NewEntity] = {}  # renamed after a name clash
        self.replanned: set[str] = set()         # orders planned again after a stale reference
        self.open_balance: dict[str, Decimal] = {}  # invoice Id -> what is left to pay on it
        # Documents QuickBooks totals otherwise than the store, with why: deleted at once.
        self.wrong_totals: list[tuple[_Doc, Mapping[str, Any], str]] = []

    @property
    def ledger(self) -> LedgerRepository:
        return self.engine.ledger

    def load_company(self) -> None:
        """What the run needs of the company, read when first needed: a sync with nothing to
        book asks QuickBooks nothing."""
        if self.company_loaded:
            return
        try:
            preferences = self.refs.preferences()
            problem = _company_problem(self.connection, self.refs, preferences)
            if problem:
                raise SetupError(problem)
            self.refs.preload("Customer", "Item", "Vendor", "Account", "TaxCode", "PaymentMethod")
            self.setup = company_setup(self.connection, preferences, self.refs,
                                       store_label=self.source.label,
                                       company_info=self.refs.company_info())
        except ConnexError as error:    # the whole run's problem, wherever it is first needed
            raise RunStopped(error) from error
        self.company_loaded = True

    # ---- reconcile what an earlier run left unconfirmed ----------------------------------

    def reconcile(self) -> None:
        rows = self.ledger.unconfirmed(self.realm, self.store_key)
        if not rows:
            return
        self.load_company()
        log.info("reconciling %d unconfirmed documents", len(rows))
        known_kinds = {kind.value for kind in DocumentKind}
        for row in rows:
            if row.kind not in known_kinds:
                self._unreconciled(row, f"'{row.kind}' is not a document this app books")
        rows = [row for row in rows if row.kind in known_kinds]
        confirmations: list[Confirmation] = []
        resend: list[LedgerRow] = []
        found = self._find_by_number(
            [(row.kind, row.doc_number) for row in rows if row.doc_number
             and row.kind in NUMBERED_KINDS])
        unnumbered = self._find_by_memo([row for row in rows if not row.doc_number])
        for row in rows:
            with self._reconciling(row):
                if row.doc_number:
                    document = found.get((row.kind, row.doc_number))
                    ours = document is not None and _is_ours(document, row.order_number)
                else:
                    document = unnumbered.get(row.request_id)
                    ours = document is not None
                if document is not None and ours:
                    confirmations.append(_confirmation(row.request_id, document, row.total))
                else:
                    resend.append(row)
        self.ledger.confirm(confirmations)
        self._resend(resend)

    def _resend(self, rows: list[LedgerRow]) -> None:
        """Documents QuickBooks does not have: sent again as they were, with their request id."""
        singles: list[LedgerRow] = []
        batches: dict[str, list[tuple[str, LedgerRow]]] = {}
        for row in rows:
            batch_id, bid = _split_request_id(row.request_id)
            if bid:
                batches.setdefault(batch_id, []).append((bid, row))
            else:
                singles.append(row)
        failures: list[tuple[str, str]] = []
        for row in singles:
            with self._reconciling(row):
                try:
                    entity = self.client.create(row.kind, json.loads(row.payload),
                                                request_id=row.request_id)
                except QuickBooksFault as fault:
                    self._reconcile_fault(row, fault, failures)
                    continue
                self.ledger.confirm([_confirmation(row.request_id, entity, row.total)])
        for batch_id, members in batches.items():
            readable: list[tuple[BatchOperation, LedgerRow]] = []
            for bid, row in members:
                with self._reconciling(row):
                    readable.append((BatchOperation(bid, "create", row.kind,
                                                    json.loads(row.payload)), row))
            if not readable:
                continue
            try:
                outcomes = self.client.batch([op for op, _ in readable], request_id=batch_id)
            except QuickBooksFault as fault:
                for _, row in readable:
                    self._reconcile_fault(row, fault, failures)
                continue
            for (_, row), outcome in zip(readable, outcomes, strict=True):
                if outcome.entity is not None:
                    self.ledger.confirm([_confirmation(row.request_id, outcome.entity,
                                                       row.total)])
                elif outcome.fault is not None:
                    self._reconcile_fault(row, outcome.fault, failures)
        self.ledger.fail(failures)

    @contextlib.contextmanager
    def _reconciling(self, row: LedgerRow) -> Iterator[None]:
        """Whatever goes wrong with one row is that row's problem, never the whole sync's."""
        try:
            yield
        except RunStopped:
            raise
        except QuickBooksFault as fault:
            if fault.kind in _STOPPING_KINDS:
                raise RunStopped(fault) from fault
            if fault.kind is ErrorKind.RETRY_LATER:
                self.retry_later = True     # stays planned; the next run looks again
            else:
                self._unreconciled(row, _fault_text(fault))
        except Exception as error:
            log.exception("ledger row %s (order %s) could not be reconciled", row.id,
                          row.order_number)
            self._unreconciled(row, f"{type(error).__name__}: {error}")

    def _unreconciled(self, row: LedgerRow, problem: str) -> None:
        """The row stays planned (QuickBooks may hold its document: it is never sent twice) with
        its problem written on it, and its order fails this run, so it is seen and tried again."""
        self.ledger.note_problem(row.request_id, problem)
        if row.order_id in self.seen:
            return
        self.seen.add(row.order_id)     # fetched again in this run, it is not booked around it
        self.numbers.add(row.order_number)
        document = f"{row.kind} {row.doc_number}".strip()
        self._finish_failed(row.order_id, row.order_number, OrderFailure(
            row.order_number,
            f"its {document} left unconfirmed by an earlier sync could not be checked with "
            f"QuickBooks ({problem}). Nothing more is booked for the order until it is; look "
            "for the document in QuickBooks."))

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
            ids = sorted(by_party)
            for start in range(0, len(ids), 100):
                listed = ", ".join(_quote(party_id) for party_id in ids[start:start + 100])
                for document in self.client.query_all(kind, f"{party} IN ({listed})"):
                    party_id = str((document.get(party) or {}).get("value", ""))
                    for row in by_party.get(party_id, []):
                        memo = json.loads(row.payload).get("PrivateNote")
                        if document.get("PrivateNote") == memo:
                            found[row.request_id] = document
        return found

    def _reconcile_fault(self, row: LedgerRow, fault: QuickBooksFault,
                         failures: list[tuple[str, str]]) -> None:
        if fault.kind in _STOPPING_KINDS:
            raise RunStopped(fault)
        if fault.kind is ErrorKind.RETRY_LATER:
            self.retry_later = True     # stays planned; the next run looks again
            return
        if fault.code == "6140" and row.doc_number:
            document = self._find_by_number([(row.kind, row.doc_number)]).get(
                (row.kind, row.doc_number))
            if document is not None and _is_ours(document, row.order_number):
                self.ledger.confirm([_confirmation(row.request_id, document, row.total)])
                return
        failures.append((row.request_id, _fault_text(fault)))

    def _find_by_number(self, wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str],
                                                                         dict[str, Any]]:
        by_kind: dict[str, set[str]] = {}
        for kind, number in wanted:
            by_kind.setdefault(kind, set()).add(number)
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for kind, numbers in by_kind.items():
            ordered = sorted(numbers)
            for start in range(0, len(ordered), 100):
                chunk = ordered[start:start + 100]
                listed = ", ".join(_quote(number) for number in chunk)
                for document in self.client.query_all(kind, f"DocNumber IN ({listed})"):
                    found[(kind, str(document.get("DocNumber", "")))] = document
        return found

    # ---- one window of orders ------------------------------------------------------------

    def _new_orders(self, window: list[Order | FailedOrder]) -> list[Order]:
        """The window's orders not seen before in this run; the unreadable ones fail here."""
        orders: list[Order] = []
        for item in window:
            self.result.fetched += 1
            if isinstance(item, FailedOrder):
                self.numbers.add(item.number)
                self._finish_failed(item.number, item.number,
                                    OrderFailure(item.number, _failed_order_message(item)))
                continue
            if item.source_id in self.seen:   # the overlap of a modified-since window
                self.result.fetched -= 1
                continue
            self.seen.add(item.source_id)
            self.numbers.add(item.number)
            orders.append(item)
        return orders

    def process(self, window: list[Order | FailedOrder]) -> None:
        states: list[_OrderState] = []
        orders = self._new_orders(window)
        wanted = {status.casefold() for status in self.connection.statuses}
        ledger = self.ledger.for_orders(self.realm, self.store_key,
                                        [order.source_id for order in orders])
        for order in orders:
            if wanted and order.status.casefold() not in wanted:
                self._finish_skipped(order, f"its status '{order.status}' is not one this "
                                     "connection syncs")
                continue
            rows = ledger.get(order.source_id, {})
            unconfirmed = [row for row in rows.values() if row.state == LedgerState.PLANNED]
            if unconfirmed and not self.dry_run:
                self._finish_failed(order.source_id, order.number, OrderFailure(
                    order.number,
                    f"QuickBooks has not yet confirmed its {unconfirmed[0].kind}; the next "
                    "sync checks again before booking anything.", ErrorKind.RETRY_LATER),
                    customer=order.customer)
                self.retry_later = True
                continue
            entries = {key: LedgerEntry(row.doc_key, row.kind, row.state, row.qb_id,
                                        row.doc_number, row.total, row.run_id, row.payload)
                       for key, row in rows.items()}
            try:
                plan = self._plan(order, entries)
            except RunStopped:
                raise
            except ConnexError as error:
                self._finish_failed(order.source_id, order.number, OrderFailure(
                    order.number, error.message, error.kind, error.detail),
                    customer=order.customer)
                continue
            except Exception as error:  # a bad order fails itself, never the run
                log.exception("order %s could not be planned", order.number)
                self._finish_failed(order.source_id, order.number, OrderFailure(
                    order.number, f"it could not be planned ({type(error).__name__}: {error})."),
                    customer=order.customer)
                continue
            if plan.skip_reason:
                self._finish_skipped(order, plan.skip_reason)
                continue
            state = _OrderState(order, plan, notes=list(plan.notes))
            state.docs = {doc.doc_key: _Doc(state, doc) for doc in plan.documents}
            states.append(state)
        if self.dry_run:
            for state in states:
                self._finish_dry(state)
            return
        self._report(orders[-1].number if orders else "")
        self.carried.extend(states)
        self.drain(final=False)

    def _plan(self, order: Order, entries: dict[str, LedgerEntry]) -> OrderPlan:
        """The order's plan; the company is read only for an order that may have something to
        book: one booked before is first planned without it, and most often is done already."""
        if not self.company_loaded and any(entry.exists for entry in entries.values()):
            with contextlib.suppress(Exception):    # planned again below, knowing the company
                plan = plan_order(order, self.connection, self.refs, CompanySetup(), entries)
                if plan.skip_reason:
                    return plan
        self.load_company()
        return plan_order(order, self.connection, self.refs, self.setup, entries)

    # ---- writing: customers, items and documents in full batches --------------------------

    def drain(self, *, final: bool) -> None:
        """Send what is ready, in batches of up to 30 independent operations, round by round.

        Until `final`, only full batches go out and the rest waits for the next window, so
        the company's 40-batches-a-minute limit carries as many documents as it can.
        """
        while self.carried:
            self._load_sale_customers(self.carried)
            entities = self._entities_ready()
            docs = self._documents_ready()
            operations: list[_Doc | NewEntity] = [*entities, *docs]
            count = len(operations)
            if self.engine.fill_batches and not final:
                count -= count % BATCH_MAX_OPERATIONS
            if count == 0:
                break
            # Payments are fitted to what is still open on their invoice only now, as they go.
            self._send_round([operation for operation in operations[:count]
                              if not isinstance(operation, _Doc)
                              or operation.planned.kind is not DocumentKind.PAYMENT
                              or self._fit_payment(operation)])
            self._finish_completed()
        if final:
            self._finish_completed(everything=True)

    def _entities_ready(self) -> list[NewEntity]:
        ready: dict[NewEntityRef, NewEntity] = {}
        for state in self.carried:
            if state.failure is not None:
                continue
            for entity in state.plan.creates:
                if entity.key not in self.resolved and entity.key not in self.entity_faults:
                    ready.setdefault(entity.key, self.renamed.get(entity.key, entity))
        return list(ready.values())

    def _documents_ready(self) -> list[_Doc]:
        ready = []
        for state in self.carried:
            for doc in state.docs.values():
                if doc.done or doc.blocked or doc.request_id:
                    continue
                if not all(state.docs[key].done for key in doc.planned.depends_on
                           if key in state.docs):
                    continue
                try:
                    doc.payload = _resolve(doc.planned.body, self._lookup(state))
                except _NotYet:
                    continue
                except KeyError as missing:
                    state.fail(f"its {doc.planned.kind.label} needs {missing.args[0]}, which "
                               f"could not be created: {self.entity_faults.get(missing.args[0])}")
                    continue
                ready.append(doc)
        return ready

    def _fit_payment(self, doc: _Doc) -> bool:
        """Never pay an invoice beyond its open balance in QuickBooks: it may have been paid
        there meanwhile (by hand, or by a sync whose ledger this is not). A payment beyond it is
        planned anew for the open balance. False: nothing due."""
        invoice_id = str(doc.payload["Line"][0]["LinkedTxn"][0]["TxnId"])
        open_balance = self.open_balance.get(invoice_id)
        if open_balance is None:
            return True
        amount = money(str(doc.payload["TotalAmt"]))
        if open_balance <= ZERO:
            doc.blocked = True
            doc.order.notes.append(f"No {doc.planned.kind.label.lower()} booked: the invoice is "
                                   "already paid in QuickBooks.")
            return False
        if amount > open_balance:
            doc.planned = shrunk_payment(doc.planned, open_balance)
            doc.payload = _resolve(doc.planned.body, self._lookup(doc.order))
            doc.order.notes.append(
                f"Only {money_text(open_balance)} of {money_text(amount)} was applied: the rest "
                "of the invoice is already paid in QuickBooks.")
            amount = open_balance
        self.open_balance[invoice_id] = open_balance - amount
        return True

    def _lookup(self, state: _OrderState) -> Callable[[Pending], Any]:
        def lookup(pending: Pending) -> Any:
            match pending:
                case PlannedDocumentId(doc_key=doc_key):   # a document of the same order
                    doc = state.docs[doc_key]
                    if not doc.done:
                        raise _NotYet(pending)
                    return doc.qb_id
                case NewEntityRef() | BookedSaleCustomerRef():   # filled once for the run
                    if pending in self.resolved:
                        return self.resolved[pending]
                    if pending in self.entity_faults:
                        raise KeyError(pending)
                    raise _NotYet(pending)
        return lookup

    def _load_sale_customers(self, states: list[_OrderState]) -> None:
        """Later payments and refunds go to the customer of the sale booked in an earlier run."""
        wanted = {customer for state in states for doc in state.docs.values()
                  if not doc.done and isinstance(customer := doc.planned.body.get("CustomerRef"),
                                                 BookedSaleCustomerRef)}
        wanted -= self.resolved.keys() | self.entity_faults.keys()
        for kind in sorted({customer.sale for customer in wanted}):
            ids = sorted(customer.qb_id for customer in wanted if customer.sale is kind)
            for start in range(0, len(ids), 100):
                listed = ", ".join(_quote(sale_id) for sale_id in ids[start:start + 100])
                for sale in self.client.query_all(kind.value, f"Id IN ({listed})"):
                    self.resolved[BookedSaleCustomerRef(kind, str(sale["Id"]))] = dict(
                        sale["CustomerRef"])
                    if kind is DocumentKind.INVOICE:
                        self._note_balance(sale)
        for customer in wanted - self.resolved.keys():
            self.entity_faults[customer] = "the sale it belongs to is no longer in QuickBooks"

    def _send_round(self, operations: list[_Doc | NewEntity]) -> None:
        # A few operations go as plain requests: a batch of one would spend one of the
        # company's 40 batches a minute for nothing.
        single = len(operations) <= SINGLE_REQUESTS_MAX
        size = 1 if single else BATCH_MAX_OPERATIONS
        groups = [operations[start:start + size] for start in range(0, len(operations), size)]
        intents: list[Intent] = []
        batches: list[tuple[str, list[tuple[str, _Doc | NewEntity]]]] = []
        for group in groups:
            batch_id = str(uuid.uuid4())
            members: list[tuple[str, _Doc | NewEntity]] = []
            for index, operation in enumerate(group):
                bid = "" if single else f"b{index}"
                if isinstance(operation, _Doc):
                    operation.request_id = _request_id(batch_id, bid)
                    intents.append(_intent(operation))
                members.append((bid, operation))
            batches.append((batch_id, members))
        if intents and not self.store_remembered:
            assert self.connection.id is not None
            self.engine.connections.remember_store(self.connection.id, self.store_key)
            self.store_remembered = True
        _, refused = self.ledger.plan(self.realm, self.store_key, self.connection.id,
                                      self.result.run_id, intents)
        refused_ids = {intent.request_id for intent, _ in refused}
        for intent, row in refused:
            doc = next(op for _, members in batches for _, op in members
                       if isinstance(op, _Doc) and op.request_id == intent.request_id)
            doc.order.fail(f"meanwhile its {row.kind} {row.doc_number or row.qb_id} was booked "
                           "by another sync of the same store; nothing more was booked.",
                           kind=ErrorKind.RETRY_LATER)
        batches = [(batch_id, [(bid, op) for bid, op in members
                               if not (isinstance(op, _Doc) and op.request_id in refused_ids)])
                   for batch_id, members in batches]
        with ThreadPoolExecutor(max_workers=self.engine.writers) as pool:
            answers = list(pool.map(self._send_batch, [b for b in batches if b[1]]))
        answered = _Answers()
        for members, outcome in answers:
            if isinstance(outcome, QuickBooksFault):
                if outcome.kind in _STOPPING_KINDS:
                    self._save(answered.confirmations, answered.failures)
                    raise RunStopped(outcome)
                self._unconfirmed([op for _, op in members], outcome)
                self._stop_window(outcome)
                continue
            for (_, operation), item in zip(members, outcome, strict=True):
                if item.fault is not None and item.fault.kind in _STOPPING_KINDS:
                    self._save(answered.confirmations, answered.failures)
                    raise RunStopped(item.fault)
                try:
                    self._take_answer(operation, item, answered)
                except Exception as error:  # one answer not taken in fails its order, not the run
                    log.exception("an answer from QuickBooks was not taken in")
                    self._unconfirmed([operation], QuickBooksFault(
                        f"its answer could not be read ({type(error).__name__}: {error}).",
                        kind=ErrorKind.RETRY_LATER))
        answered.confirmations.extend(self._adopt_duplicates(answered.duplicates,
                                                             answered.failures))
        self._save(answered.confirmations, answered.failures)
        self._remove_wrong_totals()
        for entity in answered.clashes:
            self._name_clash(entity)
        if answered.stale:
            self._plan_again(answered.stale)

    def _plan_again(self, states: list[_OrderState]) -> None:
        """Orders a document of which QuickBooks refused for a record the cached lists still
        had (made inactive or deleted there meanwhile): the lists are brought up to date and
        the orders planned again, once. QuickBooks stored nothing of the refused document."""
        self.refs.refresh()
        again = {id(state) for state in states}
        self.carried = [state for state in self.carried if id(state) not in again]
        for state in states:
            self.replanned.add(state.order.source_id)
            self.seen.discard(state.order.source_id)
            self.result.fetched -= 1
        self.process([state.order for state in states])

    def _take_answer(self, operation: _Doc | NewEntity, item: BatchOutcome,
                     answered: _Answers) -> None:
        if isinstance(operation, NewEntity):
            if item.entity is not None:
                self._created(operation, item.entity)
            elif item.fault is not None and item.fault.code == "6240":
                answered.clashes.append(operation)
            elif item.fault is not None:
                self._entity_failed(operation, item.fault)
        elif item.entity is not None:
            answered.confirmations.append(self._confirmed(operation, item.entity))
        elif item.fault is not None and item.fault.code == "6140" and operation.sent_number:
            answered.duplicates.append(operation)
        elif item.fault is not None and item.fault.kind is ErrorKind.RETRY_LATER:
            self._unconfirmed([operation], item.fault)
        elif item.fault is not None and self._stale_reference(operation, item.fault):
            answered.failures.append((operation.request_id, _fault_text(item.fault)))
            answered.stale.append(operation.order)
        elif item.fault is not None:
            answered.failures.append((operation.request_id, _fault_text(item.fault)))
            operation.order.fail(
                f"QuickBooks refused its {operation.planned.kind.label}: "
                f"{item.fault.message}", kind=item.fault.kind, detail=item.fault.detail)

    def _stale_reference(self, doc: _Doc, fault: QuickBooksFault) -> bool:
        """Refused for a reference the cache may hold stale, in an order worth planning again:
        the only document of it sent in this run, and not planned again already."""
        state = doc.order
        return (fault.code in STALE_REFERENCE_CODES and state.failure is None
                and state.order.source_id not in self.replanned
                and all(other is doc or not other.request_id for other in state.docs.values()))

    def _send_batch(self, batch: tuple[str, list[tuple[str, _Doc | NewEntity]]]
                    ) -> tuple[list[tuple[str, _Doc | NewEntity]],
                               list[BatchOutcome] | QuickBooksFault]:
        batch_id, members = batch
        if len(members) == 1 and not members[0][0]:
            entity, body = _entity_and_body(members[0][1])
            try:
                created = self.client.create(entity, body, request_id=batch_id)
            except QuickBooksFault as fault:
                return members, [BatchOutcome("", None, fault)]
            return members, [BatchOutcome("", created, None)]
        operations = [BatchOperation(bid, "create", *_entity_and_body(op))
                      for bid, op in members]
        try:
            return members, self.client.batch(operations, request_id=batch_id)
        except QuickBooksFault as fault:
            return members, fault

    def _save(self, confirmations: list[Confirmation], failures: list[tuple[str, str]]) -> None:
        self.ledger.confirm(confirmations)
        self.ledger.fail(failures)
        confirmations.clear()
        failures.clear()

    def _unconfirmed(self, operations: Iterable[_Doc | NewEntity],
                     fault: QuickBooksFault) -> None:
        """No answer after the adapter's retries: documents stay planned for the next run."""
        self.retry_later = True
        for operation in operations:
            if isinstance(operation, NewEntity):
                self._entity_failed(operation, fault)
                continue
            operation.order.fail(
                f"QuickBooks did not confirm its {operation.planned.kind.label}: "
                f"{fault.message} The next sync checks before sending it again.",
                kind=ErrorKind.RETRY_LATER, detail=fault.detail)

    def _stop_window(self, fault: QuickBooksFault) -> None:
        """QuickBooks stayed unreachable: the window's unsent documents wait for the next run."""
        for state in self.carried:
            if state.failure is None and any(not (doc.done or doc.request_id)
                                             for doc in state.docs.values()):
                state.fail(f"not booked in full: {fault.message} The next sync books the rest.",
                           kind=ErrorKind.RETRY_LATER, detail=fault.detail)

    def _adopt_duplicates(self, duplicates: list[_Doc],
                          failures: list[tuple[str, str]]) -> list[Confirmation]:
        """A 6140 on our own number: the document is ours if its memo names the order."""
        if not duplicates:
            return []
        found = self._find_by_number(
            [(doc.planned.kind.value, doc.sent_number) for doc in duplicates])
        adopted = []
        for doc in duplicates:
            number = doc.sent_number
            document = found.get((doc.planned.kind.value, number))
            if document is not None and _is_ours(document, doc.order.order.number):
                adopted.append(self._confirmed(doc, document))
                continue
            message = (f"QuickBooks already has a {doc.planned.kind.label} numbered {number} "
                       "that Connex Desktop did not book. Give this connection a prefix, or let "
                       "QuickBooks number the documents.")
            failures.append((doc.request_id, message))
            doc.order.fail(message)
        return adopted

    # ---- customers and items --------------------------------------------------------------

    def _created(self, entity: NewEntity, record: dict[str, Any]) -> None:
        self.refs.add(entity.entity, record)
        name_field = "DisplayName" if entity.entity == "Customer" else "Name"
        self.resolved[entity.key] = {"value": str(record["Id"]),
                                     "name": str(record.get(name_field, ""))}
        self.result.created.append(entity.label)

    def _entity_failed(self, entity: NewEntity, fault: QuickBooksFault) -> None:
        if fault.kind is ErrorKind.RETRY_LATER:
            self.retry_later = True
        self.entity_faults[entity.key] = f"{fault.message} {fault.detail}".strip()
        for state in self.carried:
            if any(created.key == entity.key for created in state.plan.creates):
                state.fail(f"could not create the {entity.label}: {fault.message}",
                           kind=fault.kind, detail=fault.detail)

    def _name_clash(self, entity: NewEntity) -> None:
        """6240: the name is taken. Ours to use if it is the same kind of record (an item only
        if it has no other SKU, a customer only in the same currency), reactivated if it is
        inactive (it still holds its name); else the entity takes the next name it has to try
        (a customer named like a vendor or an employee, an item named like another SKU's)."""
        name_field = "DisplayName" if entity.entity == "Customer" else "Name"
        name = str(entity.body.get(name_field, ""))
        # A plain query returns active records only (reference §6).
        where = f"{name_field} = {_quote(name)} AND Active IN (true, false)"
        matches = [record for record in self.client.query_all(entity.entity, where)
                   if not other_sku(record, str(entity.body.get("Sku") or ""))
                   and self._same_currency(entity, record)]
        if matches:
            record = matches[0]
            if record.get("Active") is False:
                try:
                    record = self._reactivate(entity, record)
                except QuickBooksFault as fault:
                    if fault.kind in _STOPPING_KINDS:
                        raise RunStopped(fault) from fault
                    self._entity_failed(entity, fault)
                    return
            self.refs.add(entity.entity, record)
            self.resolved[entity.key] = {"value": str(record["Id"]), "name": name}
            return
        if entity.other_names:
            name, *others = entity.other_names
            self.renamed[entity.key] = NewEntity(entity.entity, entity.key, name,
                                                 dict(entity.body, **{name_field: name}),
                                                 tuple(others))
            return
        self._entity_failed(entity, QuickBooksFault(
            f"the name '{name}' is already used in QuickBooks by another record.",
            kind=ErrorKind.FIX_DATA, code="6240"))

    def _same_currency(self, entity: NewEntity, record: Mapping[str, Any]) -> bool:
        wanted = (entity.body.get("CurrencyRef") or {}).get("value")
        return not wanted or currency_of(record, self.setup.home_currency) == str(wanted).upper()

    def _reactivate(self, entity: NewEntity, record: Mapping[str, Any]) -> dict[str, Any]:
        """Make an inactive customer or item active again (a sparse update), to book on it."""
        body = {"Id": record["Id"], "SyncToken": record["SyncToken"], "sparse": True,
                "Active": True}
        reactivated = self.client.update(entity.entity, body, request_id=str(uuid.uuid4()))
        self.result.created.append(f"{entity.label} (reactivated)")
        return reactivated

    def _confirmed(self, doc: _Doc, entity: Mapping[str, Any]) -> Confirmation:
        doc.qb_id = str(entity.get("Id", ""))
        doc.doc_number = str(entity.get("DocNumber") or "")
        doc.done = True
        confirmation = _confirmation(doc.request_id, entity, doc.planned.total)
        kind = doc.planned.kind
        if kind is DocumentKind.INVOICE:
            self._note_balance(entity)
        doc.order.booked.append(BookedDocument(doc.order.order.number, kind, doc.qb_id,
                                               doc.doc_number, confirmation.total))
        checked = kind.value in SALE_KINDS or kind is DocumentKind.REFUND_RECEIPT
        if _answered_amount(entity.get("TotalAmt", "")) is None:
            doc.order.fail(
                f"QuickBooks answered {entity.get('TotalAmt')} as the total of its {kind.label} "
                f"{doc.doc_number or doc.qb_id}, which is not an amount to the cent; check the "
                "document in QuickBooks. Nothing more was booked for it.")
        elif checked and confirmation.total != doc.planned.total:
            what = "the refund" if kind is DocumentKind.REFUND_RECEIPT else "the order's total"
            self.wrong_totals.append((doc, entity, (
                f"QuickBooks computed {money_text(confirmation.total)} for its {kind.label} "
                f"{doc.doc_number or doc.qb_id} but {what} is "
                f"{money_text(doc.planned.total)}; check the tax and discount settings.")))
        return confirmation

    def _remove_wrong_totals(self) -> None:
        """A document whose total QuickBooks computed otherwise than the store is deleted at
        once, so nothing wrong stays in the books; the ledger records it gone (the order can
        be booked again once fixed, and is never booked twice)."""
        wrong, self.wrong_totals = self.wrong_totals, []
        removed: list[tuple[str, str]] = []
        for doc, entity, problem in wrong:
            label = f"{doc.planned.kind.label} {doc.doc_number or doc.qb_id}"
            try:
                self.client.delete(doc.planned.kind.value, doc.qb_id,
                                   str(entity.get("SyncToken", "0")),
                                   request_id=str(uuid.uuid4()))
            except QuickBooksFault as fault:
                if fault.code != NOT_FOUND_CODE:
                    doc.order.fail(
                        f"{problem} The {label} could not be deleted ({fault.message}): delete "
                        f"it in QuickBooks, or undo sync run {self.result.run_id}.",
                        kind=fault.kind, detail=fault.detail)
                    continue
            removed.append((doc.request_id, f"deleted at once: {problem}"))
            doc.order.booked = [booked for booked in doc.order.booked
                                if (booked.kind, booked.qb_id) != (doc.planned.kind, doc.qb_id)]
            doc.order.fail(f"{problem} The {label} was deleted at once; nothing of this order "
                           "stays in QuickBooks from it.")
        self.ledger.mark_deleted(removed)

    def _note_balance(self, invoice: Mapping[str, Any]) -> None:
        balance = invoice.get("Balance", invoice.get("TotalAmt"))
        amount = _answered_amount(balance) if balance not in (None, "") else None
        if amount is not None:
            self.open_balance[str(invoice.get("Id", ""))] = amount

    # ---- outcomes ------------------------------------------------------------------------

    def _finish_completed(self, *, everything: bool = False) -> None:
        still: list[_OrderState] = []
        for state in self.carried:
            open_docs = [doc for doc in state.docs.values() if not (doc.done or doc.blocked)]
            if open_docs and not everything:
                still.append(state)
                continue
            if open_docs:
                self.retry_later = True
                state.fail(f"its {open_docs[0].planned.kind.label} could not be sent in this "
                           "sync; the next sync books it.", kind=ErrorKind.RETRY_LATER)
            self._finish(state)
        self.carried = still

    def _finish(self, state: _OrderState) -> None:
        state.booked.sort(key=lambda doc: DOCUMENT_ORDER.index(doc.kind))
        self.result.documents.extend(state.booked)
        order = state.order
        if state.failure is not None:
            self._finish_failed(order.source_id, order.number, state.failure, state.booked,
                                customer=order.customer)
            return
        message = " ".join(state.notes)
        if not state.booked:
            self._finish_skipped(order, message.rstrip(".") or "nothing was left to book")
            return
        self.result.synced += 1
        self.engine.runs.record_order(self.result.run_id or 0, order.source_id, order.number,
                                      OrderOutcome.BOOKED, message, documents=state.booked,
                                      customer=order.customer)
        self._report(order.number)

    def _finish_dry(self, state: _OrderState) -> None:
        documents = [BookedDocument(state.order.number, doc.kind, "", doc.number_label,
                                    doc.total) for doc in state.plan.documents]
        self.result.documents.extend(documents)
        creates = list(dict.fromkeys(entity.label for entity in state.plan.creates))
        self.result.created.extend(label for label in creates if label not in self.result.created)
        words = [f"Would create {', '.join(creates)}."] if creates else []
        message = " ".join(words + state.notes)
        self.result.synced += 1
        self.engine.runs.record_order(self.result.run_id or 0, state.order.source_id,
                                      state.order.number, OrderOutcome.PLANNED, message,
                                      documents=documents, customer=state.order.customer)
        self._report(state.order.number)

    def _finish_skipped(self, order: Order, reason: str) -> None:
        self.result.skipped += 1
        self.engine.runs.record_order(self.result.run_id or 0, order.source_id, order.number,
                                      OrderOutcome.SKIPPED, f"Skipped: {reason}.",
                                      customer=order.customer)
        self._report(order.number)

    def _finish_failed(self, order_id: str, number: str, failure: OrderFailure,
                       booked: Iterable[BookedDocument] = (), customer: str = "") -> None:
        self.result.failed += 1
        self.result.errors.append(failure)
        self.engine.runs.record_order(self.result.run_id or 0, order_id, number,
                                      OrderOutcome.FAILED, failure.message, failure.detail,
                                      failure.kind, documents=booked, customer=customer)
        self._report(number)

    def _report(self, number: str) -> None:
        self.progress(Progress(self.result.fetched, self.result.synced, self.result.skipped,
                               self.result.failed, number))


# ---- helpers -----------------------------------------------------------------------------

def _resolve(body: Mapping[str, Any], lookup: Callable[[Pending], Any]) -> Any:
    """The payload to send: a plain copy of a planned body, each typed hole (a document of the
    same order, an earlier sale's customer, a new customer or item) filled by `lookup`."""
    return thawed(body, lookup)


def _failed_order_message(failed: FailedOrder) -> str:
    """The source's words, with the line and field added when it did not name them."""
    message = failed.message.strip()
    where = []
    if failed.line and f"line {failed.line}" not in message.lower():
        where.append(f"line {failed.line}")
    if failed.field and failed.field.lower() not in message.lower():
        where.append(f"field {failed.field}")
    return f"{message} ({', '.join(where)})" if where else message


def _intent(doc: _Doc) -> Intent:
    order = doc.order.order
    return Intent(order.source_id, order.number, doc.planned.doc_key, doc.planned.kind.value,
                  doc.request_id, json.dumps(doc.payload, default=str),
                  doc.sent_number, doc.planned.total)


def _entity_and_body(operation: _Doc | NewEntity) -> tuple[str, dict[str, Any]]:
    if isinstance(operation, NewEntity):
        return operation.entity, thawed(operation.body)
    return operation.planned.kind.value, operation.payload


def _request_id(batch_id: str, bid: str) -> str:
    """A plain request's id is the batch id alone (no "/bid"): reconcile() tells the two apart
    to send it again the same way."""
    return f"{batch_id}/{bid}" if bid else batch_id


def _split_request_id(request_id: str) -> tuple[str, str]:
    """(batch id, operation id) of a ledger request id; the operation id is "" for a plain
    request."""
    batch_id, _, bid = request_id.partition("/")
    return batch_id, bid


def _confirmation(request_id: str, entity: Mapping[str, Any],
                  sent_total: Decimal) -> Confirmation:
    """What the ledger records of a document QuickBooks holds; its total as QuickBooks answered
    it, or the total sent when the answer is not an amount to the cent."""
    total = _answered_amount(entity.get("TotalAmt", ""))
    return Confirmation(request_id, str(entity.get("Id", "")), str(entity.get("DocNumber") or ""),
                        sent_total if total is None else total)


def _answered_amount(value: object) -> Decimal | None:
    """An amount from QuickBooks' answer (blank: zero), or None when it is not one."""
    try:
        return money(str(value) if value is not None else "")
    except MoneyError:
        return None


def _is_ours(document: Mapping[str, Any], order_number: str) -> bool:
    """A document found by number is ours when its memo names the order."""
    return any(names_order(str(document.get(memo) or ""), order_number)
               for memo in ("PrivateNote", "Memo"))


def _fault_text(fault: QuickBooksFault) -> str:
    return f"{fault.message} {fault.detail}".strip()


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


