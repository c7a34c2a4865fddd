"""Erply sales and purchase orders through the classic JSON API (one POST endpoint per account)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import requests

from connex_desktop.core.errors import (
    Cancelled,
    OrderDataError,
    ReconnectError,
    RetryLaterError,
    SetupError,
)
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.money import CENT, ZERO, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    deleted_purchase_order,
    lines_subtotal,
    revision_of,
)
from connex_desktop.sources.amounts import (
    ROUNDING_SKU,
    amount_of,
    balance_with_store_total,
    quantity_of,
    unit_price,
)
from connex_desktop.sources.base import FailedOrder, FieldKind, OrderQuery, SettingField
from connex_desktop.sources.http import (
    PagedStoreSource,
    RepeatGuard,
    StoreHttp,
    chunks,
    require_https,
)

STORE = "Erply"
PAGE_SIZE = 100  # recordsOnPage: at most 100
# Invoice-waybills and POS receipts are the sales; credit invoices are their returns. Sales
# orders (ORDER) are left out: the invoice made from one carries the sale, and booking both
# would count it twice. Purchase orders (PRCORDER) are purchase documents, not sales.
SALE_TYPES = ("INVWAYBILL", "CASHINVOICE")
CREDIT_TYPE = "CREDITINVOICE"
# getSalesDocuments' invoiceState values; an unconfirmed document has no number and no sale yet.
INVOICE_STATES = ("PENDING", "READY", "MAILED", "PRINTED", "SHIPPED", "FULFILLED", "CANCELLED")
UNCONFIRMED = "UNCONFIRMED"
PURCHASE_ORDER_TYPE = "PRCORDER"
# getPurchaseDocuments' statuses of a purchase order: PENDING is one not confirmed yet, READY a
# confirmed one nothing of which has been received. Erply has no status for a cancelled one.
PO_STATES = {"PENDING": PurchaseOrderState.DRAFT, "READY": PurchaseOrderState.OPEN,
             "PARTIALLY_RECEIVED": PurchaseOrderState.PARTLY_RECEIVED,
             "RECEIVED": PurchaseOrderState.RECEIVED}
# A deleted purchase order is never listed again: Erply's log of deleted items
# (getUserOperationsLog) names its id under this table.
DELETED_LOG_TABLE = "purchaseDocuments"
DELETE_OPERATION = "delete"
# A tip is paid on top of the document's total: it is no payment of it.
NOT_PAYING_TYPES = frozenset({"TIP"})
# 1054 and 1055; Erply also answers an expired key with HTTP 403, which `_post` reports as
# the code -403 (not Erply's).
SESSION_EXPIRED_BY_HTTP = -403
SESSION_EXPIRED = frozenset({1054, 1055, SESSION_EXPIRED_BY_HTTP})
# A status that says "error" without a code.
UNSTATED_ERROR = -1
LOGIN_REFUSED = frozenset({1050, 1051, 1052})
QUOTA_USED_UP = 1002
PASSING_FAULTS = frozenset({1000, 1003, 1008})
NO_RIGHTS = frozenset({1006, 1060, 1061, 1148})
UNKNOWN_ACCOUNT = 1001
# Erply blocks an address for 10 seconds after too many requests (HTTP 429).
IP_BLOCK_S = 10.0
CLIENT_CODE = re.compile(r"[A-Za-z0-9-]+")


def _ip_block_wait_s(response: requests.Response) -> float | None:
    """Erply's per-address throttle: a 429 blocks the address for ten seconds."""
    return IP_BLOCK_S if response.status_code == 429 else None


