"""A purchase order the store keeps itself, as one QuickBooks PurchaseOrder: vendor, items, body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.money import ZERO, money_text
from connex_desktop.core.plan import NewEntity, NewEntityRef, frozen, order_marker
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
)
from connex_desktop.core.quickbooks_rules import DISPLAY_NAME_MAX_CHARS
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.customer_fields import address_fields
from connex_desktop.sync.planner.documents import as_ref, prefixed_number
from connex_desktop.sync.planner.draft import currency_fields
from connex_desktop.sync.planner.entities import (
    clean_name,
    fallback_for_missing_item,
    find_item,
    new_item_entity,
)
from connex_desktop.sync.planner.inputs import CompanySetup, References
from connex_desktop.sync.planner.purchase_orders import purchase_tax_code
from connex_desktop.sync.planner.tracking import tracking

# Ledger rows of a store's purchase orders: their order ids start with this, so they never
# meet an order's; each revision of a purchase order is one row ("po@<revision>").
LEDGER_PREFIX = "purchase-order:"
VENDOR_SUFFIX = " (vendor)"     # for a supplier whose name a customer or employee has
CLOSING_WORDS = {PurchaseOrderState.RECEIVED: "received",
                 PurchaseOrderState.CANCELLED: "cancelled",
                 PurchaseOrderState.DELETED: "deleted"}


def ledger_id(purchase: PurchaseOrder) -> str:
    return LEDGER_PREFIX + purchase.source_id


def revision_key(purchase: PurchaseOrder) -> str:
    return f"po@{purchase.revision}"


@dataclass(frozen=True)
class PurchasePlan:
    """One store purchase order's QuickBooks body, with holes (NewEntityRef) for the vendor
    and items still to create, and the list records to create first."""

    purchase: PurchaseOrder
    body: Mapping[str, Any]
    total: Decimal                  # what the lines add up to, without tax
    doc_number: str | None          # None: QuickBooks numbers it
    creates: tuple[NewEntity, ...] = ()
    notes: tuple[str, ...] = ()


def plan_store_purchase_order(purchase: PurchaseOrder, connection: Connection,
                              refs: References, setup: CompanySetup) -> PurchasePlan:
    """The QuickBooks PurchaseOrder of `purchase`; OrderDataError names the PO and field."""
    return _Planner(purchase, connection, refs, setup).plan()


def plan_deleted_purchase_order(purchase: PurchaseOrder, booked: Mapping[str, Any],
                                total: Decimal, setup: CompanySetup) -> PurchasePlan:
    """The purchase order booked as `booked` (its last body sent), closed because the store
    deleted it: nothing else changes, as the store can no longer say what it was. Its vendor
    is sent as booked, so a lost answer is found by vendor and memo."""
    body = {"VendorRef": booked["VendorRef"], "POStatus": "Closed",
            "PrivateNote": private_note(purchase, setup)}
    return PurchasePlan(purchase, frozen(body), total, None)


def private_note(purchase: PurchaseOrder, setup: CompanySetup) -> str:
    """Names the store's purchase order (so it is found and known as ours) and the revision
    booked (so a change is found in QuickBooks once it is made there)."""
    store = setup.store_label or purchase.source
    closing = CLOSING_WORDS.get(purchase.state)
    state = f" {closing.capitalize()} in {store}: closed." if closing else ""
    return (f"Purchase {order_marker(purchase.number)} from {store} ({purchase.status}, "
            f"revision {purchase.revision}).{state} Booked by Connex Desktop.")


class _Planner:
    def __init__(self, purchase: PurchaseOrder, connection: Connection, refs: References,
                 setup: CompanySetup) -> None:
        self.purchase = purchase
        self.connection = connection
        self.refs = refs
        self.setup = setup
        self.creates: dict[NewEntityRef, NewEntity] = {}
        self.notes: list[str] = []

    def plan(self) -> PurchasePlan:
        purchase = self.purchase
        number = prefixed_number(purchase.number, self.connection, "PO number")
        lines = [self._line(line, index) for index, line in enumerate(purchase.lines, start=1)
                 if line.quantity > 0]
        if purchase.other_costs:
            lines.append(self._other_costs())
        if not lines:
            raise OrderDataError("it has no lines to order.", order=purchase.number,
                                 field="lines")
        total = sum((line.amount for line in purchase.lines if line.quantity > 0),
                    purchase.other_costs)
        body: dict[str, Any] = {
            "VendorRef": self._vendor(),
            "TxnDate": purchase.order_date.isoformat(),
            "POStatus": "Closed" if purchase.state in CLOSING_WORDS else "Open",
            "Memo": purchase.memo or f"{self.setup.store_label} purchase order {purchase.number}",
            "PrivateNote": private_note(purchase, self.setup),
            "Line": lines,
            **currency_fields(purchase.currency, None, self.setup, purchase.number,
                              "purchase order"),
        }
        if number is not None:
            body["DocNumber"] = number
        if purchase.expected_date is not None:
            body["DueDate"] = purchase.expected_date.isoformat()
        if self.setup.ap_account:
            body["APAccountRef"] = dict(self.setup.ap_account)
        if not purchase.ship_to.is_empty():
            body["ShipAddr"], note = address_fields(purchase.ship_to, "ship-to")
            if note:
                self.notes.append(note)
        # The connection's class, as on the purchase orders it books for sales (a store's own
        # purchase order meets no rule: rules take orders).
        tracked = tracking(self.connection.mapping, self.setup, self.refs)
        body = tracked.tag(DocumentKind.PURCHASE_ORDER, body)
        if tracked.note:
            self.notes.append(tracked.note)
        return PurchasePlan(purchase, frozen(body), total, number,
                            tuple(self.creates.values()), tuple(self.notes))

    def _vendor(self) -> dict[str, Any] | NewEntityRef:
        """The supplier's vendor, by name; created when QuickBooks has none."""
        name = clean_name(self.purchase.vendor)[:DISPLAY_NAME_MAX_CHARS]
        found = self.refs.vendor_by_name(name)
        if found is not None:
            return as_ref(found, "DisplayName")
        ref = NewEntityRef("Vendor", name.lower())
        body: dict[str, Any] = {"DisplayName": name, "CompanyName": name}
        if self.setup.multicurrency and self.purchase.currency.strip():
            body["CurrencyRef"] = {"value": self.purchase.currency.strip().upper()}
        other = (name[:DISPLAY_NAME_MAX_CHARS - len(VENDOR_SUFFIX)] + VENDOR_SUFFIX,)
        self.creates[ref] = NewEntity("Vendor", ref, name, body, other)
        return ref

    def _line(self, line: PurchaseOrderLine, index: int) -> dict[str, Any]:
        item = find_item(self.refs, line.sku, line.name)
        detail: dict[str, Any] = {
            "ItemRef": as_ref(item) if item is not None else self._missing_item(line, index),
            "Qty": str(line.quantity), "UnitPrice": str(line.unit_cost),
            **purchase_tax_code(self.setup, item, line.tax_rate)}
        return {"DetailType": "ItemBasedExpenseLineDetail", "Amount": money_text(line.amount),
                "Description": line.name or line.sku, "ItemBasedExpenseLineDetail": detail}

    def _missing_item(self, line: PurchaseOrderLine, index: int) -> Any:
        fallback = fallback_for_missing_item(self.connection.mapping.missing_items, self.setup,
                                             line.sku, line.name, index, self.purchase.number)
        if fallback is not None:
            return fallback
        entity = new_item_entity(self.refs, self.setup, clean_name(line.name or line.sku),
                                 line.sku, line.name or line.sku, ZERO, taxable=False)
        entity = NewEntity(entity.entity, entity.key, entity.name,
                           {**entity.body, "PurchaseCost": str(line.unit_cost)},
                           entity.other_names)
        self.creates.setdefault(entity.key, entity)
        return entity.key

    def _other_costs(self) -> dict[str, Any]:
        """Shipping and other costs without tax, on the company's cost account."""
        account = self.setup.expense_account
        if not account:
            raise OrderDataError(
                f"it has other costs ({money_text(self.purchase.other_costs)}) but the "
                "QuickBooks company has no Cost of Goods Sold account to book them on.",
                order=self.purchase.number, field="other costs")
        detail = {"AccountRef": dict(account),
                  **purchase_tax_code(self.setup, None, None)}
        return {"DetailType": "AccountBasedExpenseLineDetail",
                "Amount": money_text(self.purchase.other_costs),
                "Description": "Shipping and other costs",
                "AccountBasedExpenseLineDetail": detail}
