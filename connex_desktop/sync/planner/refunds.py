"""Refund receipts for the store's refunds: the whole sale reversed, or one line on an item."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import Payment as OrderPayment
from connex_desktop.core.model import Refund
from connex_desktop.core.money import ZERO, money_text
from connex_desktop.core.plan import (
    INVOICE,
    PAYMENT_PREFIX,
    REFUND_PREFIX,
    NewEntityRef,
    Pending,
    refund_key,
)
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.planner.checks import check_order_adds_up
from connex_desktop.sync.planner.documents import as_ref
from connex_desktop.sync.planner.draft import PlanDraft
from connex_desktop.sync.planner.entities import Entities
from connex_desktop.sync.planner.payments import Payments, long_reference
from connex_desktop.sync.planner.sale import SaleDocument
from connex_desktop.sync.tax import TaxedLine

REFUND_ITEM_NAME = "Refunds"   # partial refunds, when the connection names no refund item


class Refunds:
    def __init__(self, draft: PlanDraft, entities: Entities, sale: SaleDocument,
                 payments: Payments) -> None:
        self.draft = draft
        self.entities = entities
        self.sale = sale
        self.payments = payments
        self.order = draft.order

    def plan(self, sale_key: str, customer: Mapping[str, Any] | Pending, where: str,
             depends: tuple[str, ...] = ()) -> None:
        """A refund receipt per refund of the store's that the ledger has not booked yet, to
        the customer of the sale (`sale_key`'s document, which `where` names)."""
        order = self.order
        booked_refunds = self.draft.booked(REFUND_PREFIX)
        booked = sum((entry.total for entry in booked_refunds), ZERO)
        due = min(sum((refund.amount for refund in order.refunds), ZERO), order.total) - booked
        if due > ZERO and sale_key == INVOICE:
            due = self._due_on_invoice(due, booked, where)
        if due <= ZERO:
            return
        # One refund receipt per refund the store recorded; whatever no longer matches them
        # one to one becomes one refund receipt for the difference.
        remaining = list(order.refunds[len(booked_refunds):])
        if not (remaining and sum((refund.amount for refund in remaining), ZERO) == due):
            last = order.refunds[-1]
            remaining = [Refund(due, last.reference, last.refunded_on)]
        for index, refund in enumerate(remaining, start=len(booked_refunds) + 1):
            if refund.amount > ZERO:
                self._plan_one(index, refund, customer, depends)
                self.draft.notes.append(f"A refund of {money_text(refund.amount)} on {where}.")

    def _due_on_invoice(self, due: Decimal, booked: Decimal, where: str) -> Decimal:
        """What may be refunded on an invoice: no more than was paid on it (ZERO: nothing)."""
        paid = sum((entry.total for entry in self.draft.booked(PAYMENT_PREFIX)), ZERO) + sum(
            (doc.total for doc in self.draft.documents if doc.kind is DocumentKind.PAYMENT),
            ZERO)
        if paid <= ZERO:
            self.draft.notes.append(
                f"No refund booked: {where} has no payment booked, and money back on an "
                "unpaid invoice is a credit memo, which this app does not book.")
            return ZERO
        return min(due, paid - booked)

    def _plan_one(self, index: int, refund: Refund, customer: Mapping[str, Any] | Pending,
                  depends: tuple[str, ...]) -> None:
        order = self.order
        method = order.payments[-1].method if order.payments else ""
        payment = OrderPayment(refund.amount, method, refund.reference, refund.refunded_on)
        body: dict[str, Any] = {
            "CustomerRef": customer if isinstance(customer, Pending) else dict(customer),
            "TxnDate": (refund.refunded_on or date.today()).isoformat(),
            "PrivateNote": self.draft.memo(f"refund {index}") + long_reference(payment),
            "Line": [],
        }
        if refund.amount == order.total:
            check_order_adds_up(order)
            self.sale.add_lines(body)   # a full refund reverses the sale's income and tax
        else:
            body["Line"].append(self._refund_line(refund.amount))
            untaxed = TaxedLine(body["Line"][-1], refund.amount, taxable=False, rate=ZERO,
                                item=False, label="the refund")
            self.sale.tax().apply(body, [untaxed], ZERO, ZERO)
        body.update(self.payments.fields(payment))
        body.setdefault("DepositToAccountRef", self._refund_account())
        self.draft.currency(body)
        product = self.draft.connection.quickbooks.product
        total = self.draft.checked_total(
            body, f"its {DocumentKind.REFUND_RECEIPT.label_in(product).lower()}", refund.amount,
            "the refund", "Refund Amount")
        self.draft.add(refund_key(index), DocumentKind.REFUND_RECEIPT, body, total, None,
                       depends)

    def _refund_line(self, amount: Decimal) -> dict[str, Any]:
        """The store does not say which lines a partial refund was for: one line, on the
        refund item."""
        item: dict[str, Any] | NewEntityRef
        found = self.draft.setup.refund_item or self.draft.refs.item_by_name(REFUND_ITEM_NAME)
        if found is not None:
            item = as_ref(found)
        else:
            item = self.entities.new_item(REFUND_ITEM_NAME, "", "Money refunded to customers",
                                          ZERO, taxable=False)
        name = item.get("name", "") if isinstance(item, dict) else REFUND_ITEM_NAME
        self.draft.notes.append(
            f"The refund of {money_text(amount)} is booked on the item '{name}': the store does "
            "not say which lines it was for.")
        detail: dict[str, Any] = {"ItemRef": item, "Qty": "1", "UnitPrice": money_text(amount)}
        return {"DetailType": "SalesItemLineDetail", "Amount": money_text(amount),
                "Description": f"Refund on order {self.order.number}",
                "SalesItemLineDetail": detail}

    def _refund_account(self) -> dict[str, Any]:
        account = self.draft.setup.deposit_account or self.draft.setup.undeposited_funds
        if account is None:
            raise OrderDataError(
                "it has a refund to book, but QuickBooks has no Undeposited Funds account to "
                "pay it from; choose a deposit account for this connection.",
                order=self.order.number, field="Refund Amount")
        return dict(account)
