"""The BigCommerce connector against a local server that answers as Orders V2 / V3 do."""

from __future__ import annotations

import email.utils
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connex_desktop.core.errors import Cancelled, ReconnectError, SetupError
from connex_desktop.core.model import Address, Buyer, Order, Payment, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import ROUNDING_SKU
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.bigcommerce import BigCommerceSource
from tests.fakes.stores import (
    BC_HASH,
    BC_TOKEN,
    FakeBigCommerce,
    Reply,
    bc_order,
    bc_product,
    bc_transaction,
)
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal
CREATED = "Fri, 20 Nov 2026 03:30:00 +0000"   # 19 November, evening, in Chicago


def card_and_gift_certificate_order() -> dict:
    """Tax-exclusive: a coupon allocated to a line, a bundle, shipping, tax, gift certificate."""
    products = [
        bc_product(65, 100, "Fog Linen Chambray Towel - Beige Stripe", "S-ORAN", 2, "55.9900",
                   price_tax="4.2067", applied_discounts=[
                       {"id": 3, "amount": "10.0000", "name": "Save 10", "code": "SAVE10",
                        "target": "order"}]),
        bc_product(66, 100, "Towel hook", "HOOK", 2, "0.0000", is_bundled_product=True,
                   parent_order_product_id=65),
        bc_product(67, 100, "Orbit Terrarium - Large", "OTL", 1, "109.0000",
                   price_tax="8.9925"),
    ]
    transactions = [
        bc_transaction(1, 100, "purchase", "gift_certificate", "40.00", "giftcertificate",
                       "GC-7HK2", CREATED),
        bc_transaction(2, 100, "authorization", "credit_card", "200.39", "stripe", "pi_3N",
                       CREATED),
        bc_transaction(3, 100, "capture", "credit_card", "200.39", "stripe", "pi_3N",
                       "Fri, 20 Nov 2026 16:00:00 +0000"),
    ]
    address = {"id": 42, "order_id": 100, "first_name": "Jane", "last_name": "Doe",
               "company": "", "street_1": "123 MainStreet", "street_2": "Unit 4",
               "city": "Austin", "zip": "78751", "country": "United States",
               "country_iso2": "US", "state": "Texas", "email": "jane@example.com",
               "phone": "1234567890", "items_total": 3, "items_shipped": 0,
               "shipping_method": "Fixed Shipping", "base_cost": "12.0000",
               "cost_ex_tax": "12.0000", "cost_inc_tax": "12.0000", "cost_tax": "0.0000"}
    return bc_order(
        100, created=CREATED, date_modified="Sat, 21 Nov 2026 09:00:00 +0000",
        subtotal_ex_tax="220.9800", subtotal_inc_tax="238.3900", subtotal_tax="17.4100",
        shipping_cost_ex_tax="12.0000", shipping_cost_inc_tax="12.0000",
        coupon_discount="10.0000", total_ex_tax="222.9800", total_tax="17.4100",
        total_inc_tax="240.3900", gift_certificate_amount="40.0000",
        customer_message="Gift, no invoice in the box", _products=products,
        _shipping_addresses=[address], _transactions=transactions)


def tax_inclusive_store_credit_order() -> dict:
    """10% GST in the prices, a manual discount with tax, store credit, no transactions."""
    return bc_order(
        200, status_id=10, currency_code="AUD", is_tax_inclusive_pricing=True,
        subtotal_ex_tax="40.0000", subtotal_inc_tax="44.0000", subtotal_tax="4.0000",
        shipping_cost_ex_tax="10.0000", shipping_cost_inc_tax="11.0000",
        shipping_cost_tax="1.0000", discount_amount="4.4000", total_ex_tax="46.0000",
        total_inc_tax="50.6000", total_tax="4.6000", store_credit_amount="10.0000",
        payment_method="Cash", payment_status="paid", _transactions=[],
        _products=[bc_product(201, 200, "Gift hamper", "HAMPER", 2, "20.0000",
                              price_tax="2.0000", applied_discounts=[
                                  {"id": "manual-discount", "amount": "4.4000",
                                   "name": "Manual Discount", "code": None,
                                   "target": "order"}])])


def make_source(store: FakeBigCommerce, *, token: str = BC_TOKEN, sleeps: list | None = None,
                page_size: int = 250) -> BigCommerceSource:
    settings = {"store_hash": BC_HASH, "api_url": store.url, "timezone": "America/Chicago"}
    return BigCommerceSource(settings, {"access_token": token}, page_size=page_size,
                             sleep=(sleeps if sleeps is not None else []).append)


