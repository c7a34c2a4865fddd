"""The contract every registered source kind keeps, checked the same way for each.

Adding a source is one entry: a `StoreKind` subclass below, whose `stock` fills the source's fake
store (tests/fakes/) with plain orders and yields a `Stocked`, saying why (`no_throttling`, …)
where the source truly lacks a feature; then its entry in CONTRACTS under the source's `kind`.
`test_every_registered_source_keeps_the_contract` fails until every kind the app registers has one.
"""

from __future__ import annotations

import email.utils
import logging
import sys
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import ClassVar

import pytest

from connex_desktop.app import SOURCE_KINDS
from connex_desktop.core.errors import ReconnectError
from connex_desktop.core.model import Order
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import FailedOrder, OrderQuery, Source
from connex_desktop.sources.csv_file import PAGE_SIZE_ORDERS as CSV_PAGE_SIZE
from connex_desktop.sources.shopify import (
    CONNECTION_COST,
    ESTIMATED_ORDER_COST,
    PACING_MARGIN_S,
    QUERY_COST_BUDGET,
)
from tests.fakes.erply import (
    ERPLY_CODE,
    ERPLY_PASSWORD,
    ERPLY_USER,
    FakeErply,
    erply_document,
    erply_row,
)
from tests.fakes.lightspeed_r import (
    LSR_ACCOUNT,
    LSR_CLIENT_ID,
    LSR_CLIENT_SECRET,
    LSR_REFRESH,
    FakeLightspeedR,
    lsr_line,
    lsr_sale,
)
from tests.fakes.lightspeed_x import LSX_TOKEN, FakeLightspeedX, lsx_line, lsx_sale
from tests.fakes.linnworks import LW_APP_ID, LW_SECRET, LW_TOKEN, FakeLinnworks, lw_item, lw_order
from tests.fakes.linnworks import RETRY_AFTER_S as LINNWORKS_RETRY_AFTER_S
from tests.fakes.shopify import RESTORE_RATE_PER_S, Clock, FakeShopify, line_item
from tests.fakes.shopify import order as shopify_order
from tests.fakes.skuvault import (
    CALL_LEVELS,
    LEVELS,
    SV_EMAIL,
    SV_PASSWORD,
    TENANT_TOKEN,
    USER_TOKEN,
    WINDOW_MS,
    FakeSkuVault,
    sv_item,
    sv_sale,
)
from tests.fakes.stores import (
    BC_HASH,
    BC_TOKEN,
    WOO_KEY,
    WOO_ORDERS_PATH,
    WOO_SECRET,
    FakeBigCommerce,
    FakeWooCommerce,
    Reply,
    bc_order,
    woo_order,
)

FIRST_DAY = date(2026, 11, 10)
DAYS = 5
FIRST_NUMBER = 1000
# What a store says when it asks for a pause: the seconds the source must wait before going on.
RETRY_AFTER_S = 3


def day_of(index: int) -> date:
    return FIRST_DAY + timedelta(days=index % DAYS)


def noon_utc(index: int) -> datetime:
    return datetime.combine(day_of(index), time(12), UTC)


@dataclass
class Stocked:
    """A fake store holding orders, and what the checks need to read it."""

    # A source reading the store; refused=True: one whose credentials the store refuses.
    source: Callable[..., Source]
    days: dict[str, date]                 # each stocked order's number and created day
    bad_number: str | None = None         # the order stocked as a bad record
    sleeps: list[float] | None = None     # the pauses the source made (None: it never waits)
    pages: Callable[[], int] | None = None    # listing requests the store received so far
    # Makes the store throttle the next request; returns the pause it asks for.
    throttle_once: Callable[[], float] | None = None
    secrets: tuple[str, ...] = ()         # every secret given, right or refused


class StoreKind(ABC):
    """One source kind under the contract."""

    page_size: ClassVar[int]
    bad_field: ClassVar[str] = ""         # the field the bad record names
    no_bad_record: ClassVar[str] = ""     # why none can be stocked, when none can
    no_throttling: ClassVar[str] = ""
    no_credentials: ClassVar[str] = ""

    @abstractmethod
    def stock(self, count: int, bad: int | None = None) -> AbstractContextManager[Stocked]:
        """A store of `count` orders (numbered from FIRST_NUMBER, one a day over DAYS days),
        order `bad` (an index) a bad record."""


def number(index: int) -> str:
    return str(FIRST_NUMBER + index)


