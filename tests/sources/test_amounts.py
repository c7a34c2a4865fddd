"""Amounts from store payloads: unit prices that multiply back, and the rounding line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import Buyer, Order, OrderLine, PaymentStatus
from connex_desktop.core.money import money
from connex_desktop.sources.amounts import (
    ROUNDING_SKU,
    amount_of,
    balance_with_store_total,
    quantity_of,
    unit_price,
)

D = Decimal


@pytest.mark.parametrize(("total", "count", "expected"), [
    ("12.00", "1", "12.00"), ("6.00", "2", "3.00"), ("10.00", "3", "3.3333"),
    ("10.00", "7", "1.4286"), ("1000.00", "300", "3.333333")])
def test_unit_price_is_the_shortest_that_multiplies_back(total, count, expected):
    price = unit_price(D(total), D(count))
    assert price == D(expected) and str(price) == expected
    assert money(price * D(count)) == D(total)


def test_unit_price_falls_back_to_the_exact_quotient():
    price = unit_price(D("1000.00"), D(30000))
    assert money(price * 30000) == D("1000.00")


def order(total: str, *amounts: str) -> Order:
    lines = tuple(OrderLine(f"S{i}", f"Line {i}", D(1), D(a)) for i, a in enumerate(amounts))
    return Order("test", "1", "1", date(2026, 1, 1), "paid", PaymentStatus.PAID, "USD", Buyer(),
                 lines, D(total))


def test_a_rounding_gap_becomes_a_non_taxable_line_and_a_real_gap_is_refused():
    assert balance_with_store_total(order("10.00", "10.00")).lines == order("10", "10").lines
    balanced = balance_with_store_total(order("10.00", "3.33", "3.33", "3.33"))
    assert (balanced.lines[-1].sku, balanced.lines[-1].amount, balanced.lines[-1].taxable) == (
        ROUNDING_SKU, D("0.01"), False)
    assert balanced.computed_total == balanced.total
    with pytest.raises(OrderDataError) as caught:
        balance_with_store_total(order("10.10", "3.33", "3.33", "3.33"))
    assert (caught.value.order, caught.value.field) == ("1", "total")


def test_fields_name_themselves_when_unreadable():
    assert amount_of({"total": "4.5000"}, "total", "7") == D("4.50")
    assert amount_of({}, "total", "7") == D("0.00")
    assert quantity_of({"quantity": 3}, "quantity", "7") == D(3)
    with pytest.raises(OrderDataError) as caught:
        amount_of({"total": "n/a"}, "total", "7", where="line 2: ")
    assert (caught.value.field, str(caught.value)) == (
        "total", "Order 7: line 2: total is 'n/a', not an amount.")
    with pytest.raises(OrderDataError):
        quantity_of({"quantity": None}, "quantity", "7")


@pytest.mark.parametrize(("parse", "key", "value"), [
    (amount_of, "total", "1e27"),
    (amount_of, "total", "12345678901.00"),
    (amount_of, "total", "-1E+10"),
    (quantity_of, "quantity", "99999999999999999999999999"),
    (quantity_of, "quantity", "1e10"),
])
def test_numbers_quickbooks_cannot_hold_fail_the_order_naming_the_field(parse, key, value):
    with pytest.raises(OrderDataError) as caught:
        parse({key: value}, key, "7")
    assert (caught.value.order, caught.value.field) == ("7", key)
    assert value in str(caught.value)
    assert parse({key: "9999999999"}, key, "7") == D("9999999999")


@pytest.mark.parametrize(("value", "words"), [("NaN", "not an amount"),
                                              ("Infinity", "not an amount")])
def test_not_a_number_is_refused(value, words):
    with pytest.raises(OrderDataError, match=words):
        amount_of({"total": value}, "total", "7")


def test_a_line_or_total_past_quickbooks_fails_though_each_number_fits():
    big = Order("test", "1", "1", date(2026, 1, 1), "paid", PaymentStatus.PAID, "USD",
                Buyer(), (OrderLine("S", "Sofa", D(100000), D("100000.00")),),
                D("10000000000.00"))
    with pytest.raises(OrderDataError) as caught:
        balance_with_store_total(big)
    assert caught.value.order == "1"
    assert "line 1 (S) quantity × unit price" in str(caught.value)
    fitting = order("9999999999.99", "9999999999.99")
    assert balance_with_store_total(fitting) == fitting