class ErplySource(PagedStoreSource):
    """An Erply account, read as an API user (username and password) of that account."""

    kind: ClassVar[str] = "erply"
    label: ClassVar[str] = "Erply"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("client_code", "Client code",
                     help="The Erply account number (client code), e.g. 512345."),
        SettingField("username", "Username",
                     help="An Erply user for this app (Erply advises a separate API user) who "
                          "may view sales documents, payments and customers."),
        SettingField("password", "Password", secret=True, help="That user's password."),
        SettingField("api_url", "API address", FieldKind.URL, required=False,
                     help="Blank: https://<client code>.erply.com/api/, as Erply documents."),
    )
    statuses: ClassVar[tuple[str, ...]] = (*INVOICE_STATES, UNCONFIRMED)
    unfinished_statuses: ClassVar[tuple[str, ...]] = (UNCONFIRMED,)
    # Erply keeps its own purchase orders (PRCORDER): they are synced, never built from sales.
    keeps_own_purchase_orders: ClassVar[bool] = True

    max_page_size: ClassVar[int] = PAGE_SIZE

    @property
    def client_code(self) -> str:
        code = self.settings.get("client_code", "").strip()
        if not CLIENT_CODE.fullmatch(code):
            raise SetupError("Enter the Erply client code (the account number, e.g. 512345).",
                             field="client_code")
        return code

    @property
    def store_key(self) -> str:
        return f"{self.kind}|{self.client_code}"

    def api_url(self) -> str:
        given = self.settings.get("api_url", "").strip()
        url = given or f"https://{self.client_code}.erply.com/api/"
        try:
            return require_https(url, STORE) + "/"
        except SetupError as error:
            raise SetupError(error.message, field="api_url") from None

    def check(self) -> str:
        with _Api(self, CancelToken(), checking=True) as api:
            status, _ = api.call("getSalesDocuments", {"recordsOnPage": 1})
        return (f"Connected to the Erply account {self.client_code}: "
                f"{status.get('recordsTotal', '?')} sales documents.")

    def purchase_orders(self, since: datetime | None, cancel: CancelToken,
                        ids: Sequence[str] = ()) -> Iterator[PurchaseOrder | FailedOrder]:
        """The purchase orders (PRCORDER) added or changed since `since` (None: all), then those
        with the given document ids that the walk did not bring, whatever their time."""
        params: dict[str, Any] = {"type": PURCHASE_ORDER_TYPE, "getRowsForAllInvoices": 1}
        if since is not None:
            params["changedSince"] = _unix(since)
        with _Api(self, cancel) as api:
            seen: set[str] = set()
            for raw in api.pages("getPurchaseDocuments", params):
                seen.add(str(raw.get("id")))
                yield _read_purchase(raw)
            again = [doc_id for doc_id in dict.fromkeys(ids) if doc_id not in seen]
            for chunk in chunks(again, PAGE_SIZE):
                for raw in api.pages("getPurchaseDocuments", {
                        "ids": ",".join(chunk), "getRowsForAllInvoices": 1}):
                    seen.add(str(raw.get("id")))
                    if raw.get("type") == PURCHASE_ORDER_TYPE:
                        yield _read_purchase(raw)
            gone = [doc_id for doc_id in again if doc_id not in seen]
            if gone:
                yield from _deleted_purchases(api, gone, since)

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        wanted = self._wanted_statuses(query.statuses)
        params = self._list_params(query, wanted)
        with _Api(self, cancel) as api:
            reader = _Reader(api)
            paid_lately: list[str] = []
            if query.numbers:
                raws, failed = reader.by_numbers(query.numbers)
                yield from failed
            else:
                raws = list(api.pages("getSalesDocuments", params))
                if "changedSince" in params:
                    # A payment is its own record: paying an invoice need not change it.
                    paid_lately = [str(p.get("documentID")) for p in api.pages(
                        "getPayments", {"changedSince": params["changedSince"]})]
            for item in reader.orders(raws, paid_lately):
                if isinstance(item, FailedOrder) or (
                        (not wanted or item.status in wanted)
                        and query.includes_day(item.order_date)):
                    yield item

    def _wanted_statuses(self, statuses: Iterable[str]) -> frozenset[str]:
        wanted = frozenset(s.strip().upper() for s in statuses if s.strip())
        unknown = sorted(wanted - set(self.statuses))
        if unknown:
            raise SetupError(f"'{unknown[0]}' is not an Erply document state; use one of "
                             f"{', '.join(self.statuses)}.", field="statuses")
        return wanted

    def _list_params(self, query: OrderQuery, wanted: frozenset[str]) -> dict[str, Any]:
        params: dict[str, Any] = {"types": ",".join((*SALE_TYPES, CREDIT_TYPE)),
                                  "getRowsForAllInvoices": 1}
        if UNCONFIRMED not in wanted:
            params["confirmed"] = 1
        if query.modified_since is not None:
            params["changedSince"] = _unix(query.modified_since)
        if query.created_from is not None:
            params["dateFrom"] = query.created_from.isoformat()
        if query.created_to is not None:
            params["dateTo"] = query.created_to.isoformat()
        return params


