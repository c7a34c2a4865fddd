"""Benchmark: 1,000 paid orders into a sandbox with 100 ms latency, engine against the baseline."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal

import pytest

from connex_desktop.app import build_app
from connex_desktop.core.result import RunStatus
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from tests.bench.baseline import baseline_client, sync_order
from tests.bench.harness import books_problems, connect_csv
from tests.bench.orders import generate_orders, write_orders_csv

pytestmark = pytest.mark.bench

ORDER_COUNT = 1000
BASELINE_ORDER_COUNT = 100
LATENCY_MS = 100
TARGET_REQUESTS_PER_ORDER = Decimal("0.2")
TARGET_SPEED_UP = 10


@dataclass(frozen=True)
class Figures:
    """What one sync cost: QuickBooks requests the sandbox received, and seconds on the clock."""

    orders: int
    requests: int
    wall_s: float

    @property
    def requests_per_order(self) -> float:
        return self.requests / self.orders

    @property
    def s_per_order(self) -> float:
        return self.wall_s / self.orders

    def as_json(self) -> dict[str, float]:
        return {"orders": self.orders, "requests": self.requests, "wall_s": round(self.wall_s, 3),
                "requests_per_order": round(self.requests_per_order, 4),
                "s_per_order": round(self.s_per_order, 5)}


@pytest.fixture(scope="module")
def orders():
    return generate_orders(ORDER_COUNT)


@pytest.fixture(scope="module")
def baseline(orders) -> Figures:
    """The per-order loop on the first 100 orders, in a company of its own.

    Its sandbox does not throttle: a plain loop at one request at a time would otherwise hit
    the 500-a-minute limit and stall on 429s, and the comparison would flatter the engine.
    """
    baseline_orders = orders[:BASELINE_ORDER_COUNT]
    with SandboxServer(latency_ms=LATENCY_MS, rate_limits=False) as sandbox:
        qb = baseline_client(sandbox)
        before = sandbox.request_count
        started = time.perf_counter()
        for order in baseline_orders:
            sync_order(order, qb)
        wall_s = time.perf_counter() - started
        figures = Figures(BASELINE_ORDER_COUNT, sandbox.request_count - before, wall_s)
        assert books_problems(sandbox.company.all("Invoice"), sandbox.company.all("Payment"),
                              baseline_orders) == []
    return figures


def test_engine_against_per_order_baseline(tmp_path, orders, baseline):
    csv_path = write_orders_csv(tmp_path / "orders.csv", orders)
    # The engine meets QuickBooks' limits (500 requests and 40 batches a minute, 10 a second).
    with SandboxServer(latency_ms=LATENCY_MS, rate_limits=True) as sandbox:
        app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
        try:
            connection = connect_csv(app, sandbox, csv_path)
            engine = app.engine()
            before = sandbox.request_count
            started = time.perf_counter()
            result = engine.run(connection)
            wall_s = time.perf_counter() - started
            figures = Figures(ORDER_COUNT, sandbox.request_count - before, wall_s)
            _report(tmp_path, figures, baseline)
            assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors[:3])
            assert result.synced == ORDER_COUNT
            assert books_problems(sandbox.company.all("Invoice"),
                                  sandbox.company.all("Payment"), orders) == []
            rerun = engine.run(connection, query=OrderQuery())
            assert (rerun.synced, rerun.failed, rerun.documents) == (0, 0, [])
            assert len(sandbox.company.all("Invoice")) == ORDER_COUNT
            assert len(sandbox.company.all("Payment")) == ORDER_COUNT
        finally:
            app.close()
    # Request counts are deterministic; wall time is measured and reported, not asserted.
    assert Decimal(figures.requests) / ORDER_COUNT <= TARGET_REQUESTS_PER_ORDER


def _report(tmp_path, engine: Figures, baseline: Figures) -> None:
    speed_up = baseline.s_per_order / engine.s_per_order
    fewer_requests = baseline.requests_per_order / engine.requests_per_order
    figures = {"latency_ms": LATENCY_MS,
               "engine": engine.as_json(), "baseline": baseline.as_json(),
               "speed_up": round(speed_up, 2), "fewer_requests": round(fewer_requests, 2)}
    (tmp_path / "bench_sync.json").write_text(json.dumps(figures, indent=2))
    print()
    print(f"Paid orders as invoices with payments; sandbox latency {LATENCY_MS} ms")
    print(f"{'':10} {'orders':>7} {'requests':>9} {'req/order':>10} {'wall s':>9} "
          f"{'s/order':>9}")
    for label, row in (("engine", engine), ("baseline", baseline)):
        print(f"{label:10} {row.orders:>7} {row.requests:>9} {row.requests_per_order:>10.3f} "
              f"{row.wall_s:>9.1f} {row.s_per_order:>9.4f}")
    print(f"per order: {speed_up:.1f}x less wall time (target {TARGET_SPEED_UP}x), "
          f"{fewer_requests:.0f}x fewer requests (target at most {TARGET_REQUESTS_PER_ORDER} "
          "per order)")
    print("BENCH_SYNC_JSON " + json.dumps(figures))
