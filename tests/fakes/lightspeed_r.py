"""A local Lightspeed Retail R-Series (API V3) that answers as its documentation says."""

from __future__ import annotations

import base64
import itertools
import json
import math
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from tests.fakes.stores import FakeServer, Received, Reply

LSR_ACCOUNT = "83050"
LSR_CLIENT_ID = "lsr-client-4f7a"
LSR_CLIENT_SECRET = "lsr_cs_9d1e7b3a5c2f4e6a8b0c1d3e5f7a9b1c"
LSR_REFRESH = "lsr_rt_first_0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e"
TOKEN_PATH = "/auth/oauth/token"
API = f"/API/V3/Account/{LSR_ACCOUNT}"
TAX1_RATE, TAX2_RATE = Decimal("0.0825"), Decimal("0.05")
PLACES = Decimal("0.00001")
CENT = Decimal("0.01")


def _text(value: Decimal) -> str:
    """Money as R-Series writes it: a string, with arbitrary precision."""
    return format(value.quantize(PLACES, rounding=ROUND_HALF_UP).normalize(), "f")


ITEMS = {
    "6": {"itemID": "6", "systemSku": "210000000006", "customSku": "HELM-L",
          "description": "Helmet L"},
    "7": {"itemID": "7", "systemSku": "210000000007", "customSku": "", "description": "Bell"},
    "8": {"itemID": "8", "systemSku": "210000000008", "customSku": "TUBE-700",
          "description": "Inner tube 700c"},
}
_line_ids = itertools.count(1)


def lsr_line(item_id: str, quantity: int, price: str, *, discount: str = "0",
             taxed: bool = True, inclusive: bool = False, parent: str = "0") -> dict[str, Any]:
    """A sale line: `quantity` × unit `price` less `discount`, taxed in both slots. With
    `inclusive` the price holds the tax, which is worked out of it."""
    count, unit, off = Decimal(quantity), Decimal(price), Decimal(discount)
    net = count * unit - off
    rates = (TAX1_RATE, TAX2_RATE) if taxed else (Decimal(0), Decimal(0))
    if inclusive:
        base = net / (1 + sum(rates))
        taxes = [base * rate for rate in rates]
    else:
        taxes = [net * rate for rate in rates]
    return {"saleLineID": str(next(_line_ids)), "itemID": item_id, "unitQuantity": str(quantity),
            "unitPrice": _text(unit), "normalUnitPrice": _text(unit),
            "discountAmount": _text(off), "calcLineDiscount": _text(off),
            "calcTransactionDiscount": "0", "calcSubtotal": _text(net),
            "calcTax1": _text(taxes[0]), "calcTax2": _text(taxes[1]),
            "calcTotal": _text(net if inclusive else net + sum(taxes)),
            "tax": "true" if taxed else "false", "tax1Rate": _text(rates[0]),
            "tax2Rate": _text(rates[1]), "parentSaleLineID": parent,
            "createTime": "2026-11-20T18:00:00+00:00"}


