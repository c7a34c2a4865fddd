"""Amounts from store payloads: parsed fields that name themselves, unit prices, cent rounding."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import Order, OrderLine, Payment, PaymentStatus, Refund
from connex_desktop.core.money import (
    CENT,
    TOO_LARGE_FOR_QUICKBOOKS,
    ZERO,
    MoneyError,
    fits_quickbooks,
    money,
    quantity,
)

ROUNDING_SKU = "ROUNDING"
ROUNDING_NAME = "Rounding difference with the store's total"
# Unit prices are tried at these precisions before falling back to the exact quotient.
UNIT_PRICE_PLACES = (Decimal("0.01"), Decimal("0.0001"), Decimal("0.000001"))


def amount_of(data: Mapping[str, Any], key: str, order: str, *, where: str = "") -> Decimal:
    """`data[key]` as money (missing or blank: zero), or an error naming the order and field."""
    return _parsed(money, "an amount", data, key, order, where)


def quantity_of(data: Mapping[str, Any], key: str, order: str, *, where: str = "") -> Decimal:
    """`data[key]` as a quantity, or an error naming the order and field."""
    return _parsed(quantity, "a quantity", data, key, order, where)


def price_of(data: Mapping[str, Any], key: str, order: str, *, where: str = "") -> Decimal:
    """`data[key]` as a unit price, at the precision the store gives (not rounded to the
    cent: a line's total is), or an error naming the order and field."""
    return _parsed(quantity, "a price", data, key, order, where)


def payment_status_of(total: Decimal, payments: Sequence[Payment], refunds: Sequence[Refund],
                      *, voided: bool = False) -> PaymentStatus:
    """What the payments and refunds taken on a sale of `total` make of it (a POS sale that
    names no payment status of its own)."""
    paid = sum((payment.amount for payment in payments), ZERO)
    refunded = sum((refund.amount for refund in refunds), ZERO)
    if voided:
        return PaymentStatus.VOIDED
    if refunds and refunded >= total > ZERO:
        return PaymentStatus.REFUNDED
    if paid >= total and (paid > ZERO or total == ZERO):
        return PaymentStatus.PAID
    return PaymentStatus.PARTIALLY_PAID if paid > ZERO else PaymentStatus.UNPAID


def charges_tax(data: Mapping[str, Any], order: str, *, where: str = "") -> bool:
    """Whether a line's `total_tax` (BigCommerce, WooCommerce) is other than zero."""
    return amount_of(data, "total_tax", order, where=where) != 0


def _parsed(parse: Callable[[object], Decimal], what: str, data: Mapping[str, Any], key: str,
            order: str, where: str) -> Decimal:
    try:
        value = parse(data.get(key))
    except MoneyError as exc:
        raise OrderDataError(f"{where}{key} is {data.get(key)!r}, not {what}.", order=order,
                             field=key) from exc
    if not fits_quickbooks(value):
        raise OrderDataError(f"{where}{key} is {data.get(key)!r}, {TOO_LARGE_FOR_QUICKBOOKS}.",
                             order=order, field=key)
    return value


def within_quickbooks_rules(order: Order) -> Order:
    """`order`, or an error naming the first of its numbers that QuickBooks cannot hold.

    Each number read may fit while a product or a sum of them does not (a quantity times a
    price, the total): those are checked here, before anything is planned or sent.
    """
    for index, line in enumerate(order.lines, start=1):
        where = f"line {index} ({line.sku or line.name})"
        for name, value in (("quantity", line.quantity), ("unit price", line.unit_price),
                            ("quantity × unit price", line.quantity * line.unit_price),
                            ("discount", line.discount)):
            _refuse_beyond_quickbooks(order, f"{where} {name}", value)
    sums = [("subtotal", order.subtotal), ("shipping", order.shipping),
            ("discount", order.discount), ("tax", order.tax), ("total", order.total)]
    sums += [("payment", payment.amount) for payment in order.payments]
    sums += [("refund", refund.amount) for refund in order.refunds]
    for name, value in sums:
        _refuse_beyond_quickbooks(order, name, value)
    return order


def _refuse_beyond_quickbooks(order: Order, what: str, value: Decimal) -> None:
    if not fits_quickbooks(value):
        raise OrderDataError(f"the {what} is {value}, {TOO_LARGE_FOR_QUICKBOOKS}.",
                             order=order.number, field=what)


def unit_price(line_total: Decimal, quantity: Decimal) -> Decimal:
    """The shortest unit price whose product with `quantity` rounds back to `line_total`."""
    if quantity == 0:
        return line_total
    exact = line_total / quantity
    for places in UNIT_PRICE_PLACES:
        candidate = exact.quantize(places)
        if money(candidate * quantity) == line_total:
            return candidate
    return exact


def balance_with_store_total(order: Order) -> Order:
    """`order`, with a rounding line when its parts miss the store's total by rounding alone.

    Stores round tax and line totals their own way (per line or on the subtotal), so the
    rounded parts can miss the grand total by a cent or a few. That difference is booked as an
    explicit non-taxable line, so the tax stays what the store reported and the document still
    totals what the buyer was charged. A larger gap is a data error, never silently absorbed.
    """
    difference = within_quickbooks_rules(order).total - order.computed_total
    if difference == 0:
        return order
    # One cent per rounded part: each line, the shipping and the tax.
    allowed = CENT * (len(order.lines) + 2)
    if abs(difference) > allowed:
        raise OrderDataError(
            f"the lines, shipping, discounts and tax add up to {order.computed_total} but the "
            f"store's total is {order.total}.", order=order.number, field="total")
    rounding = OrderLine(sku=ROUNDING_SKU, name=ROUNDING_NAME, quantity=Decimal(1),
                         unit_price=difference, taxable=False)
    return dataclasses.replace(order, lines=(*order.lines, rounding))
