"""BigCommerce orders through the Orders V2 API, with payments from the V3 transactions."""

from __future__ import annotations

import email.utils
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import requests

from connex_desktop.core.errors import Cancelled, OrderDataError, ReconnectError, SetupError
from connex_desktop.core.model import (
    Address,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import TOO_LARGE_FOR_QUICKBOOKS, ZERO, fits_quickbooks, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import (
    amount_of,
    balance_with_store_total,
    charges_tax,
    quantity_of,
)
from connex_desktop.sources.base import (
    TIMEZONE_SETTING,
    FailedOrder,
    FieldKind,
    OrderQuery,
    SettingField,
    buyer_from_billing,
)
from connex_desktop.sources.http import PagedStoreSource, RepeatGuard, StoreHttp, require_https

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.bigcommerce.com"
PAGE_SIZE = 250  # the platform's maximum `limit`
STORE = "BigCommerce"
# Key on status_id: merchants can relabel statuses, the ids stay.
STATUS_NAMES = {
    0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded",
    5: "Cancelled", 6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup",
    9: "Awaiting Shipment", 10: "Completed", 11: "Awaiting Fulfillment",
    12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded",
}
NO_SALE_STATUS_IDS = frozenset({5, 6})  # Cancelled, Declined
# Incomplete and Pending are checkouts the buyer has not finished: no sale yet, never booked.
# They are fetched only when a connection asks for them by status, or by number.
UNFINISHED_CHECKOUT_IDS = frozenset({0, 1})
REFUNDED_STATUS_ID = 4
# Order-level payment_status words that mean the money was taken (used without transactions).
TAKEN_PAYMENT_STATUSES = frozenset({"paid", "captured", "partially refunded", "refunded"})
TAKING_EVENTS = frozenset({"purchase", "capture"})
METHOD_NAMES = {"credit_card": "Credit Card", "gift_certificate": "Gift Certificate",
                "store_credit": "Store Credit", "electronic_wallet": "Electronic Wallet"}
GIFT_CERTIFICATE = "gift_certificate"
STORE_CREDIT = "store_credit"
# Below this many requests left in the window, wait for the window to reset first.
MIN_REQUESTS_LEFT = 1
# Customer groups need the Customers read-only scope; without it they are left out.
UNREADABLE = frozenset({403, 404})
MS_PER_S = 1000


def split_api_path(api_url: str, store_hash: str) -> tuple[str, str]:
    """The API's root address and the store hash, from the root alone or from the API path
    BigCommerce shows with an API account (https://api.bigcommerce.com/stores/abc123/v3/)."""
    parts = urlsplit(api_url.strip())
    path = re.fullmatch(r"/stores/(?P<hash>[^/]+)(?:/v[23])?/?", parts.path)
    if parts.path.strip("/") and path is None:
        raise SetupError(f"The API address should be {DEFAULT_API_URL}, or the API path shown "
                         "with the API account, like "
                         f"{DEFAULT_API_URL}/stores/abc123/v3/ (got {api_url.strip()!r}).",
                         field="api_url")
    in_path = path["hash"] if path is not None else ""
    given = store_hash.strip().strip("/")
    if in_path and given and in_path != given:
        raise SetupError(f"The API path names the store {in_path!r} but the store hash is "
                         f"{given!r}; give the store hash of the same store, or leave it blank.",
                         field="store_hash")
    return urlunsplit((parts.scheme, parts.netloc, "", "", "")), given or in_path


def _reset_wait_s(response: requests.Response) -> float | None:
    """BigCommerce's own throttle signal: a 429 says how long until the quota refills."""
    reset_ms = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
    if response.status_code != 429 or not reset_ms:
        # Without the header a 429 is platform-wide load: the generic back-off applies.
        return None
    try:
        return int(reset_ms) / MS_PER_S
    except ValueError:
        return None


class BigCommerceSource(PagedStoreSource):
    """A BigCommerce store, read with a store-level API account's access token."""

    kind: ClassVar[str] = "bigcommerce"
    label: ClassVar[str] = "BigCommerce"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("store_hash", "Store hash",
                     help="The code after /stores/ in the API path shown with the API account, "
                          "e.g. abc123xyz."),
        SettingField("access_token", "Access token", secret=True,
                     help="Settings → Store-level API accounts → Create API account, with "
                          "Orders read-only and Order Transactions read-only."),
        SettingField("api_url", "API address", FieldKind.URL, required=False,
                     default=DEFAULT_API_URL,
                     help="Leave as is, or paste the API path shown with the API account "
                          "(https://api.bigcommerce.com/stores/abc123/v3/): the store hash is "
                          "taken from it."),
        TIMEZONE_SETTING,
    )
    statuses: ClassVar[tuple[str, ...]] = tuple(STATUS_NAMES[i] for i in sorted(STATUS_NAMES))
    no_sale_statuses: ClassVar[tuple[str, ...]] = tuple(
        STATUS_NAMES[i] for i in sorted(NO_SALE_STATUS_IDS | {REFUNDED_STATUS_ID}))
    unfinished_statuses: ClassVar[tuple[str, ...]] = tuple(
        STATUS_NAMES[i] for i in sorted(UNFINISHED_CHECKOUT_IDS))

    max_page_size: ClassVar[int] = PAGE_SIZE

    # -- settings -----------------------------------------------------------------------------

    @classmethod
    def normalized_settings(cls, settings: Mapping[str, str]) -> dict[str, str]:
        """The API path pasted as the API address becomes the API's root and the store hash."""
        if not settings.get("api_url", "").strip():
            return dict(settings)
        root, store_hash = split_api_path(settings["api_url"], settings.get("store_hash", ""))
        return {**settings, "api_url": root, "store_hash": store_hash}

    @property
    def store_hash(self) -> str:
        value = self.normalized_settings(self.settings).get("store_hash", "").strip().strip("/")
        if not value or "/" in value:
            raise SetupError("Enter the BigCommerce store hash (the code after /stores/ in the "
                             "API path).", field="store_hash")
        return value

    @property
    def store_key(self) -> str:
        return f"{self.kind}|{self.store_hash}"

    def _base_url(self) -> str:
        root = self.normalized_settings(self.settings).get("api_url", "").strip()
        return f"{require_https(root or DEFAULT_API_URL, STORE)}/stores/{self.store_hash}"

    def _http(self, *, checking: bool = False) -> StoreHttp:
        token = self.secrets.get("access_token", "").strip()
        if not token:
            raise SetupError("The BigCommerce access token is needed; create a store-level "
                             "API account.", field="access_token")
        http = StoreHttp(STORE, secrets=(token,), throttle=_reset_wait_s, sleep=self._sleep,
                         clock=self._clock, checking=checking)
        http.session.headers.update({"X-Auth-Token": token,
                                     "Content-Type": "application/json"})
        return http

    # -- the contract -------------------------------------------------------------------------

    def check(self) -> str:
        fetch = _FetchSession(self, CancelToken(), checking=True)
        with fetch.http:
            newest = fetch.rows(fetch.get(f"{fetch.v2}/orders",
                                        params={"limit": 1, "sort": "id:desc"}))
            if newest:
                # Reading one order's transactions proves the token has that scope too.
                fetch.transactions(str(newest[0].get("id")))
        return f"Connected to the BigCommerce store {self.store_hash}."

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        status_ids: list[int | None] = list(self._status_ids(query.statuses)) or [None]
        fetch = _FetchSession(self, cancel)
        with fetch.http:
            if query.numbers:
                yield from fetch.by_numbers(query.numbers)
                return
            for status_id in status_ids:
                for raw in fetch.pages(f"{fetch.v2}/orders",
                                      self._list_params(query, status_id)):
                    if status_id is None and raw.get("status_id") in UNFINISHED_CHECKOUT_IDS:
                        continue  # skipped before its products and transactions are read
                    result = fetch.read(raw)
                    if isinstance(result, FailedOrder) or query.includes_day(result.order_date):
                        yield result

    def _status_ids(self, statuses: tuple[str, ...]) -> Iterator[int]:
        by_name = {name.lower(): status_id for status_id, name in STATUS_NAMES.items()}
        for status in dict.fromkeys(s.strip() for s in statuses if s.strip()):
            if status.isdigit() and int(status) in STATUS_NAMES:
                yield int(status)
            elif status.lower() in by_name:
                yield by_name[status.lower()]
            else:
                raise SetupError(f"'{status}' is not a BigCommerce order status.",
                                 field="statuses")

    def _list_params(self, query: OrderQuery, status_id: int | None) -> dict[str, str]:
        zone = self.timezone
        # By id, not by date_modified: an order changed during the fetch keeps its place, so
        # no other order slides onto a page already read.
        params = {"sort": "id:asc"}
        if query.modified_since is not None:
            since = query.modified_since
            params["min_date_modified"] = _rfc2822(
                since if since.tzinfo else since.replace(tzinfo=UTC))
        if query.created_from is not None:
            params["min_date_created"] = _rfc2822(
                datetime.combine(query.created_from, datetime.min.time(), zone))
        if query.created_to is not None:
            end = datetime.combine(query.created_to + timedelta(days=1), datetime.min.time(),
                                   zone)
            params["max_date_created"] = _rfc2822(end - timedelta(seconds=1))
        if status_id is not None:
            params["status_id"] = str(status_id)
        return params


