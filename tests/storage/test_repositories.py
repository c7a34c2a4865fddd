"""Connections, runs, cursors and settings survive the database exactly as saved."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from connex_desktop.core.app_settings import (
    AUTO_SYNC_PAUSED,
    DEMO_COMPANY,
    KEYRING_FOLDER_ID,
    TRAY_NEEDS_ATTENTION,
)
from connex_desktop.core.connection import (
    Connection,
    CustomerPolicy,
    MissingItemPolicy,
    QuickBooksCompany,
    QuickBooksMapping,
    Schedule,
    TaxPolicy,
)
from connex_desktop.core.errors import ErrorKind, SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import (
    BookedDocument,
    DocumentKind,
    OrderOutcome,
    QuickBooksUsage,
    RunStatus,
    RunTrigger,
    SyncResult,
)
from connex_desktop.storage.database import Database
from connex_desktop.storage.repositories import (
    INTERRUPTED_MESSAGE,
    ConnectionRepository,
    CursorRepository,
    MonthlyReads,
    RunRepository,
    SettingsRepository,
    from_plain,
    to_plain,
)
from tests.rule_examples import EVERY_FIELD_RULES


@pytest.fixture
def db(tmp_path):
    with Database.open(tmp_path / "connex.sqlite3") as database:
        yield database


@pytest.fixture
def connections(db):
    return ConnectionRepository(db)


@pytest.fixture
def runs(db):
    return RunRepository(db)


def full_connection(name: str = "Café Ünïcode store") -> Connection:
    return Connection(
        name=name, source_kind="woocommerce", mode=TransactionMode.SALES_ORDERS_INVOICES_POS,
        source_settings={"url": "https://shop.example", "status_field": "wc-completed"},
        statuses=("completed", "processing"), use_qb_numbering=True, prefix="WC-",
        mapping=QuickBooksMapping(customer_policy=CustomerPolicy.GENERIC,
                                  generic_customer="Web sales",
                                  missing_items=MissingItemPolicy.FALLBACK, fallback_item="Misc",
                                  tax_policy=TaxPolicy.LINE_ITEM, tax_code="TAX",
                                  shipping_item="Ship"),
        schedule=Schedule(every_minutes=30),
        quickbooks=QuickBooksCompany(environment="sandbox", client_id="ABC", realm_id="4620816365",
                                     company_name="Sandbox Company_US_1"),
        rules=EVERY_FIELD_RULES)


def minimal_connection(name: str = "Demo") -> Connection:
    return Connection(name=name, source_kind="demo", mode=TransactionMode.INVOICES)


def booked(order: str, kind: DocumentKind, number: str, total: str) -> BookedDocument:
    return BookedDocument(order=order, kind=kind, qb_id=f"qb-{number}", doc_number=number,
                          total=Decimal(total))


# ── the generic (de)serialiser ──────────────────────────────────────────────────────────────

def test_every_field_of_a_connection_round_trips_through_json():
    connection = dataclasses.replace(full_connection(), id=7)
    plain = json.loads(json.dumps(to_plain(connection)))
    assert plain["mode"] == "sales-orders-invoices-pos"
    assert plain["statuses"] == ["completed", "processing"]
    assert plain["rules"][1]["conditions"][0] == {"field": "status", "values": ["on-hold"]}
    assert from_plain(Connection, plain) == connection


def test_unknown_keys_are_ignored_and_missing_ones_take_defaults():
    plain = {"name": "Old", "source_kind": "csv", "mode": "invoices", "added_later": 1,
             "mapping": {"customer_policy": "generic", "a_future_choice": "x"}}
    loaded = from_plain(Connection, plain)
    assert loaded == Connection(name="Old", source_kind="csv", mode=TransactionMode.INVOICES,
                                mapping=QuickBooksMapping(customer_policy=CustomerPolicy.GENERIC))


def test_wrong_types_are_refused_not_coerced():
    with pytest.raises(ValueError, match="expected bool"):
        from_plain(Connection, {**to_plain(minimal_connection()), "use_qb_numbering": "false"})
    with pytest.raises(ValueError):
        from_plain(Connection, {**to_plain(minimal_connection()), "mode": "no-such-mode"})


# ── connections ─────────────────────────────────────────────────────────────────────────────

def test_a_saved_connection_reads_back_equal_with_its_id(connections):
    saved = connections.add(full_connection())
    assert saved.id is not None
    assert connections.get("Café Ünïcode store") == saved
    assert connections.get_by_id(saved.id) == saved


def test_list_is_sorted_by_name_ignoring_case(connections):
    for name in ("beta", "Alpha", "gamma"):
        connections.add(minimal_connection(name))
    assert [c.name for c in connections.list()] == ["Alpha", "beta", "gamma"]


def test_a_name_clash_is_refused_naming_the_name(connections):
    connections.add(minimal_connection("Shop"))
    with pytest.raises(SetupError, match="'Shop' already exists") as raised:
        connections.add(minimal_connection("Shop"))
    assert raised.value.field == "name"
    other = connections.add(minimal_connection("Other"))
    with pytest.raises(SetupError, match="'Shop' already exists"):
        connections.update(dataclasses.replace(other, name="Shop"))


def test_a_blank_name_is_refused_and_names_are_trimmed(connections):
    with pytest.raises(SetupError, match="needs a name"):
        connections.add(minimal_connection("   "))
    assert connections.add(minimal_connection("  Shop ")).name == "Shop"


def test_a_missing_connection_is_a_setup_error_naming_it(connections):
    with pytest.raises(SetupError, match="No connection named 'Nope'") as raised:
        connections.get("Nope")
    assert raised.value.field == "name"
    with pytest.raises(SetupError, match="No connection with id 42"):
        connections.get_by_id(42)
    with pytest.raises(SetupError, match="No connection named 'Nope'"):
        connections.remove("Nope")


def test_update_changes_settings_and_may_rename(connections):
    saved = connections.add(minimal_connection("Shop"))
    changed = dataclasses.replace(saved, name="Shop (EU)", prefix="EU-",
                                  mode=TransactionMode.SALES_RECEIPTS,
                                  schedule=Schedule(daily_at="06:30"))
    connections.update(changed)
    assert connections.get("Shop (EU)") == changed
    with pytest.raises(SetupError):
        connections.get("Shop")
    with pytest.raises(SetupError, match="not been saved"):
        connections.update(minimal_connection("Unsaved"))


def test_remove_returns_the_id_and_takes_history_and_cursors_with_it(db, connections, runs):
    saved = connections.add(minimal_connection("Shop"))
    assert saved.id is not None
    runs.start(saved.id, RunTrigger.MANUAL)
    CursorRepository(db).set(saved.id, "modified_since", "2026-11-01T00:00:00Z")
    assert connections.remove("Shop") == saved.id
    assert connections.list() == []
    assert runs.list(saved.id) == []
    assert CursorRepository(db).get(saved.id, "modified_since") is None


def test_duplicate_copies_settings_under_a_new_name_with_a_new_id(connections):
    original = connections.add(full_connection("Shop"))
    copy = connections.duplicate("Shop", "Shop copy")
    assert copy.id not in (None, original.id)
    assert dataclasses.replace(copy, id=original.id, name="Shop") == original
    assert [c.name for c in connections.list()] == ["Shop", "Shop copy"]
    with pytest.raises(SetupError, match="already exists"):
        connections.duplicate("Shop", "Shop copy")


def test_the_store_a_connection_booked_from_outlives_its_settings(connections):
    shop = connections.add(minimal_connection("Shop"))
    assert shop.id is not None and connections.store_key(shop.id) == ""
    connections.remember_store(shop.id, "demo|seed=1")
    connections.remember_store(shop.id, "demo|seed=2")       # only the first is kept
    connections.update(dataclasses.replace(shop, source_settings={"seed": "2"}, prefix="X-"))
    assert connections.store_key(shop.id) == "demo|seed=1"
    copy = connections.duplicate("Shop", "Shop copy")
    assert copy.id is not None and connections.store_key(copy.id) == "demo|seed=1"

    # The user says it is a different store: the key its settings name, else one of its own.
    assert connections.start_new_store(shop.id, "demo|seed=2") == "demo|seed=2"
    fresh = connections.start_new_store(copy.id, "demo|seed=1")
    assert fresh.startswith("demo|seed=1") and fresh != "demo|seed=1"
    again = connections.start_new_store(copy.id, "demo|seed=1")
    assert again not in (fresh, "demo|seed=1")
    # Another kind of store is another store.
    connections.update(dataclasses.replace(shop, source_kind="csv"))
    assert connections.store_key(shop.id) == ""


def test_the_config_column_holds_json_without_the_row_id(db, connections):
    connections.add(full_connection("Shop"))
    config = json.loads(db.query_one("SELECT config FROM connections")["config"])
    assert "id" not in config and "name" not in config
    assert config["quickbooks"]["realm_id"] == "4620816365"


def test_a_connection_saved_by_an_older_version_still_loads(db, connections):
    db.execute("INSERT INTO connections (name, source_kind, config, created_at, updated_at)"
               " VALUES ('Old', 'csv', ?, 'x', 'x')", (json.dumps({"mode": "invoices"}),))
    assert connections.get("Old") == Connection(name="Old", source_kind="csv", id=1,
                                                mode=TransactionMode.INVOICES)


def test_an_unreadable_saved_connection_is_a_setup_error_naming_it(db, connections):
    db.execute("INSERT INTO connections (name, source_kind, config, created_at, updated_at)"
               " VALUES ('Broken', 'csv', '{\"mode\": \"teleport\"}', 'x', 'x')")
    with pytest.raises(SetupError, match="'Broken' cannot be read"):
        connections.get("Broken")


# ── runs ────────────────────────────────────────────────────────────────────────────────────

def test_a_run_stores_no_credential_a_service_echoed(connections, runs, db):
    """An error detail that echoes a credential (not a known secret) is stored redacted: the
    database holds customers' data and is read by anyone who gets the file."""
    token = "AB11780000000000echoed7c6b5a4f3e2d1c0b9a8f"
    run_id = runs.start(connections.add(minimal_connection()).id, "manual")
    runs.record_order(run_id, "id-1", "1001", OrderOutcome.FAILED,
                      message=f"Store said: Authorization: Bearer {token}",
                      detail=f'{{"error": "bad", "access_token": "{token}"}} consumer_key={token}')
    runs.finish(run_id, SyncResult(connection="Demo", run_id=run_id, status=RunStatus.FAILED,
                                   message=f"refresh_token={token} was refused"))
    stored = json.dumps([list(row) for table in ("runs", "run_orders")
                         for row in db.query(f"SELECT * FROM {table}")])
    assert token not in stored
    assert '\\"error\\": \\"bad\\"' in stored and "was refused" in stored


