"""Turns one order into the QuickBooks documents its connection books: bodies, numbers, totals.

`plan_order` (order.py) decides which documents an order becomes and hands each part to its
room: sale.py the sale's body (lines, shipping, discount, tax), entities.py the customers and
items to find or create, payments.py and refunds.py the money in and out, purchase_orders.py
one purchase order per vendor. They add to a PlanDraft (draft.py), which ends as a frozen
OrderPlan (plan.py): documents whose bodies cannot change, with typed holes (PlannedDocumentId,
BookedSaleCustomerRef, NewEntityRef) for ids the engine fills in as they exist. inputs.py holds
what the planner is given besides the order; documents.py and checks.py what every room shares.
"""

from connex_desktop.sync.planner.checks import is_closed, is_paid_in_full
from connex_desktop.sync.planner.documents import (
    DOC_NUMBER_MAX_CHARS,
    document_number,
    document_total,
    money_text,
    names_order,
    order_marker,
)
from connex_desktop.sync.planner.entities import other_sku
from connex_desktop.sync.planner.inputs import CompanySetup, LedgerEntry, References
from connex_desktop.sync.planner.order import plan_order
from connex_desktop.sync.planner.payments import shrunk_payment
from connex_desktop.sync.planner.plan import (
    QB_ASSIGNS,
    BookedSaleCustomerRef,
    NewEntity,
    NewEntityRef,
    OrderPlan,
    Pending,
    PlannedDocument,
    PlannedDocumentId,
    thawed,
)

__all__ = [
    "DOC_NUMBER_MAX_CHARS", "QB_ASSIGNS", "BookedSaleCustomerRef", "CompanySetup", "LedgerEntry",
    "NewEntity", "NewEntityRef", "OrderPlan", "Pending", "PlannedDocument", "PlannedDocumentId",
    "References", "document_number", "document_total", "is_closed", "is_paid_in_full",
    "money_text", "names_order", "order_marker", "other_sku", "plan_order", "shrunk_payment",
    "thawed",
]
