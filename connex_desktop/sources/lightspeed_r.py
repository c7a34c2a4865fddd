"""Lightspeed Retail R-Series (ex-MerchantOS) sales and purchase orders through API V3."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import requests

from connex_desktop.core.errors import Cancelled, OrderDataError, ReconnectError, SetupError
from connex_desktop.core.model import Order, Refund
from connex_desktop.core.money import ZERO
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder
from connex_desktop.sources.amounts import amount_of, balance_with_store_total
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
    chunks,
    override_address,
)
from connex_desktop.sources.lightspeed_r_records import purchase_order as read_purchase_order
from connex_desktop.sources.lightspeed_r_records import records, refund_of, sale_lines, sale_order
from connex_desktop.sources.timestamps import local_day

STORE = "Lightspeed R-Series"
API_URL = "https://api.lightspeedapp.com"
TOKEN_URL = "https://cloud.lightspeedapp.com/auth/oauth/token"
TOKEN_PATH = "/auth/oauth/token"
# V3 pages hold at most 100 records.
PAGE_SIZE = 100
# IN-lists sent in one filter, so an address stays short.
IDS_PER_FILTER = 100
SALE_RELATIONS = ("SaleLines", "SaleLines.Item", "SalePayments", "SalePayments.PaymentType",
                  "Customer", "Customer.Contact")
# Order relations per Lightspeed's Order page; OrderLines.Item for the SKU [Unverified].
ORDER_RELATIONS = ("OrderLines", "OrderLines.Item", "Vendor")
# The sale statuses: R-Series keeps flags (completed, voided, archived), not a status word.
STATUSES = ("completed", "open", "voided", "archived")
OPEN = "open"
ARCHIVED = "archived"
CREDENTIALS = ("client_id", "client_secret", "refresh_token")
# Answers to a refresh that mean the client or the refresh token is no longer good.
REFUSED_SIGN_IN = frozenset({400, 401, 403})


class LightspeedRSource(PagedStoreSource):
    """A Lightspeed Retail R-Series account, read by an OAuth client the retailer approved."""

    kind: ClassVar[str] = "lightspeed_r"
    label: ClassVar[str] = "Lightspeed Retail (R-Series)"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("account_id", "Account ID",
                     help="The account number Lightspeed shows under Settings → Account "
                          "(Account.json names it too)."),
        SettingField("client_id", "Client ID",
                     help="The client ID of your app in Lightspeed's developer portal."),
        SettingField("client_secret", "Client secret", secret=True,
                     help="The app's client secret, on the same page."),
        SettingField("refresh_token", "Refresh token", secret=True,
                     help="The refresh token from the app's first authorisation; each sync "
                          "renews it and keeps the new one in the keyring."),
        SettingField("api_url", "API address", FieldKind.URL, required=False,
                     help="Blank: Lightspeed's own servers."),
        TIMEZONE_SETTING,
    )
    statuses: ClassVar[tuple[str, ...]] = STATUSES
    # An archived sale was taken out of the books: no sale unless booked before.
    no_sale_statuses: ClassVar[tuple[str, ...]] = (ARCHIVED,)
    # A sale not completed is still on the register: fetched only when asked for by status.
    unfinished_statuses: ClassVar[tuple[str, ...]] = (OPEN,)
    keeps_own_purchase_orders: ClassVar[bool] = True

    max_page_size: ClassVar[int] = PAGE_SIZE

    @property
    def api_override(self) -> str:
        return override_address(self.settings, STORE)

    @property
    def account(self) -> str:
        account = self.settings.get("account_id", "").strip()
        if not account.isdigit():
            raise SetupError("Enter the Lightspeed account ID: the number under Settings → "
                             "Account.", field="account_id")
        return account

    @property
    def store_key(self) -> str:
        return f"{self.kind}|{self.account}|{address_key(self.api_override or API_URL)}"

    def check(self) -> str:
        with _Api(self, CancelToken(), checking=True) as api:
            body = api.get(api.resource("Sale"), {"limit": 1})
            if "@attributes" not in body:
                raise SetupError("The Lightspeed API address did not answer as Lightspeed's "
                                 "API does; check the API address.", field="api_url")
        return f"Connected to Lightspeed account {self.account}."

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        with _Api(self, cancel) as api:
            reader = _Sales(api, self.timezone)
            if query.numbers:
                yield from reader.by_numbers(query.numbers)
            else:
                yield from reader.changed(query)

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The purchase orders changed since `since` (None: all), and those with the given ids
        (orderID) whatever their time."""
        zone = self.timezone
        with _Api(self, cancel) as api:
            # Archived (deleted) orders too: one archived before check-in was cancelled.
            relations = {"load_relations": json.dumps(list(ORDER_RELATIONS)), "archived": "true"}
            seen: set[str] = set()
            walks: list[Iterable[Mapping[str, Any]]] = []
            if since is not None or not ids:
                walks.append(api.walk("Order", {**relations, **_since(since),
                                                "sort": "timeStamp"}))
            walks += [api.walk("Order", {**relations, "orderID": _in(chunk)})
                      for chunk in chunks([i for i in dict.fromkeys(ids) if i.isdigit()],
                                          IDS_PER_FILTER)]
            for walk in walks:
                for raw in walk:
                    number = str(raw.get("orderID") or "?")
                    if number not in seen:
                        seen.add(number)
                        yield read_purchase_order(raw, number, zone)


