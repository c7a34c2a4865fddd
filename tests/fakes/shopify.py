"""A local Shopify GraphQL Admin API: orders, search filters, Relay cursors, a cost bucket."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute,
    get_named_type,
    parse,
    validate,
    value_from_ast,
)

from tests.fakes.stores import JsonHandler, LoopbackHttp

# The part of Shopify's Admin GraphQL API schema the connector reads, with Shopify's names and
# types. A query naming any other field fails validation, as it would against Shopify.
SCHEMA_SDL = """
scalar DateTime
scalar Decimal

enum OrderSortKeys { CREATED_AT UPDATED_AT PROCESSED_AT ID }
enum OrderDisplayFinancialStatus {
  AUTHORIZED EXPIRED PAID PARTIALLY_PAID PARTIALLY_REFUNDED PENDING REFUNDED VOIDED
}
enum OrderDisplayFulfillmentStatus {
  FULFILLED IN_PROGRESS ON_HOLD OPEN PARTIALLY_FULFILLED PENDING_FULFILLMENT REQUEST_DECLINED
  RESTOCKED SCHEDULED UNFULFILLED
}
enum OrderTransactionKind {
  AUTHORIZATION CAPTURE SALE VOID REFUND CHANGE EMV_AUTHORIZATION SUGGESTED_REFUND
}
enum OrderTransactionStatus { PENDING FAILURE SUCCESS ERROR AWAITING_RESPONSE UNKNOWN }

type Query {
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys,
         reverse: Boolean): OrderConnection!
  order(id: ID!): Order
}

