"""The Shopify connector against a local GraphQL Admin API: mapping, paging, cost, errors."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connex_desktop.core.errors import Cancelled, ErrorKind, ReconnectError, SetupError
from connex_desktop.core.model import Order, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.shopify import (
    ESTIMATED_ORDER_COST,
    PACING_MARGIN_S,
    ShopifySource,
    search_string,
)
from tests.fakes.memory_keyring import MemoryKeyring
from tests.fakes.shopify import (
    Clock,
    FakeShopify,
    line_item,
    order,
    shipping_line,
    tax_line,
    transaction,
)
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

TOKEN = "shpat_0123456789abcdef_secret"
ZONE = "America/Chicago"   # UTC-5 in May: an order at 03:21Z is booked on the day before
FILLERS = 10
ORDERS_PER_PAGE = (900 - 2) // ESTIMATED_ORDER_COST


def D(text: str) -> Decimal:
    return Decimal(text)


def vat(amount: str) -> dict[str, Any]:
    return tax_line(amount, rate="0.2", title="VAT")


def fixture_orders() -> list[dict[str, Any]]:
    """Each case a store owner meets, with totals computed Shopify's way."""
    orders = [
        # Tax on top; a line discount; free-ish shipping after a shipping discount.
        order(1001, created="2024-05-03T03:21:07Z", lines=[
            line_item("TEE-BLK-M", "Tee - Black / M", 2, "25.0", discounts=("5.0",),
                      taxes=(tax_line("2.81"),)),
            line_item("MUG-01", "Mug", 1, "12.5", taxes=(tax_line("0.78"),)),
        ], shipping=[shipping_line("10.0", "7.5")], updated="2024-05-04T09:02:11Z",
              tags=("wholesale", "VIP"), source_name="pos"),
        # Prices include 20% VAT, on the lines and on shipping.
        order(1002, created="2024-05-05T12:00:00Z", taxes_included=True, currency="GBP", lines=[
            line_item("SCARF", "Scarf", 2, "24.0", discounts=("4.8",), taxes=(vat("7.2"),)),
        ], shipping=[shipping_line("6.0", taxes=(vat("1.0"),))]),
        # A gift card pays part, a card (authorised, then captured) the rest.
        order(1003, created="2024-05-06T15:00:00Z", lines=[
            line_item("HAT", "Hat", 1, "30.0", taxes=(tax_line("1.88"),)),
        ], shipping=[shipping_line("5.0")], transactions=[
            transaction("20.0", gateway="gift_card", at="2024-05-06T15:00:01Z"),
            transaction("16.88", kind="AUTHORIZATION", at="2024-05-06T15:00:02Z"),
            transaction("16.88", kind="CAPTURE", at="2024-05-08T10:00:00Z"),
        ]),
        # Part paid by hand; a failed card attempt is no payment.
        order(1004, created="2024-05-07T15:00:00Z", financial="PARTIALLY_PAID",
              fulfillment="UNFULFILLED", lines=[line_item("BOOK", "Book", 4, "12.5")],
              transactions=[transaction("20.0", gateway="manual", at="2024-05-07T15:00:00Z"),
                            transaction("30.0", status="FAILURE", at="2024-05-07T15:01:00Z")]),
        # Paid, then all refunded.
        order(1005, created="2024-05-08T15:00:00Z", financial="REFUNDED",
              lines=[line_item("LAMP", "Lamp", 1, "40.0")],
              transactions=[transaction("40.0", at="2024-05-08T15:00:00Z"),
                            transaction("40.0", kind="REFUND", at="2024-05-10T15:00:00Z")],
              refunds=[{"id": "gid://shopify/Refund/901", "createdAt": "2024-05-10T15:00:00Z",
                        "totalRefundedSet": {"shopMoney": {"amount": "40.0",
                                                           "currencyCode": "USD"}}}]),
        # Cancelled before it was paid.
        order(1006, created="2024-05-09T15:00:00Z", financial="VOIDED",
              fulfillment="UNFULFILLED", cancelled="2024-05-09T18:00:00Z",
              lines=[line_item("SOCKS", "Socks", 3, "4.0")]),
        # Awaiting payment, with an order-level discount Shopify did not allocate to lines.
        order(1007, created="2024-05-10T15:00:00Z", financial="PENDING",
              fulfillment="UNFULFILLED", order_discount="3.0",
              lines=[line_item("PEN", "Pen", 1, "20.0")]),
        # Paid, then part refunded: the sale stands.
        order(1008, created="2024-05-11T15:00:00Z", financial="PARTIALLY_REFUNDED",
              lines=[line_item("CUP", "Cup", 2, "9.0")],
              refunds=[{"id": "gid://shopify/Refund/902", "createdAt": "2024-05-12T15:00:00Z",
                        "totalRefundedSet": {"shopMoney": {"amount": "9.0",
                                                           "currencyCode": "USD"}}}]),
        # VAT-inclusive; the store rounded tax once for the order (5.00), not per line (5.01).
        order(1009, created="2024-05-12T15:00:00Z", taxes_included=True, total_tax="5.0",
              lines=[line_item(f"CARD-{i}", "Card", 1, "10.0", taxes=(vat("1.67"),))
                     for i in range(3)]),
        # Parts that do not make the total: never booked as if they did.
        order(1010, created="2024-05-13T15:00:00Z", total="100.0",
              lines=[line_item("ODD", "Odd", 1, "10.0")]),
        # More lines than one page of line items.
        order(1011, created="2024-05-14T15:00:00Z",
              lines=[line_item(f"BEAD-{i:02d}", f"Bead {i}", 1, "1.5") for i in range(25)]),
    ]
    orders += [order(2000 + i, created=f"2024-06-{i + 1:02d}T15:00:00Z",
                     lines=[line_item("FILL", "Filler", 1, "10.0")]) for i in range(FILLERS)]
    return orders


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock):
    with FakeShopify(fixture_orders(), token=TOKEN, clock=clock) as fake:
        yield fake


