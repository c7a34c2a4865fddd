"""Shopify: orders through the GraphQL Admin API, paced by its query-cost bucket."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock_time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

import requests

from connex_desktop.core.errors import (
    Cancelled,
    ConnexError,
    OrderDataError,
    ReconnectError,
    SetupError,
)
from connex_desktop.core.model import (
    CLOSED_PAYMENT_STATUSES,
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import (
    TOO_LARGE_FOR_QUICKBOOKS,
    ZERO,
    MoneyError,
    fits_quickbooks,
    money,
    money_text,
    quantity,
)
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import within_quickbooks_rules
from connex_desktop.sources.base import (
    TIMEZONE_SETTING,
    FailedOrder,
    FieldKind,
    OrderQuery,
    SettingField,
    Source,
)
from connex_desktop.sources.http import RepeatGuard, StoreHttp, address_key, require_https

STORE = "Shopify"
DEFAULT_API_VERSION = "2025-10"

# Shopify refuses a query whose worst-case (requested) cost is over 1,000 points
# (MAX_COST_EXCEEDED); aim below it, since our estimate of Shopify's pricing may run low.
QUERY_COST_BUDGET = 900
MAX_PAGE_SIZE = 250
# Nested page sizes. Every nested `first` multiplies the cost of each order on the page, so
# they are small: line items beyond the first page are fetched per order (LINES_PAGE_SIZE at a
# time); the other lists are bounded and an order that reaches a bound is reported, not guessed.
LINES_PER_ORDER = 10
LINES_PAGE_SIZE = 80
SHIPPING_LINES_PER_ORDER = 5
TRANSACTIONS_PER_ORDER = 20
REFUNDS_PER_ORDER = 10
# The cost of each part as Shopify prices it (an object 1, a MoneyBag and its MoneyV2 2, a
# connection 2 plus `first` times its node): used for the first page, before Shopify has said.
CONNECTION_COST = 2
ORDER_OWN_COST = 1 + 1 + 2 + 3 * 2        # order, customer, 2 addresses, 3 money bags
LINE_COST = 1 + 2 + 3 + 3                 # line, unit price, a discount, a tax line
SHIPPING_LINE_COST = 1 + 2 + 2 + 3        # line, original and discounted price, a tax line
TRANSACTION_COST = 1 + 2
REFUND_COST = 1 + 2
ESTIMATED_ORDER_COST = (ORDER_OWN_COST
                        + CONNECTION_COST + LINES_PER_ORDER * LINE_COST
                        + CONNECTION_COST + SHIPPING_LINES_PER_ORDER * SHIPPING_LINE_COST
                        + TRANSACTIONS_PER_ORDER * TRANSACTION_COST
                        + REFUNDS_PER_ORDER * REFUND_COST)
# When Shopify says THROTTLED without its bucket figures, wait this long before retrying.
THROTTLED_FALLBACK_WAIT_S = 1.0
# Waits computed from the bucket run this much longer: the bucket is measured on Shopify's
# side, and arriving a moment early earns another THROTTLED.
PACING_MARGIN_S = 0.05
# A tax-inclusive order whose per-line taxes differ from its order tax by at most this much per
# line is the store's rounding, not an error.
ROUNDING_PER_LINE = Decimal("0.01")
MONEY_SET = "{ shopMoney { amount currencyCode } }"
UNIT_PRICE_PLACES = Decimal("0.000001")

_TAX_LINES = f"taxLines {{ title rate priceSet {MONEY_SET} }}"
_LINE_FIELDS = f"""sku name quantity
          originalUnitPriceSet {MONEY_SET}
          discountAllocations {{ allocatedAmountSet {MONEY_SET} }}
          {_TAX_LINES}"""
_ADDRESS = "name company address1 address2 city provinceCode zip countryCodeV2 phone"

ORDERS_QUERY = f"""
query Orders($first: Int!, $after: String, $query: String!, $sortKey: OrderSortKeys!,
             $lines: Int!) {{
  orders(first: $first, after: $after, query: $query, sortKey: $sortKey) {{
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id name createdAt processedAt updatedAt cancelledAt
      displayFinancialStatus displayFulfillmentStatus
      currencyCode taxesIncluded email poNumber tags sourceName paymentGatewayNames
      customer {{ id displayName }}
      billingAddress {{ {_ADDRESS} }}
      shippingAddress {{ {_ADDRESS} }}
      totalDiscountsSet {MONEY_SET}
      totalTaxSet {MONEY_SET}
      totalPriceSet {MONEY_SET}
      lineItems(first: $lines) {{
        pageInfo {{ hasNextPage endCursor }}
        nodes {{ {_LINE_FIELDS} }}
      }}
      shippingLines(first: {SHIPPING_LINES_PER_ORDER}) {{
        pageInfo {{ hasNextPage }}
        nodes {{ title code
          originalPriceSet {MONEY_SET}
          discountedPriceSet {MONEY_SET}
          {_TAX_LINES} }}
      }}
      transactions(first: {TRANSACTIONS_PER_ORDER}) {{
        kind status gateway processedAt
        amountSet {MONEY_SET}
      }}
      refunds(first: {REFUNDS_PER_ORDER}) {{ id createdAt totalRefundedSet {MONEY_SET} }}
    }}
  }}
}}
"""

ORDER_LINES_QUERY = f"""
query OrderLines($id: ID!, $first: Int!, $after: String) {{
  order(id: $id) {{
    lineItems(first: $first, after: $after) {{
      pageInfo {{ hasNextPage endCursor }}
      nodes {{ {_LINE_FIELDS} }}
    }}
  }}
}}
"""

CHECK_QUERY = """
query Check($query: String!) {
  orders(first: 1, query: $query, sortKey: CREATED_AT, reverse: true) {
    nodes { id name createdAt }
  }
}
"""

READ_ALL_ORDERS_NOTE = ("Shopify shows only the last 60 days of orders unless the app also has "
                        "the read_all_orders scope.")

FINANCIAL_STATUSES: tuple[str, ...] = (
    "authorized", "expired", "paid", "partially_paid", "partially_refunded", "pending",
    "refunded", "voided",
)
PAYMENT_STATUSES: dict[str, PaymentStatus] = {
    "PAID": PaymentStatus.PAID,
    # Money was returned but some was kept: the sale stands and the refunds are listed.
    "PARTIALLY_REFUNDED": PaymentStatus.PAID,
    "PARTIALLY_PAID": PaymentStatus.PARTIALLY_PAID,
    "PENDING": PaymentStatus.UNPAID,
    # Authorised but not captured: no money has moved yet.
    "AUTHORIZED": PaymentStatus.UNPAID,
    "REFUNDED": PaymentStatus.REFUNDED,
    "VOIDED": PaymentStatus.VOIDED,
    # The authorisation lapsed uncaptured: nothing will be paid on it.
    "EXPIRED": PaymentStatus.VOIDED,
}
MONEY_IN_KINDS = frozenset({"SALE", "CAPTURE"})

Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass
class CostBucket:
    """Shopify's leaky bucket as its last answer described it, to pace the next query."""

    available: float | None = None
    restore_rate: float = 0.0
    seen_at_s: float = 0.0

    def update(self, cost: Mapping[str, Any], now_s: float) -> None:
        status = cost.get("throttleStatus") or {}
        if "currentlyAvailable" in status and status.get("restoreRate"):
            self.available = float(status["currentlyAvailable"])
            self.restore_rate = float(status["restoreRate"])
            self.seen_at_s = now_s

    def wait_s(self, needed: float, now_s: float) -> float:
        """Seconds until the bucket holds `needed` points (0 when it does or is unknown)."""
        if self.available is None or self.restore_rate <= 0:
            return 0.0
        refilled = self.available + (now_s - self.seen_at_s) * self.restore_rate
        if refilled >= needed:
            return 0.0
        return (needed - refilled) / self.restore_rate + PACING_MARGIN_S