def test_a_run_records_its_orders_and_result(connections, runs):
    connection_id = connections.add(minimal_connection()).id
    run_id = runs.start(connection_id, "manual")
    started = runs.get(run_id)
    assert started.running and started.finished_at is None and not started.dry_run
    documents = (booked("1001", DocumentKind.INVOICE, "1001", "119.99"),
                 booked("1001", DocumentKind.PAYMENT, "", "119.99"))
    runs.record_order(run_id, "id-1", "1001", OrderOutcome.BOOKED, documents=documents)
    runs.record_order(run_id, "id-2", "1002", "failed", message="Unknown SKU 'X-1'",
                      detail="Object Not Found", error_kind=ErrorKind.FIX_DATA)
    runs.finish(run_id, SyncResult(connection="Demo", run_id=run_id, status=RunStatus.PARTIAL,
                                   fetched=2, synced=1, failed=1))
    finished = runs.get(run_id)
    assert (finished.status, finished.fetched, finished.synced, finished.failed) == (
        "partial", 2, 1, 1)
    assert not finished.running and finished.finished_at >= finished.started_at
    first, second = runs.orders(run_id)
    assert first.documents == documents
    assert first.documents[0].total == Decimal("119.99")
    assert (second.order_number, second.outcome, second.error_kind, second.message,
            second.detail) == ("1002", OrderOutcome.FAILED, "fix_data", "Unknown SKU 'X-1'",
                               "Object Not Found")