class _FetchSession:
    """One fetch: the store's HTTP, its rate-limit pacing, pages, and each order's details."""

    def __init__(self, source: BigCommerceSource, cancel: CancelToken, *,
                 checking: bool = False) -> None:
        self.source = source
        self.cancel = cancel
        base = source._base_url()
        self.v2 = f"{base}/v2"
        self.v3 = f"{base}/v3"
        self.zone = source.timezone
        self.http = source._http(checking=checking)
        # Customer id -> its group's name; group id -> name (None: not read yet).
        self.customer_groups: dict[int, str] = {}
        self.group_names: dict[Any, str] | None = None
        self.groups_readable = True

    def get(self, url: str, *, params: Mapping[str, Any] | None = None,
            allow: frozenset[int] = frozenset()) -> requests.Response:
        response = self.http.get(url, params=params, cancel=self.cancel, allow=allow)
        left = response.headers.get("X-Rate-Limit-Requests-Left")
        reset_ms = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        # The quota is shared by every app on the store: wait for the window rather than
        # spending the last request and meeting a 429.
        if left is not None and reset_ms is not None and left.isdigit() and reset_ms.isdigit() \
                and int(left) < MIN_REQUESTS_LEFT:
            self.http.pause(int(reset_ms) / MS_PER_S, self.cancel)
        return response

    def rows(self, response: requests.Response) -> list[Any]:
        """A V2 list; V2 answers an empty page with 204 and no body."""
        if response.status_code == 204 or not response.content:
            return []
        rows = self.http.json(response)
        if not isinstance(rows, list):
            raise SetupError("The BigCommerce API did not answer with a list; check the API "
                             "address and store hash.", field="store_hash")
        return rows

    def pages(self, url: str, params: Mapping[str, str]) -> Iterator[Mapping[str, Any]]:
        """Every row of a V2 list, page by page, until 204, a short or empty page, or a repeat."""
        guard = RepeatGuard()
        page = 1
        while True:
            if self.cancel.cancelled:
                raise Cancelled()
            response = self.get(url, params={**params, "page": page,
                                             "limit": self.source.page_size})
            rows = self.rows(response)
            if not rows or guard.repeated(tuple(str(row.get("id")) for row in rows)):
                return
            yield from rows
            if len(rows) < self.source.page_size:
                return
            page += 1

    def by_numbers(self, numbers: tuple[str, ...]) -> Iterator[Order | FailedOrder]:
        for number in dict.fromkeys(n.strip() for n in numbers if n.strip()):
            if self.cancel.cancelled:
                raise Cancelled()
            if not number.isdigit():
                yield FailedOrder(number, "BigCommerce order numbers are whole numbers.",
                                  field="number")
                continue
            response = self.get(f"{self.v2}/orders/{number}", allow=frozenset({404}))
            raw = self.http.json(response) if response.status_code != 404 else None
            if not isinstance(raw, dict):
                yield FailedOrder(number, f"No order {number} in the BigCommerce store.",
                                  field="number")
                continue
            yield self.read(raw)

    def read(self, raw: Mapping[str, Any]) -> Order | FailedOrder:
        number = str(raw.get("id") or "?")
        try:
            products = list(self.pages(self._resource(raw, "products"), {}))
            addresses = list(self.pages(self._resource(raw, "shipping_addresses"), {}))
            transactions = self.transactions(number)
            order = _order(raw, products, addresses, transactions, number, self.zone)
            group = self.customer_group(raw.get("customer_id"))
            return balance_with_store_total(replace(order, customer_group=group))
        except OrderDataError as error:
            return FailedOrder(number, error.message, field=error.field)

    def _resource(self, raw: Mapping[str, Any], name: str) -> str:
        # Follow the sub-resource the order names, as given; the documented path otherwise.
        link = raw.get(name)
        resource = link.get("resource") if isinstance(link, dict) else None
        return self.v2 + str(resource or f"/orders/{raw.get('id')}/{name}")

    def customer_group(self, customer_id: object) -> str:
        """The name of the buyer's customer group ("" for a guest, a customer in none, or an
        API account without the Customers read-only scope, which is logged once)."""
        if not isinstance(customer_id, int) or customer_id <= 0 or not self.groups_readable:
            return ""
        if customer_id not in self.customer_groups:
            response = self.get(f"{self.v3}/customers", params={"id:in": str(customer_id)},
                                allow=UNREADABLE)
            body = self._readable(response)
            data = body.get("data") if isinstance(body, dict) else None
            found = data[0] if isinstance(data, list) and data else None
            group_id = found.get("customer_group_id") if isinstance(found, dict) else None
            self.customer_groups[customer_id] = self._group_names().get(group_id, "")
        return self.customer_groups[customer_id]

    def _group_names(self) -> dict[Any, str]:
        """Group id -> name, read once (a store has few groups: one page of them)."""
        if self.group_names is None:
            response = self.get(f"{self.v2}/customer_groups", params={"limit": PAGE_SIZE},
                                allow=UNREADABLE)
            rows = self._readable(response) if response.status_code != 204 else []
            self.group_names = {row.get("id"): str(row.get("name") or "")
                                for row in rows if isinstance(row, dict)} \
                if isinstance(rows, list) else {}
        return self.group_names

    def _readable(self, response: requests.Response) -> Any:
        """The answer's JSON; None (and customer groups off for the fetch) when refused."""
        if response.status_code in UNREADABLE:
            if self.groups_readable:
                log.warning("BigCommerce store %s: customer groups cannot be read (give the "
                            "API account the Customers read-only scope); rules on them match "
                            "no order.", self.source.store_hash)
            self.groups_readable = False
            return None
        return self.http.json(response) if response.content else None

    def transactions(self, number: str) -> list[Mapping[str, Any]]:
        response = self.get(f"{self.v3}/orders/{number}/transactions",
                            allow=frozenset({204, 403, 404}))
        if response.status_code == 403:
            raise ReconnectError(
                "Reconnect the store: the BigCommerce API account cannot read order "
                "transactions. Give it the Order Transactions read-only scope and enter the "
                "new access token.")
        if response.status_code in (204, 404) or not response.content:
            return []
        body = self.http.json(response)
        data = body.get("data") if isinstance(body, dict) else None
        return [t for t in data if isinstance(t, dict)] if isinstance(data, list) else []


