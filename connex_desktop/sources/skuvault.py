"""SkuVault sales through getSalesByDate, in the 7-day windows SkuVault allows."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, ClassVar

import requests

from connex_desktop.core.errors import Cancelled, OrderDataError, ReconnectError, SetupError
from connex_desktop.core.model import Address, Buyer, Order, OrderLine, Payment, PaymentStatus
from connex_desktop.core.money import ZERO, MoneyError, money, quantity
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    lines_subtotal,
    revision_of,
)
from connex_desktop.sources.amounts import amount_of, quantity_of, unit_price
from connex_desktop.sources.base import (
    TIMEZONE_SETTING,
    FailedOrder,
    FieldKind,
    OrderQuery,
    SettingField,
)
from connex_desktop.sources.http import PagedStoreSource, StoreHttp, address_key, require_https
from connex_desktop.sources.timestamps import iso_utc, local_day

STORE = "SkuVault"
API_URL = "https://app.skuvault.com/api"
# getSalesByDate: a window of at most 7 days, pages of 1,000 to 10,000 sales (from page 0).
WINDOW = timedelta(days=7)
PAGE_SIZE = 10_000
# Without a cursor or a date to start from, the first sync reads this far back: every window
# is a Heavy call (5 a minute), so all of an account's history would take hours.
FIRST_SYNC_DAYS = 30
STATUSES = ("Pending", "ReadyToShip", "Completed", "ShippedUnpaid", "Cancelled", "Invalid")
CANCELLED = "Cancelled"
# A sale ready to ship or shipped was paid, SkuVault's status guide says; "ShippedUnpaid" and
# "Pending" were not.
PAID_STATUSES = frozenset({"ReadyToShip", "Completed"})
# SkuVault writes money as {"a": amount, "s": symbol}: the symbols each currency is shown with.
SYMBOLS = {"USD": "$", "CAD": "$", "AUD": "$", "NZD": "$", "GBP": "£", "EUR": "€", "JPY": "¥",
           "INR": "₹"}
CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# getPOs: pages of up to 10,000 purchase orders. "Completed" is the one Status value SkuVault
# documents; "Cancelled" is read as cancelled too [Unverified: the full list is unpublished].
PO_PAGE_SIZE = 10_000
PO_COMPLETED = "Completed"
PO_CANCELLED = "Cancelled"


def _reset_wait_s(response: requests.Response) -> float | None:
    """SkuVault's throttle: 429 with X-RateLimit-Reset, the milliseconds to wait."""
    if response.status_code != 429:
        return None
    try:
        return max(0.0, float(response.headers["X-RateLimit-Reset"]) / 1000)
    except (KeyError, ValueError):
        return None     # no reset named: the usual back-off


