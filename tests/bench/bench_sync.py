"""Benchmark: 1,000 paid orders, then 100 new ones, into a sandbox with 100 ms latency."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest

from connex_desktop.app import build_app
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from tests.bench.baseline import baseline_client, sync_order
from tests.bench.harness import books_problems, connect_csv
from tests.bench.orders import generate_orders, write_orders_csv

pytestmark = pytest.mark.bench

ORDER_COUNT = 1000
NEW_ORDER_COUNT = 100        # the second sync: new orders only, the company's lists kept
BASELINE_ORDER_COUNT = 100
LATENCY_MS = 100
TARGET_REQUESTS_PER_ORDER = Decimal("0.2")
TARGET_SPEED_UP = 10
# Reads a second sync may make before it writes (the CDC refresh of the kept lists); the rest
# are the exactly-once look-ups, of which a sync without faults needs none.
TARGET_SECOND_SYNC_READS = 1


@dataclass(frozen=True)
class Figures:
    """What one sync cost: QuickBooks requests the sandbox received, the metered reads among
    them (Intuit's CorePlus calls, capped per month), and seconds on the clock."""

    orders: int
    requests: int
    wall_s: float
    reads: int = 0

    @property
    def requests_per_order(self) -> float:
        return self.requests / self.orders

    @property
    def s_per_order(self) -> float:
        return self.wall_s / self.orders

    @property
    def reads_per_order(self) -> float:
        return self.reads / self.orders

    def as_json(self) -> dict[str, float]:
        return {"orders": self.orders, "requests": self.requests, "wall_s": round(self.wall_s, 3),
                "requests_per_order": round(self.requests_per_order, 4),
                "reads": self.reads, "reads_per_order": round(self.reads_per_order, 4),
                "s_per_order": round(self.s_per_order, 5)}


def timed_sync(sandbox: SandboxServer, orders: int, sync: Callable[[], SyncResult]
               ) -> tuple[SyncResult, Figures]:
    """One sync, with what the metering sandbox counted for it."""
    before = sandbox.usage()
    started = time.perf_counter()
    result = sync()
    wall_s = time.perf_counter() - started
    after = sandbox.usage()
    return result, Figures(orders, after.requests - before.requests, wall_s,
                           after.reads - before.reads)


@pytest.fixture(scope="module")
def orders():
    """The first sync's orders and, after them, the second sync's new ones."""
    return generate_orders(ORDER_COUNT + NEW_ORDER_COUNT)


@pytest.fixture(scope="module")
def baseline(orders) -> Figures:
    """The per-order loop on the first 100 orders, in a company of its own.

    Its sandbox does not throttle: a plain loop at one request at a time would otherwise hit
    the 500-a-minute limit and stall on 429s, and the comparison would flatter the engine.
    """
    baseline_orders = orders[:BASELINE_ORDER_COUNT]
    with SandboxServer(latency_ms=LATENCY_MS, rate_limits=False) as sandbox:
        qb = baseline_client(sandbox)
        before = sandbox.usage()
        started = time.perf_counter()
        for order in baseline_orders:
            sync_order(order, qb)
        wall_s = time.perf_counter() - started
        after = sandbox.usage()
        figures = Figures(BASELINE_ORDER_COUNT, after.requests - before.requests, wall_s,
                          after.reads - before.reads)
        assert books_problems(sandbox.company.all("Invoice"), sandbox.company.all("Payment"),
                              baseline_orders) == []
    return figures


def test_engine_against_per_order_baseline(tmp_path, orders, baseline):
    first_orders = orders[:ORDER_COUNT]
    csv_path = write_orders_csv(tmp_path / "orders.csv", first_orders)
    # The engine meets QuickBooks' limits (500 requests and 40 batches a minute, 10 a second).
    with SandboxServer(latency_ms=LATENCY_MS, rate_limits=True) as sandbox:
        app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
        try:
            connection = connect_csv(app, sandbox, csv_path)
            engine = app.engine()
            result, figures = timed_sync(sandbox, ORDER_COUNT, lambda: engine.run(connection))
            assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors[:3])
            assert result.synced == ORDER_COUNT
            assert books_problems(sandbox.company.all("Invoice"),
                                  sandbox.company.all("Payment"), first_orders) == []
            rerun, again = timed_sync(sandbox, ORDER_COUNT,
                                      lambda: engine.run(connection, query=OrderQuery()))
            assert (rerun.synced, rerun.failed, rerun.documents) == (0, 0, [])
            assert len(sandbox.company.all("Invoice")) == ORDER_COUNT
            assert len(sandbox.company.all("Payment")) == ORDER_COUNT
            write_orders_csv(csv_path, orders)
            second, new = timed_sync(sandbox, NEW_ORDER_COUNT, lambda: engine.run(connection))
            assert second.status is RunStatus.SUCCEEDED and second.synced == NEW_ORDER_COUNT
            assert books_problems(sandbox.company.all("Invoice"),
                                  sandbox.company.all("Payment"), orders) == []
            _report(tmp_path, {"engine": figures, "engine, every order again": again,
                               "engine, 100 new": new}, baseline)
        finally:
            app.close()
    # Request and read counts are deterministic; wall time is measured and reported only.
    assert Decimal(figures.requests) / ORDER_COUNT <= TARGET_REQUESTS_PER_ORDER
    assert (again.requests, new.reads) == (0, TARGET_SECOND_SYNC_READS)


def _report(tmp_path, runs: dict[str, Figures], baseline: Figures) -> None:
    engine = runs["engine"]
    speed_up = baseline.s_per_order / engine.s_per_order
    fewer_requests = baseline.requests_per_order / engine.requests_per_order
    figures = {"latency_ms": LATENCY_MS,
               **{label: row.as_json() for label, row in runs.items()},
               "baseline": baseline.as_json(),
               "speed_up": round(speed_up, 2), "fewer_requests": round(fewer_requests, 2)}
    (tmp_path / "bench_sync.json").write_text(json.dumps(figures, indent=2))
    print()
    print(f"Paid orders as invoices with payments; sandbox latency {LATENCY_MS} ms")
    print(f"{'':26} {'orders':>7} {'requests':>9} {'req/order':>10} {'reads':>6} "
          f"{'reads/order':>12} {'wall s':>9} {'s/order':>9}")
    for label, row in (*runs.items(), ("baseline", baseline)):
        print(f"{label:26} {row.orders:>7} {row.requests:>9} {row.requests_per_order:>10.3f} "
              f"{row.reads:>6} {row.reads_per_order:>12.3f} {row.wall_s:>9.1f} "
              f"{row.s_per_order:>9.4f}")
    print(f"per order: {speed_up:.1f}x less wall time (target {TARGET_SPEED_UP}x), "
          f"{fewer_requests:.0f}x fewer requests (target at most {TARGET_REQUESTS_PER_ORDER} "
          "per order)")
    print("BENCH_SYNC_JSON " + json.dumps(figures))
