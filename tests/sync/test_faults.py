"""Faults on the way to QuickBooks: lost answers, throttling, outages, expired tokens.

Whatever goes wrong, afterwards the company holds exactly one invoice and one payment per order,
each to the cent, and a re-run books nothing.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.quickbooks.auth import REFRESH_TOKEN
from connex_desktop.sandbox.server import Reply, SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sync.engine import Engine
from tests.bench.harness import (
    books_problems,
    connect_csv,
    fast_engine,
    sales_order_problems,
    sales_receipt_problems,
)
from tests.bench.orders import ExpectedOrder, generate_orders, write_orders_csv

ORDER_COUNT = 40
MAX_RUNS = 4
DROP = "drop_after_write"
DOCUMENT_KINDS = ("Estimate", "Invoice", "Payment", "SalesReceipt", "PurchaseOrder")


class FaultyServer(SandboxServer):
    """The sandbox, with a fault for the n-th write of an entity (e.g. the second request that
    creates invoices): `faults_at[("invoice", 2)] = ("503", 3)` answers its first three attempts
    with 503. Attempts are told apart from new requests by their requestid."""

    def __init__(self, faults_at: Mapping[tuple[str, int], tuple[str, int]],
                 **options: Any) -> None:
        super().__init__(**{"rate_limits": False, **options})
        self.faults_at = dict(faults_at)
        self.writes = 0
        self._seen: Counter[str] = Counter()
        self._attempts_left: dict[str, list[Any]] = {}   # requestid -> [fault, attempts]
        self._writes_lock = threading.Lock()

    def handle(self, method: str, target: str, headers: Mapping[str, str],
               body: bytes) -> Reply:
        url = urlsplit(target)
        fault = None
        if method == "POST" and url.path.startswith("/v3/") and not url.path.endswith("/query"):
            fault = self._fault_for(url.path, parse_qs(url.query).get("requestid", [""])[0],
                                    body)
        if fault == DROP:
            # This very request is stored and its answer lost (a fault injected into the
            # sandbox could be taken by a concurrent request instead).
            reply = super().handle(method, target, headers, body)
            reply.drop = reply.status == HTTPStatus.OK
            return reply
        if fault is not None:
            self.inject(fault)
        return super().handle(method, target, headers, body)

    def _fault_for(self, path: str, request_id: str, body: bytes) -> str | None:
        with self._writes_lock:
            self.writes += 1
            if not request_id or request_id not in self._attempts_left:
                for entity in _entities_written(path, body):
                    self._seen[entity] += 1
                    planned = self.faults_at.pop((entity, self._seen[entity]), None)
                    if planned is not None:
                        self._attempts_left[request_id] = list(planned)
            planned_now = self._attempts_left.get(request_id)
            if planned_now is None or planned_now[1] <= 0:
                return None
            planned_now[1] -= 1
            return str(planned_now[0])


def _entities_written(path: str, body: bytes) -> set[str]:
    if not path.endswith("/batch"):
        return {path.rsplit("/", 1)[-1].lower()}
    items = json.loads(body).get("BatchItemRequest", [])
    return {key.lower() for item in items for key in item if key not in ("bId", "operation")}


@pytest.fixture
def orders() -> list[ExpectedOrder]:
    return generate_orders(ORDER_COUNT, seed=7)


@pytest.fixture
def order_file(tmp_path: Path, orders: list[ExpectedOrder]) -> Path:
    return write_orders_csv(tmp_path / "orders.csv", orders)


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[SandboxServer] = []

    def make(faults_at: Mapping[tuple[str, int], tuple[str, int]],
             **options: Any) -> FaultyServer:
        server = FaultyServer(faults_at, **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def sync_until_done(engine: Engine, connection: Connection) -> list[SyncResult]:
    """Run as a user would after a failed sync: again, until a run succeeds."""
    results = []
    for _ in range(MAX_RUNS):
        results.append(engine.run(connection))
        if results[-1].status is RunStatus.SUCCEEDED:
            return results
    raise AssertionError(f"no run succeeded in {MAX_RUNS}: "
                         f"{[(r.status, r.message, r.errors[:2]) for r in results]}")


def assert_booked_exactly_once(server: SandboxServer, engine: Engine, connection: Connection,
                               orders: list[ExpectedOrder]) -> None:
    if isinstance(server, FaultyServer):
        assert not server.faults_at, "a planned fault never came: fewer writes than meant"
    if connection.mode is TransactionMode.SALES_ORDERS_INVOICES_POS:
        assert sales_order_problems(server.company.all, orders) == []
    elif connection.mode is TransactionMode.SALES_RECEIPTS:
        assert sales_receipt_problems(server.company.all("SalesReceipt"), orders) == []
    else:
        assert books_problems(server.company.all("Invoice"), server.company.all("Payment"),
                              orders) == []
    counts = {kind: len(server.company.all(kind)) for kind in DOCUMENT_KINDS}
    customers = [c["DisplayName"] for c in server.company.all("Customer")]
    assert sorted(customers) == sorted({order.customer for order in orders})
    # Every order fetched again: each is recognised as booked, nothing is written.
    writes_before = server.writes if isinstance(server, FaultyServer) else 0
    rerun = engine.run(connection, query=OrderQuery())
    assert rerun.status is RunStatus.SUCCEEDED, (rerun.message, rerun.errors[:3])
    assert (rerun.synced, rerun.failed, rerun.documents) == (0, 0, [])
    assert rerun.skipped == len(orders)
    assert {kind: len(server.company.all(kind)) for kind in DOCUMENT_KINDS} == counts
    if isinstance(server, FaultyServer):
        assert server.writes == writes_before


def test_without_faults_every_order_is_booked_once(app, serve, order_file, orders):
    """The control: what every test below must end with, reached here without a fault."""
    server = serve({})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    result = engine.run(connection)
    assert (result.status, result.synced) == (RunStatus.SUCCEEDED, ORDER_COUNT)
    assert_booked_exactly_once(server, engine, connection, orders)


# Which write a fault meets: the n-th request creating customers, invoices or payments. For 40
# orders there are two or three of each (customers and invoices, invoices and payments share
# batches), so the faults land at the start, in the middle and at the end of a run.
WRITES = [("customer", 1), ("invoice", 1), ("invoice", 2), ("payment", 1), ("payment", 2)]
WRITE_IDS = [f"{entity}-{n}" for entity, n in WRITES]


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_answer_lost_once_after_the_write_is_stored(app, serve, order_file, orders, write):
    server = serve({write: (DROP, 1)})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    result = engine.run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors[:3])
    assert result.synced == ORDER_COUNT
    assert_booked_exactly_once(server, engine, connection, orders)


@pytest.mark.parametrize("write", WRITES, ids=WRITE_IDS)
def test_answers_lost_until_the_client_gives_up_then_the_next_run_reconciles(
        app, serve, order_file, orders, write):
    # Six drops in a row outlast the client's five retries: the run ends without knowing
    # whether QuickBooks stored the documents.
    server = serve({write: (DROP, 6)})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    results = sync_until_done(engine, connection)
    assert len(results) >= 2, "the first run should have ended without confirmation"
    assert_booked_exactly_once(server, engine, connection, orders)


@pytest.mark.parametrize("write", [("payment", 1), ("payment", 2)], ids=["payment-1", "payment-2"])
def test_lost_answers_while_reconciling_are_reconciled_later(app, serve, order_file, orders,
                                                             write):
    # Twelve drops: the run's own attempts end unknown. The next run looks the payments up
    # (by customer and memo) before sending anything again, so it needs no write to finish.
    server = serve({write: (DROP, 12)})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    results = sync_until_done(engine, connection)
    assert len(results) >= 2, [(r.status, r.errors[:1]) for r in results]
    assert_booked_exactly_once(server, engine, connection, orders)


def test_later_payments_survive_lost_answers(app, serve, tmp_path, orders):
    order_file = write_orders_csv(tmp_path / "orders.csv", orders,
                                  unpaid={order.number for order in orders})
    server = serve({("payment", 1): (DROP, 6), ("payment", 2): ("503", 6)})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    first = engine.run(connection)
    assert (first.status, first.synced) == (RunStatus.SUCCEEDED, ORDER_COUNT)
    invoices = server.company.all("Invoice")
    assert server.company.all("Payment") == []
    assert sorted(money(str(i["Balance"])) for i in invoices) == sorted(o.total for o in orders)
    # The buyers pay; the next syncs apply the payments to the invoices, through the faults.
    write_orders_csv(order_file, orders)
    sync_until_done(engine, connection)
    assert_booked_exactly_once(server, engine, connection, orders)


@pytest.mark.parametrize("use_qb_numbering", [False, True], ids=["order-numbers", "qb-numbers"])
@pytest.mark.parametrize("write", [("estimate", 1), ("invoice", 1), ("payment", 1),
                                   ("purchaseorder", 1)],
                         ids=["estimate-1", "invoice-1", "payment-1", "po-1"])
def test_sales_orders_with_purchase_orders_survive_lost_answers(
        app, serve, order_file, orders, write, use_qb_numbering):
    server = serve({write: (DROP, 6)}, custom_txn_numbers=not use_qb_numbering)
    connection = connect_csv(app, server, order_file,
                             mode=TransactionMode.SALES_ORDERS_INVOICES_POS,
                             use_qb_numbering=use_qb_numbering)
    engine = fast_engine(app)
    results = sync_until_done(engine, connection)
    assert len(results) >= 2, "the first run should have ended without confirmation"
    assert_booked_exactly_once(server, engine, connection, orders)


@pytest.mark.parametrize("use_qb_numbering", [False, True], ids=["order-numbers", "qb-numbers"])
@pytest.mark.parametrize("write", [("salesreceipt", 1), ("salesreceipt", 2)],
                         ids=["receipt-1", "receipt-2"])
def test_sales_receipts_survive_lost_answers(app, serve, order_file, orders, write,
                                            use_qb_numbering):
    server = serve({write: (DROP, 6)}, custom_txn_numbers=not use_qb_numbering)
    connection = connect_csv(app, server, order_file, mode=TransactionMode.SALES_RECEIPTS,
                             use_qb_numbering=use_qb_numbering)
    engine = fast_engine(app)
    results = sync_until_done(engine, connection)
    assert len(results) >= 2, "the first run should have ended without confirmation"
    assert_booked_exactly_once(server, engine, connection, orders)


@pytest.mark.parametrize("fault", ["429", "500", "503"])
@pytest.mark.parametrize("write", WRITES[1::2], ids=WRITE_IDS[1::2])
def test_throttled_and_unavailable_are_retried(app, serve, order_file, orders, fault, write):
    server = serve({write: (fault, 3)})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    result = engine.run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors[:3])
    assert_booked_exactly_once(server, engine, connection, orders)


def test_outage_longer_than_the_retries_is_finished_by_the_next_run(app, serve, order_file,
                                                                      orders):
    server = serve({("invoice", 2): ("503", 12)})
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    results = sync_until_done(engine, connection)
    assert results[0].status is not RunStatus.SUCCEEDED
    assert_booked_exactly_once(server, engine, connection, orders)


@pytest.mark.parametrize("write", WRITES[::2], ids=WRITE_IDS[::2])
def test_token_expiring_mid_run_is_refreshed_and_the_rotated_token_kept(
        app, serve, order_file, orders, write):
    server = serve({write: ("expire_tokens", 1)})
    connection = connect_csv(app, server, order_file)
    assert connection.id is not None
    key = f"{quickbooks_key_prefix(connection.id)}/{REFRESH_TOKEN}"
    first_token = app.secrets.get(key)
    engine = fast_engine(app)
    result = engine.run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors[:3])
    assert app.secrets.get(key) != first_token
    # The re-run's new client starts from the saved, rotated refresh token.
    assert_booked_exactly_once(server, engine, connection, orders)


def test_random_faults_on_a_quarter_of_requests(app, serve, order_file, orders):
    server = serve({}, fail_rate=0.25)
    connection = connect_csv(app, server, order_file)
    engine = fast_engine(app)
    sync_until_done(engine, connection)
    server.fail_rate = 0.0
    assert_booked_exactly_once(server, engine, connection, orders)
