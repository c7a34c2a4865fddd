"""Refunds after the sale was booked: refund receipts in the sandbox company, once, to the cent."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import ClassVar

import pytest

from connex_desktop.core.model import Order, Refund
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.result import DocumentKind, RunStatus
from connex_desktop.core.undo_result import UndoOutcome, UndoStatus
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.csv_file import CsvSource
from tests.bench.harness import fast_engine
from tests.sync.conftest import by_number, connect, docs, money_of, row, write_orders
from tests.sync.test_faults import DROP, FaultyServer

D = Decimal
ALL = OrderQuery()

# 2×179.95 + 3×7.49 − 5.00 line discount − 10.00 order discount + 12.50 shipping + 27.36 tax
TOTAL = D("407.23")


def order_rows(payment_status: str) -> list[dict[str, str]]:
    return [
        row("R-1001", "SLB-20F-REG", "2", "179.95", payment_status=payment_status,
            payment_method="Visa", payment_reference="ch_1001", shipping_amount="12.50",
            order_discount="10.00", tax_amount="27.36"),
        row("R-1001", "FUEL-230G", "3", "7.49", line_discount="5.00"),
    ]


class RefundingCsv(CsvSource):
    """The CSV store, with the refunds a test gives each order (the file can only say
    'refunded in full')."""

    refunds: ClassVar[dict[str, tuple[Refund, ...]]] = {}

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        for order in super().fetch_orders(query, cancel):
            if isinstance(order, Order) and order.number in self.refunds:
                order = dataclasses.replace(order, refunds=self.refunds[order.number])
            yield order


@pytest.fixture
def refunding(app, monkeypatch) -> dict[str, tuple[Refund, ...]]:
    refunds: dict[str, tuple[Refund, ...]] = {}
    monkeypatch.setattr(RefundingCsv, "refunds", refunds)
    monkeypatch.setattr(app, "source_kinds", {**app.source_kinds, "csv": RefundingCsv})
    return refunds


def sale_lines(document: dict) -> list[tuple]:
    """What a document's lines book: item, amount, and kind (the subtotal left out)."""
    return [(line["DetailType"], (line.get("SalesItemLineDetail") or {}).get("ItemRef", {})
             .get("value"), money_of(line["Amount"]))
            for line in document["Line"] if line["DetailType"] != "SubTotalLineDetail"]


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_RECEIPTS], ids=["invoice", "receipt"])
def test_a_full_refund_mirrors_the_sale_once(app, sandbox, tmp_path, mode):
    path = tmp_path / "orders.csv"
    connection = connect(app, sandbox, "Shop", mode, write_orders(path, order_rows("paid")))
    first = app.engine().run(connection)
    assert first.status is RunStatus.SUCCEEDED and first.synced == 1, first.errors
    sale = docs(sandbox, "Invoice" if mode.books_invoice else "SalesReceipt")[0]

    write_orders(path, order_rows("refunded"))
    result = app.engine().run(connection, query=ALL)

    assert result.status is RunStatus.SUCCEEDED and result.synced == 1, result.errors
    (refund,) = docs(sandbox, "RefundReceipt")
    assert money_of(refund["TotalAmt"]) == TOTAL
    assert refund["CustomerRef"]["value"] == sale["CustomerRef"]["value"]
    assert sale_lines(refund) == sale_lines(sale)   # items, shipping, discount: reversed
    assert money_of(refund["TxnTaxDetail"]["TotalTax"]) == D("27.36")
    assert "PaymentRefNum" not in refund   # the file names no refund reference
    assert refund["TxnDate"] == date.today().isoformat()   # the file does not say when
    assert "Order R-1001" in refund["PrivateNote"]
    assert [(d.kind, d.total) for d in result.documents] == [(DocumentKind.REFUND_RECEIPT,
                                                               TOTAL)]

    again = app.engine().run(connection, query=ALL)
    assert again.status is RunStatus.SUCCEEDED and again.documents == [] and again.skipped == 1
    assert len(docs(sandbox, "RefundReceipt")) == 1


