"""WooCommerce orders through the REST API v3 (`/wp-json/wc/v3/orders`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, ClassVar

from connex_desktop.core.errors import Cancelled, OrderDataError, SetupError
from connex_desktop.core.model import (
    Address,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import ZERO, MoneyError, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import (
    amount_of,
    balance_with_store_total,
    charges_tax,
    quantity_of,
    unit_price,
)
from connex_desktop.sources.base import (
    FailedOrder,
    FieldKind,
    OrderQuery,
    SettingField,
    buyer_from_billing,
)
from connex_desktop.sources.http import (
    PagedStoreSource,
    RepeatGuard,
    StoreHttp,
    address_key,
    require_https,
)

API_PATH = "/wp-json/wc/v3"
PAGE_SIZE = 100  # the WordPress REST API's maximum per_page
STORE = "WooCommerce"
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed",
            "trash", "checkout-draft")
# No sale happened: the buyer never paid or the shop called it off.
NOT_A_SALE = frozenset({"cancelled", "failed", "trash", "checkout-draft"})
# Checkouts the buyer has not finished are no sale yet (and were never booked): they are
# fetched only when a connection asks for them by status, or by number.
UNFINISHED_CHECKOUTS = frozenset({"pending", "checkout-draft"})
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
# Site timezones lie within ±14 hours of UTC, so a day's margin on each side of a created-date
# range sent in UTC catches every order of those site-local days; the exact cut is made here.
SITE_OFFSET_MARGIN = timedelta(days=1)


class WooCommerceSource(PagedStoreSource):
    """A WooCommerce shop, read with REST API keys (Read access is enough)."""

    kind: ClassVar[str] = "woocommerce"
    label: ClassVar[str] = "WooCommerce"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("store_url", "Store address", FieldKind.URL,
                     help="The shop's web address, e.g. https://shop.example.com "
                          "(WooCommerce 3.5 or later, with pretty permalinks)."),
        SettingField("consumer_key", "Consumer key", secret=True,
                     help="WooCommerce → Settings → Advanced → REST API → Add key "
                          "(Read access), starts with ck_."),
        SettingField("consumer_secret", "Consumer secret", secret=True,
                     help="Shown once, next to the consumer key; starts with cs_."),
        SettingField("keys_in_query", "Send the keys in the address", FieldKind.BOOL,
                     required=False, default="false",
                     help="Only for hosts that strip the Authorization header (the shop says "
                          "'Consumer key is missing'). HTTPS only."),
    )
    statuses: ClassVar[tuple[str, ...]] = STATUSES
    no_sale_statuses: ClassVar[tuple[str, ...]] = tuple(s for s in STATUSES if s in NOT_A_SALE)
    unfinished_statuses: ClassVar[tuple[str, ...]] = tuple(
        s for s in STATUSES if s in UNFINISHED_CHECKOUTS)

    max_page_size: ClassVar[int] = PAGE_SIZE

    @property
    def store_url(self) -> str:
        return require_https(self.settings.get("store_url", ""), STORE)

    @property
    def store_key(self) -> str:
        return f"{self.kind}|{address_key(self.store_url)}"

    def check(self) -> str:
        with self._http(checking=True) as http:
            response = http.get(self._orders_url(),
                                params={"per_page": 1, **self._auth_params()})
            if not isinstance(http.json(response), list):
                raise SetupError(f"{self.store_url} did not answer with a list of orders; "
                                 "check the store address.", field="store_url")
        count = response.headers.get("X-WP-Total", "?")
        return f"Connected to {self.store_url}: {count} orders in the store."

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        with self._http() as http:
            if query.numbers:
                yield from self._by_numbers(http, query.numbers, cancel)
                return
            for raw in self._walk(http, self._list_params(query), cancel, counted=True):
                unfinished = not query.statuses and raw.get("status") in UNFINISHED_CHECKOUTS
                if not unfinished and _created_within(raw, query):
                    yield self._read(raw)

    # -- requests -------------------------------------------------------------------------

    def _http(self, *, checking: bool = False) -> StoreHttp:
        key = self.secrets.get("consumer_key", "").strip()
        secret = self.secrets.get("consumer_secret", "").strip()
        if not key or not secret:
            missing = "consumer_key" if not key else "consumer_secret"
            raise SetupError("The WooCommerce consumer key and secret are needed; create them "
                             "under WooCommerce → Settings → Advanced → REST API.", field=missing)
        http = StoreHttp(STORE, secrets=(key, secret), sleep=self._sleep, clock=self._clock,
                         checking=checking)
        if not self._keys_in_query:
            http.session.auth = (key, secret)
        return http

    @property
    def _keys_in_query(self) -> bool:
        return self.settings.get("keys_in_query", "").strip().lower() in TRUE_WORDS

    def _auth_params(self) -> dict[str, str]:
        if not self._keys_in_query:
            return {}
        return {"consumer_key": self.secrets["consumer_key"].strip(),
                "consumer_secret": self.secrets["consumer_secret"].strip()}

    def _orders_url(self) -> str:
        return f"{self.store_url}{API_PATH}/orders"

    def _list_params(self, query: OrderQuery) -> dict[str, str]:
        # Ascending ids keep pages stable while new orders arrive during the walk.
        # Status slugs are lower case, custom ones too.
        statuses = ",".join(s.strip().lower() for s in query.statuses if s.strip())
        params = {"orderby": "id", "order": "asc", "dates_are_gmt": "true",
                  "status": statuses or "any"}
        if query.modified_since is not None:
            params["modified_after"] = _gmt_text(query.modified_since)
        if query.created_from is not None:
            start = datetime.combine(query.created_from, datetime.min.time(), UTC)
            params["after"] = _gmt_text(start - SITE_OFFSET_MARGIN)
        if query.created_to is not None:
            end = datetime.combine(query.created_to + timedelta(days=1), datetime.min.time(), UTC)
            params["before"] = _gmt_text(end + SITE_OFFSET_MARGIN)
        return params

    def _walk(self, http: StoreHttp, params: Mapping[str, str], cancel: CancelToken, *,
              counted: bool = False) -> Iterator[Mapping[str, Any]]:
        """Every order the filter matches, page by page, until the last page or a repeat;
        when `counted`, the store's count of them (X-WP-Total) is told to `cancel`."""
        guard = RepeatGuard()
        page = 1
        while True:
            if cancel.cancelled:
                raise Cancelled()
            response = http.get(self._orders_url(), cancel=cancel, params={
                **params, "page": page, "per_page": self.page_size, **self._auth_params()})
            orders = http.json(response)
            if not isinstance(orders, list):
                raise SetupError(f"{self.store_url} did not answer with a list of orders; "
                                 "check the store address.", field="store_url")
            count = _header_int(response.headers.get("X-WP-Total"))
            if counted and page == 1 and count is not None:
                cancel.expect_orders(count)
            if not orders or guard.repeated(tuple(str(o.get("id")) for o in orders)):
                return
            yield from orders
            total_pages = _header_int(response.headers.get("X-WP-TotalPages"))
            last_page = page >= total_pages if total_pages is not None else (
                len(orders) < self.page_size)
            if last_page:
                return
            page += 1

    def _by_numbers(self, http: StoreHttp, numbers: tuple[str, ...], cancel: CancelToken
                    ) -> Iterator[Order | FailedOrder]:
        wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
        found: set[str] = set()

        def matching(raws: Iterator[Mapping[str, Any]]) -> Iterator[Order | FailedOrder]:
            for raw in raws:
                names = {str(raw.get("id")), str(raw.get("number"))}
                hits = [n for n in wanted if n in names and n not in found]
                if hits:
                    found.update(hits)
                    yield self._read(raw)

        # Numbers are usually the order ids; shops with sequential-number plugins differ, and
        # those are found by search.
        ids = [n for n in wanted if n.isdigit()]
        if ids:
            params = {"include": ",".join(ids), "orderby": "id", "order": "asc",
                      "status": "any"}
            yield from matching(self._walk(http, params, cancel))
        for number in [n for n in wanted if n not in found]:
            yield from matching(self._walk(http, {"search": number, "status": "any"}, cancel))
        for number in wanted:
            if number not in found:
                yield FailedOrder(number, f"No order {number} in the WooCommerce store.",
                                  field="number")

    # -- mapping ------------------------------------------------------------------------------

    def _read(self, raw: Mapping[str, Any]) -> Order | FailedOrder:
        number = str(raw.get("number") or raw.get("id") or "?")
        try:
            return balance_with_store_total(_order(raw, number))
        except OrderDataError as error:
            return FailedOrder(number, error.message, field=error.field)


