"""Purchase orders: one per vendor of the order's items, at each item's purchase cost."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.model import OrderLine
from connex_desktop.core.money import ZERO, money, money_text
from connex_desktop.core.plan import order_marker, purchase_order_key
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.planner.documents import as_ref
from connex_desktop.sync.planner.draft import PlanDraft
from connex_desktop.sync.planner.entities import Entities
from connex_desktop.sync.planner.inputs import CompanySetup
from connex_desktop.sync.tax import TaxModel


class PurchaseOrders:
    def __init__(self, draft: PlanDraft, entities: Entities) -> None:
        self.draft = draft
        self.entities = entities
        self.order = draft.order

    def plan(self) -> None:
        """A purchase order per vendor the ledger has none for yet."""
        for vendor_id, lines in self._lines_by_vendor().items():
            key = purchase_order_key(vendor_id)
            if key in self.draft.ledger and self.draft.ledger[key].exists:
                continue
            vendor = self.draft.refs.vendor(vendor_id)
            if vendor is None:
                self.draft.notes.append(
                    f"No purchase order for vendor {vendor_id}: it is not an active vendor.")
                continue
            self._plan_one(key, vendor_id, vendor, lines)

    def _plan_one(self, key: str, vendor_id: str, vendor: Mapping[str, Any],
                  lines: list[dict[str, Any]]) -> None:
        draft = self.draft
        body: dict[str, Any] = {
            "VendorRef": {"value": vendor_id, "name": str(vendor.get("DisplayName", ""))},
            "TxnDate": self.order.order_date.isoformat(),
            "POStatus": "Open",
            "Memo": order_marker(self.order.number),
            "PrivateNote": draft.memo("purchase order"),
            "Line": lines,
        }
        if draft.setup.ap_account:
            body["APAccountRef"] = dict(draft.setup.ap_account)
        if vendor.get("BillAddr"):
            body["VendorAddr"] = dict(vendor["BillAddr"])
        if not self.order.shipping_address.is_empty():
            body["ShipAddr"] = draft.address(self.order.shipping_address, "ShipAddr")
        total = sum((money(str(line["Amount"])) for line in lines), ZERO)
        draft.add(key, DocumentKind.PURCHASE_ORDER, body, total, None)

    def _lines_by_vendor(self) -> dict[str, list[dict[str, Any]]]:
        """The order's lines at purchase cost, by the items' default vendor; a line whose item
        has no vendor or cost (or is new) gets none, with a note."""
        by_vendor: dict[str, list[dict[str, Any]]] = {}
        for number, line in enumerate(self.order.lines, start=1):
            if line.quantity <= 0:
                continue
            item = self.entities.existing_item(line)
            what = f"line {number} ({line.sku or line.name})"
            if item is None:
                self.draft.notes.append(
                    f"No purchase order for {what}: the item is new in QuickBooks, so it has no "
                    "default vendor or purchase cost yet.")
                continue
            vendor_ref = item.get("PrefVendorRef") or {}
            cost = money(str(item.get("PurchaseCost") or "0"))
            if not vendor_ref.get("value") or cost <= ZERO:
                missing = " or ".join(
                    part for part, absent in (("a default vendor", not vendor_ref.get("value")),
                                              ("a purchase cost", cost <= ZERO)) if absent)
                self.draft.notes.append(
                    f"No purchase order for {what}: the item '{item.get('Name')}' has no "
                    f"{missing} in QuickBooks.")
                continue
            by_vendor.setdefault(str(vendor_ref["value"]), []).append(
                self._line(item, line, cost))
        return by_vendor

    def _line(self, item: Mapping[str, Any], line: OrderLine, cost: Decimal) -> dict[str, Any]:
        detail = {"ItemRef": as_ref(item), "Qty": str(line.quantity),
                  "UnitPrice": money_text(cost), **self._tax_code(item, line)}
        return {"DetailType": "ItemBasedExpenseLineDetail",
                "Amount": money_text(money(cost * line.quantity)),
                "Description": line.name or str(item.get("Name", "")),
                "ItemBasedExpenseLineDetail": detail}

    def _tax_code(self, item: Mapping[str, Any], line: OrderLine) -> dict[str, Any]:
        return purchase_tax_code(self.draft.setup, item, line.tax_rate)


def purchase_tax_code(setup: CompanySetup, item: Mapping[str, Any] | None,
                      rate: Decimal | None) -> dict[str, Any]:
    """A VAT/GST company needs a code on every purchase line: the item's own, else one for
    the line's tax `rate`; other companies none."""
    if setup.tax.model is not TaxModel.VAT:
        return {}
    code = setup.tax.for_purchase(rate)
    code_ref = (item or {}).get("PurchaseTaxCodeRef") or (code.ref if code else None)
    return {"TaxCodeRef": dict(code_ref)} if code_ref else {}