class _Api:
    """One run's conversation with the account: the session key, kept for the run and renewed
    only when Erply says it expired, and Erply's errors (inside HTTP 200) made plain."""

    def __init__(self, source: ErplySource, cancel: CancelToken, *,
                 checking: bool = False) -> None:
        self.url = source.api_url()
        self.client_code = source.client_code
        self.username = source.settings.get("username", "").strip()
        self.password = source.secrets.get("password", "")
        if not self.username or not self.password:
            missing = "username" if not self.username else "password"
            raise SetupError("The Erply username and password of the API user are needed.",
                             field=missing)
        self.cancel = cancel
        self.page_size = source.page_size
        self.http = StoreHttp(STORE, secrets=(self.password,), throttle=_ip_block_wait_s,
                              sleep=source._sleep, clock=source._clock, checking=checking)
        self.session_key = ""

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.http.close()

    def call(self, request: str, params: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
        """The status block and the records of one call; the session is renewed once if it
        expired meanwhile."""
        if not self.session_key:
            self._log_in()
        code, status, records = self._post(request, {**params, "sessionKey": self.session_key})
        if code in SESSION_EXPIRED:
            self._log_in()
            code, status, records = self._post(request,
                                               {**params, "sessionKey": self.session_key})
        self._raise_for(code, status, request)
        return status, records

    def pages(self, request: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """Every record of a list call, page by page (pageNo from 1), checking cancel between
        pages, until the last page or a page seen before."""
        guard = RepeatGuard()
        page = 1
        while True:
            if self.cancel.cancelled:
                raise Cancelled()
            status, records = self.call(request, {**params, "pageNo": page,
                                                  "recordsOnPage": self.page_size})
            rows = [r for r in records if isinstance(r, dict)]
            if not rows or guard.repeated(tuple(str(r.get("id", r)) for r in rows)):
                return
            yield from rows
            total = _int(status.get("recordsTotal"))
            if len(rows) < self.page_size or (total is not None and
                                              page * self.page_size >= total):
                return
            page += 1

    def _log_in(self) -> None:
        code, status, records = self._post("verifyUser", {"username": self.username,
                                                          "password": self.password})
        self._raise_for(code, status, "verifyUser")
        key = str(records[0].get("sessionKey") or "") if records and isinstance(
            records[0], dict) else ""
        if not key:
            raise RetryLaterError("Erply did not give a session when signing in; try again "
                                  "later.")
        self.session_key = key
        self.http.secrets = (*self.http.secrets, key)

    def _post(self, request: str, params: Mapping[str, Any]
              ) -> tuple[int, dict[str, Any], list[Any]]:
        form = {**params, "clientCode": self.client_code, "request": request,
                "sendContentType": 1}
        response = self.http.request("POST", self.url, data=form, cancel=self.cancel,
                                     allow=(403,))
        if response.status_code == 403:    # Erply's other word for an expired session
            return SESSION_EXPIRED_BY_HTTP, {}, []
        body = self.http.json(response)
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(status, dict):
            raise SetupError("The Erply API address did not answer as Erply's API does; check "
                             "the client code and the API address.", field="api_url")
        records = body.get("records")
        code = _int(status.get("errorCode")) or 0
        if not code and status.get("responseStatus") == "error":
            code = UNSTATED_ERROR
        return code, status, records if isinstance(records, list) else []

    def _raise_for(self, code: int, status: Mapping[str, Any], request: str) -> None:
        if code == 0:
            return
        field = str(status.get("errorField") or "")
        detail = self.http.scrub(f"Erply error {code}" + (f" ({field})" if field else "")
                                 + f" on {request}")
        if code == QUOTA_USED_UP:
            raise RetryLaterError(
                f"Erply's hourly request limit for the account {self.client_code} is used up "
                "(error 1002). Erply serves the account again from the start of the next "
                "hour; the next sync goes on from there.", detail=detail)
        if code in LOGIN_REFUSED or code in SESSION_EXPIRED:
            raise ReconnectError(
                "Reconnect the store: Erply refused the username or password (or blocked the "
                "user after failed sign-ins). Enter the API user's password again.",
                detail=detail)
        if code == UNKNOWN_ACCOUNT:
            raise SetupError(f"Erply has no account {self.client_code}; check the client code.",
                             detail=detail, field="client_code")
        if code in NO_RIGHTS:
            raise SetupError(f"The Erply user {self.username} may not read what this app "
                             "needs (sales and purchase documents, payments, customers, the log "
                             "of deleted items): give the user those rights in Erply.",
                             detail=detail, field="username")
        if code in PASSING_FAULTS:
            raise RetryLaterError("Erply is under maintenance or moving the account; try again "
                                  "in a few minutes.", detail=detail)
        which = f" (error {code})" if code != UNSTATED_ERROR else ""
        raise SetupError(f"Erply refused the request {request}{which}.", detail=detail,
                         field=field)


class _Reader:
    """Turns sales documents into orders: credit invoices become refunds of the invoice they
    credit, with payments and customers read once per run."""

    def __init__(self, api: _Api) -> None:
        self.api = api
        self.customers: dict[str, dict[str, Any]] = {}

    def by_numbers(self, numbers: Iterable[str]) -> tuple[list[dict[str, Any]], list[FailedOrder]]:
        raws: list[dict[str, Any]] = []
        failed: list[FailedOrder] = []
        for number in dict.fromkeys(n.strip() for n in numbers if n.strip()):
            if not number.isdigit():
                failed.append(FailedOrder(number, "Erply document numbers are whole numbers.",
                                          field="number"))
                continue
            found = list(self.api.pages("getSalesDocuments", {
                "number": number, "types": ",".join((*SALE_TYPES, CREDIT_TYPE)),
                "getRowsForAllInvoices": 1}))
            if not found:
                failed.append(FailedOrder(number, f"No sales document {number} in Erply.",
                                          field="number"))
            raws.extend(found)
        return raws, failed

    def orders(self, raws: list[dict[str, Any]], paid_lately: Iterable[str] = ()
               ) -> Iterator[Order | FailedOrder]:
        """Each sale once, in the order read, with every credit invoice that credits it.

        All of a walk is read before the first order is yielded: a credit invoice on a later
        page must join its sale, and the engine takes each order once a run. `paid_lately`
        names more documents to read: those paid since the last sync.
        """
        sales: dict[str, dict[str, Any]] = {}
        failed: list[FailedOrder] = []
        for raw in raws:
            if raw.get("type") == CREDIT_TYPE:
                base = _credited_id(raw)
                if base is None:
                    failed.append(FailedOrder(
                        _number(raw), "this credit invoice names no invoice it credits, so "
                        "there is no order to refund; book it in QuickBooks by hand.",
                        field="baseDocuments"))
                else:
                    sales.setdefault(base, {})
            elif raw.get("type") in SALE_TYPES:
                sales[str(raw.get("id"))] = raw
        for doc_id in paid_lately:
            if doc_id and doc_id != "0":
                sales.setdefault(doc_id, {})
        missing = [doc_id for doc_id, raw in sales.items() if not raw]
        for raw in self._by_ids(missing):
            sales[str(raw.get("id"))] = raw
        credits = self._credits([raw for raw in sales.values() if raw], raws)
        yield from failed
        for credit in raws:
            base = _credited_id(credit) if credit.get("type") == CREDIT_TYPE else None
            if base is not None and not sales.get(base):
                yield FailedOrder(_number(credit), f"this credit invoice credits the document "
                                  f"with id {base}, which Erply does not have as an invoice or "
                                  "receipt.", field="baseDocuments")
        present = {doc_id: raw for doc_id, raw in sales.items() if raw}
        payments = self._payments(list(present))
        self._load_customers(present.values())
        for doc_id, raw in present.items():
            yield self._read(raw, payments.get(doc_id, []), credits.get(doc_id, []))

    def _by_ids(self, ids: list[str]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for chunk in chunks(ids, PAGE_SIZE):
            found.extend(self.api.pages("getSalesDocuments", {
                "ids": ",".join(chunk), "getRowsForAllInvoices": 1}))
        return [raw for raw in found if raw.get("type") in SALE_TYPES]

    def _credits(self, sales: list[dict[str, Any]], read: list[dict[str, Any]]
                 ) -> dict[str, list[dict[str, Any]]]:
        """Every credit invoice of the sales that were credited in what was read: the earlier
        ones too, so an order's refunds are always all of them (the ledger counts them)."""
        credited = {_credited_id(raw) for raw in read if raw.get("type") == CREDIT_TYPE}
        targets = [raw for raw in sales if str(raw.get("id")) in credited]
        found: dict[str, dict[str, Any]] = {}
        clients = sorted({str(raw.get("clientID") or 0) for raw in targets})
        if targets:
            since = min(str(raw.get("date") or "") for raw in targets)
            for chunk in chunks(clients, PAGE_SIZE):
                for credit in self.api.pages("getSalesDocuments", {
                        "type": CREDIT_TYPE, "clientIDs": ",".join(chunk), "dateFrom": since,
                        "confirmed": 1, "getRowsForAllInvoices": 1}):
                    found[str(credit.get("id"))] = credit
        for raw in read:
            if raw.get("type") == CREDIT_TYPE and str(raw.get("confirmed")) == "1":
                found[str(raw.get("id"))] = raw
        by_sale: dict[str, list[dict[str, Any]]] = {}
        for credit in sorted(found.values(), key=lambda c: (str(c.get("date")), _int(
                c.get("id")) or 0)):
            base = _credited_id(credit)
            if base is not None:
                by_sale.setdefault(base, []).append(credit)
        return by_sale

    def _payments(self, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
        by_document: dict[str, list[dict[str, Any]]] = {}
        for chunk in chunks(ids, PAGE_SIZE):
            for payment in self.api.pages("getPayments", {"documentIDs": ",".join(chunk)}):
                by_document.setdefault(str(payment.get("documentID")), []).append(payment)
        return by_document

    def _load_customers(self, sales: Iterable[Mapping[str, Any]]) -> None:
        """The sales' customers not read yet in this run, a hundred to a call."""
        wanted = sorted({_customer_id(raw) for raw in sales} - {""} - set(self.customers))
        for chunk in chunks(wanted, PAGE_SIZE):
            for customer in self.api.pages("getCustomers", {"customerIDs": ",".join(chunk)}):
                self.customers[str(customer.get("customerID") or customer.get("id"))] = customer

    def _read(self, raw: Mapping[str, Any], payments: list[dict[str, Any]],
              credits: list[dict[str, Any]]) -> Order | FailedOrder:
        number = _number(raw)
        try:
            customer = self.customers.get(_customer_id(raw), {})
            order = _order(raw, number, customer, payments, credits)
            return balance_with_store_total(order)
        except OrderDataError as error:
            return FailedOrder(number, error.message, field=error.field)


def _order(raw: Mapping[str, Any], number: str, customer: Mapping[str, Any],
           payments: list[dict[str, Any]], credits: list[dict[str, Any]]) -> Order:
    lines = _lines(raw, number)
    net = amount_of(raw, "netTotal", number)
    tax = amount_of(raw, "vatTotal", number)
    rounding = amount_of(raw, "rounding", number)
    total = amount_of(raw, "total", number)
    _check_totals(raw, number, lines, net, tax, rounding, total)
    if rounding:
        # Cash rounding of a POS receipt: its own line, so the tax stays as Erply reported it.
        lines.append(OrderLine(ROUNDING_SKU, "Cash rounding", Decimal(1), rounding,
                               taxable=False))
    paid = _payments(raw, number, payments)
    refunds = tuple(Refund(abs(amount_of(c, "total", number, where="credit invoice: ")),
                           f"credit invoice {_number(c)}", _day(c, number))
                    for c in credits)
    confirmed = str(raw.get("confirmed")) == "1"
    status = str(raw.get("invoiceState") or "").upper() if confirmed else UNCONFIRMED
    return Order(
        source="erply", source_id=str(raw.get("id")), number=number,
        order_date=_day(raw, number), status=status,
        payment_status=_payment_status(status, paid, refunds, total),
        currency=str(raw.get("currencyCode") or ""), buyer=_buyer(raw, customer),
        lines=tuple(lines), total=total, billing_address=_address(customer), tax=tax,
        payments=tuple(paid), refunds=refunds, notes=str(raw.get("notes") or ""),
        updated_at=_instant(raw.get("lastModified")), raw=raw)


def _lines(raw: Mapping[str, Any], number: str) -> list[OrderLine]:
    """Rows without VAT: the net list price, the discount as an amount, the net row total."""
    lines: list[OrderLine] = []
    rows = raw.get("rows")
    if not isinstance(rows, list):
        raise OrderDataError("the document came without its rows.", order=number, field="rows")
    for index, row in enumerate(rows, start=1):
        where = f"row {index}: "
        count = quantity_of(row, "amount", number, where=where)
        row_net = amount_of(row, "rowNetTotal", number, where=where)
        row_vat = amount_of(row, "rowVAT", number, where=where)
        if "rowTotal" in row and amount_of(row, "rowTotal", number, where=where) != \
                row_net + row_vat:
            raise OrderDataError(f"{where}rowNetTotal {row_net} and rowVAT {row_vat} do not "
                                 f"add up to rowTotal {row.get('rowTotal')}.", order=number,
                                 field="rowTotal")
        discount_percent = quantity_of(row, "discount", number, where=where) if str(
            row.get("discount") or "").strip() else ZERO
        if discount_percent:
            gross = money(count * quantity_of(row, "price", number, where=where))
            price, discount = unit_price(gross, count), gross - row_net
        else:
            price, discount = unit_price(row_net, count), ZERO
        lines.append(OrderLine(
            sku=str(row.get("code") or row.get("code2") or ""),
            name=str(row.get("itemName") or ""), quantity=count, unit_price=price,
            discount=discount, taxable=row_vat != ZERO))
    return lines


def _check_totals(raw: Mapping[str, Any], number: str, lines: list[OrderLine], net: Decimal,
                  tax: Decimal, rounding: Decimal, total: Decimal) -> None:
    """Erply's own sums must hold to the cent; the field that does not is named."""
    rows = raw.get("rows") or []
    row_vat = sum((amount_of(row, "rowVAT", number) for row in rows), ZERO)
    # VAT may be rounded per rate rather than per row: a cent a row at most.
    if abs(row_vat - tax) > CENT * max(1, len(rows)):
        raise OrderDataError(f"the rows' VAT adds up to {row_vat} but vatTotal is "
                             f"{raw.get('vatTotal')}.", order=number, field="vatTotal")
    _check_sums(raw, number, sum((line.amount for line in lines), ZERO), net, tax, rounding,
                total)


def _check_sums(raw: Mapping[str, Any], number: str, rows_net: Decimal, net: Decimal,
                tax: Decimal, rounding: Decimal, total: Decimal) -> None:
    """A document's rows add up to its netTotal, and its parts to its total."""
    if rows_net != net:
        raise OrderDataError(f"the rows add up to {rows_net} without VAT but netTotal is "
                             f"{raw.get('netTotal')}.", order=number, field="netTotal")
    if net + tax + rounding != total:
        raise OrderDataError(f"netTotal {net}, vatTotal {tax} and rounding {rounding} add up "
                             f"to {net + tax + rounding} but total is {raw.get('total')}.",
                             order=number, field="total")


def _payments(raw: Mapping[str, Any], number: str,
              payments: list[dict[str, Any]]) -> list[Payment]:
    """The document's payments from getPayments; without any, what its `paid` field says."""
    found: list[Payment] = []
    for index, payment in enumerate(payments, start=1):
        kind = str(payment.get("type") or "").upper()
        amount = amount_of(payment, "sum", number, where=f"payment {index}: ")
        if kind in NOT_PAYING_TYPES or amount <= ZERO:
            continue
        method = str(payment.get("cardType") or "") if kind == "CARD" else ""
        found.append(Payment(amount, method or kind.title(),
                             str(payment.get("referenceNumber") or ""),
                             _optional_day(payment)))
    paid = amount_of(raw, "paid", number)
    if not found and paid > ZERO:
        found.append(Payment(paid, str(raw.get("paymentType") or "").title(), "",
                             _day(raw, number)))
    return found


def _payment_status(status: str, payments: list[Payment], refunds: tuple[Refund, ...],
                    total: Decimal) -> PaymentStatus:
    paid = sum((payment.amount for payment in payments), ZERO)
    refunded = sum((refund.amount for refund in refunds), ZERO)
    if status == "CANCELLED":
        return PaymentStatus.CANCELLED
    if paid and refunded >= total > ZERO:
        return PaymentStatus.REFUNDED
    if paid >= total:
        return PaymentStatus.PAID
    return PaymentStatus.PARTIALLY_PAID if paid > ZERO else PaymentStatus.UNPAID


def _buyer(raw: Mapping[str, Any], customer: Mapping[str, Any]) -> Buyer:
    person = " ".join(str(customer.get(k) or "").strip() for k in ("firstName", "lastName"))
    name = person.strip() or str(customer.get("fullName") or raw.get("clientName") or "")
    return Buyer(name=name.strip(), email=str(customer.get("email") or raw.get("clientEmail")
                                               or ""),
                 company=str(customer.get("companyName") or ""),
                 phone=str(customer.get("phone") or customer.get("mobile") or ""))


def _address(customer: Mapping[str, Any]) -> Address:
    return Address(line1=str(customer.get("street") or ""),
                   line2=str(customer.get("address2") or ""),
                   city=str(customer.get("city") or ""), region=str(customer.get("state") or ""),
                   postal_code=str(customer.get("postalCode") or ""),
                   country=str(customer.get("country") or ""))


def _credited_id(credit: Mapping[str, Any]) -> str | None:
    """The id of the invoice or receipt a credit invoice credits (its base document)."""
    for base in credit.get("baseDocuments") or []:
        if isinstance(base, dict) and base.get("id") and base.get("type", SALE_TYPES[0]) \
                in SALE_TYPES:
            return str(base["id"])
    return None


def _customer_id(raw: Mapping[str, Any]) -> str:
    """The paying customer of a document; 0 or blank: none (an anonymous POS sale)."""
    customer_id = str(raw.get("clientID") or raw.get("customerID") or "")
    return "" if customer_id == "0" else customer_id


def _number(raw: Mapping[str, Any]) -> str:
    # An unconfirmed document has no number yet: its id names it.
    return str(raw.get("number") or "").strip() or f"id {raw.get('id')}"


def _day(data: Mapping[str, Any], number: str) -> date:
    day = _optional_day(data)
    if day is None:
        raise OrderDataError(f"date is {data.get('date')!r}, not a date.", order=number,
                             field="date")
    return day


def _optional_day(data: Mapping[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(data.get("date") or "").strip())
    except ValueError:
        return None


def _unix(moment: datetime) -> int:
    """`moment` as Erply's changedSince takes it (a naive moment is taken as UTC)."""
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())


def _instant(value: object) -> datetime | None:
    stamp = _int(value)
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


# -- purchase orders ----------------------------------------------------------------------------

def _read_purchase(raw: Mapping[str, Any]) -> PurchaseOrder | FailedOrder:
    number = _number(raw)
    try:
        return _purchase_order(raw, number)
    except OrderDataError as error:
        return FailedOrder(number, error.message, field=error.field)


def _purchase_order(raw: Mapping[str, Any], number: str) -> PurchaseOrder:
    """A purchase document of type PRCORDER. Its rows' prices are net unit prices (a price
    entered with VAT is kept net, to six places); VAT is the document's, per rate."""
    status = str(raw.get("status") or "").upper()
    if status not in PO_STATES:
        raise OrderDataError(f"status is {raw.get('status')!r}, not an Erply purchase order "
                             "status.", order=number, field="status")
    vendor = str(raw.get("supplierName") or "").strip()
    if not vendor:
        raise OrderDataError("it names no supplier.", order=number, field="supplierName")
    lines = _purchase_lines(raw, number)
    tax, rounding = amount_of(raw, "vatTotal", number), amount_of(raw, "rounding", number)
    _check_purchase_totals(raw, number, lines_subtotal(lines), tax,
                           rounding)
    expected = _optional_day({"date": raw.get("shipDate")})
    reference, notes = (str(raw.get(k) or "").strip() for k in ("referenceNumber", "notes"))
    return PurchaseOrder(
        source="erply", source_id=str(raw.get("id")), number=number, vendor=vendor,
        order_date=_day(raw, number), state=PO_STATES[status], status=status,
        currency=str(raw.get("currencyCode") or ""), lines=tuple(lines),
        total=amount_of(raw, "total", number), expected_date=expected,
        # Cash rounding, rare on a purchase order, is a cost of it without tax.
        other_costs=rounding, tax=tax,
        ship_to=Address(line1=str(raw.get("warehouseName") or "")),
        memo=f"Erply purchase order {number}"
             + (f", supplier reference {reference}" if reference else "")
             + (f": {notes}" if notes else ""),
        updated_at=_instant(raw.get("lastModified")),
        revision=revision_of(status, expected, tax, rounding, [
            (line.sku, line.quantity, line.unit_cost) for line in lines]),
        raw=raw)


def _deleted_purchases(api: _Api, wanted: Sequence[str],
                       since: datetime | None) -> Iterator[PurchaseOrder]:
    """Those of `wanted` (ids no longer listed) that Erply's log of deleted items names, each
    once, from `since` on."""
    params: dict[str, Any] = {"tableName": DELETED_LOG_TABLE}
    if since is not None:
        params["addedFrom"] = _unix(since)
    left = set(wanted)
    for entry in api.pages("getUserOperationsLog", params):
        item_id = str(entry.get("itemID"))
        # The log takes custom entries too (saveUserOperationsLog): only a deletion counts.
        operation = str(entry.get("operation") or DELETE_OPERATION).lower()
        if item_id in left and operation == DELETE_OPERATION:
            left.discard(item_id)
            yield deleted_purchase_order("erply", item_id, _instant(entry.get("timestamp"))
                                         or datetime.now(UTC))


def _purchase_lines(raw: Mapping[str, Any], number: str) -> list[PurchaseOrderLine]:
    rows = raw.get("rows")
    if not isinstance(rows, list):
        raise OrderDataError("the document came without its rows.", order=number, field="rows")
    lines: list[PurchaseOrderLine] = []
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise OrderDataError(f"row {index} is not a document row.", order=number,
                                 field="rows")
        where = f"row {index} ({row.get('code') or row.get('itemName') or '?'}): "
        count = quantity_of(row, "amount", number, where=where)
        price = quantity_of(row, "price", number, where=where)
        off = quantity_of(row, "discount", number, where=where) if str(
            row.get("discount") or "").strip() else ZERO
        net = money(count * price * (100 - off) / 100)
        lines.append(PurchaseOrderLine(
            sku=str(row.get("code") or row.get("code2") or ""),
            name=str(row.get("itemName") or ""), quantity=count,
            unit_cost=unit_price(net, count)))
    return lines


def _check_purchase_totals(raw: Mapping[str, Any], number: str, rows_net: Decimal,
                           tax: Decimal, rounding: Decimal) -> None:
    """Erply's own sums must hold to the cent (its rows state no VAT of their own, so the VAT
    per rate must make up vatTotal); the field that does not is named."""
    by_rate = [r for r in raw.get("vatTotalsByTaxRate") or [] if isinstance(r, dict)]
    if by_rate and sum((amount_of(r, "total", number) for r in by_rate), ZERO) != tax:
        raise OrderDataError(f"the VAT per rate does not add up to vatTotal "
                             f"{raw.get('vatTotal')}.", order=number, field="vatTotalsByTaxRate")
    _check_sums(raw, number, rows_net, amount_of(raw, "netTotal", number), tax, rounding,
                amount_of(raw, "total", number))