def lsr_sale(sale_id: str, lines: list[dict[str, Any]], *, completed: bool = True,
             voided: bool = False, inclusive: bool = False, paid: str | None = None,
             payment: str = "Cash", when: str = "2026-11-20T18:30:00+00:00",
             customer: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A sale whose sums are its lines'; paid in full (to the cent) unless `paid` says."""
    subtotal = sum((Decimal(line["calcSubtotal"]) for line in lines), Decimal(0))
    tax1 = sum((Decimal(line["calcTax1"]) for line in lines), Decimal(0))
    tax2 = sum((Decimal(line["calcTax2"]) for line in lines), Decimal(0))
    total = subtotal if inclusive else subtotal + tax1 + tax2
    amount = total.quantize(CENT, rounding=ROUND_HALF_UP) if paid is None else Decimal(paid)
    for line in lines:
        line["saleID"] = sale_id
    payments = [{"salePaymentID": f"p{sale_id}", "amount": _text(amount), "tipAmount": "0",
                 "createTime": when, "archived": "false", "saleID": sale_id,
                 "paymentTypeID": "1", "PaymentType": {"paymentTypeID": "1", "name": payment}}
                ] if amount else []
    sale = {"saleID": sale_id, "timeStamp": when, "createTime": when,
            "completeTime": when if completed else "", "completed": _flag(completed),
            "voided": _flag(voided), "archived": "false", "isTaxInclusive": _flag(inclusive),
            "ticketNumber": f"2200000{int(sale_id):05d}", "calcDiscount": "0",
            "calcSubtotal": _text(subtotal), "calcTax1": _text(tax1), "calcTax2": _text(tax2),
            "calcTotal": _text(total), "calcPayments": _text(amount), "total": _text(total),
            "customerID": customer["customerID"] if customer else "0", "shopID": "1",
            "_lines": lines, "_payments": payments, "_customer": customer}
    sale.update(fields)
    return sale


def lsr_refund(refund_id: str, original: dict[str, Any], taken: dict[str, int],
               when: str) -> dict[str, Any]:
    """A refund sale: the lines of `original` named by saleLineID, `taken` back each, paid back
    in cash."""
    lines = []
    for line in original["_lines"]:
        if line["saleLineID"] in taken:
            unit = Decimal(line["unitPrice"])
            lines.append(lsr_line(line["itemID"], -taken[line["saleLineID"]], str(unit),
                                  inclusive=original["isTaxInclusive"] == "true",
                                  parent=line["saleLineID"]))
    refund = lsr_sale(refund_id, lines, inclusive=original["isTaxInclusive"] == "true",
                      when=when)
    back = Decimal(refund["calcTotal"]).quantize(CENT, rounding=ROUND_HALF_UP)
    refund["_payments"] = [{"salePaymentID": f"p{refund_id}", "amount": _text(back),
                            "archived": "false", "createTime": when, "saleID": refund_id,
                            "PaymentType": {"name": "Cash"}}]
    return refund


def lsr_order(order_id: str, lines: list[tuple[str, int, str, int]], *, ordered: str = "",
              complete: bool = False, archived: bool = False, ship: str = "0",
              other: str = "0", vendor: str = "Bike Parts Inc",
              when: str = "2026-11-20T18:00:00+00:00") -> dict[str, Any]:
    """A purchase order (Order) of (itemID, quantity, unit cost, received) lines."""
    order_lines = [{"orderLineID": f"{order_id}{index}", "orderID": order_id, "itemID": item,
                    "quantity": str(count), "price": cost, "originalPrice": cost,
                    "numReceived": str(received), "checkedIn": str(received),
                    "total": _text(Decimal(cost) * count)}
                   for index, (item, count, cost, received) in enumerate(lines, start=1)]
    return {"orderID": order_id, "orderedDate": ordered, "receivedDate": "",
            "arrivalDate": "2026-12-01T00:00:00+00:00", "refNum": f"REF-{order_id}",
            "shipCost": ship, "otherCost": other, "complete": _flag(complete),
            "archived": _flag(archived), "discount": "0", "totalDiscount": "0",
            "totalQuantity": str(sum(count for _, count, _, _ in lines)),
            "vendorCurrencyCode": "USD", "vendorCurrencyRate": "1", "vendorID": "12",
            "shopID": "1", "timeStamp": when, "_lines": order_lines, "_vendor": vendor}


def _flag(value: bool) -> str:
    return "true" if value else "false"


class FakeLightspeedR(FakeServer):
    """API V3 sales, sale lines and vendor orders behind OAuth with rotating refresh tokens:
    cursor paging by an opaque `after` in `@attributes.next`, filters with their operator in
    the value (`>=`, `><`, `IN`), string-typed values, a relation of one record sent as an
    object, and a leaky bucket (size, drip, cost per request, relations dearer) answering 429
    with Retry-After in seconds when a request would overflow it."""

    def __init__(self, sales: list[dict[str, Any]] = (), orders: list[dict[str, Any]] = (), *,
                 bucket_size: int = 60, drip_per_s: str = "1", clock: Callable[[], float],
                 ) -> None:
        self.sales = {sale["saleID"]: sale for sale in sales}
        self.orders = {order["orderID"]: order for order in orders}
        self.refresh_token = LSR_REFRESH
        self.access_token = ""
        self.issued = itertools.count(1)
        self.bucket_size = Decimal(bucket_size)
        self.drip = Decimal(drip_per_s)
        self.clock = clock
        self.level = Decimal(0)
        self.level_at = clock()
        self.throttled = 0
        super().__init__(self._route)

    def put(self, sale: dict[str, Any]) -> None:
        self.sales[sale["saleID"]] = sale

    def expire_access(self) -> None:
        self.access_token = "expired"

    # -- routing ------------------------------------------------------------------------------

    def _route(self, request: Received) -> Reply:
        if request.path == TOKEN_PATH and request.method == "POST":
            return self._token(json.loads(request.body or b"{}"))
        if request.headers.get("authorization") != f"Bearer {self.access_token}" \
                or not self.access_token:
            return Reply(401, {"httpCode": "401", "httpMessage": "Unauthorized",
                               "message": "Invalid access token."})
        cost = Decimal(1) + (1 if request.param("load_relations") else 0)
        self._drain()
        if self.level + cost > self.bucket_size:
            self.throttled += 1
            wait = (self.level + cost - self.bucket_size) / self.drip
            return Reply(429, {"httpCode": "429", "httpMessage": "Too Many Requests",
                               "message": "Rate Limit Exceeded: Please decrease your request "
                                          "volume.", "errorClass": "RateLimitedException"},
                         {"Retry-After": str(math.ceil(wait)),
                          "X-LS-API-RateLimit-Type": "api-leaky-bucket"})
        self.level += cost
        reply = self._answer(request)
        reply.headers.update({"X-LS-API-Bucket-Level": f"{_text(self.level)}/{self.bucket_size}",
                              "X-LS-API-Drip-Rate": str(self.drip),
                              "X-LS-API-Request-Cost": str(cost)})
        return reply

    def _drain(self) -> None:
        now = self.clock()
        self.level = max(Decimal(0), self.level - self.drip * Decimal(str(now - self.level_at)))
        self.level_at = now

    def _token(self, body: dict[str, Any]) -> Reply:
        if (body.get("grant_type") != "refresh_token" or body.get("client_id") != LSR_CLIENT_ID
                or body.get("client_secret") != LSR_CLIENT_SECRET):
            return Reply(400, {"error": "invalid_client",
                               "error_description": "Client authentication failed"})
        if body.get("refresh_token") != self.refresh_token:
            return Reply(400, {"error": "invalid_grant", "error_description":
                               "The refresh token is invalid or was revoked."})
        number = next(self.issued)
        # Each refresh revokes the refresh token it used and issues another.
        self.refresh_token = f"lsr_rt_{number:04d}_{'ab' * 14}"
        self.access_token = f"lsr_at_{number:04d}_{'cd' * 14}"
        return Reply(200, {"access_token": self.access_token, "expires_in": 1800,
                           "token_type": "Bearer", "scope": "employee:all",
                           "refresh_token": self.refresh_token})

    def _answer(self, request: Received) -> Reply:
        tables: dict[str, Callable[[set[str]], list[dict[str, Any]]]] = {
            "Sale": self._sale_rows, "SaleLine": self._sale_line_rows, "Order": self._order_rows}
        name = request.path.removeprefix(f"{API}/").removesuffix(".json")
        if not request.path.startswith(API) or name not in tables:
            return Reply(404, {"httpCode": "404", "message": f"{request.path} not found"})
        relations = set(json.loads(request.param("load_relations") or "[]"))
        rows = [row for row in tables[name](relations) if _matches(row, request.query)]
        if request.param("sort"):
            rows.sort(key=lambda row: str(row.get(request.param("sort") or "")))
        start = int(base64.b64decode(request.param("after") or "MA==").decode())
        limit = min(int(request.param("limit") or 100), 100)
        page = rows[start:start + limit]
        following = {k: v[0] for k, v in request.query.items() if k != "after"}
        following["after"] = base64.b64encode(str(start + limit).encode()).decode()
        more = start + limit < len(rows)
        body: dict[str, Any] = {"@attributes": {
            "next": f"{self.url}{request.path}?{urlencode(following)}" if more else "",
            "previous": ""}}
        if page:
            body[name] = page[0] if len(page) == 1 else page   # one record: an object
        return Reply(200, body)

    def _sale_rows(self, relations: set[str]) -> list[dict[str, Any]]:
        rows = []
        for sale in self.sales.values():
            row = {k: v for k, v in sale.items() if not k.startswith("_")}
            if "SaleLines" in relations:
                lines = [dict(line, Item=ITEMS[line["itemID"]]) if "SaleLines.Item" in relations
                         else dict(line) for line in sale["_lines"]]
                row["SaleLines"] = {"SaleLine": _one_or_many(lines)}
            if "SalePayments" in relations and sale["_payments"]:
                row["SalePayments"] = {"SalePayment": _one_or_many(sale["_payments"])}
            if "Customer" in relations and sale["_customer"]:
                row["Customer"] = sale["_customer"]
            rows.append(row)
        return rows

    def _sale_line_rows(self, _relations: set[str]) -> list[dict[str, Any]]:
        return [dict(line) for sale in self.sales.values() for line in sale["_lines"]]

    def _order_rows(self, relations: set[str]) -> list[dict[str, Any]]:
        rows = []
        for order in self.orders.values():
            row = {k: v for k, v in order.items() if not k.startswith("_")}
            if "OrderLines" in relations:
                lines = [dict(line, Item=ITEMS[line["itemID"]]) if "OrderLines.Item" in relations
                         else dict(line) for line in order["_lines"]]
                row["OrderLines"] = {"OrderLine": _one_or_many(lines)}
            if "Vendor" in relations:
                row["Vendor"] = {"vendorID": order["vendorID"], "name": order["_vendor"]}
            rows.append(row)
        return rows


def _one_or_many(rows: list[dict[str, Any]]) -> Any:
    return rows[0] if len(rows) == 1 else rows


CONTROL = frozenset({"limit", "after", "sort", "load_relations", "archived"})


def _matches(row: dict[str, Any], query: dict[str, list[str]]) -> bool:
    """Whether `row` passes every filter: `field=value`, or the operator first in the value
    (`>=,…`, `><,low,high`, `IN,[a,b]`); archived rows only when archived=true."""
    archived = (query.get("archived") or ["false"])[0]
    if row.get("archived") == "true" and archived not in ("true", "only"):
        return False
    for field, (value, *_) in query.items():
        if field in CONTROL:
            continue
        have = str(row.get(field, ""))
        operator, _, argument = value.partition(",")
        if operator == ">=":
            if not have or _instant(have) < _instant(argument):
                return False
        elif operator == "><":
            low, high = argument.split(",")
            if not have or not _instant(low) <= _instant(have) <= _instant(high):
                return False
        elif operator == "IN":
            if have not in argument.strip("[]").split(","):
                return False
        elif have != value:
            return False
    return True


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
