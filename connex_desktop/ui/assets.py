"""Icons from resources/icons (wherever resources/ is), the toolbar's drawn in the palette's ink."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from connex_desktop.resources import resource_path

# The ink the action icons are drawn with in their SVG files, replaced by the palette's.
INK = "#000000"
ACTION_ICON_SIZES_PX = (16, 24, 32, 48)


@cache
def icon(name: str) -> QIcon:
    """An icon from resources/icons/<name>.svg (e.g. "app", "tray-idle")."""
    return QIcon(str(resource_path("icons", f"{name}.svg")))


def action_icon(name: str, palette: QPalette | None = None) -> QIcon:
    """A line icon from resources/icons/action-<name>.svg in the colour of the buttons' text,
    so that it shows on a dark palette as on a light one."""
    palette = palette or QGuiApplication.palette()
    ink = palette.color(QPalette.ColorRole.ButtonText).name()
    svg = resource_path("icons", f"action-{name}.svg").read_text(encoding="utf-8")
    renderer = QSvgRenderer(QByteArray(svg.replace(INK, ink).encode()))
    drawn = QIcon()
    for size in ACTION_ICON_SIZES_PX:
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        drawn.addPixmap(pixmap)
    return drawn
