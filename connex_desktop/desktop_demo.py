"""`demo --quickbooks desktop`: the demo store booked into a QuickBooks Desktop company file kept
in memory (the fake one), through the Web Connector transport, with a scripted Web Connector in
this process calling the app as the real one would. No account, no keyring."""

from __future__ import annotations

import dataclasses
import secrets as random_secrets
import textwrap
import uuid
from dataclasses import dataclass, field

from connex_desktop.app import App
from connex_desktop.connections import (
    DESKTOP_ENVIRONMENT,
    WEB_CONNECTOR_PASSWORD,
    WEB_CONNECTOR_PASSWORD_BYTES,
    web_connector_user,
)
from connex_desktop.core.connection import Connection, QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.errors import SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.quickbooks_rules import DESKTOP_ITEM_NAME_MAX_CHARS
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.logs import register_secret
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.connector import RunningWebConnector, ScriptedWebConnector
from connex_desktop.qbdesktop.fake.currencies import add_receivable
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.sandbox.seed import CATALOG, COMPANY_NAME, VENDORS
from connex_desktop.sources.demo_store import (
    COMPANY_SETTING,
    MARKETPLACE_PREFIX,
    DemoSource,
    demo_company_setting,
)
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync.engine import CURSOR_NAME

DESKTOP_DEMO_NAME = "Demo store (QuickBooks Desktop)"
DEMO_MODE = TransactionMode.SALES_ORDERS_INVOICES_POS   # what Desktop has that Online has not
# The items QuickBooks Desktop books shipping, discounts and the store's sales tax against.
CHARGE_ITEMS = (("Shipping", "ItemOtherCharge"), ("Discount", "ItemDiscount"),
                ("Sales tax", "ItemOtherCharge"))


@dataclass
class DesktopDemo:
    """The demo connection, its company file and the scripted Web Connector of each run."""

    connection: Connection
    quickbooks: FakeQuickBooks
    connectors: list[RunningWebConnector] = field(default_factory=list)

    def close(self) -> None:
        for connector in self.connectors:
            connector.stop()


def demo_company_file(multicurrency: bool = False) -> FakeCompanyFile:
    """The demo's catalogue and vendors in a new company file (names cut to Desktop's 31); with
    multicurrency on, an A/R account in each currency of its list, as a file that has invoiced
    buyers abroad has."""
    company = FakeCompanyFile(COMPANY_NAME)
    if multicurrency:
        company.turn_on_multicurrency()
        for currency in company.other("Currency"):
            if currency is not company.home_currency:
                add_receivable(company, currency.fields["CurrencyCode"])
    vendors = {vendor.name: company.add_name("Vendor", vendor.name) for vendor in VENDORS}
    for item in CATALOG:
        kind = {"Inventory": "ItemInventory", "Service": "ItemService"}.get(item.type,
                                                                          "ItemNonInventory")
        company.add_item(item.name[:DESKTOP_ITEM_NAME_MAX_CHARS].rstrip(), kind=kind,
                         part_number=item.sku, price=item.price,
                         vendor=vendors.get(item.vendor or ""),
                         purchase_cost=item.purchase_cost or item.price, on_hand=100)
    for name, kind in CHARGE_ITEMS:
        company.add_item(name, kind=kind)
    return company


def start_desktop_demo(app: App, *, orders: int | None, mode: TransactionMode | None,
                       multicurrency: bool = False) -> DesktopDemo:
    """A new company file for this start (the ledger knows it apart from earlier ones), the
    demo connection pointed at it, and the Web Connector served on any free port; with
    multicurrency, buyers abroad pay in their own currency."""
    quickbooks = FakeQuickBooks(demo_company_file(multicurrency))
    company = QuickBooksCompany(environment=DESKTOP_ENVIRONMENT,
                                realm_id=f"qbd-demo-{uuid.uuid4().hex}",
                                company_name=f"{COMPANY_NAME} (QuickBooks Desktop)",
                                product=QuickBooksProduct.DESKTOP)
    settings = {COMPANY_SETTING: demo_company_setting("us", multicurrency)}
    if orders is not None:
        settings["orders"] = str(orders)
    try:
        existing = app.connections.get(DESKTOP_DEMO_NAME)
        connection = app.connections.update(dataclasses.replace(
            existing, mode=mode or existing.mode, quickbooks=company,
            source_settings={**existing.source_settings, **settings}))
    except SetupError:
        connection = app.connections.add(Connection(
            name=DESKTOP_DEMO_NAME, source_kind=DemoSource.kind, mode=mode or DEMO_MODE,
            source_settings=settings, quickbooks=company))
    assert connection.id is not None
    # A new company file: the demo store's orders are all read again into it.
    app.cursors.delete(connection.id, CURSOR_NAME)
    password = random_secrets.token_urlsafe(WEB_CONNECTOR_PASSWORD_BYTES)
    secrets = MemorySecretStore(observer=register_secret)
    secrets.set(connection_secret_key(connection.id, WEB_CONNECTOR_PASSWORD), password)
    app.memory_secrets[connection.id] = secrets
    demo = DesktopDemo(connection, quickbooks)
    user = web_connector_user(connection.id)

    def connect(server: WebConnectorServer) -> None:
        connector = ScriptedWebConnector(server.url, user, password, quickbooks)
        demo.connectors.append(RunningWebConnector(connector).start())

    app.web_connector_port = 0
    app.web_connector_started = connect
    return demo


def desktop_demo_note() -> str:
    """What the Online demo's planted failures become on QuickBooks Desktop."""
    return textwrap.dedent(f"""
        The demo plants marketplace orders (numbers starting {MARKETPLACE_PREFIX}) whose numbers
        are too long for QuickBooks: on Online they fail, to show how a failure is reported. On
        QuickBooks Desktop, which keeps 11 characters of a number, QuickBooks numbered their
        documents instead, and each document's memo names the order (its note in the sync log
        says so).""")