def connect(store: FakeShopify, clock: Clock, *, token: str = TOKEN) -> ShopifySource:
    return ShopifySource({"store_url": store.url, "timezone": ZONE},
                         {"access_token": token}, sleep=clock.sleep, clock=clock)


def fetch(source: ShopifySource, query: OrderQuery | None = None,
          cancel: CancelToken | None = None) -> dict[str, Order | FailedOrder]:
    results = list(source.fetch_orders(query or OrderQuery(), cancel or CancelToken()))
    by_number = {result.number: result for result in results}
    assert len(by_number) == len(results), "an order was yielded twice"
    return by_number


@pytest.fixture(scope="module")
def orders() -> dict[str, Order | FailedOrder]:
    """Every fixture order, fetched once for the mapping tests."""
    clock = Clock()
    with FakeShopify(fixture_orders(), token=TOKEN, clock=clock) as fake:
        return fetch(connect(fake, clock))


def booked(orders: dict[str, Order | FailedOrder], number: str) -> Order:
    result = orders[number]
    assert isinstance(result, Order), result
    assert result.computed_total == result.total
    return result


def test_tax_exclusive_order_field_by_field(orders):
    o = booked(orders, "1001")
    assert (o.source, o.source_id, o.number) == ("shopify", "gid://shopify/Order/5618231001",
                                                 "1001")
    assert o.order_date == date(2024, 5, 2)   # 03:21 UTC is the evening before in Chicago
    assert o.updated_at == datetime(2024, 5, 4, 9, 2, 11, tzinfo=UTC)
    assert (o.status, o.payment_status, o.currency) == ("paid", PaymentStatus.PAID, "USD")
    assert (o.buyer.name, o.buyer.email, o.buyer.company) == (
        "Jane Doe", "buyer1001@example.com", "Acme LLC")
    assert (o.billing_address.line1, o.billing_address.city, o.billing_address.region,
            o.billing_address.postal_code, o.billing_address.country) == (
        "1 Main St", "Austin", "TX", "78701", "US")
    assert o.shipping_address == o.billing_address
    tee, mug = o.lines
    assert (tee.sku, tee.name, tee.quantity, tee.unit_price, tee.discount, tee.amount) == (
        "TEE-BLK-M", "Tee - Black / M", 2, D("25.00"), D("5.00"), D("45.00"))
    assert (mug.sku, mug.amount, mug.taxable) == ("MUG-01", D("12.50"), True)
    # The shipping discount is in the shipping price; totalDiscountsSet (7.50) is not
    # subtracted again, and the line discount only once.
    assert (o.shipping, o.discount, o.tax, o.total) == (D("7.50"), D("0.00"), D("3.59"),
                                                      D("68.59"))
    assert [(p.amount, p.method, p.paid_on) for p in o.payments] == [
        (D("68.59"), "shopify_payments", date(2024, 5, 2))]
    assert o.balance == D("0.00")
    # What the connection's rules may decide by.
    assert (o.tags, o.channel, o.payment_gateways) == (
        ("wholesale", "VIP"), "pos", ("shopify_payments",))


