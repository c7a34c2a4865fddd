"""Connect to QuickBooks in one click: through the connect service, the sandbox playing Intuit."""

from __future__ import annotations

import threading
from html import escape

import pytest
import requests
from PySide6.QtWidgets import QLabel

from connex_desktop.app import quickbooks_key_prefix
from connex_desktop.connect_service.local import LocalConnectService
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.quickbooks.auth import CLIENT_SECRET, REFRESH_TOKEN
from connex_desktop.quickbooks.connect_client import SERVICE_ENV
from connex_desktop.sandbox.seed import COMPANY_NAME
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.storage.keyring_secrets import KeyringUnavailable
from connex_desktop.ui import service_sign_in
from connex_desktop.ui.connect_dialog import ConnectDialog
from tests.connect_service.conftest import Browser

SIGN_IN_TIMEOUT_MS = 20_000


@pytest.fixture
def service(monkeypatch):
    with SandboxServer() as sandbox, LocalConnectService(sandbox=sandbox) as running:
        monkeypatch.setenv(SERVICE_ENV, running.url)
        yield running, sandbox


@pytest.fixture
def shop(app):
    """A connection with no QuickBooks keys at all: what a new user has."""
    return app.connections.add(Connection(name="Web shop", source_kind="demo",
                                          mode=TransactionMode.INVOICES))


def browser_that(monkeypatch, *, approves: bool) -> tuple[list[str], list[requests.Response]]:
    """The system browser: the user approves on Intuit's page (or never does)."""
    opened: list[str] = []
    landed: list[requests.Response] = []

    def open_url(url) -> bool:
        opened.append(url.toString())
        if approves:
            threading.Thread(target=lambda: landed.append(Browser().approve(opened[-1])),
                             daemon=True).start()
        return True

    monkeypatch.setattr(service_sign_in.QDesktopServices, "openUrl", open_url)
    return opened, landed


def secret(app, connection, name):
    return app.secrets.get(f"{quickbooks_key_prefix(connection.id)}/{name}")


def test_one_button_connects_through_the_service(qtbot, app, shop, service, monkeypatch):
    running, sandbox = service
    opened, landed = browser_that(monkeypatch, approves=True)
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    assert dialog.advanced.isHidden()             # the keys form waits under Advanced
    assert "Press Connect to QuickBooks" in dialog.status.text()
    with qtbot.waitSignal(dialog.connected, timeout=SIGN_IN_TIMEOUT_MS) as done:
        dialog.service_sign_in.connect_button.click()
    assert sandbox.client_id in opened[0] and sandbox.client_secret not in opened[0]
    qtbot.waitUntil(lambda: bool(landed), timeout=SIGN_IN_TIMEOUT_MS)
    assert landed[0].status_code == 200
    assert "Connex Desktop is finishing" in landed[0].text and "Connected" not in landed[0].text
    assert f"Connected to {escape(COMPANY_NAME)}" in Browser().check_again(landed[0]).text
    company = done.args[0].quickbooks
    assert (company.realm_id, company.company_name) == (sandbox.realm_id, COMPANY_NAME)
    assert company.connect_service == running.url and company.client_id == ""
    assert app.connections.get_by_id(shop.id).quickbooks == company
    assert f"Connected to <b>{escape(COMPANY_NAME)}</b>" in dialog.status.text()
    assert secret(app, shop, REFRESH_TOKEN) and secret(app, shop, CLIENT_SECRET) is None
    assert dialog.service_sign_in.cancel_button.isHidden()

    sandbox.inject("expire_tokens")               # a refresh, through the service
    connected = app.connections.get_by_id(shop.id)
    before = secret(app, shop, REFRESH_TOKEN)
    with app.quickbooks_client(connected) as client:
        assert client.company_info()["CompanyName"] == COMPANY_NAME
    assert secret(app, shop, REFRESH_TOKEN) not in (None, before)


def test_a_keyring_that_fails_to_store_leaves_the_browser_not_connected(
        qtbot, app, shop, service, monkeypatch):
    _opened, landed = browser_that(monkeypatch, approves=True)

    def locked_keyring(*_args, **_kwargs) -> None:
        raise KeyringUnavailable("the keyring is locked; unlock it and try again")

    monkeypatch.setattr(app.secrets, "set", locked_keyring)   # the keyring refuses to store
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.service_sign_in.failed, timeout=SIGN_IN_TIMEOUT_MS):
        dialog.service_sign_in.connect_button.click()
    assert "the keyring is locked" in dialog.status.text()
    assert not app.connections.get_by_id(shop.id).quickbooks.connected
    qtbot.waitUntil(lambda: bool(landed), timeout=SIGN_IN_TIMEOUT_MS)
    page = Browser().check_again(landed[0])
    assert "Not connected" in page.text and "the keyring is locked" in page.text
    assert "Connected to" not in page.text


def test_waiting_shows_the_link_to_copy_and_cancel_stops(qtbot, app, shop, service,
                                                        monkeypatch):
    opened, _landed = browser_that(monkeypatch, approves=False)
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    sign_in = dialog.service_sign_in
    sign_in.connect_button.click()
    qtbot.waitUntil(lambda: not sign_in.link.isHidden(), timeout=SIGN_IN_TIMEOUT_MS)
    assert sign_in.link.text() == opened[0]
    assert "finishes by itself" in dialog.status.text()
    sign_in.copy_button.click()
    assert service_sign_in.QGuiApplication.clipboard().text() == opened[0]
    assert not sign_in.connect_button.isEnabled()

    sign_in.cancel_button.click()
    assert sign_in.link.isHidden() and sign_in.connect_button.isEnabled()
    assert "Not connected" in dialog.status.text()
    Browser().approve(opened[0])                  # approving after Cancel connects nothing
    qtbot.wait(1500)
    assert not app.connections.get_by_id(shop.id).quickbooks.connected
    assert secret(app, shop, REFRESH_TOKEN) is None


def test_without_a_service_the_own_keys_form_is_shown(qtbot, app, shop, monkeypatch):
    monkeypatch.delenv(SERVICE_ENV, raising=False)
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    assert not dialog.advanced.isHidden()
    assert not dialog.service_sign_in.isEnabled()
    texts = [label.text() for label in dialog.advanced.findChildren(QLabel)]
    assert any("developer.intuit.com" in text and "client ID and secret" in text
               for text in texts)
