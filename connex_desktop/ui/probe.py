"""Qt checks run from outside the GUI: the self-check's platform probe and the start-up timer."""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QLibraryInfo, QObject, QTimer, qVersion
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QMainWindow

from connex_desktop.ui.assets import icon

ICON_PROBE_SIZE_PX = 32
STARTUP_MARKER = "first window shown"


def _has_display() -> bool:
    if not sys.platform.startswith("linux"):
        return True  # Windows and macOS always have their window system
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def qt_platform() -> tuple[str, str]:
    """Start Qt as the window would and draw the app icon: (platform, note). Raises on failure.

    With no display on Linux (and no QT_QPA_PLATFORM chosen), Qt's default platform would abort
    the process, so the probe uses the offscreen platform and says so in the note.
    """
    arguments = sys.argv[:1]
    note = ""
    if QGuiApplication.instance() is None and not os.environ.get("QT_QPA_PLATFORM") \
            and not _has_display():
        arguments += ["-platform", "offscreen"]
        note = "no display found: checked offscreen; the window needs a desktop session"
    application = QGuiApplication.instance() or QGuiApplication(arguments)
    assert isinstance(application, QGuiApplication)
    # Drawing an SVG needs the qsvg icon engine plugin, which a frozen bundle may lack.
    if icon("app").pixmap(ICON_PROBE_SIZE_PX, ICON_PROBE_SIZE_PX).isNull():
        plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
        raise RuntimeError(f"Qt cannot draw the SVG app icon (plugins looked for in {plugins})")
    return f"{application.platformName()}, Qt {qVersion()}, SVG icons draw", note


class _FirstWindowShown(QObject):
    """Prints the start-up time when the main window first paints, then quits the app."""

    def __init__(self, started_s: float) -> None:
        super().__init__()
        self._started_s = started_s
        self._done = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._done and event.type() == QEvent.Type.Paint \
                and isinstance(watched, QMainWindow):
            self._done = True
            elapsed_ms = (time.perf_counter() - self._started_s) * 1000
            print(f"{STARTUP_MARKER} after {elapsed_ms:.0f} ms in-process", flush=True)
            QTimer.singleShot(0, QApplication.quit)
        return False


def quit_when_first_window_shown(started_s: float) -> None:
    """Make the coming `gui` run print a marker line and quit once its main window is painted.

    The benchmark times launch → this line from outside; the in-process figure on the line
    (from `started_s`, a perf_counter() taken in main) leaves out the interpreter's own start.
    """
    application = QApplication.instance() or QApplication(sys.argv[:1])
    watcher = _FirstWindowShown(started_s)
    watcher.setParent(application)
    application.installEventFilter(watcher)
