"""A QuickBooks Desktop sync through the Web Connector in the window: its wait for the Web
Connector is said, and Cancel ends it at once; the next sync books every order once."""

from __future__ import annotations

import time

import pytest

from connex_desktop.app import App
from connex_desktop.connections import WEB_CONNECTOR_PASSWORD, web_connector_user
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.qbdesktop.fake.connector import RunningWebConnector, ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.qbdesktop.transport import WEB_CONNECTOR_WAIT
from tests.qbdesktop.conftest import seeded_company
from tests.qbdesktop.schema import schema_errors
from tests.qbdesktop.test_desktop_engine import (
    ORDERS,
    PASSWORD,
    booked_as_ordered,
    desktop_connection,
)
from tests.qbdesktop.test_web_connector_cancel import PROMPT_S, listening
from tests.sync.conftest import write_orders
from tests.ui.test_main_window import FINISH_TIMEOUT_MS, sync

WAIT_SAID_MS = 10_000


class WebConnectors:
    """Each run's service, and the scripted Web Connector calling it once `calls` is on."""

    def __init__(self, app: App) -> None:
        self.quickbooks = FakeQuickBooks(seeded_company(), validator=schema_errors)
        self.calls = False
        self.servers: list[WebConnectorServer] = []
        self.running: list[RunningWebConnector] = []
        app.web_connector_port = 0
        app.web_connector_started = self.started

    def started(self, server: WebConnectorServer) -> None:
        self.servers.append(server)
        if self.calls:
            connector = ScriptedWebConnector(server.url, web_connector_user(1), PASSWORD,
                                             self.quickbooks)
            self.running.append(RunningWebConnector(connector).start())


@pytest.fixture
def web_connectors(app):
    connectors = WebConnectors(app)
    yield connectors
    for connector in connectors.running:
        connector.stop()


def desktop_shop(desktop, tmp_path) -> Connection:
    app, window = desktop.app, desktop.window
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.SALES_ORDERS_INVOICES_POS)
    assert shop.id == 1
    app.secrets.set(connection_secret_key(shop.id, WEB_CONNECTOR_PASSWORD), PASSWORD)
    window.reload(select_id=shop.id)
    return shop


def test_cancel_ends_the_wait_for_the_web_connector_and_the_next_sync_books_once(
        qtbot, desktop, web_connectors, tmp_path):
    window = desktop.window
    shop = desktop_shop(desktop, tmp_path)
    waiting = f"Syncing {shop.name}: Waiting for {WEB_CONNECTOR_WAIT}"
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert window.sync_selected() is None
        # Said as it is: whom the run waits for and what to do, in the window and the tray.
        qtbot.waitUntil(lambda: window.progress_label.text() == waiting, timeout=WAIT_SAID_MS)
        assert f"{shop.name}: Waiting for {WEB_CONNECTOR_WAIT}" in desktop.tray.toolTip()
        assert window.model.index(0, 5).data().startswith(
            f"Syncing… waiting for {WEB_CONNECTOR_WAIT}, ")
        (server,) = web_connectors.servers
        assert listening(server)
        qtbot.waitUntil(window.cancel_action.isEnabled)
        pressed = time.monotonic()
        window.cancel_action.trigger()
    assert time.monotonic() - pressed < PROMPT_S
    _cid, cancelled, _request = done.args
    assert cancelled.status is RunStatus.CANCELLED
    assert "Cancelled" in window.model.index(0, 5).data()
    assert web_connectors.quickbooks.company.txns == {}
    assert not listening(server)

    web_connectors.calls = True     # Update Selected, this time
    _cid, synced, _request = sync(qtbot, desktop, window.sync_selected)
    assert synced.status is RunStatus.SUCCEEDED, (synced.message, synced.errors)
    booked_as_ordered(web_connectors.quickbooks)
