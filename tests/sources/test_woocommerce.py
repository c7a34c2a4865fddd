"""The WooCommerce connector against a local server that answers as the REST API v3 does."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connex_desktop.core.errors import Cancelled, ReconnectError, RetryLaterError, SetupError
from connex_desktop.core.model import Address, Buyer, Order, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import ROUNDING_SKU
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.woocommerce import WooCommerceSource
from tests.fakes.stores import (
    WOO_KEY,
    WOO_SECRET,
    FakeWooCommerce,
    Reply,
    woo_order,
    woo_sample_order,
)
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal


def tax_inclusive_order() -> dict:
    """A UK order with prices entered with 20% VAT, a 10% coupon, a gift-wrap fee, a refund."""
    order = woo_order(
        1001, status="completed", total="41.40", currency="GBP", prices_include_tax=True,
        created="2026-11-20T23:30:00",
        date_created_gmt="2026-11-20T23:30:00", date_paid="2026-11-21T00:05:00",
        discount_total="3.00", discount_tax="0.60", shipping_total="5.00", shipping_tax="1.00",
        cart_tax="5.40", total_tax="6.90", payment_method="stripe",
        payment_method_title="Credit card (Stripe)", transaction_id="ch_3Nx1",
        customer_note="Leave at the door")
    order["line_items"] = [{
        "id": 501, "name": "Linen apron", "product_id": 40, "variation_id": 0, "quantity": 3,
        "tax_class": "", "subtotal": "30.00", "subtotal_tax": "6.00", "total": "27.00",
        "total_tax": "5.40", "taxes": [{"id": 1, "total": "5.4", "subtotal": "6"}],
        "meta_data": [], "sku": "APRON-L", "price": 8.999999}]
    order["fee_lines"] = [{"id": 502, "name": "Gift wrap", "tax_class": "",
                           "tax_status": "taxable", "total": "2.50", "total_tax": "0.50",
                           "taxes": [], "meta_data": []}]
    order["coupon_lines"] = [{"id": 503, "code": "spring10", "discount": "3.00",
                              "discount_tax": "0.60", "meta_data": []}]
    order["shipping_lines"] = [{"id": 504, "method_title": "Royal Mail", "method_id": "flat_rate",
                                "total": "5.00", "total_tax": "1.00",
                                "taxes": [{"id": 1, "total": "1", "subtotal": ""}],
                                "meta_data": []}]
    order["tax_lines"] = [{"id": 505, "rate_code": "GB-VAT-1", "rate_id": 1, "label": "VAT",
                           "compound": False, "tax_total": "5.40", "shipping_tax_total": "1.00",
                           "rate_percent": 20, "meta_data": []}]
    order["refunds"] = [{"id": 901, "reason": "Damaged in transit", "total": "-10.00"}]
    return order


def make_source(store: FakeWooCommerce, *, secret: str = WOO_SECRET, sleeps: list | None = None,
                page_size: int = 100, in_query: bool = False) -> WooCommerceSource:
    settings = {"store_url": store.url + "/", "keys_in_query": "true" if in_query else "false"}
    secrets = {"consumer_key": WOO_KEY, "consumer_secret": secret}
    return WooCommerceSource(settings, secrets, page_size=page_size,
                             sleep=(sleeps if sleeps is not None else []).append)


def fetch(source: WooCommerceSource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def test_the_documented_sample_maps_field_by_field():
    with FakeWooCommerce([woo_sample_order()]) as store:
        [order] = fetch(make_source(store))
    assert isinstance(order, Order)
    assert (order.source, order.source_id, order.number) == ("woocommerce", "727", "727")
    assert order.order_date == date(2017, 3, 22)
    assert order.updated_at == datetime(2017, 3, 22, 19, 28, 8, tzinfo=UTC)
    assert (order.status, order.payment_status) == ("processing", PaymentStatus.PAID)
    assert order.currency == "USD"
    assert order.buyer == Buyer("John Doe", "john.doe@example.com", "", "(555) 555-5555")
    assert order.billing_address == Address("969 Market", "", "San Francisco", "CA", "94103",
                                             "US")
    assert order.shipping_address == order.billing_address
    [single, idea] = order.lines
    assert (single.sku, single.name, single.quantity, single.unit_price) == (
        "", "Woo Single #1", D(2), D("3.00"))
    assert (idea.sku, idea.quantity, idea.unit_price, idea.discount) == (
        "Bar3", D(1), D("12.00"), D("0.00"))
    assert (order.shipping, order.discount, order.tax, order.total) == (
        D("10.00"), D("0.00"), D("1.35"), D("29.35"))
    assert order.computed_total == order.total
    [payment] = order.payments
    assert (payment.amount, payment.method, payment.reference, payment.paid_on) == (
        D("29.35"), "Direct Bank Transfer", "", date(2017, 3, 22))


def test_meta_data_channel_and_payment_method_are_there_for_the_rules():
    sample = woo_sample_order()
    sample["meta_data"] = [{"id": 1, "key": "sales_rep", "value": "Ann"},
                           {"id": 2, "key": "_attribution", "value": {"source": "x"}}]
    with FakeWooCommerce([sample]) as store:
        [order] = fetch(make_source(store))
    assert isinstance(order, Order)
    assert (order.tags, order.channel, order.payment_gateways) == (
        ("sales_rep=Ann",), "rest-api", ("bacs",))


def test_tax_inclusive_coupon_fee_and_refund():
    with FakeWooCommerce([tax_inclusive_order()]) as store:
        [order] = fetch(make_source(store))
    assert isinstance(order, Order)
    # The booking day is the shop's own day, not the UTC one.
    assert order.order_date == date(2026, 11, 20)
    apron, wrap = order.lines
    # Prices were entered with VAT; the lines are without it, the tax is reported once.
    assert (apron.sku, apron.quantity, apron.unit_price, apron.discount, apron.amount) == (
        "APRON-L", D(3), D("10.00"), D("3.00"), D("27.00"))
    # Each line's VAT rate from the order's tax lines; the fee names no rate of its tax.
    assert (apron.tax_rate, wrap.tax_rate, order.shipping_tax_rate) == (D(20), None, D(20))
    assert (wrap.name, wrap.unit_price, wrap.taxable) == ("Gift wrap", D("2.50"), True)
    # The coupon is inside the line discount only: not counted a second time.
    assert order.discount == D("0.00")
    assert (order.shipping, order.tax, order.total) == (D("5.00"), D("6.90"), D("41.40"))
    assert order.computed_total == D("41.40")
    assert order.payment_status is PaymentStatus.PAID
    [payment] = order.payments
    assert (payment.amount, payment.method, payment.reference, payment.paid_on) == (
        D("41.40"), "Credit card (Stripe)", "ch_3Nx1", date(2026, 11, 21))
    [refund] = order.refunds
    assert (refund.amount, refund.reference) == (D("10.00"), "refund 901: Damaged in transit")
    assert "Coupons: spring10" in order.notes and "Leave at the door" in order.notes


def test_payment_status_kept_apart_from_fulfilment():
    orders = [
        woo_order(1, status="on-hold", paid=False, payment_method_title="Cheque"),
        woo_order(2, status="processing", paid=False, payment_method="cod"),
        woo_order(3, status="cancelled", paid=False),
        woo_order(4, status="failed", paid=False),
        woo_order(5, status="refunded",
                  refunds=[{"id": 77, "reason": "", "total": "-10.00"}]),
        woo_order(6, status="completed"),
    ]
    with FakeWooCommerce(orders) as store:
        got = {o.number: o for o in fetch(make_source(store))}
    assert {n: o.payment_status for n, o in got.items()} == {
        "1": PaymentStatus.UNPAID, "2": PaymentStatus.UNPAID, "3": PaymentStatus.CANCELLED,
        "4": PaymentStatus.CANCELLED, "5": PaymentStatus.REFUNDED, "6": PaymentStatus.PAID}
    assert got["1"].payments == () and got["1"].balance == D("10.00")
    assert got["5"].refunds[0].amount == D("10.00")


def test_unfinished_checkouts_only_when_asked_for():
    orders = [woo_order(1, status="pending", paid=False), woo_order(2, status="checkout-draft",
                                                                    paid=False), woo_order(3)]
    with FakeWooCommerce(orders) as store:
        source = make_source(store)
        assert [o.number for o in fetch(source)] == ["3"]
        [pending] = fetch(source, OrderQuery(statuses=("pending",)))
        [by_number] = fetch(source, OrderQuery(numbers=("2",)))
    assert (pending.number, pending.payment_status) == ("1", PaymentStatus.UNPAID)
    assert (by_number.number, by_number.payment_status) == ("2", PaymentStatus.CANCELLED)


def test_a_cent_of_store_rounding_becomes_an_explicit_line_and_a_gap_fails_the_order():
    rounded = woo_order(10, total="10.00")
    rounded["line_items"] = [
        dict(rounded["line_items"][0], id=i, sku=f"PART-{i}", subtotal="3.33", total="3.33")
        for i in range(3)]
    broken = woo_order(11)
    broken["total"] = "99.00"
    garbled = woo_order(12)
    garbled["line_items"][0]["quantity"] = None
    with FakeWooCommerce([rounded, broken, garbled, woo_order(13)]) as store:
        results = fetch(make_source(store))
    assert [type(r).__name__ for r in results] == ["Order", "FailedOrder", "FailedOrder", "Order"]
    order = results[0]
    assert order.lines[-1].sku == ROUNDING_SKU and order.lines[-1].amount == D("0.01")
    assert order.tax == D("0.00") and order.computed_total == order.total == D("10.00")
    assert (results[1].number, results[1].field) == ("11", "total")
    assert "99.00" in results[1].message
    assert (results[2].number, results[2].field) == ("12", "quantity")


def test_pages_are_walked_to_the_last_one_and_no_further():
    with FakeWooCommerce([woo_order(i) for i in range(1, 8)]) as store:
        got = fetch(make_source(store, page_size=3))
        pages = [r.param("page") for r in store.received]
    assert [o.number for o in got] == [str(i) for i in range(1, 8)]
    assert pages == ["1", "2", "3"]


def test_the_store_count_is_told_before_the_first_order_arrives():
    counts: list[tuple[int, int]] = []     # (count told, orders yielded by then)
    got: list = []

    class Run:
        def expect_orders(self, count: int) -> None:
            counts.append((count, len(got)))

        def pausing(self, seconds: float, reason: str) -> None:
            pass

        def cancelling(self) -> None:
            pass

    cancel = CancelToken()
    cancel.watch(Run())
    with FakeWooCommerce([woo_order(i) for i in range(1, 8)]) as store:
        got.extend(make_source(store, page_size=3).fetch_orders(OrderQuery(), cancel))
    assert len(got) == 7
    assert counts == [(7, 0)]       # X-WP-Total of the first page, told once


def test_an_empty_store_or_a_host_repeating_page_one_ends_the_walk():
    with FakeWooCommerce([]) as store:
        assert fetch(make_source(store)) == []
        assert len(store.received) == 1
    with FakeWooCommerce([woo_order(i) for i in range(1, 5)]) as store:
        store.ignores_page = True
        got = fetch(make_source(store, page_size=2))
        assert [o.number for o in got] == ["1", "2"]
        assert len(store.received) == 2


def test_throttled_then_served_after_the_asked_pause():
    with FakeWooCommerce([woo_order(1)]) as store:
        store.queued = [Reply(429, {"code": "too_many_requests", "message": "Slow down"},
                              {"Retry-After": "2"}),
                        Reply(503, None, {"Retry-After": "1"})]
        sleeps: list[float] = []
        got = fetch(make_source(store, sleeps=sleeps))
    assert [o.number for o in got] == ["1"]
    assert sleeps == [2.0, 1.0]


def test_a_host_that_stays_down_says_try_later():
    with FakeWooCommerce([]) as store:
        store.queued = [Reply(503, {"message": "Service Unavailable"})] * 5
        with pytest.raises(RetryLaterError):
            fetch(make_source(store))


@pytest.mark.parametrize("in_query", [False, True])
def test_revoked_keys_ask_to_reconnect_and_never_show_the_secret(in_query):
    with FakeWooCommerce([woo_order(1)], secret="cs_the_new_one") as store:
        source = make_source(store, in_query=in_query)
        with pytest.raises(ReconnectError) as caught:
            fetch(source)
        with pytest.raises(ReconnectError):
            source.check()
    error = caught.value
    assert "Reconnect the store" in str(error)
    assert "Sorry, you cannot list resources." in error.detail
    for text in (str(error), error.detail, repr(error)):
        assert WOO_SECRET not in text and WOO_KEY not in text


def test_keys_go_in_the_query_string_only_when_asked():
    with FakeWooCommerce([woo_order(1)]) as store:
        assert len(fetch(make_source(store, in_query=True))) == 1
        assert len(fetch(make_source(store))) == 1
        in_query, basic = store.received
    assert in_query.param("consumer_secret") == WOO_SECRET
    assert "authorization" not in in_query.headers
    assert basic.param("consumer_secret") is None
    assert basic.headers["authorization"].startswith("Basic ")


def test_filters_are_sent_as_the_api_expects():
    orders = [woo_order(1, created="2026-11-09T22:00:00"),
              woo_order(2, created="2026-11-10T08:00:00", status="completed"),
              woo_order(3, created="2026-11-12T23:59:00"),
              woo_order(4, created="2026-11-13T00:30:00")]
    query = OrderQuery(created_from=date(2026, 11, 10), created_to=date(2026, 11, 12),
                       modified_since=datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
                       statuses=("processing", " Completed"))
    with FakeWooCommerce(orders) as store:
        got = fetch(make_source(store), query)
        [request] = store.received
    assert [o.number for o in got] == ["2", "3"]
    assert request.path == "/wp-json/wc/v3/orders"
    assert {k: v[0] for k, v in request.query.items()} == {
        "status": "processing,completed", "orderby": "id", "order": "asc",
        "dates_are_gmt": "true", "modified_after": "2026-11-01T06:00:00",
        "after": "2026-11-09T00:00:00", "before": "2026-11-14T00:00:00",
        "page": "1", "per_page": "100"}


def test_orders_by_number_by_id_then_by_search_and_missing_ones_reported():
    sequential = woo_order(40, number="WC-1040")
    with FakeWooCommerce([woo_order(7), sequential, woo_order(9)]) as store:
        got = fetch(make_source(store), OrderQuery(numbers=("7", "WC-1040", "8")))
        params = [(r.param("include"), r.param("search")) for r in store.received]
    assert [(type(r).__name__, r.number) for r in got] == [
        ("Order", "7"), ("Order", "WC-1040"), ("FailedOrder", "8")]
    assert isinstance(got[2], FailedOrder) and "No order 8" in got[2].message
    assert params == [("7,8", None), (None, "WC-1040"), (None, "8")]


def test_cancel_is_honoured_between_pages():
    cancel = CancelToken()
    with FakeWooCommerce([woo_order(i) for i in range(1, 6)]) as store:
        orders = make_source(store, page_size=2).fetch_orders(OrderQuery(), cancel)
        assert next(orders).number == "1"
        assert next(orders).number == "2"
        cancel.cancel()
        with pytest.raises(Cancelled):
            next(orders)
        assert len(store.received) == 1


def test_check_counts_the_orders_and_settings_are_validated():
    with FakeWooCommerce([woo_order(1), woo_order(2)]) as store:
        assert make_source(store).check() == f"Connected to {store.url}: 2 orders in the store."
    with pytest.raises(SetupError) as caught:
        WooCommerceSource({"store_url": "http://shop.example.com"},
                          {"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET}).check()
    assert caught.value.field == "store_url"
    with pytest.raises(SetupError) as caught:
        WooCommerceSource({"store_url": "https://shop.example.com"}, {"consumer_key": WOO_KEY}
                          ).check()
    assert caught.value.field == "consumer_secret"
    secret_fields = {f.name for f in WooCommerceSource.settings_fields if f.secret}
    assert secret_fields == {"consumer_key", "consumer_secret"}
    assert "on-hold" in WooCommerceSource.statuses


def add_shop(cli, sandbox, store: FakeWooCommerce, *options: str) -> None:
    """The connection "shop" on `store`, booking invoices with payments into the sandbox."""
    cli("connection", "add", "shop", "--source", "woocommerce", "--mode",
        "invoices-with-payments", *options, "--set", f"store_url={store.url}",
        "--secret", "consumer_key", "--secret", "consumer_secret",
        stdin=f"{WOO_KEY}\n{WOO_SECRET}\n")
    cli.connect_quickbooks("shop", sandbox)


def test_orders_booked_into_quickbooks_through_the_cli_then_a_later_payment(cli, sandbox):
    paid = tax_inclusive_order()
    paid.update(currency="USD", refunds=[])
    on_hold = woo_order(1002, status="on-hold", paid=False, total="54.13",
                        payment_method="bacs", payment_method_title="Direct Bank Transfer",
                        shipping_total="5.00", total_tax="4.13", cart_tax="4.13")
    on_hold["line_items"][0].update(quantity=3, subtotal="50.00", total="45.00",
                                    total_tax="4.13", sku="MUG-BLUE", name="Blue mug")
    on_hold["coupon_lines"] = [{"id": 1, "code": "five", "discount": "5.00",
                                "discount_tax": "0.00", "meta_data": []}]
    with FakeWooCommerce([woo_sample_order(), paid, on_hold]) as store:
        add_shop(cli, sandbox, store)
        first = cli.sync("shop")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"])) for n, i in invoices.items()} \
            == {"727": (D("29.35"), D("0.00")), "1001": (D("41.40"), D("0.00")),
                "1002": (D("54.13"), D("54.13"))}
        assert sorted(amount(p["TotalAmt"]) for p in documents(sandbox, "Payment")) == [
            D("29.35"), D("41.40")]

        # Later the bank transfer arrives and the shop marks the order paid.
        now = datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat()
        on_hold.update(status="processing", date_paid=now, date_paid_gmt=now,
                       date_modified=now, date_modified_gmt=now, transaction_id="BT-1002")
        second = cli.sync("shop")
        assert second["status"] == "succeeded", second
        assert [(d["order"], d["kind"]) for d in second["documents"]] == [("1002", "Payment")]
        assert store.received[-1].param("modified_after") is not None
    invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
    assert len(invoices) == 3 and amount(invoices["1002"]["Balance"]) == D("0.00")
    payments = documents(sandbox, "Payment")
    assert sorted(amount(p["TotalAmt"]) for p in payments) == [
        D("29.35"), D("41.40"), D("54.13")]
    assert_no_file_holds(cli.data_dir, WOO_SECRET)


def test_a_refund_made_before_the_first_sync_is_booked_once(cli, sandbox):
    refunded = tax_inclusive_order()      # 41.40 paid, 10.00 refunded before any sync
    refunded.update(currency="USD")
    with FakeWooCommerce([refunded]) as store:
        add_shop(cli, sandbox, store)
        first = cli.sync("shop")
        assert first["status"] == "succeeded", first
        assert [(d["kind"], d["total"]) for d in first["documents"]] == [
            ("Invoice", "41.40"), ("Payment", "41.40"), ("RefundReceipt", "10.00")]
        # A plain sync, then a re-read of every order since its day: nothing more.
        assert cli.sync("shop")["documents"] == []
        _, out = cli("sync", "shop", "--since", "2026-11-01", "--json")
        assert json.loads(out)["documents"] == []
    (receipt,) = documents(sandbox, "RefundReceipt")
    assert amount(receipt["TotalAmt"]) == D("10.00")
    assert receipt["PaymentRefNum"].startswith("refund 901")
    assert len(documents(sandbox, "Invoice")) == len(documents(sandbox, "Payment")) == 1


def test_a_store_under_a_new_address_is_the_same_store(cli, sandbox):
    with FakeWooCommerce([woo_sample_order()]) as store:
        add_shop(cli, sandbox, store, "--use-qb-numbering")
        assert len(cli.sync("shop")["documents"]) == 2
        # The shop moves to a new domain (here: the same server under another name).
        new_address = store.url.replace("127.0.0.1", "localhost") + "/"
        cli("connection", "set", "shop", "--set", f"store_url={new_address}")
        _, out = cli("sync", "shop", "--since", "2000-01-01", "--json")
        again = json.loads(out)
        assert again["status"] == "succeeded" and again["documents"] == [], again
    assert len(documents(sandbox, "Invoice")) == len(documents(sandbox, "Payment")) == 1
