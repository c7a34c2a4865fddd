"""A local SkuVault: POST-only JSON calls with the tokens in the body, per-user throttles by
call level, and getSalesByDate's 7-day windows and wrapped answer, as SkuVault documents."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.fakes.stores import FakeServer, Received, Reply

SV_EMAIL = "qb-sync@acme.example"
SV_PASSWORD = "Sku-vault-pa55-91c3"
TENANT_TOKEN = "tT0k3n+Qw9d2Lm5Zx8Rb1Vn4Hs7Jk0=="
USER_TOKEN = "uT0k3n+Pa6Sd9Fg2Hj5Kl8Zx1Cv4Bn=="
# Calls a minute by throttling level, and the level of each call the fake answers.
LEVELS = {"Very Light": 200, "Light": 20, "Moderate": 10, "Heavy": 5, "Severe": 1}
CALL_LEVELS = {"/api/gettokens": "Very Light", "/api/sales/getSalesByDate": "Heavy",
               "/api/sales/getSales": "Heavy", "/api/purchaseorders/getPOs": "Heavy"}
PO_PAGE = 10_000
WINDOW_MS = 60_000
MAX_RANGE = timedelta(days=7)
PAGE_SIZES = range(1000, 10_001)


def money(amount: str, symbol: str = "$") -> dict[str, Any]:
    return {"a": float(amount), "s": symbol}


def sv_item(sku: str, quantity: int, price: str, symbol: str = "$") -> dict[str, Any]:
    return {"Sku": sku, "PartNumber": "", "Quantity": quantity,
            "UnitPrice": money(price, symbol)}


def sv_sale(sale_id: str, items: list[dict[str, Any]], *, status: str = "Completed",
            sale_date: str = "2026-11-20T14:21:07.0000000Z", shipping: str = "0",
            kits: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    sale = {"Id": sale_id, "MarketplaceId": sale_id.rsplit("-", 1)[-1],
            "ChannelId": "5618231345", "Status": status, "SaleDate": sale_date,
            "Marketplace": "Shopify", "Channel": "Shopify", "Client": "", "Notes": "",
            "ContactInfo": {"FirstName": "Jane", "LastName": "Doe", "Company": "Acme LLC",
                            "Email": "jane@example.com", "Phone": "555-0100"},
            "ShippingInfo": {"Address1": "1 Main St", "Address2": "", "City": "Austin",
                             "Region": "TX", "PostalCode": "78701", "Country": "US"},
            "ShippingCarrier": "USPS", "ShippingClass": "Priority",
            "ShippingCharge": money(shipping), "ShippingCost": money("0"),
            "MerchantItems": items, "MerchantKits": kits or [], "FulfilledItems": [],
            "FulfilledKits": [], "ProcessedItems": [], "PrintedStatus": False,
            "LastPrintedDate": "0001-01-01T00:00:00.0000000Z"}
    sale.update(fields)
    return sale


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class FakeSkuVault(FakeServer):
    """gettokens, getSalesByDate (Sale or Modified dates, 0-based pages of 1,000–10,000, at most
    7 days) and getSales by OrderIds. Throttles count per user and call in minute windows on the
    fake's clock (`now_ms`, advanced by `advance`): past the level's limit, 429 with the
    X-RateLimit headers, Reset in milliseconds."""

    def __init__(self, sales: list[dict[str, Any]], *, password: str = SV_PASSWORD,
                 clock_ms: Callable[[], float] | None = None,
                 purchases: list[dict[str, Any]] | None = None) -> None:
        self.sales: dict[str, dict[str, Any]] = {}
        self.purchases = {p["PoNumber"]: p for p in purchases or []}
        self.po_modified = {n: _instant(p["CreatedDate"]) for n, p in self.purchases.items()}
        self.modified: dict[str, datetime] = {}     # SkuVault's own last-modified times
        self.password = password
        self._clock_ms = clock_ms or (lambda: time.time() * 1000)
        self.offset_ms = 0.0
        self.windows: dict[str, tuple[float, int]] = {}   # call → (window start, calls)
        for sale in sales:
            self.put(sale)
        super().__init__(self._route)

    def put(self, sale: dict[str, Any], modified: str | None = None) -> None:
        self.sales[sale["Id"]] = sale
        self.modified[sale["Id"]] = _instant(modified or sale["SaleDate"])

    def advance(self, seconds: float) -> None:
        """Time passes on the fake's clock (the connector's sleep, in tests)."""
        self.offset_ms += seconds * 1000

    def now_ms(self) -> float:
        return self._clock_ms() + self.offset_ms

    def bodies(self, path: str) -> list[dict[str, Any]]:
        return [json.loads(r.body) for r in self.received if r.path == path]

    def _route(self, request: Received) -> Reply:
        if request.method != "POST" or request.path not in CALL_LEVELS:
            return Reply(404, {"Message": f"No HTTP resource was found at {request.path}."})
        throttled = self._throttled(request.path)
        if throttled:
            return throttled
        body = json.loads(request.body or b"{}")
        if request.path == "/api/gettokens":
            if (body.get("Email"), body.get("Password")) != (SV_EMAIL, self.password):
                return Reply(401, {"Status": "Unauthorized",
                                   "Errors": ["Invalid email or password."]})
            return Reply(200, {"TenantToken": TENANT_TOKEN, "UserToken": USER_TOKEN})
        if (body.get("TenantToken"), body.get("UserToken")) != (TENANT_TOKEN, USER_TOKEN):
            return Reply(401, {"Status": "Unauthorized", "Errors": ["Invalid tokens."]})
        if request.path == "/api/purchaseorders/getPOs":
            return self._purchase_orders(body)
        if request.path == "/api/sales/getSales":
            ids = body.get("OrderIds") or []
            return Reply(200, {"Sales": [self.sales[i] for i in ids if i in self.sales]})
        return self._by_date(body)

    def _throttled(self, path: str) -> Reply | None:
        limit = LEVELS[CALL_LEVELS[path]]
        start, calls = self.windows.get(path, (self.now_ms(), 0))
        if self.now_ms() - start >= WINDOW_MS:
            start, calls = self.now_ms(), 0
        if calls >= limit:
            reset = int(start + WINDOW_MS - self.now_ms())
            return Reply(429, {"Status": "TooManyRequests", "Errors": ["Too many requests."]},
                         {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0",
                          "X-RateLimit-Reset": str(reset)})
        self.windows[path] = (start, calls + 1)
        return None

    def touch(self, number: str, moment: str) -> None:
        """The purchase order was changed at `moment`."""
        self.po_modified[number] = _instant(moment)

    def _purchase_orders(self, body: dict[str, Any]) -> Reply:
        numbers = body.get("PONumbers")
        if numbers:     # they win over dates and status
            rows = [self.purchases[n] for n in numbers if n in self.purchases]
        else:
            after, before = body.get("ModifiedAfterDateTimeUtc"), body.get(
                "ModifiedBeforeDateTimeUtc")
            completed = body.get("Status") == "Completed"
            rows = [p for n, p in self.purchases.items()
                    if (p["Status"] == "Completed") == completed
                    and (body.get("Status") in (None, "Completed") or p["Status"] ==
                         body.get("Status"))
                    and (not after or self.po_modified[n] >= _instant(after))
                    and (not before or self.po_modified[n] <= _instant(before))]
        page = int(body.get("PageNumber", 0))
        return Reply(200, {"PurchaseOrders": rows[page * PO_PAGE:(page + 1) * PO_PAGE],
                           "Status": "OK", "Errors": []})

    def _by_date(self, body: dict[str, Any]) -> Reply:
        try:
            start, end = _instant(body["FromDate"]), _instant(body["ToDate"])
        except (KeyError, ValueError):
            return _bad("FromDate and ToDate are required.")
        if end - start > MAX_RANGE:
            return _bad("Date range must not be more than 7 days.")
        size = int(body.get("PageSize", 10_000))
        if size not in PAGE_SIZES:
            return _bad("PageSize must be between 1000 and 10000.")
        by_modified = body.get("DateField") == "Modified"
        rows = [sale for sale_id, sale in self.sales.items()
                if start <= (self.modified[sale_id] if by_modified
                             else _instant(sale["SaleDate"])) <= end]
        page = int(body.get("PageNumber", 0))
        return Reply(200, {"Sales": rows[page * size:(page + 1) * size], "Status": "OK",
                           "Errors": []})


def sv_purchase(number: str, lines: list[tuple[str, int, str]], *, status: str = "Open",
                received: int = 0, created: str = "2026-11-02T09:10:00.0000000Z",
                **fields: Any) -> dict[str, Any]:
    """A purchase order as getPOs answers: `lines` as (SKU, quantity, unit cost)."""
    po = {"PoId": str(abs(hash(number)) % 10_000), "PoNumber": number, "Status": status,
          "PaymentStatus": "NonePaid", "SupplierName": "Cotton Supply Co",
          "CreatedDate": created, "OrderDate": created,
          "ArrivalDueDate": "2026-11-10T00:00:00.0000000Z",
          "RequestedShipDate": "0001-01-01T00:00:00", "ActualShippedDate": "0001-01-01T00:00:00",
          "OrderCancelDate": "0001-01-01T00:00:00", "TermsName": "Net 30",
          "ShipToWarehouse": "WH1", "ShipToAddress": "", "TrackingInfo": "",
          "ShippingCarrierClass": {"CarrierName": "UPS", "ClassName": "Ground"},
          "PublicNotes": "", "PrivateNotes": "", "Costs": [],
          "LineItems": [{"SKU": sku, "ProductId": "1021", "Quantity": quantity,
                         "QuantityTo3PL": 0, "ReceivedQuantity": received,
                         "ReceivedQuantityTo3PL": 0, "Cost": float(cost), "RetailCost": 25.0,
                         "Variant": "", "Identifier": "", "PublicNotes": "", "PrivateNotes": ""}
                        for sku, quantity, cost in lines]}
    po.update(fields)
    return po


def _bad(message: str) -> Reply:
    return Reply(400, {"Sales": [], "Status": "BadRequest", "Errors": [message]})
