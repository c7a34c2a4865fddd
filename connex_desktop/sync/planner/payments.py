"""Payments onto the order's invoice: one per payment the store recorded, within the total."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.model import Payment as OrderPayment
from connex_desktop.core.money import ZERO, money_text
from connex_desktop.core.plan import (
    INVOICE,
    Pending,
    PlannedDocument,
    PlannedDocumentId,
    payment_key,
)
from connex_desktop.core.quickbooks_rules import PAYMENT_REF_MAX_CHARS
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.planner.documents import as_ref
from connex_desktop.sync.planner.draft import PlanDraft


class Payments:
    def __init__(self, draft: PlanDraft) -> None:
        self.draft = draft

    def plan(self, invoice_id: str | PlannedDocumentId, customer: Mapping[str, Any] | Pending,
             *, booked: Decimal, booked_count: int) -> None:
        """Payments onto the invoice `invoice_id` for what the store says was paid beyond
        `booked` (the total of the `booked_count` payments the ledger has)."""
        order = self.draft.order
        due = min(order.amount_paid, order.total) - booked
        if due <= ZERO:
            return
        if order.amount_paid > order.total:
            self.draft.notes.append(
                f"The order says {money_text(order.amount_paid)} was paid, more than its total "
                f"{money_text(order.total)}; only the total is applied to the invoice.")
        # One Payment per payment the store recorded; whatever no longer matches them one to
        # one (a later payment, a cap) becomes one Payment for the difference.
        remaining = list(order.payments[booked_count:])
        if not (remaining and sum((p.amount for p in remaining), ZERO) == due):
            last = order.payments[-1] if order.payments else None
            remaining = [OrderPayment(due, last.method if last else "",
                                      last.reference if last else "",
                                      last.paid_on if last else None)]
        for index, payment in enumerate(remaining, start=booked_count + 1):
            if payment.amount > ZERO:
                self._plan_one(index, payment, invoice_id, customer)

    def _plan_one(self, index: int, payment: OrderPayment, invoice_id: str | PlannedDocumentId,
                  customer: Mapping[str, Any] | Pending) -> None:
        body: dict[str, Any] = {
            "CustomerRef": customer if isinstance(customer, Pending) else dict(customer),
            "TotalAmt": money_text(payment.amount),
            "TxnDate": (payment.paid_on or self.draft.order.order_date).isoformat(),
            "PrivateNote": self.draft.memo(f"payment {index}") + long_reference(payment),
            "Line": [{"Amount": money_text(payment.amount),
                      "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
        }
        body.update(self.fields(payment))
        self.draft.currency(body)
        depends = (INVOICE,) if isinstance(invoice_id, PlannedDocumentId) else ()
        self.draft.add(payment_key(index), DocumentKind.PAYMENT, body, payment.amount, None,
                       depends)

    def fields(self, payment: OrderPayment | None) -> dict[str, Any]:
        """How `payment` was made, on a payment, sales receipt or refund receipt."""
        setup = self.draft.setup
        fields: dict[str, Any] = {}
        method = setup.payment_method
        if method is None and payment is not None and payment.method:
            found = self.draft.refs.payment_method_by_name(payment.method)
            method = as_ref(found) if found else None
        if method:
            fields["PaymentMethodRef"] = dict(method)
        if payment is not None and payment.reference:
            fields["PaymentRefNum"] = payment.reference[:PAYMENT_REF_MAX_CHARS]
        if setup.deposit_account:
            fields["DepositToAccountRef"] = dict(setup.deposit_account)
        return fields


def shrunk_payment(payment: PlannedDocument, amount: Decimal) -> PlannedDocument:
    """The same payment planned anew for `amount` only: what QuickBooks says is still open on
    its invoice when someone paid part of it there meanwhile."""
    body = payment.body
    (line,) = body["Line"]
    text = money_text(amount)
    return dataclasses.replace(payment, total=amount,
                               body={**body, "TotalAmt": text, "Line": [{**line, "Amount": text}]})


def long_reference(payment: OrderPayment | None) -> str:
    """The whole gateway reference for the memo when PaymentRefNum can hold only its start."""
    if payment is None or len(payment.reference) <= PAYMENT_REF_MAX_CHARS:
        return ""
    return f" Payment reference {payment.reference}."
