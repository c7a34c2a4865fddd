"""Engine test fixtures: a seeded sandbox company, an app in a temporary folder, order files."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connex_desktop.app import App, build_app, quickbooks_key_prefix
from connex_desktop.core.connection import Connection, QuickBooksCompany
from connex_desktop.core.modes import TransactionMode
from connex_desktop.quickbooks.auth import save_credentials
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.csv_file import COLUMNS
from connex_desktop.storage.keyring_secrets import MemorySecretStore


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture
def app(tmp_path: Path) -> Iterator[App]:
    built = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
    yield built
    built.close()


def row(number: str, sku: str, quantity: str = "1", price: str = "10.00", **fields: str
        ) -> dict[str, str]:
    """One CSV row (one order line); order-level fields go on any row of the order."""
    values = {"Order Number": number, "Order Date": "2025-06-01", "Status": "completed",
              "Customer Name": f"Buyer {number}", "Customer Email": f"buyer{number}@example.com",
              "SKU": sku, "Quantity": quantity, "Unit Price": price}
    values.update({key.replace("_", " ").title().replace("Sku", "SKU"): value
                   for key, value in fields.items()})
    return values


def write_orders(path: Path, rows: Sequence[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for values in rows:
            unknown = set(values) - set(COLUMNS)
            assert not unknown, f"not a CSV column: {unknown}"
            writer.writerow(values)
    return path


def connect(app: App, sandbox: SandboxServer, name: str, mode: TransactionMode, orders: Path,
            **changes: Any) -> Connection:
    """A CSV connection to `orders`, connected to the sandbox company."""
    company = QuickBooksCompany(environment=sandbox.base_url, client_id=sandbox.client_id,
                                realm_id=sandbox.realm_id, company_name="Sandbox")
    connection = app.connections.add(Connection(
        name=name, source_kind="csv", mode=mode, source_settings={"path": str(orders)},
        quickbooks=company, **changes))
    assert connection.id is not None
    grant = sandbox.new_grant()
    save_credentials(app.secrets, quickbooks_key_prefix(connection.id),
                     client_secret=sandbox.client_secret,
                     refresh_token=str(grant["refresh_token"]))
    return connection


def docs(sandbox: SandboxServer, entity: str) -> list[dict[str, Any]]:
    return sandbox.company.all(entity)


def by_number(sandbox: SandboxServer, entity: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for doc in docs(sandbox, entity):
        assert doc.get("DocNumber") not in found, f"two {entity}s numbered {doc['DocNumber']}"
        found[str(doc.get("DocNumber"))] = doc
    return found


def money_of(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def replace(connection: Connection, **changes: Any) -> Connection:
    return dataclasses.replace(connection, **changes)