def fetch(source: BigCommerceSource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def list_requests(store: FakeBigCommerce) -> list:
    return [r for r in store.received if r.path == f"/stores/{BC_HASH}/v2/orders"]


def test_an_order_with_card_and_gift_certificate_maps_field_by_field():
    with FakeBigCommerce([card_and_gift_certificate_order()],
                         customer_groups={20: "Wholesale", 21: "Retail"}) as store:
        [order] = fetch(make_source(store))
        paths = [r.path for r in store.received]
    assert isinstance(order, Order)
    assert (order.source, order.source_id, order.number) == ("bigcommerce", "100", "100")
    assert order.order_date == date(2026, 11, 19)   # the store's day, not UTC's
    assert order.updated_at == datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    assert (order.status, order.payment_status) == ("Awaiting Fulfillment", PaymentStatus.PAID)
    assert order.currency == "USD"
    assert order.buyer == Buyer("Jane Doe", "janedoe@example.com", "", "555-123-4567")
    assert order.billing_address == Address("455 Main Street", "", "Austin", "Texas", "78751",
                                            "US")
    assert order.shipping_address == Address("123 MainStreet", "Unit 4", "Austin", "Texas",
                                             "78751", "US")
    towel, terrarium = order.lines   # the bundle's part is inside its parent's price
    assert (towel.sku, towel.name, towel.quantity, towel.unit_price, towel.discount) == (
        "S-ORAN", "Fog Linen Chambray Towel - Beige Stripe", D(2), D("55.99"), D("10.00"))
    assert (terrarium.sku, terrarium.quantity, terrarium.unit_price, terrarium.amount) == (
        "OTL", D(1), D("109.00"), D("109.00"))
    # The coupon is on its line; the order-level figure is not taken off again.
    assert order.discount == D("0.00")
    assert (order.shipping, order.tax, order.total) == (D("12.00"), D("17.41"), D("240.39"))
    assert order.computed_total == order.total
    # The gift certificate pays; the authorization is not a payment, its capture is.
    assert order.payments == (
        Payment(D("40.00"), "Gift Certificate", "GC-7HK2", date(2026, 11, 19)),
        Payment(D("200.39"), "Credit Card", "pi_3N", date(2026, 11, 20)))
    assert order.balance == D("0.00")
    assert order.notes == "Gift, no invoice in the box"
    assert (order.channel, order.payment_gateways) == ("1", ("giftcertificate", "stripe"))
    assert order.customer_group == "Wholesale"
    assert paths == [f"/stores/{BC_HASH}/v2/orders",
                     f"/stores/{BC_HASH}/v2/orders/100/products",
                     f"/stores/{BC_HASH}/v2/orders/100/shippingaddresses",
                     f"/stores/{BC_HASH}/v3/orders/100/transactions",
                     f"/stores/{BC_HASH}/v3/customers",
                     f"/stores/{BC_HASH}/v2/customer_groups"]


def test_customer_groups_are_read_once_and_left_out_without_the_scope(caplog):
    orders = [bc_order(order_id) for order_id in (101, 102)]
    orders.append(bc_order(103, customer_id=0))   # a guest
    with FakeBigCommerce(orders, customer_groups={20: "Trade"}) as store:
        groups = [order.customer_group for order in fetch(make_source(store))]
        paths = [r.path for r in store.received]
    assert groups == ["Trade", "Trade", ""]
    assert paths.count(f"/stores/{BC_HASH}/v3/customers") == 1
    assert paths.count(f"/stores/{BC_HASH}/v2/customer_groups") == 1
    with FakeBigCommerce(orders, customer_groups={20: "Trade"}, groups_scope=False) as store:
        assert [order.customer_group for order in fetch(make_source(store))] == ["", "", ""]
        assert sum("customers" in r.path for r in store.received) == 1
    assert "Customers read-only scope" in caplog.text


def test_tax_inclusive_prices_end_in_tax_exclusive_lines_and_store_credit_pays():
    with FakeBigCommerce([tax_inclusive_store_credit_order()]) as store:
        [order] = fetch(make_source(store))
    assert isinstance(order, Order)
    [hamper] = order.lines
    assert (hamper.unit_price, hamper.quantity, hamper.discount) == (D("20.00"), D(2), D(0))
    # The 4.40 discount included GST; its share without tax is 4.00.
    assert (order.discount, order.shipping, order.tax, order.total) == (
        D("4.00"), D("10.00"), D("4.60"), D("50.60"))
    assert order.computed_total == D("50.60")
    assert order.currency == "AUD" and order.status == "Completed"
    assert [(p.method, p.amount) for p in order.payments] == [
        ("Store Credit", D("10.00")), ("Cash", D("40.60"))]
    assert order.payment_status is PaymentStatus.PAID


def test_payment_status_kept_apart_from_fulfilment():
    partly_refunded = bc_order(
        4, status_id=14, total="30.0000", refunded_amount="10.0000",
        payment_status="partially refunded")
    partly_refunded["_transactions"].append(
        bc_transaction(9, 4, "refund", "credit_card", "10.00", "stripe", "re_1",
                       "Sat, 21 Nov 2026 10:00:00 +0000"))
    authorized_only = bc_order(7, payment_status="authorized")
    authorized_only["_transactions"][0]["event"] = "authorization"
    half_paid = bc_order(8, status_id=7, total="50.0000", payment_status="")
    half_paid["_transactions"][0]["amount"] = 20.0
    orders = [bc_order(3, status_id=7, payment_status="", _transactions=[]), partly_refunded,
              bc_order(5, status_id=4, payment_status="refunded"),
              bc_order(6, status_id=5, payment_status="void", _transactions=[]),
              authorized_only, half_paid,
              bc_order(9, total="0.0000", payment_status="paid", _transactions=[])]
    with FakeBigCommerce(orders) as store:
        got = {o.number: o for o in fetch(make_source(store))}
    assert {n: o.payment_status for n, o in got.items()} == {
        "3": PaymentStatus.UNPAID, "4": PaymentStatus.PAID, "5": PaymentStatus.REFUNDED,
        "6": PaymentStatus.CANCELLED, "7": PaymentStatus.UNPAID,
        "8": PaymentStatus.PARTIALLY_PAID, "9": PaymentStatus.PAID}
    assert got["3"].payments == () and got["7"].payments == ()
    assert got["8"].balance == D("30.00")
    [refund] = got["4"].refunds
    assert (refund.amount, refund.reference, refund.refunded_on) == (
        D("10.00"), "re_1", date(2026, 11, 21))


def test_unfinished_checkouts_only_when_asked_for():
    orders = [bc_order(1, status_id=0, payment_status="", _transactions=[]),
              bc_order(2, status_id=1, payment_status="", _transactions=[]), bc_order(3)]
    with FakeBigCommerce(orders) as store:
        source = make_source(store)
        assert [o.number for o in fetch(source)] == ["3"]
        # Nothing but the list was read for the skipped ones.
        assert not any("/orders/1/" in r.path or "/orders/2/" in r.path
                       for r in store.received)
        [pending] = fetch(source, OrderQuery(statuses=("Pending",)))
        [incomplete] = fetch(source, OrderQuery(numbers=("1",)))
    assert (pending.number, pending.status, pending.payment_status) == (
        "2", "Pending", PaymentStatus.UNPAID)
    assert (incomplete.number, incomplete.status) == ("1", "Incomplete")


def test_store_rounding_becomes_a_line_and_unreadable_orders_fail_alone():
    rounded = bc_order(11, total="10.0100", _products=[
        bc_product(110 + i, 11, f"Part {i}", f"P{i}", 1, "3.3350") for i in range(3)])
    garbled = bc_order(12)
    garbled["_products"][0]["price_ex_tax"] = None
    with FakeBigCommerce([rounded, garbled, bc_order(13)]) as store:
        first, second, third = fetch(make_source(store))
    assert isinstance(first, Order) and isinstance(second, FailedOrder)
    assert first.lines[-1].sku == ROUNDING_SKU and first.lines[-1].amount == D("-0.01")
    assert first.computed_total == first.total == D("10.01")
    assert (second.number, second.field) == ("12", "price_ex_tax")
    assert isinstance(third, Order) and third.number == "13"


@pytest.mark.parametrize("count", [7, 6], ids=["short-third-page", "third-page-204"])
def test_pages_end_on_a_short_page_or_a_204(count):
    with FakeBigCommerce([bc_order(i) for i in range(1, count + 1)]) as store:
        got = fetch(make_source(store, page_size=3))
        pages = [r.param("page") for r in list_requests(store)]
    assert [o.number for o in got] == [str(i) for i in range(1, count + 1)]
    assert pages == ["1", "2", "3"]


def test_an_empty_store_answers_204_and_the_walk_ends():
    with FakeBigCommerce([]) as store:
        assert fetch(make_source(store)) == []
        assert len(store.received) == 1


def test_throttled_by_429_then_paced_by_the_requests_left():
    with FakeBigCommerce([bc_order(1), bc_order(2)], quota=4) as store:
        store.queued = [Reply(429, None, {"X-Rate-Limit-Time-Reset-Ms": "1500",
                                          "X-Rate-Limit-Requests-Left": "0"})]
        sleeps: list[float] = []
        got = fetch(make_source(store, sleeps=sleeps))
    assert [o.number for o in got] == ["1", "2"]
    # The 429's own reset, then a pause each time the shared quota ran out.
    assert sleeps[0] == 1.5
    assert set(sleeps[1:]) == {2.5} and len(sleeps) > 1


def test_a_revoked_token_asks_to_reconnect_without_showing_it():
    with FakeBigCommerce([bc_order(1)], token="a-newer-token") as store:
        source = make_source(store)
        with pytest.raises(ReconnectError) as caught:
            fetch(source)
        with pytest.raises(ReconnectError):
            source.check()
    assert "Reconnect the store" in str(caught.value)
    assert "not authorized" in caught.value.detail
    for text in (str(caught.value), caught.value.detail, repr(caught.value)):
        assert BC_TOKEN not in text


def test_a_token_without_the_transactions_scope_says_which_scope():
    with FakeBigCommerce([bc_order(1)]) as store:
        store.route = lambda request, route=store.route: (
            Reply(403, {"status": 403, "title": "You don't have a required scope"})
            if "/v3/" in request.path else route(request))
        with pytest.raises(ReconnectError, match="Order Transactions read-only"):
            fetch(make_source(store))
        # The connection check finds it out before any sync does.
        with pytest.raises(ReconnectError, match="Order Transactions read-only"):
            make_source(store).check()


def test_filters_are_sent_as_the_api_expects():
    orders = [bc_order(1, created="Tue, 10 Nov 2026 05:59:00 +0000"),    # 9th in Chicago
              bc_order(2, created="Tue, 10 Nov 2026 06:00:00 +0000", status_id=2),
              bc_order(3, created="Fri, 13 Nov 2026 05:59:59 +0000"),
              bc_order(4, created="Fri, 13 Nov 2026 06:00:00 +0000")]
    query = OrderQuery(created_from=date(2026, 11, 10), created_to=date(2026, 11, 12),
                       modified_since=datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
                       statuses=("Awaiting Fulfillment", "2"))
    with FakeBigCommerce(orders) as store:
        got = fetch(make_source(store), query)
        requests = list_requests(store)
    assert [o.number for o in got] == ["3", "2"]
    assert [{k: v[0] for k, v in r.query.items()} for r in requests] == [
        {"sort": "id:asc", "min_date_modified": "Sun, 01 Nov 2026 06:00:00 +0000",
         "min_date_created": "Tue, 10 Nov 2026 00:00:00 -0600",
         "max_date_created": "Thu, 12 Nov 2026 23:59:59 -0600",
         "status_id": status_id, "page": "1", "limit": "250"}
        for status_id in ("11", "2")]


def test_unknown_statuses_are_a_setup_error():
    with FakeBigCommerce([]) as store, pytest.raises(SetupError) as caught:
        fetch(make_source(store), OrderQuery(statuses=("Teleported",)))
    assert caught.value.field == "statuses"
    assert "Awaiting Payment" in BigCommerceSource.statuses


def test_orders_by_number_and_missing_ones_reported():
    with FakeBigCommerce([bc_order(7), bc_order(9)]) as store:
        got = fetch(make_source(store), OrderQuery(numbers=("9", "8", "#7x")))
        fetched = [r.path for r in store.received if r.path.count("/") == 5]
    assert [(type(r).__name__, r.number) for r in got] == [
        ("Order", "9"), ("FailedOrder", "8"), ("FailedOrder", "#7x")]
    assert "No order 8" in got[1].message
    assert fetched == [f"/stores/{BC_HASH}/v2/orders/9", f"/stores/{BC_HASH}/v2/orders/8"]


def test_cancel_is_honoured_between_pages():
    cancel = CancelToken()
    with FakeBigCommerce([bc_order(i) for i in range(1, 6)]) as store:
        orders = make_source(store, page_size=2).fetch_orders(OrderQuery(), cancel)
        assert [next(orders).number, next(orders).number] == ["1", "2"]
        cancel.cancel()
        with pytest.raises(Cancelled):
            next(orders)
        assert len(list_requests(store)) == 1


def test_check_and_settings():
    with FakeBigCommerce([]) as store:
        assert make_source(store).check() == f"Connected to the BigCommerce store {BC_HASH}."
    with pytest.raises(SetupError) as caught:
        BigCommerceSource({"store_hash": BC_HASH}, {}).check()
    assert caught.value.field == "access_token"
    with pytest.raises(SetupError) as caught:
        BigCommerceSource({"store_hash": BC_HASH, "timezone": "Mars/Olympus"},
                          {"access_token": BC_TOKEN}).check()
    assert caught.value.field == "timezone"
    assert {f.name for f in BigCommerceSource.settings_fields if f.secret} == {"access_token"}


def test_orders_booked_into_quickbooks_through_the_cli_then_a_later_payment(cli, sandbox):
    inclusive = tax_inclusive_store_credit_order()
    inclusive["currency_code"] = "USD"
    rounded = bc_order(11, total="10.0100", _products=[
        bc_product(110 + i, 11, f"Part {i}", f"P{i}", 1, "3.3350") for i in range(3)])
    awaiting = bc_order(300, status_id=7, total="75.5000", payment_status="", _transactions=[],
                        _products=[bc_product(301, 300, "Planter", "PLANT-S", 5, "15.1000")])
    orders = [card_and_gift_certificate_order(), inclusive, rounded, awaiting]
    with FakeBigCommerce(orders) as store:
        cli("connection", "add", "bc", "--source", "bigcommerce", "--mode",
            "invoices-with-payments", "--set", f"store_hash={BC_HASH}",
            "--set", f"api_url={store.url}", "--set", "timezone=America/Chicago",
            "--secret", "access_token", stdin=f"{BC_TOKEN}\n")
        cli.connect_quickbooks("bc", sandbox)
        first = cli.sync("bc")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"])) for n, i in invoices.items()} \
            == {"100": (D("240.39"), D("0.00")), "200": (D("50.60"), D("0.00")),
                "11": (D("10.01"), D("0.00")), "300": (D("75.50"), D("75.50"))}
        assert invoices["100"]["TxnDate"] == "2026-11-19"
        # The gift certificate and the card are two payments against one invoice.
        assert sorted(amount(p["TotalAmt"]) for p in documents(sandbox, "Payment")) == [
            D("10.00"), D("10.01"), D("40.00"), D("40.60"), D("200.39")]

        # The buyer pays the awaiting order later; BigCommerce moves it on and records it.
        now = email.utils.format_datetime(datetime.now(UTC).replace(microsecond=0))
        awaiting.update(status_id=11, payment_status="captured", date_modified=now)
        awaiting["_transactions"] = [bc_transaction(3001, 300, "purchase", "credit_card",
                                                    "75.50", "stripe", "pi_300", now)]
        second = cli.sync("bc")
        assert second["status"] == "succeeded", second
        assert [(d["order"], d["kind"]) for d in second["documents"]] == [("300", "Payment")]
        assert list_requests(store)[-1].param("min_date_modified") is not None
    invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
    assert len(invoices) == 4 and amount(invoices["300"]["Balance"]) == D("0.00")
    assert_no_file_holds(cli.data_dir, BC_TOKEN)


