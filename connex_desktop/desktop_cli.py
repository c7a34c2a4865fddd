"""The command line's QuickBooks Desktop parts: choosing it for a connection, the Web Connector's
password (in the keyring only) and the .qwc file the user adds to the Web Connector."""

from __future__ import annotations

import sys
from pathlib import Path

from connex_desktop.app import App
from connex_desktop.connections import web_connector_user
from connex_desktop.core.app_settings import KEYRING_FOLDER_ID
from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
)
from connex_desktop.qbdesktop.com import APP_NAME
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.qbdesktop.transport import WEB_CONNECTOR_TO_CALL, WHAT_TO_DO


def write_qwc(app: App, connection: Connection, path: Path) -> Path:
    """The connection's .qwc file, written to `path` (a folder: a file named after it)."""
    if path.is_dir():
        path = path / f"{APP_NAME} - {connection.name}.qwc".replace("/", "-")
    qwc = app.connection_service().web_connector_file(
        connection, app.settings.get(KEYRING_FOLDER_ID) or "", app.web_connector_port)
    path.write_text(qwc, encoding="utf-8")   # no secret in it
    return path


def desktop_lines(connection: Connection) -> list[str]:
    """What `connection show` says of a QuickBooks Desktop connection's company."""
    company = connection.quickbooks
    lines = [f"QuickBooks Desktop: {company.company_file or 'the company file open in it'}"]
    if company.desktop_transport is DesktopTransport.THIS_COMPUTER:
        lines.append("Reached on this computer (QuickBooks' request processor, Windows).")
    else:
        assert connection.id is not None
        lines.append(f"Reached through the QuickBooks Web Connector, user "
                     f"{web_connector_user(connection.id)}; the password is kept in the "
                     "keyring only (see it with `connex-desktop qb web-connector "
                     f"{connection.name} --show-password`).")
    return lines


def say_waiting(server: WebConnectorServer) -> None:
    """A run through the Web Connector waits for it to call: say so (on stderr: stdout may be
    the run's JSON)."""
    print(f"Waiting for {WEB_CONNECTOR_TO_CALL} {server.qwc_url}: {WHAT_TO_DO}.", file=sys.stderr)