def days(count: int) -> dict[str, date]:
    return {number(i): day_of(i) for i in range(count)}


class WooCommerce(StoreKind):
    page_size = 2
    bad_field = "quantity"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        orders = [woo_order(FIRST_NUMBER + i, created=noon_utc(i).strftime("%Y-%m-%dT%H:%M:%S"))
                  for i in range(count)]
        if bad is not None:
            orders[bad]["line_items"][0]["quantity"] = None
        refused_secret = "cs_0000refused0000refused0000refused00"
        sleeps: list[float] = []
        with FakeWooCommerce(orders) as fake:
            def source(refused: bool = False) -> Source:
                secrets = {"consumer_key": WOO_KEY,
                           "consumer_secret": refused_secret if refused else WOO_SECRET}
                return SOURCE_KINDS["woocommerce"](
                    {"store_url": fake.url, "keys_in_query": "false"}, secrets,
                    page_size=self.page_size, sleep=sleeps.append)

            def throttle_once() -> float:
                fake.queued.append(Reply(429, {"code": "too_many_requests"},
                                         {"Retry-After": str(RETRY_AFTER_S)}))
                return RETRY_AFTER_S

            yield Stocked(source, days(count), bad_number(bad), sleeps,
                          lambda: sum(r.path == WOO_ORDERS_PATH for r in fake.received),
                          throttle_once, (WOO_KEY, WOO_SECRET, refused_secret))


class BigCommerce(StoreKind):
    page_size = 2
    bad_field = "price_ex_tax"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        orders = [bc_order(FIRST_NUMBER + i, created=email.utils.format_datetime(noon_utc(i)))
                  for i in range(count)]
        if bad is not None:
            orders[bad]["_products"][0]["price_ex_tax"] = None
        refused_secret = "bc_tok_0000refused0000refused0000refused"
        sleeps: list[float] = []
        with FakeBigCommerce(orders) as fake:
            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["bigcommerce"](
                    {"store_hash": BC_HASH, "api_url": fake.url, "timezone": "UTC"},
                    {"access_token": refused_secret if refused else BC_TOKEN},
                    page_size=self.page_size, sleep=sleeps.append)

            def throttle_once() -> float:
                fake.queued.append(Reply(429, None, {
                    "X-Rate-Limit-Time-Reset-Ms": str(RETRY_AFTER_S * 1000),
                    "X-Rate-Limit-Requests-Left": "0"}))
                return RETRY_AFTER_S

            listing = f"/stores/{BC_HASH}/v2/orders"
            yield Stocked(source, days(count), bad_number(bad), sleeps,
                          lambda: sum(r.path == listing for r in fake.received),
                          throttle_once, (BC_TOKEN, refused_secret))


class Erply(StoreKind):
    page_size = 2
    bad_field = "amount"
    # Erply blocks an address that asks too often for a fixed ten seconds.
    BLOCK_S = 10.0

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        documents = [erply_document(FIRST_NUMBER + i, number(i),
                                    [erply_row("W", "Widget", "1", "10.00")],
                                    day=day_of(i).isoformat()) for i in range(count)]
        if bad is not None:
            documents[bad]["rows"][0]["amount"] = "lots"
        refused_secret = "Erply-refused-0000"
        sleeps: list[float] = []
        with FakeErply(documents) as fake:
            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["erply"](
                    {"client_code": ERPLY_CODE, "username": ERPLY_USER,
                     "api_url": f"{fake.url}/api/"},
                    {"password": refused_secret if refused else ERPLY_PASSWORD},
                    page_size=self.page_size, sleep=sleeps.append)

            def throttle_once() -> float:
                fake.queued.append(Reply(429, {"error": "Too many requests"}))
                return self.BLOCK_S

            yield Stocked(source, days(count), bad_number(bad), sleeps,
                          lambda: sum(f.get("request") == "getSalesDocuments"
                                      for f in fake.forms()),
                          throttle_once, (ERPLY_PASSWORD, refused_secret))