def _order(raw: Mapping[str, Any], products: list[Mapping[str, Any]],
           addresses: list[Mapping[str, Any]], transactions: list[Mapping[str, Any]],
           number: str, zone: tzinfo) -> Order:
    status_id = _status_id(raw, number)
    created = _parse_instant(raw.get("date_created"))
    if created is None:
        raise OrderDataError(f"date_created is {raw.get('date_created')!r}, not a date.",
                             order=number, field="date_created")
    lines = _product_lines(products, number) + _charge_lines(raw, number)
    total = amount_of(raw, "total_inc_tax", number)
    tax = amount_of(raw, "total_tax", number)
    shipping = amount_of(raw, "shipping_cost_ex_tax", number)
    lines, discount = _order_discount(raw, lines, shipping, total - tax, number)
    payments, refunds = _money_movements(raw, transactions, total, number, zone)
    billing = raw.get("billing_address") or {}
    notes = "\n".join(str(raw.get(k)) for k in ("customer_message", "staff_notes") if raw.get(k))
    return Order(
        source="bigcommerce", source_id=str(raw.get("id")), number=number,
        order_date=created.astimezone(zone).date(),
        status=STATUS_NAMES.get(status_id, str(raw.get("status") or status_id)),
        payment_status=_payment_status(raw, status_id, payments, total),
        currency=str(raw.get("currency_code") or raw.get("default_currency_code") or ""),
        buyer=buyer_from_billing(billing),
        lines=tuple(lines), total=total, billing_address=_address(billing),
        shipping_address=_address(addresses[0]) if addresses else Address(),
        shipping=shipping, discount=discount, tax=tax, payments=tuple(payments),
        refunds=tuple(refunds), notes=notes, updated_at=_parse_instant(raw.get("date_modified")),
        channel=str(raw.get("channel_id") if raw.get("channel_id") is not None else ""),
        payment_gateways=tuple(dict.fromkeys(
            str(t["gateway"]) for t in transactions
            if t.get("gateway") and str(t.get("status") or "ok") == "ok")),
        raw=raw)


