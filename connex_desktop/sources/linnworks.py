"""Linnworks orders through the v2 orders feed, with their refunds from the v1 API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, ClassVar

from connex_desktop.core.errors import Cancelled, OrderDataError, ReconnectError, SetupError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import CENT, ZERO
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    lines_subtotal,
    revision_of,
)
from connex_desktop.sources.amounts import (
    amount_of,
    balance_with_store_total,
    quantity_of,
    unit_price,
)
from connex_desktop.sources.base import (
    TIMEZONE_SETTING,
    FailedOrder,
    FieldKind,
    OrderQuery,
    SettingField,
)
from connex_desktop.sources.http import (
    PagedStoreSource,
    RepeatGuard,
    StoreHttp,
    address_key,
    override_address,
    require_https,
)
from connex_desktop.sources.timestamps import iso_utc, local_day, utc_instant

STORE = "Linnworks"
AUTH_URL = "https://api.linnworks.net"
# The v2 API's server for each region a session names (its Locality).
V2_SERVERS = {"EU": "https://eu-api.linnworks.net", "US": "https://us-api.linnworks.net",
              "AS": "https://as-api.linnworks.net"}
PAGE_SIZE = 200
# GeneralInfo.Status 0–4; a processed order marked IsCancelled is cancelled whatever it says.
STATUS_NAMES = ("UNPAID", "PAID", "RETURN", "PENDING", "RESEND")
PAID = "PAID"
CANCELLED = "CANCELLED"
# The refund search takes at most three months at a time, 200 rows a page.
REFUND_SEARCH_SPAN = timedelta(days=90)
REFUND_PAGE_SIZE = 200
IDS_PER_CALL = 100
EMPTY_ID = "00000000-0000-0000-0000-000000000000"
# Purchase order statuses, as Linnworks' status list gives them (JSON samples send their index).
PO_STATUSES = {"PENDING": PurchaseOrderState.DRAFT, "OPEN": PurchaseOrderState.OPEN,
               "PARTIAL": PurchaseOrderState.PARTLY_RECEIVED,
               "DELIVERED": PurchaseOrderState.RECEIVED}
# fkSupplierId of the account's default supplier, which the supplier list may not name.
DEFAULT_SUPPLIER = "Default supplier"
# Answers to signing in that mean the application id, secret or token are wrong.
REFUSED_SIGN_IN = frozenset({400, 401, 403})


class LinnworksSource(PagedStoreSource):
    """A Linnworks account, read by a System Integration app installed on it."""

    kind: ClassVar[str] = "linnworks"
    label: ClassVar[str] = "Linnworks"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("application_id", "Application ID",
                     help="The Application ID of your System Integration app in Linnworks' "
                          "developer portal (developer.linnworks.com)."),
        SettingField("application_secret", "Application secret", secret=True,
                     help="The app's Application Secret, on the same page."),
        SettingField("installation_token", "Installation token", secret=True,
                     help="The token Linnworks gives when the app is installed on your account "
                          "(shown in the app's Installs table)."),
        SettingField("api_url", "API address", FieldKind.URL, required=False,
                     help="Blank: Linnworks' own servers, in the account's region."),
        TIMEZONE_SETTING,
    )
    statuses: ClassVar[tuple[str, ...]] = (*STATUS_NAMES, CANCELLED)
    # A return or a resend repeats a sale already made: it brings no new revenue.
    no_sale_statuses: ClassVar[tuple[str, ...]] = ("RETURN", "RESEND")
    # Linnworks keeps its own purchase orders: they are synced, never built from sales.
    keeps_own_purchase_orders: ClassVar[bool] = True

    max_page_size: ClassVar[int] = PAGE_SIZE

    @property
    def api_override(self) -> str:
        return override_address(self.settings, STORE)

    @property
    def store_key(self) -> str:
        # The installation token names the account but is a secret; the app and the address
        # name it as closely as the settings can.
        app = self.settings.get("application_id", "").strip().lower()
        return f"{self.kind}|{app}|{address_key(self.api_override or AUTH_URL)}"

    def check(self) -> str:
        with _Api(self, CancelToken(), checking=True) as api:
            body = api.call("v2", "/orders", {"entriesPerPage": 1, "includeProcessed": "true"})
            if not isinstance(body, dict) or "TotalOrders" not in body:
                raise SetupError("The Linnworks API address did not answer as Linnworks' "
                                 "orders API does; check the API address.", field="api_url")
        return (f"Connected to Linnworks ({api.locality or 'own address'}): "
                f"{body.get('TotalOrders')} orders.")

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The purchase orders dated since `since` (None: all), and those with the given ids
        (pkPurchaseID) whatever their date: Linnworks searches purchase orders by their date
        only, so one still open in the ledger is asked for by id to see it change."""
        with _Api(self, cancel) as api:
            wanted = list(dict.fromkeys(ids))
            suppliers = {str(row.get("pkSupplierID")): str(row.get("SupplierName") or "")
                         for row in api.call("v1", "/api/Inventory/GetSuppliers") or []
                         if isinstance(row, dict)}
            page = 1
            while True:
                found = api.call("v1", "/api/PurchaseOrder/Search_PurchaseOrders", body={
                    "searchParameter": {"DateFrom": iso_utc(since) if since else None,
                                        "EntriesPerPage": self.page_size, "PageNumber": page}})
                headers = found.get("Result") if isinstance(found, dict) else None
                if not isinstance(headers, list) or not headers:
                    break
                wanted += [str(h["pkPurchaseID"]) for h in headers
                           if isinstance(h, dict) and h.get("pkPurchaseID")]
                if page >= int(found.get("TotalPages") or 0):
                    break
                page += 1
            for purchase_id in dict.fromkeys(wanted):
                if cancel.cancelled:
                    raise Cancelled()
                body = api.call("v1", "/api/PurchaseOrder/Get_PurchaseOrder",
                                body={"pkPurchaseId": purchase_id}, refusable=True)
                if body is None:    # asked for again by id, and deleted there meanwhile
                    yield FailedOrder(purchase_id, "Linnworks refused to give this purchase "
                                      "order: it has none with this id any more (deleted?).",
                                      field="pkPurchaseId")
                    continue
                yield _read_purchase(body, purchase_id, suppliers, self.timezone)

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        with _Api(self, cancel) as api:
            reader = _Reader(api, self.timezone, self.page_size, self._clock)
            if query.numbers:
                yield from reader.by_numbers(query.numbers)
            else:
                yield from reader.changed(query)


