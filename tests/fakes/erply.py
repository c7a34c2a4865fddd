"""A local Erply classic API: one POST endpoint answering as Erply documents it."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.stores import FakeServer, Received, Reply

ERPLY_CODE = "512345"
ERPLY_USER = "api-qb"
ERPLY_PASSWORD = "Erply-pa55-7f3c9d1e"
API_PATH = "/api/"
DEFAULT_RECORDS = 20
MAX_RECORDS = 100
NOW = 1_795_000_000   # the fake's clock (unix time), moved by tests
# getUserOperationsLog's tableName values, as Erply lists them.
LOG_TABLES = frozenset({
    "customers", "suppliers", "addresses", "currencies", "customerGroups", "emailAccounts",
    "giftCards", "pointsOfSale", "priceLists", "productGroups", "products", "services",
    "supplierGroups", "users", "userGroups", "warehouses", "warehouseLocations", "events",
    "purchaseDocuments", "salesDocuments", "campaigns", "coupons", "pricelistProducts",
    "pricelistServices", "pricelistDiscounts", "payments", "inventoryRegistrations",
    "inventoryTransfers", "inventoryWriteOffs", "stocktakings", "storeRegions",
    "storeRegionPriceLists", "storeRegionAndCustomerGroupPriceLists"})


def erply_row(code: str, name: str, amount: str, price: str, *, discount: str = "0",
              vat_rate: str = "20", with_vat: bool = False) -> dict[str, Any]:
    """A document row as Erply computes it: net `price` (or a price with VAT when `with_vat`),
    a percentage discount, VAT at `vat_rate` percent, each total rounded to the cent."""
    cent = Decimal("0.01")
    count, rate, off = Decimal(amount), Decimal(vat_rate) / 100, Decimal(discount) / 100
    if with_vat:
        gross = (Decimal(price) * (1 - off) * count).quantize(cent)
        net = (gross / (1 + rate)).quantize(cent)
        vat = gross - net
        net_price = Decimal(price) / (1 + rate)
    else:
        net_price = Decimal(price)
        net = (net_price * (1 - off) * count).quantize(cent)
        vat = (net * rate).quantize(cent)
    return {"rowID": code, "productID": "1", "code": code, "code2": "", "itemName": name,
            "vatrateID": "1", "amount": amount, "price": f"{net_price:.6f}", "discount": discount,
            "finalNetPrice": float(net / count), "rowNetTotal": float(net),
            "rowVAT": float(vat), "rowTotal": float(net + vat)}


def erply_document(doc_id: int, number: str, rows: list[dict[str, Any]], *,
                   doc_type: str = "INVWAYBILL", day: str = "2026-11-20",
                   client_id: int = 388, paid: str = "0", rounding: str = "0",
                   changed: int = NOW - 86_400, **fields: Any) -> dict[str, Any]:
    """A sales document whose totals add up the way Erply's do."""
    net = sum(Decimal(str(r["rowNetTotal"])) for r in rows)
    vat = sum(Decimal(str(r["rowVAT"])) for r in rows)
    document = {
        "id": doc_id, "type": doc_type, "number": number, "date": day, "time": "14:21:07",
        "currencyCode": "USD", "currencyRate": "1", "warehouseID": 1, "clientID": client_id,
        "employeeID": 7, "confirmed": "1", "invoiceState": "READY", "paymentType": "CARD",
        "paymentDays": "0", "netTotal": float(net), "vatTotal": float(vat),
        "rounding": float(Decimal(rounding)), "total": float(net + vat + Decimal(rounding)),
        "paid": paid, "baseDocuments": [], "lastModified": changed, "notes": "", "rows": rows}
    document.update(fields)
    return document


def erply_po_row(code: str, name: str, amount: str, price: str, *, discount: str = "0",
                 vat_rate: str = "20", with_vat: bool = False) -> dict[str, Any]:
    """A purchase document row as Erply's PurchaseDocumentRow has it: the net unit `price` (a
    price entered with VAT is kept net, to six places), a percentage discount and the VAT rate's
    id, with no row totals. The fake keeps the row's VAT (`_vat`) to total the document."""
    row = erply_row(code, name, amount, price, discount=discount, vat_rate=vat_rate,
                    with_vat=with_vat)
    return {"productID": 1, "serviceID": 0, "itemName": name, "code": code, "code2": "",
            "vatrateID": 1, "amount": amount, "price": row["price"], "discount": discount,
            "deliveryDate": "0000-00-00", "_net": row["rowNetTotal"], "_vat": row["rowVAT"]}


