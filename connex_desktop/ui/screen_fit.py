"""Window sizes that fit the screen a window is on, and the main window's remembered place."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QWidget

from connex_desktop.core.app_settings import WindowPlace

# Room left around a window for its frame and the desktop's panels.
SCREEN_MARGIN_PX = 40
# The main window takes all of a small screen, most of a larger one, and stops growing.
MAIN_WINDOW_SHARE = 0.85
COMFORTABLE_SIZE = QSize(1280, 800)
MAIN_WINDOW_MAX = QSize(1680, 1050)
# A remembered place counts as on a screen when this much of it is visible there.
VISIBLE_ENOUGH_PX = 100


def screen_of(widget: QWidget) -> QScreen:
    """The screen the widget is on (its parent's, before it is shown), else the primary one."""
    return widget.screen() or QGuiApplication.primaryScreen()


def room_on_screen(widget: QWidget) -> QRect:
    """The part of the widget's screen that windows may use, less a margin for their frames."""
    room = screen_of(widget).availableGeometry()
    margin = SCREEN_MARGIN_PX // 2
    return room.adjusted(margin, margin, -margin, -margin)


def fit_to_screen(widget: QWidget, width: int, height: int) -> None:
    """Resize a window to the size it prefers, or smaller where the screen has less room."""
    room = room_on_screen(widget)
    widget.resize(min(width, room.width()), min(height, room.height()))


def size_main_window(window: QWidget, place: WindowPlace | None) -> None:
    """The remembered place, kept within the screen it is on; else a share of the screen,
    centred (the first time, or when the place is on a screen that is gone)."""
    screen = _screen_showing(place) if place is not None else None
    if place is not None and screen is not None:
        room = screen.availableGeometry()
        size = QSize(place.width, place.height).boundedTo(
            room.size() - QSize(SCREEN_MARGIN_PX, SCREEN_MARGIN_PX))
        # Moved back in as far as it sticks out.
        x = max(room.left(), min(place.x, room.right() + 1 - size.width()))
        y = max(room.top(), min(place.y, room.bottom() + 1 - size.height()))
        window.setGeometry(x, y, size.width(), size.height())
        if place.maximized:
            window.setWindowState(Qt.WindowState.WindowMaximized)
        return
    room = room_on_screen(window)
    size = room.size().boundedTo(
        (room.size() * MAIN_WINDOW_SHARE).expandedTo(COMFORTABLE_SIZE)).boundedTo(
        MAIN_WINDOW_MAX)
    window.resize(size)
    window.move(room.center() - QRect(QPoint(0, 0), size).center())


def place_of(window: QWidget) -> WindowPlace:
    """Where the window is now; a maximized one keeps its normal size for when it is restored."""
    normal = window.normalGeometry() if window.isMaximized() else window.geometry()
    return WindowPlace(normal.x(), normal.y(), normal.width(), normal.height(),
                       maximized=window.isMaximized())


def _screen_showing(place: WindowPlace) -> QScreen | None:
    """The screen showing most of the place; None when none shows enough of it (the place was
    on a monitor since unplugged)."""
    rect = QRect(place.x, place.y, place.width, place.height)
    shown = [(area.width() * area.height(), screen) for screen in QGuiApplication.screens()
             if min((area := rect.intersected(screen.availableGeometry())).width(),
                    area.height()) >= VISIBLE_ENOUGH_PX]
    return max(shown, key=lambda pair: pair[0])[1] if shown else None
