"""The sync engine: fetch orders, plan their documents, book them exactly once, record it all.

A run goes through its phases in turn, each in its own module: reconcile what an earlier run
left unconfirmed (reconcile.py), plan each window of orders (windows.py), write them through the
QuickBooks writer (sending.py, quickbooks/writer.py), and record how each order ended
(run_state.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksCompany,
    QuickBooksProduct,
)
from connex_desktop.core.errors import (
    Cancelled,
    ConnexError,
    ErrorKind,
    SetupError,
    busy_message,
)
from connex_desktop.core.model import Order
from connex_desktop.core.progress import CancelToken, ProgressCallback, ignore_progress
from connex_desktop.core.result import OrderFailure, RunStatus, RunTrigger, SyncResult
from connex_desktop.core.secret_store import SecretStore, connection_secret_key
from connex_desktop.core.writing import DocumentWriter
from connex_desktop.quickbooks.references import ReferenceCache, ReferenceStore
from connex_desktop.quickbooks.writer import IN_FLIGHT_REQUESTS
from connex_desktop.sources.base import (
    FailedOrder,
    OrderQuery,
    Source,
    missing_settings,
    purchase_order_sync_unavailable,
    purchase_orders_unavailable,
)
from connex_desktop.storage.database import StorageError
from connex_desktop.storage.ledger import LedgerRepository
from connex_desktop.storage.repositories import (
    ConnectionRepository,
    CursorRepository,
    RunRepository,
)
from connex_desktop.storage.sync_locks import SyncLocks
from connex_desktop.sync.back_end import QuickBooksBackEnd
from connex_desktop.sync.company_setup import company_problem
from connex_desktop.sync.purchase_orders import CURSOR_NAME as PURCHASE_ORDERS_CURSOR
from connex_desktop.sync.purchase_orders import PurchaseOrderSync
from connex_desktop.sync.reconcile import Reconciler
from connex_desktop.sync.run_state import RunStopped, SyncRun
from connex_desktop.sync.sending import DocumentSender
from connex_desktop.sync.windows import plan_window, windows

log = logging.getLogger(__name__)

WINDOW_ORDERS = 120          # orders planned and written together, in dependency rounds
CURSOR_NAME = "modified_since"
# The store's own position in its change feed (e.g. Lightspeed X's version), as the source
# left it: moved only with the time cursor, when the run is confirmed.
SOURCE_CURSOR_NAME = "source_position"
CURSOR_OVERLAP = timedelta(hours=1)   # re-read a little before the cursor; the ledger de-dupes
# A plain sync also fetches again this many orders whose last attempt failed, those that failed
# longest ago first, so failures heal by themselves once their cause is fixed.
HEALING_ORDERS_MAX = 200


@dataclass(frozen=True)
class _RunRequest:
    """What a caller of `Engine.run` asked for."""

    connection: Connection
    progress: ProgressCallback
    cancel: CancelToken
    query: OrderQuery | None
    dry_run: bool
    trigger: RunTrigger
    retry_failed: bool

    @property
    def default_query(self) -> bool:
        """A plain sync: the orders changed since the cursor, and earlier failures again."""
        return self.query is None and not self.retry_failed


class Engine:
    """Books a connection's orders into its QuickBooks company. Qt-free; the GUI and CLI share it.

    Wiring comes from app.py: `source_for` builds a connection's source (with its secrets),
    `client_for` the back-end of its QuickBooks company (Online's client, or Desktop's).
    """

    def __init__(self, *, runs: RunRepository, ledger: LedgerRepository,
                 cursors: CursorRepository, connections: ConnectionRepository,
                 secrets: SecretStore,
                 source_for: Callable[[Connection], Source],
                 client_for: Callable[[Connection], QuickBooksBackEnd],
                 source_kinds: Mapping[str, type[Source]],
                 window_orders: int = WINDOW_ORDERS,
                 requests_in_flight: int = IN_FLIGHT_REQUESTS,
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
        self.requests_in_flight = requests_in_flight
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
        if problem or waits_for_web_connector(connection.quickbooks):
            # Through the Web Connector QuickBooks answers only when it calls, on its own
            # schedule: the company is checked when the run starts.
            return problem
        try:
            client = self.client_for(connection)
            try:
                refs = self.reference_cache(connection, client)
                return company_problem(connection, refs, refs.preferences())
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
        unavailable = purchase_orders_unavailable(source_kind)
        if any(mode.books_purchase_orders for mode in connection.modes) and unavailable:
            return f"{unavailable} Choose a mode without purchase orders for this connection."
        unavailable = purchase_order_sync_unavailable(source_kind)
        if connection.sync_purchase_orders and unavailable:
            return f"{unavailable} Turn off 'Sync purchase orders' for this connection."
        return None

    # ---- the run -------------------------------------------------------------------------

    def run(self, connection: Connection, *, progress: ProgressCallback = ignore_progress,
            cancel: CancelToken | None = None, query: OrderQuery | None = None,
            dry_run: bool = False, trigger: RunTrigger = RunTrigger.MANUAL,
            retry_failed: bool = False) -> SyncResult:
        if connection.id is None:
            return SyncResult(connection.name, None, RunStatus.FAILED,
                              message="Save the connection before syncing it.", dry_run=dry_run,
                              failure_kind=ErrorKind.FIX_SETUP)
        run = functools.partial(self._run, _RunRequest(
            connection, progress, cancel or CancelToken(), query, dry_run, trigger,
            retry_failed))
        try:
            if self.locks is None:
                return run()
            with self.locks.hold(connection.id) as held:
                if not held:
                    return SyncResult(connection.name, None, RunStatus.FAILED,
                                      message=busy_message("sync"), dry_run=dry_run,
                                      failure_kind=ErrorKind.RETRY_LATER)
                # No live process syncs this connection: a run of it still "running" was left
                # by a process that died.
                self.runs.mark_interrupted(connection.id)
                return run()
        except StorageError as error:   # the run could not even be recorded as started
            return SyncResult(connection.name, None, RunStatus.FAILED, message=error.message,
                              dry_run=dry_run, failure_kind=error.kind)

    def _run(self, request: _RunRequest) -> SyncResult:
        connection = request.connection
        assert connection.id is not None
        started = self.clock()
        run_id = self.runs.start(connection.id, request.trigger, request.dry_run)
        result = SyncResult(connection.name, run_id, RunStatus.SUCCEEDED,
                            dry_run=request.dry_run)
        # Read before this run records anything: the failures of earlier runs, which a plain
        # sync tries again.
        failing_before = ([] if request.dry_run
                          else self.runs.failed_order_numbers(connection.id))
        retry_later, healing_note, reached = False, "", ""
        try:
            retry_later, healing_note, reached = self._connect_and_sync(request, result,
                                                                        failing_before)
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
        if result.status is RunStatus.SUCCEEDED and result.failed:
            result.status = RunStatus.PARTIAL
        if healing_note and result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
            result.message = healing_note
        moves_cursor = request.default_query and not request.dry_run and not retry_later
        self._record_end(connection, result, started if moves_cursor else None, reached)
        return result

    def _connect_and_sync(self, request: _RunRequest, result: SyncResult,
                          failing_before: list[str]) -> tuple[bool, str, str]:
        """Whether a failure asks to retry later, the note on earlier failures tried again,
        and where the store's own change feed now stands ("" when it keeps none)."""
        problem = self._local_problem(request.connection)
        if problem:
            raise SetupError(problem)
        client = self.client_for(request.connection)
        try:
            return self._sync(request, result, client, failing_before)
        finally:
            result.quickbooks = client.usage()
            client.close()

    def _sync(self, request: _RunRequest, result: SyncResult, client: QuickBooksBackEnd,
              failing_before: list[str]) -> tuple[bool, str, str]:
        """The phases of a run: reconcile, then fetch, plan and write window by window."""
        connection, cancel = request.connection, request.cancel
        source = self.source_for(connection)
        run = SyncRun(connection, client, source, result=result, progress=request.progress,
                      dry_run=request.dry_run, runs=self.runs, ledger=self.ledger,
                      connections=self.connections,
                      refs=self.reference_cache(connection, client))
        # What the fetch and QuickBooks' client learn on the way (totals, pauses), and the
        # cancel itself, reach the run's progress.
        cancel.watch(run)
        client.heed(cancel)
        writer = self._writer(client)
        if not request.dry_run:
            Reconciler(run, writer).reconcile()
        sender = DocumentSender(run, writer, fill_batches=self.fill_batches)
        failed_before = failing_before if request.default_query else []
        order_query = self._query(connection, request.query, request.retry_failed)
        try:
            if order_query is not None:
                # In the same fetch, so a source that reads everything reads it once. No
                # status filter on them: plan_window() skips an order whose status this
                # connection does not sync, and says so, where a filtered fetch would
                # leave it failed for ever.
                healing = failed_before[:HEALING_ORDERS_MAX]
                self._book_windows(run, sender, source.fetch_orders_and_retries(
                    order_query, healing, cancel), cancel)
        except Cancelled:
            cancel.cancel()
        # Orders already planned are finished even when cancelled: no order is left half
        # booked by a cancel.
        sender.send_ready(final=True)
        if not request.dry_run:
            result.new_failures = len({failure.order for failure in result.errors}
                                      - set(failing_before))
        healing_note = _healing_note(failed_before, run.order_numbers, result.errors,
                                     result.new_failures)
        if connection.sync_purchase_orders and request.default_query and not cancel.cancelled:
            # After the orders' own reckoning: their notes speak of orders only.
            PurchaseOrderSync(run, writer, source, self.cursors, self.clock()).sync(cancel)
        if cancel.cancelled:
            raise Cancelled()
        return run.retry_later, healing_note, source.cursor_reached

    def reference_cache(self, connection: Connection,
                        client: QuickBooksBackEnd) -> ReferenceCache:
        return ReferenceCache(client, self.references if client.lists_kept else None,
                              realm_id=connection.quickbooks.realm_id, clock=self.clock)

    def _writer(self, client: QuickBooksBackEnd) -> DocumentWriter:
        return client.writer(in_flight=self.requests_in_flight)

    def _book_windows(self, run: SyncRun, sender: DocumentSender,
                      orders: Iterable[Order | FailedOrder], cancel: CancelToken) -> None:
        for window in windows(orders, self.window_orders, cancel):
            planned = plan_window(run, window)
            if run.dry_run:
                for state in planned:
                    run.finish_dry(state)
                continue
            run.in_flight.extend(planned)
            sender.send_ready(final=False)
        if not cancel.cancelled:
            run.fetched_all()

    def _record_end(self, connection: Connection, result: SyncResult,
                    cursor: datetime | None, source_cursor: str = "") -> None:
        """The run's end in its history, and the cursors moved to `cursor` and
        `source_cursor` when given."""
        assert connection.id is not None and result.run_id is not None
        try:
            if cursor is not None and result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL):
                self.cursors.set(connection.id, CURSOR_NAME, cursor.isoformat())
                if connection.sync_purchase_orders:
                    self.cursors.set(connection.id, PURCHASE_ORDERS_CURSOR, cursor.isoformat())
                if source_cursor:
                    self.cursors.set(connection.id, SOURCE_CURSOR_NAME, source_cursor)
            self.runs.finish(result.run_id, result)
        except StorageError as error:
            # The run stays "running" in the history until the next run marks it interrupted;
            # the cursor stays where it was, so the next sync reads these orders again.
            self._fail_run(result, error)
        log.info("sync of %s (run %s) %s: %d fetched, %d synced, %d skipped, %d failed%s",
                 connection.name, result.run_id, result.status.value, result.fetched,
                 result.synced, result.skipped, result.failed,
                 f": {result.message}" if result.message else "")

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
        return OrderQuery(modified_since=since, statuses=connection.statuses,
                          source_cursor=self.cursors.get(connection.id, SOURCE_CURSOR_NAME)
                          or "")


def waits_for_web_connector(company: QuickBooksCompany) -> bool:
    return (company.product is QuickBooksProduct.DESKTOP
            and company.desktop_transport is DesktopTransport.WEB_CONNECTOR)


def _healing_note(failed_before: list[str], tried: set[str],
                  failures: Iterable[OrderFailure], new: int) -> str:
    """What became of the orders that had failed before, and how many failures are new."""
    retried = [number for number in failed_before if number in tried]
    if not retried:
        return ""
    failing = {failure.order for failure in failures}
    still = sum(1 for number in retried if number in failing)
    note = (f"Tried again {_orders_phrase(len(retried))} that failed before: "
            f"{len(retried) - still} went through, {still} still failing.")
    return note + (f" {_orders_phrase(new)} failed for the first time." if new else "")


def _orders_phrase(count: int) -> str:
    return f"{count} order" + ("" if count == 1 else "s")


