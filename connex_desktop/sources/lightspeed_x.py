"""Lightspeed Retail X-Series (ex-Vend) sales through the API 2.0 change feed."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from typing import Any, ClassVar

from connex_desktop.core.errors import Cancelled, OrderDataError, SetupError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    Refund,
)
from connex_desktop.core.money import ZERO
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder
from connex_desktop.sources.amounts import (
    amount_of,
    balance_with_store_total,
    payment_status_of,
    quantity_of,
    unit_price,
)
from connex_desktop.sources.base import (
    TIMEZONE_SETTING,
    FailedOrder,
    OrderQuery,
    SettingField,
)
from connex_desktop.sources.http import (
    PagedStoreSource,
    RepeatGuard,
    StoreHttp,
    address_key,
    require_https,
)
from connex_desktop.sources.lightspeed_x_consignments import (
    SUPPLIER,
    number_of,
    read_consignment,
)
from connex_desktop.sources.lightspeed_x_feed import FeedPosition
from connex_desktop.sources.timestamps import utc_instant

API_PATH = "/api/2.0"
STORE = "Lightspeed X-Series"
# The largest page the documentation names (API 0.x); 2.0 states no maximum of its own.
PAGE_SIZE = 200
PREFIX = re.compile(r"[a-z0-9][a-z0-9-]*", re.IGNORECASE)
# The sale statuses of API 2.0, with the fulfilment ones of February 2020.
STATUSES = ("SAVED", "CLOSED", "ONACCOUNT", "ONACCOUNT_CLOSED", "LAYBY", "LAYBY_CLOSED",
            "AWAITING_DISPATCH", "AWAITING_PICKUP", "DISPATCHED_CLOSED", "PICKED_UP_CLOSED",
            "VOIDED")
VOIDED = "VOIDED"
# A parked sale is still on the register: no sale yet, fetched only when asked for by status.
PARKED = "SAVED"


@dataclass(frozen=True)
class _Return:
    """A return sale, as the refund of the sale it returns."""

    original_id: str
    refund: Refund


@dataclass
class _Changes:
    """What one read of the sales feed found."""

    wanted: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    refunds: dict[str, list[Refund]] = field(default_factory=dict)   # by the sale returned
    failures: list[FailedOrder] = field(default_factory=list)
    changed_returns: dict[str, str] = field(default_factory=dict)  # sale returned → return no.
    seen: dict[str, list[str]] = field(default_factory=dict)   # sale returned → return ids

    @property
    def return_ids(self) -> set[str]:
        return {return_id for ids in self.seen.values() for return_id in ids}

    def add_return(self, returned: _Return, return_id: str) -> None:
        self.refunds.setdefault(returned.original_id, []).append(returned.refund)
        self.seen.setdefault(returned.original_id, []).append(return_id)


class LightspeedXSource(PagedStoreSource):
    """A Lightspeed Retail X-Series store, read with a personal token."""

    kind: ClassVar[str] = "lightspeed_x"
    label: ClassVar[str] = "Lightspeed Retail (X-Series)"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("domain_prefix", "Store domain prefix",
                     help="The name before .retail.lightspeed.app in the store's address, "
                          "e.g. mystore for https://mystore.retail.lightspeed.app."),
        SettingField("personal_token", "Personal token", secret=True,
                     help="Setup → Personal Tokens → Add personal token, in the store's back "
                          "office (Lightspeed sign-in with OAuth is not offered yet)."),
        TIMEZONE_SETTING,
    )
    statuses: ClassVar[tuple[str, ...]] = STATUSES
    no_sale_statuses: ClassVar[tuple[str, ...]] = (VOIDED,)
    unfinished_statuses: ClassVar[tuple[str, ...]] = (PARKED,)
    # Its purchase orders are its supplier consignments; they sync apart from sales.
    keeps_own_purchase_orders: ClassVar[bool] = True

    max_page_size: ClassVar[int] = PAGE_SIZE

    @property
    def store_url(self) -> str:
        """https://{prefix}.retail.lightspeed.app, or the whole address when one is given."""
        given = self.settings.get("domain_prefix", "").strip()
        if "://" in given:
            return require_https(given, STORE)
        prefix = given.removesuffix(".retail.lightspeed.app")
        if not PREFIX.fullmatch(prefix):
            raise SetupError("Enter the store's domain prefix: the name before "
                             ".retail.lightspeed.app in its address.", field="domain_prefix")
        return f"https://{prefix.lower()}.retail.lightspeed.app"

    @property
    def store_key(self) -> str:
        return f"{self.kind}|{address_key(self.store_url)}"

    def check(self) -> str:
        with _Reader(self, CancelToken(), checking=True) as reader:
            if reader.data("/sales", {"page_size": 1}) is None:
                raise SetupError(f"{self.store_url} has no Lightspeed X-Series sales API; "
                                 "check the domain prefix.", field="domain_prefix")
        return f"Connected to the Lightspeed store at {self.store_url}."

    def fetch_orders_and_retries(
        self, query: OrderQuery, retry_numbers: Sequence[str], cancel: CancelToken
    ) -> Iterator[Order | FailedOrder]:
        if query.numbers:
            return super().fetch_orders_and_retries(query, retry_numbers, cancel)
        # The retries are found in the same walk, or by number when it reads only changes.
        return self.fetch_orders(replace(query, retry_numbers=tuple(retry_numbers)), cancel)

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The supplier consignments changed since `since` (None: all), and those with the
        given ids or order numbers whatever their time. The consignments feed filters by
        version only, so the bounds are applied here."""
        wanted = frozenset(ids)
        after = since if since is None or since.tzinfo else since.replace(tzinfo=UTC)
        with _Reader(self, cancel) as reader:
            for raw in reader.feed("/consignments", {"type": SUPPLIER}):
                updated = utc_instant(raw.get("updated_at"))
                if raw.get("type") == SUPPLIER and (
                        after is None or updated is None or updated >= after
                        or str(raw.get("id")) in wanted or number_of(raw) in wanted):
                    yield reader.consignment(raw)

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        with _Reader(self, cancel) as reader:
            if query.numbers:
                yield from reader.by_numbers(query.numbers)
            else:
                yield from reader.changed(query)


class _Reader:
    """One fetch: the store's HTTP, and the products and customers it read (once each)."""

    def __init__(self, source: LightspeedXSource, cancel: CancelToken, *,
                 checking: bool = False) -> None:
        token = source.secrets.get("personal_token", "").strip()
        if not token:
            raise SetupError("The Lightspeed personal token is needed; add one under Setup → "
                             "Personal Tokens.", field="personal_token")
        self.source = source
        self.cancel = cancel
        self.zone = source.timezone
        self.api = source.store_url + API_PATH
        self.http = StoreHttp(STORE, secrets=(token,), sleep=source._sleep, clock=source._clock,
                              checking=checking)
        self.http.session.headers["Authorization"] = f"Bearer {token}"
        self.products: dict[str, Mapping[str, Any]] = {}
        self.customers: dict[str, Mapping[str, Any]] = {}
        self.suppliers: dict[str, Mapping[str, Any]] = {}
        self.last_version = 0

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    # -- requests -----------------------------------------------------------------------------

    def data(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The `data` of an answer; None when the store has no such thing (404)."""
        response = self.http.get(self.api + path, params=params, cancel=self.cancel,
                                 allow=frozenset({404}))
        if response.status_code == 404:
            return None
        body = self.http.json(response)
        if not isinstance(body, dict) or "data" not in body:
            raise SetupError(f"The store at {self.source.store_url} did not answer as the "
                             "Lightspeed X-Series API does; check the domain prefix.",
                             field="domain_prefix")
        return body["data"]

    def feed(self, path: str, params: Mapping[str, Any] | None = None, *, after: int = 0,
             missing_ok: bool = False) -> Iterator[Mapping[str, Any]]:
        """Every record of a 2.0 collection in version order from `after`: then after the
        highest version of the page before, until an empty page (or a page already seen,
        should the store repeat one); none when `missing_ok` and the store has no such
        collection (404). `last_version` is the highest version read."""
        guard = RepeatGuard()
        self.last_version = after
        while True:
            if self.cancel.cancelled:
                raise Cancelled()
            response = self.http.get(f"{self.api}{path}", cancel=self.cancel, params={
                **(params or {}), "after": after, "page_size": self.source.page_size},
                allow=frozenset({404} if missing_ok else ()))
            if response.status_code == 404:
                return
            body = self.http.json(response)
            rows = body.get("data") if isinstance(body, dict) else None
            if not isinstance(rows, list):
                raise SetupError(f"The store at {self.source.store_url} did not answer with a "
                                 f"list at {path}; check the domain prefix.",
                                 field="domain_prefix")
            version = body.get("version") or {}
            if not rows or guard.repeated(version.get("max")) or version.get("max") is None:
                return
            yield from (row for row in rows if isinstance(row, dict))
            after = self.last_version = int(version["max"])

    def consignment(self, raw: Mapping[str, Any]) -> PurchaseOrder | FailedOrder:
        """A supplier consignment with its products (every page of them, those removed left
        out), their catalogue entries and supplier."""
        products = [item for item in self.feed(f"/consignments/{raw.get('id')}/products",
                                               missing_ok=True) if not item.get("deleted_at")]
        catalogue = {str(item.get("product_id")): self._cached(
            self.products, "/products", str(item.get("product_id") or "")) for item in products}
        supplier = self._cached(self.suppliers, "/suppliers", str(raw.get("supplier_id") or ""))
        return read_consignment(raw, products, catalogue, supplier, self.zone)

    def _cached(self, cache: dict[str, Mapping[str, Any]], path: str, key: str
                ) -> Mapping[str, Any]:
        if not key:
            return {}
        if key not in cache:
            found = self.data(f"{path}/{key}")
            cache[key] = found if isinstance(found, dict) else {}
        return cache[key]

    # -- orders -------------------------------------------------------------------------------

    def changed(self, query: OrderQuery) -> Iterator[Order | FailedOrder]:
        """The sales the query wants, each with all the refunds its returns made.

        From the position the last confirmed run reached (`source_cursor`), only what changed
        since is read: the version bounds it exactly. Without one, the whole feed is read and
        the modified-since and created bounds are applied here. A return changed since brings
        its sale back; the returns read in earlier runs are remembered in the position, so a
        sale read again still has all its refunds. Where the feed now stands is left in the
        source's `cursor_reached`, for the engine to keep once the run is confirmed.
        """
        position = FeedPosition.parse(query.source_cursor)
        if position is not None:
            query = replace(query, modified_since=None)
        changes = self._walk(query, position)
        if position is not None:
            self._find_retries(changes, query.retry_numbers)
        self._add_returned_sales(changes)
        remembered = position.returns if position is not None else {}
        for sale_id in changes.wanted:
            for return_id in reversed(remembered.get(sale_id, [])):
                if return_id not in changes.return_ids:
                    self._add_remembered_return(changes, sale_id, return_id)
        for sale_id, raw in changes.wanted.items():
            if query.statuses or raw.get("status") != PARKED:
                yield self.read(raw, changes.refunds.get(sale_id, []))
        yield from changes.failures
        self.source.cursor_reached = (position or FeedPosition()).moved(
            self.last_version, changes.seen).text()

    def _walk(self, query: OrderQuery, position: FeedPosition | None) -> _Changes:
        """The feed from `position` (None: from the start): the sales asked for, and every
        return read as the refund of the sale it returns."""
        retries = frozenset(query.retry_numbers)
        changes = _Changes()
        for raw in self.feed("/sales", after=position.after if position else 0):
            number = _number(raw)
            asked = number in retries or self._within(raw, query)
            if not (raw.get("return_for") or _is_return(raw)):
                if asked:
                    changes.wanted[str(raw.get("id"))] = raw
                continue
            try:
                returned = _return(raw, number, self.zone)
            except OrderDataError as error:
                if asked:
                    changes.failures.append(FailedOrder(number, error.message,
                                                        field=error.field))
                continue
            changes.add_return(returned, str(raw.get("id")))
            if asked:
                changes.changed_returns[returned.original_id] = number
        return changes

    def _find_retries(self, changes: _Changes, numbers: Sequence[str]) -> None:
        """The sales that failed before and did not change since, by their number."""
        found = {_number(raw) for raw in changes.wanted.values()}
        for number in dict.fromkeys(numbers):
            if number not in found:
                raw = self._search(number)
                if isinstance(raw, FailedOrder):
                    changes.failures.append(raw)
                else:
                    changes.wanted[str(raw.get("id"))] = raw

    def _add_returned_sales(self, changes: _Changes) -> None:
        for sale_id, number in changes.changed_returns.items():
            original = changes.wanted.get(sale_id) or self.data(f"/sales/{sale_id}")
            if isinstance(original, dict):
                changes.wanted[sale_id] = original
            else:
                changes.failures.append(FailedOrder(
                    number, f"the sale it returns ({sale_id}) is not in the store: book the "
                    "refund by hand.", field="return_for"))

    def _add_remembered_return(self, changes: _Changes, sale_id: str, return_id: str) -> None:
        """A return read in an earlier run, read again (it may have changed): its refund goes
        before those read in this run, as it came before them."""
        raw = self.data(f"/sales/{return_id}")
        if not isinstance(raw, dict):
            return    # gone from the store: nothing more was handed back by it
        try:
            returned = _return(raw, _number(raw), self.zone)
        except OrderDataError:
            return    # it failed on its own when it was read in its run
        changes.refunds.setdefault(sale_id, []).insert(0, returned.refund)

    def _within(self, raw: Mapping[str, Any], query: OrderQuery) -> bool:
        since = query.modified_since
        if since is not None:
            updated = utc_instant(raw.get("updated_at"))
            if updated is not None and updated < (since if since.tzinfo else
                                                  since.replace(tzinfo=UTC)):
                return False
        sold = utc_instant(raw.get("sale_date"))
        return sold is None or query.includes_day(sold.astimezone(self.zone).date())

    def by_numbers(self, numbers: tuple[str, ...]) -> Iterator[Order | FailedOrder]:
        """Sales by invoice number, through the search endpoint (the feed has no filter)."""
        for number in dict.fromkeys(n.strip() for n in numbers if n.strip()):
            raw = self._search(number)
            yield raw if isinstance(raw, FailedOrder) else self.read(raw, [])

    def _search(self, number: str) -> Mapping[str, Any] | FailedOrder:
        """The sale with this invoice number, or why there is none to book."""
        if self.cancel.cancelled:
            raise Cancelled()
        found = self.data("/search", {"type": "sales", "invoice_number": number})
        matches = [raw for raw in found or [] if isinstance(raw, dict)
                   and _number(raw) == number]
        if not matches:
            return FailedOrder(number, f"No sale {number} in the Lightspeed store.",
                               field="number")
        if matches[0].get("return_for") or _is_return(matches[0]):
            return FailedOrder(number, "it is a return: it is booked as a refund of the sale "
                               "it returns, when that sale syncs.", field="return_for")
        return matches[0]

    def read(self, raw: Mapping[str, Any], refunds: list[Refund]) -> Order | FailedOrder:
        number = _number(raw)
        try:
            lines = raw.get("line_items") or []
            products = {str(line.get("product_id")): self._cached(
                self.products, "/products", str(line.get("product_id") or ""))
                for line in lines if isinstance(line, dict)}
            customer = self._cached(self.customers, "/customers",
                                    str(raw.get("customer_id") or ""))
            return balance_with_store_total(
                _order(raw, number, products, customer, refunds, self.zone))
        except OrderDataError as error:
            return FailedOrder(number, error.message, field=error.field)


# -- mapping ------------------------------------------------------------------------------------

def _number(raw: Mapping[str, Any]) -> str:
    return str(raw.get("invoice_number") or raw.get("receipt_number") or raw.get("id") or "?")


def _is_return(raw: Mapping[str, Any]) -> bool:
    """A sale made only of returned items (negative quantities, marked is_return)."""
    lines = [line for line in raw.get("line_items") or [] if isinstance(line, dict)]
    return bool(lines) and all(line.get("is_return") for line in lines)


def _return(raw: Mapping[str, Any], number: str, zone: tzinfo) -> _Return:
    """A return sale as the refund of its original; an error for a return that names no
    original, or that sells items too (an exchange), which only a person can book.

    A return's totals are negative; the money handed back is their size, tax included.
    """
    original = str(raw.get("return_for") or "")
    if not original:
        raise OrderDataError("it is a return not linked to the sale it returns (no "
                             "return_for): book the refund by hand.", order=number,
                             field="return_for")
    for index, item in enumerate(raw.get("line_items") or [], start=1):
        if isinstance(item, dict) and not item.get("is_return") and quantity_of(
                item, "quantity", number, where=f"line {index}: ") > ZERO:
            raise OrderDataError(f"line {index}: it is an exchange (a return that also sells "
                                 "items): book it by hand.", order=number, field="line_items")
    if raw.get("status") in (VOIDED, PARKED):
        amount = ZERO   # a voided or unfinished return handed nothing back
    else:
        amount = -(amount_of(raw, "total_price", number) + amount_of(raw, "total_tax", number))
    sold = utc_instant(raw.get("sale_date"))
    return _Return(original, Refund(amount, f"return {number}",
                                    sold.astimezone(zone).date() if sold else None))


def _order(raw: Mapping[str, Any], number: str, products: Mapping[str, Mapping[str, Any]],
           customer: Mapping[str, Any], refunds: list[Refund], zone: tzinfo) -> Order:
    status = str(raw.get("status") or "")
    sold = utc_instant(raw.get("sale_date"))
    if sold is None:
        raise OrderDataError(f"sale_date is {raw.get('sale_date')!r}, not a date.",
                             order=number, field="sale_date")
    lines, discount = _lines(raw, number, products)
    total = amount_of(raw, "total_price", number) + amount_of(raw, "total_tax", number)
    payments = _payments(raw, number, zone)
    refunds = [refund for refund in refunds if refund.amount > ZERO]
    payment_status = payment_status_of(total, payments, refunds, voided=status == VOIDED)
    buyer = Buyer(
        name=" ".join(str(customer[k]) for k in ("first_name", "last_name") if customer.get(k)),
        email=str(customer.get("email") or ""), company=str(customer.get("company_name") or ""),
        phone=str(customer.get("phone") or customer.get("mobile") or ""))
    return Order(
        source="lightspeed_x", source_id=str(raw.get("id")), number=number,
        order_date=sold.astimezone(zone).date(), status=status, payment_status=payment_status,
        currency="", buyer=buyer, lines=tuple(lines), total=total,
        billing_address=_address(customer, "physical"),
        shipping_address=_address(customer, "postal"), discount=discount,
        tax=amount_of(raw, "total_tax", number), payments=tuple(payments),
        refunds=tuple(refunds), notes=str(raw.get("note") or ""),
        updated_at=utc_instant(raw.get("updated_at")), raw=raw)


def _lines(raw: Mapping[str, Any], number: str, products: Mapping[str, Mapping[str, Any]]
           ) -> tuple[list[OrderLine], Decimal]:
    """The product lines (without tax) and the sale-level discount.

    A line's `price_total` is what it sold for without tax, its discount already taken off;
    `discount_total` is that discount, kept for the record. A sale-wide discount is a line of
    the store's discount product with quantity −1: it becomes the order's discount.
    """
    lines: list[OrderLine] = []
    discount = ZERO
    for index, item in enumerate(raw.get("line_items") or [], start=1):
        where = f"line {index}: "
        if not isinstance(item, dict):
            raise OrderDataError(f"{where}is not a line item.", order=number, field="line_items")
        count = quantity_of(item, "quantity", number, where=where)
        sold_for = amount_of(item, "price_total", number, where=where)
        if item.get("is_return"):
            raise OrderDataError(f"{where}returns an item inside a sale (an exchange); book "
                                 "the exchange by hand.", order=number, field="is_return")
        if count < ZERO:
            discount -= sold_for
            continue
        line_discount = amount_of(item, "discount_total", number, where=where)
        product = products.get(str(item.get("product_id")), {})
        lines.append(OrderLine(
            sku=str(product.get("sku") or ""),
            name=str(product.get("variant_name") or product.get("name") or ""),
            quantity=count, unit_price=unit_price(sold_for + line_discount, count),
            discount=line_discount,
            taxable=amount_of(item, "tax_total", number, where=where) != ZERO))
    return lines, discount


def _payments(raw: Mapping[str, Any], number: str, zone: tzinfo) -> list[Payment]:
    """Each payment taken, in order (a lay-by's deposit, then the rest). Change handed back is
    a negative payment (cash change is): it comes off the latest payment of its type."""
    taken: list[Payment] = []
    for index, item in enumerate(raw.get("payments") or [], start=1):
        if not isinstance(item, dict) or item.get("deleted_at"):
            continue
        amount = amount_of(item, "amount", number, where=f"payment {index}: ")
        method = str(item.get("name") or item.get("retailer_payment_type_id") or "")
        if amount < ZERO:
            same = [i for i, payment in enumerate(taken) if payment.method == method]
            if same or taken:
                at = same[-1] if same else len(taken) - 1
                taken[at] = replace(taken[at], amount=taken[at].amount + amount)
            continue
        paid = utc_instant(item.get("payment_date"))
        taken.append(Payment(amount, method, "", paid.astimezone(zone).date() if paid else None))
    return [payment for payment in taken if payment.amount > ZERO]


def _address(customer: Mapping[str, Any], kind: str) -> Address:
    return Address(line1=str(customer.get(f"{kind}_address_1") or ""),
                   line2=str(customer.get(f"{kind}_address_2") or ""),
                   city=str(customer.get(f"{kind}_city") or ""),
                   region=str(customer.get(f"{kind}_state") or ""),
                   postal_code=str(customer.get(f"{kind}_postcode") or ""),
                   country=str(customer.get(f"{kind}_country_id") or ""))
