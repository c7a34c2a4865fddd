"""Turns one order into the QuickBooks documents its connection books: bodies, numbers, totals."""

# `plan_order` (order.py) decides which documents an order becomes and hands each part to its
# room: sale.py the sale's body (lines, shipping, discount, tax), entities.py the customers and
# items to find or create, payments.py and refunds.py the money in and out, purchase_orders.py
# one purchase order per vendor. They add to a PlanDraft (draft.py), which ends as a frozen
# OrderPlan (core/plan.py, read by QuickBooks Desktop's side too): bodies that cannot change,
# with typed holes (PlannedDocumentId, BookedSaleCustomerRef, NewEntityRef) for ids the engine
# fills in as they come to exist.
# inputs.py holds what the planner is given besides the order; documents.py and checks.py what
# every room shares. This module names what the rest of the app uses.

from connex_desktop.core.plan import (
    QB_ASSIGNS,
    BookedSaleCustomerRef,
    NewEntity,
    NewEntityRef,
    OrderPlan,
    Pending,
    PlannedDocument,
    PlannedDocumentId,
    names_order,
    thawed,
)
from connex_desktop.sync.planner.documents import document_total
from connex_desktop.sync.planner.entities import other_sku
from connex_desktop.sync.planner.inputs import ClassTracking, CompanySetup, LedgerEntry
from connex_desktop.sync.planner.order import plan_order
from connex_desktop.sync.planner.payments import shrunk_payment
from connex_desktop.sync.planner.tracking import tracking

__all__ = [
    "QB_ASSIGNS",
    "BookedSaleCustomerRef",
    "ClassTracking",
    "CompanySetup",
    "LedgerEntry",
    "NewEntity",
    "NewEntityRef",
    "OrderPlan",
    "Pending",
    "PlannedDocument",
    "PlannedDocumentId",
    "document_total",
    "names_order",
    "other_sku",
    "plan_order",
    "shrunk_payment",
    "thawed",
    "tracking",
]
