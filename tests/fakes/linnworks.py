"""A local Linnworks: AuthorizeByApplication, the v2 orders feed and the v1 calls for refunds
and order numbers, answering as Linnworks' published OpenAPI files describe."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.fakes.stores import FakeServer, Received, Reply

LW_APP_ID = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
LW_SECRET = "b7e1c9d2-58a4-4c3f-9e61-0a2b3c4d5e6f"
LW_TOKEN = "e3d2c1b0-a9f8-4e7d-8c6b-5a4f3e2d1c0b"
# The per-method limits per minute printed in Linnworks' OpenAPI files.
RATE_LIMITS = {"/api/Auth/AuthorizeByApplication": 150, "/v2/orders": 250,
               "/api/ProcessedOrders/GetRefunds": 150,
               "/api/ReturnsRefunds/SearchReturnsRefundsPaged": 150,
               "/api/Orders/GetOrderDetailsByNumOrderId": 250,
               "/api/Inventory/GetSuppliers": 150,
               "/api/PurchaseOrder/Search_PurchaseOrders": 250,
               "/api/PurchaseOrder/Get_PurchaseOrder": 250}
RETRY_AFTER_S = 7
REFUND_SPAN = timedelta(days=92)   # "Maximum range is 3 months"
CENT = Decimal("0.01")
SUPPLIER_ID = "12d1a4ca-8e3a-4eba-a336-8cd722a9c0c6"


def _cents(value: Decimal) -> float:
    return float(value.quantize(CENT, rounding=ROUND_HALF_UP))


def lw_item(sku: str, quantity: int, price: str, *, tax_rate: str = "0",
            inclusive: bool = False, title: str = "") -> dict[str, Any]:
    """An order item as Linnworks computes it: `price` per unit, with tax at `tax_rate` percent
    inside it (`inclusive`, UK/EU channels) or on top of it; Cost without tax, CostIncTax with."""
    count, rate = Decimal(quantity), Decimal(tax_rate) / 100
    line = (Decimal(price) * count).quantize(CENT, rounding=ROUND_HALF_UP)
    if inclusive:
        gross = line
        net = (gross / (1 + rate)).quantize(CENT, rounding=ROUND_HALF_UP)
    else:
        net = line
        gross = net + (net * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return {"RowId": str(uuid.uuid4()), "StockItemId": str(uuid.uuid4()), "IsService": False,
            "Quantity": quantity, "ParentItemId": None, "ItemNumber": sku, "SKU": sku,
            "Title": title or sku.title(), "PricePerUnit": float(price), "UnitCost": 0.0,
            "Discount": 0.0, "TaxRate": float(tax_rate), "Cost": _cents(net),
            "CostIncTax": _cents(gross), "SalesTax": 0.0, "TaxCostInclusive": inclusive,
            "DiscountValue": 0.0, "ChannelSKU": sku, "ChannelTitle": title or sku.title(),
            "CompositeSubItems": [], "AdditionalInfo": []}


def lw_order(num: int, items: list[dict[str, Any]], *, postage: str = "0",
             postage_tax_rate: str = "0", status: int = 1, processed: bool = True,
             received: str = "2026-11-20T10:15:00Z", updated: str = "2026-11-20T12:00:00Z",
             currency: str = "GBP", cancelled: bool = False, **fields: Any) -> dict[str, Any]:
    """An order whose totals add up as Linnworks' do: TotalCharge = Σ CostIncTax + postage
    (postage includes its tax); Tax = items' tax + postage tax."""
    net = sum((Decimal(str(i["Cost"])) for i in items), Decimal(0))
    gross = sum((Decimal(str(i["CostIncTax"])) for i in items), Decimal(0))
    postage_gross = Decimal(postage)
    postage_net = (postage_gross / (1 + Decimal(postage_tax_rate) / 100)).quantize(CENT)
    general = {"Status": status, "StatusDescription": ["UNPAID", "PAID", "RETURN", "PENDING",
                                                        "RESEND"][status],
               "Marker": 0, "ReferenceNum": f"#{num + 1000}", "SecondaryReference": "",
               "ExternalReferenceNum": "", "ReceivedDate": received, "Source": "SHOPIFY",
               "SubSource": "acme-store", "NumItems": len(items), "IsParked": False}
    if processed:
        general["IsCancelled"] = cancelled
    order = {
        "OrderId": str(uuid.uuid5(uuid.NAMESPACE_OID, f"lw-order-{num}")), "NumOrderId": num,
        "Processed": processed, "ProcessedOn": updated if processed else None,
        "PaidOn": received if status == 1 else None, "LastUpdated": updated,
        "FulfilmentLocationId": "00000000-0000-0000-0000-000000000000",
        "ShippingInfo": {"Vendor": "Royal Mail", "PostalServiceName": "Royal Mail 48",
                         "TrackingNumber": ""},
        "TotalsInfo": {"Subtotal": _cents(net), "PostageCost": _cents(postage_gross),
                       "PostageCostExTax": _cents(postage_net),
                       "Tax": _cents(gross - net + postage_gross - postage_net),
                       "TotalCharge": _cents(gross + postage_gross), "PaymentMethod": "PayPal",
                       "PaymentMethodId": str(uuid.uuid4()), "TotalDiscount": 0.0,
                       "Currency": currency, "CountryTaxRate": 20.0, "ConversionRate": 1.0},
        "ExtendedProperties": [], "Folders": [], "TaxId": "",
        "GeneralInfo": general,
        "CustomerInfo": {"ChannelBuyerName": "janedoe",
                         "Address": {"FullName": "Jane Doe", "Company": "Acme Ltd",
                                     "EmailAddress": "jane@example.com", "Address1": "1 High St",
                                     "Address2": "", "Address3": "", "Town": "Leeds",
                                     "Region": "West Yorkshire", "PostCode": "LS1 1AA",
                                     "Country": "United Kingdom", "PhoneNumber": "0113 496 0000"},
                         "BillingAddress": {}},
        "Items": items, "Notes": []}
    order.update(fields)
    return order