class _Api:
    """One run's session: signed in once, signed in again only when Linnworks says the session
    ended (HTTP 401), with v1 calls on the session's server and v2 calls in its region."""

    def __init__(self, source: LinnworksSource, cancel: CancelToken, *,
                 checking: bool = False) -> None:
        self.credentials = {
            "ApplicationId": source.settings.get("application_id", "").strip(),
            "ApplicationSecret": source.secrets.get("application_secret", "").strip(),
            "Token": source.secrets.get("installation_token", "").strip()}
        # The credentials are declared first among the settings, in the same order.
        for value, setting in zip(self.credentials.values(), source.settings_fields,
                                  strict=False):
            if not value:
                raise SetupError(f"The Linnworks {setting.label.lower()} is needed: "
                                 f"{setting.help}", field=setting.name)
        self.override = source.api_override
        self.cancel = cancel
        self.http = StoreHttp(STORE, secrets=tuple(self.credentials.values())[1:],
                              sleep=source._sleep, clock=source._clock, checking=checking)
        self.session = ""
        self.locality = ""
        self.servers = {"v1": "", "v2": ""}

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def sign_in(self) -> None:
        url = f"{self.override or AUTH_URL}/api/Auth/AuthorizeByApplication"
        response = self.http.request("POST", url, json=self.credentials, cancel=self.cancel,
                                     allow=REFUSED_SIGN_IN)
        body = self.http.json(response) if response.content else None
        if response.status_code in REFUSED_SIGN_IN or not isinstance(body, dict):
            words = body.get("Message") if isinstance(body, dict) else ""
            raise ReconnectError(
                "Reconnect the store: Linnworks refused the application ID, secret or "
                f"installation token (HTTP {response.status_code}). Enter them again, or "
                "reinstall the app on the account for a new token.",
                detail=self.http.scrub(str(words or "")))
        self.session = str(body.get("Token") or "")
        self.http.secrets = (*self.http.secrets, self.session)
        self.locality = str(body.get("Locality") or "").upper()
        if self.override:
            self.servers = {"v1": self.override, "v2": f"{self.override}/v2"}
            return
        region = V2_SERVERS.get(self.locality)
        if not self.session or region is None or not body.get("Server"):
            raise SetupError("Linnworks signed in without naming the account's session, "
                             f"server or region (Locality {self.locality or 'blank'}).")
        self.servers = {"v1": require_https(str(body["Server"]), STORE), "v2": f"{region}/v2"}

    def call(self, api: str, path: str, params: Mapping[str, Any] | None = None, *,
             body: Mapping[str, Any] | None = None, refusable: bool = False) -> Any:
        """The JSON answer of a GET on the `api` ("v1" or "v2") server (a POST of `body` when
        one is given), signed in again once when the session ended meanwhile. `refusable`:
        None when Linnworks refuses the request (400), which then fails one record only."""
        if not self.session:
            self.sign_in()
        refused = (400,) if refusable else ()
        for renewed in (False, True):
            response = self.http.request("POST" if body is not None else "GET",
                                         self.servers[api] + path, params=params, json=body,
                                         headers={"Authorization": self.session},
                                         cancel=self.cancel,
                                         allow=refused if renewed else (*refused, 401))
            if response.status_code in refused:
                return None
            if response.status_code != 401:
                return self.http.json(response)
            self.sign_in()
        raise AssertionError("unreachable: the renewed call raises on 401")


