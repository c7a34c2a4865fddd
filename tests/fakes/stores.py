"""Local HTTP servers on 127.0.0.1 that answer as the stores document, for connector tests."""

from __future__ import annotations

import base64
import email.utils
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# How quickly `stop` is noticed by the serving thread.
POLL_INTERVAL_S = 0.02


@dataclass(frozen=True)
class Received:
    """One request as the fake store saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Reply:
    """What the fake store answers: a status, headers and a JSON-able body (None: no body),
    or `raw` bytes sent as they are (with only the headers given)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


Route = Callable[[Received], Reply]


class JsonHandler(BaseHTTPRequestHandler):
    """Answers in JSON and logs nothing: tests read what the fake received instead."""

    def send_json(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        """`body` as JSON (None: an empty body); a 204 has no body at all."""
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status != 204:
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if status != 204:
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class LoopbackHttp:
    """A request handler class served on a free 127.0.0.1 port by a daemon thread."""

    def __init__(self, handler: type[JsonHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(POLL_INTERVAL_S,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FakeServer:
    """A threaded HTTP server on a free loopback port that records requests and asks `route`."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.received: list[Received] = []
        fake = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                request = Received(self.command, parts.path, parse_qs(parts.query),
                                   {k.lower(): v for k, v in self.headers.items()}, body)
                fake.received.append(request)
                reply = fake.route(request)
                if reply.raw is None:
                    self.send_json(reply.status, reply.body, reply.headers)
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(reply.raw)

            do_POST = do_GET

        self._http = LoopbackHttp(Handler)

    @property
    def url(self) -> str:
        return self._http.url

    def start(self) -> FakeServer:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _basic_credentials(request: Received) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


# -- WooCommerce ---------------------------------------------------------------------------

WOO_KEY = "ck_4f1c0d2e9b8a7766554433221100ffee"
WOO_SECRET = "cs_9a8b7c6d5e4f30211203f4e5d6c7b8a9"
WOO_ORDERS_PATH = "/wp-json/wc/v3/orders"
WOO_DEFAULT_PER_PAGE = 10


def woo_sample_order() -> dict[str, Any]:
    """Order 727 of the WooCommerce REST docs, with both of its line items."""
    return {
        "id": 727, "parent_id": 0, "number": "727", "order_key": "wc_order_58d2d042d1d",
        "created_via": "rest-api", "status": "processing", "currency": "USD",
        "date_created": "2017-03-22T16:28:02", "date_created_gmt": "2017-03-22T19:28:02",
        "date_modified": "2017-03-22T16:28:08", "date_modified_gmt": "2017-03-22T19:28:08",
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "10.00",
        "shipping_tax": "0.00", "cart_tax": "1.35", "total": "29.35", "total_tax": "1.35",
        "prices_include_tax": False, "customer_id": 0, "customer_note": "",
        "billing": {
            "first_name": "John", "last_name": "Doe", "company": "",
            "address_1": "969 Market", "address_2": "", "city": "San Francisco",
            "state": "CA", "postcode": "94103", "country": "US",
            "email": "john.doe@example.com", "phone": "(555) 555-5555"},
        "shipping": {
            "first_name": "John", "last_name": "Doe", "company": "",
            "address_1": "969 Market", "address_2": "", "city": "San Francisco",
            "state": "CA", "postcode": "94103", "country": "US"},
        "payment_method": "bacs", "payment_method_title": "Direct Bank Transfer",
        "transaction_id": "", "date_paid": "2017-03-22T16:28:08",
        "date_paid_gmt": "2017-03-22T19:28:08", "date_completed": None,
        "line_items": [
            {"id": 315, "name": "Woo Single #1", "product_id": 93, "variation_id": 0,
             "quantity": 2, "tax_class": "", "subtotal": "6.00", "subtotal_tax": "0.45",
             "total": "6.00", "total_tax": "0.45",
             "taxes": [{"id": 75, "total": "0.45", "subtotal": "0.45"}], "meta_data": [],
             "sku": "", "price": 3},
            {"id": 316, "name": "Ship Your Idea – Color: Black, Size: M Test", "product_id": 22,
             "variation_id": 23, "quantity": 1, "tax_class": "", "subtotal": "12.00",
             "subtotal_tax": "0.90", "total": "12.00", "total_tax": "0.90",
             "taxes": [{"id": 75, "total": "0.9", "subtotal": "0.9"}],
             "meta_data": [{"id": 2095, "key": "pa_color", "value": "black"}],
             "sku": "Bar3", "price": 12},
        ],
        "tax_lines": [
            {"id": 318, "rate_code": "US-CA-STATE TAX", "rate_id": 75, "label": "State Tax",
             "compound": False, "tax_total": "1.35", "shipping_tax_total": "0.00",
             "meta_data": []}],
        "shipping_lines": [
            {"id": 317, "method_title": "Flat Rate", "method_id": "flat_rate", "total": "10.00",
             "total_tax": "0.00", "taxes": [], "meta_data": []}],
        "fee_lines": [], "coupon_lines": [], "refunds": [],
    }


def woo_order(order_id: int, *, status: str = "processing", total: str = "10.00",
              created: str = "2026-11-20T10:00:00", paid: bool = True,
              **fields: Any) -> dict[str, Any]:
    """A one-line, untaxed order shaped like the sample; `fields` replace top-level fields."""
    order = woo_sample_order()
    order.update({
        "id": order_id, "number": str(order_id), "status": status, "total": total,
        "total_tax": "0.00", "cart_tax": "0.00", "shipping_total": "0.00",
        "date_created": created, "date_created_gmt": created,
        "date_modified": created, "date_modified_gmt": created,
        "date_paid": created if paid else None, "date_paid_gmt": created if paid else None,
        "line_items": [{"id": order_id * 10, "name": "Widget", "product_id": 1,
                        "variation_id": 0, "quantity": 1, "tax_class": "",
                        "subtotal": total, "subtotal_tax": "0.00", "total": total,
                        "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": "WIDGET",
                        "price": 10}],
        "tax_lines": [], "shipping_lines": [],
    })
    order.update(fields)
    return order


class FakeWooCommerce(FakeServer):
    """`/wp-json/wc/v3/orders` as WooCommerce answers it: Basic or query-string keys, filters,
    page/per_page with X-WP-Total, X-WP-TotalPages and Link, and JSON errors."""

    def __init__(self, orders: list[dict[str, Any]], *, key: str = WOO_KEY,
                 secret: str = WOO_SECRET) -> None:
        self.orders = orders
        self.key = key
        self.secret = secret
        self.queued: list[Reply] = []   # answered first, e.g. a throttle
        self.ignores_page = False       # a caching host that always serves page 1
        super().__init__(self._route)

    def _route(self, request: Received) -> Reply:
        if self.queued:
            return self.queued.pop(0)
        given = _basic_credentials(request) or (request.param("consumer_key"),
                                                request.param("consumer_secret"))
        if given != (self.key, self.secret):
            return Reply(401, {"code": "woocommerce_rest_cannot_view",
                               "message": "Sorry, you cannot list resources.",
                               "data": {"status": 401}})
        if request.path != WOO_ORDERS_PATH:
            return Reply(404, {"code": "rest_no_route",
                               "message": "No route was found matching the URL and request "
                                          "method.", "data": {"status": 404}})
        per_page = int(request.param("per_page") or WOO_DEFAULT_PER_PAGE)
        if not 1 <= per_page <= 100:
            return Reply(400, {"code": "rest_invalid_param",
                               "message": "Invalid parameter(s): per_page",
                               "data": {"status": 400}})
        matches = sorted((o for o in self.orders if self._matches(o, request)),
                         key=lambda o: o["id"], reverse=request.param("order") != "asc")
        if self.ignores_page:
            return Reply(200, matches[:per_page])
        page = int(request.param("page") or 1)
        pages = max(1, -(-len(matches) // per_page))
        link = f'<{self.url}{WOO_ORDERS_PATH}?page={page + 1}>; rel="next"' if page < pages else ""
        headers = {"X-WP-Total": str(len(matches)), "X-WP-TotalPages": str(pages)}
        if link:
            headers["Link"] = link
        return Reply(200, matches[(page - 1) * per_page:page * per_page], headers)

    @staticmethod
    def _matches(order: dict[str, Any], request: Received) -> bool:
        statuses = (request.param("status") or "any").split(",")
        if "any" in statuses:
            if order["status"] == "trash":
                return False
        elif order["status"] not in statuses:
            return False
        suffix = "_gmt" if request.param("dates_are_gmt") == "true" else ""
        for param, field_name, keep in (("after", "date_created", str.__gt__),
                                        ("before", "date_created", str.__lt__),
                                        ("modified_after", "date_modified", str.__gt__)):
            bound = request.param(param)
            if bound and not keep(order[field_name + suffix], bound):
                return False
        include = request.param("include")
        if include and str(order["id"]) not in include.split(","):
            return False
        search = request.param("search")
        return not search or search in (order["number"], order["billing"]["email"])


# -- BigCommerce ---------------------------------------------------------------------------

BC_HASH = "abc123xyz"
BC_TOKEN = "bc_tok_5e7d1a9c3b2f4e6d8a0c1b3d5f7e9a2c"
BC_DEFAULT_LIMIT = 50
BC_MAX_LIMIT = 250
BC_WINDOW_MS = "30000"


def bc_order(order_id: int, *, status_id: int = 11, total: str = "10.0000",
             created: str = "Fri, 20 Nov 2026 15:00:00 +0000", **fields: Any) -> dict[str, Any]:
    """An order shaped like the Orders V2 sample: one untaxed line unless `fields` say more."""
    order = {
        "id": order_id, "customer_id": 20, "date_created": created, "date_modified": created,
        "date_shipped": "", "status_id": status_id, "status": f"status {status_id}",
        "custom_status": f"Custom label {status_id}",
        "subtotal_ex_tax": total, "subtotal_inc_tax": total, "subtotal_tax": "0.0000",
        "base_shipping_cost": "0.0000", "shipping_cost_ex_tax": "0.0000",
        "shipping_cost_inc_tax": "0.0000", "shipping_cost_tax": "0.0000",
        "handling_cost_ex_tax": "0.0000", "wrapping_cost_ex_tax": "0.0000",
        "total_ex_tax": total, "total_inc_tax": total, "total_tax": "0.0000",
        "is_tax_inclusive_pricing": False, "items_total": 1, "payment_method": "Credit Card",
        "payment_provider_id": "", "payment_status": "captured", "refunded_amount": "0.0000",
        "store_credit_amount": "0.0000", "gift_certificate_amount": "0.0000",
        "currency_id": 1, "currency_code": "USD", "currency_exchange_rate": "1.0000000000",
        "default_currency_code": "USD", "discount_amount": "0.0000", "coupon_discount": "0.0000",
        "staff_notes": "", "customer_message": "",
        "billing_address": {
            "first_name": "Jane", "last_name": "Doe", "company": "",
            "street_1": "455 Main Street", "street_2": "", "city": "Austin", "state": "Texas",
            "zip": "78751", "country": "United States", "country_iso2": "US",
            "phone": "555-123-4567", "email": "janedoe@example.com", "form_fields": []},
        "order_source": "www", "channel_id": 1, "external_source": None,
        "products": {"url": f"https://api.bigcommerce.com/stores/{BC_HASH}/v2/orders/"
                            f"{order_id}/products",
                     "resource": f"/orders/{order_id}/products"},
        "shipping_addresses": {"url": f"https://api.bigcommerce.com/stores/{BC_HASH}/v2/orders/"
                                      f"{order_id}/shippingaddresses",
                               "resource": f"/orders/{order_id}/shippingaddresses"},
        "coupons": {"url": f"https://api.bigcommerce.com/stores/{BC_HASH}/v2/orders/"
                           f"{order_id}/coupons", "resource": f"/orders/{order_id}/coupons"},
        "external_order_id": "", "customer_locale": "en",
        # Not part of the payload: the fake's sub-resources and V3 transactions.
        "_products": [bc_product(order_id * 10, order_id, "Widget", "WIDGET", 1, total)],
        "_shipping_addresses": [],
        "_transactions": [bc_transaction(order_id * 100, order_id, "purchase", "credit_card",
                                         total, "stripe", f"pi_{order_id}", created)],
    }
    order.update(fields)
    return order


def bc_product(product_id: int, order_id: int, name: str, sku: str, quantity: int,
               price_ex_tax: str, *, price_tax: str = "0.0000",
               applied_discounts: list[dict[str, Any]] | None = None,
               **fields: Any) -> dict[str, Any]:
    """A line of the products sub-resource, shaped like its sample."""
    ex = Decimal(price_ex_tax)
    tax = Decimal(price_tax)
    product = {
        "id": product_id, "order_id": order_id, "product_id": product_id + 1000,
        "order_address_id": 51, "name": name, "sku": sku, "type": "physical",
        "base_price": price_ex_tax, "price_ex_tax": price_ex_tax,
        "price_inc_tax": f"{ex + tax:.4f}", "price_tax": price_tax,
        "total_ex_tax": f"{ex * quantity:.4f}", "total_inc_tax": f"{(ex + tax) * quantity:.4f}",
        "total_tax": f"{tax * quantity:.4f}", "quantity": quantity, "is_refunded": False,
        "quantity_refunded": 0, "refund_amount": "0.0000", "quantity_shipped": 0,
        "parent_order_product_id": None, "is_bundled_product": False,
        "applied_discounts": applied_discounts or [], "product_options": [],
        "discounted_total_inc_tax": f"{(ex + tax) * quantity:.4f}",
    }
    product.update(fields)
    return product


def bc_transaction(transaction_id: int, order_id: int, event: str, method: str, amount: str,
                   gateway: str, gateway_id: str, when: str) -> dict[str, Any]:
    """One V3 order transaction (amount as a JSON number, as V3 sends it)."""
    return {"id": transaction_id, "order_id": str(order_id), "event": event, "method": method,
            "amount": float(amount), "currency": "USD", "gateway": gateway,
            "gateway_transaction_id": gateway_id,
            "date_created": email.utils.parsedate_to_datetime(when).isoformat(),
            "test": False, "status": "ok"}


class FakeBigCommerce(FakeServer):
    """`/stores/{hash}/v2/orders` (+ products, shipping addresses) and V3 transactions as
    BigCommerce answers them: X-Auth-Token, 204 on an empty page, rate-limit headers."""

    def __init__(self, orders: list[dict[str, Any]], *, token: str = BC_TOKEN,
                 quota: int = 150, customer_groups: dict[int, str] | None = None,
                 groups_scope: bool = True) -> None:
        self.orders = orders
        self.token = token
        # Customer id -> the name of its customer group (customers not listed are in none).
        self.customer_groups = customer_groups or {}
        self.groups_scope = groups_scope   # the token has the Customers read-only scope
        self.requests_left = quota
        self.reset_ms = "2500"
        self.queued: list[Reply] = []
        super().__init__(self._route)

    def _route(self, request: Received) -> Reply:
        if self.queued:
            return self.queued.pop(0)
        self.requests_left = max(0, self.requests_left - 1)
        reply = self._answer(request)
        reply.headers.update({
            "X-Rate-Limit-Time-Window-Ms": BC_WINDOW_MS,
            "X-Rate-Limit-Time-Reset-Ms": self.reset_ms,
            "X-Rate-Limit-Requests-Quota": "150",
            "X-Rate-Limit-Requests-Left": str(self.requests_left)})
        return reply

    def _answer(self, request: Received) -> Reply:
        if request.headers.get("x-auth-token") != self.token:
            return Reply(401, [{"status": 401, "message": "You are not authorized to access "
                                                          "this resource."}])
        prefix = f"/stores/{BC_HASH}/"
        if not request.path.startswith(prefix):
            return Reply(404, [{"status": 404, "message": "Store not found."}])
        parts = request.path[len(prefix):].split("/")
        by_id = {str(o["id"]): o for o in self.orders}
        if parts[:2] == ["v2", "orders"] and len(parts) == 2:
            return self._list(request)
        if parts[:2] == ["v2", "orders"] and parts[2] in by_id:
            order = by_id[parts[2]]
            if len(parts) == 3:
                return Reply(200, {k: v for k, v in order.items() if not k.startswith("_")})
            if parts[3] == "products":
                return self._page(request, order["_products"])
            if parts[3] in ("shipping_addresses", "shippingaddresses"):
                return self._page(request, order["_shipping_addresses"])
        if parts in (["v3", "customers"], ["v2", "customer_groups"]):
            return self._customers(request, parts[0])
        if parts[:2] == ["v3", "orders"] and parts[2] in by_id and parts[3:] == ["transactions"]:
            data = by_id[parts[2]]["_transactions"]
            return Reply(200, {"data": data, "meta": {}})
        return Reply(404, [{"status": 404, "message": "The requested resource was not found."}])

    def _customers(self, request: Received, version: str) -> Reply:
        """V3 customers by `id:in` with their customer_group_id; the V2 customer groups."""
        if not self.groups_scope:
            return Reply(403, {"status": 403, "title": "You don't have a required scope to "
                                                      "access the endpoint"})
        names = sorted(set(self.customer_groups.values()))
        if version == "v2":
            return Reply(200, [{"id": i, "name": name} for i, name in enumerate(names, 1)]) \
                if names else Reply(204, None)
        wanted = [int(i) for i in (request.param("id:in") or "").split(",") if i]
        data = [{"id": i, "customer_group_id": names.index(self.customer_groups[i]) + 1
                 if i in self.customer_groups else 0} for i in wanted]
        return Reply(200, {"data": data, "meta": {}})

    def _list(self, request: Received) -> Reply:
        def when(text: str) -> datetime:
            return email.utils.parsedate_to_datetime(text)

        matches = list(self.orders)
        for param, field_name, keep in (
                ("min_date_created", "date_created", lambda v, b: v >= b),
                ("max_date_created", "date_created", lambda v, b: v <= b),
                ("min_date_modified", "date_modified", lambda v, b: v >= b)):
            bound = request.param(param)
            if bound:
                matches = [o for o in matches if keep(when(o[field_name]), when(bound))]
        status_id = request.param("status_id")
        if status_id is not None:
            matches = [o for o in matches if str(o["status_id"]) == status_id]
        sort, _, direction = (request.param("sort") or "id:asc").partition(":")
        key = (lambda o: when(o[sort])) if sort.startswith("date_") else (lambda o: o[sort])
        matches.sort(key=key, reverse=direction == "desc")
        rows = [{k: v for k, v in o.items() if not k.startswith("_")} for o in matches]
        return self._page(request, rows)

    @staticmethod
    def _page(request: Received, rows: list[dict[str, Any]]) -> Reply:
        limit = min(int(request.param("limit") or BC_DEFAULT_LIMIT), BC_MAX_LIMIT)
        page = int(request.param("page") or 1)
        chunk = rows[(page - 1) * limit:page * limit]
        return Reply(200, chunk) if chunk else Reply(204)