def test_recording_an_order_again_replaces_its_outcome(connections, runs):
    run_id = runs.start(connections.add(minimal_connection()).id, RunTrigger.CLI)
    runs.record_order(run_id, "id-1", "1001", OrderOutcome.FAILED, message="timeout")
    runs.record_order(run_id, "id-1", "1001", OrderOutcome.BOOKED)
    [only] = runs.orders(run_id)
    assert (only.outcome, only.message) == (OrderOutcome.BOOKED, "")


def test_unknown_triggers_and_outcomes_are_refused(connections, runs):
    connection_id = connections.add(minimal_connection()).id
    with pytest.raises(ValueError):
        runs.start(connection_id, "whenever")
    run_id = runs.start(connection_id, RunTrigger.SCHEDULE, dry_run=True)
    with pytest.raises(ValueError):
        runs.record_order(run_id, "id-1", "1001", "maybe")
    with pytest.raises(SetupError, match="No sync run with id 999"):
        runs.get(999)


def on_realm(name: str, realm_id: str) -> Connection:
    return dataclasses.replace(minimal_connection(name), quickbooks=QuickBooksCompany(
        environment="sandbox", realm_id=realm_id, company_name=f"Company {realm_id}"))


def test_reads_this_month_sum_every_connection_booking_into_the_company(db, connections, runs):
    shop, outlet, other = (connections.add(on_realm(name, realm)).id for name, realm in
                           (("Shop", "111"), ("Outlet", "111"), ("Other", "222")))
    december = datetime(2026, 12, 1, tzinfo=UTC)

    def run(connection_id: int, reads: int | None, started: datetime) -> None:
        run_id = runs.start(connection_id, RunTrigger.MANUAL)
        if reads is not None:    # None: a run from before reads were counted
            runs.finish(run_id, SyncResult(connection="", run_id=run_id,
                                           status=RunStatus.SUCCEEDED,
                                           quickbooks=QuickBooksUsage(reads, 3, reads + 1)))
        db.execute("UPDATE runs SET started_at = ? WHERE id = ?",
                   (started.isoformat(timespec="seconds"), run_id))

    run(shop, 7, december)                                   # the month's first second
    run(shop, 1200, december + timedelta(days=4))
    run(outlet, 34, december + timedelta(days=5))
    run(outlet, None, december + timedelta(days=5))
    run(shop, 900, december - timedelta(seconds=1))         # last month's
    run(other, 5000, december + timedelta(days=2))          # another company's
    # 05:00 on 6 December in Auckland is still 5 December in UTC: the same month either way.
    now = datetime(2026, 12, 6, 5, tzinfo=timezone(timedelta(hours=13)))
    assert runs.reads_this_month("111", now) == MonthlyReads(1241, december)
    assert runs.reads_this_month("222", now).reads == 5000
    assert runs.reads_this_month("333", now).reads == 0
    assert runs.reads_this_month("", now).reads == 0        # not connected
    # On 1 January, December's reads no longer count.
    assert runs.reads_this_month("111", datetime(2027, 1, 1, tzinfo=UTC)).reads == 0
    assert MonthlyReads(1241, december).describe() == (
        "QuickBooks reads this month (since 1 December UTC): 1,241 by this app on this "
        "computer, for this company. Intuit's free tier allows 500,000 a month for the app, "
        "summed over all its users.")