def test_the_api_path_copied_from_bigcommerce_names_the_api_and_the_store():
    with FakeBigCommerce([bc_order(7)]) as store:
        pasted = f"{store.url}/stores/{BC_HASH}/v3/"
        for settings in ({"api_url": pasted}, {"api_url": pasted, "store_hash": BC_HASH}):
            source = BigCommerceSource(settings, {"access_token": BC_TOKEN}, sleep=[].append)
            assert source.store_hash == BC_HASH
            assert [order.number for order in fetch(source)] == ["7"]
            assert source.store_key == f"bigcommerce|{BC_HASH}"
    assert BigCommerceSource.normalized_settings(
        {"api_url": "https://api.bigcommerce.com/stores/abc123/v2", "timezone": ""}) == {
        "api_url": "https://api.bigcommerce.com", "store_hash": "abc123", "timezone": ""}
    with pytest.raises(SetupError) as caught:
        BigCommerceSource.normalized_settings(
            {"api_url": "https://api.bigcommerce.com/stores/abc123/v3/", "store_hash": "zzz9"})
    assert caught.value.field == "store_hash" and "'abc123'" in str(caught.value)
    with pytest.raises(SetupError) as caught:
        BigCommerceSource.normalized_settings(
            {"api_url": "https://api.bigcommerce.com/v3/catalog/products"})
    assert caught.value.field == "api_url" and "API path shown" in str(caught.value)
