"""The sale document's body (estimate, invoice, sales receipt): lines, shipping, discount, tax."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import MissingItemPolicy, TaxPolicy
from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import OrderLine
from connex_desktop.core.money import ZERO, money_text
from connex_desktop.core.plan import NewEntityRef
from connex_desktop.core.quickbooks_rules import SHIPPING_ITEM_ID
from connex_desktop.sync.planner.documents import as_ref
from connex_desktop.sync.planner.draft import PlanDraft
from connex_desktop.sync.planner.entities import Entities, clean_name
from connex_desktop.sync.tax import SaleTax, TaxedLine


class SaleDocument:
    def __init__(self, draft: PlanDraft, entities: Entities) -> None:
        self.draft = draft
        self.entities = entities
        self.order = draft.order
        self.setup = draft.setup

    def body(self, number: str | None) -> dict[str, Any]:
        """The sale's body, numbered `number` (None: QuickBooks numbers it)."""
        order = self.order
        body: dict[str, Any] = {
            "CustomerRef": self.entities.customer(),
            "TxnDate": order.order_date.isoformat(),
            "PrivateNote": self.draft.memo(""),
            "Line": [],
        }
        if number is None:
            body["AutoDocNumber"] = True
        else:
            body["DocNumber"] = number
        email = self.draft.checked_email(order.buyer.email.strip())
        if email:
            body["BillEmail"] = {"Address": email}
        for key, address in (("BillAddr", order.billing_address),
                             ("ShipAddr", order.shipping_address)):
            if not address.is_empty():
                body[key] = self.draft.address(address, key)
        self.draft.currency(body)
        self.add_lines(body)
        return body

    def add_lines(self, body: dict[str, Any]) -> None:
        """The order's lines (items, shipping, discount, tax line) and tax detail, onto body."""
        order = self.order
        lines: list[dict[str, Any]] = body["Line"]
        taxed: list[TaxedLine] = []
        for index, line in enumerate(order.lines, start=1):
            lines.append(self._item_line(index, line))
            taxed.append(TaxedLine(lines[-1], line.gross, line.taxable, line.tax_rate,
                                   line.tax_code, discount=line.discount,
                                   label=f"line {index} ({line.sku or line.name})"))
        line_discounts = sum((line.discount for line in order.lines), ZERO)
        if order.shipping:
            lines.append(self._shipping_line())
            taxed.append(TaxedLine(lines[-1], order.shipping, rate=order.shipping_tax_rate,
                                   item=False, label="shipping"))
        discount = order.discount + line_discounts
        if discount:
            lines.append(self._discount_line(order.discount, line_discounts))
        if order.tax and self.draft.mapping.tax_policy is TaxPolicy.LINE_ITEM:
            lines.append(self._tax_line())
            taxed.append(TaxedLine(lines[-1], order.tax, taxable=False, item=False,
                                   label="the tax line"))
        self.tax().apply(body, taxed, order.tax, order.discount)

    def tax(self) -> SaleTax:
        mapping = self.draft.mapping
        return SaleTax(self.order, self.setup.tax, self.setup.using_sales_tax,
                       tax_as_line=mapping.tax_policy is TaxPolicy.LINE_ITEM,
                       legacy_code=self.setup.tax_code, overrides=mapping.tax_codes)

    def _item_line(self, index: int, line: OrderLine) -> dict[str, Any]:
        detail: dict[str, Any] = {"ItemRef": self.entities.item(line, index),
                                  "Qty": str(line.quantity),
                                  "UnitPrice": str(line.unit_price)}
        # Amount stays quantity × unit price (QuickBooks checks it); line discounts go on the
        # discount line so the document still totals what the order does.
        return {"DetailType": "SalesItemLineDetail", "Amount": money_text(line.gross),
                "Description": line.name or line.sku, "SalesItemLineDetail": detail}

    def _shipping_line(self) -> dict[str, Any]:
        amount = money_text(self.order.shipping)
        item = self.setup.shipping_item
        if item is None and not self.setup.allow_shipping:
            raise OrderDataError(
                f"it charges {amount} shipping, but shipping is turned off in QuickBooks. Turn "
                "on Shipping in QuickBooks (Account and settings, Sales) or choose a shipping "
                "item for this connection.", order=self.order.number, field="Shipping Amount")
        ref = as_ref(item) if item else {"value": SHIPPING_ITEM_ID}
        detail: dict[str, Any] = {"ItemRef": ref}
        if item:
            detail.update(Qty="1", UnitPrice=amount)
        return {"DetailType": "SalesItemLineDetail", "Amount": amount, "Description": "Shipping",
                "SalesItemLineDetail": detail}

    def _discount_line(self, order_discount: Decimal, line_discounts: Decimal) -> dict[str, Any]:
        if not self.setup.allow_discount:
            raise OrderDataError(
                f"it has {money_text(order_discount + line_discounts)} of discounts, but "
                "discounts are turned off in QuickBooks. Turn on Discount in QuickBooks "
                "(Account and settings, Sales).", order=self.order.number,
                field="Order Discount" if order_discount else "Line Discount")
        parts = []
        if order_discount:
            parts.append(f"order discount {money_text(order_discount)}")
        if line_discounts:
            parts.append(f"line discounts {money_text(line_discounts)}")
        detail: dict[str, Any] = {"PercentBased": False}
        if self.setup.discount_account:
            detail["DiscountAccountRef"] = dict(self.setup.discount_account)
        return {"DetailType": "DiscountLineDetail",
                "Amount": money_text(order_discount + line_discounts),
                "Description": "Discount: " + ", ".join(parts),
                "DiscountLineDetail": detail}

    def _tax_line(self) -> dict[str, Any]:
        amount = money_text(self.order.tax)
        mapping = self.draft.mapping
        item: dict[str, Any] | NewEntityRef
        if self.setup.tax_item is not None:
            item = as_ref(self.setup.tax_item)
        elif mapping.missing_items is MissingItemPolicy.CREATE:
            name = clean_name(mapping.tax_item)
            item = self.entities.new_item(name, "", name, self.order.tax, taxable=False)
        else:
            raise OrderDataError(
                f"the connection books tax as a line against the item '{mapping.tax_item}'"
                ", which is not in QuickBooks.", order=self.order.number, field="Tax Amount")
        return {"DetailType": "SalesItemLineDetail", "Amount": amount, "Description": "Sales tax",
                "SalesItemLineDetail": {"ItemRef": item, "Qty": "1", "UnitPrice": amount}}