def test_partial_refunds_book_only_what_is_new_on_the_refund_item(app, sandbox, tmp_path,
                                                                  refunding):
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                         write_orders(tmp_path / "orders.csv", order_rows("paid")))
    assert app.engine().run(connection).synced == 1
    invoice = by_number(sandbox, "Invoice")["R-1001"]

    refunding["R-1001"] = (Refund(D("25.50"), "re_1", date(2025, 6, 9)),)
    first = app.engine().run(connection, query=ALL)
    assert first.status is RunStatus.SUCCEEDED, first.errors
    (refund,) = docs(sandbox, "RefundReceipt")
    assert money_of(refund["TotalAmt"]) == D("25.50") and refund["TxnDate"] == "2025-06-09"
    assert refund["PaymentRefNum"] == "re_1"
    (item_line,) = [line for line in refund["Line"] if line["DetailType"] != "SubTotalLineDetail"]
    item = sandbox.company.read("Item", item_line["SalesItemLineDetail"]["ItemRef"]["value"])
    assert item["Name"] == "Refunds" and not item.get("Taxable")
    assert refund["CustomerRef"]["value"] == invoice["CustomerRef"]["value"]
    assert refund["DepositToAccountRef"]["name"] == "Undeposited Funds"
    message = app.runs.orders(first.run_id)[0].message
    assert "booked on the item 'Refunds'" in message and "which lines" in message

    # A second refund later: only it is booked; the item is not made twice.
    refunding["R-1001"] = (Refund(D("25.50"), "re_1", date(2025, 6, 9)),
                           Refund(D("10.00"), "re_2", date(2025, 6, 12)))
    second = app.engine().run(connection, query=ALL)
    assert second.status is RunStatus.SUCCEEDED, second.errors
    totals = sorted(money_of(r["TotalAmt"]) for r in docs(sandbox, "RefundReceipt"))
    assert totals == [D("10.00"), D("25.50")]
    assert [i["Name"] for i in docs(sandbox, "Item")].count("Refunds") == 1

    # The store now reports the refunds as one: only the difference is booked.
    refunding["R-1001"] = (Refund(D("40.00"), "re_all"),)
    third = app.engine().run(connection, query=ALL)
    assert [d.total for d in third.documents] == [D("4.50")]
    assert app.engine().run(connection, query=ALL).documents == []


def test_a_partial_refund_of_a_sales_receipt(app, sandbox, tmp_path, refunding):
    connection = connect(app, sandbox, "Shop", TransactionMode.SALES_RECEIPTS,
                         write_orders(tmp_path / "orders.csv", order_rows("paid")))
    assert app.engine().run(connection).synced == 1
    receipt = by_number(sandbox, "SalesReceipt")["R-1001"]
    refunding["R-1001"] = (Refund(D("99.99"), "re_1"),)
    result = app.engine().run(connection, query=ALL)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (refund,) = docs(sandbox, "RefundReceipt")
    assert money_of(refund["TotalAmt"]) == D("99.99")
    assert refund["CustomerRef"]["value"] == receipt["CustomerRef"]["value"]


def test_an_unpaid_invoice_gets_no_refund_receipt(app, sandbox, tmp_path, refunding):
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES,
                         write_orders(tmp_path / "orders.csv", order_rows("paid")))
    assert app.engine().run(connection).synced == 1
    refunding["R-1001"] = (Refund(D("10.00"), "re_1"),)
    result = app.engine().run(connection, query=ALL)
    assert result.status is RunStatus.SUCCEEDED and result.skipped == 1
    assert docs(sandbox, "RefundReceipt") == []
    assert "credit memo" in app.runs.orders(result.run_id)[0].message


def test_undo_of_the_refund_run_deletes_the_refund_receipt_first(app, sandbox, tmp_path):
    path = tmp_path / "orders.csv"
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                         write_orders(path, order_rows("paid")))
    booked = app.engine().run(connection)
    write_orders(path, order_rows("refunded"))
    refunded = app.engine().run(connection, query=ALL)
    assert len(docs(sandbox, "RefundReceipt")) == 1

    undone = app.undoer().undo(refunded.run_id)
    assert undone.status is UndoStatus.UNDONE, undone.documents
    assert [(d.kind, d.outcome) for d in undone.documents] == [
        (DocumentKind.REFUND_RECEIPT, UndoOutcome.DELETED)]
    assert docs(sandbox, "RefundReceipt") == [] and len(docs(sandbox, "Invoice")) == 1

    # The refund is booked again once, then the whole sale can be undone with it gone.
    assert len(app.engine().run(connection, query=ALL).documents) == 1
    assert len(docs(sandbox, "RefundReceipt")) == 1
    assert app.undoer().undo(booked.run_id).status is UndoStatus.UNDONE
    assert docs(sandbox, "Invoice") == [] and docs(sandbox, "Payment") == []


