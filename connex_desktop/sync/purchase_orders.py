"""The store's own purchase orders, a second kind of sync item: each revision booked once.

A run reads the purchase orders changed since the last confirmed run (with the orders' overlap)
and asks again for those still open in the ledger and those that failed. Each becomes one
QuickBooks PurchaseOrder, created the first time, then changed (sparse, with its SyncToken) or
closed as the store's copy changes; one ledger row per revision keeps each change exactly once.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connex_desktop.core.errors import Cancelled, ConnexError, ErrorKind
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.plan import thawed
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.core.result import BookedDocument, DocumentKind, OrderFailure, OrderOutcome
from connex_desktop.core.writing import DocumentWriter
from connex_desktop.sources.base import FailedOrder, Source
from connex_desktop.storage.ledger import LedgerRow
from connex_desktop.storage.repositories import PURCHASE_ORDER_ITEM, CursorRepository
from connex_desktop.sync.planner.store_purchase_orders import (
    CLOSING_WORDS,
    LEDGER_PREFIX,
    PurchasePlan,
    ledger_id,
    plan_deleted_purchase_order,
    plan_store_purchase_order,
)
from connex_desktop.sync.purchase_order_writes import PurchaseOrderWrites
from connex_desktop.sync.run_state import RunStopped, SyncRun

log = logging.getLogger(__name__)

CURSOR_NAME = "purchase_orders_since"
CURSOR_OVERLAP = timedelta(hours=1)     # as the orders': the ledger de-duplicates
FIRST_SYNC_DAYS = 30                    # a first sync books the last month's purchase orders
UNREAD_PREFIX = "purchase-order-unread:"  # run history id of one the store could not read
# What a booking sends besides what the purchase order says.
_NOT_CONTENT = frozenset({"PrivateNote", "Id", "SyncToken", "sparse", "DocNumber"})
SKIPPED = "Skipped: "
# What a purchase order an undo took out of QuickBooks may be now without a word in the log.
QUIET_AFTER_UNDO = frozenset({PurchaseOrderState.DRAFT, PurchaseOrderState.CANCELLED,
                              PurchaseOrderState.DELETED})
# Gone from the store before anything of it was booked: nothing to book.
NEVER_BOOKED = frozenset({PurchaseOrderState.CANCELLED, PurchaseOrderState.DELETED})
DRAFT_SKIP = f"{SKIPPED}it is still a draft in "


@dataclass
class Booking:
    """One store purchase order on its way to QuickBooks, and how it ended."""

    purchase: PurchaseOrder
    previous: LedgerRow | None           # the revision booked last; None: create it
    plan: PurchasePlan | None = None
    sequence: int = 0                    # how many revisions were booked before
    booked: list[BookedDocument] = field(default_factory=list)
    failure: OrderFailure | None = None
    notes: list[str] = field(default_factory=list)
    skipped: str = ""

    @property
    def doc_key(self) -> str:
        """One ledger row per revision booked, counted, so a revision that comes back (a
        quantity changed and changed back) is booked again."""
        return f"po{self.sequence}@{self.purchase.revision}"

    def fail(self, message: str, *, kind: ErrorKind = ErrorKind.FIX_DATA,
             detail: str = "") -> None:
        if self.failure is None:
            self.failure = OrderFailure(self.purchase.number, message, kind, detail)


class PurchaseOrderSync:
    """Books a connection's store purchase orders into QuickBooks in one run."""

    def __init__(self, run: SyncRun, writer: DocumentWriter, source: Source,
                 cursors: CursorRepository, now: datetime) -> None:
        self.run = run
        self.source = source
        self.cursors = cursors
        self.now = now
        self.writes = PurchaseOrderWrites(run, writer)
        assert run.connection.id is not None
        # Recorded by id: those the store could read are asked for again by it.
        self.failed_before = run.runs.latest_item_ids(run.connection.id, PURCHASE_ORDER_ITEM,
                                                      OrderOutcome.FAILED)

    def sync(self, cancel: CancelToken) -> None:
        try:
            fetched = list(self.source.purchase_orders(self._since(), cancel, self._asked_again()))
        except Cancelled:
            cancel.cancel()
            return
        bookings = self._bookings(fetched)
        if self.run.dry_run:
            for booking in bookings:
                self._finish(booking)
            return
        self.writes.book([booking for booking in bookings if booking.failure is None])
        for booking in bookings:
            self._finish(booking)

    # ---- what to read --------------------------------------------------------------------

    def _since(self) -> datetime:
        assert self.run.connection.id is not None
        cursor = self.cursors.get(self.run.connection.id, CURSOR_NAME)
        if cursor:
            return datetime.fromisoformat(cursor) - CURSOR_OVERLAP
        return self.now - timedelta(days=FIRST_SYNC_DAYS)

    def _asked_again(self) -> tuple[str, ...]:
        """The store's ids of purchase orders still open in QuickBooks (a store that finds them
        by date only would not see them change), of those an undo took out of it (to book
        anew), of drafts, and of those that failed before."""
        run = self.run
        assert run.connection.id is not None
        latest: dict[str, LedgerRow] = {}       # the latest row that exists, by order id
        undone: list[str] = []
        for row in run.ledger.with_order_prefix(run.realm, run.store_key, LEDGER_PREFIX):
            if row.exists:
                latest[row.order_id] = row
            elif row.state == LedgerState.UNDONE:
                undone.append(row.order_id)
        still_open = [order_id for order_id, row in latest.items()
                      if row.state == LedgerState.PLANNED or _status(row) != "Closed"]
        still_open += [order_id for order_id in undone if order_id not in latest]
        # Drafts are watched until they are ordered: they may keep an earlier date.
        drafts = run.runs.latest_item_ids(run.connection.id, PURCHASE_ORDER_ITEM,
                                          OrderOutcome.SKIPPED, DRAFT_SKIP)
        return tuple(order_id.removeprefix(LEDGER_PREFIX)
                     for order_id in dict.fromkeys([*still_open, *self.failed_before, *drafts])
                     if order_id.startswith(LEDGER_PREFIX))

    # ---- what each purchase order needs --------------------------------------------------

    def _bookings(self, fetched: Iterable[PurchaseOrder | FailedOrder]) -> list[Booking]:
        run = self.run
        readable: dict[str, PurchaseOrder] = {}
        for item in fetched:
            if isinstance(item, FailedOrder):
                run.result.fetched += 1
                self._record(UNREAD_PREFIX + item.number, item.number, OrderOutcome.FAILED,
                             item.message, vendor="", failure=OrderFailure(
                                 item.number, item.message + (
                                     f" (field {item.field})" if item.field else "")))
            else:
                readable.setdefault(item.source_id, item)
        ledger = run.ledger.for_orders(run.realm, run.store_key,
                                       [ledger_id(p) for p in readable.values()])
        bookings = []
        for purchase in readable.values():
            booking = self._booking(purchase, ledger.get(ledger_id(purchase), {}))
            if booking is not None:
                run.result.fetched += 1
                bookings.append(booking)
        return bookings

    def _booking(self, purchase: PurchaseOrder,
                 rows: Mapping[str, LedgerRow]) -> Booking | None:
        """What `purchase` needs now; None when QuickBooks has it as it is (nothing to say)."""
        ordered = sorted(rows.values(), key=lambda row: row.id)
        booked = [row for row in ordered if row.state == LedgerState.CONFIRMED]
        last = booked[-1] if booked else None
        if purchase.state is PurchaseOrderState.DELETED and ordered:
            purchase = _as_booked(purchase, ordered[-1])
        if last is not None and last.doc_key.endswith(f"@{purchase.revision}"):
            return self._healed(purchase, booked)
        booking = Booking(purchase, last, sequence=len(booked))
        store = self.run.store_label
        if any(row.state == LedgerState.PLANNED for row in ordered):
            self.run.retry_later = True
            booking.fail("QuickBooks has not yet confirmed its purchase order; the next sync "
                         "checks again before booking anything.", kind=ErrorKind.RETRY_LATER)
        elif last is None and purchase.state in QUIET_AFTER_UNDO and any(
                row.state == LedgerState.UNDONE for row in ordered):
            return None     # asked for again after an undo, and nothing to book
        elif last is None and purchase.state is PurchaseOrderState.DRAFT:
            booking.skipped = (f"{DRAFT_SKIP.removeprefix(SKIPPED)}{store} ({purchase.status}); "
                               "it is booked once it is ordered")
        elif last is None and purchase.state in NEVER_BOOKED:
            booking.skipped = (f"it was {CLOSING_WORDS[purchase.state]} in {store} before it "
                               "was ever booked")
        elif last is not None and _status(last) == "Closed":
            booking.skipped = (f"its {_label(last)} is closed in QuickBooks already; later "
                               f"changes in {store} are not booked")
        else:
            self._plan(booking)
            if last is not None and booking.plan is not None and _same_in_quickbooks(
                    booking.plan, last):
                return None     # e.g. only what was received changed: nothing to send
        return booking

    def _healed(self, purchase: PurchaseOrder, booked: list[LedgerRow]) -> Booking | None:
        """QuickBooks has this revision. One that failed before (its answer was lost, found
        booked since) is recorded as booked, so it is not asked for again; else None."""
        if ledger_id(purchase) not in self.failed_before or self.run.dry_run:
            return None
        last = booked[-1]
        booking = Booking(purchase, booked[-2] if len(booked) > 1 else None,
                          sequence=len(booked) - 1)
        booking.booked.append(BookedDocument(purchase.number, DocumentKind.PURCHASE_ORDER,
                                             last.qb_id, last.doc_number, last.total))
        return booking

    def _plan(self, booking: Booking) -> None:
        run = self.run
        try:
            run.load_company()
            if booking.purchase.state is PurchaseOrderState.DELETED:
                assert booking.previous is not None
                booking.plan = plan_deleted_purchase_order(
                    booking.purchase, json.loads(booking.previous.payload),
                    booking.previous.total, run.setup)
            else:
                booking.plan = plan_store_purchase_order(booking.purchase, run.connection,
                                                         run.refs, run.setup)
            booking.notes.extend(booking.plan.notes)
        except RunStopped:
            raise
        except ConnexError as error:
            booking.fail(error.message, kind=error.kind, detail=error.detail)
        except Exception as error:  # a bad purchase order fails itself, never the run
            log.exception("purchase order %s could not be planned", booking.purchase.number)
            booking.fail(f"it could not be planned ({type(error).__name__}: {error}).")

    # ---- how each ended ------------------------------------------------------------------

    def _finish(self, booking: Booking) -> None:
        purchase = booking.purchase
        outcome, message = OrderOutcome.BOOKED, ""
        if booking.failure is not None:
            outcome, message = OrderOutcome.FAILED, booking.failure.message
        elif booking.skipped:
            outcome, message = OrderOutcome.SKIPPED, f"{SKIPPED}{booking.skipped}."
        elif self.run.dry_run:
            assert booking.plan is not None
            outcome, message = OrderOutcome.PLANNED, _what_changes(booking, dry_run=True)
            booking.booked.append(BookedDocument(
                purchase.number, DocumentKind.PURCHASE_ORDER, "",
                booking.plan.doc_number or "", booking.plan.total))
        elif not booking.booked:
            outcome, message = OrderOutcome.SKIPPED, f"{SKIPPED}nothing was booked."
        else:
            message = _what_changes(booking, dry_run=False)
        self._record(ledger_id(purchase), purchase.number, outcome,
                     " ".join([message, *booking.notes]).strip(), vendor=purchase.vendor,
                     failure=booking.failure, documents=booking.booked)

    def _record(self, item_id: str, number: str, outcome: OrderOutcome, message: str, *,
                vendor: str, failure: OrderFailure | None = None,
                documents: list[BookedDocument] | None = None) -> None:
        """In the run's result and history, beside the orders (the vendor where an order's
        customer is)."""
        result = self.run.result
        result.documents.extend(documents or [])
        if outcome is OrderOutcome.FAILED:
            assert failure is not None
            result.failed += 1
            result.errors.append(failure)
            if item_id not in self.failed_before and not self.run.dry_run:
                result.new_failures += 1
        elif outcome is OrderOutcome.SKIPPED:
            result.skipped += 1
        else:
            result.synced += 1
        self.run.runs.record_order(
            result.run_id or 0, item_id, number, outcome, message,
            failure.detail if failure else "", failure.kind if failure else "",
            documents=documents or [], customer=vendor, item=PURCHASE_ORDER_ITEM)
        self.run.report(number)


