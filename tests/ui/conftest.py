"""GUI test fixtures: a real app in a temporary folder, the demo, light and dark palettes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QDeadlineTimer, QThreadPool
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from connex_desktop.app import build_app
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.ui.application import Desktop

UI_TESTS = Path(__file__).parent
DEMO_ORDERS = 12
BACKGROUND_WAIT_MS = 30_000
# The offscreen platform has no tray and cannot raise or size windows natively; Qt says so.
OFFSCREEN_LIMITS = (r"No such signal QPlatformNativeInterface::systemTrayWindowChanged"
                    r"|This plugin does not support")


def pytest_collection_modifyitems(items):
    """Every test here needs a QApplication: mark it `gui`, and let Qt warnings fail it."""
    for item in items:
        if UI_TESTS in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_LIMITS))


def settle_background_calls(timeout_ms: int = BACKGROUND_WAIT_MS) -> None:
    """Wait for the pool's calls and deliver their answers, until no call is left.

    An answer may start the next call (a configure dialog's lists, then the company's kind; a
    log's runs, then the selected run's orders): one wait is not enough. A call left running
    would meet a closed sandbox and database, hold a pool thread for its retries, and fail a
    later test of this process with a late answer or a pool too busy for its reads.
    """
    pool = QThreadPool.globalInstance()
    deadline = QDeadlineTimer(timeout_ms)
    while pool.waitForDone(deadline.remainingTime()):
        QCoreApplication.processEvents()
        if not pool.activeThreadCount():
            return


@pytest.fixture
def app(qapp, tmp_path):
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    yield app
    # Background calls (lists, tests, sign-in) finish before the sandbox and database close.
    settle_background_calls()
    app.close()


@pytest.fixture
def desktop(qtbot, app):
    desktop = Desktop(app, tray=True, demo_orders=DEMO_ORDERS)
    qtbot.addWidget(desktop.window)
    yield desktop
    desktop.shutdown()


# ── palettes: what text must read on ───────────────────────────────────────────────────────

Role = QPalette.ColorRole


def light_palette() -> QPalette:
    """Fusion's own: its placeholder grey is what hints used, at 3.4:1 on the window."""
    return QApplication.style().standardPalette()


def dark_palette() -> QPalette:
    """A dark desktop theme's colours, with the half-transparent placeholder Qt derives."""
    palette = QPalette()
    for role, color in ((Role.Window, "#2b2b2b"), (Role.WindowText, "#eeeeee"),
                        (Role.Base, "#1e1e1e"), (Role.AlternateBase, "#262626"),
                        (Role.Text, "#eeeeee"), (Role.Button, "#353535"),
                        (Role.ButtonText, "#eeeeee"), (Role.Highlight, "#2f65ca"),
                        (Role.HighlightedText, "#ffffff")):
        palette.setColor(role, QColor(color))
    palette.setColor(Role.PlaceholderText, QColor(238, 238, 238, 128))
    return palette


@pytest.fixture(params=[light_palette, dark_palette], ids=["light", "dark"])
def palette(request, qapp):
    original = qapp.palette()
    chosen = request.param()
    qapp.setPalette(chosen)
    yield chosen
    qapp.setPalette(original)