def erply_purchase_order(doc_id: int, number: str, rows: list[dict[str, Any]], *,
                         status: str = "READY", day: str = "2026-11-02",
                         changed: int = NOW - 86_400, **fields: Any) -> dict[str, Any]:
    """A purchase order (PRCORDER) whose totals add up the way Erply's do."""
    net = sum(Decimal(str(r["_net"])) for r in rows)
    vat = sum(Decimal(str(r["_vat"])) for r in rows)
    document = {
        "id": doc_id, "type": "PRCORDER", "status": status, "currencyCode": "USD",
        "currencyRate": "1", "warehouseID": 1, "warehouseName": "Main store", "number": number,
        "regnumber": "", "date": day, "time": "10:15:00", "supplierID": 61,
        "supplierName": "Cotton Supply Co", "supplierGroupID": 2, "addressID": 0,
        "contactID": 0, "employeeID": 7, "stateID": 0, "paymentDays": 14, "paid": "0",
        "confirmed": "0" if status == "PENDING" else "1", "referenceNumber": "",
        "notes": "", "rounding": 0, "netTotal": float(net), "vatTotal": float(vat),
        "total": float(net + vat), "vatTotalsByTaxRate": [{"vatrateID": 1,
                                                         "total": float(vat)}],
        "shipDate": "2026-11-10", "baseDocuments": [], "baseToDocuments": [],
        "lastModified": changed,
        "rows": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]}
    document.update(fields)
    return document


def erply_customer(customer_id: int, first: str, last: str, email: str) -> dict[str, Any]:
    return {"id": customer_id, "customerID": customer_id, "fullName": f"{first} {last}",
            "firstName": first, "lastName": last, "companyName": "", "email": email,
            "phone": "555-0100", "street": "1 Main St", "address2": "", "city": "Austin",
            "postalCode": "78701", "state": "TX", "country": "United States"}


def erply_payment(payment_id: int, document_id: int, kind: str, total: str,
                  day: str = "2026-11-20", **fields: Any) -> dict[str, Any]:
    payment = {"paymentID": payment_id, "documentID": document_id, "customerID": 388,
               "type": kind, "date": day, "sum": total, "currencyCode": "USD", "cardType": "",
               "info": "", "added": NOW - 86_400, "referenceNumber": ""}
    payment.update(fields)
    return payment


class FakeErply(FakeServer):
    """The classic API: form fields, verifyUser sessions that expire, errors inside HTTP 200,
    an hourly quota (1002) counted from each clock hour, recordsOnPage/pageNo paging,
    changedSince on lastModified, rows only with getRowsForAllInvoices=1 (or a single match),
    getPurchaseDocuments, getPayments, getCustomers, and the log of deleted items
    (getUserOperationsLog: tableName required, addedFrom, orderByDir)."""

    def __init__(self, documents: list[dict[str, Any]], *, password: str = ERPLY_PASSWORD,
                 payments: list[dict[str, Any]] | None = None,
                 customers: list[dict[str, Any]] | None = None, quota: int = 1000,
                 purchases: list[dict[str, Any]] | None = None) -> None:
        self.documents = documents
        self.purchases = purchases or []
        self.payments = payments or []
        self.customers = customers or [erply_customer(388, "Mari", "Tamm", "mari@example.com")]
        self.password = password
        self.quota = quota
        self.calls = 0                     # counted against the quota, as Erply counts them
        self.now = NOW                     # the server's clock (unix time), moved by tests
        self.quota_hour = NOW // 3600
        self.sessions: set[str] = set()
        self.keys = (f"sess{n:04d}a1b2c3d4e5f6" for n in itertools.count(1))
        self.queued: list[Reply] = []
        self.expire_after: set[str] = set()   # calls after which every session expires
        self.operations_log: list[dict[str, Any]] = []
        super().__init__(self._route)

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def delete_purchase(self, doc_id: int, *, when: int | None = None) -> None:
        """A user deletes a purchase document in Erply: it is listed no more, and the log of
        deleted items names it."""
        self.purchases = [d for d in self.purchases if d["id"] != doc_id]
        self.log_operation("purchaseDocuments", doc_id, when=when)

    def log_operation(self, table: str, item_id: int, *, operation: str = "delete",
                      when: int | None = None) -> None:
        self.operations_log.append({
            "logID": len(self.operations_log) + 1, "userName": "mari",
            "timestamp": self.now if when is None else when, "tableName": table,
            "itemID": item_id, "operation": operation})

    def forms(self) -> list[dict[str, str]]:
        """The form fields of each request received, in order."""
        return [_form(r) for r in self.received]

    def _route(self, request: Received) -> Reply:
        reply = self._answer(request)
        if _form(request).get("request") in self.expire_after:
            self.expire_sessions()
        return reply

    def _answer(self, request: Received) -> Reply:
        if self.queued:
            return self.queued.pop(0)
        form = _form(request)
        call = form.get("request", "")
        if request.method != "POST" or request.path != API_PATH:
            return Reply(404, None, raw=b"<html>Not found</html>",
                         headers={"Content-Type": "text/html"})
        if self.now // 3600 != self.quota_hour:    # a new clock hour: a fresh quota
            self.quota_hour, self.calls = self.now // 3600, 0
        self.calls += 1
        if self.calls > self.quota:
            return _error(call, 1002)
        if form.get("clientCode") != ERPLY_CODE:
            return _error(call, 1001)
        if call == "verifyUser":
            return self._verify(form)
        if form.get("sessionKey") not in self.sessions:
            return _error(call, 1054)
        answer = {"getSalesDocuments": self._documents, "getPayments": self._payments,
                  "getCustomers": self._customers,
                  "getPurchaseDocuments": self._purchase_documents,
                  "getUserOperationsLog": self._operations_log}.get(call)
        return answer(form) if answer else _error(call, 1005, "request")

    def _verify(self, form: dict[str, str]) -> Reply:
        if form.get("username") != ERPLY_USER or form.get("password") != self.password:
            return _error("verifyUser", 1050)
        key = next(self.keys)
        self.sessions.add(key)
        return _records("verifyUser", [{
            "userID": "12", "userName": ERPLY_USER, "employeeID": "7",
            "employeeName": "QB Sync", "groupID": "3", "groupName": "API", "sessionKey": key,
            "sessionLength": 3600}])

    def _documents(self, form: dict[str, str]) -> Reply:
        return _page("getSalesDocuments", form, _filtered(self.documents, form))

    def _purchase_documents(self, form: dict[str, str]) -> Reply:
        return _page("getPurchaseDocuments", form, _filtered(self.purchases, form))

    def _operations_log(self, form: dict[str, str]) -> Reply:
        call = "getUserOperationsLog"
        if form.get("tableName") not in LOG_TABLES:
            return _error(call, 1010, "tableName")
        since = int(form.get("addedFrom") or 0)
        matches = sorted((e for e in self.operations_log
                          if e["tableName"] == form["tableName"] and e["timestamp"] >= since),
                         key=lambda e: (e["timestamp"], e["logID"]),
                         reverse=form.get("orderByDir") == "desc")
        return _page(call, form, matches)

    def _payments(self, form: dict[str, str]) -> Reply:
        matches = self.payments
        if "documentIDs" in form:
            ids = form["documentIDs"].split(",")
            matches = [p for p in matches if str(p["documentID"]) in ids]
        if "changedSince" in form:
            matches = [p for p in matches
                       if p.get("lastModified", p["added"]) >= int(form["changedSince"])]
        return _page("getPayments", form, matches)

    def _customers(self, form: dict[str, str]) -> Reply:
        ids = form.get("customerIDs", "").split(",")
        return _page("getCustomers", form, [c for c in self.customers
                                            if str(c["customerID"]) in ids])