class _Api:
    """One run's calls: an access token from the refresh token (the rotated refresh token kept
    first), renewed once on 401, and requests paced by the leaky bucket's own headers."""

    def __init__(self, source: LightspeedRSource, cancel: CancelToken, *,
                 checking: bool = False) -> None:
        self.source = source
        self.cancel = cancel
        for setting in source.settings_fields:
            given = (source.secrets if setting.secret else source.settings).get(setting.name)
            if setting.name in CREDENTIALS and not (given or "").strip():
                raise SetupError(f"The Lightspeed {setting.label.lower()} is needed: "
                                 f"{setting.help}", field=setting.name)
        override = source.api_override
        self.base = f"{override or API_URL}/API/V3/Account/{source.account}"
        self.token_url = f"{override}{TOKEN_PATH}" if override else TOKEN_URL
        self.bucket = LeakyBucket()
        self.http = StoreHttp(STORE, sleep=source._sleep, clock=source._clock,
                              checking=checking, secrets=(
                                  source.secrets["client_secret"], source.secrets["refresh_token"]))
        self.http.session.hooks["response"].append(self.bucket.observe)
        self.access_token = ""

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def resource(self, name: str) -> str:
        return f"{self.base}/{name}.json"

    def sign_in(self) -> None:
        """A new access token; the refresh token the answer carries replaces the old one."""
        secrets = self.source.secrets
        response = self.http.request("POST", self.token_url, cancel=self.cancel, json={
            "grant_type": "refresh_token", "client_id": self.source.settings["client_id"].strip(),
            "client_secret": secrets["client_secret"].strip(),
            "refresh_token": secrets["refresh_token"].strip()}, allow=REFUSED_SIGN_IN)
        body = self.http.json(response) if response.content else None
        if response.status_code in REFUSED_SIGN_IN or not isinstance(body, dict) \
                or not body.get("access_token"):
            words = body.get("error_description") or body.get("error") \
                if isinstance(body, dict) else ""
            raise ReconnectError(
                "Reconnect the store: Lightspeed refused the client ID, secret or refresh "
                f"token (HTTP {response.status_code}). Authorise the app again for a new "
                "refresh token.", detail=self.http.scrub(str(words or "")))
        renewed = str(body.get("refresh_token") or "")
        if renewed:
            self.http.secrets = (*self.http.secrets, renewed)
            if renewed != secrets["refresh_token"]:
                self._keep_refresh_token(renewed)
        self.access_token = str(body["access_token"])
        self.http.secrets = (*self.http.secrets, self.access_token)

    def _keep_refresh_token(self, renewed: str) -> None:
        """Save the rotated refresh token before anything else: Lightspeed revoked the old one."""
        try:
            self.source.keep_secret("refresh_token", renewed)
        # Any failure of the keyring's backend (keyring's errors, D-Bus, the OS) leaves the
        # connection the same way: with a token Lightspeed no longer accepts.
        except Exception as error:
            raise SetupError(
                "Lightspeed renewed the refresh token, but the keyring refused to keep the new "
                "one, and Lightspeed no longer accepts the old one. Once the keyring works, "
                "authorise the app in Lightspeed again and enter its new refresh token in this "
                "connection's Refresh token setting.", field="refresh_token",
                detail=self.http.scrub(f"{type(error).__name__}: {error}")) from error

    def get(self, url: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON object at `url`, paced by the bucket, signed in again once on 401."""
        if self.cancel.cancelled:
            raise Cancelled()
        if not self.access_token:
            self.sign_in()
        for renewed in (False, True):
            wait_s = self.bucket.wait_s()
            if wait_s > 0:
                self.http.sleep(wait_s)
            response = self.http.get(url, params=params, cancel=self.cancel,
                                     headers={"Authorization": f"Bearer {self.access_token}"},
                                     allow=() if renewed else (401,))
            if response.status_code != 401:
                body = self.http.json(response)
                if not isinstance(body, dict):
                    raise SetupError("The Lightspeed API address did not answer as Lightspeed's "
                                     "API does; check the API address.", field="api_url")
                return body
            self.sign_in()
        raise AssertionError("unreachable: the renewed call raises on 401")

    def walk(self, name: str, params: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        """Every `name` record the filters in `params` match: `@attributes.next` followed as
        given (it carries the cursor and the filters) until it is empty."""
        url: str = self.resource(name)
        sent: Mapping[str, Any] | None = {**params, "limit": self.source.page_size}
        guard = RepeatGuard()
        while url:
            body = self.get(url, sent)
            yield from records(body, name)
            url = str((body.get("@attributes") or {}).get("next") or "")
            sent = None
            if guard.repeated(url):
                return


class LeakyBucket:
    """Lightspeed's leaky bucket, as its headers describe it after each answer: the level and
    size (X-LS-API-Bucket-Level "used/size"), how fast it drains (X-LS-API-Drip-Rate, units a
    second) and what a request costs (X-LS-API-Request-Cost). Nothing is assumed of a size."""

    def __init__(self) -> None:
        self.used = ZERO
        self.size: Decimal | None = None
        self.drip = ZERO
        self.cost = Decimal(1)

    def observe(self, response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
        headers = response.headers
        try:
            level = headers.get("X-LS-API-Bucket-Level")
            if level:
                used, _, size = level.partition("/")
                self.used, self.size = Decimal(used), Decimal(size)
            if headers.get("X-LS-API-Drip-Rate"):
                self.drip = Decimal(headers["X-LS-API-Drip-Rate"])
            if headers.get("X-LS-API-Request-Cost"):
                self.cost = Decimal(headers["X-LS-API-Request-Cost"])
        except (InvalidOperation, ValueError):
            pass   # a header not as documented: the 429 and its Retry-After still pace us

    def wait_s(self) -> float:
        """Seconds to wait so the next request (costing what the last one did) fits."""
        if self.size is None or self.drip <= 0:
            return 0.0
        over = self.used + self.cost - self.size
        return float(over / self.drip) if over > 0 else 0.0


class _Sales:
    """Turns sales into orders, each refund sale as a refund of the sale it returns."""

    def __init__(self, api: _Api, zone: tzinfo) -> None:
        self.api = api
        self.zone = zone
        self.relations = {"load_relations": json.dumps(list(SALE_RELATIONS))}

    def changed(self, query: OrderQuery) -> Iterator[Order | FailedOrder]:
        """The sales the query's bounds name, with every refund of each (found by their lines'
        parentSaleLineID whenever made); a refund changed since brings its sale back."""
        params: dict[str, Any] = {**self.relations, **_since(query.modified_since),
                                  "archived": "true", "sort": "timeStamp"}
        if not any(status.casefold() == OPEN for status in query.statuses):
            params["completed"] = "true"
        if query.modified_since is None and query.created_from and query.created_to:
            params["completeTime"] = "><,{},{}".format(*(
                _utc_text(datetime.combine(day, time(), self.zone) + timedelta(days=shift))
                for day, shift in ((query.created_from, 0), (query.created_to, 1))))
        wanted: dict[str, Mapping[str, Any]] = {}
        failures: list[FailedOrder] = []
        returned: list[Mapping[str, Any]] = []
        for raw in self.api.walk("Sale", params):
            if _is_refund(raw):
                returned.append(raw)
            elif self._within(raw, query):
                wanted[str(raw.get("saleID"))] = raw
        originals = self._originals(returned, failures)
        for sale_id, raw in self._sales([s for s in originals if s not in wanted]).items():
            wanted[sale_id] = raw
        refunds = self._refunds(wanted.values(), failures)
        for sale_id, raw in wanted.items():
            yield self.read(raw, refunds.get(sale_id, []))
        yield from failures

    def _within(self, raw: Mapping[str, Any], query: OrderQuery) -> bool:
        day = local_day(raw.get("completeTime") or raw.get("createTime"), self.zone)
        return day is None or query.includes_day(day)

    def by_numbers(self, numbers: Iterable[str]) -> Iterator[Order | FailedOrder]:
        """Sales by their sale ID (the number receipts and the back office show)."""
        wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
        found = self._sales([n for n in wanted if n.isdigit()])
        failures: list[FailedOrder] = []
        refunds = self._refunds([raw for raw in found.values() if not _is_refund(raw)],
                                failures)
        for number in wanted:
            raw = found.get(number)
            if raw is None:
                yield FailedOrder(number, f"No sale {number} in the Lightspeed account.",
                                  field="number")
            elif _is_refund(raw):
                yield FailedOrder(number, "it is a refund: it is booked as a refund of the "
                                  "sale it returns, when that sale syncs.", field="saleID")
            else:
                yield self.read(raw, refunds.get(number, []))
        yield from failures

    def _sales(self, ids: Sequence[str]) -> dict[str, Mapping[str, Any]]:
        found: dict[str, Mapping[str, Any]] = {}
        for chunk in chunks(ids, IDS_PER_FILTER):
            for raw in self.api.walk("Sale", {**self.relations, "archived": "true",
                                              "saleID": _in(chunk)}):
                found[str(raw.get("saleID"))] = raw
        return found

    def _line_sales(self, field: str, ids: Sequence[str]) -> dict[str, str]:
        """saleLineID → saleID of the sale lines whose `field` is one of `ids`."""
        owners: dict[str, str] = {}
        for chunk in chunks(ids, IDS_PER_FILTER):
            for line in self.api.walk("SaleLine", {field: _in(chunk)}):
                owners[str(line.get("saleLineID"))] = str(line.get("saleID"))
        return owners

    def _originals(self, returned: list[Mapping[str, Any]], failures: list[FailedOrder]
                   ) -> list[str]:
        """The sales the refund sales return items of; a refund naming none fails alone."""
        parents = {str(raw.get("saleID")): [str(line.get("parentSaleLineID") or "0")
                                            for line in sale_lines(raw)] for raw in returned}
        owners = self._line_sales("saleLineID", sorted({p for ps in parents.values()
                                                        for p in ps if p != "0"}))
        originals: list[str] = []
        for refund_id, lines in parents.items():
            sales = {owners[p] for p in lines if p in owners}
            if len(sales) != 1:
                failures.append(FailedOrder(refund_id, "it is a refund not linked to one sale "
                                            "it returns (parentSaleLineID): book it by hand.",
                                            field="parentSaleLineID"))
            else:
                originals.append(sales.pop())
        return originals

    def _refunds(self, sales: Iterable[Mapping[str, Any]], failures: list[FailedOrder]
                 ) -> dict[str, list[Refund]]:
        """Each sale's refunds: the refund sales whose lines name its lines as their parent
        (a refund that cannot be read fails alone, into `failures`)."""
        line_sale = {str(line.get("saleLineID")): str(raw.get("saleID"))
                     for raw in sales for line in sale_lines(raw)}
        parent_of: dict[str, str] = {}   # refund sale → the sale it returns
        for chunk in chunks(sorted(line_sale), IDS_PER_FILTER):
            for line in self.api.walk("SaleLine", {"parentSaleLineID": _in(chunk)}):
                parent_of[str(line.get("saleID"))] = line_sale.get(
                    str(line.get("parentSaleLineID")), "")
        refunds: dict[str, list[Refund]] = {}
        for refund_id, raw in self._sales(sorted(parent_of)).items():
            try:
                refund = refund_of(raw, refund_id, self.zone)
            except OrderDataError as error:
                failures.append(FailedOrder(refund_id, error.message, field=error.field))
                continue
            if refund is not None:
                refunds.setdefault(parent_of[refund_id], []).append(refund)
        return refunds

    def read(self, raw: Mapping[str, Any], refunds: list[Refund]) -> Order | FailedOrder:
        number = str(raw.get("saleID") or "?")
        try:
            return balance_with_store_total(sale_order(raw, number, refunds, self.zone))
        except OrderDataError as error:
            return FailedOrder(number, error.message, field=error.field)


def _is_refund(raw: Mapping[str, Any]) -> bool:
    """A sale that hands money back: its total is below zero."""
    try:
        return amount_of(raw, "calcTotal", str(raw.get("saleID"))) < ZERO
    except OrderDataError:
        return False


def _since(since: datetime | None) -> dict[str, str]:
    return {"timeStamp": f">=,{_utc_text(since)}"} if since is not None else {}


def _utc_text(moment: datetime) -> str:
    """A moment as R-Series filters take it: in UTC, with its offset written out."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="seconds")


def _in(ids: Sequence[str]) -> str:
    return f"IN,[{','.join(ids)}]"

