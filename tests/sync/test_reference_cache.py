"""The company's lists kept between runs (issue 12): counted by the metering sandbox, a sync
reads only what changed (one CDC read), sees what changed in QuickBooks, and books nothing twice
when its lists were stale."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connex_desktop.app import App, quickbooks_key_prefix
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus, SyncResult
from connex_desktop.quickbooks.auth import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.sandbox.metering import Usage
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import Source
from connex_desktop.sync.engine import Engine
from tests.sync.conftest import by_number, connect, row, write_orders

PAID = {"payment_status": "paid"}


def orders(first: int, count: int, **fields: str) -> list[dict[str, str]]:
    return [row(str(number), "MUG-ENM-12", "2", "18.00", **PAID, **fields)
            for number in range(first, first + count)]


def metered(sandbox: SandboxServer, run: Callable[[], SyncResult]) -> tuple[SyncResult, Usage]:
    """A run, and what the sandbox metered for it."""
    before = sandbox.usage()
    result = run()
    after = sandbox.usage()
    return result, Usage(after.reads - before.reads, after.writes - before.writes,
                         after.requests - before.requests)


# What the engine's clients sent, in order: "cdc", "read" (other reads) or "write".
SENT: list[str] = []


class RecordingClient(QuickBooksClient):
    def cdc(self, entities, changed_since):    # type: ignore[no-untyped-def]
        SENT.append("cdc")
        return super().cdc(entities, changed_since)

    def _count_sent(self, cost: tuple[int, int]) -> None:
        super()._count_sent(cost)
        if cost[0] and (not SENT or SENT[-1] != "cdc"):
            SENT.append("read")
        elif cost[1]:
            SENT.append("write")


def engine(app: App, *, after_first_order: Callable[[], None] | None = None,
           window_orders: int = 120) -> Engine:
    """The app's engine with recording clients; `after_first_order` runs once the first
    window of orders was planned (with a new order first, the lists were refreshed) and
    before anything is written."""

    def client_for(connection: Connection) -> QuickBooksClient:
        client = app.quickbooks_client(connection)
        recording = RecordingClient(connection.quickbooks, client.auth)
        client.close()
        return recording

    def source_for(connection: Connection) -> Source:
        source = app.source_for(connection)
        fetch = source.fetch_orders_and_retries

        def fetch_then_act(*args: Any) -> Iterator[Any]:
            for number, order in enumerate(fetch(*args)):
                if number == 1 and after_first_order is not None:
                    after_first_order()
                yield order
            if after_first_order is not None and number == 0:
                after_first_order()

        source.fetch_orders_and_retries = fetch_then_act    # type: ignore[method-assign]
        return source

    return Engine(runs=app.runs, ledger=app.ledger, cursors=app.cursors,
                  connections=app.connections, secrets=app.secrets, source_for=source_for,
                  client_for=client_for, source_kinds=app.source_kinds,
                  references=app.references, window_orders=window_orders)


def synced(app: App, sandbox: SandboxServer, tmp_path: Path, rows: list[dict[str, str]],
           mode: TransactionMode) -> tuple[Path, Connection]:
    """A connection booking `rows` from an order file, after a first sync booked them all."""
    path = write_orders(tmp_path / "orders.csv", rows)
    connection = connect(app, sandbox, "Shop", mode, path)
    first = engine(app).run(connection)
    assert first.status is RunStatus.SUCCEEDED and first.synced == len(rows), first.errors
    return path, connection


def customers_named(sandbox: SandboxServer, name: str) -> list[dict[str, Any]]:
    return [customer for customer in sandbox.company.all("Customer")
            if customer.get("DisplayName") == name]


def cached_customers(app: App, sandbox: SandboxServer) -> dict[str, dict[str, Any]]:
    return app.references.lists(sandbox.realm_id)["Customer"].records


def test_a_sync_reads_only_the_changes_once_its_lists_are_kept(app, sandbox, tmp_path):
    path, connection = synced(app, sandbox, tmp_path, orders(6001, 10),
                              TransactionMode.INVOICES_WITH_PAYMENTS)

    def by_hand() -> SyncResult:      # as the window does: asked whether it can, then run
        runner = engine(app)
        assert runner.prepare(connection) is None
        return runner.run(connection)

    nothing, usage = metered(sandbox, by_hand)
    assert nothing.status is RunStatus.SUCCEEDED and nothing.documents == []
    assert usage == Usage() and nothing.quickbooks.requests == 0     # not a single request

    write_orders(path, orders(6001, 20) + orders(6101, 5, customer_email="buyer6001@example.com",
                                                   customer_name="Buyer 6001"))
    SENT.clear()
    fifteen, usage = metered(sandbox, lambda: engine(app).run(connection))
    assert fifteen.status is RunStatus.SUCCEEDED and fifteen.synced == 15, fifteen.errors
    assert usage.reads == 1 and SENT[0] == "cdc"
    assert set(SENT[1:]) == {"write"}
    invoices = by_number(sandbox, "Invoice")
    assert len(invoices) == 25 and len(sandbox.company.all("Payment")) == 25
    # The buyer of 6001 came back five times: one customer, from the kept list.
    assert len(customers_named(sandbox, "Buyer 6001")) == 1
    assert {invoices[str(n)]["CustomerRef"]["value"] for n in (6001, 6101, 6105)} == {
        customers_named(sandbox, "Buyer 6001")[0]["Id"]}


def test_customers_renamed_or_made_inactive_in_quickbooks_are_seen_through_cdc(app, sandbox,
                                                                                tmp_path):
    path, connection = synced(app, sandbox, tmp_path, orders(7001, 2),
                              TransactionMode.INVOICES)
    (renamed,) = customers_named(sandbox, "Buyer 7001")
    (inactive,) = customers_named(sandbox, "Buyer 7002")
    sandbox.company.update("Customer", {"Id": renamed["Id"], "SyncToken": renamed["SyncToken"],
                                        "sparse": True, "DisplayName": "Ann Renamed"})
    sandbox.company.update("Customer", {"Id": inactive["Id"], "SyncToken": inactive["SyncToken"],
                                        "sparse": True, "Active": False})
    customers = len(sandbox.company.all("Customer"))

    write_orders(path, [
        *orders(7001, 2),
        row("7003", "MUG-ENM-12", "1", "18.00", customer_name="Buyer 7001",
            customer_email="buyer7001@example.com"),
        row("7004", "MUG-ENM-12", "1", "18.00", customer_name="Buyer 7002",
            customer_email="buyer7002@example.com")])
    SENT.clear()
    result, usage = metered(sandbox, lambda: engine(app).run(connection))
    assert result.status is RunStatus.SUCCEEDED and result.synced == 2, result.errors
    invoices = by_number(sandbox, "Invoice")
    # Found by email under its new name; the inactive one made active again, not copied.
    assert invoices["7003"]["CustomerRef"]["value"] == renamed["Id"]
    assert invoices["7004"]["CustomerRef"]["value"] == inactive["Id"]
    assert sandbox.company.read("Customer", inactive["Id"])["Active"] is True
    assert len(sandbox.company.all("Customer")) == customers
    # The CDC read, and the look-up of the name the inactive customer still held.
    assert SENT[0] == "cdc" and usage.reads == 2
    kept = cached_customers(app, sandbox)
    assert kept[renamed["Id"]]["DisplayName"] == "Ann Renamed"
    assert kept[inactive["Id"]]["Active"] is True


def test_lists_read_more_than_30_days_ago_are_read_again_in_full(app, sandbox, tmp_path):
    path, connection = synced(app, sandbox, tmp_path, orders(7101, 1),
                              TransactionMode.INVOICES)
    long_ago = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    app.database.execute("UPDATE reference_lists SET read_at = ?", (long_ago,))

    write_orders(path, orders(7101, 2))
    SENT.clear()
    result, usage = metered(sandbox, lambda: engine(app).run(connection))
    assert result.status is RunStatus.SUCCEEDED and result.synced == 1, result.errors
    # CDC would miss what changed beyond 30 days: preferences, company info and the seven
    # lists the run needs are read in full, and none is asked of CDC.
    assert "cdc" not in SENT and usage.reads == 9
    stored = app.references.lists(sandbox.realm_id)
    assert {"Customer", "Item", "Account", "TaxCode", "TaxRate"} <= set(stored)
    assert all(datetime.now(UTC) - kept.read_at < timedelta(minutes=5)
               for kept in stored.values())
    assert sorted(by_number(sandbox, "Invoice")) == ["7101", "7102"]


def test_a_name_taken_in_quickbooks_after_the_lists_were_read_books_no_duplicate(app, sandbox,
                                                                               tmp_path):
    path, connection = synced(app, sandbox, tmp_path, orders(7201, 1),
                              TransactionMode.INVOICES)
    write_orders(path, [
        row("7202", "MUG-ENM-12", "1", "18.00", customer_name="Buyer 7201",
            customer_email="buyer7201@example.com"),
        row("7203", "MUG-ENM-12", "1", "18.00", customer_name="Zed Late",
            customer_email="zed@example.com"), *orders(7201, 1)])
    zed: dict[str, Any] = {}

    def someone_adds_zed() -> None:    # in QuickBooks, after this run refreshed its lists
        zed.update(sandbox.company.create("Customer", {
            "DisplayName": "Zed Late", "PrimaryEmailAddr": {"Address": "zed@example.com"}}))

    result = engine(app, after_first_order=someone_adds_zed, window_orders=1).run(connection)
    assert result.status is RunStatus.SUCCEEDED and result.synced == 2, result.errors
    assert len(customers_named(sandbox, "Zed Late")) == 1
    assert by_number(sandbox, "Invoice")["7203"]["CustomerRef"]["value"] == zed["Id"]
    assert zed["Id"] in cached_customers(app, sandbox)      # kept for the next runs


def test_a_customer_made_inactive_after_the_lists_were_read_is_booked_once(app, sandbox,
                                                                         tmp_path):
    path, connection = synced(app, sandbox, tmp_path, orders(7301, 1),
                              TransactionMode.INVOICES_WITH_PAYMENTS)
    (buyer,) = customers_named(sandbox, "Buyer 7301")
    customers = len(sandbox.company.all("Customer"))
    write_orders(path, [
        row("7302", "MUG-ENM-12", "1", "18.00", customer_name="Buyer 7301",
            customer_email="buyer7301@example.com", **PAID), *orders(7301, 1)])

    def someone_deactivates_the_buyer() -> None:
        current = sandbox.company.read("Customer", buyer["Id"])
        sandbox.company.update("Customer", {"Id": buyer["Id"], "SyncToken": current["SyncToken"],
                                            "sparse": True, "Active": False})

    result = engine(app, after_first_order=someone_deactivates_the_buyer,
                    window_orders=1).run(connection)
    assert result.status is RunStatus.SUCCEEDED and result.synced == 1, result.errors
    invoices = by_number(sandbox, "Invoice")
    assert sorted(invoices) == ["7301", "7302"]
    assert invoices["7302"]["CustomerRef"]["value"] == buyer["Id"]
    assert sandbox.company.read("Customer", buyer["Id"])["Active"] is True
    assert len(sandbox.company.all("Customer")) == customers
    assert len(sandbox.company.all("Payment")) == 2


def test_the_kept_lists_hold_no_secret(app, sandbox, tmp_path):
    _, connection = synced(app, sandbox, tmp_path, orders(7401, 3),
                           TransactionMode.INVOICES_WITH_PAYMENTS)
    assert connection.id is not None
    prefix = quickbooks_key_prefix(connection.id)
    secrets = [app.secrets.get(f"{prefix}/{name}")
               for name in (CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN)]
    assert all(secrets)
    kept = [" ".join(map(str, row)) for table in ("reference_lists", "reference_records")
            for row in app.database.query(f"SELECT * FROM {table}")]
    assert any("Buyer 7401" in text for text in kept)
    for secret in secrets:
        assert not any(str(secret) in text for text in kept)