class LightspeedX(StoreKind):
    page_size = 2
    bad_field = "price_total"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        sales = [lsx_sale(f"sale-{i}", number(i), [lsx_line("prod-mug", 1, "5.00", "0")],
                          sale_date=noon_utc(i).isoformat()) for i in range(count)]
        if bad is not None:
            sales[bad]["line_items"][0]["price_total"] = "five"
        refused_secret = "lsxs_pt_0000refused0000refused0000refused"
        sleeps: list[float] = []
        with FakeLightspeedX(sales) as fake:
            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["lightspeed_x"](
                    {"domain_prefix": fake.url, "timezone": "UTC"},
                    {"personal_token": refused_secret if refused else LSX_TOKEN},
                    page_size=self.page_size, sleep=sleeps.append)

            def throttle_once() -> float:
                fake.queued.append(Reply(429, {"error": "Too Many Requests"},
                                         {"Retry-After": str(RETRY_AFTER_S)}))
                return RETRY_AFTER_S

            yield Stocked(source, days(count), bad_number(bad), sleeps,
                          lambda: sum(r.path.endswith("/sales") for r in fake.received),
                          throttle_once, (LSX_TOKEN, refused_secret))


class LightspeedR(StoreKind):
    page_size = 2
    bad_field = "unitPrice"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        sales = [lsr_sale(number(i), [lsr_line("6", 1, "5.00")], when=noon_utc(i).isoformat())
                 for i in range(count)]
        if bad is not None:
            sales[bad]["_lines"][0]["unitPrice"] = "five"
        refused_secret = "lsr_rt_0000refused0000refused0000refused"
        sleeps: list[float] = []
        now = [noon_utc(DAYS).timestamp()]

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            now[0] += seconds

        with FakeLightspeedR(sales, clock=lambda: now[0]) as fake:
            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["lightspeed_r"](
                    {"account_id": LSR_ACCOUNT, "client_id": LSR_CLIENT_ID, "api_url": fake.url,
                     "timezone": "UTC"},
                    {"client_secret": LSR_CLIENT_SECRET,
                     "refresh_token": refused_secret if refused else fake.refresh_token},
                    page_size=self.page_size, sleep=sleep, clock=lambda: now[0])

            def throttle_once() -> float:
                fake.level = fake.bucket_size      # other apps have filled the bucket
                return float(2 / fake.drip)        # a listing with relations costs 2

            yield Stocked(source, days(count), bad_number(bad), sleeps,
                          lambda: sum(r.path.endswith("/Sale.json") for r in fake.received),
                          throttle_once, (LSR_CLIENT_SECRET, LSR_REFRESH, refused_secret))


class Shopify(StoreKind):
    # Shopify sizes its pages by the query cost it may spend; the first page holds this many.
    page_size = (QUERY_COST_BUDGET - CONNECTION_COST) // ESTIMATED_ORDER_COST
    bad_field = "totalPriceSet"
    TOKEN = "shpat_0123456789abcdef_contract"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        orders = [shopify_order(FIRST_NUMBER + i, created=noon_utc(i).isoformat(),
                                lines=[line_item("MUG", "Mug", 1, "10.0")],
                                total="100.00" if i == bad else None) for i in range(count)]
        refused_secret = "shpat_0000refused0000refused"
        clock = Clock()
        with FakeShopify(orders, token=self.TOKEN, clock=clock) as fake:
            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["shopify"](
                    {"store_url": fake.url, "timezone": "UTC"},
                    {"access_token": refused_secret if refused else self.TOKEN},
                    sleep=clock.sleep, clock=clock)

            def throttle_once() -> float:
                fake.available = 0.0     # other apps have drained the shop's cost bucket
                requested = CONNECTION_COST + self.page_size * ESTIMATED_ORDER_COST
                return requested / RESTORE_RATE_PER_S + PACING_MARGIN_S

            yield Stocked(source, days(count), bad_number(bad), clock.sleeps,
                          lambda: len(fake.searches), throttle_once, (self.TOKEN, refused_secret))


class Linnworks(StoreKind):
    page_size = 2
    bad_field = "Cost"
    NOW_S = datetime(2026, 12, 1, tzinfo=UTC).timestamp()

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        orders = [lw_order(FIRST_NUMBER + i, [lw_item("W", 1, "5.00")],
                           received=noon_utc(i).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           updated=noon_utc(i).strftime("%Y-%m-%dT%H:%M:%SZ"))
                  for i in range(count)]
        if bad is not None:
            orders[bad]["Items"][0]["Cost"] = "five"
        refused_secret = "0000refused-0000-4000-8000-refused00000"
        sleeps: list[float] = []
        with FakeLinnworks(orders) as fake:
            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["linnworks"](
                    {"application_id": LW_APP_ID, "api_url": fake.url, "timezone": "UTC"},
                    {"application_secret": LW_SECRET,
                     "installation_token": refused_secret if refused else LW_TOKEN},
                    page_size=self.page_size, clock=lambda: self.NOW_S, sleep=sleeps.append)

            def throttle_once() -> float:
                fake.used["/v2/orders"] = fake.limits["/v2/orders"]   # the minute's calls spent
                return LINNWORKS_RETRY_AFTER_S

            yield Stocked(source, days(count), bad_number(bad), sleeps,
                          lambda: sum(r.path == "/v2/orders" for r in fake.received),
                          throttle_once, (LW_SECRET, LW_TOKEN, refused_secret))