def _order(raw: Mapping[str, Any], number: str) -> Order:
    status = str(raw.get("status") or "")
    order_date = _site_date(raw, "date_created", number)
    if order_date is None:
        raise OrderDataError("the order has no date_created.", order=number, field="date_created")
    rates = _tax_rates(raw)
    lines = _item_lines(raw, rates, number)
    fee_lines, fee_discount = _fees(raw, rates, number)
    lines += fee_lines
    total = amount_of(raw, "total", number)
    payments = _payments(raw, status, total, number)
    refunds = _refunds(raw, number)
    billing = raw.get("billing") or {}
    return Order(
        source="woocommerce", source_id=str(raw.get("id")), number=number,
        order_date=order_date, status=status,
        payment_status=_payment_status(status, payments, refunds, total),
        currency=str(raw.get("currency") or ""),
        buyer=buyer_from_billing(billing),
        lines=tuple(lines), total=total,
        billing_address=_address(billing), shipping_address=_address(raw.get("shipping") or {}),
        shipping=amount_of(raw, "shipping_total", number),
        # Coupon discounts are already in each line's subtotal − total; counting
        # discount_total as well would take them off twice.
        discount=fee_discount,
        tax=amount_of(raw, "total_tax", number),
        shipping_tax_rate=_shipping_rate(raw, rates),
        payments=tuple(payments), refunds=refunds, notes=_notes(raw),
        updated_at=_gmt_datetime(raw.get("date_modified_gmt")),
        tags=_meta_tags(raw), channel=str(raw.get("created_via") or ""),
        payment_gateways=(str(raw["payment_method"]),) if raw.get("payment_method") else (),
        raw=raw)


