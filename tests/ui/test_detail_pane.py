"""The selected connection's pane: its health, the failures to fix, recent runs, quick actions."""

from __future__ import annotations

import dataclasses
import threading

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QToolButton

from connex_desktop import connection_overview
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.ui import detail_pane
from connex_desktop.ui.colors import MINIMUM_CONTRAST, contrast
from connex_desktop.ui.detail_pane import BADGE_COLORS, FAILURES_SHOWN
from tests.ui.test_look import text_color, worst_contrast
from tests.ui.test_main_window import FINISH_TIMEOUT_MS, LONG_PREFIX, sync


def shown(qtbot, pane):
    """The pane once its background read has come back."""
    qtbot.waitUntil(lambda: pane.overview is not None and pane.badge.text() != "")
    return pane


def button(pane, action):
    return next(found for found in pane.findChildren(QToolButton)
                if found.defaultAction() is action)


def test_the_pane_shows_failures_to_fix_and_the_runs_that_left_them(qtbot, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    pane = shown(qtbot, window.detail)
    assert pane.isVisibleTo(window) and pane.connection_id == connection.id
    assert pane.badge.text() == "Not synced yet"
    assert pane.last_sync.text() == "Never"
    assert pane.next_sync.text() == window.model.index(0, 6).data()
    assert not pane.failures.isVisibleTo(pane)

    app.connections.update(dataclasses.replace(connection, prefix=LONG_PREFIX))
    _cid, result, _request = sync(qtbot, desktop, window.sync_selected)
    assert result.failed > 0
    qtbot.waitUntil(lambda: pane.overview is not None and bool(pane.overview.failures))
    assert pane.badge.text() == f"{result.failed} orders need attention"
    assert pane.failures.isVisibleTo(pane)
    first = app.runs.failed_orders(connection.id)[0]
    assert first.order_number in pane.failures.text() and "21" in pane.failures.text()
    assert result.failed > FAILURES_SHOWN       # the rest are counted, for the log to show
    assert f"and {result.failed - FAILURES_SHOWN} more" in pane.failures.text()
    assert f"{result.failed} failed" in pane.last_sync.text()
    assert pane.recent_runs.text().count("<br>") == 0       # one run so far
    assert f"{result.failed} failed" in pane.recent_runs.text()


def test_the_quick_actions_sync_and_open_the_log(qtbot, desktop):
    window = desktop.window
    connection = window.try_demo()
    pane = shown(qtbot, window.detail)
    sync_button = button(pane, window.sync_action)
    assert sync_button.isEnabled() and sync_button.text() == "Sync now"
    assert not sync_button.icon().isNull()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        qtbot.mouseClick(sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.badge.text() == "All orders booked")
    qtbot.mouseClick(button(pane, window.log_action), Qt.MouseButton.LeftButton)
    assert window.show_log(connection.id).isVisible()
    for action in (window.preview_action, window.configure_action):
        assert button(pane, action).isEnabled()


def test_the_pane_follows_the_selection_and_hides_without_one(qtbot, desktop):
    app, window = desktop.app, desktop.window
    demo = window.try_demo()
    other = app.connections.add(Connection(name="Wholesale", source_kind="demo",
                                           mode=TransactionMode.INVOICES))
    window.reload(select_id=other.id)
    pane = shown(qtbot, window.detail)
    qtbot.waitUntil(lambda: pane.badge.text() == "Not connected to QuickBooks")
    assert "Wholesale" in pane.title.text()
    window.select(demo.id)
    qtbot.waitUntil(lambda: pane.badge.text() == "Not synced yet")
    window.table.clearSelection()
    assert not pane.isVisibleTo(window)


def test_a_long_name_is_shown_whole_above_the_pane(qtbot, desktop):
    """The title wraps across the pane's width, every line of it shown (it was squeezed to a
    few words: "Demo store (QuickBooks Desktop)" read "Demo store")."""
    window = desktop.window
    long_name = desktop.app.connections.add(Connection(
        name="Demo store (QuickBooks Desktop) for the wholesale customers", source_kind="demo",
        mode=TransactionMode.INVOICES))
    window.resize(1240, 760)
    window.show()
    window.reload(select_id=long_name.id)
    title = shown(qtbot, window.detail).title
    qtbot.waitUntil(lambda: title.height() >= title.heightForWidth(title.width()))
    assert title.width() > window.detail.viewport().width() // 2


def test_the_pane_reads_the_database_off_the_gui_thread(qtbot, desktop, monkeypatch):
    readers = []

    def recording(runs, connection_id):
        readers.append(threading.current_thread())
        return connection_overview.read_overview(runs, connection_id)

    monkeypatch.setattr(detail_pane, "read_overview", recording)
    desktop.window.try_demo()
    shown(qtbot, desktop.window.detail)
    assert readers and threading.main_thread() not in readers


def test_the_health_badges_read_at_4_5_to_1():
    for tone, (foreground, background) in BADGE_COLORS.items():
        assert contrast(QColor(foreground), QColor(background)) >= MINIMUM_CONTRAST, tone


def test_the_store_line_reads_at_4_5_to_1(qtbot, palette, desktop):
    desktop.window.try_demo()
    pane = shown(qtbot, desktop.window.detail)
    assert worst_contrast(text_color(pane.store), palette) >= MINIMUM_CONTRAST
