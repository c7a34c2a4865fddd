"""What the planner checks of an order first: amounts to the cent, a total its parts add up to."""

from __future__ import annotations

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import (
    CLOSED_PAYMENT_STATUSES,
    CLOSED_STATUSES,
    Order,
    PaymentStatus,
)
from connex_desktop.core.money import ZERO, MoneyError, money, money_text


def is_closed(order: Order) -> bool:
    return (order.status.strip().lower() in CLOSED_STATUSES
            or order.payment_status in CLOSED_PAYMENT_STATUSES)


def is_paid_in_full(order: Order) -> bool:
    return order.payment_status is PaymentStatus.PAID or (
        order.total > ZERO and order.amount_paid >= order.total)


def check_order_adds_up(order: Order) -> None:
    if order.computed_total != order.total:
        raise OrderDataError(
            f"its lines, discounts, shipping and tax add up to "
            f"{money_text(order.computed_total)} but its total is {money_text(order.total)}; "
            "nothing was booked.", order=order.number, field="Total")
    if order.total < ZERO:
        raise OrderDataError(f"its total {money_text(order.total)} is negative.",
                             order=order.number, field="Total")
    if not order.lines:
        raise OrderDataError("it has no product lines.", order=order.number, field="SKU")


def check_amounts(order: Order) -> None:
    """Each amount, and each line's quantity × unit price, must be computable to the cent
    (a Decimal holds 28 digits): an absurd one fails the order here, naming its field."""
    amounts = [("Total", order.total), ("Shipping Amount", order.shipping),
               ("Order Discount", order.discount), ("Tax Amount", order.tax),
               *(("Amount Paid", payment.amount) for payment in order.payments),
               *(("Refund Amount", refund.amount) for refund in order.refunds),
               *(("Line Discount", line.discount) for line in order.lines)]
    for index, line in enumerate(order.lines, start=1):
        try:
            money(line.quantity * line.unit_price)
        except (MoneyError, ArithmeticError):
            raise OrderDataError(
                f"line {index} ({line.sku or line.name}): its Quantity {line.quantity} × "
                f"Unit Price {line.unit_price} is too large to compute to the cent; nothing "
                "was booked.", order=order.number, field="Quantity") from None
    for field_name, amount in amounts:
        try:
            money(amount)
        except MoneyError:
            raise OrderDataError(
                f"its {field_name} {amount} is too large to compute to the cent; nothing "
                "was booked.", order=order.number, field=field_name) from None
