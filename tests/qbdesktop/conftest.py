"""A fake QuickBooks Desktop company behind the app's Web Connector service, and a scripted
Web Connector between them; a small booking loop books plans directly (the engine books through
sync/desktop_writer.py: test_desktop_engine.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from connex_desktop.app import App, build_app
from connex_desktop.core.connection import Connection
from connex_desktop.core.model import Order
from connex_desktop.core.modes import TransactionMode
from connex_desktop.qbdesktop.booking import write, write_document
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.connector import ScriptedWebConnector
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.qbxml import message_set, message_set_id
from connex_desktop.qbdesktop.references import DesktopReferences
from connex_desktop.qbdesktop.requests import (
    document_request,
    entity_request,
    query_request,
)
from connex_desktop.qbdesktop.responses import MessageSetResult, parse_response
from connex_desktop.qbdesktop.soap import WebConnectorServer
from connex_desktop.qbdesktop.webconnector import (
    RequestQueue,
    WebConnectorAccount,
    WebConnectorService,
)
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync.planner import (
    CompanySetup,
    OrderPlan,
    Pending,
    PlannedDocumentId,
    plan_order,
    thawed,
)
from tests.qbdesktop.schema import schema_errors

USER = "connex"
PASSWORD = "correct horse battery"     # what the user typed into the Web Connector
PASSWORD_KEY = "connection-1/qbwc_password"
D = Decimal


def seeded_company(clock: Callable[[], datetime] | None = None) -> FakeCompanyFile:
    """Jane Doe buys; Cascade and Pacific supply the tent and the mug (`clock`: QuickBooks')."""
    company = FakeCompanyFile(clock=clock)
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

    def references(self) -> DesktopReferences:
        queries = [query_request(name, str(number))
                   for number, name in enumerate(("Customer", "Item", "Vendor"), start=1)]
        return DesktopReferences.from_results(self.send(message_set(queries)).results)

    def book(self, order: Order, connection: Connection,
             setup: CompanySetup | None = None) -> tuple[OrderPlan, dict[Pending, str]]:
        """Plan the order against the company's lists and book each document, each in its own
        message set; returns the plan and the TxnID of each document by its key."""
        plan = plan_order(order, connection, self.references(), setup or CompanySetup())
        ids: dict[Pending, str] = {}
        for entity in plan.creates:
            key = f"{entity.entity.lower()}:{entity.key.key}"
            request = entity_request(entity.entity, entity.body, "1", order=order.number,
                                     guid_key=key).element
            document = write_document([request], message_set_id("1", order.number, key))
            ids[entity.key] = write(self, document, order=order.number).value("ListID")
        for planned in plan.documents:
            body = resolve(planned.body, ids)
            request = document_request(replace(planned, body=body), order.number, "1",
                                       external_key=f"1/{order.number}/{planned.doc_key}")
            document = write_document([request.element],
                                      message_set_id("1", order.number, planned.doc_key))
            result = write(self, document, order=order.number, what=planned.kind.label)
            ids[PlannedDocumentId(planned.doc_key)] = result.value("TxnID")
        return plan, ids


def resolve(value: object, ids: dict[Pending, str]) -> object:
    """A planned body with its Pending customers, items and documents replaced by ids."""
    def fill(hole: Pending) -> object:
        return ids[hole] if isinstance(hole, PlannedDocumentId) else {"value": ids[hole]}
    return thawed(value, fill)


@pytest.fixture
def quickbooks() -> FakeQuickBooks:
    """The seeded company file, every request checked against Intuit's schema."""
    return FakeQuickBooks(seeded_company(), validator=schema_errors)


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
    quickbooks = FakeQuickBooks(seeded_company(), validator=schema_errors)
    progress: list[tuple[int, int]] = []
    queue = RequestQueue(progress=lambda done, total: progress.append((done, total)))
    service = WebConnectorService(WebConnectorAccount(USER, PASSWORD_KEY), secrets, queue)
    with WebConnectorServer(service) as server:
        connector = ScriptedWebConnector(server.url, USER, PASSWORD, quickbooks)
        yield Desktop(quickbooks, queue, server, connector, progress)


def connection(mode: TransactionMode = TransactionMode.SALES_ORDERS_INVOICES_POS,
               **changes: object) -> Connection:
    return Connection(name="Shop", source_kind="csv", mode=mode, id=1, **changes)  # type: ignore[arg-type]