def _product_lines(products: list[Mapping[str, Any]], number: str) -> list[OrderLine]:
    """The order's products as lines, each with the discounts allocated to it."""
    lines: list[OrderLine] = []
    for index, product in enumerate(products, start=1):
        if product.get("is_bundled_product") or product.get("parent_order_product_id"):
            continue  # a bundle's part: its price is in the parent line
        where = f"product {index}: "
        count = quantity_of(product, "quantity", number, where=where)
        price = _unit_amount(product, "price_ex_tax", number, where)
        allocated = sum((amount_of(d, "amount", number, where=where)
                         for d in product.get("applied_discounts") or []), ZERO)
        lines.append(OrderLine(
            sku=str(product.get("sku") or ""), name=str(product.get("name") or ""),
            quantity=count, unit_price=price, discount=allocated,
            taxable=charges_tax(product, number, where=where)))
    return lines


def _charge_lines(raw: Mapping[str, Any], number: str) -> list[OrderLine]:
    """Handling and gift wrapping, each a non-taxable line when charged."""
    lines: list[OrderLine] = []
    for key, name in (("handling_cost_ex_tax", "Handling"),
                      ("wrapping_cost_ex_tax", "Gift wrapping")):
        cost = amount_of(raw, key, number)
        if cost:
            lines.append(OrderLine(sku="", name=name, quantity=Decimal(1), unit_price=cost,
                                   taxable=False))
    return lines


