"""Benchmark: how long the window stalls while the sync log of a 3,000-order run opens.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/pytest -m bench -s tests/bench/bench_log.py`.
A 5 ms timer on the GUI thread records the gap between its ticks: first with nothing
happening (the baseline: the timer's own jitter), then while the log opens, reads the run
(in the background) and shows it, then while the table is filtered, searched and sorted.
A gap much longer than 5 ms is time the window could not repaint or answer a click. For
comparison it also times the read the log used to make on the GUI thread.
"""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QThreadPool

from connex_desktop.app import build_app
from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.storage.sync_log import read_run_log
from connex_desktop.ui.application import Desktop
from tests.bench.stall_probe import PROBE_INTERVAL_MS, StallProbe
from tests.ui.test_sync_log import record_run

pytestmark = pytest.mark.bench

RUN_ORDERS = 3_000
STEP_TIMEOUT_S = 60
STALL_LIMIT_MS = 50


def test_opening_the_log_of_a_3000_order_run_never_stalls_the_window(qapp, tmp_path):
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    desktop = Desktop(app, tray=False)
    try:
        connection = app.connections.add(Connection(
            name="Web store", source_kind="csv", mode=TransactionMode.INVOICES_WITH_PAYMENTS,
            source_settings={"path": str(tmp_path / "orders.csv")}))
        with app.database.transaction():
            run_id = record_run(app, connection.id, RUN_ORDERS)
        desktop.window.show()
        started = time.perf_counter()
        read_run_log(app.runs, app.ledger, app.runs.get(run_id), QuickBooksProduct.ONLINE)
        read_on_gui_thread_ms = (time.perf_counter() - started) * 1000

        probe = StallProbe()
        report = {"orders": RUN_ORDERS,
                  "baseline": probe.measure(lambda: None, lambda: True)}
        opened: list = []
        report["open the log"] = probe.measure(
            lambda: opened.append(desktop.window.show_log(connection.id)),
            lambda: bool(opened) and not opened[0].loading)
        log = opened[0]
        assert len(log.orders_model.rows) == RUN_ORDERS
        pane = log.orders
        report["filter: failed"] = probe.measure(
            lambda: pane.filter_combo.setCurrentIndex(pane.filter_combo.findText(
                "Failed", Qt.MatchFlag.MatchStartsWith)), lambda: True)
        report["search a customer"] = probe.measure(
            lambda: pane.search_edit.setText("buyer 29"), lambda: True)
        pane.search_edit.clear()
        pane.filter_combo.setCurrentIndex(0)
        report["sort by customer"] = probe.measure(
            lambda: log.orders_view.sortByColumn(log.orders_model.CUSTOMER,
                                                 Qt.SortOrder.DescendingOrder), lambda: True)
        report["scroll to the end"] = probe.measure(log.orders_view.scrollToBottom, lambda: True)
        report["the read, had it been on the GUI thread (ms)"] = round(read_on_gui_thread_ms, 1)
    finally:
        desktop.shutdown()
        QThreadPool.globalInstance().waitForDone(STEP_TIMEOUT_S * 1000)
        QCoreApplication.processEvents()
        app.close()

    print(f"\nGUI thread stalls with the sync log of a {RUN_ORDERS:,}-order run "
          f"(a {PROBE_INTERVAL_MS} ms timer's gaps):")
    print(f"{'step':<24} {'longest ms':>10} {'p99 ms':>8} {'ticks':>6}")
    for step, shown in report.items():
        if isinstance(shown, dict):
            print(f"{step:<24} {shown['longest_ms']:>10} {shown['p99_ms']:>8} "
                  f"{shown['ticks']:>6}")
    print(f"Reading the run as the log did before, on the GUI thread: "
          f"{read_on_gui_thread_ms:.0f} ms")
    print("BENCH_LOG_JSON " + json.dumps(report))
    (tmp_path / "bench_log.json").write_text(json.dumps(report, indent=2))
    assert report["open the log"]["longest_ms"] < STALL_LIMIT_MS
