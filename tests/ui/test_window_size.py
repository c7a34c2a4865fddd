"""Windows sized to the screen they open on, and the main window back where it was left."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QAbstractButton, QWidget

from connex_desktop.core.app_settings import WINDOW_PLACE, WindowPlace
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.ui.application import Desktop
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.connections_model import ConnectionsModel
from connex_desktop.ui.connections_table import LAST_SYNC_MIN_WIDTH_PX, widest_that_fits
from tests.ui.conftest import DEMO_ORDERS
from tests.ui.test_main_window import LONG_PREFIX, sync

PANEL_PX = 30     # a desktop's task bar, outside the available geometry


@pytest.fixture
def screen_of(monkeypatch):
    """Makes every screen offer `width` × `height` less a panel; returns that available room."""
    def make(width: int, height: int) -> QRect:
        room = QRect(0, 0, width, height - PANEL_PX)
        monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: QRect(room))
        return room
    return make


def open_desktop(qtbot, app) -> Desktop:
    desktop = Desktop(app, tray=False, demo_orders=DEMO_ORDERS)
    qtbot.addWidget(desktop.window)
    return desktop


def inside(widget: QWidget, room: QRect) -> bool:
    return room.contains(widget.frameGeometry())


def buttons_inside(dialog: QWidget, room: QRect) -> list[str]:
    """The dialog's visible buttons that fall outside `room` (none, when all can be clicked)."""
    return [button.text() for button in dialog.findChildren(QAbstractButton)
            if button.isVisible() and not room.contains(
                QRect(button.mapTo(dialog, button.rect().topLeft()) + dialog.pos(),
                      button.size()))]


def test_the_main_window_fits_a_small_screen(qtbot, app, screen_of):
    room = screen_of(800, 600)
    desktop = open_desktop(qtbot, app)
    connection = desktop.window.try_demo()
    desktop.window.show()
    assert inside(desktop.window, room), desktop.window.frameGeometry()
    # Every order fails: the pane lists failures, and scrolls rather than grow the window.
    app.connections.update(dataclasses.replace(connection, prefix=LONG_PREFIX))
    sync(qtbot, desktop, desktop.window.sync_selected)
    qtbot.waitUntil(lambda: desktop.window.detail.failures.isVisibleTo(desktop.window))
    qtbot.wait(50)
    assert inside(desktop.window, room), desktop.window.frameGeometry()
    # Too narrow to put the selected connection beside the list: it goes under it.
    assert desktop.window.split.orientation() is Qt.Orientation.Vertical
    assert desktop.window.detail.isVisible()
    desktop.shutdown()


def test_the_main_window_uses_a_large_screen(qtbot, app, screen_of):
    room = screen_of(1920, 1080)
    desktop = open_desktop(qtbot, app)
    window = desktop.window
    window.try_demo()
    window.show()
    assert inside(window, room)
    assert window.width() >= 1500 and window.height() >= 850
    # The selected connection's pane sits beside the list.
    assert window.split.orientation() is Qt.Orientation.Horizontal
    assert window.detail.isVisible()
    assert window.detail.x() > window.table.x() + window.table.width()
    desktop.shutdown()


@pytest.mark.parametrize("width, height", [(800, 600), (1440, 900)])
def test_the_last_sync_shows_whatever_the_width(qtbot, app, screen_of, width, height):
    screen_of(width, height)
    desktop = open_desktop(qtbot, app)
    window = desktop.window
    window.try_demo()
    app.connections.add(Connection(
        name="Wholesale orders (file)", source_kind="csv", mode=TransactionMode.INVOICES,
        source_settings={"path": "/home/me/Documents/wholesale-orders-2026.csv"},
        statuses=("completed", "processing")))
    window.show()
    window.reload()
    table = window.table
    assert table.columnWidth(ConnectionsModel.LAST_SYNC) >= LAST_SYNC_MIN_WIDTH_PX
    assert table.horizontalScrollBar().maximum() == 0       # nothing hidden to the right
    # A heading that gives way ends in "…", not cut at both ends ("uickBooks compar").
    assert table.horizontalHeader().textElideMode() == Qt.TextElideMode.ElideRight
    desktop.shutdown()


def test_the_sync_log_and_configure_fit_800_by_600(qtbot, app, screen_of):
    room = screen_of(800, 600)
    desktop = open_desktop(qtbot, app)
    window = desktop.window
    connection = window.try_demo()
    window.show()
    log = window.show_log(connection.id)
    qtbot.waitUntil(lambda: not log.loading)
    log.move(room.topLeft())
    assert inside(log, room), log.frameGeometry()
    assert buttons_inside(log, room) == []
    configure = ConfigureDialog(app, connection, parent=window)
    qtbot.addWidget(configure)
    configure.show()
    configure.move(room.topLeft())
    assert inside(configure, room), configure.frameGeometry()
    assert buttons_inside(configure, room) == []
    log.close()
    desktop.shutdown()


def test_the_window_opens_where_it_was_left(qtbot, app, screen_of):
    screen_of(1920, 1080)
    first = open_desktop(qtbot, app)
    first.window.show()
    first.window.setGeometry(120, 90, 1000, 700)
    first.window.close()
    first.shutdown()
    assert app.settings.get(WINDOW_PLACE) == WindowPlace(120, 90, 1000, 700)

    again = open_desktop(qtbot, app)
    again.window.show()
    assert again.window.geometry() == QRect(120, 90, 1000, 700)
    again.shutdown()


@pytest.mark.parametrize("screen, place", [
    ((1280, 800), WindowPlace(2200, 100, 1200, 800)),   # on a second monitor, since unplugged
    ((800, 600), WindowPlace(0, 0, 1900, 1000)),         # on a larger screen than this one
], ids=["on a screen now gone", "too big for this screen"])
def test_a_place_that_no_longer_fits_is_not_kept(qtbot, app, screen_of, screen, place):
    room = screen_of(*screen)
    app.settings.set(WINDOW_PLACE, place)
    desktop = open_desktop(qtbot, app)
    desktop.window.show()
    assert inside(desktop.window, room), desktop.window.frameGeometry()
    desktop.shutdown()


def test_narrow_columns_keep_their_width_and_the_wide_give_way_alike():
    assert widest_that_fits([60, 80, 250, 250], 500) == 180        # 60 + 80 + 180 + 180
    assert widest_that_fits([60, 80, 250], 1000) == 250            # all fit


def test_a_window_left_maximized_opens_maximized(qtbot, app, screen_of):
    screen_of(1920, 1080)
    app.settings.set(WINDOW_PLACE, WindowPlace(100, 80, 1200, 760, maximized=True))
    desktop = open_desktop(qtbot, app)
    assert desktop.window.windowState() & Qt.WindowState.WindowMaximized
    desktop.shutdown()
