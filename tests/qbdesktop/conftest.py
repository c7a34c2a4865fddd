"""A fake QuickBooks Desktop company behind the app's Web Connector service, and a scripted
Web Connector between them (the engine books through it in test_desktop_engine.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App, build_app
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.connector import ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.responses import MessageSetResult, parse_response
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.qbdesktop.webconnector import (
    RequestQueue,
    WebConnectorAccount,
    WebConnectorService,
)
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync.desktop_company import QuickBooksDesktop
from connex_desktop.sync.planner import Pending, PlannedDocumentId, thawed
from tests.qbdesktop.ops_notes import edition_checker

USER = "connex"
PASSWORD = "correct horse battery"     # what the user typed into the Web Connector
PASSWORD_KEY = "connection-1/qbwc_password"
D = Decimal


def seeded_company(clock: Callable[[], datetime] | None = None,
                   country: str = "US") -> FakeCompanyFile:
    """Jane Doe buys; Cascade and Pacific supply the tent and the mug (`clock`: QuickBooks';
    `country`: the file's edition)."""
    company = FakeCompanyFile(clock=clock, country=country)
    company.add_name("Customer", "Jane Doe", email="jane@example.com")
    cascade = company.add_name("Vendor", "Cascade")
    pacific = company.add_name("Vendor", "Pacific")
    company.add_item("Tent 2P", kind="ItemInventory", part_number="TENT-2P", price=D("299"),
                     vendor=cascade, purchase_cost=D("150.00"), on_hand=D("10"))
    company.add_item("Mug", kind="ItemInventory", part_number="MUG", price=D("9.50"),
                     vendor=pacific, purchase_cost=D("3.50"), on_hand=D("40"))
    company.add_item("Gift Box", part_number="GIFT")
    company.add_item("Shipping", kind="ItemOtherCharge")
    company.add_item("Discount", kind="ItemDiscount")
    company.add_item("Sales Tax", kind="ItemOtherCharge")
    return company


@dataclass
class Desktop:
    """The app's side (queue, service, server) and QuickBooks' side (connector, company)."""

    quickbooks: FakeQuickBooks
    queue: RequestQueue
    server: WebConnectorServer
    connector: ScriptedWebConnector
    progress: list[tuple[int, int]] = field(default_factory=list)

    @property
    def company(self) -> FakeCompanyFile:
        return self.quickbooks.company

    def process(self, document: str) -> str:
        """Queue one message set, let the Web Connector run, and return QuickBooks' answer."""
        answer = self.queue.submit(document)
        self.connector.update()
        return answer.result(timeout=5)

    def send(self, document: str) -> MessageSetResult:
        return parse_response(self.process(document))

    def references(self) -> ReferenceCache:
        """The company's lists as a run reads them, for planning an order."""
        return ReferenceCache(QuickBooksDesktop(self))


def resolve(value: object, ids: dict[Pending, str]) -> object:
    """A planned body with its Pending customers, items and documents replaced by ids."""
    def fill(hole: Pending) -> object:
        return ids[hole] if isinstance(hole, PlannedDocumentId) else {"value": ids[hole]}
    return thawed(value, fill)


@pytest.fixture
def quickbooks() -> FakeQuickBooks:
    """The seeded company file, every request checked against Intuit's schema."""
    return FakeQuickBooks(seeded_company(), validator=edition_checker("US"))


@pytest.fixture
def app(tmp_path: Path, quickbooks: FakeQuickBooks) -> Iterator[App]:
    """The app, its QuickBooks Desktop connections reaching `quickbooks`."""
    built = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    built.desktop_processor_for = lambda connection: quickbooks
    yield built
    built.close()


@pytest.fixture
def secrets() -> MemorySecretStore:
    store = MemorySecretStore()
    store.set(PASSWORD_KEY, PASSWORD)
    return store


@pytest.fixture
def desktop(secrets: MemorySecretStore) -> Iterator[Desktop]:
    quickbooks = FakeQuickBooks(seeded_company(), validator=edition_checker("US"))
    progress: list[tuple[int, int]] = []
    queue = RequestQueue(progress=lambda done, total: progress.append((done, total)))
    service = WebConnectorService(WebConnectorAccount(USER, PASSWORD_KEY), secrets, queue)
    with WebConnectorServer(service) as server:
        connector = ScriptedWebConnector(server.url, USER, PASSWORD, quickbooks)
        yield Desktop(quickbooks, queue, server, connector, progress)


def connection(mode: TransactionMode = TransactionMode.SALES_ORDERS_INVOICES_POS,
               **changes: object) -> Connection:
    return Connection(name="Shop", source_kind="csv", mode=mode, id=1, **changes)  # type: ignore[arg-type]