def test_list_and_last_are_newest_first_per_connection(connections, runs):
    shop = connections.add(minimal_connection("Shop")).id
    other = connections.add(minimal_connection("Other")).id
    assert runs.last(shop) is None
    ids = [runs.start(shop, RunTrigger.MANUAL) for _ in range(4)]
    runs.start(other, RunTrigger.MANUAL)
    assert [run.id for run in runs.list(shop)] == ids[::-1]
    assert [run.id for run in runs.list(shop, limit=2)] == ids[:1:-1]
    assert runs.last(shop).id == ids[-1]


def test_failed_orders_are_those_whose_latest_real_outcome_failed(connections, runs):
    shop = connections.add(minimal_connection("Shop")).id
    other = connections.add(minimal_connection("Other")).id
    first = runs.start(shop, RunTrigger.MANUAL)
    for order, outcome in (("A", "failed"), ("B", "failed"), ("C", "booked"), ("D", "failed")):
        runs.record_order(first, f"id-{order}", order, outcome)
    retry = runs.start(shop, RunTrigger.RETRY)
    runs.record_order(retry, "id-A", "A", "booked")      # fixed since
    runs.record_order(retry, "id-C", "C", "failed")      # booked, then failed (e.g. changed)
    dry = runs.start(shop, RunTrigger.MANUAL, dry_run=True)
    runs.record_order(dry, "id-B", "B", "planned")       # a preview fixes nothing
    runs.record_order(dry, "id-E", "E", "failed")        # nor does a preview's failure count
    elsewhere = runs.start(other, RunTrigger.MANUAL)
    runs.record_order(elsewhere, "id-F", "F", "failed")  # another connection's
    assert runs.failed_order_numbers(shop) == ["B", "D", "C"]
    assert runs.failed_order_numbers(other) == ["F"]