def lw_refund(amount: str, action_date: str, *, reference: str = "RF-1",
              actioned: bool = True) -> dict[str, Any]:
    return {"pkRefundRowId": str(uuid.uuid4()), "SKU": "", "ItemTitle": "", "IsItem": True,
            "IsService": False, "Amount": float(amount), "Reason": "Damaged",
            "Actioned": actioned, "ActionDate": action_date, "ReturnReference": reference,
            "Cost": 0.0, "RefundStatus": "PROCESSED" if actioned else "PENDING",
            "fkOrderItemRowId": str(uuid.uuid4()), "ChannelReason": ""}


def lw_purchase(reference: str, items: list[tuple[str, int, str]], *, status: str = "OPEN",
                tax_rate: str = "20", delivered: int = 0, shipping: str = "0",
                day: str = "2026-11-02T09:10:00Z") -> dict[str, Any]:
    """A purchase order as Get_PurchaseOrder answers: each item's Cost is its line total with
    tax (unit cost × quantity + tax), `items` as (SKU, quantity, unit cost without tax)."""
    rows, tax_paid = [], Decimal(0)
    for sku, quantity, cost in items:
        net = Decimal(cost) * quantity
        tax = (net * Decimal(tax_rate) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        tax_paid += tax
        rows.append({"pkPurchaseItemId": str(uuid.uuid4()), "fkStockItemId": str(uuid.uuid4()),
                     "SKU": sku, "ItemTitle": sku.title(), "Quantity": quantity,
                     "Cost": _cents(net + tax), "Delivered": delivered,
                     "TaxRate": float(tax_rate), "Tax": _cents(tax), "PackQuantity": 1,
                     "PackSize": 1, "SupplierCode": f"SUP-{sku}", "IsDeleted": False})
    costs = [{"AdditionalCostTypeIsShippingType": True, "Reference": "Freight",
              "SubTotalLineCost": float(shipping), "TaxRate": 0.0, "Tax": 0.0,
              "TotalLineCost": float(shipping), "Currency": "GBP", "ConversionRate": 1.0,
              "AdditionalCostTypeName": "Shipping", "AllocationMethod": "ByValue"}
             ] if Decimal(shipping) else []
    header = {"pkPurchaseID": str(uuid.uuid5(uuid.NAMESPACE_OID, f"lw-po-{reference}")),
              "fkSupplierId": SUPPLIER_ID, "fkLocationId": "00000000-0000-0000-0000-000000000000",
              "ExternalInvoiceNumber": reference, "Status": status, "Currency": "GBP",
              "SupplierReferenceNumber": "SUP-7781", "Locked": False, "LineCount": len(rows),
              "DeliveredLinesCount": len(rows) if status == "DELIVERED" else 0,
              "UnitAmountTaxIncludedType": 0, "DateOfPurchase": day, "DateOfDelivery": day,
              "QuotedDeliveryDate": "2026-11-10T00:00:00Z", "PostagePaid": 0.0,
              "TotalCost": _cents(sum((Decimal(str(r["Cost"])) for r in rows), Decimal(0))),
              "taxPaid": _cents(tax_paid), "ShippingTaxRate": 0.0, "ConversionRate": 1.0}
    return {"NoteCount": 0, "PurchaseOrderHeader": header, "PurchaseOrderItem": rows,
            "AdditionalCosts": costs, "PaymentStatements": [], "DeliveredRecords": []}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeLinnworks(FakeServer):
    """Sessions from AuthorizeByApplication (the Authorization header, no "Bearer"), the v2
    feed by LastUpdated with NextSearchToken paging, refunds searched by action date and read
    per order, order numbers looked up, per-method limits a minute (429 with Retry-After), and
    401 for an ended session — problem+json on v2, {"Message"} on v1."""

    def __init__(self, orders: list[dict[str, Any]], *, token: str = LW_TOKEN,
                 refunds: dict[str, list[dict[str, Any]]] | None = None,
                 limits: dict[str, int] | None = None,
                 purchases: list[dict[str, Any]] | None = None) -> None:
        self.orders = {order["OrderId"]: order for order in orders}
        self.purchases = {p["PurchaseOrderHeader"]["pkPurchaseID"]: p for p in purchases or []}
        self.suppliers = [{"pkSupplierID": SUPPLIER_ID, "SupplierName": "Cotton Supply Co"}]
        self.refunds = refunds or {}        # OrderId → RefundInfo rows
        self.token = token
        self.limits = {**RATE_LIMITS, **(limits or {})}
        self.used: dict[str, int] = {}
        self.sessions: set[str] = set()
        self.searches: dict[str, list[dict[str, Any]]] = {}
        self._session_ids = (f"5e55{n:04d}-0000-4000-8000-00000000abcd" for n in
                             itertools.count(1))
        super().__init__(self._route)

    def put(self, order: dict[str, Any]) -> None:
        self.orders[order["OrderId"]] = order

    def expire_sessions(self) -> None:
        self.sessions.clear()

    def _route(self, request: Received) -> Reply:
        used = self.used[request.path] = self.used.get(request.path, 0) + 1
        if used > self.limits.get(request.path, 150):
            self.used[request.path] = 0      # the minute the client waits out
            return Reply(429, {"Code": None, "Message": "Too many requests"},
                         {"Retry-After": str(RETRY_AFTER_S)})
        if request.path == "/api/Auth/AuthorizeByApplication":
            return self._authorize(request)
        if request.headers.get("authorization") not in self.sessions:
            if request.path.startswith("/v2/"):
                return Reply(401, {"type": "https://httpstatuses.io/401", "title":
                                   "Unauthorized", "status": 401, "instance": "api/v1/orders"},
                             {"Content-Type": "application/problem+json"})
            return Reply(401, {"Code": None,
                               "Message": "Authorization has been denied for this request."})
        answer = {("GET", "/v2/orders"): self._orders,
                  ("GET", "/api/Orders/GetOrderDetailsByNumOrderId"): self._by_number,
                  ("GET", "/api/ReturnsRefunds/SearchReturnsRefundsPaged"):
                      self._search_refunds,
                  ("GET", "/api/ProcessedOrders/GetRefunds"): self._refunds,
                  ("GET", "/api/Inventory/GetSuppliers"): self._suppliers,
                  ("POST", "/api/PurchaseOrder/Search_PurchaseOrders"): self._search_purchases,
                  ("POST", "/api/PurchaseOrder/Get_PurchaseOrder"): self._purchase,
                  }.get((request.method, request.path))
        if answer is None:
            return Reply(404, {"Message": f"No HTTP resource was found at {request.path}."})
        return answer(request)

    def _authorize(self, request: Received) -> Reply:
        body = json.loads(request.body or b"{}")
        if (body.get("ApplicationId"), body.get("ApplicationSecret"), body.get("Token")) != (
                LW_APP_ID, LW_SECRET, self.token):
            return Reply(401, {"Code": None, "Message": "Invalid application or token."})
        session = next(self._session_ids)
        self.sessions.add(session)
        return Reply(200, {"Id": str(uuid.uuid4()), "UserName": "ops@acme.example",
                           "Email": "ops@acme.example", "Token": session, "Server": self.url,
                           "TTL": 0, "Locality": "EU", "UserType": "Integration",
                           "Properties": {}, "UserId": str(uuid.uuid4())})

    def _orders(self, request: Received) -> Reply:
        ids = request.query.get("id")
        if ids:
            wanted = [self.orders[i] for i in ids if i in self.orders]
            return Reply(200, _orders_body(wanted, len(wanted), None))
        token = request.param("searchToken")
        if token:
            if token not in self.searches:
                return Reply(400, {"type": "https://httpstatuses.io/400", "title":
                                   "Bad Request", "status": 400,
                                   "detail": "The search token is not valid."})
            rows = self.searches.pop(token)
        else:
            since = request.param("fromDate")
            rows = sorted((o for o in self.orders.values()
                           if (since is None or _instant(o["LastUpdated"]) >= _instant(since))
                           and (request.param("includeProcessed") == "true"
                                or not o["Processed"])), key=lambda o: o["LastUpdated"])
        size = int(request.param("entriesPerPage") or 100)
        page, rest = rows[:size], rows[size:]
        next_token = str(uuid.uuid4()) if rest else None
        if next_token:
            self.searches[next_token] = rest
        return Reply(200, _orders_body(page, len(rows), next_token))

    def _by_number(self, request: Received) -> Reply:
        number = int(request.param("OrderId") or 0)
        for order in self.orders.values():
            if order["NumOrderId"] == number:
                return Reply(200, {"OrderId": order["OrderId"], "NumOrderId": number,
                                   "Processed": order["Processed"],
                                   "GeneralInfo": order["GeneralInfo"],
                                   "TotalsInfo": order["TotalsInfo"], "Items": order["Items"]})
        # "If not found empty class is returned."
        return Reply(200, {"OrderId": "00000000-0000-0000-0000-000000000000", "NumOrderId": 0,
                           "Processed": False, "Items": None})

    def _search_refunds(self, request: Received) -> Reply:
        rows = [dict(refund, pkOrderID=order_id, nOrderId=self.orders[order_id]["NumOrderId"])
                for order_id, refunds in self.refunds.items() for refund in refunds]
        if request.param("dateType") != "ALLDATES":
            start, end = _instant(request.param("from") or ""), _instant(request.param("to") or "")
            if end - start > REFUND_SPAN:
                return Reply(400, {"Code": None, "Message": "Maximum range is 3 months."})
            rows = [r for r in rows if request.param("dateType") == "ACTIONED"
                    and r["Actioned"] and start <= _instant(r["ActionDate"]) <= end]
        size = min(200, int(request.param("numEntriesPerPage") or 200))
        page = int(request.param("pageNum") or 1)
        pages = max(1, -(-len(rows) // size))
        return Reply(200, {"PageNumber": page, "EntriesPerPage": size, "TotalEntries": len(rows),
                           "TotalPages": pages, "Data": rows[(page - 1) * size:page * size]})

    def _suppliers(self, _request: Received) -> Reply:
        return Reply(200, self.suppliers)

    def _search_purchases(self, request: Received) -> Reply:
        search = json.loads(request.body or b"{}").get("searchParameter") or {}
        since = search.get("DateFrom")
        rows = sorted((p["PurchaseOrderHeader"] for p in self.purchases.values()
                       if not since or _instant(p["PurchaseOrderHeader"]["DateOfPurchase"])
                       >= _instant(since)), key=lambda h: h["DateOfPurchase"])
        size, page = int(search.get("EntriesPerPage") or 10), int(search.get("PageNumber") or 1)
        return Reply(200, {"Result": rows[(page - 1) * size:page * size],
                           "TotalPages": max(1, -(-len(rows) // size)),
                           "CurrentPageNumber": page, "EntriesPerPage": size,
                           "TotalNumberOfRecords": len(rows)})

    def _purchase(self, request: Received) -> Reply:
        wanted = json.loads(request.body or b"{}").get("pkPurchaseId")
        if wanted not in self.purchases:
            return Reply(400, {"Code": None, "Message": "Purchase order not found."})
        return Reply(200, self.purchases[wanted])

    def _refunds(self, request: Received) -> Reply:
        return Reply(200, self.refunds.get(request.param("pkOrderId") or "", []))


def _orders_body(rows: list[dict[str, Any]], total: int, token: str | None) -> dict[str, Any]:
    return {"TotalOrders": total, "NextSearchToken": token,
            "OpenOrders": [o for o in rows if not o["Processed"]],
            "ProcessedOrders": [o for o in rows if o["Processed"]]}


def now_iso(offset: timedelta = timedelta()) -> str:
    """The real time (the engine's cursor is real time), as Linnworks writes it."""
    return (datetime.now(UTC) + offset).strftime("%Y-%m-%dT%H:%M:%SZ")