def test_tax_inclusive_prices_are_booked_without_tax_and_still_total(orders):
    o = booked(orders, "1002")
    assert o.currency == "GBP"
    (scarf,) = o.lines
    # 2 × 24.00 less 4.80, VAT 7.20 inside: 36.00 net, its discount 4.00 net of VAT.
    assert (scarf.unit_price, scarf.discount, scarf.amount) == (D("20"), D("4.00"), D("36.00"))
    assert (o.shipping, o.tax, o.total) == (D("5.00"), D("8.20"), D("49.20"))
    assert (scarf.tax_rate, o.shipping_tax_rate) == (D("20"), D("20"))


def test_tax_inclusive_order_rounded_by_the_store_keeps_its_tax_and_total(orders):
    o = booked(orders, "1009")
    assert [line.amount for line in o.lines] == [D("8.34"), D("8.33"), D("8.33")]
    assert (o.tax, o.total) == (D("5.00"), D("30.00"))
    assert "+0.01 on line 1" in o.notes


def test_gift_card_and_captured_card_are_payments_not_sales(orders):
    o = booked(orders, "1003")
    assert [line.sku for line in o.lines] == ["HAT"]
    assert [(p.method, p.amount, p.paid_on) for p in o.payments] == [
        ("gift_card", D("20.00"), date(2024, 5, 6)),
        ("shopify_payments", D("16.88"), date(2024, 5, 8))]   # the capture, not the hold
    assert (o.total, o.amount_paid, o.payment_status) == (D("36.88"), D("36.88"),
                                                         PaymentStatus.PAID)


def test_partially_paid_order_keeps_its_balance(orders):
    o = booked(orders, "1004")
    assert (o.payment_status, o.status) == (PaymentStatus.PARTIALLY_PAID, "partially_paid")
    assert [(p.method, p.amount) for p in o.payments] == [("manual", D("20.00"))]
    assert o.balance == D("30.00")


def test_refunds_are_kept_apart_from_payments(orders):
    refunded = booked(orders, "1005")
    assert refunded.payment_status is PaymentStatus.REFUNDED
    assert [p.amount for p in refunded.payments] == [D("40.00")]
    assert [(r.amount, r.reference, r.refunded_on) for r in refunded.refunds] == [
        (D("40.00"), "gid://shopify/Refund/901", date(2024, 5, 10))]
    partly = booked(orders, "1008")
    assert partly.payment_status is PaymentStatus.PAID
    assert [r.amount for r in partly.refunds] == [D("9.00")]
    assert partly.status == "partially_refunded"


def test_cancelled_pending_and_order_level_discount(orders):
    cancelled = booked(orders, "1006")
    assert (cancelled.status, cancelled.payment_status) == ("voided", PaymentStatus.CANCELLED)
    pending = booked(orders, "1007")
    assert (pending.payment_status, pending.payments) == (PaymentStatus.UNPAID, ())
    assert (pending.discount, pending.total) == (D("3.00"), D("17.00"))


def test_an_order_whose_parts_miss_its_total_fails_alone_naming_the_field(orders):
    failed = orders["1010"]
    assert isinstance(failed, FailedOrder)
    assert failed.field == "totalPriceSet"
    assert "10.00" in failed.message and "100.00" in failed.message
    assert isinstance(orders["1011"], Order)


