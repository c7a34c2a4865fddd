"""Classes and locations on the documents, where the company tracks them, to the cent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from connex_desktop.core.connection import QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from tests.sync.conftest import connect, docs, money_of, row, write_orders
from tests.sync.test_refunds import TOTAL, order_rows

D = Decimal
MAPPING = QuickBooksMapping(class_name="Retail Shop", location_name="Portland")
# 2×349.00 tent, shipping 9.95, order discount 20.00, tax 12.00 → 699.95; paid in full
ORDER = [row("C-1", "TNT-2P-GRN", "2", "349.00", payment_status="paid", payment_method="Visa",
             shipping_amount="9.95", order_discount="20.00", tax_amount="12.00")]
ORDER_TOTAL = D("699.95")
CLASSED_LINES = ("SalesItemLineDetail", "DiscountLineDetail", "ItemBasedExpenseLineDetail")


def _company(kind: str) -> Iterator[SandboxServer]:
    with SandboxServer(kind=kind) as server:
        yield server


@pytest.fixture
def tracked() -> Iterator[SandboxServer]:
    """Classes and locations per transaction."""
    yield from _company("us-tracked")


@pytest.fixture
def line_classes() -> Iterator[SandboxServer]:
    """A class on each line; no locations."""
    yield from _company("us-line-classes")


def _named(sandbox: SandboxServer, entity: str, name: str) -> str:
    return next(r["Id"] for r in docs(sandbox, entity) if r["Name"] == name)


def _classed_lines(document: dict) -> list[dict]:
    return [line for line in document["Line"] if line["DetailType"] in CLASSED_LINES]


def test_a_company_tracking_per_transaction_gets_them_on_every_document(app, tracked,
                                                                         tmp_path):
    path = write_orders(tmp_path / "orders.csv", ORDER)
    connection = connect(app, tracked, "Shop", TransactionMode.SALES_ORDERS_INVOICES_POS, path,
                         mapping=MAPPING)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors)
    retail, portland = _named(tracked, "Class", "Retail Shop"), _named(tracked, "Department",
                                                                       "Portland")
    (estimate,), (invoice,) = docs(tracked, "Estimate"), docs(tracked, "Invoice")
    (purchase,) = docs(tracked, "PurchaseOrder")
    for document in (estimate, invoice, purchase):
        assert document["ClassRef"]["value"] == retail
        assert all("ClassRef" not in line[line["DetailType"]]
                   for line in _classed_lines(document))
    assert estimate["DepartmentRef"]["value"] == invoice["DepartmentRef"]["value"] == portland
    assert "DepartmentRef" not in purchase   # Intuit documents no location on a PO
    assert money_of(invoice["TotalAmt"]) == money_of(estimate["TotalAmt"]) == ORDER_TOTAL
    assert len(docs(tracked, "PurchaseOrder")) == 1


def test_payments_and_sales_receipts_get_them_too(app, tracked, tmp_path):
    for name, mode in (("Terms", TransactionMode.INVOICES_WITH_PAYMENTS),
                       ("Card", TransactionMode.SALES_RECEIPTS)):
        path = write_orders(tmp_path / f"{name}.csv", ORDER)   # two stores
        connection = connect(app, tracked, name, mode, path, mapping=MAPPING, prefix=name)
        result = app.engine().run(connection)
        assert result.status is RunStatus.SUCCEEDED and result.synced == 1, result.errors
    portland = _named(tracked, "Department", "Portland")
    (payment,), (receipt,) = docs(tracked, "Payment"), docs(tracked, "SalesReceipt")
    assert payment["DepartmentRef"]["value"] == portland and "ClassRef" not in payment
    assert money_of(payment["TotalAmt"]) == ORDER_TOTAL
    assert receipt["ClassRef"]["name"] == "Retail Shop"
    assert receipt["DepartmentRef"]["value"] == portland
    assert money_of(receipt["TotalAmt"]) == ORDER_TOTAL


def test_a_refund_receipt_carries_the_class_and_location(app, tracked, tmp_path):
    path = tmp_path / "orders.csv"
    connection = connect(app, tracked, "Shop", TransactionMode.SALES_RECEIPTS,
                         write_orders(path, order_rows("paid")), mapping=MAPPING)
    assert app.engine().run(connection).synced == 1
    write_orders(path, order_rows("refunded"))
    result = app.engine().run(connection, query=OrderQuery())
    assert result.status is RunStatus.SUCCEEDED and result.synced == 1, result.errors
    (refund,) = docs(tracked, "RefundReceipt")
    assert refund["ClassRef"]["name"] == "Retail Shop"
    assert refund["DepartmentRef"]["name"] == "Portland"
    assert money_of(refund["TotalAmt"]) == TOTAL


def test_a_company_tracking_per_line_gets_the_class_on_each_line(app, line_classes, tmp_path):
    path = write_orders(tmp_path / "orders.csv", ORDER)
    connection = connect(app, line_classes, "Shop", TransactionMode.SALES_ORDERS_INVOICES_POS,
                         path, mapping=MAPPING)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors)
    retail = _named(line_classes, "Class", "Retail Shop")
    (invoice,) = docs(line_classes, "Invoice")
    (order,) = docs(line_classes, "PurchaseOrder")
    for document in (invoice, order):
        assert "ClassRef" not in document and "DepartmentRef" not in document
        lines = _classed_lines(document)
        assert lines and all(line[line["DetailType"]]["ClassRef"]["value"] == retail
                             for line in lines)
    kinds = {line["DetailType"] for line in _classed_lines(invoice)}
    assert kinds == {"SalesItemLineDetail", "DiscountLineDetail"}
    assert money_of(invoice["TotalAmt"]) == ORDER_TOTAL


def test_a_company_tracking_neither_is_sent_neither(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", ORDER)
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path,
                         mapping=QuickBooksMapping(class_name="Retail Shop",
                                                   location_name="Nowhere"))
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors)
    sent = [json.loads(entry.payload) for entry in app.ledger.rows_for_run(result.run_id)]
    assert len(sent) == 2
    assert not any("ClassRef" in json.dumps(body) or "DepartmentRef" in body for body in sent)
    assert money_of(docs(sandbox, "Invoice")[0]["TotalAmt"]) == ORDER_TOTAL
    [booked] = app.runs.orders(result.run_id)     # said, not silently dropped
    assert ("Booked without the class 'Retail Shop': the QuickBooks company does not track "
            "classes. Booked without the location 'Nowhere': the QuickBooks company does not "
            "track locations.") in booked.message


@pytest.mark.parametrize(("mapping", "field", "words"), [
    (QuickBooksMapping(class_name="Wholesail"), "class_name", "class 'Wholesail'"),
    (QuickBooksMapping(location_name="Boise"), "location_name", "store 'Boise'"),
], ids=["class", "location"])
def test_a_class_or_location_the_company_lacks_stops_the_run_naming_it(app, tracked, tmp_path,
                                                                       mapping, field, words):
    path = write_orders(tmp_path / "orders.csv", ORDER)
    connection = connect(app, tracked, "Shop", TransactionMode.INVOICES, path, mapping=mapping)
    result = app.engine().run(connection)
    assert result.status is RunStatus.FAILED
    assert words in result.message and "not in QuickBooks" in result.message
    assert docs(tracked, "Invoice") == []
