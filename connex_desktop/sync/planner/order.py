"""Which documents an order becomes now: a first booking, or what follows a sale booked earlier."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import Connection
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.model import Order
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import ZERO, money_text
from connex_desktop.core.plan import (
    ESTIMATE,
    INVOICE,
    PAYMENT_PREFIX,
    SALE_KEYS,
    SALES_RECEIPT,
    BookedSaleCustomerRef,
    OrderPlan,
    PlannedDocumentId,
)
from connex_desktop.core.result import DocumentKind
from connex_desktop.core.rules import deciding_rule
from connex_desktop.sync.planner.checks import (
    check_amounts,
    check_order_adds_up,
    is_closed,
    is_paid_in_full,
)
from connex_desktop.sync.planner.documents import document_number, document_total
from connex_desktop.sync.planner.draft import PlanDraft
from connex_desktop.sync.planner.entities import Entities
from connex_desktop.sync.planner.inputs import CompanySetup, LedgerEntry, References
from connex_desktop.sync.planner.payments import Payments, long_reference
from connex_desktop.sync.planner.purchase_orders import PurchaseOrders
from connex_desktop.sync.planner.refunds import Refunds
from connex_desktop.sync.planner.sale import SaleDocument


def plan_order(order: Order, connection: Connection, refs: References, setup: CompanySetup,
               ledger: Mapping[str, LedgerEntry] | None = None) -> OrderPlan:
    """The documents to book for `order`, as the first of the connection's rules it meets (or
    the connection itself) decides; raises OrderDataError naming the order and field.

    What the ledger holds of the order outranks any rule: an order booked one way is never
    booked again another way because a rule changed since."""
    rule = deciding_rule(connection.rules, order)
    if rule is None:
        return OrderPlanner(PlanDraft(order, connection, refs, setup, ledger or {})).plan()
    draft = PlanDraft(order, connection.under_rule(rule), refs, setup.for_rule(rule.name),
                      ledger or {}, rule=rule.name)
    if rule.skip:
        return draft.skipped(rule.skip_words)
    return OrderPlanner(draft).plan()


class OrderPlanner:
    def __init__(self, draft: PlanDraft) -> None:
        self.draft = draft
        self.order = draft.order
        self.mode = draft.mode
        self.product = draft.connection.quickbooks.product
        self.ledger = draft.ledger
        entities = Entities(draft)
        self.sale = SaleDocument(draft, entities)
        self.payments = Payments(draft)
        self.refunds = Refunds(draft, entities, self.sale, self.payments)
        self.purchase_orders = PurchaseOrders(draft, entities)

    def plan(self) -> OrderPlan:
        check_amounts(self.order)
        order = self.order
        existing_sale = next((self.ledger[key] for key in SALE_KEYS
                              if key in self.ledger and self.ledger[key].exists), None)
        if existing_sale is not None:
            return self._plan_after_sale(existing_sale)
        estimate = self.ledger.get(ESTIMATE)
        if estimate is not None and estimate.exists and not self.mode.books_estimate:
            # Booked as a sales order when the connection (or a rule) said so: what books it
            # now would be a second booking of the same sale.
            mode = self.mode.info_in(self.product).label.lower()
            return self.draft.skipped(
                f"it is booked already ({estimate.label_in(self.product)}), and what this "
                f"connection books for it now ({mode}) would book it a second time")
        if is_closed(order):
            return self.draft.skipped(
                f"the order is {order.status or order.payment_status.value} and was never "
                "booked, so there is nothing to book")
        if self.mode is TransactionMode.SALES_RECEIPTS and not is_paid_in_full(order):
            return self.draft.skipped(
                "it is not paid in full; a sales receipt records a sale paid at checkout, so "
                "unpaid orders belong to an invoices connection")
        check_order_adds_up(order)
        self._plan_first_booking()
        if not self.draft.documents:
            return self.draft.skipped("everything this connection books for it is booked "
                                      "already")
        return self.draft.plan()

    def _plan_first_booking(self) -> None:
        """The sale, and what follows from it in the same run: its payments, refunds made
        before the order's first sync, purchase orders."""
        connection, limits = self.draft.connection, self.draft.setup.limits
        number = document_number(self.order, connection, limits)
        if number is None and not connection.use_qb_numbering:
            self.draft.note(
                f"Its number {connection.prefix}{self.order.number} is longer than the "
                f"{limits.doc_number} characters QuickBooks Desktop keeps, so QuickBooks numbered "
                "its documents; their memo names the order.")
        estimate = self.ledger.get(ESTIMATE)
        if estimate is not None and estimate.exists:
            self._note_change_after_booking(estimate)
        else:
            estimate = None
        sale_body = self.sale.body(number)
        total = self.draft.checked_total(sale_body, "the document", self.order.total,
                                         "the order's total", "Total")
        if self.mode.books_estimate and estimate is None:
            self.draft.add(ESTIMATE, DocumentKind.ESTIMATE, dict(sale_body, TxnStatus="Pending"),
                           total, number)
        if self.mode.books_invoice:
            self._plan_invoice(sale_body, total, number, estimate)
        if self.mode is TransactionMode.SALES_RECEIPTS:
            self._plan_sales_receipt(sale_body, total, number)
        customer = sale_body["CustomerRef"]
        if self.mode.books_payments:
            self.payments.plan(PlannedDocumentId(INVOICE), customer, booked=ZERO,
                               booked_count=0)
        if self.mode is not TransactionMode.SALES_ORDERS:
            # Refunds made before the order's first sync: no later sync would see them new.
            sale_key = INVOICE if self.mode.books_invoice else SALES_RECEIPT
            self.refunds.plan(sale_key, customer, f"the {sale_key.replace('_', ' ')}",
                              depends=(sale_key,))
        if self.mode.books_purchase_orders:
            self.purchase_orders.plan()

    def _plan_invoice(self, sale_body: dict[str, Any], total: Decimal, number: str | None,
                      estimate: LedgerEntry | None) -> None:
        body = dict(sale_body)
        depends: tuple[str, ...] = ()
        if self.mode.books_estimate:
            estimate_id = estimate.qb_id if estimate else PlannedDocumentId(ESTIMATE)
            body["LinkedTxn"] = [{"TxnId": estimate_id, "TxnType": "Estimate"}]
            if estimate is None:
                depends = (ESTIMATE,)
        # With QuickBooks numbering the invoice keeps AutoDocNumber: QuickBooks numbers each
        # kind of form in its own sequence, so the estimate's number may be an invoice's already.
        self.draft.add(INVOICE, DocumentKind.INVOICE, body, total, number, depends)

    def _plan_sales_receipt(self, sale_body: dict[str, Any], total: Decimal,
                            number: str | None) -> None:
        body = dict(sale_body)
        payment = self.order.payments[-1] if self.order.payments else None
        body.update(self.payments.fields(payment))
        body["PrivateNote"] += long_reference(payment)
        self.draft.add(SALES_RECEIPT, DocumentKind.SALES_RECEIPT, body, total, number)

    def _plan_after_sale(self, sale: LedgerEntry) -> OrderPlan:
        """The order was booked before (by this or another connection on the same store)."""
        where = sale.label_in(self.product)
        if sale.state != LedgerState.CONFIRMED:
            return self.draft.skipped(f"its {where} is still being confirmed with QuickBooks")
        self._note_change_after_booking(sale)
        kind = DocumentKind.INVOICE if sale.doc_key == INVOICE else DocumentKind.SALES_RECEIPT
        customer = BookedSaleCustomerRef(kind, sale.qb_id)
        if kind is DocumentKind.INVOICE and not is_closed(self.order):
            self._plan_after_invoice(sale, customer, where)
        if self.mode is not TransactionMode.SALES_ORDERS:
            self.refunds.plan(sale.doc_key, customer, where)
        if self.draft.documents:
            return self.draft.plan()
        return self.draft.skipped(f"it is booked already ({where})")

    def _plan_after_invoice(self, sale: LedgerEntry, customer: BookedSaleCustomerRef,
                            where: str) -> None:
        if self.mode.books_purchase_orders:
            # A run that stopped after sending the invoice may not have sent its purchase
            # orders yet; vendors the ledger already has are left out.
            self.purchase_orders.plan()
        if self.mode.books_payments or self.mode is TransactionMode.SALES_RECEIPTS:
            payments = self.draft.booked(PAYMENT_PREFIX)
            booked = sum((entry.total for entry in payments), ZERO)
            before = len(self.draft.documents)
            self.payments.plan(sale.qb_id, customer, booked=booked, booked_count=len(payments))
            if len(self.draft.documents) > before:
                self.draft.notes.append(f"A later payment onto {where}.")

    def _note_change_after_booking(self, booked: LedgerEntry) -> None:
        """The store changed the order's total after its document was booked: say so, and
        what the user can do. The booked document is never changed or booked again."""
        if booked.state != LedgerState.CONFIRMED or booked.total == self.order.total:
            return
        # What was sent is the order as it was; QuickBooks' total may differ for reasons of its
        # own (its tax), which the booking run reported. Read only when the totals differ.
        sent = document_total(json.loads(booked.payload)) if booked.payload else booked.total
        if sent == self.order.total:
            return
        run = f"sync run {booked.run_id}" if booked.run_id else "the sync run"
        label = booked.label_in(self.product)
        self.draft.notes.append(
            f"It changed after booking: total {money_text(sent)} → "
            f"{money_text(self.order.total)}. {label} in QuickBooks keeps "
            f"{money_text(booked.total)}; the order is not booked again. To book it as it is "
            f"now, undo {run} that booked it (\"Undo this run\" in the sync log, or "
            f"connex-desktop undo {booked.run_id or 'RUN_ID'}) and sync again; or correct "
            f"{label} in QuickBooks by hand.")
