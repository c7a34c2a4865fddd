"""The canonical order: what every source yields and what the engine books."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connex_desktop.core.money import ZERO, money


class PaymentStatus(enum.StrEnum):
    """Whether the buyer has paid, kept apart from fulfilment."""

    UNPAID = "unpaid"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    REFUNDED = "refunded"
    VOIDED = "voided"
    CANCELLED = "cancelled"


# An order in one of these states is no sale: it is never booked if it was not booked already.
CLOSED_STATUSES = frozenset({"cancelled", "canceled", "voided", "void", "refunded"})
CLOSED_PAYMENT_STATUSES = frozenset({PaymentStatus.CANCELLED, PaymentStatus.VOIDED,
                                     PaymentStatus.REFUNDED})


@dataclass(frozen=True)
class Address:
    """A postal address as the store gave it."""

    line1: str = ""
    line2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""

    def is_empty(self) -> bool:
        return not any((self.line1, self.line2, self.city, self.region, self.postal_code,
                        self.country))


@dataclass(frozen=True)
class Buyer:
    """Who placed the order."""

    name: str = ""
    email: str = ""
    company: str = ""
    phone: str = ""


@dataclass(frozen=True)
class OrderLine:
    """One product line. `discount` is the amount taken off this line."""

    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = ZERO
    taxable: bool = True
    # VAT/GST: the rate the store charged (a percent, 20 for 20 %) and, when it names one, its
    # tax (a QuickBooks tax code's name, or the store's own name the connection maps to one).
    tax_rate: Decimal | None = None
    tax_code: str = ""

    @property
    def gross(self) -> Decimal:
        """Quantity times unit price, before the line discount."""
        return money(self.quantity * self.unit_price)

    @property
    def amount(self) -> Decimal:
        """What the line contributes to the order: gross less its discount."""
        return self.gross - self.discount


@dataclass(frozen=True)
class Payment:
    """Money received against the order (a sale or capture; never a refund)."""

    amount: Decimal
    method: str = ""
    reference: str = ""
    paid_on: date | None = None


@dataclass(frozen=True)
class Refund:
    """Money returned to the buyer after the sale; kept apart from `payments`."""

    amount: Decimal
    reference: str = ""
    refunded_on: date | None = None


@dataclass(frozen=True)
class Order:
    """One order from a source, in the source's currency, with money as Decimal.

    `total` is what the source says the buyer owes; `computed_total` is what the parts add up
    to. The engine refuses an order whose parts do not add up to its total.
    """

    source: str
    source_id: str
    number: str
    order_date: date
    status: str
    payment_status: PaymentStatus
    currency: str
    buyer: Buyer
    lines: tuple[OrderLine, ...]
    total: Decimal
    billing_address: Address = field(default_factory=Address)
    shipping_address: Address = field(default_factory=Address)
    shipping: Decimal = ZERO
    discount: Decimal = ZERO
    tax: Decimal = ZERO
    payments: tuple[Payment, ...] = ()
    refunds: tuple[Refund, ...] = ()
    notes: str = ""
    updated_at: datetime | None = None
    # Home-currency units per unit of `currency`, when the store states it (None: QuickBooks
    # takes its own rate for the day).
    exchange_rate: Decimal | None = None
    # Tax-inclusive prices: lines and shipping include `tax`, which is not added on top.
    prices_include_tax: bool = False
    shipping_tax_rate: Decimal | None = None   # a percent; None: as the store's tax implies
    # What rules may decide by, when the store has it: its tags, the sales channel or source
    # the order came through, the buyer's customer group, the payment gateways' names.
    tags: tuple[str, ...] = ()
    channel: str = ""
    customer_group: str = ""
    payment_gateways: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def subtotal(self) -> Decimal:
        """Sum of the line amounts (after line discounts)."""
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def computed_total(self) -> Decimal:
        """Subtotal less the order discount, plus shipping and tax (unless prices include it)."""
        added_tax = ZERO if self.prices_include_tax else self.tax
        return self.subtotal - self.discount + self.shipping + added_tax

    @property
    def amount_paid(self) -> Decimal:
        return sum((payment.amount for payment in self.payments), ZERO)

    @property
    def balance(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def customer(self) -> str:
        """Who bought, as people name them: the buyer's name, else their company or email."""
        buyer = self.buyer
        return buyer.name or buyer.company or buyer.email