type PageInfo { hasNextPage: Boolean! endCursor: String }
type MoneyV2 { amount: Decimal! currencyCode: String! }
type MoneyBag { shopMoney: MoneyV2! presentmentMoney: MoneyV2! }
type Customer { id: ID! displayName: String! }
type MailingAddress {
  name: String company: String address1: String address2: String city: String
  provinceCode: String zip: String countryCodeV2: String phone: String
}
type TaxLine { title: String! rate: Float priceSet: MoneyBag! }
type DiscountAllocation { allocatedAmountSet: MoneyBag! }
type LineItem {
  sku: String name: String! quantity: Int! originalUnitPriceSet: MoneyBag!
  discountAllocations: [DiscountAllocation!]! taxLines: [TaxLine!]!
}
type LineItemConnection { pageInfo: PageInfo! nodes: [LineItem!]! }
type ShippingLine {
  title: String! code: String originalPriceSet: MoneyBag! discountedPriceSet: MoneyBag!
  taxLines: [TaxLine!]!
}
type ShippingLineConnection { pageInfo: PageInfo! nodes: [ShippingLine!]! }
type OrderTransaction {
  kind: OrderTransactionKind! status: OrderTransactionStatus! gateway: String
  processedAt: DateTime amountSet: MoneyBag!
}
type Refund { id: ID! createdAt: DateTime totalRefundedSet: MoneyBag! }
type Order {
  id: ID! name: String! createdAt: DateTime! processedAt: DateTime! updatedAt: DateTime!
  cancelledAt: DateTime
  displayFinancialStatus: OrderDisplayFinancialStatus
  displayFulfillmentStatus: OrderDisplayFulfillmentStatus!
  currencyCode: String! taxesIncluded: Boolean! email: String poNumber: String
  tags: [String!]! sourceName: String paymentGatewayNames: [String!]!
  customer: Customer billingAddress: MailingAddress shippingAddress: MailingAddress
  subtotalPriceSet: MoneyBag totalDiscountsSet: MoneyBag totalShippingPriceSet: MoneyBag!
  totalTaxSet: MoneyBag totalPriceSet: MoneyBag!
  lineItems(first: Int, after: String): LineItemConnection!
  shippingLines(first: Int, after: String): ShippingLineConnection!
  transactions(first: Int): [OrderTransaction!]!
  refunds(first: Int): [Refund!]!
}
type OrderConnection { pageInfo: PageInfo! nodes: [Order!]! }
"""

MAX_QUERY_COST = 1000
BUCKET_SIZE = 2000.0
RESTORE_RATE_PER_S = 100.0
CONNECTION_COST = 2
UNAUTHORIZED_TEXT = "[API] Invalid API key or access token (unrecognized login or wrong password)"
PATH = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2}|unstable)/graphql\.json$")


# -- fixture orders, in the GraphQL response shape ----------------------------------------------

def money_bag(amount: Decimal | str, currency: str = "USD") -> dict[str, Any]:
    """A MoneyBag as Shopify sends it: decimal strings, not always with two places."""
    text = f"{Decimal(amount).normalize():f}"
    text = text if "." in text else f"{text}.0"
    money = {"amount": text, "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def tax_line(amount: str, rate: str = "0.0625", title: str = "State Tax") -> dict[str, Any]:
    return {"title": title, "rate": float(rate), "priceSet": money_bag(amount)}


def line_item(sku: str, name: str, quantity: int, unit_price: str, *,
              discounts: tuple[str, ...] = (), taxes: tuple[dict[str, Any], ...] = ()
              ) -> dict[str, Any]:
    return {"sku": sku, "name": name, "quantity": quantity,
            "originalUnitPriceSet": money_bag(unit_price),
            "discountAllocations": [{"allocatedAmountSet": money_bag(d)} for d in discounts],
            "taxLines": list(taxes)}


def shipping_line(price: str, discounted: str | None = None, *,
                  taxes: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    return {"title": "Standard", "code": "STD", "originalPriceSet": money_bag(price),
            "discountedPriceSet": money_bag(discounted if discounted is not None else price),
            "taxLines": list(taxes)}


def transaction(amount: str, *, kind: str = "SALE", status: str = "SUCCESS",
                gateway: str = "shopify_payments", at: str = "") -> dict[str, Any]:
    return {"kind": kind, "status": status, "gateway": gateway, "processedAt": at or None,
            "amountSet": money_bag(amount)}


def address(name: str = "Jane Doe", company: str | None = "Acme LLC") -> dict[str, Any]:
    return {"name": name, "company": company, "address1": "1 Main St", "address2": "",
            "city": "Austin", "provinceCode": "TX", "zip": "78701", "countryCodeV2": "US",
            "phone": None}


def _amount(bag: Mapping[str, Any]) -> Decimal:
    return Decimal(bag["shopMoney"]["amount"])


def order(number: int, *, created: str, lines: list[dict[str, Any]],
          shipping: list[dict[str, Any]] | None = None, updated: str = "",
          processed: str = "", financial: str = "PAID", fulfillment: str = "FULFILLED",
          taxes_included: bool = False, transactions: list[dict[str, Any]] | None = None,
          refunds: list[dict[str, Any]] | None = None, cancelled: str | None = None,
          order_discount: str = "0", total_tax: str | None = None,
          total: str | None = None, currency: str = "USD", tags: tuple[str, ...] = (),
          source_name: str = "web") -> dict[str, Any]:
    """An order whose totals Shopify's way: line prices less allocations, plus shipping and tax.

    `order_discount` is an order-level amount not allocated to lines; `total_tax` and `total`
    override the computed figures (for a store that rounds tax per order).
    """
    shipping = shipping or []
    line_net = sum((Decimal(item["quantity"]) * _amount(item["originalUnitPriceSet"])
                    - sum((_amount(d["allocatedAmountSet"]) for d in item["discountAllocations"]),
                          Decimal(0))
                    for item in lines), Decimal(0))
    allocated = sum((_amount(d["allocatedAmountSet"])
                     for item in lines for d in item["discountAllocations"]), Decimal(0))
    shipping_total = sum((_amount(s["discountedPriceSet"]) for s in shipping), Decimal(0))
    shipping_discount = sum((_amount(s["originalPriceSet"]) - _amount(s["discountedPriceSet"])
                             for s in shipping), Decimal(0))
    tax = Decimal(total_tax) if total_tax is not None else sum(
        (_amount(t["priceSet"]) for item in [*lines, *shipping] for t in item["taxLines"]),
        Decimal(0))
    subtotal = line_net - Decimal(order_discount)
    grand = subtotal + shipping_total + (Decimal(0) if taxes_included else tax)
    created_at = created
    paid = transactions if transactions is not None else (
        [transaction(str(grand), at=created_at)] if financial == "PAID" else [])
    return {
        "id": f"gid://shopify/Order/{5618230000 + number}",
        "name": f"#{number}",
        "createdAt": created_at,
        "processedAt": processed or created_at,
        "updatedAt": updated or created_at,
        "cancelledAt": cancelled,
        "displayFinancialStatus": financial,
        "displayFulfillmentStatus": fulfillment,
        "currencyCode": currency,
        "taxesIncluded": taxes_included,
        "email": f"buyer{number}@example.com",
        "poNumber": None,
        "tags": list(tags),
        "sourceName": source_name,
        "paymentGatewayNames": sorted({str(t["gateway"]) for t in paid if t.get("gateway")}),
        "customer": {"id": f"gid://shopify/Customer/{7000 + number}", "displayName": "Jane Doe"},
        "billingAddress": address(),
        "shippingAddress": address(),
        "subtotalPriceSet": money_bag(subtotal, currency),
        "totalDiscountsSet": money_bag(allocated + shipping_discount + Decimal(order_discount)),
        "totalShippingPriceSet": money_bag(shipping_total),
        "totalTaxSet": money_bag(tax),
        "totalPriceSet": money_bag(Decimal(total) if total is not None else grand),
        "lineItems": lines,
        "shippingLines": shipping,
        "transactions": paid,
        "refunds": refunds or [],
    }


# -- the search string --------------------------------------------------------------------------

_TOKEN = re.compile(r"""\s*(\(|\)|(?:[a-z_]+):(?:>=|<=|>|<)?(?:'[^']*'|"[^"]*"|[^\s()]+)|\S+)""")
_TERM = re.compile(r"""^(?P<key>[a-z_]+):(?P<op>>=|<=|>|<)?(?P<value>'[^']*'|"[^"]*"|\S+)$""")
DATE_KEYS = {"created_at": "createdAt", "updated_at": "updatedAt", "processed_at": "processedAt"}


class SearchError(ValueError):
    """A search string this fake (and, by its documentation, Shopify) does not understand."""


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _term_matches(term: str, node: Mapping[str, Any]) -> bool:
    match = _TERM.match(term)
    if not match:
        raise SearchError(f"cannot read search term {term!r}")
    key, op, value = match["key"], match["op"] or "", match["value"].strip("'\"")
    if key in DATE_KEYS:
        if not op or not match["value"].startswith(("'", '"')):
            raise SearchError(f"a date filter needs a comparator and a quoted date: {term!r}")
        left, right = _instant(node[DATE_KEYS[key]]), _instant(value)
        return {">=": left >= right, "<=": left <= right, ">": left > right,
                "<": left < right}[op]
    if key == "status":
        if value != "any":
            raise SearchError(f"this fake only knows status:any, not {term!r}")
        return True
    if key == "financial_status":
        return str(node["displayFinancialStatus"]).lower() == value
    if key == "name":
        return str(node["name"]).lstrip("#") == value.lstrip("#")
    raise SearchError(f"unknown search filter {key!r}")


def search_matches(search: str, node: Mapping[str, Any]) -> bool:
    """Whether `node` matches `search`: terms ANDed, `OR` between them, parentheses grouping."""
    tokens = [t for t in _TOKEN.findall(search) if t.strip()]
    position = 0

    def any_of() -> bool:
        nonlocal position
        result = all_of()
        while position < len(tokens) and tokens[position] == "OR":
            position += 1
            result = all_of() or result
        return result

    def all_of() -> bool:
        nonlocal position
        result = True
        while position < len(tokens) and tokens[position] not in ("OR", ")"):
            if tokens[position] == "AND":
                position += 1
                continue
            if tokens[position] == "(":
                position += 1
                inner = any_of()
                if position >= len(tokens) or tokens[position] != ")":
                    raise SearchError(f"unbalanced parentheses in {search!r}")
                position += 1
            else:
                inner = _term_matches(tokens[position], node)
                position += 1
            result = inner and result
        return result

    outcome = any_of()
    if position != len(tokens):
        raise SearchError(f"cannot read {search!r}")
    return outcome


# -- Relay connections --------------------------------------------------------------------------

def _cursor(payload: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode(cursor: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except ValueError as exc:
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}") from exc
    if not isinstance(decoded, dict):
        raise GraphQLError(f"Invalid cursor for current pagination sort: {cursor}")
    return decoded


def _connection(items: list[Any], first: int | None, after: str | None,
                key: Callable[[int, Any], Any]) -> dict[str, Any]:
    """A page of `items` after the cursor `after`; cursors carry the last item's sort key."""
    if first is None or not 0 < first <= 250:
        raise GraphQLError("you must provide first, between 1 and 250")
    start = 0
    if after:
        last = _decode(after).get("last")
        keys = [json.loads(json.dumps(key(index, item))) for index, item in enumerate(items)]
        start = next((i for i, k in enumerate(keys) if k > last), len(items))
    page = items[start:start + first]
    end = _cursor({"last": key(start + len(page) - 1, page[-1])}) if page else None
    return {"pageInfo": {"hasNextPage": start + len(page) < len(items), "endCursor": end},
            "nodes": page}


# -- query cost ---------------------------------------------------------------------------------

def _argument(field_node: FieldNode, name: str, definition: Any,
              variables: Mapping[str, Any]) -> Any:
    for argument in field_node.arguments or ():
        if argument.name.value == name:
            return value_from_ast(argument.value, definition.args[name].type, variables)
    return None


def requested_cost(schema: GraphQLSchema, operation: OperationDefinitionNode,
                   variables: Mapping[str, Any]) -> int:
    """The worst-case cost Shopify documents: each object 1, each connection 2 plus `first`
    times its node, a list with `first` that many times its item; scalars are free."""

    def selection_cost(selection_set: SelectionSetNode | None, parent: GraphQLObjectType) -> int:
        total = 0
        for selection in selection_set.selections if selection_set else ():
            if not isinstance(selection, FieldNode):
                raise GraphQLError("this fake does not price fragments")
            total += field_cost(selection, parent)
        return total

    def field_cost(node: FieldNode, parent: GraphQLObjectType) -> int:
        definition = parent.fields[node.name.value]
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            return 0
        if named.name.endswith("Connection"):
            first = _argument(node, "first", definition, variables) or 0
            nodes = next((s for s in node.selection_set.selections  # type: ignore[union-attr]
                          if isinstance(s, FieldNode) and s.name.value == "nodes"), None)
            if nodes is None:
                return CONNECTION_COST
            node_type = get_named_type(named.fields["nodes"].type)
            assert isinstance(node_type, GraphQLObjectType)
            return CONNECTION_COST + first * (1 + selection_cost(nodes.selection_set, node_type))
        inner = definition.type.of_type if isinstance(definition.type, GraphQLNonNull) else (
            definition.type)
        each = 1 + selection_cost(node.selection_set, named)
        if isinstance(inner, GraphQLList) and "first" in definition.args:
            return (_argument(node, "first", definition, variables) or 1) * each
        return each

    root = schema.query_type
    assert root is not None
    return selection_cost(operation.selection_set, root)


def _objects_in(value: Any) -> int:
    """What a response really cost: one point per object returned."""
    if isinstance(value, dict):
        return (1 if "pageInfo" not in value else 0) + sum(_objects_in(v) for v in value.values())
    if isinstance(value, list):
        return sum(_objects_in(v) for v in value)
    return 0


# -- the server ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class GraphQLRequest:
    """One request as the fake store saw it."""

    path: str
    headers: dict[str, str]
    query: str
    variables: dict[str, Any]

    @property
    def search(self) -> str:
        """The `query:` search string sent to `orders`, from the variables."""
        return str(self.variables.get("query", ""))


@dataclass
class Clock:
    """Fake time shared by the store's bucket and the connector's pauses."""

    now_s: float = 1_000.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_s += seconds


class FakeShopify:
    """POST /admin/api/{version}/graphql.json over a fixture set of orders.

    Checks X-Shopify-Access-Token, validates and executes the query against SCHEMA_SDL, filters
    and sorts by the search string and `sortKey`, pages with Relay cursors, charges the
    requested cost to a leaky bucket (refunding the unused part) and answers THROTTLED in the
    body with HTTP 200 when the bucket cannot cover a query.
    """

    def __init__(self, orders: list[dict[str, Any]], *, token: str,
                 clock: Callable[[], float] | None = None,
                 bucket_size: float = BUCKET_SIZE,
                 restore_rate: float = RESTORE_RATE_PER_S, cost_factor: int = 1,
                 refund_unused: bool = True) -> None:
        self.orders = orders
        self.token = token
        self.clock = clock or Clock()
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self.available = bucket_size
        # A store that prices queries higher than documented, or keeps the whole requested cost.
        self.cost_factor = cost_factor
        self.refund_unused = refund_unused
        self._refilled_at = self.clock()
        self.received: list[GraphQLRequest] = []
        self.schema = build_schema(SCHEMA_SDL)
        self._wire_resolvers()
        self._lock = threading.Lock()
        fake = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, reply = fake.answer(self.path, dict(self.headers.items()), body)
                self.send_json(status, reply)

        self._http = LoopbackHttp(Handler)

    @property
    def url(self) -> str:
        return self._http.url

    @property
    def searches(self) -> list[str]:
        return [r.search for r in self.received if "orders(" in r.query]

    def __enter__(self) -> FakeShopify:
        self._http.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.stop()

    # -- resolvers ------------------------------------------------------------------------------

    def _wire_resolvers(self) -> None:
        query_type = self.schema.query_type
        order_type = self.schema.type_map["Order"]
        assert query_type is not None and isinstance(order_type, GraphQLObjectType)
        query_type.fields["orders"].resolve = self._resolve_orders
        query_type.fields["order"].resolve = lambda _root, _info, id: next(
            (o for o in self.orders if o["id"] == id), None)

        def nested(name: str) -> Callable[..., Any]:
            def resolve(node: Mapping[str, Any], _info: Any, first: int | None = None,
                        after: str | None = None) -> Any:
                return _connection(node[name], first, after, lambda index, _item: index)
            return resolve

        def listed(name: str) -> Callable[..., Any]:
            def resolve(node: Mapping[str, Any], _info: Any, first: int | None = None) -> Any:
                return node[name][:first] if first else node[name]
            return resolve

        order_type.fields["lineItems"].resolve = nested("lineItems")
        order_type.fields["shippingLines"].resolve = nested("shippingLines")
        order_type.fields["transactions"].resolve = listed("transactions")
        order_type.fields["refunds"].resolve = listed("refunds")

    def _resolve_orders(self, _root: Any, _info: Any, first: int | None = None,
                        after: str | None = None, query: str | None = None,
                        sortKey: str = "ID", reverse: bool = False) -> Any:
        try:
            matching = [o for o in self.orders if search_matches(query or "", o)]
        except SearchError as exc:
            raise GraphQLError(str(exc)) from exc
        field_name = {"CREATED_AT": "createdAt", "UPDATED_AT": "updatedAt",
                      "PROCESSED_AT": "processedAt"}.get(sortKey)

        def sort_key(_index: int, item: Mapping[str, Any]) -> list[Any]:
            value = _instant(item[field_name]).timestamp() if field_name else 0
            return [value, item["id"]]

        matching.sort(key=lambda item: sort_key(0, item), reverse=reverse)
        return _connection(matching, first, after, sort_key)

    # -- one request ----------------------------------------------------------------------------

    def answer(self, path: str, headers: Mapping[str, str], body: bytes
               ) -> tuple[int, dict[str, Any]]:
        headers = {k.lower(): v for k, v in headers.items()}
        if not PATH.match(path):
            return 404, {"errors": "Not Found"}
        if headers.get("x-shopify-access-token") != self.token:
            return 401, {"errors": UNAUTHORIZED_TEXT}
        try:
            request = json.loads(body)
        except ValueError:
            return 400, {"errors": "Bad Request"}
        query, variables = request.get("query", ""), request.get("variables") or {}
        with self._lock:
            self.received.append(GraphQLRequest(path, headers, query, variables))
            return 200, self._execute(query, variables)

    def _execute(self, text: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            document = parse(text)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        problems = validate(self.schema, document)
        if problems:
            return {"errors": [p.formatted for p in problems]}
        operation = next(d for d in document.definitions
                         if isinstance(d, OperationDefinitionNode))
        try:
            cost = self.cost_factor * requested_cost(self.schema, operation, variables)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        if cost > MAX_QUERY_COST:
            return {"errors": [{
                "message": f"Query cost is {cost}, which exceeds the single query max cost "
                           f"limit ({MAX_QUERY_COST}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost,
                               "maxCost": MAX_QUERY_COST}}]}
        self._refill()
        if cost > self.available:
            return {"errors": [{"message": "Throttled",
                                "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": self._cost(cost, None)}}
        result = execute(self.schema, document, variable_values=variables)
        data = result.data
        actual = min(cost, _objects_in(data)) if data and self.refund_unused else cost
        self.available -= actual
        reply: dict[str, Any] = {"data": data, "extensions": {"cost": self._cost(cost, actual)}}
        if result.errors:
            reply["errors"] = [e.formatted for e in result.errors]
        return reply

    def _refill(self) -> None:
        now = self.clock()
        self.available = min(self.bucket_size,
                             self.available + (now - self._refilled_at) * self.restore_rate)
        self._refilled_at = now

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual,
                "throttleStatus": {"maximumAvailable": self.bucket_size,
                                   "currentlyAvailable": self.available,
                                   "restoreRate": self.restore_rate}}