def test_runs_left_running_by_a_killed_process_are_marked_failed(connections, runs):
    connection_id = connections.add(minimal_connection()).id
    done = runs.start(connection_id, RunTrigger.MANUAL)
    runs.finish(done, SyncResult(connection="Demo", run_id=done, status=RunStatus.SUCCEEDED))
    killed = runs.start(connection_id, RunTrigger.SCHEDULE)
    assert runs.mark_interrupted() == 1
    interrupted = runs.get(killed)
    assert (interrupted.status, interrupted.message) == ("failed", INTERRUPTED_MESSAGE)
    assert interrupted.finished_at is not None
    assert runs.get(done).status == "succeeded"
    assert runs.mark_interrupted() == 0


def test_a_worker_thread_records_while_the_gui_thread_reads(connections, runs):
    connection_id = connections.add(minimal_connection()).id
    run_id = runs.start(connection_id, RunTrigger.MANUAL)
    orders = 200

    def work() -> None:
        for number in range(orders):
            runs.record_order(run_id, f"id-{number}", str(number), OrderOutcome.BOOKED)

    worker = threading.Thread(target=work)
    worker.start()
    while worker.is_alive():
        runs.orders(run_id)
        runs.last(connection_id)
    worker.join()
    assert [order.order_number for order in runs.orders(run_id)] == [
        str(n) for n in range(orders)]


# ── cursors and settings ────────────────────────────────────────────────────────────────────

def test_cursors_are_per_connection_and_overwritten(db, connections):
    cursors = CursorRepository(db)
    shop = connections.add(minimal_connection("Shop")).id
    other = connections.add(minimal_connection("Other")).id
    assert cursors.get(shop, "modified_since") is None
    cursors.set(shop, "modified_since", "2026-11-01T00:00:00Z")
    cursors.set(shop, "modified_since", "2026-11-02T00:00:00Z")
    cursors.set(other, "modified_since", "2025-01-01T00:00:00Z")
    assert cursors.get(shop, "modified_since") == "2026-11-02T00:00:00Z"
    assert cursors.get(other, "modified_since") == "2025-01-01T00:00:00Z"


def test_settings_have_defaults_and_are_overwritten(db):
    settings = SettingsRepository(db)
    assert settings.get(DEMO_COMPANY) == ""
    settings.set(DEMO_COMPANY, "uk")
    settings.set(DEMO_COMPANY, "au+multicurrency")
    assert settings.get(DEMO_COMPANY) == "au+multicurrency"


def test_settings_come_back_as_their_declared_type(db):
    settings = SettingsRepository(db)
    assert settings.get(AUTO_SYNC_PAUSED) is False and settings.get(TRAY_NEEDS_ATTENTION) == {}
    settings.set(AUTO_SYNC_PAUSED, True)
    settings.set(TRAY_NEEDS_ATTENTION, {3: "QuickBooks asks to sign in again"})
    again = SettingsRepository(db)
    assert again.get(AUTO_SYNC_PAUSED) is True
    assert again.get(TRAY_NEEDS_ATTENTION) == {3: "QuickBooks asks to sign in again"}
    assert again.setdefault(KEYRING_FOLDER_ID, "first") == "first"
    assert again.setdefault(KEYRING_FOLDER_ID, "second") == "first"
