"""One-button QuickBooks sign-in through the connect service: link to copy, Cancel, no keys."""

from __future__ import annotations

import dataclasses
import threading

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from connex_desktop.app import App
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.secret_store import SecretStore
from connex_desktop.quickbooks.auth import save_credentials
from connex_desktop.quickbooks.connect_client import (
    ConnectClient,
    PendingSignIn,
    SignedIn,
    service_url,
)
from connex_desktop.ui.background import run_in_background, wait_in_background


class ServiceSignIn(QWidget):
    """Connect to QuickBooks: the browser opens at Intuit's consent page; this finishes by itself.

    Signals:
        waiting(str): the consent page's address, opened in the browser (and shown to copy).
        connected(Connection): the tokens are stored and the company read; not yet saved.
        failed(Exception): a plain-words fault.
        cancelled(): the user stopped waiting.
    """

    waiting = Signal(str)
    connected = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, app: App, connection: Connection, secrets: SecretStore, prefix: str, *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app, self._connection = app, connection
        self._secrets, self._prefix = secrets, prefix
        self._stop: threading.Event | None = None     # the attempt in progress
        self.connect_button = QPushButton("Connect to QuickBooks")
        self.connect_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.link = QLineEdit()
        self.link.setReadOnly(True)
        self.link.setToolTip("No browser opened? Copy this address into one.")
        self.copy_button = QPushButton("Copy link")
        self.copy_button.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.link.text()))
        buttons = QHBoxLayout()
        buttons.addWidget(self.connect_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addLayout(link_row)
        self._show_waiting(False)

    def start(self) -> None:
        """Ask the service for a sign-in, then open its consent page and wait for the user."""
        self.cancel()
        stop = self._stop = threading.Event()
        self.connect_button.setEnabled(False)

        url = self._app.connect_service()

        def begin() -> tuple[ConnectClient, PendingSignIn]:
            client = ConnectClient(url or service_url())
            return client, client.start()

        run_in_background(begin, on_success=lambda started: self._opened(stop, *started),
                          on_failure=lambda error: self._fail(stop, error))

    def cancel(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self._stop = None
            self._show_waiting(False)
            self.cancelled.emit()

    def _opened(self, stop: threading.Event, client: ConnectClient,
                pending: PendingSignIn) -> None:
        if stop.is_set():
            return
        self.link.setText(pending.authorization_url)
        self._show_waiting(True)
        QDesktopServices.openUrl(QUrl(pending.authorization_url))
        self.waiting.emit(pending.authorization_url)
        app, connection, secrets, prefix = (self._app, self._connection, self._secrets,
                                            self._prefix)

        def finish() -> Connection | None:
            signed_in = client.wait(pending, cancelled=stop.is_set)
            if signed_in is None:
                return None
            with client.storing(pending):   # the browser's page says Connected only then
                return _store_and_name(app, connection, secrets, prefix, signed_in, client.url)

        wait_in_background(finish, on_success=lambda done: self._finished(stop, done),
                           on_failure=lambda error: self._fail(stop, error))

    def _finished(self, stop: threading.Event, connection: Connection | None) -> None:
        if stop.is_set() or connection is None:
            return
        self._stop = None
        self._show_waiting(False)
        self.connected.emit(connection)

    def _fail(self, stop: threading.Event, error: Exception) -> None:
        if stop.is_set():
            return
        self._stop = None
        self._show_waiting(False)
        self.failed.emit(error)

    def _show_waiting(self, waiting: bool) -> None:
        self.connect_button.setEnabled(not waiting)
        for widget in (self.cancel_button, self.link, self.copy_button):
            widget.setVisible(waiting)


def _store_and_name(app: App, connection: Connection, secrets: SecretStore, prefix: str,
                    signed_in: SignedIn, service: str) -> Connection:
    """Keep the tokens in the secret store, and read the company's name with them."""
    save_credentials(secrets, prefix, client_secret="", refresh_token=signed_in.refresh_token,
                     access_token=signed_in.access_token)
    company = QuickBooksCompany(environment=signed_in.environment, realm_id=signed_in.realm_id,
                                company_name=signed_in.company_name, connect_service=service,
                                redirect_uri=connection.quickbooks.redirect_uri)
    return with_company_name(app, dataclasses.replace(connection, quickbooks=company))


def with_company_name(app: App, candidate: Connection) -> Connection:
    """The connection with its company's name, read from QuickBooks with the stored tokens
    (which proves they work)."""
    with app.quickbooks_client(candidate) as client:
        name = str(client.company_info().get("CompanyName")
                   or candidate.quickbooks.company_name)
    return dataclasses.replace(candidate, quickbooks=dataclasses.replace(
        candidate.quickbooks, company_name=name))