class _Reader:
    """Turns Linnworks orders into canonical ones, each with all its actioned refunds."""

    def __init__(self, api: _Api, zone: tzinfo, page_size: int,
                 clock: Any) -> None:
        self.api = api
        self.zone = zone
        self.page_size = page_size
        self.clock = clock

    def changed(self, query: OrderQuery) -> Iterator[Order | FailedOrder]:
        """The orders updated since the query's time, and those refunded since then.

        A refund need not change its order's LastUpdated, so refunds actioned since then are
        searched apart; their orders come back with every refund they have.
        """
        found: dict[str, Mapping[str, Any]] = {}
        for raw in self._feed(query):
            found[str(raw.get("OrderId"))] = raw     # an order updated mid-walk: the newest
        refunded = self._refunded_since(query.modified_since)
        for raw in self._by_ids([oid for oid in refunded if oid not in found]):
            found[str(raw.get("OrderId"))] = raw
        for order_id, raw in found.items():
            received = local_day(_section(raw, "GeneralInfo").get("ReceivedDate"), self.zone)
            if received is None or query.includes_day(received):
                yield self.read(raw, order_id in refunded)

    def by_numbers(self, numbers: Iterable[str]) -> Iterator[Order | FailedOrder]:
        """Orders by their Linnworks order number (NumOrderId)."""
        ids: list[str] = []
        for number in dict.fromkeys(n.strip() for n in numbers if n.strip()):
            if not number.isdigit():
                yield FailedOrder(number, "Linnworks order numbers are whole numbers.",
                                  field="number")
                continue
            details = self.api.call("v1", "/api/Orders/GetOrderDetailsByNumOrderId",
                                    {"OrderId": number})
            order_id = str(details.get("OrderId") or "") if isinstance(details, dict) else ""
            if order_id in ("", EMPTY_ID):
                yield FailedOrder(number, f"No order {number} in Linnworks.", field="number")
            else:
                ids.append(order_id)
        for raw in self._by_ids(ids):
            yield self.read(raw, bool(raw.get("Processed")))

    def _feed(self, query: OrderQuery) -> Iterator[Mapping[str, Any]]:
        """The v2 orders feed (open and processed) from `fromDate`, page by page by search
        token until Linnworks gives none, or one it gave before."""
        params: dict[str, Any] = {"entriesPerPage": self.page_size, "includeProcessed": "true"}
        since = query.modified_since
        if since is None and query.created_from is not None:
            # An order received on a day was last updated on that day or later.
            since = datetime.combine(query.created_from, time(), self.zone) - timedelta(days=1)
        if since is not None:
            params["fromDate"] = iso_utc(since)
        guard = RepeatGuard()
        while True:
            if self.api.cancel.cancelled:
                raise Cancelled()
            body = self.api.call("v2", "/orders", params)
            if not isinstance(body, dict):
                raise SetupError("The Linnworks API address did not answer with a list of "
                                 "orders; check the API address.", field="api_url")
            rows = _orders_of(body)
            yield from rows
            token = body.get("NextSearchToken")
            if not rows or not token or guard.repeated(token):
                return
            params = {**params, "searchToken": token}

    def _by_ids(self, ids: list[str]) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        for start in range(0, len(ids), IDS_PER_CALL):
            body = self.api.call("v2", "/orders", {"id": ids[start:start + IDS_PER_CALL]})
            found.extend(_orders_of(body) if isinstance(body, dict) else [])
        return found

    def _refunded_since(self, since: datetime | None) -> set[str]:
        """The ids of orders with a refund actioned since `since` (None: ever)."""
        base = {"historyType": "REFUNDS", "numEntriesPerPage": REFUND_PAGE_SIZE}
        if since is None:
            windows: list[dict[str, Any]] = [{**base, "dateType": "ALLDATES"}]
        else:
            now = datetime.fromtimestamp(self.clock(), UTC)
            windows = []
            start = since
            while start < now:
                end = min(now, start + REFUND_SEARCH_SPAN)
                windows.append({**base, "dateType": "ACTIONED", "from": iso_utc(start),
                                "to": iso_utc(end)})
                start = end
        ids: set[str] = set()
        for window in windows:
            page = 1
            while True:
                body = self.api.call("v1", "/api/ReturnsRefunds/SearchReturnsRefundsPaged",
                                     {**window, "pageNum": page})
                rows = body.get("Data") if isinstance(body, dict) else None
                if not isinstance(rows, list) or not rows:
                    break
                ids.update(str(row["pkOrderID"]) for row in rows
                           if isinstance(row, dict) and row.get("pkOrderID"))
                if page >= int(body.get("TotalPages") or 0):
                    break
                page += 1
        return ids

    def _refunds(self, order_id: str, number: str) -> list[Refund]:
        """The order's actioned refunds, one per refund reference and day (Linnworks lists one
        row per item refunded)."""
        rows = self.api.call("v1", "/api/ProcessedOrders/GetRefunds", {"pkOrderId": order_id})
        grouped: dict[tuple[str, Any], Decimal] = {}
        for index, row in enumerate(rows if isinstance(rows, list) else [], start=1):
            if not isinstance(row, dict) or not row.get("Actioned"):
                continue
            # The size of the refund: channels differ in the sign they record [Unverified].
            amount = abs(amount_of(row, "Amount", number, where=f"refund {index}: "))
            key = (str(row.get("ReturnReference") or ""), local_day(row.get("ActionDate"),
                                                                    self.zone))
            grouped[key] = grouped.get(key, ZERO) + amount
        return [Refund(amount, f"refund {reference}".strip(), day)
                for (reference, day), amount in grouped.items() if amount > ZERO]

    def read(self, raw: Mapping[str, Any], with_refunds: bool) -> Order | FailedOrder:
        number = str(raw.get("NumOrderId") or raw.get("OrderId") or "?")
        try:
            refunds = self._refunds(str(raw.get("OrderId")), number) if with_refunds else []
            return balance_with_store_total(_order(raw, number, refunds, self.zone))
        except OrderDataError as error:
            return FailedOrder(number, error.message, field=error.field)


