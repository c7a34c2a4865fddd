"""Connect to QuickBooks: the browser sign-in against the sandbox, state checked, disconnect."""

from __future__ import annotations

import dataclasses
import socket
import threading
from html import escape
from urllib.parse import urlsplit

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
from connex_desktop.ui.loopback_listener import MAX_FOREIGN_ANSWERS
from tests.loopback import free_port, has_ipv6_loopback

SIGN_IN_TIMEOUT_MS = 20_000


def browse(qtbot, url: str, **options) -> requests.Response | Exception:
    """One browser tab: fetches `url` off the GUI thread while Qt serves the listener."""
    got: list[requests.Response | Exception] = []

    def fetch() -> None:
        try:
            got.append(requests.get(url, timeout=10, **options))
        except requests.RequestException as error:
            got.append(error)

    threading.Thread(target=fetch, daemon=True).start()
    qtbot.waitUntil(lambda: bool(got), timeout=SIGN_IN_TIMEOUT_MS)
    return got[0]


def redirect_of(qtbot, authorization_url: str) -> str:
    """Where QuickBooks' consent page sends the browser back (code, state and realmId)."""
    answer = browse(qtbot, authorization_url, allow_redirects=False)
    assert isinstance(answer, requests.Response) and answer.status_code == 302
    return answer.headers["Location"]


def with_state(callback: str, state: str) -> str:
    parts = urlsplit(callback)
    query = "&".join(pair if not pair.startswith("state=") else f"state={state}"
                     for pair in parts.query.split("&"))
    return parts._replace(query=query).geturl()


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
    qtbot.waitUntil(lambda: bool(landed), timeout=SIGN_IN_TIMEOUT_MS)
    # The tab is answered after the exchange: it names the company QuickBooks connected.
    assert landed[0].status_code == 200 and "Connected" in landed[0].text
    assert escape(COMPANY_NAME, quote=True) in landed[0].text
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
    # What the dialog says once the disconnect is done (the connection is saved a moment before,
    # on the background thread: waiting on that, the dialog could still say "Disconnecting…").
    qtbot.waitUntil(lambda: "Or enter your own Intuit app's keys below" in dialog.status.text(),
                    timeout=SIGN_IN_TIMEOUT_MS)
    assert not app.connections.get_by_id(shop.id).quickbooks.connected
    assert secret(app, shop, REFRESH_TOKEN) is None and secret(app, shop, ACCESS_TOKEN) is None
    refused = requests.post(sandbox.base_url + TOKEN_PATH,
                            data={"grant_type": "refresh_token", "refresh_token": token},
                            auth=(sandbox.client_id, sandbox.client_secret), timeout=10)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


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
    assert is_loopback("http://[::1]:9000/callback")
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


@pytest.fixture
def manual_browser(monkeypatch):
    """The system browser, driven by the test: the addresses the app opened."""
    opened: list[str] = []
    monkeypatch.setattr(connect_dialog.QDesktopServices, "openUrl",
                        lambda url: opened.append(url.toString()) or True)
    return opened


def start_sign_in(qtbot, app, sandbox, connection, opened: list[str], *,
                  client_secret: str | None = None) -> ConnectDialog:
    dialog = ConnectDialog(app, connection)
    qtbot.addWidget(dialog)
    dialog.client_secret.setText(client_secret or sandbox.client_secret)
    assert dialog.authorize() is None
    qtbot.waitUntil(lambda: bool(opened), timeout=SIGN_IN_TIMEOUT_MS)
    return dialog


def test_an_answer_with_a_wrong_state_gets_an_error_page_and_the_real_one_connects(
        qtbot, app, sandbox, shop, manual_browser):
    dialog = start_sign_in(qtbot, app, sandbox, shop, manual_browser)
    callback = redirect_of(qtbot, manual_browser[0])
    for foreign in (with_state(callback, "forged"), callback.replace("state=", "other=")):
        page = browse(qtbot, foreign)
        assert isinstance(page, requests.Response)
        assert page.status_code == 400 and "Not connected" in page.text
        assert "Connected." not in page.text
    assert not app.connections.get_by_id(shop.id).quickbooks.connected
    assert secret(app, shop, REFRESH_TOKEN) is None
    # The listener kept waiting: the real answer still connects, and says so.
    with qtbot.waitSignal(dialog.connected, timeout=SIGN_IN_TIMEOUT_MS):
        page = browse(qtbot, callback)
    assert isinstance(page, requests.Response) and "Connected." in page.text
    assert app.connections.get_by_id(shop.id).quickbooks.realm_id == sandbox.realm_id