def _as_booked(deleted: PurchaseOrder, row: LedgerRow) -> PurchaseOrder:
    """A purchase order the store deleted, named as it was booked (the store no longer says)."""
    vendor = json.loads(row.payload or "{}").get("VendorRef") or {}
    return dataclasses.replace(deleted, number=row.order_number,
                               vendor=str(vendor.get("name") or ""))


def _status(row: LedgerRow) -> str:
    """The POStatus a ledger row sent ("Open" when it did not say)."""
    return str(json.loads(row.payload or "{}").get("POStatus") or "Open")


def _same_in_quickbooks(plan: PurchasePlan, last: LedgerRow) -> bool:
    """Whether the plan sends what the last booking did (its memo of the revision aside)."""
    def content(body: Mapping[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in body.items() if key not in _NOT_CONTENT}
    return content(thawed(plan.body)) == content(json.loads(last.payload or "{}"))


def _label(row: LedgerRow) -> str:
    return f"purchase order {row.doc_number or f'(Id {row.qb_id})'}"


def _what_changes(booking: Booking, *, dry_run: bool) -> str:
    closing = CLOSING_WORDS.get(booking.purchase.state)
    if booking.previous is None:
        what = ("Created", "Would create")[dry_run] + " the purchase order"
        return what + (f", closed ({closing} in the store)." if closing else ".")
    if closing:
        return ("Closed", "Would close")[dry_run] + f" the purchase order: {closing} in the store."
    return (("Changed", "Would change")[dry_run] + " the purchase order: its lines, quantities "
            "or dates changed in the store.")
