"""Connect to QuickBooks: the browser sign-in against the sandbox, state checked, disconnect."""

from __future__ import annotations

import dataclasses
import socket
import threading
from html import escape

import pytest
import requests

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.modes import TransactionMode
from connex_desktop.quickbooks.auth import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN
from connex_desktop.sandbox.oauth import TOKEN_PATH
from connex_desktop.sandbox.seed import COMPANY_NAME
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.ui import connect_dialog
from connex_desktop.ui.connect_dialog import ConnectDialog, is_loopback

SIGN_IN_TIMEOUT_MS = 20_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def sandbox():
    server = SandboxServer().start()
    yield server
    server.stop()


@pytest.fixture
def shop(app, sandbox):
    """A connection that knows the sandbox's app keys but has not signed in yet."""
    return app.connections.add(Connection(
        name="Web shop", source_kind="demo", mode=TransactionMode.INVOICES,
        quickbooks=QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                                     redirect_uri=f"http://localhost:{free_port()}/callback")))


@pytest.fixture
def browser(monkeypatch):
    """The system browser: follows QuickBooks' consent page and its redirect, like a user."""
    opened: list[str] = []
    landed: list[requests.Response] = []

    def open_url(url):
        opened.append(url.toString())
        threading.Thread(target=lambda: landed.append(requests.get(opened[-1], timeout=10)),
                         daemon=True).start()
        return True

    monkeypatch.setattr(connect_dialog.QDesktopServices, "openUrl", open_url)
    return opened, landed


def secret(app, connection, name):
    return app.secrets.get(f"{quickbooks_key_prefix(connection.id)}/{name}")


def test_loopback_sign_in_connects_and_shows_the_company(qtbot, app, sandbox, shop, browser):
    opened, landed = browser
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    assert not dialog.disconnect_button.isEnabled()
    assert dialog.environment.currentData() == "custom"
    dialog.client_secret.setText(sandbox.client_secret)
    with qtbot.waitSignal(dialog.connected, timeout=SIGN_IN_TIMEOUT_MS) as done:
        assert dialog.authorize() is None
    assert "state=" in opened[0] and "client_id=" in opened[0]
    assert landed and landed[0].status_code == 200 and "Connected" in landed[0].text
    connected = done.args[0]
    assert connected.quickbooks.realm_id == sandbox.realm_id
    assert connected.quickbooks.company_name == COMPANY_NAME
    assert app.connections.get_by_id(shop.id).quickbooks == connected.quickbooks
    assert f"Connected to <b>{escape(COMPANY_NAME)}</b>" in dialog.status.text()
    assert secret(app, shop, CLIENT_SECRET) == sandbox.client_secret
    assert secret(app, shop, REFRESH_TOKEN)
    assert dialog.disconnect_button.isEnabled()
    # The secret is saved; the field stays empty and says so.
    again = ConnectDialog(app, connected)
    qtbot.addWidget(again)
    assert again.client_secret.text() == "" and "Saved" in again.client_secret.placeholderText()


def test_an_answer_with_a_foreign_state_is_refused(qtbot, app, sandbox, shop, monkeypatch):
    monkeypatch.setattr(connect_dialog.QDesktopServices, "openUrl", lambda url: True)
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    dialog.redirect_uri.setText("https://example.com/connex/landed")     # production style
    dialog.client_secret.setText(sandbox.client_secret)
    dialog.authorize()
    assert dialog.listener is None                 # no loopback: the user pastes the address
    qtbot.waitUntil(dialog.authorize_button.isEnabled, timeout=SIGN_IN_TIMEOUT_MS)
    dialog.pasted_url.setText("https://example.com/connex/landed?code=AB1&state=forged"
                              f"&realmId={sandbox.realm_id}")
    dialog.use_pasted.click()
    assert "does not belong to this attempt" in dialog.status.text()
    assert not app.connections.get_by_id(shop.id).quickbooks.connected
    assert secret(app, shop, REFRESH_TOKEN) is None


def test_disconnect_revokes_and_deletes_the_tokens(qtbot, app, sandbox, shop, browser):
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    dialog.client_secret.setText(sandbox.client_secret)
    with qtbot.waitSignal(dialog.connected, timeout=SIGN_IN_TIMEOUT_MS):
        dialog.authorize()
    token = secret(app, shop, REFRESH_TOKEN)
    dialog.disconnect_company()
    qtbot.waitUntil(lambda: not app.connections.get_by_id(shop.id).quickbooks.connected,
                    timeout=SIGN_IN_TIMEOUT_MS)
    assert secret(app, shop, REFRESH_TOKEN) is None and secret(app, shop, ACCESS_TOKEN) is None
    refused = requests.post(sandbox.base_url + TOKEN_PATH,
                            data={"grant_type": "refresh_token", "refresh_token": token},
                            auth=(sandbox.client_id, sandbox.client_secret), timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    assert "Enter your Intuit app's keys" in dialog.status.text()


def test_a_revoked_connection_says_reconnect_in_the_list(qtbot, desktop):
    app, window = desktop.app, desktop.window
    demo = window.try_demo()
    store = app.secrets_for(demo)
    prefix = quickbooks_key_prefix(demo.id)
    store.set(f"{prefix}/{ACCESS_TOKEN}", "revoked-access")
    store.set(f"{prefix}/{REFRESH_TOKEN}", "revoked-refresh")
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=SIGN_IN_TIMEOUT_MS) as done:
        window.sync_selected()
    assert done.args[1].message.startswith("Reconnect to QuickBooks")
    assert window.model.index(0, 2).data() == f"{COMPANY_NAME}: Reconnect to QuickBooks"
    assert window.progress_label.text().startswith("Cannot sync: Reconnect to QuickBooks")


def test_loopback_detection():
    assert is_loopback("http://localhost:8765/callback")
    assert is_loopback("http://127.0.0.1:9000/")
    assert not is_loopback("https://localhost:8765/callback")
    assert not is_loopback("https://example.com/callback")
    assert not is_loopback("http://localhost/callback")       # a port is needed to listen


def test_the_environment_choice_round_trips(qtbot, app):
    connection = app.connections.add(Connection(
        name="Live", source_kind="demo", mode=TransactionMode.INVOICES,
        quickbooks=QuickBooksCompany(environment="production", client_id="ABC")))
    dialog = ConnectDialog(app, connection)
    qtbot.addWidget(dialog)
    assert dialog.environment.currentData() == "production"
    assert not dialog.custom_url.isEnabled()
    dialog.client_id.setText("")
    assert dialog.authorize() == "Enter your Intuit app's client ID."
    assert dataclasses.replace(connection).quickbooks.client_id == "ABC"
