"""Turns one order into the QuickBooks documents its connection books: bodies, numbers, totals."""

# `plan_order` (order.py) decides which documents an order becomes and hands each part to its
# room: sale.py the sale's body (lines, shipping, discount, tax), entities.py the customers and
# items to find or create, payments.py and refunds.py the money in and out, purchase_orders.py
# one purchase order per vendor. They add to a PlanDraft (draft.py), which ends as a frozen
# OrderPlan (plan.py): bodies that cannot change, with typed holes (PlannedDocumentId,
# BookedSaleCustomerRef, NewEntityRef) for ids the engine fills in as they come to exist.
# inputs.py holds what the planner is given besides the order; documents.py and checks.py what
# every room shares. This module names what the rest of the app uses.

from connex_desktop.core.money import money_text
from connex_desktop.sync.planner.documents import (
    DOC_NUMBER_MAX_CHARS,
    document_total,
    names_order,
)
from connex_desktop.sync.planner.entities import other_sku
from connex_desktop.sync.planner.inputs import CompanySetup, LedgerEntry
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
from connex_desktop.sync.planner.sale import SHIPPING_ITEM_ID

__all__ = [
    "DOC_NUMBER_MAX_CHARS",
    "QB_ASSIGNS",
    "SHIPPING_ITEM_ID",
    "BookedSaleCustomerRef",
    "CompanySetup",
    "LedgerEntry",
    "NewEntity",
    "NewEntityRef",
    "OrderPlan",
    "Pending",
    "PlannedDocument",
    "PlannedDocumentId",
    "document_total",
    "money_text",
    "names_order",
    "other_sku",
    "plan_order",
    "shrunk_payment",
    "thawed",
]