class SkuVault(StoreKind):
    page_size = 1000     # the least SkuVault pages by
    bad_field = "Quantity"
    NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
    SALES = "/api/sales/getSalesByDate"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        sales = [sv_sale(f"1-1-{number(i)}", [sv_item("W", 1, "5.00")],
                         sale_date=noon_utc(i).strftime("%Y-%m-%dT%H:%M:%SZ"))
                 for i in range(count)]
        if bad is not None:
            sales[bad]["MerchantItems"][0]["Quantity"] = "several"
        refused_secret = "Sku-vault-refused-0000"
        sleeps: list[float] = []
        with FakeSkuVault(sales, clock_ms=lambda: self.NOW.timestamp() * 1000) as fake:
            def sleep(seconds: float) -> None:
                sleeps.append(seconds)
                fake.advance(seconds)

            def source(refused: bool = False) -> Source:
                return SOURCE_KINDS["skuvault"](
                    {"email": SV_EMAIL, "currency": "USD", "api_url": f"{fake.url}/api",
                     "timezone": "UTC"},
                    {"password": refused_secret if refused else SV_PASSWORD},
                    page_size=self.page_size, sleep=sleep,
                    clock=lambda: self.NOW.timestamp() + fake.offset_ms / 1000)

            def throttle_once() -> float:
                # The minute's Heavy calls are spent: the next waits for the window to reset.
                fake.windows[self.SALES] = (fake.now_ms(), LEVELS[CALL_LEVELS[self.SALES]])
                return WINDOW_MS / 1000

            yield Stocked(source, {f"1-1-{n}": day for n, day in days(count).items()},
                          None if bad is None else f"1-1-{number(bad)}", sleeps,
                          lambda: len(fake.bodies(self.SALES)), throttle_once,
                          (SV_PASSWORD, refused_secret, TENANT_TOKEN, USER_TOKEN))


class CsvFile(StoreKind):
    page_size = CSV_PAGE_SIZE
    bad_field = "Quantity"
    no_throttling = "an order file on this computer: nothing throttles it"
    no_credentials = "an order file needs no credentials and holds no secret"

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        rows = [f"{number(i)},{day_of(i)},MUG,{'x' if i == bad else 1},10.00"
                for i in range(count)]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "orders.csv"
            path.write_text("\n".join(["Order Number,Order Date,SKU,Quantity,Unit Price",
                                       *rows]) + "\n", encoding="utf-8")
            yield Stocked(lambda: SOURCE_KINDS["csv"]({"path": str(path)}, {}), days(count),
                          bad_number(bad))


class Demo(StoreKind):
    kind: ClassVar[str] = "demo"
    # The demo store's own page size, wherever its module lives.
    page_size = sys.modules[SOURCE_KINDS["demo"].__module__].PAGE_SIZE_ORDERS
    no_bad_record = "the demo store makes its own orders, all readable"
    no_throttling = "the demo store runs in this process: nothing throttles it"
    no_credentials = "the demo store needs no credentials and holds no secret"
    NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)

    @contextmanager
    def stock(self, count: int, bad: int | None = None) -> Iterator[Stocked]:
        def source() -> Source:
            return SOURCE_KINDS[self.kind]({"orders": str(count)}, {}, clock=lambda: self.NOW)

        made = list(source().fetch_orders(OrderQuery(), CancelToken()))
        assert all(isinstance(order, Order) for order in made)
        yield Stocked(source, {order.number: order.order_date for order in made
                               if isinstance(order, Order)})


class DemoPos(Demo):
    kind = "demo-pos"     # the demo POS store: its register sales, paged as the demo's orders


def bad_number(bad: int | None) -> str | None:
    return None if bad is None else number(bad)


