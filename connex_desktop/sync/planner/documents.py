"""What every planned document shares: its number, its memo's order marker, its total, refs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import Fix, OrderDataError, Remedy
from connex_desktop.core.model import Order
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.quickbooks_rules import ONLINE_LIMITS, NameLimits


def document_number(order: Order, connection: Connection,
                    limits: NameLimits = ONLINE_LIMITS) -> str | None:
    """The order number with the connection's prefix, or None when QuickBooks numbers it
    (chosen, or the number is too long where `limits` let QuickBooks number it then)."""
    return prefixed_number(order.number, connection, "Order Number", limits)


def prefixed_number(number: str, connection: Connection, field: str,
                    limits: NameLimits = ONLINE_LIMITS) -> str | None:
    """A store's number with the connection's prefix, or None when QuickBooks numbers it;
    OrderDataError (naming `field`) when it is too long for QuickBooks and QuickBooks may not
    number it instead."""
    if connection.use_qb_numbering:
        return None
    prefixed = f"{connection.prefix}{number}"
    if len(prefixed) > limits.doc_number:
        if limits.number_falls_back:
            return None
        raise OrderDataError(
            f"the document number '{prefixed}' is {len(prefixed)} characters; QuickBooks allows "
            f"at most {limits.doc_number}. Shorten the prefix or choose "
            "'Use QuickBooks numbering'.", order=number, field=field,
            fix=Fix(Remedy.USE_QB_NUMBERING))
    return prefixed


def document_total(body: Mapping[str, Any]) -> Decimal:
    """What a sales document adds up to, computed from the body we send (as QuickBooks does)."""
    total = ZERO
    for line in body.get("Line", []):
        amount = money(str(line.get("Amount", "0")))
        if line.get("DetailType") == "DiscountLineDetail":
            total -= amount
        elif line.get("DetailType") == "SalesItemLineDetail":
            total += amount
    tax = (body.get("TxnTaxDetail") or {}).get("TotalTax")
    if tax is not None and body.get("GlobalTaxCalculation") != "TaxInclusive":
        total += money(str(tax))
    return total


def as_ref(entity: Mapping[str, Any], name_field: str = "Name") -> dict[str, Any]:
    """A QuickBooks ref ({"value": Id, "name": name}) to a record, or a copy of a ref."""
    if "value" in entity:
        return dict(entity)
    return {"value": str(entity["Id"]), "name": str(entity.get(name_field, ""))}