def test_too_many_wrong_answers_end_the_attempt(qtbot, app, sandbox, shop, manual_browser):
    dialog = start_sign_in(qtbot, app, sandbox, shop, manual_browser)
    callback = redirect_of(qtbot, manual_browser[0])
    for _ in range(MAX_FOREIGN_ANSWERS):
        browse(qtbot, with_state(callback, "forged"))
    assert "do not belong to this sign-in" in dialog.status.text()
    assert dialog.authorize_button.isEnabled()
    assert isinstance(browse(qtbot, callback), requests.ConnectionError)   # no longer listening
    assert not app.connections.get_by_id(shop.id).quickbooks.connected


def test_no_success_page_before_the_code_is_exchanged(qtbot, app, sandbox, shop,
                                                      manual_browser):
    dialog = start_sign_in(qtbot, app, sandbox, shop, manual_browser,
                           client_secret="not-the-secret")
    page = browse(qtbot, redirect_of(qtbot, manual_browser[0]))
    assert isinstance(page, requests.Response)
    assert "Connected." not in page.text and "Not connected" in page.text
    assert "client id or client secret" in page.text
    assert "client id or client secret" in dialog.status.text()
    assert not app.connections.get_by_id(shop.id).quickbooks.connected


def test_waiting_for_quickbooks_times_out(qtbot, app, sandbox, shop, manual_browser):
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    dialog.sign_in_wait_ms = 300
    dialog.client_secret.setText(sandbox.client_secret)
    assert dialog.authorize() is None
    qtbot.waitUntil(lambda: "No answer came from QuickBooks within 0.3 seconds"
                    in dialog.status.text(), timeout=SIGN_IN_TIMEOUT_MS)
    assert "Press Authorize in browser to try again" in dialog.status.text()
    assert dialog.authorize_button.isEnabled()
    callback = redirect_of(qtbot, manual_browser[0])
    assert isinstance(browse(qtbot, callback), requests.ConnectionError)


@pytest.mark.skipif(not has_ipv6_loopback(), reason="this computer has no IPv6 loopback")
def test_a_browser_that_resolves_localhost_to_ipv6_is_answered(qtbot, app, sandbox, shop,
                                                               manual_browser):
    assert urlsplit(shop.quickbooks.redirect_uri).hostname == "localhost"
    dialog = start_sign_in(qtbot, app, sandbox, shop, manual_browser)
    callback = redirect_of(qtbot, manual_browser[0]).replace("//localhost:", "//[::1]:")
    with qtbot.waitSignal(dialog.connected, timeout=SIGN_IN_TIMEOUT_MS):
        page = browse(qtbot, callback)
    assert isinstance(page, requests.Response) and "Connected." in page.text


def test_a_port_in_use_is_reported_and_the_browser_is_not_opened(qtbot, app, sandbox, shop,
                                                                 manual_browser):
    port = urlsplit(shop.quickbooks.redirect_uri).port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        dialog = ConnectDialog(app, shop)
        qtbot.addWidget(dialog)
        dialog.client_secret.setText(sandbox.client_secret)
        problem = dialog.authorize()
        qtbot.wait(500)            # time for a browser to be opened, were it going to be
    assert problem is not None and "Cannot listen for QuickBooks' answer" in problem
    assert f"port {port}" in problem and "Nothing was opened in the browser" in problem
    assert manual_browser == []
    assert dialog.listener is None and dialog.authorize_button.isEnabled()
    assert "Cannot listen" in dialog.status.text()


def test_with_no_connect_service_the_dialog_says_how_to_set_one_up(qtbot, app, shop,
                                                                    monkeypatch):
    monkeypatch.delenv("CONNEX_CONNECT_SERVICE", raising=False)
    dialog = ConnectDialog(app, shop)
    qtbot.addWidget(dialog)
    said = dialog.status.text()
    assert "has no connect service set up" in said and "CONNEX_CONNECT_SERVICE" in said
    assert "qb connect NAME --service https://" in said
    assert "Run your own connect service" in said
    assert not dialog.service_sign_in.connect_button.isEnabled()
    assert dialog.advanced_toggle.isChecked()         # own keys: what there is to use

    monkeypatch.setenv("CONNEX_CONNECT_SERVICE", "https://connect.example.com")
    ready = ConnectDialog(app, shop)
    qtbot.addWidget(ready)
    assert ready.status.text().startswith("Not connected. Press Connect to QuickBooks")