def _meta_tags(raw: Mapping[str, Any]) -> tuple[str, ...]:
    """The order's meta data as "key=value" tags, for rules (WooCommerce has no order tags);
    only plain values: a plugin's nested records say nothing a rule could match."""
    return tuple(f"{meta.get('key')}={meta.get('value')}" for meta in raw.get("meta_data") or ()
                 if isinstance(meta, Mapping) and meta.get("key")
                 and isinstance(meta.get("value"), str | int | float | bool))


def _item_lines(raw: Mapping[str, Any], rates: Mapping[str, Decimal],
                number: str) -> list[OrderLine]:
    """The order's line items, each with its coupon discount (subtotal − total)."""
    lines: list[OrderLine] = []
    for index, item in enumerate(raw.get("line_items") or [], start=1):
        where = f"line {index}: "
        count = quantity_of(item, "quantity", number, where=where)
        subtotal = amount_of(item, "subtotal", number, where=where)
        total = amount_of(item, "total", number, where=where)
        # WooCommerce keeps line subtotal/total without tax even when the shop enters prices
        # with tax (prices_include_tax); the tax is in total_tax, so lines stay tax-exclusive.
        lines.append(OrderLine(
            sku=str(item.get("sku") or ""), name=str(item.get("name") or ""), quantity=count,
            unit_price=unit_price(subtotal, count), discount=subtotal - total,
            taxable=charges_tax(item, number, where=where),
            tax_rate=_rate_of(item, rates)))
    return lines


def _fees(raw: Mapping[str, Any], rates: Mapping[str, Decimal],
          number: str) -> tuple[list[OrderLine], Decimal]:
    """The positive fees as lines, and the negative ones summed as the order's discount."""
    lines: list[OrderLine] = []
    fee_discount = ZERO
    for index, fee in enumerate(raw.get("fee_lines") or [], start=1):
        where = f"fee {index}: "
        amount = amount_of(fee, "total", number, where=where)
        if amount < ZERO:
            # A negative fee is how shops give a discount outside coupons.
            fee_discount -= amount
        elif amount > ZERO:
            lines.append(OrderLine(
                sku="", name=str(fee.get("name") or "Fee"), quantity=Decimal(1),
                unit_price=amount,
                taxable=charges_tax(fee, number, where=where),
                tax_rate=_rate_of(fee, rates)))
    return lines, fee_discount


def _payments(raw: Mapping[str, Any], status: str, total: Decimal,
              number: str) -> list[Payment]:
    """The order's total as one payment once it is paid and a sale."""
    if not (raw.get("date_paid") and status not in NOT_A_SALE):
        return []
    method = str(raw.get("payment_method_title") or raw.get("payment_method") or "")
    return [Payment(total, method, str(raw.get("transaction_id") or ""),
                    _site_date(raw, "date_paid", number))]


