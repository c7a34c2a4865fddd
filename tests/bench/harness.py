"""For the benchmark and the fault tests: a CSV connection to a sandbox, and the books check."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from connex_desktop.app import App, quickbooks_key_prefix
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money
from connex_desktop.quickbooks.auth import save_credentials
from tests.bench.orders import ExpectedOrder

Entity = Mapping[str, Any]


def connect_csv(app: App, sandbox: Any, csv_path: Path, *, name: str = "Web store",
                mode: TransactionMode = TransactionMode.INVOICES_WITH_PAYMENTS) -> Connection:
    """A CSV connection booking into the sandbox, with tokens saved as `qb connect` saves them.

    `sandbox` is a SandboxServer or anything with its connect attributes (base_url, client_id,
    realm_id, client_secret, refresh_token).
    """
    connection = app.connections.add(Connection(
        name=name, source_kind="csv", mode=mode, source_settings={"path": str(csv_path)},
        quickbooks=QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                                     realm_id=sandbox.realm_id)))
    assert connection.id is not None
    save_credentials(app.secrets, quickbooks_key_prefix(connection.id),
                     client_secret=sandbox.client_secret, refresh_token=sandbox.refresh_token)
    return connection


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