def test_a_refund_whose_answer_is_lost_is_found_by_its_memo_not_booked_twice(app, tmp_path,
                                                                           refunding):
    # Twelve lost answers outlast the run's own retries: the next run looks the refund receipt
    # up by customer and memo before sending anything again.
    with FaultyServer({("refundreceipt", 1): (DROP, 12)}) as server:
        connection = connect(app, server, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                             write_orders(tmp_path / "orders.csv", order_rows("paid")))
        engine = fast_engine(app)
        assert engine.run(connection).synced == 1
        refunding["R-1001"] = (Refund(D("12.34"), "re_1"),)
        unsure = engine.run(connection, query=ALL)
        assert unsure.status is not RunStatus.SUCCEEDED
        again = engine.run(connection, query=ALL)
        assert again.status is RunStatus.SUCCEEDED, again.errors
        assert [money_of(r["TotalAmt"]) for r in docs(server, "RefundReceipt")] == [D("12.34")]
        assert engine.run(connection, query=ALL).documents == []
        assert len(docs(server, "RefundReceipt")) == 1


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_RECEIPTS,
                                  TransactionMode.SALES_ORDERS_INVOICES],
                         ids=["invoice", "receipt", "estimate-invoice"])
def test_a_refund_made_before_the_first_sync_is_booked_with_the_sale(app, sandbox, tmp_path,
                                                                     refunding, mode):
    refunding["R-1001"] = (Refund(D("25.50"), "re_1", date(2025, 6, 2)),
                           Refund(D("10.00"), "re_2", date(2025, 6, 3)))
    connection = connect(app, sandbox, "Shop", mode,
                         write_orders(tmp_path / "orders.csv", order_rows("paid")))
    first = app.engine().run(connection)

    assert first.status is RunStatus.SUCCEEDED and first.synced == 1, first.errors
    sale = docs(sandbox, "Invoice" if mode.books_invoice else "SalesReceipt")
    assert [money_of(doc["TotalAmt"]) for doc in sale] == [TOTAL]
    if mode.books_payments:
        assert [money_of(p["TotalAmt"]) for p in docs(sandbox, "Payment")] == [TOTAL]
    refunds = sorted(docs(sandbox, "RefundReceipt"), key=lambda r: r["TxnDate"])
    assert [(money_of(r["TotalAmt"]), r["PaymentRefNum"], r["TxnDate"]) for r in refunds] == [
        (D("25.50"), "re_1", "2025-06-02"), (D("10.00"), "re_2", "2025-06-03")]
    assert {r["CustomerRef"]["value"] for r in refunds} == {sale[0]["CustomerRef"]["value"]}
    assert [d.kind for d in first.documents][-2:] == [DocumentKind.REFUND_RECEIPT] * 2

    # Neither a plain sync nor a re-read of every order books anything more.
    for query in (None, ALL):
        again = app.engine().run(connection, query=query)
        assert again.status is RunStatus.SUCCEEDED and again.documents == [], again.errors
    assert len(docs(sandbox, "RefundReceipt")) == 2


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES, TransactionMode.SALES_ORDERS])
def test_a_refund_before_the_first_sync_of_a_mode_without_payments_books_no_refund(
        app, sandbox, tmp_path, refunding, mode):
    refunding["R-1001"] = (Refund(D("25.50"), "re_1"),)
    connection = connect(app, sandbox, "Shop", mode,
                         write_orders(tmp_path / "orders.csv", order_rows("paid")))
    first = app.engine().run(connection)
    assert first.status is RunStatus.SUCCEEDED and first.synced == 1, first.errors
    assert docs(sandbox, "RefundReceipt") == []
    message = app.runs.orders(first.run_id)[0].message
    assert ("credit memo" in message) is (mode is TransactionMode.INVOICES)
    assert app.engine().run(connection, query=ALL).documents == []
    assert docs(sandbox, "RefundReceipt") == []