class SkuVaultSource(PagedStoreSource):
    """A SkuVault account, read as a SkuVault user of its own (throttles count per user)."""

    kind: ClassVar[str] = "skuvault"
    label: ClassVar[str] = "SkuVault"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("email", "Email",
                     help="The sign-in email of a SkuVault user for this app (SkuVault asks "
                          "each integration to use its own user: its limits count per user)."),
        SettingField("password", "Password", secret=True, help="That user's password."),
        SettingField("currency", "Currency", default="USD",
                     help="The currency of the account's sales, e.g. USD: SkuVault shows "
                          "amounts with a symbol ($), never a currency code."),
        SettingField("api_url", "API address", FieldKind.URL, required=False,
                     help=f"Blank: {API_URL}, as SkuVault documents."),
        TIMEZONE_SETTING,
    )
    statuses: ClassVar[tuple[str, ...]] = STATUSES
    no_sale_statuses: ClassVar[tuple[str, ...]] = ("Invalid",)
    # SkuVault keeps its own purchase orders: they are synced, never built from sales.
    keeps_own_purchase_orders: ClassVar[bool] = True

    max_page_size: ClassVar[int] = PAGE_SIZE

    @property
    def api_url(self) -> str:
        try:
            return require_https(self.settings.get("api_url", "").strip() or API_URL, STORE)
        except SetupError as error:
            raise SetupError(error.message, field="api_url") from None

    @property
    def currency(self) -> str:
        code = self.settings.get("currency", "").strip().upper()
        if not CURRENCY_CODE.fullmatch(code):
            raise SetupError("Enter the currency of the SkuVault account's sales as a "
                             "three-letter code, e.g. USD.", field="currency")
        return code

    @property
    def store_key(self) -> str:
        # The account's tenant token would name it better, but it is known only signed in.
        email = self.settings.get("email", "").strip().lower()
        return f"{self.kind}|{email}|{address_key(self.api_url)}"

    def check(self) -> str:
        with _Api(self, CancelToken(), checking=True) as api:
            api.sign_in()
        return f"Connected to SkuVault as {api.email}."

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        currency, zone = self.currency, self.timezone
        with _Api(self, cancel) as api:
            if query.numbers:
                wanted = list(dict.fromkeys(n.strip() for n in query.numbers if n.strip()))
                found = {str(raw.get("Id")): raw for raw in api.sales(
                    "/sales/getSales", {"OrderIds": wanted})}
                for number in wanted:
                    yield (_read(found[number], currency, zone) if number in found else
                           FailedOrder(number, f"No sale {number} in SkuVault.", field="number"))
                return
            seen: set[str] = set()
            for raw in self._walk(api, query):
                number = str(raw.get("Id") or "?")
                if number in seen:      # met again where two windows touch
                    continue
                seen.add(number)
                day = local_day(raw.get("SaleDate"), zone)
                if day is None or query.includes_day(day):
                    yield _read(raw, currency, zone)

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The purchase orders changed since `since` (None: all), and those numbered in `ids`
        whatever their time and status."""
        currency, zone = self.currency, self.timezone
        with _Api(self, cancel) as api:
            window = {"ModifiedAfterDateTimeUtc": iso_utc(since),
                      "ModifiedBeforeDateTimeUtc": iso_utc(datetime.fromtimestamp(
                          self._clock(), UTC))} if since else {}
            # getPOs leaves completed purchase orders out unless asked for by status.
            rows: Iterable[Mapping[str, Any]] = itertools.chain(
                api.purchase_orders(window),
                api.purchase_orders({**window, "Status": PO_COMPLETED}),
                api.purchase_orders({"PONumbers": list(dict.fromkeys(ids))}) if ids else ())
            seen: set[str] = set()
            for raw in rows:
                number = str(raw.get("PoNumber") or raw.get("PoId") or "?")
                if number not in seen:
                    seen.add(number)
                    yield _read_purchase(raw, number, currency, zone)

    def _walk(self, api: _Api, query: OrderQuery) -> Iterator[Mapping[str, Any]]:
        """Every sale in the query's time, window by window, page by page."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        end = now
        if query.modified_since is not None:
            since = query.modified_since
            field, start = "Modified", since if since.tzinfo else since.replace(tzinfo=UTC)
        elif query.created_from is not None:
            field = "Sale"
            start = datetime.combine(query.created_from, time(), self.timezone)
            if query.created_to is not None:
                end = min(now, datetime.combine(query.created_to + timedelta(days=1), time(),
                                                self.timezone))
        else:
            field, start = "Modified", now - timedelta(days=FIRST_SYNC_DAYS)
        while start < end:
            stop = min(end, start + WINDOW)
            page = 0
            while True:
                rows = api.sales("/sales/getSalesByDate", {
                    "FromDate": iso_utc(start), "ToDate": iso_utc(stop), "DateField": field,
                    "PageNumber": page, "PageSize": self.page_size})
                yield from rows
                if len(rows) < self.page_size:
                    break
                page += 1
            start = stop


