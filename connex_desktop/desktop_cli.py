"""The command line's QuickBooks Desktop parts: choosing it for a connection, the Web Connector's
password (in the keyring only) and the .qwc file the user adds to the Web Connector."""

from __future__ import annotations

import dataclasses
import hashlib
import sys
import uuid
from pathlib import Path

from connex_desktop.app import App
from connex_desktop.connections import web_connector_user
from connex_desktop.core.app_settings import KEYRING_FOLDER_ID
from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksCompany,
    QuickBooksProduct,
)
from connex_desktop.core.errors import SetupError
from connex_desktop.qbdesktop.com import APP_NAME
from connex_desktop.qbdesktop.soap import WebConnectorServer

DESKTOP_ENVIRONMENT = "desktop"      # QuickBooksCompany.environment of a Desktop connection
PASSWORD_BYTES = 18


def chosen_company(current: QuickBooksCompany, product: str | None, company_file: str | None,
                   transport: str | None) -> QuickBooksCompany:
    """The connection's QuickBooks after --quickbooks, --company-file and --transport."""
    wanted = QuickBooksProduct(product) if product else current.product
    if wanted is QuickBooksProduct.ONLINE:
        if company_file is not None or transport is not None:
            raise SetupError("--company-file and --transport go with --quickbooks desktop.")
        # From Desktop back to Online: connect it to an Online company (qb connect).
        return QuickBooksCompany() if current.product is QuickBooksProduct.DESKTOP else current
    path = current.company_file if company_file is None else company_file.strip()
    was_desktop = current.product is QuickBooksProduct.DESKTOP
    if was_desktop and path == current.company_file:
        realm = current.realm_id
    else:
        realm = desktop_realm(path)
    return dataclasses.replace(
        current if was_desktop else QuickBooksCompany(), environment=DESKTOP_ENVIRONMENT,
        realm_id=realm, company_name=Path(path).stem if path else "the open company file",
        product=QuickBooksProduct.DESKTOP, company_file=path,
        desktop_transport=DesktopTransport(transport) if transport else (
            current.desktop_transport if was_desktop else DesktopTransport.WEB_CONNECTOR))


def desktop_realm(company_file: str) -> str:
    """What the ledger knows a company file by: its path, or (the file open in QuickBooks,
    whichever it is) an id of its own."""
    if not company_file:
        return f"qbd-{uuid.uuid4().hex[:16]}"
    return "qbd-" + hashlib.sha256(company_file.casefold().encode()).hexdigest()[:16]


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
    print(f"Waiting for the QuickBooks Web Connector to call {server.qwc_url}: in it, press "
          "Update Selected (or let it run on its schedule).", file=sys.stderr)
