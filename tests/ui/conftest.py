"""GUI test fixtures: a real app in a temporary folder, the demo company, Qt warnings failing."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QThreadPool

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


@pytest.fixture
def app(qapp, tmp_path):
    app = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    yield app
    # Background calls (lists, tests, sign-in) finish before the sandbox and database close.
    QThreadPool.globalInstance().waitForDone(BACKGROUND_WAIT_MS)
    QCoreApplication.processEvents()      # their answers, delivered while the database is open
    app.close()


@pytest.fixture
def desktop(qtbot, app):
    desktop = Desktop(app, tray=True, demo_orders=DEMO_ORDERS)
    qtbot.addWidget(desktop.window)
    yield desktop
    desktop.shutdown()
