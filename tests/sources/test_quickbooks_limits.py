"""A store's order with a number QuickBooks cannot hold fails alone; the rest are read."""

from __future__ import annotations

from decimal import Decimal

from connex_desktop.core.model import Order
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.shopify import ShopifySource
from tests.fakes.shopify import (
    Clock,
    FakeShopify,
    line_item,
    order,
    shipping_line,
)

TOKEN = "shpat_0123456789abcdef_secret"


def test_shopify_order_with_an_absurd_amount_fails_alone():
    orders = [
        order(3001, created="2024-05-03T15:00:00Z", lines=[line_item("BIG", "Big", 1, "1e27")]),
        order(3002, created="2024-05-03T15:00:00Z", shipping=[shipping_line("12345678901.0")],
              lines=[line_item("MUG", "Mug", 1, "1.0")]),
        order(3003, created="2024-05-03T15:00:00Z",
              lines=[line_item("SOFA", "Sofa", 100_000, "100000.0")]),
        order(3004, created="2024-05-04T15:00:00Z", lines=[line_item("MUG", "Mug", 2, "12.5")]),
    ]
    clock = Clock()
    with FakeShopify(orders, token=TOKEN, clock=clock) as store:
        source = ShopifySource({"store_url": store.url, "timezone": "UTC"},
                               {"access_token": TOKEN}, sleep=clock.sleep, clock=clock)
        results = {r.number: r for r in source.fetch_orders(OrderQuery(), CancelToken())}
    for number, field in (("3001", "lineItems[0].originalUnitPriceSet"),
                          ("3002", "shippingLines[0].discountedPriceSet"),
                          ("3003", "totalPriceSet")):
        failure = results[number]
        assert isinstance(failure, FailedOrder), failure
        assert failure.field == field
        assert "QuickBooks" in failure.message
    good = results["3004"]
    assert isinstance(good, Order) and good.total == Decimal("25.00")
