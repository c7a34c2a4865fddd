"""For the benchmark and the fault tests: a CSV connection to a sandbox, and the books check."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from connex_desktop.app import App, quickbooks_key_prefix
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money
from connex_desktop.quickbooks.auth import QuickBooksAuth, save_credentials
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.quickbooks.ratelimit import BackoffPolicy, RateLimiter
from connex_desktop.sandbox.seed import CATALOG
from connex_desktop.sync.engine import Engine
from tests.bench.orders import ExpectedOrder

Entity = Mapping[str, Any]
CATALOG_BY_SKU = {item.sku: item for item in CATALOG}


def connect_csv(app: App, sandbox: Any, csv_path: Path, *, name: str = "Web store",
                mode: TransactionMode = TransactionMode.INVOICES_WITH_PAYMENTS,
                use_qb_numbering: bool = False) -> Connection:
    """A CSV connection booking into the sandbox, with tokens saved as `qb connect` saves them.

    `sandbox` is a SandboxServer or anything with its connect attributes (base_url, client_id,
    realm_id, client_secret, refresh_token).
    """
    connection = app.connections.add(Connection(
        name=name, source_kind="csv", mode=mode, source_settings={"path": str(csv_path)},
        use_qb_numbering=use_qb_numbering,
        quickbooks=QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                                     realm_id=sandbox.realm_id)))
    assert connection.id is not None
    save_credentials(app.secrets, quickbooks_key_prefix(connection.id),
                     client_secret=sandbox.client_secret, refresh_token=sandbox.refresh_token)
    return connection


# Retries back off in milliseconds, and requests are not paced: tests about faults and crashes
# should not wait (the sandbox they use does not throttle).
FAST_BACKOFF = BackoffPolicy(base_s=0.02, cap_s=0.1, throttled_s=0.1)
UNPACED_PER_SECOND = 10_000


def fast_engine(app: App, client_class: type[QuickBooksClient] = QuickBooksClient) -> Engine:
    """The app's engine, with a client (of `client_class`) that neither paces nor waits long."""

    def client_for(connection: Connection) -> QuickBooksClient:
        assert connection.id is not None
        auth = QuickBooksAuth(connection.quickbooks, app.secrets_for(connection),
                              quickbooks_key_prefix(connection.id))
        limiter = RateLimiter(per_minute=UNPACED_PER_SECOND * 60,
                              per_second=UNPACED_PER_SECOND)
        return client_class(connection.quickbooks, auth, backoff=FAST_BACKOFF, limiter=limiter)

    return Engine(runs=app.runs, ledger=app.ledger, cursors=app.cursors,
                  connections=app.connections, secrets=app.secrets,
                  source_for=app.source_for, client_for=client_for,
                  source_kinds=app.source_kinds, references=app.references)


def _linked_invoice_ids(payment: Entity) -> list[str]:
    return [str(link["TxnId"]) for line in payment.get("Line", [])
            for link in line.get("LinkedTxn", []) if link.get("TxnType") == "Invoice"]


def books_problems(invoices: Iterable[Entity], payments: Iterable[Entity],
                   orders: Iterable[ExpectedOrder]) -> list[str]:
    """Everything wrong with the company's invoices and payments, against the orders.

    Each paid order must be exactly one invoice numbered with the order number and totalling the
    order to the cent, with exactly one payment of that total applied to it and nothing left to
    pay; nothing else may be there. Returns plain sentences (empty when the books are right), so
    an assertion shows every problem at once.
    """
    expected = {order.number: order for order in orders}
    invoices = list(invoices)
    payments = list(payments)
    problems: list[str] = []
    counts = Counter(str(invoice.get("DocNumber")) for invoice in invoices)
    for number, count in sorted(counts.items()):
        if number not in expected:
            problems.append(f"invoice {number} belongs to no order ({count} of them)")
        elif count > 1:
            problems.append(f"order {number} has {count} invoices")
    missing = sorted(set(expected) - set(counts))
    if missing:
        problems.append(f"{len(missing)} orders have no invoice: {', '.join(missing[:10])}")
    paid_to: dict[str, list[Entity]] = defaultdict(list)
    for payment in payments:
        linked = _linked_invoice_ids(payment)
        if len(linked) != 1:
            problems.append(f"payment {payment.get('Id')} is applied to {len(linked)} invoices")
        for invoice_id in linked:
            paid_to[invoice_id].append(payment)
    for invoice in invoices:
        order = expected.get(str(invoice.get("DocNumber")))
        if order is None:
            continue
        total = money(str(invoice["TotalAmt"]))
        if total != order.total:
            problems.append(f"invoice {order.number} totals {total}, the order {order.total}")
        its_payments = paid_to.pop(str(invoice["Id"]), [])
        paid = [money(str(payment["TotalAmt"])) for payment in its_payments]
        if paid != [order.total]:
            problems.append(f"invoice {order.number} has payments {[str(p) for p in paid]}, "
                            f"expected one of {order.total}")
        balance = money(str(invoice.get("Balance", "0")))
        if balance != 0 and paid == [order.total]:
            problems.append(f"invoice {order.number} still has a balance of {balance}")
    for invoice_id, stray in sorted(paid_to.items()):
        problems.append(f"{len(stray)} payments applied to invoice Id {invoice_id}, which is not "
                        "one of the orders' invoices")
    return problems


