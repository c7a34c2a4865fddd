"""The composition root: where state lives, how sources get their secrets, the demo."""

from __future__ import annotations

from decimal import Decimal

from connex_desktop.app import DEMO_CONNECTION_NAME, SOURCE_KINDS, build_app
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind, RunStatus
from connex_desktop.core.secrets import connection_secret_key
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.secrets import MemorySecretStore


def test_state_goes_to_the_data_dir_or_connex_desktop_home(tmp_path, monkeypatch):
    app = build_app(str(tmp_path / "chosen"), secrets=MemorySecretStore())
    assert app.paths.database == tmp_path / "chosen" / "connex.sqlite3"
    assert app.paths.database.exists()
    app.close()
    monkeypatch.setenv("CONNEX_DESKTOP_HOME", str(tmp_path / "home"))
    app = build_app(secrets=MemorySecretStore())
    assert app.paths.data == tmp_path / "home"
    app.close()


def test_sources_get_their_declared_secrets_and_defaults(tmp_path):
    secrets = MemorySecretStore()
    app = build_app(str(tmp_path), secrets=secrets)
    assert set(SOURCE_KINDS) >= {"csv", "demo"}
    connection = app.connections.add(Connection(
        name="Woo", source_kind="woocommerce", mode=TransactionMode.INVOICES,
        source_settings={"store_url": "https://shop.example.com"}))
    assert connection.id is not None
    secrets.set(connection_secret_key(connection.id, "consumer_key"), "ck_1")
    source = app.source_for(connection)
    assert source.secrets == {"consumer_key": "ck_1"}
    assert source.settings["keys_in_query"] == "false"    # the declared default
    assert "ck_1" not in source.store_key
    app.close()


def test_demo_books_into_a_company_kept_in_the_data_dir_and_never_twice(tmp_path):
    keyring = MemorySecretStore()
    app = build_app(str(tmp_path), secrets=keyring)
    connection = app.start_demo(orders=8, mode=TransactionMode.INVOICES)
    assert connection.name == DEMO_CONNECTION_NAME
    assert connection.quickbooks.connected
    first = app.engine().run(connection, query=OrderQuery())
    assert first.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
    invoices = [doc for doc in first.documents if doc.kind is DocumentKind.INVOICE]
    assert invoices
    assert keyring.keys() == []     # the demo's tokens never reach the keyring
    app.close()
    assert (tmp_path / "demo-company.sqlite3").exists()

    # Next launch: the same company and ledger, a fresh sandbox port and fresh tokens.
    app = build_app(str(tmp_path), secrets=keyring)
    connection = app.start_demo(orders=8, mode=TransactionMode.INVOICES)
    again = app.engine().run(connection, query=OrderQuery())
    assert again.documents == []
    with app.quickbooks_client(connection) as client:
        assert client.count("Invoice") == len(invoices)
    assert [c.name for c in app.connections.list()] == [DEMO_CONNECTION_NAME]
    app.close()


def test_a_larger_demo_is_the_same_store_and_pays_nothing_twice(tmp_path):
    app = build_app(str(tmp_path), secrets=MemorySecretStore())
    mode = TransactionMode.INVOICES_WITH_PAYMENTS
    app.engine().run(app.start_demo(orders=8, mode=mode), query=OrderQuery())
    app.engine().run(app.start_demo(orders=12, mode=mode), query=OrderQuery())
    company = app._demo.server.company if app._demo else None
    assert company is not None
    numbers = [invoice["DocNumber"] for invoice in company.all("Invoice")]
    assert len(numbers) == len(set(numbers))
    invoices = {invoice["Id"]: invoice for invoice in company.all("Invoice")}
    applied = dict.fromkeys(invoices, Decimal("0"))
    for payment in company.all("Payment"):
        for line in payment["Line"]:
            applied[line["LinkedTxn"][0]["TxnId"]] += Decimal(str(line["Amount"]))
    for invoice_id, amount in applied.items():   # split payments may be two; never too many
        assert amount + Decimal(str(invoices[invoice_id]["Balance"])) == Decimal(
            str(invoices[invoice_id]["TotalAmt"]))
    app.close()