def _order_discount(raw: Mapping[str, Any], lines: list[OrderLine], shipping: Decimal,
                    total_without_tax: Decimal, number: str) -> tuple[list[OrderLine], Decimal]:
    """The lines and the order-level discount the store's discounts leave after them."""
    stated_discount = (amount_of(raw, "discount_amount", number)
                       + amount_of(raw, "coupon_discount", number))
    if raw.get("is_tax_inclusive_pricing"):
        # Discounts are given with tax in these stores; their share without tax is what the
        # tax-exclusive parts exceed the store's own total without tax by.
        charges = sum((line.gross for line in lines), ZERO) + shipping
        implied = charges - total_without_tax
        discount = max(ZERO, min(implied, stated_discount)) if stated_discount else ZERO
        return [OrderLine(line.sku, line.name, line.quantity, line.unit_price, ZERO,
                          line.taxable) for line in lines], discount
    # Allocated discounts sit on their lines; only what is left over is the order's.
    line_discounts = sum((line.discount for line in lines), ZERO)
    return lines, max(ZERO, stated_discount - line_discounts)


def _payment_status(raw: Mapping[str, Any], status_id: int, payments: list[Payment],
                    total: Decimal) -> PaymentStatus:
    """The order's payment status from its status, payment word and what was paid."""
    paid = sum((payment.amount for payment in payments), ZERO)
    payment_word = str(raw.get("payment_status") or "").lower()
    if status_id in NO_SALE_STATUS_IDS:
        return PaymentStatus.CANCELLED
    if status_id == REFUNDED_STATUS_ID or payment_word == "refunded":
        return PaymentStatus.REFUNDED
    if payment_word.startswith("void"):
        return PaymentStatus.VOIDED
    if paid >= total and (total > ZERO or payment_word in TAKEN_PAYMENT_STATUSES):
        return PaymentStatus.PAID
    if paid > ZERO:
        return PaymentStatus.PARTIALLY_PAID
    return PaymentStatus.UNPAID


