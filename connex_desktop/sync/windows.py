"""Orders in windows: each window's new orders planned, or failed or skipped with the reason."""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Iterable, Iterator, Mapping

from connex_desktop.core.errors import Cancelled, ConnexError, ErrorKind
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.model import Order
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.result import OrderFailure, document_label
from connex_desktop.core.rules import deciding_rule
from connex_desktop.sources.base import FailedOrder
from connex_desktop.storage.ledger import LedgerRow
from connex_desktop.sync.planner import CompanySetup, LedgerEntry, OrderPlan, plan_order
from connex_desktop.sync.run_state import DocumentInFlight, OrderInFlight, RunStopped, SyncRun

log = logging.getLogger(__name__)


def windows(orders: Iterable[Order | FailedOrder], size: int,
            cancel: CancelToken) -> Iterator[list[Order | FailedOrder]]:
    """The fetched orders, `size` at a time; none once the run is cancelled, not even the
    part of a window fetched before the cancel."""
    window: list[Order | FailedOrder] = []
    for order in orders:
        if cancel.cancelled:
            return
        window.append(order)
        if len(window) >= size:
            if cancel.cancelled:
                return
            yield window
            window = []
    if window and not cancel.cancelled:
        yield window


def plan_window(run: SyncRun, window: list[Order | FailedOrder]) -> list[OrderInFlight]:
    """The window's orders that have documents to write, planned; the others are recorded as
    failed or skipped here."""
    planned: list[OrderInFlight] = []
    orders = _new_orders(run, window)
    wanted = {status.casefold() for status in run.connection.statuses}
    ledger = run.ledger.for_orders(run.realm, run.store_key,
                                   [order.source_id for order in orders])
    for order in orders:
        if wanted and order.status.casefold() not in wanted:
            run.finish_skipped(order, f"its status '{order.status}' is not one this "
                               "connection syncs")
            continue
        state = _plan(run, order, ledger.get(order.source_id, {}))
        if state is not None:
            planned.append(state)
    if not run.dry_run:
        run.report(orders[-1].number if orders else "")
    return planned


def _new_orders(run: SyncRun, window: list[Order | FailedOrder]) -> list[Order]:
    """The window's orders not seen before in this run; the unreadable ones fail here."""
    orders: list[Order] = []
    for item in window:
        run.result.fetched += 1
        if isinstance(item, FailedOrder):
            run.order_numbers.add(item.number)
            run.finish_failed(item.number, item.number,
                              OrderFailure(item.number, _failed_order_message(item)))
            continue
        if item.source_id in run.seen_order_ids:   # the overlap of a modified-since window
            run.result.fetched -= 1
            continue
        run.seen_order_ids.add(item.source_id)
        run.order_numbers.add(item.number)
        orders.append(item)
    return orders


def _plan(run: SyncRun, order: Order, rows: Mapping[str, LedgerRow]) -> OrderInFlight | None:
    """The order planned against what the ledger holds of it; None when it failed or has
    nothing to book (recorded so)."""
    unconfirmed = [row for row in rows.values() if row.state == LedgerState.PLANNED]
    if unconfirmed and not run.dry_run:
        run.finish_failed(order.source_id, order.number, OrderFailure(
            order.number,
            f"QuickBooks has not yet confirmed its "
            f"{document_label(unconfirmed[0].kind, run.product)}; the next "
            "sync checks again before booking anything.", ErrorKind.RETRY_LATER),
            customer=order.customer)
        run.retry_later = True
        return None
    entries = {key: LedgerEntry(row.doc_key, row.kind, row.state, row.qb_id,
                                row.doc_number, row.total, row.run_id, row.payload)
               for key, row in rows.items()}
    try:
        plan = _order_plan(run, order, entries)
    except (RunStopped, Cancelled):
        raise
    except ConnexError as error:
        run.finish_failed(order.source_id, order.number, OrderFailure(
            order.number, error.message, error.kind, error.detail, error.fix),
            customer=order.customer, rule=_rule_name(run, order))
        return None
    except Exception as error:  # a bad order fails itself, never the run
        log.exception("order %s could not be planned", order.number)
        run.finish_failed(order.source_id, order.number, OrderFailure(
            order.number, f"it could not be planned ({type(error).__name__}: {error})."),
            customer=order.customer, rule=_rule_name(run, order))
        return None
    if plan.skip_reason:
        run.finish_skipped(order, plan.skip_reason, plan.rule)
        return None
    state = OrderInFlight(order, plan, notes=list(plan.notes))
    state.docs = {doc.doc_key: DocumentInFlight(weakref.ref(state), doc)
                  for doc in plan.documents}
    return state


def _order_plan(run: SyncRun, order: Order, entries: dict[str, LedgerEntry]) -> OrderPlan:
    """The order's plan; the company is read only for an order that may have something to
    book: one booked before is first planned without it, and most often is done already."""
    if not run.company_loaded and any(entry.exists for entry in entries.values()):
        with contextlib.suppress(Exception):    # planned again below, knowing the company
            plan = plan_order(order, run.connection, run.refs, CompanySetup(), entries)
            if plan.skip_reason:
                return plan
    run.load_company()
    return plan_order(order, run.connection, run.refs, run.setup, entries)


def _rule_name(run: SyncRun, order: Order) -> str:
    """The rule that decided an order whose planning failed ("": the connection's settings)."""
    rule = deciding_rule(run.connection.rules, order)
    return rule.name if rule else ""


def _failed_order_message(failed: FailedOrder) -> str:
    """The source's words, with the line and field added when it did not name them."""
    message = failed.message.strip()
    where = []
    if failed.line and f"line {failed.line}" not in message.lower():
        where.append(f"line {failed.line}")
    if failed.field and failed.field.lower() not in message.lower():
        where.append(f"field {failed.field}")
    return f"{message} ({', '.join(where)})" if where else message