_ORDER_MARKER = re.compile(r"\bOrder ([A-Z]+-\d+)\b")


def _by_order(documents: Iterable[Entity]) -> dict[str, list[Entity]]:
    """Documents grouped by the order their memo names (every document Connex books has one)."""
    grouped: dict[str, list[Entity]] = defaultdict(list)
    for document in documents:
        found = _ORDER_MARKER.search(str(document.get("PrivateNote") or ""))
        grouped[found.group(1) if found else ""].append(document)
    return grouped


def expected_purchase_orders(order: ExpectedOrder) -> dict[str, Decimal]:
    """Vendor name -> PO total: each line's item's default vendor and purchase cost × quantity."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for line in order.lines:
        item = CATALOG_BY_SKU[line.sku]
        if item.vendor and item.purchase_cost:
            totals[item.vendor] += money(item.purchase_cost * line.quantity)
    return dict(totals)


def sales_order_problems(company: Callable[[str], list[Entity]],
                         orders: Iterable[ExpectedOrder]) -> list[str]:
    """Everything wrong with the books in mode sales-orders-invoices-pos (any numbering).

    Per order exactly: one estimate and one invoice of the order's total, each numbered (in its
    own sequence with QuickBooks numbering, so not necessarily alike), the invoice linked to the
    estimate (which it closes), one payment of the total applied to the invoice, and one
    purchase order per vendor for the cost of that vendor's items.
    """
    expected = {order.number: order for order in orders}
    problems: list[str] = []
    kinds = ("Estimate", "Invoice", "Payment", "PurchaseOrder")
    grouped = {kind: _by_order(company(kind)) for kind in kinds}
    for kind in kinds:
        strays = sorted(set(grouped[kind]) - set(expected))
        if strays:
            problems.append(f"{kind}s for no order: {strays[:10]}")
    for number, order in sorted(expected.items()):
        found = {kind: grouped[kind].get(number, []) for kind in kinds}
        counts = {kind: len(found[kind]) for kind in ("Estimate", "Invoice", "Payment")}
        if set(counts.values()) != {1}:
            problems.append(f"order {number} has {counts}")
            continue
        (estimate,), (invoice,), (payment,) = (found["Estimate"], found["Invoice"],
                                               found["Payment"])
        for kind, document in (("estimate", estimate), ("invoice", invoice),
                               ("payment", payment)):
            total = money(str(document["TotalAmt"]))
            if total != order.total:
                problems.append(f"order {number}: {kind} totals {total}, the order {order.total}")
        if not invoice.get("DocNumber") or not estimate.get("DocNumber"):
            problems.append(f"order {number}: invoice number {invoice.get('DocNumber')!r}, "
                            f"estimate number {estimate.get('DocNumber')!r}")
        links = {(link.get("TxnType"), str(link.get("TxnId"))) for link in invoice["LinkedTxn"]}
        if ("Estimate", str(estimate["Id"])) not in links:
            problems.append(f"order {number}: the invoice is not linked to its estimate")
        if estimate.get("TxnStatus") != "Closed":
            problems.append(f"order {number}: the estimate is {estimate.get('TxnStatus')}")
        if _linked_invoice_ids(payment) != [str(invoice["Id"])]:
            problems.append(f"order {number}: the payment is not applied to its invoice")
        purchase_orders: Counter[str] = Counter()
        po_totals: dict[str, Decimal] = {}
        for po in found["PurchaseOrder"]:
            vendor = str(po["VendorRef"].get("name", ""))
            purchase_orders[vendor] += 1
            po_totals[vendor] = money(str(po["TotalAmt"]))
        wanted = expected_purchase_orders(order)
        if dict(purchase_orders) != dict.fromkeys(wanted, 1) or po_totals != wanted:
            problems.append(f"order {number}: purchase orders {dict(purchase_orders)} totalling "
                            f"{po_totals}, expected one each of {wanted}")
    for kind in ("Estimate", "Invoice"):
        numbers = Counter(str(document.get("DocNumber")) for document in company(kind))
        twice = sorted(number for number, count in numbers.items() if count > 1)
        if twice:
            problems.append(f"{kind.lower()} numbers used twice: {twice[:10]}")
    return problems


def sales_receipt_problems(receipts: Iterable[Entity],
                           orders: Iterable[ExpectedOrder]) -> list[str]:
    """Per paid order exactly one sales receipt of its total; no receipt for anything else."""
    expected = {order.number: order for order in orders}
    grouped = _by_order(receipts)
    problems = [f"sales receipts for no order: {sorted(set(grouped) - set(expected))[:10]}"
                ] if set(grouped) - set(expected) else []
    for number, order in sorted(expected.items()):
        totals = [money(str(receipt["TotalAmt"])) for receipt in grouped.get(number, [])]
        if totals != [order.total]:
            problems.append(f"order {number} has sales receipts {[str(t) for t in totals]}, "
                            f"expected one of {order.total}")
    return problems
