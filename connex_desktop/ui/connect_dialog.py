"""Connect to QuickBooks: one button through the connect service, or (Advanced) own keys."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.connections import quickbooks_key_prefix
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.quickbooks.auth import (
    authorization_url,
    exchange_code,
    new_state,
    parse_callback,
)
from connex_desktop.quickbooks.connect_client import NO_SERVICE
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.colors import error_style
from connex_desktop.ui.loopback_listener import WAIT_MS, LoopbackListener, is_loopback
from connex_desktop.ui.service_sign_in import ServiceSignIn

ENVIRONMENTS = (("production", "Production (your live company)"),
                ("sandbox", "Sandbox (Intuit development keys)"),
                ("custom", "Custom address"))
INTUIT_DEVELOPER_PORTAL = "https://developer.intuit.com/app/developer/myapps"
OWN_KEYS_HELP = (
    "Only if you run your own Intuit app: create one at the "
    f'<a href="{INTUIT_DEVELOPER_PORTAL}">Intuit developer portal</a> (Keys &amp; credentials '
    "gives its client ID and secret; add the redirect URI below to its list).")


class ConnectDialog(QDialog):
    """Connect one connection to a QuickBooks Online company, or disconnect it.

    Signals:
        connected(Connection): saved with its company; tokens are in the secret store.
    """

    connected = Signal(object)

    def __init__(self, app: App, connection: Connection, *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        assert connection.id is not None
        self._app = app
        self._connection = connection
        self._service = app.connection_service()
        self._state = ""
        self._company: QuickBooksCompany | None = None
        self._client_secret = ""
        self.listener: LoopbackListener | None = None
        self.sign_in_wait_ms = WAIT_MS
        self.setWindowTitle(f"Connect {connection.name} to QuickBooks")
        self.resize(640, 380)

        self.advanced = self._own_keys_section(connection.quickbooks)
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.clicked.connect(self.ask_disconnect)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.service_sign_in = ServiceSignIn(app, connection, parent=self)
        self.service_sign_in.waiting.connect(lambda _url: self._say(
            "Sign in and allow access in your browser: this window finishes by itself."))
        self.service_sign_in.connected.connect(self._on_connected)
        self.service_sign_in.failed.connect(self._on_failed)
        self.service_sign_in.cancelled.connect(self._show_connection)
        has_service = bool(app.connect_service())
        self.service_sign_in.setEnabled(has_service)
        self.advanced_toggle = QToolButton(text="Advanced: your own Intuit app's keys",
                                           checkable=True)
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced_toggle.toggled.connect(self._show_advanced)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(self.service_sign_in, 1)
        row.addWidget(self.disconnect_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        layout.addWidget(self.status)
        layout.addSpacing(12)
        layout.addWidget(self.advanced_toggle)
        layout.addWidget(self.advanced)
        layout.addStretch(1)
        layout.addWidget(buttons)
        # Own keys in use, or no service in this copy: the form is what there is to use.
        self.advanced_toggle.setChecked(bool(connection.quickbooks.client_id) or not has_service)
        self._show_advanced(self.advanced_toggle.isChecked())
        self._on_environment_changed()
        self._show_connection()

    # ── form ────────────────────────────────────────────────────────────────────────────────

    def _own_keys_section(self, company: QuickBooksCompany) -> QWidget:
        """The form for the user's own Intuit app (Advanced)."""
        self.environment = QComboBox()
        for value, label in ENVIRONMENTS:
            self.environment.addItem(label, value)
        self.custom_url = QLineEdit()
        self.custom_url.setPlaceholderText("http://127.0.0.1:8080")
        named = company.environment in ("production", "sandbox")
        self.environment.setCurrentIndex(self.environment.findData(
            company.environment if named else "custom" if company.environment else "production"))
        if company.environment and not named:
            self.custom_url.setText(company.environment)
        self.environment.currentIndexChanged.connect(lambda _i: self._on_environment_changed())
        self.client_id = QLineEdit(company.client_id)
        self.client_secret = QLineEdit()
        self.client_secret.setEchoMode(QLineEdit.EchoMode.Password)
        if self._service.saved_client_secret(self._connection):
            self.client_secret.setPlaceholderText("Saved. Type to replace it.")
        self.redirect_uri = QLineEdit(company.redirect_uri)
        self.redirect_uri.setToolTip(
            "Must match a redirect URI of your Intuit app exactly. Development keys may use "
            "http://localhost:PORT/...; production keys need an https page.")
        form = QFormLayout()
        form.addRow("Environment", self.environment)
        form.addRow("Address", self.custom_url)
        form.addRow("Client ID", self.client_id)
        form.addRow("Client secret", self.client_secret)
        form.addRow("Redirect URI", self.redirect_uri)

        self.authorize_button = QPushButton("Authorize in browser")
        self.authorize_button.setDefault(True)
        self.authorize_button.clicked.connect(self.authorize)
        self.pasted_url = QLineEdit()
        self.pasted_url.setPlaceholderText("https://… the address your browser landed on")
        self.use_pasted = QPushButton("Use this address")
        self.use_pasted.clicked.connect(lambda: self.handle_callback(self.pasted_url.text()))
        paste_row = QHBoxLayout()
        paste_row.addWidget(self.pasted_url, 1)
        paste_row.addWidget(self.use_pasted)
        return _advanced_section(form, [self.authorize_button], paste_row)

    def _show_advanced(self, shown: bool) -> None:
        self.advanced.setVisible(shown)
        self.advanced_toggle.setArrowType(Qt.ArrowType.DownArrow if shown
                                          else Qt.ArrowType.RightArrow)

    def _on_environment_changed(self) -> None:
        self.custom_url.setEnabled(self.environment.currentData() == "custom")

    def _show_connection(self) -> None:
        company = self._connection.quickbooks
        self.disconnect_button.setEnabled(company.connected)
        if company.connected:
            self._say(f"Connected to <b>{escape(company.company_name or company.realm_id)}</b>.")
        else:
            self._say("Not connected. Press Connect to QuickBooks and allow access in your "
                      "browser." if self._app.connect_service() else
                      f"{escape(NO_SERVICE)}<br>Or enter your own Intuit app's keys below, then "
                      "authorize in the browser.")

    def _say(self, message: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(error_style() if error else "")
        self.status.setText(message)

    def _environment_value(self) -> str:
        choice = self.environment.currentData()
        return self.custom_url.text().strip() if choice == "custom" else choice

    # ── authorize ───────────────────────────────────────────────────────────────────────────

    def authorize(self) -> str | None:
        """Check the form, then open QuickBooks' consent page in the browser.

        Returns why it cannot start, or None. The address is built in the background: it needs
        the environment's discovery document.
        """
        environment = self._environment_value()
        client_id = self.client_id.text().strip()
        self._client_secret = (self.client_secret.text().strip()
                               or self._service.saved_client_secret(self._connection))
        redirect = self.redirect_uri.text().strip()
        problem = ("Enter the address of the QuickBooks environment." if not environment else
                   "Enter your Intuit app's client ID." if not client_id else
                   "Enter your Intuit app's client secret." if not self._client_secret else
                   "Enter the redirect URI registered for your Intuit app." if not redirect
                   else "")
        if problem:
            self._say(problem, error=True)
            return problem
        self._company = QuickBooksCompany(environment=environment, client_id=client_id,
                                          redirect_uri=redirect)
        self._state = new_state()
        self._drop_listener("A newer sign-in replaced this one.")
        if is_loopback(redirect):
            problem = self._listen(redirect)
            if problem:
                self._state = ""
                self._say(problem, error=True)
                return problem
        self.authorize_button.setEnabled(False)
        self._say("Opening QuickBooks in your browser…")
        company, state = self._company, self._state
        run_in_background(lambda: authorization_url(company, state),
                          on_success=self._on_authorization_url, on_failure=self._on_failed)
        return None

    def _listen(self, redirect: str) -> str | None:
        """Start catching QuickBooks' redirect; returns why it cannot (nothing is opened then)."""
        listener = LoopbackListener(redirect, self._state, wait_ms=self.sign_in_wait_ms,
                                    parent=self)
        why = listener.listen()
        if why:
            listener.deleteLater()
            port = urlsplit(redirect).port
            return (f"Cannot listen for QuickBooks' answer at {escape(redirect)} "
                    f"({escape(why)}). Close the program that uses port {port}, or register "
                    "another redirect URI with a free port in your Intuit app and enter it "
                    "here. Nothing was opened in the browser.")
        listener.callback_received.connect(self.handle_callback)
        listener.gave_up.connect(self._on_listener_gave_up)
        self.listener = listener
        return None

    def _drop_listener(self, reason: str) -> None:
        """Stop listening; a browser tab still waiting is told `reason`."""
        if self.listener is not None:
            self.listener.close()
            self.listener.answer(False, reason)
            self.listener = None

    def _on_listener_gave_up(self, reason: str) -> None:
        self._state = ""
        self.authorize_button.setEnabled(True)
        self._say(escape(reason) + " Nothing was connected. Press Authorize in browser to try "
                  "again.", error=True)

    def _on_authorization_url(self, url: str) -> None:
        self.authorize_button.setEnabled(True)
        self._say("Sign in and allow access in your browser. "
                  + ("This window notices when QuickBooks answers." if self.listener else
                     "Then paste the address the browser landed on below."))
        QDesktopServices.openUrl(QUrl(url))

    def _on_failed(self, error: Exception) -> None:
        self.authorize_button.setEnabled(True)
        detail = getattr(error, "detail", "")
        self._say(escape(str(error)) + (f"<br><small>{escape(detail)}</small>" if detail else ""),
                  error=True)

    def handle_callback(self, url: str) -> None:
        """QuickBooks' redirect (caught or pasted): check `state`, trade the code for tokens.

        The browser tab that brought it is answered only once the company is connected (or
        the exchange failed), so it never says "Connected" for a sign-in that did not end so.
        """
        if self._company is None or not self._state:
            self._say("Press Authorize in browser first.", error=True)
            return
        try:
            code, realm_id = parse_callback(url.strip(), self._state)
        except Exception as error:  # a plain-words QuickBooksFault
            self._on_connect_failed(error)
            return
        if self.listener is not None:
            self.listener.close()
        self._state = ""      # one answer per attempt
        company, secret, service, connection = (self._company, self._client_secret,
                                                self._service, self._connection)
        self._say("Connecting…")

        def connect() -> Connection:
            # The new tokens are tried in memory first: a wrong one never replaces working ones.
            trial = MemorySecretStore()
            connected = exchange_code(company, trial, quickbooks_key_prefix(connection.id or 0),
                                      client_secret=secret, code=code, realm_id=realm_id)
            return service.connect_quickbooks(connection, connected, trial)

        run_in_background(connect, on_success=self._on_connected,
                          on_failure=self._on_connect_failed)

    def _on_connect_failed(self, error: Exception) -> None:
        self._on_failed(error)
        if self.listener is not None:
            self.listener.answer(False, f"{error} Return to Connex Desktop to try again.")

    def _on_connected(self, connection: Connection) -> None:
        """The connection, saved with its company by the connection service."""
        self._connection = connection
        self._show_connection()
        company = connection.quickbooks
        if self.listener is not None:
            self.listener.answer(True, f"Connex Desktop is connected to the QuickBooks company "
                                 f"{company.company_name or company.realm_id}. You can close "
                                 "this tab.")
        self.connected.emit(self._connection)

    # ── disconnect ──────────────────────────────────────────────────────────────────────────

    def ask_disconnect(self) -> None:
        answer = QMessageBox.question(
            self, "Disconnect from QuickBooks",
            "Disconnect this connection from its QuickBooks company? The app's access is revoked "
            "and its tokens are deleted from this computer. Nothing booked is changed.")
        if answer == QMessageBox.StandardButton.Yes:
            self.disconnect_company()

    def disconnect_company(self) -> None:
        """Revoke the tokens at QuickBooks and delete them here, in the background."""
        service, connection_id = self._service, self._connection.id or 0
        self.disconnect_button.setEnabled(False)
        self._say("Disconnecting…")
        run_in_background(lambda: service.disconnect_quickbooks(connection_id),
                          on_success=self._on_disconnected, on_failure=self._on_disconnect_failed)

    def _on_disconnect_failed(self, error: Exception) -> None:
        # The service forgets the tokens here even if QuickBooks could not be told.
        self._on_failed(error)
        self._connection = self._app.connections.get_by_id(self._connection.id or 0)
        self.disconnect_button.setEnabled(False)

    def _on_disconnected(self, connection: Connection) -> None:
        self._connection = connection
        self._show_connection()

    def done(self, result: int) -> None:
        self._drop_listener("The Connect to QuickBooks window was closed. Return to Connex "
                            "Desktop to see whether the connection is there.")
        self.service_sign_in.cancel()
        super().done(result)


def _advanced_section(form: QFormLayout, buttons: list[QPushButton],
                      paste_row: QHBoxLayout) -> QWidget:
    """Bring-your-own Intuit app: a word on where the keys come from, the form, and the box to
    paste the address a production app's redirect page landed on."""
    section = QWidget()
    explanation = QLabel(OWN_KEYS_HELP)
    explanation.setWordWrap(True)
    explanation.setOpenExternalLinks(True)
    paste_hint = QLabel("With production keys, QuickBooks sends the browser to your redirect "
                        "page: paste the address it landed on here.")
    paste_hint.setWordWrap(True)
    row = QHBoxLayout()
    for button in buttons:
        row.addWidget(button)
    row.addStretch(1)
    layout = QVBoxLayout(section)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(explanation)
    layout.addLayout(form)
    layout.addLayout(row)
    layout.addWidget(paste_hint)
    layout.addLayout(paste_row)
    return section
