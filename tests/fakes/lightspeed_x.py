"""A local Lightspeed Retail X-Series (API 2.0) that answers as its documentation says."""

from __future__ import annotations

import email.utils
import itertools
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.fakes.stores import FakeServer, Received, Reply

LSX_TOKEN = "lsxs_pt_8f3b2a1c9d7e6f5a4b3c2d1e0f9a8b7c"
API = "/api/2.0"
# The fake's wall clock (epoch seconds): the connector under test is given the same one, so a
# Retry-After date is a known number of seconds away.
FAKE_NOW_S = 1_800_000_000.0
RETRY_AFTER_S = 7
PLACES = Decimal("0.00001")   # the API's amounts carry five decimals


def _number(value: Decimal) -> float:
    # JSON numbers as the API sends them; the connector reads them back as Decimal.
    return float(value.quantize(PLACES, rounding=ROUND_HALF_UP))


def lsx_line(product_id: str, quantity: int, price: str, tax: str, *,
             discount: str = "0", is_return: bool = False) -> dict[str, Any]:
    """A line item: unit `price` and `tax` without tax and after the unit `discount`."""
    count, unit, unit_tax, off = Decimal(quantity), Decimal(price), Decimal(tax), Decimal(discount)
    return {"id": f"line-{product_id}-{quantity}-{price}", "product_id": product_id,
            "quantity": quantity, "price": _number(unit), "tax": _number(unit_tax),
            "discount": _number(off), "price_total": _number(unit * count),
            "tax_total": _number(unit_tax * count), "discount_total": _number(off * count),
            "unit_price": _number(unit), "unit_tax": _number(unit_tax),
            "unit_discount": _number(off), "is_return": is_return, "price_set": False,
            "status": "CONFIRMED", "tax_id": "tax-gst",
            "tax_components": [{"rate_id": "rate-gst", "total_tax": _number(unit_tax * count)}]}


def lsx_sale(sale_id: str, invoice_number: str, lines: list[dict[str, Any]], *,
             status: str = "CLOSED", paid: str | None = None, customer_id: str | None = None,
             sale_date: str = "2026-11-20T21:30:00+00:00", payment_name: str = "Cash",
             **fields: Any) -> dict[str, Any]:
    """A sale whose totals are its lines' sums; paid in full unless `paid` says otherwise."""
    total_price = sum((Decimal(str(line["price_total"])) for line in lines), Decimal(0))
    total_tax = sum((Decimal(str(line["tax_total"])) for line in lines), Decimal(0))
    owed = (total_price + total_tax).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    amount = owed if paid is None else Decimal(paid)
    payments = [{"id": f"pay-{sale_id}", "register_id": "reg-1",
                 "retailer_payment_type_id": f"rpt-{payment_name.lower()}",
                 "payment_type_id": "1", "name": payment_name, "payment_date": sale_date,
                 "amount": _number(amount)}] if amount else []
    sale = {"id": sale_id, "outlet_id": "outlet-1", "register_id": "reg-1", "user_id": "user-1",
            "customer_id": customer_id, "invoice_number": invoice_number,
            "receipt_number": invoice_number, "status": status, "note": "",
            "sale_date": sale_date, "created_at": sale_date, "updated_at": sale_date,
            "total_price": _number(total_price), "total_tax": _number(total_tax),
            "line_items": lines, "payments": payments, "taxes": [], "short_code": "abc123"}
    sale.update(fields)
    return sale