# The list filters of getSalesDocuments and getPurchaseDocuments, as each document names them.
FILTERS = (
    ("id", lambda d, v: str(d["id"]) == v),
    ("ids", lambda d, v: str(d["id"]) in v.split(",")),
    ("number", lambda d, v: d["number"] == v),
    ("type", lambda d, v: d["type"] == v),
    ("types", lambda d, v: d["type"] in v.split(",")),
    ("status", lambda d, v: d["status"] in v.split(",")),
    ("clientIDs", lambda d, v: str(d["clientID"]) in v.split(",")),
    ("confirmed", lambda d, v: d["confirmed"] == v),
    ("dateFrom", lambda d, v: d["date"] >= v),
    ("dateTo", lambda d, v: d["date"] <= v),
    ("changedSince", lambda d, v: d["lastModified"] >= int(v)))


def _filtered(documents: list[dict[str, Any]], form: dict[str, str]) -> list[dict[str, Any]]:
    """The documents the form's filters keep, with their rows only when Erply gives them."""
    matches = list(documents)
    for name, keep in FILTERS:
        if name in form:
            matches = [d for d in matches if keep(d, form[name])]
    if form.get("getRowsForAllInvoices") != "1" and len(matches) != 1:
        matches = [{k: v for k, v in d.items() if k != "rows"} for d in matches]
    return matches


def _form(request: Received) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def _status(call: str, code: int = 0, field: str | None = None, total: int = 0,
            count: int = 0) -> dict[str, Any]:
    return {"request": call, "requestUnixTime": NOW, "responseStatus": "error" if code else "ok",
            "errorCode": code, "errorField": field, "generationTime": 0.01,
            "recordsTotal": total, "recordsInResponse": count}


def _error(call: str, code: int, field: str | None = None) -> Reply:
    return Reply(200, {"status": _status(call, code, field), "records": None})


def _records(call: str, records: list[dict[str, Any]], total: int | None = None) -> Reply:
    return Reply(200, {"status": _status(call, total=len(records) if total is None else total,
                                         count=len(records)), "records": records})


def _page(call: str, form: dict[str, str], matches: list[dict[str, Any]]) -> Reply:
    size = int(form.get("recordsOnPage") or DEFAULT_RECORDS)
    if not 1 <= size <= MAX_RECORDS:
        return _error(call, 1014, "recordsOnPage")
    page = int(form.get("pageNo") or 1)
    return _records(call, matches[(page - 1) * size:page * size], total=len(matches))
