"""The demo signs in as a user does: Connect to QuickBooks, through a local connect service."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any, Protocol

import requests

from connex_desktop.connections import ConnectionService, quickbooks_key_prefix
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.secret_store import SecretStore
from connex_desktop.quickbooks.auth import REFRESH_TOKEN, save_credentials
from connex_desktop.quickbooks.connect_client import ConnectClient
from connex_desktop.quickbooks.errors import connection_fault
from connex_desktop.sandbox.seed import COMPANY_NAME

if TYPE_CHECKING:   # the service (and its web framework) is loaded only when the demo starts
    from connex_desktop.connect_service.local import LocalConnectService

BROWSER_TIMEOUT_S = 30.0


class DemoCompany(Protocol):
    """The demo's sandbox, in this process or its own: where it answers, its company, the keys
    of the one Intuit app it knows, and tokens it hands out itself."""

    @property
    def base_url(self) -> str: ...
    @property
    def realm_id(self) -> str: ...
    @property
    def client_id(self) -> str: ...
    @property
    def client_secret(self) -> str: ...
    def new_grant(self) -> dict[str, Any]: ...
log = logging.getLogger(__name__)


class DemoSignIn:
    """The demo's Intuit app: a connect service on this computer holds the sandbox's client
    secret, as the product's service holds Intuit's; the sandbox plays Intuit and approves at
    once, and this plays the user's browser. No keys are typed, none are kept by the app.

    An installation without the connect service (the bundle leaves its web framework out) has
    the sandbox hand the demo its tokens directly instead.
    """

    def __init__(self, sandbox: DemoCompany) -> None:
        self._sandbox = sandbox
        self.service = _local_service(sandbox)

    def connected(self, connections: ConnectionService, connection: Connection,
                  secrets: SecretStore) -> Connection:
        """The demo connection signed in to the sandbox's company: with its saved authorisation
        while that stands (refreshed through the service, rotated tokens kept in `secrets`),
        else anew through Connect to QuickBooks."""
        assert connection.id is not None
        if self.service is None:
            return self._granted_directly(connections, connection, secrets)
        company = connection.quickbooks
        saved = secrets.get(f"{quickbooks_key_prefix(connection.id)}/{REFRESH_TOKEN}")
        if (saved and company.connect_service and not company.needs_reconnect
                and company.realm_id == self._sandbox.realm_id):
            # Still signed in: only where the service and the company answer is new this time.
            return connections.connections.update(dataclasses.replace(
                connection, quickbooks=dataclasses.replace(
                    company, environment=self._sandbox.base_url,
                    connect_service=self.service.url)))
        client = ConnectClient(self.service.url)
        pending = client.start()
        _approve(pending.authorization_url)
        signed_in = client.wait(pending)
        assert signed_in is not None       # only a cancel ends the wait without tokens
        with client.storing(pending):
            return connections.connect_signed_in(connection, signed_in, client.url)

    def _granted_directly(self, connections: ConnectionService, connection: Connection,
                          secrets: SecretStore) -> Connection:
        """Fresh tokens from the sandbox itself, with its client secret (in `secrets`)."""
        assert connection.id is not None
        sandbox = self._sandbox
        connected = connections.connections.update(dataclasses.replace(
            connection, quickbooks=QuickBooksCompany(
                environment=sandbox.base_url, client_id=sandbox.client_id,
                realm_id=sandbox.realm_id, company_name=COMPANY_NAME)))
        save_credentials(secrets, quickbooks_key_prefix(connection.id),
                         client_secret=sandbox.client_secret,
                         refresh_token=str(sandbox.new_grant()["refresh_token"]))
        return connected

    def close(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None


def _local_service(sandbox: DemoCompany) -> LocalConnectService | None:
    try:
        from connex_desktop.connect_service.local import LocalConnectService
    except ImportError as missing:
        log.info("The demo signs in without a connect service: this installation has none "
                 "(%s).", missing.name)
        return None
    return LocalConnectService(sandbox=sandbox).start()


def _approve(authorization_url: str) -> None:
    """What the user's browser does: open the consent page (the sandbox approves at once) and
    follow it back to the service's redirect page, which exchanges the code."""
    try:
        requests.get(authorization_url, timeout=BROWSER_TIMEOUT_S)
    except requests.RequestException as error:
        raise connection_fault(f"the demo's sign-in page did not answer "
                               f"({type(error).__name__})") from None