def _refunds(raw: Mapping[str, Any], number: str) -> tuple[Refund, ...]:
    """The order's embedded refunds."""
    return tuple(
        # The embedded refund totals are negative ("-10.00"); the refund is their size.
        Refund(abs(amount_of(refund, "total", number, where=f"refund {index}: ")),
               f"refund {refund.get('id')}" + (f": {refund['reason']}" if refund.get("reason")
                                               else ""))
        for index, refund in enumerate(raw.get("refunds") or [], start=1))


def _payment_status(status: str, payments: list[Payment], refunds: tuple[Refund, ...],
                    total: Decimal) -> PaymentStatus:
    """The order's payment status from its status, payment and refunds."""
    refunded = sum((refund.amount for refund in refunds), ZERO)
    if status in NOT_A_SALE:
        return PaymentStatus.CANCELLED
    if status == "refunded" or (payments and refunded >= total > ZERO):
        return PaymentStatus.REFUNDED
    if payments:
        return PaymentStatus.PAID
    return PaymentStatus.UNPAID


def _notes(raw: Mapping[str, Any]) -> str:
    """The customer's note and the coupons used, a line each."""
    coupons = ", ".join(str(c.get("code")) for c in raw.get("coupon_lines") or [] if c.get("code"))
    return "\n".join(part for part in (str(raw.get("customer_note") or ""),
                                       f"Coupons: {coupons}" if coupons else "") if part)


def _tax_rates(raw: Mapping[str, Any]) -> dict[str, Decimal]:
    """The order's tax rates in percent by rate id (tax_lines' rate_percent, WooCommerce 5.7+)."""
    rates: dict[str, Decimal] = {}
    for tax in raw.get("tax_lines") or []:
        if tax.get("rate_percent") is None:
            continue   # an older WooCommerce: the engine tells the rate from the tax
        with contextlib.suppress(ArithmeticError):
            rates[str(tax.get("rate_id"))] = Decimal(str(tax["rate_percent"]))
    return rates


def _rate_of(entry: Mapping[str, Any], rates: Mapping[str, Decimal]) -> Decimal | None:
    """A line's rate: those of the taxes it was charged, together; None when one is unknown."""
    charged = []
    for tax in entry.get("taxes") or []:
        try:
            if money(tax.get("total")) == ZERO:
                continue
        except MoneyError:
            return None
        charged.append(rates.get(str(tax.get("id"))))
    if not charged:
        return None if amount_of(entry, "total_tax", "") else ZERO
    if any(rate is None for rate in charged):
        return None
    return sum((rate for rate in charged if rate is not None), Decimal(0))


def _shipping_rate(raw: Mapping[str, Any], rates: Mapping[str, Decimal]) -> Decimal | None:
    found = {_rate_of(line, rates) for line in raw.get("shipping_lines") or []}
    return found.pop() if len(found) == 1 else None


def _address(data: Mapping[str, Any]) -> Address:
    return Address(line1=str(data.get("address_1") or ""), line2=str(data.get("address_2") or ""),
                   city=str(data.get("city") or ""), region=str(data.get("state") or ""),
                   postal_code=str(data.get("postcode") or ""),
                   country=str(data.get("country") or ""))


def _site_date(raw: Mapping[str, Any], key: str, number: str) -> date | None:
    """The site-local calendar date of a WooCommerce date field (the store's own day)."""
    text = raw.get(key)
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text)).date()
    except ValueError as exc:
        raise OrderDataError(f"{key} is {text!r}, not a date.", order=number,
                             field=key) from exc


def _gmt_datetime(text: object) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
    except ValueError:
        return None


def _gmt_text(moment: datetime) -> str:
    """An instant as WooCommerce reads it with dates_are_gmt=true; naive means UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def _created_within(raw: Mapping[str, Any], query: OrderQuery) -> bool:
    """Whether the order's site-local creation day is inside the query's created range."""
    if query.created_from is None and query.created_to is None:
        return True
    try:
        day = datetime.fromisoformat(str(raw.get("date_created"))).date()
    except ValueError:
        return True  # let the mapping report the bad date against the order
    return query.includes_day(day)


def _header_int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