CONTRACTS: dict[str, StoreKind] = {
    "csv": CsvFile(), "demo": Demo(), "demo-pos": DemoPos(), "erply": Erply(),
    "woocommerce": WooCommerce(), "bigcommerce": BigCommerce(), "lightspeed_r": LightspeedR(),
    "lightspeed_x": LightspeedX(), "shopify": Shopify(), "linnworks": Linnworks(),
    "skuvault": SkuVault(),
}


@pytest.fixture(params=sorted(CONTRACTS))
def kind(request: pytest.FixtureRequest) -> StoreKind:
    return CONTRACTS[request.param]


def fetch(source: Source, query: OrderQuery | None = None) -> list[Order | FailedOrder]:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def numbers(items: list[Order | FailedOrder]) -> list[str]:
    return sorted(item.number for item in items)


def test_every_registered_source_keeps_the_contract():
    assert sorted(CONTRACTS) == sorted(SOURCE_KINDS)


def test_every_page_is_walked_and_each_order_comes_once(kind: StoreKind):
    count = 2 * kind.page_size + 1     # two full pages and one more
    with kind.stock(count) as store:
        got = fetch(store.source())
        pages = store.pages() if store.pages else None
    assert all(isinstance(item, Order) for item in got), got
    assert numbers(got) == sorted(store.days) and len(store.days) == count
    if pages is not None:
        assert pages >= 3


def test_the_created_range_keeps_only_its_days(kind: StoreKind):
    with kind.stock(2 * DAYS) as store:
        stocked_days = sorted(set(store.days.values()))
        first, last = stocked_days[1], stocked_days[-2]
        got = fetch(store.source(), OrderQuery(created_from=first, created_to=last))
    wanted = sorted(n for n, day in store.days.items() if first <= day <= last)
    assert 0 < len(wanted) < len(store.days)
    assert numbers(got) == wanted


def test_one_order_by_its_number(kind: StoreKind):
    with kind.stock(2 * kind.page_size + 1) as store:
        wanted = sorted(store.days)[-1]     # past the first page
        got = fetch(store.source(), OrderQuery(numbers=(wanted,)))
    assert [(type(item), item.number) for item in got] == [(Order, wanted)]


def test_a_bad_record_fails_alone_naming_its_order_and_field(kind: StoreKind):
    if kind.no_bad_record:
        pytest.skip(kind.no_bad_record)
    with kind.stock(5, bad=2) as store:
        got = fetch(store.source())
    failed = [item for item in got if isinstance(item, FailedOrder)]
    assert [(item.number, item.field) for item in failed] == [(store.bad_number,
                                                                kind.bad_field)]
    assert failed[0].message
    assert numbers([item for item in got if isinstance(item, Order)]) == sorted(
        set(store.days) - {store.bad_number})


def test_throttling_is_waited_out(kind: StoreKind):
    if kind.no_throttling:
        pytest.skip(kind.no_throttling)
    with kind.stock(3) as store:
        assert store.throttle_once is not None and store.sleeps is not None
        asked_s = store.throttle_once()
        got = fetch(store.source())
    assert numbers(got) == sorted(store.days)
    assert store.sleeps[0] == pytest.approx(asked_s)


def test_refused_credentials_ask_to_reconnect(kind: StoreKind):
    if kind.no_credentials:
        pytest.skip(kind.no_credentials)
    with kind.stock(2) as store:
        source = store.source(refused=True)
        with pytest.raises(ReconnectError) as fetching:
            fetch(source)
        with pytest.raises(ReconnectError):
            source.check()
    assert "reconnect" in fetching.value.message.lower()


def test_no_secret_in_any_output(kind: StoreKind, caplog: pytest.LogCaptureFixture,
                                 capsys: pytest.CaptureFixture[str]):
    if kind.no_credentials:
        pytest.skip(kind.no_credentials)
    caplog.set_level(logging.DEBUG)
    with kind.stock(3, bad=None if kind.no_bad_record else 1) as store:
        outputs = [repr(item) for item in fetch(store.source())]
        if store.throttle_once:
            store.throttle_once()
            outputs += [repr(item) for item in fetch(store.source())]
        refused = store.source(refused=True)
        for attempt in (lambda: fetch(refused), refused.check):
            with pytest.raises(ReconnectError) as caught:
                attempt()
            outputs += [str(caught.value), caught.value.detail, repr(caught.value)]
    outputs += [caplog.text, *capsys.readouterr()]
    assert store.secrets
    for secret in store.secrets:
        assert not [text for text in outputs if secret in text], secret