class _Api:
    """One run's calls: tokens from the user's email and password, sent in each JSON body."""

    def __init__(self, source: SkuVaultSource, cancel: CancelToken, *,
                 checking: bool = False) -> None:
        self.email = source.settings.get("email", "").strip()
        self.password = source.secrets.get("password", "")
        if not self.email or not self.password:
            raise SetupError("The SkuVault user's email and password are needed.",
                             field="email" if not self.email else "password")
        self.url = source.api_url
        self.cancel = cancel
        self.http = StoreHttp(STORE, secrets=(self.password,), throttle=_reset_wait_s,
                              sleep=source._sleep, clock=source._clock, checking=checking)
        self.tokens: dict[str, str] = {}

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def sign_in(self) -> None:
        body = self._post("/gettokens", {"Email": self.email, "Password": self.password})
        tokens = {key: str(body.get(key) or "") for key in ("TenantToken", "UserToken")} \
            if isinstance(body, dict) else {}
        if not all(tokens.values()):
            # SkuVault gives no tokens to a disabled user.
            raise ReconnectError("Reconnect the store: SkuVault gave no API tokens for "
                                 f"{self.email} (a wrong password, or a disabled user).")
        self.tokens = tokens
        self.http.secrets = (*self.http.secrets, *tokens.values())

    def sales(self, path: str, params: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The sales of one call, from the wrapped answer {"Sales", "Status", "Errors"}."""
        return self.records(path, "Sales", params)

    def purchase_orders(self, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every purchase order getPOs gives for `params`, page by page from page 0."""
        page = 0
        while True:
            rows = self.records("/purchaseorders/getPOs", "PurchaseOrders", {
                **params, "PageNumber": page, "IncludeProducts": True})
            yield from rows
            if len(rows) < PO_PAGE_SIZE:
                return
            page += 1

    def records(self, path: str, key: str, params: Mapping[str, Any]
                ) -> list[Mapping[str, Any]]:
        """The list under `key` in the answer to one call, signed in first if need be."""
        if self.cancel.cancelled:
            raise Cancelled()
        if not self.tokens:
            self.sign_in()
        body = self._post(path, {**self.tokens, **params})
        rows = body.get(key) if isinstance(body, dict) else None
        errors = body.get("Errors") if isinstance(body, dict) else None
        if errors:
            raise SetupError(f"SkuVault refused the request {path.rsplit('/', 1)[-1]}.",
                             detail=self.http.scrub("; ".join(map(str, errors))))
        if not isinstance(rows, list):
            raise SetupError(f"The SkuVault API address did not answer with {key}; check the "
                             "API address.", field="api_url")
        return [row for row in rows if isinstance(row, dict)]

    def _post(self, path: str, body: Mapping[str, Any]) -> Any:
        response = self.http.request("POST", self.url + path, json=dict(body),
                                     cancel=self.cancel)
        return self.http.json(response)


# -- mapping ------------------------------------------------------------------------------------

def _read(raw: Mapping[str, Any], currency: str, zone: tzinfo) -> Order | FailedOrder:
    number = str(raw.get("Id") or "?")
    try:
        return _order(raw, number, currency, zone)
    except OrderDataError as error:
        return FailedOrder(number, error.message, field=error.field)


def _money(data: Mapping[str, Any], key: str, number: str, currency: str,
           where: str = "", *, exact: bool = False) -> Decimal:
    """A {"a": amount, "s": symbol} field, to the cent unless `exact`; an error when its
    symbol is not the currency's."""
    value = data.get(key)
    if value is None:
        return ZERO
    if not isinstance(value, dict):
        raise OrderDataError(f"{where}{key} is {value!r}, not an amount.", order=number,
                             field=key)
    symbol, expected = str(value.get("s") or "").strip(), SYMBOLS.get(currency)
    if symbol and expected and symbol != expected:
        raise OrderDataError(f"{where}{key} is in '{symbol}' but the connection's currency is "
                             f"{currency} ('{expected}'): set the connection's currency.",
                             order=number, field=key)
    if not exact:
        return amount_of(value, "a", number, where=f"{where}{key}.")
    return _exact(value, "a", number, where=f"{where}{key}.", field=key)


def _exact(data: Mapping[str, Any], key: str, number: str, *, where: str = "",
           field: str = "") -> Decimal:
    """`data[key]` as an amount with all its places (a unit price or cost may have more
    than a cent's); missing: zero."""
    value = data.get(key)
    try:
        return quantity(value if value is not None else "0")
    except MoneyError:
        raise OrderDataError(f"{where}{key} is {value!r}, not an amount.", order=number,
                             field=field or key) from None


def _order(raw: Mapping[str, Any], number: str, currency: str, zone: tzinfo) -> Order:
    day = local_day(raw.get("SaleDate"), zone)
    if day is None:
        raise OrderDataError(f"SaleDate is {raw.get('SaleDate')!r}, not a date.", order=number,
                             field="SaleDate")
    status = str(raw.get("Status") or "")
    lines = list(_lines(raw, number, currency))
    shipping = _money(raw, "ShippingCharge", number, currency)
    # SkuVault states no total, tax or discount for a sale: its lines and shipping are it.
    total = sum((line.amount for line in lines), ZERO) + shipping
    paid = status in PAID_STATUSES and total > ZERO
    payments = (Payment(total, "", "", day),) if paid else ()
    payment_status = (PaymentStatus.CANCELLED if status == CANCELLED else
                      PaymentStatus.PAID if paid else PaymentStatus.UNPAID)
    contact, to = _section(raw, "ContactInfo"), _section(raw, "ShippingInfo")
    buyer = Buyer(name=" ".join(str(contact[k]) for k in ("FirstName", "LastName")
                                if contact.get(k)),
                  email=str(contact.get("Email") or ""),
                  company=str(contact.get("Company") or ""),
                  phone=str(contact.get("Phone") or ""))
    shipping_address = Address(
        line1=str(to.get("Address1") or ""), line2=str(to.get("Address2") or ""),
        city=str(to.get("City") or ""), region=str(to.get("Region") or ""),
        postal_code=str(to.get("PostalCode") or ""), country=str(to.get("Country") or ""))
    channel_number = str(raw.get("MarketplaceId") or "")
    return Order(
        source="skuvault", source_id=number, number=number, order_date=day, status=status,
        payment_status=payment_status, currency=currency, buyer=buyer, lines=tuple(lines),
        total=total, shipping_address=shipping_address, shipping=shipping, payments=payments,
        notes=(f"{raw.get('Marketplace') or 'Channel'} order {channel_number}"
               if channel_number else str(raw.get("Notes") or "")), raw=raw)


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = raw.get(name)
    return section if isinstance(section, dict) else {}


def _lines(raw: Mapping[str, Any], number: str, currency: str) -> Iterable[OrderLine]:
    """The items and kits sold, each at its unit price (SkuVault gives no tax on them)."""
    for key in ("MerchantItems", "MerchantKits"):
        items = raw.get(key) or []
        if not isinstance(items, list):
            raise OrderDataError(f"{key} is not a list.", order=number, field=key)
        for index, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                raise OrderDataError(f"{key} {index} is not an item.", order=number, field=key)
            where = f"{key} {index} ({item.get('Sku') or '?'}): "
            count = quantity_of(item, "Quantity", number, where=where)
            price = _money(item, "UnitPrice", number, currency, where, exact=True)
            yield OrderLine(sku=str(item.get("Sku") or ""), name=str(item.get("Sku") or ""),
                            quantity=count, unit_price=unit_price(money(count * price), count),
                            taxable=False)


# -- purchase orders ----------------------------------------------------------------------------

def _read_purchase(raw: Mapping[str, Any], number: str, currency: str,
                   zone: tzinfo) -> PurchaseOrder | FailedOrder:
    try:
        return _purchase_order(raw, number, currency, zone)
    except OrderDataError as error:
        return FailedOrder(number, error.message, field=error.field)


def _purchase_order(raw: Mapping[str, Any], number: str, currency: str,
                    zone: tzinfo) -> PurchaseOrder:
    """A purchase order: each line's Cost is the unit cost (SkuVault states no tax on it)."""
    vendor = str(raw.get("SupplierName") or "").strip()
    if not vendor:
        raise OrderDataError("it names no supplier.", order=number, field="SupplierName")
    if raw.get("Costs"):
        raise OrderDataError("it has additional costs (Costs), whose form SkuVault does not "
                             "document: book them by hand.", order=number, field="Costs")
    lines: list[PurchaseOrderLine] = []
    for index, item in enumerate(raw.get("LineItems") or [], start=1):
        if not isinstance(item, dict):
            raise OrderDataError(f"line {index} is not a line item.", order=number,
                                 field="LineItems")
        where = f"line {index} ({item.get('SKU') or '?'}): "
        count = quantity_of(item, "Quantity", number, where=where)
        cost = _exact(item, "Cost", number, where=where)
        lines.append(PurchaseOrderLine(
            sku=str(item.get("SKU") or ""), name=str(item.get("Variant") or item.get("SKU")
                                                     or ""),
            quantity=count, unit_cost=unit_price(money(count * cost), count),
            received=quantity_of(item, "ReceivedQuantity", number, where=where)))
    ordered = local_day(raw.get("OrderDate"), zone) or local_day(raw.get("CreatedDate"), zone)
    if ordered is None:
        raise OrderDataError(f"OrderDate is {raw.get('OrderDate')!r}, not a date.",
                             order=number, field="OrderDate")
    status = str(raw.get("Status") or "")
    state = (PurchaseOrderState.RECEIVED if status == PO_COMPLETED else
             PurchaseOrderState.CANCELLED if status == PO_CANCELLED else
             PurchaseOrderState.PARTLY_RECEIVED if any(line.received for line in lines) else
             PurchaseOrderState.OPEN)
    expected = local_day(raw.get("ArrivalDueDate"), zone)
    notes = str(raw.get("PublicNotes") or "")
    return PurchaseOrder(
        # getPOs finds purchase orders by number only: the number is the id asked for again.
        source="skuvault", source_id=number, number=number,
        vendor=vendor, order_date=ordered, state=state, status=status, currency=currency,
        lines=tuple(lines), total=lines_subtotal(lines),
        expected_date=expected,
        ship_to=Address(line1=str(raw.get("ShipToAddress") or raw.get("ShipToWarehouse")
                                  or "")),
        memo=f"SkuVault purchase order {number}" + (f": {notes}" if notes else ""),
        revision=revision_of(status, expected, [
            (line.sku, line.quantity, line.unit_cost, line.received) for line in lines]),
        raw=raw)