def test_line_items_past_the_first_page_are_fetched_for_that_order(store, clock):
    o = booked(fetch(connect(store, clock)), "1011")
    assert [line.sku for line in o.lines] == [f"BEAD-{i:02d}" for i in range(25)]
    assert o.total == D("37.50")
    line_queries = [r for r in store.received if "order(id:" in r.query]
    assert [r.variables["id"] for r in line_queries] == ["gid://shopify/Order/5618231011"]


def test_pages_follow_the_cursor_to_the_end(store, clock):
    assert len(fetch(connect(store, clock))) == 11 + FILLERS
    pages = [r for r in store.received if "orders(" in r.query]
    assert len(pages) == -(-(11 + FILLERS) // ORDERS_PER_PAGE) >= 3
    assert pages[0].variables["after"] is None
    cursors = [r.variables["after"] for r in pages[1:]]
    assert all(cursors) and len(set(cursors)) == len(cursors)
    assert all(r.variables["first"] == ORDERS_PER_PAGE for r in pages)


def test_a_repeated_cursor_or_an_empty_page_ends_the_walk(clock):
    class Stuck(FakeShopify):
        """Answers every request with the first page and the same cursor."""

        def _resolve_orders(self, *args: Any, **kwargs: Any) -> Any:
            page = super()._resolve_orders(*args, **dict(kwargs, after=None))
            page["pageInfo"] = {"hasNextPage": True, "endCursor": "same"}
            return page

    with Stuck(fixture_orders()[:2], token=TOKEN, clock=clock) as stuck:
        assert len(fetch(connect(stuck, clock))) == 2
        assert len([r for r in stuck.received if "orders(" in r.query]) == 2

    class Empty(FakeShopify):
        def _resolve_orders(self, *args: Any, **kwargs: Any) -> Any:
            return {"pageInfo": {"hasNextPage": True, "endCursor": "more"}, "nodes": []}

    with Empty([], token=TOKEN, clock=clock) as empty:
        assert fetch(connect(empty, clock)) == {}
        assert len(empty.received) == 1


def test_throttled_answer_is_retried_after_the_bucket_refills(store, clock):
    store.available = 216.0   # other apps have drained the shop's bucket
    result = fetch(connect(store, clock), OrderQuery(numbers=("1001",)))
    assert isinstance(result["1001"], Order)
    requested = 2 + ORDERS_PER_PAGE * ESTIMATED_ORDER_COST   # 716 points
    # (716 requested - 216 available) / 100 points a second restored.
    assert clock.sleeps == [pytest.approx((requested - 216) / 100 + PACING_MARGIN_S)]
    assert len(store.received) == 2


def test_queries_wait_for_the_bucket_instead_of_being_throttled(clock):
    with FakeShopify(fixture_orders(), token=TOKEN, clock=clock, bucket_size=1000,
                     refund_unused=False) as strict:
        assert len(fetch(connect(strict, clock))) == 11 + FILLERS
    requested = 2 + ORDERS_PER_PAGE * ESTIMATED_ORDER_COST
    # After the first page 1000 - 716 points are left; each later page waits for the rest.
    assert clock.sleeps[0] == pytest.approx((requested - (1000 - requested)) / 100
                                            + PACING_MARGIN_S)
    assert all(sleep > 0 for sleep in clock.sleeps)


def test_pages_shrink_when_shopify_prices_the_query_higher(clock):
    with FakeShopify(fixture_orders(), token=TOKEN, clock=clock, cost_factor=2) as pricey:
        assert len(fetch(connect(pricey, clock))) == 11 + FILLERS
        firsts = [r.variables["first"] for r in pricey.received if "orders(" in r.query]
    assert firsts[0] == ORDERS_PER_PAGE          # refused: MAX_COST_EXCEEDED
    assert firsts[1] == ORDERS_PER_PAGE // 2     # asked again for fewer
    assert max(firsts[2:]) * 2 * ESTIMATED_ORDER_COST <= 1000


def test_a_bad_token_asks_to_reconnect_without_showing_it(store, clock):
    wrong = "shpat_wrong_token_987"
    with pytest.raises(ReconnectError) as caught:
        fetch(connect(store, clock, token=wrong))
    error = caught.value
    assert error.kind is ErrorKind.RECONNECT
    assert "reconnect the store" in str(error).lower()
    for text in (str(error), error.detail, repr(error)):
        assert wrong not in text and TOKEN not in text
    assert store.received == []


def test_the_search_string_carries_dates_modified_since_and_statuses(store, clock):
    source = connect(store, clock)
    may = fetch(source, OrderQuery(created_from=date(2024, 5, 2), created_to=date(2024, 5, 31)))
    assert store.searches[-1] == ("status:any created_at:>='2024-05-02T00:00:00-05:00' "
                                  "created_at:<'2024-06-01T00:00:00-05:00'")
    assert "1001" in may and not any(number.startswith("20") for number in may)

    fetch(source, OrderQuery(modified_since=datetime(2024, 6, 5, 9, 0, tzinfo=UTC)))
    sent = store.received[-1]
    assert sent.search == "status:any updated_at:>='2024-06-05T09:00:00+00:00'"
    assert sent.variables["sortKey"] == "UPDATED_AT"

    paid = fetch(source, OrderQuery(statuses=("partially_paid", "pending")))
    assert store.searches[-1] == (
        "status:any (financial_status:partially_paid OR financial_status:pending)")
    assert sorted(paid) == ["1004", "1007"]

    picked = fetch(source, OrderQuery(numbers=("1003", "#1005"),
                                      created_from=date(2030, 1, 1)))
    assert store.searches[-1] == "status:any (name:'#1003' OR name:'#1005')"
    assert sorted(picked) == ["1003", "1005"]


def test_a_token_without_the_orders_scope_asks_to_reconnect(clock):
    class NoScope(FakeShopify):
        def _execute(self, text: str, variables: dict[str, Any]) -> dict[str, Any]:
            return {"errors": [{"message": "Access denied for orders field. Required access: "
                                           "`read_orders` access scope.",
                                "extensions": {"code": "ACCESS_DENIED"}}]}

    with NoScope([], token=TOKEN, clock=clock) as store, pytest.raises(ReconnectError) as caught:
        fetch(connect(store, clock))
    assert "read_orders" in str(caught.value) and "read_orders" in caught.value.detail


def test_an_unknown_api_version_is_a_setup_error_naming_the_address(store, clock):
    source = ShopifySource({"store_url": store.url, "api_version": "latest"},
                           {"access_token": TOKEN}, sleep=clock.sleep, clock=clock)
    with pytest.raises(SetupError) as caught:
        source.check()
    assert caught.value.field == "store_url"
    assert "/admin/api/latest/graphql.json" in str(caught.value)


def test_search_dates_are_the_store_calendar_days():
    query = OrderQuery(created_from=date(2024, 1, 15), created_to=date(2024, 1, 15))
    assert search_string(query, ZoneInfo("Europe/Berlin")) == (
        "status:any created_at:>='2024-01-15T00:00:00+01:00' "
        "created_at:<'2024-01-16T00:00:00+01:00'")


def test_cancel_stops_between_pages(store, clock):
    cancel = CancelToken()
    source = connect(store, clock)
    walk = source.fetch_orders(OrderQuery(), cancel)
    first = [next(walk) for _ in range(ORDERS_PER_PAGE)]
    assert len(first) == ORDERS_PER_PAGE
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(walk)
    assert len([r for r in store.received if "orders(" in r.query]) == 1


def test_check_names_the_shop_and_the_read_all_orders_scope(store, clock):
    message = connect(store, clock).check()
    assert store.url in message and "#2009" in message
    assert "read_all_orders" in message and "60 days" in message


def test_settings_declare_the_token_as_the_only_secret():
    secrets = [f.name for f in ShopifySource.settings_fields if f.secret]
    assert secrets == ["access_token"]
    assert any("read_all_orders" in f.help for f in ShopifySource.settings_fields)
    assert {"paid", "partially_paid", "pending", "authorized", "refunded", "voided"} <= set(
        ShopifySource.statuses)


def test_setup_errors_name_the_field(clock):
    plain_http = ShopifySource({"store_url": "http://shop.example.com"},
                               {"access_token": TOKEN}, sleep=clock.sleep, clock=clock)
    with pytest.raises(SetupError) as caught:
        fetch(plain_http)
    assert caught.value.field == "store_url"
    bad_zone = ShopifySource({"store_url": "https://shop.example.com", "timezone": "Mars/Base"},
                             {"access_token": TOKEN}, sleep=clock.sleep, clock=clock)
    with pytest.raises(SetupError) as caught:
        fetch(bad_zone)
    assert caught.value.field == "timezone"
    with pytest.raises(ReconnectError):
        fetch(ShopifySource({"store_url": "https://shop.example.com"}, {}))


# -- end to end: the fake store booked into the sandbox company through the CLI -----------------

def invoices(sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for invoice in documents(sandbox, "Invoice"):
        assert invoice["DocNumber"] not in found, f"invoice {invoice['DocNumber']} booked twice"
        found[invoice["DocNumber"]] = invoice
    return found


@pytest.mark.slow
def test_shopify_orders_are_booked_through_the_cli_and_a_later_payment_closes_one(cli, sandbox):
    shop_orders = [
        order(3001, created="2025-06-02T15:00:00Z", lines=[
            line_item("TEE-BLK-M", "Tee - Black / M", 2, "25.0", discounts=("5.0",),
                      taxes=(tax_line("2.81"),)),
            line_item("MUG-01", "Mug", 1, "12.5", taxes=(tax_line("0.78"),)),
        ], shipping=[shipping_line("10.0", "7.5")]),
        order(3002, created="2025-06-03T15:00:00Z", financial="PARTIALLY_PAID",
              lines=[line_item("BOOK", "Book", 4, "12.5")],
              transactions=[transaction("20.0", gateway="manual", at="2025-06-03T15:00:00Z")]),
        order(3003, created="2025-06-04T15:00:00Z", financial="PAID", lines=[
            line_item("HAT", "Hat", 1, "30.0")], shipping=[shipping_line("5.0")],
              transactions=[transaction("20.0", gateway="gift_card", at="2025-06-04T15:00:00Z"),
                            transaction("15.0", at="2025-06-04T15:00:01Z")]),
        # VAT inside the price: 3 × 9.99 holds 4.99 tax, so the lines book 24.98 net.
        order(3004, created="2025-06-05T15:00:00Z", taxes_included=True,
              lines=[line_item("SOAP", "Soap", 3, "9.99", taxes=(vat("4.99"),))]),
    ]
    with FakeShopify(shop_orders, token=TOKEN, clock=time.monotonic) as shop:
        cli("connection", "add", "shop", "--source", "shopify",
            "--set", f"store_url={shop.url}", "--set", f"timezone={ZONE}",
            "--secret", "access_token", "--mode", "invoices-with-payments", stdin=f"{TOKEN}\n")
        cli.connect_quickbooks("shop", sandbox)

        first = cli.sync("shop")
        assert first["status"] == "succeeded", first
        assert first["orders"]["synced"] == 4
        booked = invoices(sandbox)
        assert {n: amount(i["TotalAmt"]) for n, i in booked.items()} == {
            "3001": D("68.59"), "3002": D("50.00"), "3003": D("35.00"), "3004": D("29.97")}
        assert {n: amount(i["Balance"]) for n, i in booked.items()} == {
            "3001": D("0.00"), "3002": D("30.00"), "3003": D("0.00"), "3004": D("0.00")}

        # The buyer pays the rest of #3002; Shopify marks it paid and updates it.
        late = shop_orders[1]
        late["transactions"].append(transaction("30.0", gateway="manual",
                                                at="2025-06-10T15:00:00Z"))
        late["displayFinancialStatus"] = "PAID"
        late["updatedAt"] = datetime.now(UTC).isoformat(timespec="seconds").replace(
            "+00:00", "Z")

        second = cli.sync("shop")
        assert second["status"] == "succeeded", second
        assert [(d["order"], d["kind"], d["total"]) for d in second["documents"]] == [
            ("3002", "Payment", "30.00")]
        assert shop.searches[-1].startswith("status:any updated_at:>=")
        booked = invoices(sandbox)
        assert sorted(booked) == ["3001", "3002", "3003", "3004"]
        assert amount(booked["3002"]["Balance"]) == D("0.00")
    # The access token lives in the keyring only: not in the database, logs or settings.
    assert TOKEN in MemoryKeyring.passwords.values()
    assert_no_file_holds(cli.data_dir, TOKEN)