def throttled_wait_s(response: requests.Response) -> float | None:
    """How long to wait before repeating a query Shopify answered THROTTLED (None: it did not).

    Shopify signals throttling in the body of an HTTP 200; the wait is what the bucket needs to
    refill to the query's requested cost at the restore rate.
    """
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or not any(
            _error_code(error) == "THROTTLED" for error in body.get("errors") or ()):
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    try:
        needed = _points(cost["requestedQueryCost"])
        available = float(status["currentlyAvailable"])
        rate = float(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return THROTTLED_FALLBACK_WAIT_S
    if rate <= 0:
        return THROTTLED_FALLBACK_WAIT_S
    return max(0.0, (needed - available) / rate) + PACING_MARGIN_S


def _error_code(error: Any) -> str:
    return str(((error or {}).get("extensions") or {}).get("code", "")) if isinstance(
        error, dict) else ""


class _CostExceeded(Exception):
    """Shopify refused a query as too costly (MAX_COST_EXCEEDED); ask for less and repeat."""


def _smaller_page(page_size: int, what: str) -> int:
    """Half the page Shopify refused as too costly; a page of one it refuses is a setup error."""
    if page_size == 1:
        raise SetupError(f"Shopify refuses even one {what} per query as too costly.") from None
    return max(1, page_size // 2)


class ShopifyClient:
    """GraphQL calls to one shop: pacing by the cost bucket, errors made plain."""

    def __init__(self, shop_url: str, api_version: str, token: str, *, sleep: Sleep,
                 clock: Clock, checking: bool = False) -> None:
        self.endpoint = f"{shop_url}/admin/api/{api_version}/graphql.json"
        self.token = token
        self.bucket = CostBucket()
        self.last_requested_cost = 0.0
        self.clock = clock
        self.http = StoreHttp(STORE, secrets=[token], throttle=throttled_wait_s, sleep=sleep,
                              clock=clock, checking=checking)

    def query(self, text: str, variables: Mapping[str, Any], *, expected_cost: float,
              cancel: CancelToken) -> dict[str, Any]:
        """The `data` of one query, after waiting for the bucket to hold `expected_cost`."""
        wait_s = self.bucket.wait_s(expected_cost, self.clock())
        if wait_s > 0:
            self.http.pause(wait_s, cancel)
        response = self.http.request(
            "POST", self.endpoint, json={"query": text, "variables": dict(variables)},
            headers={"X-Shopify-Access-Token": self.token, "Content-Type": "application/json"},
            cancel=cancel)
        body = self.http.json(response)
        if not isinstance(body, dict):
            raise SetupError("Shopify answered with something other than GraphQL data; check "
                             "the shop address.", field="store_url")
        extensions = body.get("extensions") or {}
        self.bucket.update(extensions.get("cost") or {}, self.clock())
        self.last_requested_cost = _points((extensions.get("cost") or {}).get(
            "requestedQueryCost") or expected_cost)
        errors = body.get("errors") or []
        codes = {_error_code(error) for error in errors}
        if "MAX_COST_EXCEEDED" in codes:
            raise _CostExceeded()
        if "ACCESS_DENIED" in codes:
            raise ReconnectError(
                "Reconnect the store: the Shopify access token may not read orders. Give the "
                "app the read_orders scope (and read_all_orders for older orders) and enter "
                "its new token.", detail=self._messages(errors))
        if errors or not isinstance(body.get("data"), dict):
            raise SetupError("Shopify refused the orders query.",
                             detail=self._messages(errors))
        return body["data"]

    def _messages(self, errors: Sequence[Any]) -> str:
        words = "; ".join(str(e.get("message", "")) for e in errors if isinstance(e, dict))
        return self.http.scrub(words)[:300]


class ShopifySource(Source):
    """A Shopify store, through a custom app's Admin API access token (GraphQL Admin API).

    Order numbers drop Shopify's leading '#' ("#1001" books as "1001"); a store whose numbers
    carry another prefix or suffix keeps it. The booking date is the order's processing time
    in the store's time zone (a setting, as in Shopify's Settings → General; blank: this
    computer's, as for every store).

    `status` is Shopify's own financial status ("paid", "partially_refunded", ...), the one
    vocabulary a connection filters on: Shopify's search filters on it, and the engine compares
    each order's `status` with the connection's. `payment_status` maps it onto the canonical
    states (a cancelled order is cancelled whatever its financial status). Fulfilment does not
    decide what is booked and stays in `raw`.
    """

    kind: ClassVar[str] = "shopify"
    label: ClassVar[str] = "Shopify"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("store_url", "Shop address", FieldKind.URL,
                     help="Your shop's admin address, e.g. https://my-shop.myshopify.com"),
        SettingField("access_token", "Admin API access token", secret=True,
                     help="From a custom app with the read_orders scope. "
                          + READ_ALL_ORDERS_NOTE),
        SettingField("api_version", "API version", required=False,
                     default=DEFAULT_API_VERSION,
                     help="The Admin API version to use, YYYY-MM; Shopify supports each "
                          "version for at least a year."),
        TIMEZONE_SETTING,
    )
    statuses: ClassVar[tuple[str, ...]] = FINANCIAL_STATUSES
    no_sale_statuses: ClassVar[tuple[str, ...]] = tuple(
        status for status in FINANCIAL_STATUSES
        if PAYMENT_STATUSES[status.upper()] in CLOSED_PAYMENT_STATUSES)

    def __init__(self, settings: Mapping[str, str], secrets: Mapping[str, str], *,
                 sleep: Sleep = time.sleep, clock: Clock = time.time) -> None:
        super().__init__(settings, secrets)
        self._sleep = sleep
        self._clock = clock

    # -- settings -------------------------------------------------------------------------------

    @property
    def shop_url(self) -> str:
        text = self.settings.get("store_url", "").strip()
        if not text:
            raise SetupError("No Shopify shop address is set.", field="store_url")
        if "://" not in text:
            text = f"https://{text}"
        return require_https(text, STORE)

    @property
    def store_key(self) -> str:
        return f"{self.kind}|{address_key(self.shop_url)}"

    def _client(self, *, checking: bool = False) -> ShopifyClient:
        token = self.secrets.get("access_token", "").strip()
        if not token:
            raise ReconnectError("Reconnect the store: no Shopify access token is saved.",
                                 field="access_token")
        version = self.settings.get("api_version", "").strip() or DEFAULT_API_VERSION
        return ShopifyClient(self.shop_url, version, token, sleep=self._sleep,
                             clock=self._clock, checking=checking)

    def check(self) -> str:
        client = self._client(checking=True)
        self.timezone  # noqa: B018 - a wrong zone should fail here, not mid-sync
        data = client.query(CHECK_QUERY, {"query": "status:any"},
                            expected_cost=CONNECTION_COST + 1, cancel=CancelToken())
        nodes = data["orders"]["nodes"]
        newest = f" The newest order is {nodes[0]['name']}." if nodes else ""
        return f"Connected to {self.shop_url}.{newest} {READ_ALL_ORDERS_NOTE}"

    # -- orders ---------------------------------------------------------------------------------

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        client = self._client()
        zone = self.timezone
        search = search_string(query, zone)
        sort_key = "UPDATED_AT" if query.modified_since and not query.numbers else "CREATED_AT"
        wanted_numbers = {number_of(n) for n in query.numbers}
        page_size = max(1, min(MAX_PAGE_SIZE, (QUERY_COST_BUDGET - CONNECTION_COST)
                               // ESTIMATED_ORDER_COST))
        per_order_cost = float(ESTIMATED_ORDER_COST)
        cursor: str | None = None
        seen = RepeatGuard()
        yielded = RepeatGuard()   # a store that repeats itself yields no order twice
        while True:
            if cancel.cancelled:
                raise Cancelled()
            variables = {"first": page_size, "after": cursor, "query": search,
                         "sortKey": sort_key, "lines": LINES_PER_ORDER}
            try:
                data = client.query(ORDERS_QUERY, variables, cancel=cancel,
                                    expected_cost=CONNECTION_COST + page_size * per_order_cost)
            except _CostExceeded:
                page_size = _smaller_page(page_size, "order")
                continue
            # Size the next page from what Shopify says this one cost.
            per_order_cost = max(1.0, (client.last_requested_cost - CONNECTION_COST)
                                 / page_size)
            page_size = max(1, min(MAX_PAGE_SIZE, int((QUERY_COST_BUDGET - CONNECTION_COST)
                                                      // per_order_cost)))
            connection = data.get("orders") or {}
            nodes = connection.get("nodes") or []
            for node in nodes:
                if wanted_numbers and number_of(str(node.get("name", ""))) not in wanted_numbers:
                    continue
                if not yielded.repeated(node.get("id")):
                    yield self._read(node, client, zone, cancel)
            info = connection.get("pageInfo") or {}
            cursor = info.get("endCursor")
            if not nodes or not info.get("hasNextPage") or not cursor or seen.repeated(cursor):
                return

    def _read(self, node: Mapping[str, Any], client: ShopifyClient, zone: tzinfo,
              cancel: CancelToken) -> Order | FailedOrder:
        number = number_of(str(node.get("name", "")))
        try:
            lines = list((node.get("lineItems") or {}).get("nodes") or [])
            info = (node.get("lineItems") or {}).get("pageInfo") or {}
            lines.extend(self._more_lines(node, info, client, cancel))
            read = order_from_node(node, lines, zone)
            return within_quickbooks_rules(read) if isinstance(read, Order) else read
        except (OrderDataError, MoneyError, KeyError, TypeError, ValueError) as exc:
            message = exc.message if isinstance(exc, ConnexError) else (
                f"Shopify sent an order that cannot be read ({type(exc).__name__}: {exc}).")
            field_name = exc.field if isinstance(exc, ConnexError) else ""
            return FailedOrder(number, message, field=field_name)

    def _more_lines(self, node: Mapping[str, Any], info: Mapping[str, Any],
                    client: ShopifyClient, cancel: CancelToken) -> Iterator[Mapping[str, Any]]:
        """The order's line items past the first page, following Shopify's cursor."""
        seen = RepeatGuard()
        cursor = info.get("endCursor")
        more = bool(info.get("hasNextPage")) and not seen.repeated(cursor)
        page_size = LINES_PAGE_SIZE
        while more and cursor:
            try:
                data = client.query(
                    ORDER_LINES_QUERY, {"id": node["id"], "first": page_size, "after": cursor},
                    expected_cost=1 + CONNECTION_COST + page_size * LINE_COST, cancel=cancel)
            except _CostExceeded:
                page_size = _smaller_page(page_size, "line item")
                continue
            items = ((data.get("order") or {}).get("lineItems")) or {}
            page = items.get("nodes") or []
            yield from page
            page_info = items.get("pageInfo") or {}
            cursor = page_info.get("endCursor")
            more = bool(page and page_info.get("hasNextPage")) and not seen.repeated(cursor)


# -- the search string --------------------------------------------------------------------------

def search_string(query: OrderQuery, zone: tzinfo) -> str:
    """Shopify's `query:` search for `query`: order names, or date bounds, and statuses.

    Dates are the store's calendar days; bounds go out as instants with the store's offset.
    """
    terms = ["status:any"]
    if query.numbers:
        names = [f"name:{_quoted('#' + number_of(n))}" for n in query.numbers]
        terms.append(_any_of(names))
        return " ".join(terms)
    if query.created_from:
        terms.append(f"created_at:>={_quoted(_day_start(query.created_from, zone))}")
    if query.created_to:
        after_last_day = query.created_to + timedelta(days=1)
        terms.append(f"created_at:<{_quoted(_day_start(after_last_day, zone))}")
    if query.modified_since:
        since = query.modified_since
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        terms.append(f"updated_at:>={_quoted(since.astimezone(UTC).isoformat())}")
    financial = [f"financial_status:{s}" for s in query.statuses if s in FINANCIAL_STATUSES]
    if financial:
        terms.append(_any_of(financial))
    return " ".join(terms)


def _day_start(day: date, zone: tzinfo) -> str:
    return datetime.combine(day, clock_time(0), tzinfo=zone).isoformat()


def _quoted(value: str) -> str:
    # Shopify's search syntax wants date values quoted; names may hold '#'.
    return "'" + value.replace("'", "") + "'"


def _any_of(terms: Sequence[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


# -- mapping --------------------------------------------------------------------------------------

def number_of(name: str) -> str:
    """The order number to book: Shopify's name without its leading '#'."""
    name = name.strip()
    return name[1:] if name.startswith("#") else name


def shop_amount(money_set: Any, what: str, order: str) -> Decimal:
    """The shop-currency amount of a MoneyBag, from its decimal string."""
    try:
        amount = quantity(money_set["shopMoney"]["amount"])   # exact, checked before rounding
    except (KeyError, TypeError, MoneyError):
        raise OrderDataError(f"Shopify sent no readable amount for {what}.", order=order,
                             field=what) from None
    if not fits_quickbooks(amount):
        raise OrderDataError(f"Shopify sent {amount} for {what}, {TOO_LARGE_FOR_QUICKBOOKS}.",
                             order=order, field=what)
    return money(amount)


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _local_date(text: str | None, zone: tzinfo) -> date | None:
    instant = _instant(text)
    return instant.astimezone(zone).date() if instant else None


def _address(node: Any) -> Address:
    if not isinstance(node, Mapping):
        return Address()
    return Address(line1=node.get("address1") or "", line2=node.get("address2") or "",
                   city=node.get("city") or "", region=node.get("provinceCode") or "",
                   postal_code=node.get("zip") or "", country=node.get("countryCodeV2") or "")


@dataclass(frozen=True)
class _Line:
    """A line as Shopify states it, before any tax is backed out."""

    line: OrderLine
    tax: Decimal


def _read_line(item: Mapping[str, Any], order: str, index: int) -> _Line:
    where = f"lineItems[{index}]"
    discount = sum((shop_amount(d.get("allocatedAmountSet"), f"{where}.discountAllocations",
                                order) for d in item.get("discountAllocations") or ()), ZERO)
    tax_lines = item.get("taxLines") or ()
    tax = sum((shop_amount(t.get("priceSet"), f"{where}.taxLines", order) for t in tax_lines),
              ZERO)
    try:
        count = quantity(item["quantity"])
    except (KeyError, MoneyError):
        raise OrderDataError("Shopify sent a line without a readable quantity.", order=order,
                             field=f"{where}.quantity") from None
    if not fits_quickbooks(count):
        raise OrderDataError(f"Shopify sent a quantity of {count}, {TOO_LARGE_FOR_QUICKBOOKS}.",
                             order=order, field=f"{where}.quantity")
    line = OrderLine(sku=item.get("sku") or "", name=item.get("name") or "", quantity=count,
                     unit_price=shop_amount(item.get("originalUnitPriceSet"),
                                            f"{where}.originalUnitPriceSet", order),
                     discount=discount, taxable=bool(tax_lines),
                     tax_rate=_tax_percent(tax_lines))
    return _Line(line, tax)


def _tax_percent(tax_lines: Sequence[Mapping[str, Any]]) -> Decimal | None:
    """The rates of a line's taxes together, in percent (Shopify gives 0.2 for 20 %); None
    when it has none or one without a readable rate."""
    rates = [t.get("rate") for t in tax_lines]
    if not rates or not all(isinstance(rate, Decimal | int | str) for rate in rates):
        return None
    try:
        return sum((Decimal(str(rate)) * 100 for rate in rates), Decimal(0)).normalize()
    except ArithmeticError:
        return None


def _without_tax(stated: _Line) -> OrderLine:
    """A tax-inclusive line as a tax-exclusive one with the same share of discount.

    The unit price keeps six places so quantity × price rounds back to the exact cent.
    """
    line = stated.line
    inclusive = line.amount
    if stated.tax == ZERO or inclusive <= ZERO or line.quantity == 0:
        return line
    net = inclusive - stated.tax
    discount = money(line.discount * net / inclusive)
    unit = ((net + discount) / line.quantity).quantize(UNIT_PRICE_PLACES, ROUND_HALF_UP)
    gross = money(line.quantity * unit)
    return replace(line, unit_price=unit, discount=gross - net)


def order_from_node(node: Mapping[str, Any], line_items: Sequence[Mapping[str, Any]],
                    zone: tzinfo) -> Order | FailedOrder:
    """The canonical order for one Shopify order node (shop currency throughout)."""
    number = number_of(str(node["name"]))
    unread = _more_than_read(node, number)
    if unread is not None:
        return unread
    included = bool(node.get("taxesIncluded"))
    stated = [_read_line(item, number, i) for i, item in enumerate(line_items)]
    lines = [_without_tax(s) if included else s.line for s in stated]
    shipping, shipping_discount = _shipping(node, included, number)
    allocated = sum((s.line.discount for s in stated), ZERO)
    # totalDiscountsSet already holds the line allocations (and the shipping discounts, which
    # the discounted shipping price carries): only what remains is an order-level discount.
    discount = max(ZERO, shop_amount(node.get("totalDiscountsSet"), "totalDiscountsSet", number)
                   - allocated - shipping_discount)
    total = shop_amount(node.get("totalPriceSet"), "totalPriceSet", number)
    tax = shop_amount(node.get("totalTaxSet"), "totalTaxSet", number)
    notes = [f"PO {node['poNumber']}"] if node.get("poNumber") else []
    gap = total - (sum((line.amount for line in lines), ZERO) - discount + shipping + tax)
    if gap and included and lines and abs(gap) <= ROUNDING_PER_LINE * (len(lines) + 1):
        notes.append(_absorb_tax_rounding(lines, gap))
    elif gap:
        return FailedOrder(number, f"the order's parts add up to {money_text(total - gap)} but "
                           f"Shopify's total is {money_text(total)}; nothing was booked.",
                           field="totalPriceSet")
    payments = _payments(node.get("transactions") or [], number, zone)
    refunds = _refunds(node, number, zone)
    booked_on = _local_date(node.get("processedAt") or node.get("createdAt"), zone)
    if booked_on is None:
        return FailedOrder(number, "Shopify sent the order without a date.", field="processedAt")
    financial = str(node.get("displayFinancialStatus") or "PENDING")
    payment_status = (PaymentStatus.CANCELLED if node.get("cancelledAt")
                      else PAYMENT_STATUSES.get(financial, PaymentStatus.UNPAID))
    return Order(
        source=ShopifySource.kind,
        source_id=str(node["id"]),
        number=number,
        order_date=booked_on,
        status=financial.lower(),
        payment_status=payment_status,
        currency=str(node.get("currencyCode") or ""),
        buyer=_buyer(node),
        lines=tuple(lines),
        total=total,
        billing_address=_address(node.get("billingAddress")),
        shipping_address=_address(node.get("shippingAddress")),
        shipping=shipping,
        discount=discount,
        tax=tax,
        shipping_tax_rate=_shipping_tax_rate(node),
        payments=tuple(payments),
        refunds=refunds,
        notes=" ".join(notes),
        updated_at=_instant(node.get("updatedAt")),
        tags=tuple(str(tag) for tag in node.get("tags") or ()),
        channel=str(node.get("sourceName") or ""),
        payment_gateways=tuple(str(name) for name in node.get("paymentGatewayNames") or ()),
        raw=dict(node),
    )


def _more_than_read(node: Mapping[str, Any], number: str) -> FailedOrder | None:
    """A failure when the order has more shipping lines or transactions than a query reads."""
    if ((node.get("shippingLines") or {}).get("pageInfo") or {}).get("hasNextPage"):
        return FailedOrder(number, f"the order has more than {SHIPPING_LINES_PER_ORDER} "
                           "shipping lines; book it by hand.", field="shippingLines")
    if len(node.get("transactions") or []) >= TRANSACTIONS_PER_ORDER:
        return FailedOrder(number, f"the order has {TRANSACTIONS_PER_ORDER} or more payment "
                           "transactions, more than are read; book it by hand.",
                           field="transactions")
    return None


def _shipping_nodes(node: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    return (node.get("shippingLines") or {}).get("nodes") or ()


def _shipping(node: Mapping[str, Any], included: bool, number: str) -> tuple[Decimal, Decimal]:
    """The shipping charged (without tax) and the discount taken off it, over all its lines."""
    shipping = ZERO
    shipping_discount = ZERO
    for i, ship in enumerate(_shipping_nodes(node)):
        where = f"shippingLines[{i}]"
        charged = shop_amount(ship.get("discountedPriceSet"), f"{where}.discountedPriceSet",
                              number)
        shipping_discount += shop_amount(ship.get("originalPriceSet"),
                                         f"{where}.originalPriceSet", number) - charged
        if included:
            charged -= sum((shop_amount(t.get("priceSet"), f"{where}.taxLines", number)
                            for t in ship.get("taxLines") or ()), ZERO)
        shipping += charged
    return shipping, shipping_discount


def _shipping_tax_rate(node: Mapping[str, Any]) -> Decimal | None:
    """One rate for all shipping lines, or None to leave the engine to tell it from the tax."""
    rates = {_tax_percent(ship.get("taxLines") or ()) for ship in _shipping_nodes(node)}
    return rates.pop() if len(rates) == 1 else None


def _absorb_tax_rounding(lines: list[OrderLine], gap: Decimal) -> str:
    """Puts the store's tax-rounding `gap` on the largest line; the note that says so."""
    # The store rounded tax for the order, not per line: the buyer paid `total` and owes
    # `tax`, so the cents belong to the revenue; they go on the largest line, said aloud.
    largest = max(range(len(lines)), key=lambda i: lines[i].amount)
    lines[largest] = replace(lines[largest], discount=lines[largest].discount - gap)
    return f"{gap:+.2f} on line {largest + 1} for the store's tax rounding."


def _payments(transactions: Sequence[Mapping[str, Any]], number: str,
              zone: tzinfo) -> list[Payment]:
    """The successful sales and captures, oldest first."""
    return sorted(
        (Payment(amount=shop_amount(t.get("amountSet"), "transactions.amountSet", number),
                 method=str(t.get("gateway") or ""),
                 paid_on=_local_date(t.get("processedAt"), zone))
         for t in transactions
         if t.get("kind") in MONEY_IN_KINDS and t.get("status") == "SUCCESS"),
        key=lambda p: p.paid_on or date.min)


def _refunds(node: Mapping[str, Any], number: str, zone: tzinfo) -> tuple[Refund, ...]:
    return tuple(
        Refund(amount=shop_amount(r.get("totalRefundedSet"), "refunds.totalRefundedSet", number),
               reference=str(r.get("id") or ""), refunded_on=_local_date(r.get("createdAt"), zone))
        for r in node.get("refunds") or ())


def _buyer(node: Mapping[str, Any]) -> Buyer:
    """The customer's name (else the billing name), the order's email and billing details."""
    billing = node.get("billingAddress") or {}
    customer = node.get("customer") or {}
    return Buyer(name=customer.get("displayName") or billing.get("name") or "",
                 email=node.get("email") or "", company=billing.get("company") or "",
                 phone=billing.get("phone") or "")


def _points(value: Any) -> float:
    """A GraphQL query cost in Shopify's points (a rate-limit budget, never money)."""
    return float(value)
