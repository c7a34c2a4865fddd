"""Tests of the demo store: deterministic, varied, exact totals, time-driven changes, filters."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connex_desktop.core.errors import Cancelled, SetupError
from connex_desktop.core.model import Order, PaymentStatus
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.sandbox.seed import CATALOG, PAYMENT_METHODS, VENDORS
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sources.demo_store import (
    CA_SALES_TAX_RATE,
    PURCHASE_ORDER_METHOD,
    DemoSource,
    demo_orders,
)

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
CATALOG_SKUS = {item.sku for item in CATALOG}


def fetch(query: OrderQuery | None = None, now: datetime = NOW, **settings: str) -> list[Order]:
    source = DemoSource(settings, {}, clock=lambda: now)
    results = list(source.fetch_orders(query or OrderQuery(), CancelToken()))
    assert all(isinstance(result, Order) for result in results)
    return [result for result in results if isinstance(result, Order)]


@pytest.fixture(scope="module")
def orders() -> list[Order]:
    return demo_orders(NOW)


def test_declares_its_settings() -> None:
    assert (DemoSource.kind, DemoSource.label) == ("demo", "Demo store")
    assert {f.name: f.default for f in DemoSource.settings_fields} == {"orders": "300",
                                                                         "seed": "1"}
    assert not any(f.secret or f.required for f in DemoSource.settings_fields)
    assert DemoSource({}, {}).check() == "Demo store ready: 300 orders over the last 60 days."


def test_three_hundred_orders_over_the_sixty_days_before_today(orders: list[Order]) -> None:
    assert len(orders) == 300
    assert min(o.order_date for o in orders) == date(2026, 9, 21)
    assert max(o.order_date for o in orders) == date(2026, 11, 19)
    assert len({o.number for o in orders}) == 300
    assert len({o.source_id for o in orders}) == 300
    assert all(o.updated_at is not None and o.updated_at <= NOW for o in orders)


@pytest.mark.parametrize("count", ["1", "59", "61", "1000"])
def test_order_count_setting(count: str) -> None:
    assert len(fetch(orders=count)) == int(count)


@pytest.mark.parametrize("count", ["0", "-3", "many", "20001"])
def test_bad_order_count_is_a_setup_error(count: str) -> None:
    with pytest.raises(SetupError, match="whole number") as caught:
        DemoSource({"orders": count}, {}).check()
    assert caught.value.field == "orders"


def test_same_seed_same_orders_other_seed_other_orders(orders: list[Order]) -> None:
    assert fetch() == orders
    assert [o.raw for o in fetch()] == [o.raw for o in orders]
    other = fetch(seed="2")
    assert [o.source_id for o in other] == [o.source_id for o in orders]
    assert [o.lines for o in other] != [o.lines for o in orders]


def test_a_day_later_the_shared_days_hold_the_same_orders(orders: list[Order]) -> None:
    tomorrow = {o.number: o for o in demo_orders(NOW + timedelta(days=1))}
    assert len(tomorrow) == 300
    shared = [o for o in orders if o.number in tomorrow]
    assert len(shared) == 295  # one day of five orders left the window, one came in
    for order in shared:
        again = tomorrow[order.number]
        assert (again.source_id, again.order_date, again.buyer, again.lines, again.total) == (
            order.source_id, order.order_date, order.buyer, order.lines, order.total)
        # An order that did not change between the two moments is the same order.
        assert again.updated_at is not None
        if again.updated_at <= NOW:
            assert again == order
    assert sum(tomorrow[o.number] == o for o in shared) > 250


def test_every_total_adds_up_to_the_cent(orders: list[Order]) -> None:
    for order in orders:
        assert order.total == order.computed_total, order.number
        assert order.total == money(order.total) and order.total > ZERO
        assert order.amount_paid <= order.total
        assert all(line.quantity > 0 and line.discount <= line.gross for line in order.lines)


def test_sales_tax_is_californian_and_rounded_per_order(orders: list[Order]) -> None:
    for order in orders:
        if order.shipping_address.region == "CA" and order.shipping_address.country == "USA":
            taxable = sum((line.amount for line in order.lines if line.taxable), ZERO)
            assert order.tax == money(max(taxable - order.discount, ZERO) * CA_SALES_TAX_RATE)
        else:
            assert order.tax == ZERO
    assert any(order.tax > 0 for order in orders)


def test_variety_of_statuses_and_payment_states(orders: list[Order]) -> None:
    statuses = Counter(o.status for o in orders)
    assert set(statuses) == set(DemoSource.statuses)
    payment_states = Counter(o.payment_status for o in orders)
    assert set(payment_states) == {PaymentStatus.PAID, PaymentStatus.UNPAID,
                                   PaymentStatus.PARTIALLY_PAID, PaymentStatus.REFUNDED,
                                   PaymentStatus.CANCELLED}
    assert payment_states[PaymentStatus.PAID] > len(orders) / 2


def test_payments_match_their_states(orders: list[Order]) -> None:
    methods = {method.name for method in PAYMENT_METHODS}
    for order in orders:
        paid = order.amount_paid
        if order.payment_status in (PaymentStatus.PAID, PaymentStatus.REFUNDED):
            assert paid == order.total
        elif order.payment_status is PaymentStatus.PARTIALLY_PAID:
            assert ZERO < paid < order.total
        else:
            assert order.payments == ()
        if order.payment_status is PaymentStatus.REFUNDED:
            assert [r.amount for r in order.refunds] == [order.total]
        else:
            assert order.refunds == ()
        for payment in order.payments:
            assert payment.method in methods
            assert payment.reference and payment.paid_on is not None
            assert order.order_date <= payment.paid_on <= NOW.date()
    references = [p.reference for o in orders for p in o.payments]
    assert any(r.startswith("ch_3") and len(r) == 27 for r in references)  # card via Stripe
    assert len(set(references)) > len(references) * 0.9


def test_orders_paid_by_purchase_order(orders: list[Order]) -> None:
    on_po = [o for o in orders if o.raw.get("payment_method") == PURCHASE_ORDER_METHOD]
    open_po = [o for o in on_po if o.payment_status is PaymentStatus.UNPAID]
    assert open_po and all(o.status == "on-hold" and o.payments == () for o in open_po)
    assert all(o.notes.startswith("Paid by purchase order PO-") for o in on_po)
    settled = [o for o in on_po if o.payment_status is PaymentStatus.PAID]
    assert settled
    assert all(o.payments[0].reference == o.raw["purchase_order"] for o in settled)


def test_lines_discounts_shipping(orders: list[Order]) -> None:
    assert Counter(len(o.lines) for o in orders).keys() >= {1, 2, 3, 4, 5}
    assert sum(len(o.lines) > 1 for o in orders) > len(orders) / 2
    assert any(line.discount > 0 for o in orders for line in o.lines)
    assert any(o.discount > 0 for o in orders)
    assert any(o.shipping > 0 for o in orders) and any(o.shipping == 0 for o in orders)
    assert any(line.quantity != line.quantity.to_integral_value()
               for o in orders for line in o.lines)


def test_skus_mostly_known_a_few_unknown_from_several_vendors(orders: list[Order]) -> None:
    skus = [line.sku for o in orders for line in o.lines]
    unknown = [sku for sku in skus if sku not in CATALOG_SKUS]
    assert 0 < len(unknown) < len(skus) * 0.1
    vendor_of = {item.sku: item.vendor for item in CATALOG}
    vendors = {vendor_of[sku] for sku in skus if vendor_of.get(sku)}
    assert len(vendors) == len(VENDORS)
    assert any(len({vendor_of.get(line.sku) for line in o.lines} - {None}) > 1 for o in orders)


def test_customers_have_accented_and_non_latin_names(orders: list[Order]) -> None:
    names = {o.buyer.name for o in orders}
    assert {"José Álvarez", "Zoë Brontë", "山田太郎", "Дмитрий Иванов"} <= names
    assert any(name.startswith("Ελένη") for name in names)
    assert any(o.buyer.company for o in orders)
    assert any(o.buyer.company in {v.name for v in VENDORS} for o in orders)
    assert all(o.buyer.email and not o.billing_address.is_empty() for o in orders)
    assert len({o.buyer.email for o in orders}) < len(orders)  # buyers come back


def test_a_few_order_numbers_are_too_long_for_quickbooks(orders: list[Order]) -> None:
    long_numbers = [o.number for o in orders if len(o.number) > 21]
    assert 1 <= len(long_numbers) <= 10
    assert all(n.startswith("AMZ-") for n in long_numbers)


def test_a_later_payment_shows_when_the_clock_reaches_it(orders: list[Order]) -> None:
    later = NOW + timedelta(days=12)
    then = {o.number: o for o in demo_orders(later)}
    paid_later = [o for o in orders
                  if o.payment_status is PaymentStatus.UNPAID and o.number in then
                  and then[o.number].payment_status is PaymentStatus.PAID]
    assert paid_later
    for before in paid_later:
        after = then[before.number]
        assert before.updated_at is not None and after.updated_at is not None
        assert before.updated_at < NOW < after.updated_at <= later
        assert after.payments[-1].paid_on == after.updated_at.date()
        assert (after.lines, after.total, after.buyer) == (before.lines, before.total,
                                                          before.buyer)
        # Exactly at the moment of payment it is paid; a second before, not yet.
        this_one = OrderQuery(numbers=(after.number,))
        (at_payment,) = fetch(this_one, now=after.updated_at)
        (just_before,) = fetch(this_one, now=after.updated_at - timedelta(seconds=1))
        assert at_payment.payment_status is PaymentStatus.PAID
        assert just_before.payment_status is PaymentStatus.UNPAID
    # A sync that asks for what changed since NOW sees those payments.
    changed = {o.number for o in fetch(OrderQuery(modified_since=NOW), now=later)}
    assert {o.number for o in paid_later} <= changed


def test_filters(orders: list[Order]) -> None:
    wanted = (orders[3].number, orders[200].number, "no-such-order")
    assert [o.number for o in fetch(OrderQuery(numbers=wanted))] == list(wanted[:2])
    window = fetch(OrderQuery(created_from=date(2026, 11, 1), created_to=date(2026, 11, 7)))
    assert len(window) == sum(date(2026, 11, 1) <= o.order_date <= date(2026, 11, 7)
                              for o in orders) > 0
    on_hold = fetch(OrderQuery(statuses=("ON-HOLD", "Refunded")))
    assert on_hold and {o.status for o in on_hold} == {"on-hold", "refunded"}
    since = NOW - timedelta(days=5)
    recent = fetch(OrderQuery(modified_since=since.replace(tzinfo=None)))
    assert recent == [o for o in orders if o.updated_at and o.updated_at >= since]
    assert 0 < len(recent) < len(orders)
    # The numbers win over the dates.
    assert len(fetch(OrderQuery(numbers=(orders[0].number,), created_from=date(2026, 11, 1)))) == 1


def test_cancel_between_pages_of_fifty() -> None:
    cancel = CancelToken()
    stream = DemoSource({}, {}, clock=lambda: NOW).fetch_orders(OrderQuery(), cancel)
    first_page = [next(stream) for _ in range(50)]
    assert len(first_page) == 50
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(stream)


@settings(max_examples=25, deadline=None)
@given(day_offset=st.integers(min_value=0, max_value=3650),
       count=st.integers(min_value=1, max_value=400))
def test_any_day_any_count_exact_count_and_totals(day_offset: int, count: int) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=day_offset, hours=day_offset % 24)
    orders = demo_orders(now, count)
    assert len(orders) == count
    assert len({o.number for o in orders}) == count
    assert all(o.total == o.computed_total and o.updated_at <= now for o in orders)
    assert all(line.unit_price > Decimal(0) for o in orders for line in o.lines)


# ---- the store as it sells into other kinds of company --------------------------------------

# Per company kind: the home currency and the line tax rates (percent) the store charges.
MARKET_FACTS = {"uk": ("GBP", {Decimal("20"), Decimal("5"), Decimal("0")}),
                "ca": ("CAD", {Decimal("13"), Decimal("12"), Decimal("5"), Decimal("0")}),
                "au": ("AUD", {Decimal("10"), Decimal("0")})}


@pytest.mark.parametrize("company", sorted(MARKET_FACTS))
def test_orders_fit_the_company_kind(company: str) -> None:
    home, rates = MARKET_FACTS[company]
    orders = fetch(company=company)
    assert {order.currency for order in orders} == {home}
    assert all(order.exchange_rate is None for order in orders)
    assert {line.tax_rate for order in orders for line in order.lines} == rates
    assert all(order.total == order.computed_total for order in orders)
    inclusive = [order for order in orders if order.prices_include_tax]
    assert bool(inclusive) == (company != "ca")
    # A discounted sale is never tax inclusive: the engine cannot state its tax to the cent.
    assert not any(order.discount or any(line.discount for line in order.lines)
                   for order in inclusive)
    assert sum(order.number.startswith("AMZ-") for order in orders) == 3
    assert {order.raw["outcome"] for order in orders} >= {"refunded", "partial", "po"}


def test_with_multicurrency_buyers_abroad_pay_in_their_own_currency() -> None:
    orders = fetch(company="uk+multicurrency")
    foreign = [order for order in orders if order.currency != "GBP"]
    assert {order.currency for order in foreign} == {"EUR", "USD"}
    assert 0 < len(foreign) < len(orders) / 2
    assert all(order.exchange_rate and order.exchange_rate > 0 for order in foreign)
    # Goods sent abroad are zero-rated exports.
    assert all(order.tax == ZERO and line.tax_code == "0.0% Z"
               for order in foreign for line in order.lines)


def test_an_unknown_demo_company_is_a_setup_error() -> None:
    with pytest.raises(SetupError, match="us, us-ast, uk, ca, au"):
        fetch(company="fr")