def lsx_return(sale_id: str, invoice_number: str, original: dict[str, Any] | None,
               lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """A return: a new sale of negative lines, `return_for` the original, the money paid back."""
    refund = lsx_sale(sale_id, invoice_number, lines, paid="0", **fields)
    back = Decimal(str(refund["total_price"])) + Decimal(str(refund["total_tax"]))
    refund["payments"] = [{"id": f"pay-{sale_id}", "name": "Cash", "amount": _number(back),
                           "payment_date": refund["sale_date"],
                           "retailer_payment_type_id": "rpt-cash"}]
    refund["return_for"] = original["id"] if original else None
    return refund


PRODUCTS = {
    "prod-mug": {"id": "prod-mug", "name": "Mug", "variant_name": "Mug / Blue",
                 "sku": "MUG-BLUE", "handle": "mug"},
    "prod-tee": {"id": "prod-tee", "name": "T-shirt", "variant_name": "T-shirt / M",
                 "sku": "TEE-M", "handle": "tee"},
    "prod-cap": {"id": "prod-cap", "name": "Cap", "variant_name": "Cap / Red", "sku": "CAP-RED",
                 "handle": "cap"},
    "prod-sock": {"id": "prod-sock", "name": "Socks", "sku": "SOCK-3", "handle": "sock"},
    "prod-hat": {"id": "prod-hat", "name": "Hat", "sku": "HAT-1", "handle": "hat"},
    "prod-discount": {"id": "prod-discount", "name": "Discount", "sku": "vend-discount",
                      "handle": "vend-discount"},
}
CUSTOMERS = {
    "cust-ana": {"id": "cust-ana", "first_name": "Ana", "last_name": "Ruiz",
                 "email": "ana@example.com", "company_name": "", "phone": "021 555 0101",
                 "physical_address_1": "1 Queen St", "physical_city": "Auckland",
                 "physical_postcode": "1010", "physical_country_id": "NZ"},
}


SUPPLIERS = {"sup-1": {"id": "sup-1", "name": "Mug Makers Ltd", "source": "USER"}}
# A supplier consignment's workflow: each status and those it may move to (CANCELLED from any
# but RECEIVED; a RECEIVED or CANCELLED one can no longer change).
CONSIGNMENT_MOVES = {"OPEN": {"SENT", "CANCELLED"}, "SENT": {"DISPATCHED", "RECEIVED", "CANCELLED"},
                     "DISPATCHED": {"RECEIVED", "CANCELLED"}, "RECEIVED": set(),
                     "CANCELLED": set()}


def lsx_consignment(consignment_id: str, reference: str,
                    products: list[tuple[str, int, str]], *, status: str = "OPEN",
                    supplier_id: str | None = "sup-1", kind: str = "SUPPLIER",
                    date: str = "2026-11-18T21:00:00+00:00", **fields: Any) -> dict[str, Any]:
    """A consignment of (product id, count, unit cost) lines, nothing received yet."""
    consignment = {
        "id": consignment_id, "type": kind, "status": status, "name": f"Restock {reference}",
        "reference": reference, "supplier_id": supplier_id, "supplier_invoice": "",
        "outlet_id": "outlet-1", "source_outlet_id": None, "consignment_date": date,
        "due_at": "2026-11-28T21:00:00+00:00", "received_at": None, "created_at": date,
        "updated_at": date, "deleted_at": None,
        "_products": [{"product_id": product, "product_sku": PRODUCTS[product]["sku"],
                       "count": str(count), "received": "0", "cost": cost,
                       "status": "PENDING", "created_at": date, "updated_at": date}
                      for product, count, cost in products]}
    consignment.update(fields)
    return consignment


class FakeLightspeedX(FakeServer):
    """API 2.0 sales, products, customers and search, with a personal token, a global version
    counter bumped on every change, `after`/`before`/`page_size` paging and its rate limit: a
    request past the window's budget gets 429 with Retry-After as an HTTP-date."""

    def __init__(self, sales: list[dict[str, Any]], *, token: str = LSX_TOKEN,
                 budget: int | None = None,
                 consignments: list[dict[str, Any]] = ()) -> None:
        self.token = token
        self.budget = budget          # requests allowed per window (None: no limit)
        self.used = 0
        self.queued: list[Reply] = []
        self._versions = itertools.count(1_978_890_000, 17)
        self.sales: dict[str, dict[str, Any]] = {}
        self.products = {k: dict(v, version=next(self._versions)) for k, v in PRODUCTS.items()}
        self.customers = {k: dict(v, version=next(self._versions)) for k, v in CUSTOMERS.items()}
        self.suppliers = {k: dict(v, version=next(self._versions)) for k, v in SUPPLIERS.items()}
        for sale in sales:
            self.put(sale)
        self.consignments: dict[str, dict[str, Any]] = {}
        for consignment in consignments:
            self.add_consignment(consignment)
        # A list's page size when the request names none (the API does not say its own).
        self.default_page_size = 1000
        super().__init__(self._route)

    def add_consignment(self, consignment: dict[str, Any]) -> None:
        """A new consignment: it and each of its products take the next version."""
        consignment["version"] = next(self._versions)
        for product in consignment["_products"] or ():
            product["version"] = next(self._versions)
        self.consignments[consignment["id"]] = consignment

    def move_consignment(self, consignment_id: str, status: str, *,
                         received: dict[str, int] | None = None, when: str = "") -> None:
        """Move a consignment along its workflow (an illegal move raises, as the API refuses
        it) and record what was received; it takes the next version, as every change does."""
        consignment = self.consignments[consignment_id]
        if status != consignment["status"] and status not in CONSIGNMENT_MOVES[
                consignment["status"]]:
            raise ValueError(f"{consignment['status']} → {status} is not allowed")
        rows = {product["product_id"]: product for product in consignment["_products"]}
        for product_id, count in (received or {}).items():
            if product_id not in rows:      # received without being ordered: no count
                rows[product_id] = {"product_id": product_id, "count": None, "cost": None,
                                    "product_sku": PRODUCTS[product_id]["sku"],
                                    "created_at": when, "updated_at": when}
                consignment["_products"].append(rows[product_id])
            rows[product_id].update(received=str(count), status="SUCCESS",
                                    version=next(self._versions))
        consignment.update(status=status, version=next(self._versions),
                           updated_at=when or consignment["updated_at"])

    def set_count(self, consignment_id: str, product_id: str, count: int, cost: str = "", *,
                  when: str) -> None:
        """Order `count` of a product (added at `cost` when the consignment has none), as
        PUT /consignments/{id}/products does: refused once it was received or cancelled. Only
        the product row changes (the API does not say its consignment's updated_at moves)."""
        consignment = self.consignments[consignment_id]
        if not CONSIGNMENT_MOVES[consignment["status"]]:
            raise ValueError(f"a {consignment['status']} consignment cannot change")
        rows = consignment["_products"]
        row = next((r for r in rows if r["product_id"] == product_id), None)
        if row is None:
            row = {"product_id": product_id, "product_sku": PRODUCTS[product_id]["sku"],
                   "received": "0", "cost": cost, "status": "PENDING", "created_at": when}
            rows.append(row)
        row.update(count=str(count), updated_at=when, version=next(self._versions))

    def remove_product(self, consignment_id: str, product_id: str, *, when: str) -> None:
        """DELETE /consignments/{id}/products/{product_id}: refused once the order was
        dispatched; the row stays in the list with its deleted_at, as other deleted objects do
        [Unverified: the API may leave it out instead]."""
        consignment = self.consignments[consignment_id]
        if consignment["status"] not in ("OPEN", "SENT"):
            raise ValueError(f"a {consignment['status']} consignment keeps its products")
        for product in consignment["_products"]:
            if product["product_id"] == product_id:
                product.update(deleted_at=when, updated_at=when, version=next(self._versions))

    def put(self, sale: dict[str, Any], **changes: Any) -> None:
        """Add or change a sale: it takes the next version, as every change does."""
        sale.update(changes, version=next(self._versions))
        self.sales[sale["id"]] = sale

    def _route(self, request: Received) -> Reply:
        if self.queued:
            return self.queued.pop(0)
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply(401, {"error": "Unauthorized",
                               "message": "The access token is missing, expired or revoked."})
        if self.budget is not None:
            self.used += 1
            if self.used > self.budget:
                self.used = 0   # the window the client waits out
                when = email.utils.formatdate(FAKE_NOW_S + RETRY_AFTER_S, usegmt=True)
                return Reply(429, {"error": "Too Many Requests",
                                   "message": "Rate limiting enforced"}, {"Retry-After": when})
        reply = self._answer(request)
        if self.budget is not None:
            reply.headers.update({"X-RateLimit-Limit": str(self.budget),
                                  "X-RateLimit-Remaining": str(self.budget - self.used)})
        return reply

    def _answer(self, request: Received) -> Reply:
        path = request.path.removeprefix(API)
        if path == "/sales":
            return self._page(request, self.sales.values())
        if path == "/consignments":
            kind = request.param("type")
            return self._page(request, [{k: v for k, v in c.items() if not k.startswith("_")}
                                        for c in self.consignments.values()
                                        if kind is None or c["type"] == kind])
        if path.startswith("/consignments/") and path.endswith("/products"):
            consignment = self.consignments.get(path.split("/")[2])
            if consignment is not None and consignment["_products"] is not None:
                return self._page(request, consignment["_products"])
        if path == "/search" and request.param("type") == "sales":
            number = request.param("invoice_number")
            return Reply(200, {"data": [s for s in self.sales.values()
                                        if number is None or s["invoice_number"] == number]})
        for prefix, table in (("/sales/", self.sales), ("/products/", self.products),
                              ("/customers/", self.customers), ("/suppliers/", self.suppliers)):
            if path.startswith(prefix) and path[len(prefix):] in table:
                return Reply(200, {"data": table[path[len(prefix):]]})
        return Reply(404, {"error": "Not Found", "message": f"{request.path} was not found."})

    def _page(self, request: Received, records: Iterable[dict[str, Any]]) -> Reply:
        after = int(request.param("after") or 0)
        before = int(request.param("before") or 0)
        size = int(request.param("page_size") or self.default_page_size)
        rows = sorted((s for s in records if s["version"] > after
                       and (not before or s["version"] < before)), key=lambda s: s["version"])
        page = rows[:size]
        version = ({"min": page[0]["version"], "max": page[-1]["version"]} if page else None)
        return Reply(200, {"data": page, "version": version})
