"""A run reads its order file once: the cursor's orders and the failed ones tried again."""

from __future__ import annotations

from collections.abc import Iterator

from connex_desktop.core.model import Order
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.csv_file import CsvSource
from tests.sync.conftest import by_number, row
from tests.sync.test_engine_healing import (
    KNOWN_SKU,
    NEW_SKU,
    create_item,
    failing_on_missing_items,
    write_old,
)


def test_a_plain_sync_retrying_failed_orders_reads_the_file_once(app, sandbox, tmp_path,
                                                                 monkeypatch):
    path = write_old(tmp_path / "orders.csv", [
        row("7601", NEW_SKU, "2", "24.50"), row("7602", KNOWN_SKU, "1", "18.00"),
        row("7603", "NO-SUCH-SKU", "1", "5.00")])
    connection = failing_on_missing_items(app, sandbox, path)
    assert app.engine().run(connection).failed == 2
    create_item(sandbox, NEW_SKU, "Canvas Lantern")

    reads: list[OrderQuery] = []
    read = CsvSource.fetch_orders

    def counted(self: CsvSource, query: OrderQuery,
                cancel: CancelToken) -> Iterator[Order | FailedOrder]:
        reads.append(query)
        return read(self, query, cancel)

    monkeypatch.setattr(CsvSource, "fetch_orders", counted)
    second = app.engine().run(connection)
    assert len(reads) == 1   # one pass for the cursor's orders and the two that failed
    assert (second.fetched, second.synced, second.failed) == (2, 1, 1)
    assert sorted(by_number(sandbox, "Invoice")) == ["7601", "7602"]
