"""Money as Decimal, rounded to the cent the way bookkeepers round (half up)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# QuickBooks keeps amounts "in 10.5 format" (at most 10 digits before the point), and its
# quantities and prices no wider: a number from here up is refused or booked wrong.
QUICKBOOKS_NUMBER_LIMIT = Decimal(10) ** 10
TOO_LARGE_FOR_QUICKBOOKS = ("more than QuickBooks can hold (at most 10 digits before the "
                            "decimal point)")


class MoneyError(ValueError):
    """A value that cannot be read as an amount of money."""


def money(value: object) -> Decimal:
    """Parse `value` (str, int or Decimal; never float) as an amount rounded to the cent."""
    if isinstance(value, float):
        # Floats cannot represent cents exactly; callers must parse the source text instead.
        raise MoneyError(f"amount {value!r} is a float; pass the text or a Decimal")
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace(",", "") if value is not None else ""
        if text == "":
            return ZERO
        try:
            amount = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"{value!r} is not an amount") from exc
    if not amount.is_finite():
        raise MoneyError(f"{value!r} is not an amount")
    try:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:   # more digits than Decimal's precision holds to the cent
        raise MoneyError(f"{value!r} is too large to be an amount to the cent") from exc


def money_text(amount: Decimal) -> str:
    """An amount as QuickBooks takes it and people read it: two decimals, no grouping."""
    return f"{amount:.2f}"


def quantity(value: object) -> Decimal:
    """Parse a quantity (may be fractional, never a float)."""
    if isinstance(value, float):
        raise MoneyError(f"quantity {value!r} is a float; pass the text or a Decimal")
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"{value!r} is not a quantity") from exc
    if not number.is_finite():
        raise MoneyError(f"{value!r} is not a quantity")
    return number


def fits_quickbooks(value: Decimal) -> bool:
    """Whether QuickBooks can hold `value` as an amount, a quantity or a price."""
    return abs(value) < QUICKBOOKS_NUMBER_LIMIT


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """`total` spread over `weights` in proportion, to the cent; the last share takes the rest."""
    whole = sum(weights, ZERO)
    if not weights:
        return []
    if whole == 0:
        return [ZERO] * (len(weights) - 1) + [total]
    shares = [money(total * weight / whole) for weight in weights[:-1]]
    return [*shares, total - sum(shares, ZERO)]


def percent(value: object) -> Decimal:
    """A percentage as people write it: 20, "20", "20%", "8.25 %"."""
    text = str(value).strip().removesuffix("%").strip()
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise MoneyError(f"{value!r} is not a percentage") from exc
    if not number.is_finite() or not 0 <= number < 100:
        raise MoneyError(f"{value!r} is not a percentage between 0 and 100")
    return number
