"""A run's orders are freed as they finish: none waits for a full garbage collection."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from connex_desktop.core.model import Order
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.plan import PlannedDocument
from connex_desktop.sync.run_state import DocumentInFlight, OrderInFlight
from tests.sync.conftest import by_number, connect, row, write_orders

ORDERS = 30
PER_ORDER = (Order, OrderInFlight, DocumentInFlight, PlannedDocument)


@pytest.fixture
def cyclic_garbage() -> Iterator[list[object]]:
    """What the cyclic collector finds unreachable from here on (freed by it alone)."""
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_ORDERS_INVOICES_POS])
def test_no_order_of_a_run_is_left_for_the_garbage_collector(app, sandbox, tmp_path,
                                                             cyclic_garbage, mode):
    """A full collection walks every object alive with the GIL held, stalling the window
    whichever thread starts it: an order kept alive by a cycle until then lengthens the walk,
    and 3,000 of them made it 30–100 ms."""
    orders = write_orders(tmp_path / "orders.csv", [
        row(str(5100 + index), "MUG-ENM-12", "2", "12.50", payment_status="paid",
            payment_method="Visa") for index in range(ORDERS)])
    connection = connect(app, sandbox, "Garbage", mode, orders)
    result = app.engine().run(connection)
    assert (result.synced, result.failed) == (ORDERS, 0)
    assert len(by_number(sandbox, "Invoice")) == ORDERS
    gc.collect()
    left = [thing for thing in cyclic_garbage if isinstance(thing, PER_ORDER)]
    assert left == []
