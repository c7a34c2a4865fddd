"""What a document sends: its plan's typed holes filled as the run goes, a payment fitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connex_desktop.core.money import ZERO, money, money_text
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.planner import (
    BookedSaleCustomerRef,
    NewEntityRef,
    Pending,
    PlannedDocumentId,
    shrunk_payment,
    thawed,
)
from connex_desktop.sync.run_state import DocumentInFlight, OrderInFlight, SyncRun


class NotYet(Exception):
    """A document needs something this run has not created yet (it waits for a later round)."""


class Payloads:
    """Fills the holes of the run's planned bodies: a document of the same order once it is
    confirmed, the customer of a sale booked in an earlier run, a customer or item once the run
    created it. A hole that cannot be filled raises KeyError, one not filled yet NotYet."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run

    def filled(self, state: OrderInFlight, doc: DocumentInFlight) -> dict[str, Any]:
        """The payload to send: a plain copy of the planned body, each hole filled."""
        payload: dict[str, Any] = thawed(doc.planned.body, self._lookup(state))
        return payload

    def fit_payment(self, doc: DocumentInFlight) -> bool:
        """Never pay an invoice beyond its open balance in QuickBooks: it may have been paid
        there meanwhile (by hand, or by a sync whose ledger this is not). A payment beyond it is
        planned anew for the open balance. False: nothing due."""
        invoice_id = str(doc.payload["Line"][0]["LinkedTxn"][0]["TxnId"])
        open_balance = self.run.open_balance.get(invoice_id)
        if open_balance is None:
            return True
        amount = money(str(doc.payload["TotalAmt"]))
        if open_balance <= ZERO:
            doc.blocked = True
            payment = doc.planned.kind.label_in(self.run.product).lower()
            doc.order.notes.append(f"No {payment} booked: the invoice is "
                                   "already paid in QuickBooks.")
            return False
        if amount > open_balance:
            doc.planned = shrunk_payment(doc.planned, open_balance)
            doc.payload = self.filled(doc.order, doc)
            doc.order.notes.append(
                f"Only {money_text(open_balance)} of {money_text(amount)} was applied: the rest "
                "of the invoice is already paid in QuickBooks.")
            amount = open_balance
        self.run.open_balance[invoice_id] = open_balance - amount
        return True

    def load_sale_customers(self, states: list[OrderInFlight]) -> None:
        """Later payments and refunds go to the customer of the sale booked in an earlier run."""
        resolved, faults = self.run.resolved, self.run.entity_faults
        wanted = {customer for state in states for doc in state.docs.values()
                  if not doc.done and isinstance(customer := doc.planned.body.get("CustomerRef"),
                                                 BookedSaleCustomerRef)}
        wanted -= resolved.keys() | faults.keys()
        for kind in sorted({customer.sale for customer in wanted}):
            ids = [customer.qb_id for customer in wanted if customer.sale is kind]
            for sale in self.run.client.query_in(kind.value, "Id", ids):
                resolved[BookedSaleCustomerRef(kind, str(sale["Id"]))] = dict(sale["CustomerRef"])
                if kind is DocumentKind.INVOICE:
                    self.run.note_balance(sale)
        for customer in wanted - resolved.keys():
            faults[customer] = "the sale it belongs to is no longer in QuickBooks"

    def _lookup(self, state: OrderInFlight) -> Callable[[Pending], Any]:
        def lookup(pending: Pending) -> Any:
            match pending:
                case PlannedDocumentId(doc_key=doc_key):   # a document of the same order
                    doc = state.docs[doc_key]
                    if not doc.done:
                        raise NotYet(pending)
                    return doc.qb_id
                case NewEntityRef() | BookedSaleCustomerRef():   # filled once for the run
                    if pending in self.run.resolved:
                        return self.run.resolved[pending]
                    if pending in self.run.entity_faults:
                        raise KeyError(pending)
                    raise NotYet(pending)
        return lookup
