"""Lightspeed X-Series supplier consignments (its stock orders) as purchase orders."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.money import ZERO
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    lines_subtotal,
    revision_of,
)
from connex_desktop.sources.amounts import price_of, quantity_of
from connex_desktop.sources.base import FailedOrder
from connex_desktop.sources.timestamps import local_day, utc_instant

SUPPLIER = "SUPPLIER"
# The supplier workflow OPEN → SENT → DISPATCHED → RECEIVED, or CANCELLED: an OPEN one is
# still being written; sent or dispatched, it is ordered.
STATES = {"OPEN": PurchaseOrderState.DRAFT, "SENT": PurchaseOrderState.OPEN,
          "DISPATCHED": PurchaseOrderState.OPEN, "RECEIVED": PurchaseOrderState.RECEIVED,
          "CANCELLED": PurchaseOrderState.CANCELLED}


def number_of(raw: Mapping[str, Any]) -> str:
    """Its order number (`reference`), else its id."""
    return str(raw.get("reference") or raw.get("id") or "?")


def read_consignment(raw: Mapping[str, Any], products: Sequence[Mapping[str, Any]],
                     catalogue: Mapping[str, Mapping[str, Any]], supplier: Mapping[str, Any],
                     zone: tzinfo) -> PurchaseOrder | FailedOrder:
    """A supplier consignment with its products, or a FailedOrder naming the field that is
    wrong. `catalogue` holds the products by id (for their names), `supplier` its supplier."""
    number = number_of(raw)
    try:
        return _purchase_order(raw, number, products, catalogue, supplier, zone)
    except OrderDataError as error:
        return FailedOrder(number, error.message, field=error.field)


def _purchase_order(raw: Mapping[str, Any], number: str, products: Sequence[Mapping[str, Any]],
                    catalogue: Mapping[str, Mapping[str, Any]], supplier: Mapping[str, Any],
                    zone: tzinfo) -> PurchaseOrder:
    """Each product's `count` is what was ordered (none for one only received), `received`
    what came in, `cost` its unit cost (taken as without tax [Unverified])."""
    status = str(raw.get("status") or "")
    if status not in STATES:
        raise OrderDataError(f"status is {status!r}, not a supplier consignment status.",
                             order=number, field="status")
    vendor = str(supplier.get("name") or "")
    if not vendor:
        raise OrderDataError(f"its supplier ({raw.get('supplier_id')!r}) is not in the store's "
                             "supplier list.", order=number, field="supplier_id")
    lines = []
    # The feed lists products by version, which every count or receipt moves on: in the order
    # they were added, the lines stay put as the order is received.
    added = sorted(products, key=lambda item: (str(item.get("created_at") or ""),
                                               str(item.get("product_id") or "")))
    for index, item in enumerate(added, start=1):
        if item.get("count") is None:
            continue    # received without being ordered: not on the purchase order
        where = f"product {index} ({item.get('product_sku') or '?'}): "
        product = catalogue.get(str(item.get("product_id")), {})
        lines.append(PurchaseOrderLine(
            sku=str(item.get("product_sku") or product.get("sku") or ""),
            name=str(product.get("variant_name") or product.get("name") or ""),
            quantity=quantity_of(item, "count", number, where=where),
            unit_cost=price_of(item, "cost", number, where=where),
            received=quantity_of(item, "received", number, where=where)))
    state = STATES[status]
    if raw.get("deleted_at"):
        state = PurchaseOrderState.CANCELLED
    elif state is not PurchaseOrderState.RECEIVED and any(line.received > ZERO
                                                          for line in lines):
        state = PurchaseOrderState.PARTLY_RECEIVED
    day = local_day(raw.get("consignment_date") or raw.get("created_at"), zone)
    if day is None:
        raise OrderDataError(f"consignment_date is {raw.get('consignment_date')!r}, not a date.",
                             order=number, field="consignment_date")
    expected = local_day(raw.get("due_at"), zone)
    note = str(raw.get("name") or "")
    return PurchaseOrder(
        source="lightspeed_x", source_id=str(raw.get("id") or number), number=number,
        vendor=vendor, order_date=day, state=state, status=status, currency="",
        lines=tuple(lines), total=lines_subtotal(lines),
        expected_date=expected,
        memo=f"Lightspeed stock order {number}" + (f": {note}" if note else ""),
        updated_at=utc_instant(raw.get("updated_at")),
        revision=revision_of(state, expected, [
            (line.sku, line.quantity, line.unit_cost, line.received) for line in lines]),
        raw=raw)
