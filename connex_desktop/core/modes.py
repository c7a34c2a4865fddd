"""The transaction modes a connection can book orders as, with the words users see."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from connex_desktop.core.products import QuickBooksProduct


class TransactionMode(enum.StrEnum):
    """One per connection; the values are the ids the CLI and the database use."""

    INVOICES = "invoices"
    INVOICES_WITH_PAYMENTS = "invoices-with-payments"
    SALES_RECEIPTS = "sales-receipts"
    SALES_ORDERS = "sales-orders"
    SALES_ORDERS_INVOICES = "sales-orders-invoices"
    SALES_ORDERS_INVOICES_POS = "sales-orders-invoices-pos"

    def info_in(self, product: QuickBooksProduct) -> ModeInfo:
        """The mode in the words of the connection's QuickBooks: Online books a sales order
        as an Estimate and says so; Desktop has Sales Orders of its own."""
        return MODE_INFO[product][self]

    @property
    def books_estimate(self) -> bool:
        return self in (TransactionMode.SALES_ORDERS, TransactionMode.SALES_ORDERS_INVOICES,
                        TransactionMode.SALES_ORDERS_INVOICES_POS)

    @property
    def books_invoice(self) -> bool:
        return self in (TransactionMode.INVOICES, TransactionMode.INVOICES_WITH_PAYMENTS,
                        TransactionMode.SALES_ORDERS_INVOICES,
                        TransactionMode.SALES_ORDERS_INVOICES_POS)

    @property
    def books_payments(self) -> bool:
        return self in (TransactionMode.INVOICES_WITH_PAYMENTS,
                        TransactionMode.SALES_ORDERS_INVOICES,
                        TransactionMode.SALES_ORDERS_INVOICES_POS)

    @property
    def books_purchase_orders(self) -> bool:
        return self is TransactionMode.SALES_ORDERS_INVOICES_POS


@dataclass(frozen=True)
class ModeInfo:
    label: str
    explanation: str


# Booked alike in both QuickBooks, and called alike.
_WITHOUT_SALES_ORDERS = {
    TransactionMode.INVOICES: ModeInfo(
        "Invoices",
        "An open invoice per order, no payments: for stores whose buyers pay on terms."),
    TransactionMode.INVOICES_WITH_PAYMENTS: ModeInfo(
        "Invoices with payments",
        "An invoice per order and a payment applied when it is paid; orders paid later "
        "(by PO) stay open until the payment arrives."),
    TransactionMode.SALES_RECEIPTS: ModeInfo(
        "Sales receipts",
        "A sales receipt per order, like a till receipt: for orders paid in full at checkout."),
}
DROP_SHIPPERS = "A non-posting order that changes no inventory: for drop shippers."
# Sales orders are in Premier, Enterprise and Accountant only (has_sales_orders below).
NOT_IN_PRO = " Needs QuickBooks Premier or Enterprise: Pro has no sales orders."
PRO_HAS_NO_SALES_ORDERS = "QuickBooks Pro has no sales orders: Premier or Enterprise has them."

MODE_INFO: dict[QuickBooksProduct, dict[TransactionMode, ModeInfo]] = {
    QuickBooksProduct.ONLINE: {
        **_WITHOUT_SALES_ORDERS,
        TransactionMode.SALES_ORDERS: ModeInfo(
            "Sales orders (Estimates in QuickBooks Online)", DROP_SHIPPERS),
        TransactionMode.SALES_ORDERS_INVOICES: ModeInfo(
            "Sales orders (Estimates) and invoices",
            "An estimate and an invoice with the same number, the invoice closing the "
            "estimate; plus a payment when paid."),
        TransactionMode.SALES_ORDERS_INVOICES_POS: ModeInfo(
            "Sales orders (Estimates), invoices and purchase orders",
            "As estimates and invoices, plus a purchase order per vendor from each item's "
            "default vendor and purchase cost."),
    },
    QuickBooksProduct.DESKTOP: {
        **_WITHOUT_SALES_ORDERS,
        TransactionMode.SALES_ORDERS: ModeInfo("Sales orders", DROP_SHIPPERS + NOT_IN_PRO),
        TransactionMode.SALES_ORDERS_INVOICES: ModeInfo(
            "Sales orders and invoices",
            "A sales order and an invoice with the same number, the invoice closing the sales "
            "order; plus a payment when paid." + NOT_IN_PRO),
        TransactionMode.SALES_ORDERS_INVOICES_POS: ModeInfo(
            "Sales orders, invoices and purchase orders",
            "As sales orders and invoices, plus a purchase order per vendor from each item's "
            "preferred vendor and cost." + NOT_IN_PRO),
    },
}


def has_sales_orders(product_name: str) -> bool:
    """Sales orders are in Premier, Enterprise and Accountant, not in Pro (HostQuery's
    ProductName, e.g. "QuickBooks Pro 2024", "QuickBooks Premier Edition 2024"; "" when not
    known: offered)."""
    words = product_name.split()
    return "Pro" not in words or any(edition in words
                                     for edition in ("Premier", "Enterprise", "Accountant"))


def sales_orders_unavailable(product_name: str) -> str:
    """Why the sales-order modes are not for a QuickBooks Desktop of this product; "" when
    they are."""
    return "" if has_sales_orders(product_name) else PRO_HAS_NO_SALES_ORDERS