def _money_movements(raw: Mapping[str, Any], transactions: list[Mapping[str, Any]],
                     total: Decimal, number: str, zone: tzinfo
                     ) -> tuple[list[Payment], list[Refund]]:
    """Payments (gift certificates and store credit among them) and refunds of one order."""
    payments: list[Payment] = []
    refunds: list[Refund] = []
    for index, transaction in enumerate(transactions, start=1):
        if str(transaction.get("status") or "ok") != "ok":
            continue
        where = f"transaction {index}: "
        event = str(transaction.get("event") or "")
        amount = amount_of(transaction, "amount", number, where=where)
        reference = str(transaction.get("gateway_transaction_id") or "")
        when = _parse_instant(transaction.get("date_created"))
        day = when.astimezone(zone).date() if when else None
        if event in TAKING_EVENTS:
            method = str(transaction.get("method") or "")
            label = METHOD_NAMES.get(method) or str(transaction.get("gateway") or method)
            payments.append(Payment(amount, label, reference, day))
        elif event == "refund":
            refunds.append(Refund(amount, reference, day))
    methods = {p.method for p in payments}
    created = _parse_instant(raw.get("date_created"))
    day = created.astimezone(zone).date() if created else None
    # Gift certificates and store credit pay for the order; they are never a discount. Orders
    # without transactions (manual orders, offline payments) carry them only as amounts.
    prepaid = ZERO
    for key, method in (("gift_certificate_amount", GIFT_CERTIFICATE),
                        ("store_credit_amount", STORE_CREDIT)):
        amount = amount_of(raw, key, number)
        prepaid += amount
        if amount and METHOD_NAMES[method] not in methods:
            payments.append(Payment(amount, METHOD_NAMES[method], "", day))
    if not transactions and str(raw.get("payment_status") or "").lower() in \
            TAKEN_PAYMENT_STATUSES and total > prepaid:
        payments.append(Payment(total - prepaid, str(raw.get("payment_method") or ""),
                                str(raw.get("payment_provider_id") or ""), day))
    refunded = amount_of(raw, "refunded_amount", number)
    if refunded and not refunds:
        refunds.append(Refund(refunded, "", None))
    return payments, refunds


def _status_id(raw: Mapping[str, Any], number: str) -> int:
    try:
        return int(str(raw.get("status_id")))
    except ValueError:
        raise OrderDataError(f"status_id is {raw.get('status_id')!r}, not a status.",
                             order=number, field="status_id") from None


def _unit_amount(data: Mapping[str, Any], key: str, number: str, where: str) -> Decimal:
    """A unit price as the store gives it (4 decimals), never rounded away from it."""
    value = data.get(key)
    try:
        price = Decimal(str(value).strip())
    except ArithmeticError:
        price = None
    if price is None or not price.is_finite():
        raise OrderDataError(f"{where}{key} is {value!r}, not an amount.", order=number,
                             field=key)
    if not fits_quickbooks(price):
        raise OrderDataError(f"{where}{key} is {value!r}, {TOO_LARGE_FOR_QUICKBOOKS}.",
                             order=number, field=key)
    return money(price) if money(price) == price else price


def _address(data: Mapping[str, Any]) -> Address:
    return Address(line1=str(data.get("street_1") or ""), line2=str(data.get("street_2") or ""),
                   city=str(data.get("city") or ""), region=str(data.get("state") or ""),
                   postal_code=str(data.get("zip") or ""),
                   country=str(data.get("country_iso2") or data.get("country") or ""))


def _parse_instant(value: object) -> datetime | None:
    """An instant from RFC 2822 (V2) or ISO 8601 (V3); None when absent or unreadable."""
    if not value:
        return None
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rfc2822(moment: datetime) -> str:
    return email.utils.format_datetime(moment.replace(microsecond=0))
