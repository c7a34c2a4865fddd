"""Absurd amounts fail their own order, never the run or the connection; money stays exact."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.model import Buyer, Order, OrderLine, Payment, PaymentStatus
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.result import RunStatus
from connex_desktop.sandbox.server import Reply, SandboxServer
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.csv_file import CsvSource
from connex_desktop.storage.ledger import Intent
from connex_desktop.sync.run_state import SyncRun
from tests.sync.conftest import by_number, connect, docs, write_orders

D = Decimal
ALL = OrderQuery()
HUGE_QUANTITY = D("99999999999999999999999999")   # 26 digits: its amount just fits 28 digits
ONE, TEN, NO_SHIPPING = D(1), D("10.00"), D("0.00")


class GivenOrders(CsvSource):
    """The CSV store kind, yielding the orders a test builds: past any limit a file's parser
    sets, so what the engine does with them is what is tested."""

    orders: ClassVar[list[Order]] = []

    def fetch_orders(self, query: OrderQuery, cancel: CancelToken
                     ) -> Iterator[Order | FailedOrder]:
        yield from (order for order in self.orders
                    if not query.numbers or order.number in query.numbers)


@pytest.fixture
def given(app, monkeypatch) -> list[Order]:
    orders: list[Order] = []
    monkeypatch.setattr(GivenOrders, "orders", orders)
    monkeypatch.setattr(app, "source_kinds", {**app.source_kinds, "csv": GivenOrders})
    return orders


def order(number: str, quantity: Decimal = ONE, price: Decimal = TEN, *,
          total: Decimal | None = None, shipping: Decimal = NO_SHIPPING,
          paid: bool = False) -> Order:
    line = OrderLine(f"SKU-{number}", f"Product {number}", quantity, price)
    total = line.gross + shipping if total is None else total
    return Order(source="csv", source_id=number, number=number, order_date=date(2025, 6, 1),
                 status="completed",
                 payment_status=PaymentStatus.PAID if paid else PaymentStatus.UNPAID,
                 currency="USD", buyer=Buyer(f"Buyer {number}", f"{number.lower()}@example.com"),
                 lines=(line,), total=total, shipping=shipping,
                 payments=(Payment(total, "Visa"),) if paid else ())


def shop(app, sandbox, tmp_path, mode=TransactionMode.INVOICES):
    return connect(app, sandbox, "Shop", mode, write_orders(tmp_path / "orders.csv", []))


def failures(result) -> dict[str, str]:
    return {failure.order: failure.message for failure in result.errors}


def ledger_states(app, run_id: int) -> dict[str, str]:
    return {row.order_number: row.state for row in app.ledger.rows_for_run(run_id)}


def test_an_amount_too_large_to_compute_fails_its_order_naming_the_field(
        app, sandbox, tmp_path, given):
    given += [order("N-1"),
              order("N-2", D("999999999999999999999999999"), D("10.00"), total=D("1.00")),
              order("N-3", D(2), D("4.50")),
              order("N-4", shipping=D("1E+27"), total=D("10.00"))]
    connection = shop(app, sandbox, tmp_path)

    result = app.engine().run(connection)

    assert result.status is RunStatus.PARTIAL and result.synced == 2, result
    failed = failures(result)
    assert set(failed) == {"N-2", "N-4"}
    assert "Quantity 999999999999999999999999999 × Unit Price 10.00" in failed["N-2"]
    assert "too large to compute to the cent" in failed["N-2"]
    assert "Shipping Amount" in failed["N-4"]
    assert sorted(by_number(sandbox, "Invoice")) == ["N-1", "N-3"]
    assert app.engine().run(connection, query=ALL).status is RunStatus.PARTIAL


class FloatAnswers(SandboxServer):
    """A QuickBooks whose answers went through floats: 99999999999999999999999999.00 comes
    back as 1e+26, which no amount to the cent can hold."""

    def handle(self, method: str, target: str, headers: Mapping[str, str],
               body: bytes) -> Reply:
        reply = super().handle(method, target, headers, body)
        if reply.body.startswith(b"{"):
            reply.body = json.dumps(json.loads(reply.body)).encode()
        return reply


@pytest.fixture
def float_sandbox() -> Iterator[SandboxServer]:
    with FloatAnswers() as server:
        yield server


def test_an_odd_total_in_quickbooks_answer_is_confirmed_and_the_run_goes_on(
        app, float_sandbox, tmp_path, given):
    given += [order("N-1"), order("N-2", HUGE_QUANTITY, D("1.00")), order("N-3")]
    connection = shop(app, float_sandbox, tmp_path)

    result = app.engine().run(connection)

    assert result.status is RunStatus.PARTIAL and result.synced == 2, result
    assert "QuickBooks answered 1E+26 as the total of its Invoice N-2" in failures(result)["N-2"]
    # The invoice is in QuickBooks: recorded as such, so it is never sent again.
    assert ledger_states(app, result.run_id) == dict.fromkeys(("N-1", "N-2", "N-3"),
                                                              LedgerState.CONFIRMED)
    (row,) = [row for row in app.ledger.rows_for_run(result.run_id) if row.order_number == "N-2"]
    assert row.qb_id and row.total == D("99999999999999999999999999.00")

    given.append(order("N-4"))
    later = app.engine().run(connection)
    assert later.status is not RunStatus.FAILED and "N-4" in ledger_states(app, later.run_id)
    assert sorted(by_number(float_sandbox, "Invoice")) == ["N-1", "N-2", "N-3", "N-4"]


def test_an_answer_not_taken_in_leaves_the_other_documents_confirmed(
        app, sandbox, tmp_path, given, monkeypatch):
    given += [order("N-1"), order("N-2"), order("N-3")]
    connection = shop(app, sandbox, tmp_path)
    note_balance = SyncRun.note_balance

    def unreadable_n2(run: SyncRun, invoice: Mapping[str, Any]) -> None:
        if invoice.get("DocNumber") == "N-2":
            raise RuntimeError("an answer this app cannot take in")
        note_balance(run, invoice)

    monkeypatch.setattr(SyncRun, "note_balance", unreadable_n2)
    result = app.engine().run(connection)

    assert result.status is RunStatus.PARTIAL and result.synced == 2, result
    assert "checks before sending it again" in failures(result)["N-2"]
    assert ledger_states(app, result.run_id) == {"N-1": LedgerState.CONFIRMED,
                                                 "N-2": LedgerState.PLANNED,
                                                 "N-3": LedgerState.CONFIRMED}

    monkeypatch.undo()
    monkeypatch.setattr(app, "source_kinds", {**app.source_kinds, "csv": GivenOrders})
    monkeypatch.setattr(GivenOrders, "orders", given)
    again = app.engine().run(connection)
    assert again.status is RunStatus.SUCCEEDED, again
    assert set(ledger_states(app, result.run_id).values()) == {LedgerState.CONFIRMED}
    assert sorted(by_number(sandbox, "Invoice")) == ["N-1", "N-2", "N-3"]   # none twice


def test_reconcile_survives_bad_ledger_rows_and_the_sync_goes_on(app, sandbox, tmp_path,
                                                                   given):
    given.append(order("N-1"))
    connection = shop(app, sandbox, tmp_path)
    first = app.engine().run(connection)
    assert first.status is RunStatus.SUCCEEDED
    (booked,) = app.ledger.rows_for_run(first.run_id)
    # Left planned by an earlier run: one never sent (sent again now), and three no sync can
    # read (a payload that is not JSON, alone and in a batch, and a kind this app never books).
    never_sent = json.loads(booked.payload)
    never_sent.update(DocNumber="G-1", PrivateNote="Order G-1. Booked by Connex Desktop.")
    rows = [Intent("G-1", "G-1", "invoice", "Invoice", str(uuid.uuid4()),
                   json.dumps(never_sent), "G-1", D("10.00")),
            Intent("B-1", "B-1", "payment:1", "Payment", str(uuid.uuid4()), "{cut off"),
            Intent("B-2", "B-2", "invoice", "Invoice", f"{uuid.uuid4()}/b0", "{cut off",
                   "B-2"),
            Intent("B-3", "B-3", "invoice", "Bogus", str(uuid.uuid4()), "{}", "B-3")]
    store_key = app.source_for(connection).store_key
    app.ledger.plan(sandbox.realm_id, store_key, connection.id, None, rows)
    given.append(order("N-2"))

    result = app.engine().run(connection)

    assert result.status is RunStatus.PARTIAL, result
    assert sorted(by_number(sandbox, "Invoice")) == ["G-1", "N-1", "N-2"]
    failed = failures(result)
    assert set(failed) == {"B-1", "B-2", "B-3"}
    assert "could not be checked with QuickBooks" in failed["B-2"]
    states = {row.order_number: (row.state, bool(row.error))
              for row in app.ledger.unconfirmed(sandbox.realm_id, store_key)}
    assert states == dict.fromkeys(("B-1", "B-2", "B-3"), (LedgerState.PLANNED, True))
    again = app.engine().run(connection)
    assert again.status is RunStatus.PARTIAL and set(failures(again)) == {"B-1", "B-2", "B-3"}


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_RECEIPTS], ids=["invoice", "receipt"])
def test_money_reaches_quickbooks_to_the_cent_beyond_what_a_float_holds(
        app, sandbox, tmp_path, given, mode):
    price = D("12345678901234567.89")
    given.append(order("N-1", D(1), price, paid=True))
    connection = shop(app, sandbox, tmp_path, mode)

    result = app.engine().run(connection)

    assert result.status is RunStatus.SUCCEEDED, result
    sale = docs(sandbox, "Invoice" if mode.books_invoice else "SalesReceipt")[0]
    assert money(sale["TotalAmt"]) == price
    assert money(sale["Line"][0]["Amount"]) == price
    if mode.books_payments:
        assert money(docs(sandbox, "Payment")[0]["TotalAmt"]) == price
    assert {row.total for row in app.ledger.rows_for_run(result.run_id)} == {price}
    assert {document.total for document in result.documents} == {price}