# -- mapping ------------------------------------------------------------------------------------

def _orders_of(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    rows = [*(body.get("OpenOrders") or []), *(body.get("ProcessedOrders") or [])]
    return [row for row in rows if isinstance(row, dict)]


def _section(raw: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = raw.get(name)
    return section if isinstance(section, dict) else {}


def _status(raw: Mapping[str, Any], number: str) -> str:
    general = _section(raw, "GeneralInfo")
    if general.get("IsCancelled"):
        return CANCELLED
    code = general.get("Status")
    if not isinstance(code, int) or not 0 <= code < len(STATUS_NAMES):
        raise OrderDataError(f"GeneralInfo.Status is {code!r}, not one of Linnworks' order "
                             "statuses (0–4).", order=number, field="Status")
    return STATUS_NAMES[code]


def _order(raw: Mapping[str, Any], number: str, refunds: list[Refund], zone: tzinfo) -> Order:
    general, totals = _section(raw, "GeneralInfo"), _section(raw, "TotalsInfo")
    received = local_day(general.get("ReceivedDate"), zone)
    if received is None:
        raise OrderDataError(f"GeneralInfo.ReceivedDate is {general.get('ReceivedDate')!r}, "
                             "not a date.", order=number, field="ReceivedDate")
    status = _status(raw, number)
    lines, items_tax = _lines(raw, number)
    where = "TotalsInfo: "
    postage = amount_of(totals, "PostageCost", number, where=where)
    shipping = amount_of(totals, "PostageCostExTax", number, where=where)
    tax = amount_of(totals, "Tax", number, where=where)
    total = amount_of(totals, "TotalCharge", number, where=where)
    # Tax may be rounded on the order rather than per item: a cent an item at most.
    if abs(items_tax + postage - shipping - tax) > CENT * (len(lines) + 1):
        raise OrderDataError(f"the items' tax and the postage's add up to "
                             f"{items_tax + postage - shipping} but TotalsInfo.Tax is {tax}.",
                             order=number, field="Tax")
    paid_on = local_day(raw.get("PaidOn"), zone)
    paid = status == PAID or (paid_on is not None and status != CANCELLED)
    payments = (Payment(total, str(totals.get("PaymentMethod") or ""), "",
                        paid_on or received),) if paid and total > ZERO else ()
    refunded = sum((refund.amount for refund in refunds), ZERO)
    if status == CANCELLED:
        payment_status = PaymentStatus.CANCELLED
    elif refunds and refunded >= total > ZERO:
        payment_status = PaymentStatus.REFUNDED
    else:
        payment_status = PaymentStatus.PAID if payments else PaymentStatus.UNPAID
    customer = _section(raw, "CustomerInfo")
    shipping_to, billing = (_section(customer, "Address"), _section(customer, "BillingAddress"))
    reference = str(general.get("ReferenceNum") or "")
    return Order(
        source="linnworks", source_id=str(raw.get("OrderId")), number=number,
        order_date=received, status=status, payment_status=payment_status,
        currency=str(totals.get("Currency") or ""),
        buyer=_buyer(billing or shipping_to, customer), lines=tuple(lines), total=total,
        billing_address=_address(billing), shipping_address=_address(shipping_to),
        shipping=shipping, tax=tax, payments=payments, refunds=tuple(refunds),
        notes=f"{general.get('Source') or 'Channel'} order {reference}" if reference else "",
        updated_at=utc_instant(raw.get("LastUpdated")), raw=raw)


def _lines(raw: Mapping[str, Any], number: str) -> tuple[list[OrderLine], Decimal]:
    """The items without tax (their Cost, discount taken off) and the tax on them.

    `Cost` is an item's total without tax and `CostIncTax` with it, whether the channel's
    prices included tax or not; a composite item's parts are inside its price.
    """
    lines: list[OrderLine] = []
    tax = ZERO
    items = raw.get("Items")
    if not isinstance(items, list):
        raise OrderDataError("the order came without its items.", order=number, field="Items")
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise OrderDataError(f"item {index} is not an order item.", order=number,
                                 field="Items")
        if item.get("ParentItemId"):
            continue
        where = f"item {index} ({item.get('SKU') or item.get('Title') or '?'}): "
        count = quantity_of(item, "Quantity", number, where=where)
        net = amount_of(item, "Cost", number, where=where)
        gross = amount_of(item, "CostIncTax", number, where=where)
        tax += gross - net
        lines.append(OrderLine(
            sku=str(item.get("SKU") or item.get("ChannelSKU") or ""),
            name=str(item.get("Title") or item.get("ChannelTitle") or ""), quantity=count,
            unit_price=unit_price(net, count), taxable=gross != net))
    return lines, tax


def _buyer(address: Mapping[str, Any], customer: Mapping[str, Any]) -> Buyer:
    return Buyer(name=str(address.get("FullName") or customer.get("ChannelBuyerName") or ""),
                 email=str(address.get("EmailAddress") or ""),
                 company=str(address.get("Company") or ""),
                 phone=str(address.get("PhoneNumber") or ""))


def _address(address: Mapping[str, Any]) -> Address:
    second = ", ".join(str(address[k]) for k in ("Address2", "Address3") if address.get(k))
    return Address(line1=str(address.get("Address1") or ""), line2=second,
                   city=str(address.get("Town") or ""), region=str(address.get("Region") or ""),
                   postal_code=str(address.get("PostCode") or ""),
                   country=str(address.get("Country") or ""))


# -- purchase orders ----------------------------------------------------------------------------

def _read_purchase(body: Any, purchase_id: str, suppliers: Mapping[str, str],
                   zone: tzinfo) -> PurchaseOrder | FailedOrder:
    header = _section(body, "PurchaseOrderHeader") if isinstance(body, dict) else {}
    number = str(header.get("ExternalInvoiceNumber") or purchase_id)
    try:
        return _purchase_order(body, header, number, suppliers, zone)
    except OrderDataError as error:
        return FailedOrder(number, error.message, field=error.field)


def _purchase_order(body: Mapping[str, Any], header: Mapping[str, Any], number: str,
                    suppliers: Mapping[str, str], zone: tzinfo) -> PurchaseOrder:
    """A purchase order: each item's `Cost` is its line total with tax (unit cost × quantity +
    tax), so its unit cost without tax is (Cost − Tax) / Quantity."""
    status = header.get("Status")
    if isinstance(status, int) and 0 <= status < len(PO_STATUSES):
        status = list(PO_STATUSES)[status]
    if status not in PO_STATUSES:
        raise OrderDataError(f"Status is {status!r}, not a Linnworks purchase order status.",
                             order=number, field="Status")
    supplier = str(header.get("fkSupplierId") or EMPTY_ID)
    vendor = suppliers.get(supplier) or (DEFAULT_SUPPLIER if supplier == EMPTY_ID else "")
    if not vendor:
        raise OrderDataError(f"its supplier ({supplier}) is not in Linnworks' supplier list.",
                             order=number, field="fkSupplierId")
    lines: list[PurchaseOrderLine] = []
    items_tax = ZERO
    for index, item in enumerate(body.get("PurchaseOrderItem") or [], start=1):
        if not isinstance(item, dict) or item.get("IsDeleted"):
            continue
        where = f"item {index} ({item.get('SKU') or '?'}): "
        count = quantity_of(item, "Quantity", number, where=where)
        tax = amount_of(item, "Tax", number, where=where)
        net = amount_of(item, "Cost", number, where=where) - tax
        items_tax += tax
        lines.append(PurchaseOrderLine(
            sku=str(item.get("SKU") or ""), name=str(item.get("ItemTitle") or ""),
            quantity=count, unit_cost=unit_price(net, count),
            received=quantity_of(item, "Delivered", number, where=where),
            tax_rate=amount_of(item, "TaxRate", number, where=where)))
    if abs(items_tax - amount_of(header, "taxPaid", number)) > CENT * max(1, len(lines)):
        raise OrderDataError(f"the items' tax adds up to {items_tax} but taxPaid is "
                             f"{header.get('taxPaid')}.", order=number, field="taxPaid")
    costs = [c for c in body.get("AdditionalCosts") or [] if isinstance(c, dict)]
    other = sum((amount_of(c, "SubTotalLineCost", number, where="additional cost: ")
                 for c in costs), ZERO)
    tax = items_tax + sum((amount_of(c, "Tax", number, where="additional cost: ")
                           for c in costs), ZERO)
    ordered = local_day(header.get("DateOfPurchase"), zone)
    if ordered is None:
        raise OrderDataError(f"DateOfPurchase is {header.get('DateOfPurchase')!r}, not a date.",
                             order=number, field="DateOfPurchase")
    expected = local_day(header.get("QuotedDeliveryDate"), zone)
    subtotal = lines_subtotal(lines)
    reference = str(header.get("SupplierReferenceNumber") or "")
    return PurchaseOrder(
        source="linnworks", source_id=str(header.get("pkPurchaseID") or number), number=number,
        vendor=vendor, order_date=ordered, state=PO_STATUSES[str(status)], status=str(status),
        currency=str(header.get("Currency") or ""), lines=tuple(lines),
        total=subtotal + other + tax, expected_date=expected, other_costs=other, tax=tax,
        memo=f"Linnworks purchase order {number}"
             + (f", supplier reference {reference}" if reference else ""),
        revision=revision_of(status, expected, other, tax, [
            (line.sku, line.quantity, line.unit_cost, line.received) for line in lines]),
        raw=body)
