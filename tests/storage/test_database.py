"""The database: schema, migrations with a copy beforehand, refusals, transactions, threads."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest

from connex_desktop.storage.database import (
    NOTHING_LOST,
    Database,
    DatabaseError,
    StorageError,
    utc_now,
)
from connex_desktop.storage.migrations import MIGRATIONS, SCHEMA_VERSION, Migration
from tests.fakes.full_disk import fill_disk_after

EXPECTED_COLUMNS = {
    "connections": ["id", "name", "source_kind", "config", "created_at", "updated_at"],
    "runs": ["id", "connection_id", "trigger", "dry_run", "status", "started_at", "finished_at",
             "fetched", "synced", "skipped", "failed", "message"],
    "run_orders": ["run_id", "order_id", "order_number", "outcome", "message", "detail",
                   "error_kind", "documents"],
    "ledger": ["id", "realm_id", "store_key", "order_id", "order_number", "doc_key", "kind",
               "connection_id", "run_id", "request_id", "state", "doc_number", "qb_id", "total",
               "error", "created_at", "updated_at"],
    "source_cursors": ["connection_id", "name", "value"],
    "settings": ["key", "value"],
}

ADD_NOTES = Migration("notes on connections",
                      ("ALTER TABLE connections ADD COLUMN notes TEXT NOT NULL DEFAULT ''",))


def add_connection(db: Database, name: str = "Shop") -> int:
    cursor = db.execute(
        "INSERT INTO connections (name, source_kind, config, created_at, updated_at)"
        " VALUES (?, 'demo', '{}', ?, ?)", (name, utc_now(), utc_now()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def add_ledger_row(db: Database, connection_id: int | None, order_id: str, request_id: str,
                   doc_key: str = "invoice") -> None:
    db.execute(
        "INSERT INTO ledger (realm_id, store_key, order_id, order_number, doc_key, kind,"
        " connection_id, request_id, state, created_at, updated_at)"
        " VALUES ('realm', 'store', ?, ?, ?, 'Invoice', ?, ?, 'confirmed', ?, ?)",
        (order_id, order_id, doc_key, connection_id, request_id, utc_now(), utc_now()))


@pytest.fixture
def db(tmp_path):
    with Database.open(tmp_path / "connex.sqlite3") as database:
        yield database


def test_the_first_migration_creates_exactly_the_agreed_tables(tmp_path):
    with Database.open(tmp_path / "connex.sqlite3", migrations=MIGRATIONS[:1]) as db:
        assert db.version == 1
        tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        assert [row["name"] for row in tables] == sorted(EXPECTED_COLUMNS)
        for table, columns in EXPECTED_COLUMNS.items():
            assert [row["name"] for row in db.query(f"PRAGMA table_info({table})")] == columns


def test_a_new_file_gets_the_whole_schema_wal_and_foreign_keys(db):
    assert db.version == SCHEMA_VERSION == len(MIGRATIONS)
    for table, columns in EXPECTED_COLUMNS.items():
        head_columns = [row["name"] for row in db.query(f"PRAGMA table_info({table})")]
        assert head_columns[:len(columns)] == columns
    indexes = {row["name"] for row in db.query("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"runs_by_connection", "ledger_by_state", "run_orders_by_number"} <= indexes
    assert db.query_one("PRAGMA journal_mode")[0] == "wal"
    assert db.query_one("PRAGMA foreign_keys")[0] == 1
    assert db.query_one("PRAGMA busy_timeout")[0] >= 1000


def test_reopening_a_current_file_keeps_its_data_and_makes_no_copy(tmp_path):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path) as db:
        add_connection(db)
    with Database.open(path) as db:
        assert db.query_one("SELECT name FROM connections")["name"] == "Shop"
    assert list(tmp_path.glob("*.bak")) == []


def test_a_connection_that_booked_before_keeps_the_store_its_ledger_names(tmp_path):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path, migrations=MIGRATIONS[:3]) as old:
        booked, idle = add_connection(old, "Booked"), add_connection(old, "Idle")
        add_ledger_row(old, booked, "1", "r1")
    with Database.open(path) as db:
        keys = {row["id"]: row["store_key"] for row in db.query("SELECT * FROM connections")}
    assert keys == {booked: "store", idle: ""}


def test_an_older_file_is_copied_then_migrated(tmp_path):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path) as db:
        add_connection(db)
    with Database.open(path, migrations=(*MIGRATIONS, ADD_NOTES)) as db:
        assert db.version == SCHEMA_VERSION + 1
        assert db.query_one("SELECT name, notes FROM connections")[:] == ("Shop", "")
    backup = tmp_path / f"connex.sqlite3.v{SCHEMA_VERSION}.bak"
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert copy.execute("SELECT name FROM connections").fetchall() == [("Shop",)]
        columns = [row[1] for row in copy.execute("PRAGMA table_info(connections)")]
        assert "notes" not in columns


@pytest.mark.parametrize("old_version", range(1, SCHEMA_VERSION))
def test_every_older_version_migrates_to_the_current_one_keeping_its_data(tmp_path, old_version):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path, migrations=MIGRATIONS[:old_version]) as db:
        connection_id = add_connection(db)
        add_ledger_row(db, connection_id, "1", "req-1")
    with Database.open(path) as db:
        assert db.version == SCHEMA_VERSION
        assert db.query_one("SELECT name FROM connections")["name"] == "Shop"
        assert db.query_one("SELECT request_id FROM ledger")["request_id"] == "req-1"
    assert (tmp_path / f"connex.sqlite3.v{old_version}.bak").exists()


def test_a_failing_migration_changes_nothing(tmp_path):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path) as db:
        add_connection(db)
    broken = Migration("broken", ("CREATE TABLE extra (x)", "INSERT INTO missing VALUES (1)"))
    with pytest.raises(DatabaseError, match="no such table: missing") as raised:
        Database.open(path, migrations=(*MIGRATIONS, broken))
    assert f"to version {SCHEMA_VERSION + 1} (broken)" in str(raised.value)
    assert f"connex.sqlite3.v{SCHEMA_VERSION}.bak" in str(raised.value)
    with Database.open(path) as db:
        assert db.version == SCHEMA_VERSION
        assert db.query_one("SELECT name FROM sqlite_master WHERE name = 'extra'") is None
        assert db.query_one("SELECT name FROM connections")["name"] == "Shop"


def test_a_file_from_a_newer_version_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(DatabaseError, match="newer version of Connex Desktop") as raised:
        Database.open(path)
    assert f"schema version {SCHEMA_VERSION + 5}" in str(raised.value)
    assert raised.value.field == "data-dir"
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5
    assert list(tmp_path.glob("*.bak")) == []


def test_a_file_that_is_not_a_database_is_refused_plainly(tmp_path):
    path = tmp_path / "connex.sqlite3"
    path.write_bytes(b"these are not the bytes of an SQLite database" * 100)
    with pytest.raises(DatabaseError, match="is not a Connex Desktop database"):
        Database.open(path)


def test_open_creates_the_folder(tmp_path):
    with Database.open(tmp_path / "new" / "deeper" / "connex.sqlite3") as db:
        assert db.version == SCHEMA_VERSION


def test_a_transaction_commits_all_or_nothing(db):
    with pytest.raises(RuntimeError), db.transaction():
        add_connection(db, "One")
        raise RuntimeError("boom")
    assert db.query("SELECT * FROM connections") == []
    with db.transaction():
        add_connection(db, "One")
        add_connection(db, "Two")
    assert [row["name"] for row in db.query("SELECT name FROM connections ORDER BY id")] == [
        "One", "Two"]


def test_a_nested_failure_undoes_only_the_inner_block(db):
    with db.transaction():
        add_connection(db, "Outer")
        with pytest.raises(sqlite3.IntegrityError), db.transaction():
            add_connection(db, "Inner")
            add_connection(db, "Outer")  # name clash
    assert [row["name"] for row in db.query("SELECT name FROM connections")] == ["Outer"]


def test_deleting_a_connection_removes_its_runs_and_cursors_but_not_its_ledger(db):
    connection_id = add_connection(db)
    run_id = db.execute(
        "INSERT INTO runs (connection_id, trigger, status, started_at) VALUES (?, 'manual',"
        " 'succeeded', ?)", (connection_id, utc_now())).lastrowid
    db.execute("INSERT INTO run_orders (run_id, order_id, order_number, outcome)"
               " VALUES (?, '1', '1001', 'booked')", (run_id,))
    db.execute("INSERT INTO source_cursors VALUES (?, 'modified_since', '2026-01-01')",
               (connection_id,))
    add_ledger_row(db, connection_id, "1", "req-1")
    db.execute("DELETE FROM connections WHERE id = ?", (connection_id,))
    for table in ("runs", "run_orders", "source_cursors"):
        assert db.query(f"SELECT * FROM {table}") == [], table
    assert db.query_one("SELECT connection_id FROM ledger")["connection_id"] == connection_id


def test_foreign_keys_are_enforced(db):
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO runs (connection_id, trigger, status, started_at)"
                   " VALUES (999, 'manual', 'running', ?)", (utc_now(),))


def test_the_ledger_has_one_row_per_document_and_request(db):
    add_ledger_row(db, None, "1", "req-1")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        add_ledger_row(db, None, "1", "req-2")  # same order and document
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        add_ledger_row(db, None, "2", "req-1")  # same request id
    add_ledger_row(db, None, "1", "req-3", doc_key="payment")


def test_threads_write_and_read_at_once_without_lock_errors(db):
    connection_id = add_connection(db)
    writers, runs_each = 3, 40
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(runs_each):
                with db.transaction() as connection:
                    connection.execute(
                        "INSERT INTO runs (connection_id, trigger, status, started_at)"
                        " VALUES (?, 'manual', 'running', ?)", (connection_id, utc_now()))
                    connection.execute("UPDATE settings SET value = value + 1 WHERE key = 'n'")
        except BaseException as error:
            errors.append(error)

    db.execute("INSERT INTO settings VALUES ('n', '0')")
    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):  # the "GUI" reads meanwhile
        db.query("SELECT count(*) FROM runs")
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.query_one("SELECT count(*) FROM runs")[0] == writers * runs_each
    assert db.query_one("SELECT value FROM settings")[0] == str(writers * runs_each)


def test_two_processes_worth_of_connections_share_the_file(tmp_path):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path) as gui, Database.open(path) as cli:
        add_connection(gui, "From the window")
        assert cli.query_one("SELECT name FROM connections")["name"] == "From the window"


def test_memory_databases_are_private_and_shared_between_threads():
    with Database.memory() as first, Database.memory() as second:
        add_connection(first)
        seen: list[int] = []
        thread = threading.Thread(
            target=lambda: seen.append(first.query_one("SELECT count(*) FROM connections")[0]))
        thread.start()
        thread.join()
        assert seen == [1]
        assert second.query("SELECT * FROM connections") == []
        assert first.version == SCHEMA_VERSION


def test_a_closed_database_says_so(tmp_path):
    db = Database.open(tmp_path / "connex.sqlite3")
    db.close()
    with pytest.raises(DatabaseError, match="closed"):
        db.query("SELECT 1")


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_the_database_its_journals_and_its_backup_are_private(tmp_path, file_mode):
    path = tmp_path / "data" / "connex.sqlite3"
    with Database.open(path) as db:
        add_connection(db)
        wal, shm = (path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))
        assert wal.exists() and shm.exists()
        assert (file_mode(path.parent), file_mode(path), file_mode(wal), file_mode(shm)) == (
            0o700, 0o600, 0o600, 0o600)
    with Database.open(path, migrations=(*MIGRATIONS, ADD_NOTES)):
        assert file_mode(tmp_path / "data" / f"connex.sqlite3.v{SCHEMA_VERSION}.bak") == 0o600


def test_a_full_disk_is_reported_plainly_and_undoes_the_unfinished_write(tmp_path, monkeypatch):
    path = tmp_path / "connex.sqlite3"
    with Database.open(path) as db:
        kept = add_connection(db, "Kept")
    fill_disk_after(monkeypatch, spare_pages=0)
    with Database.open(path) as db:
        with pytest.raises(StorageError) as raised, db.transaction():
            for number in range(2_000):   # more than the page left can hold
                add_ledger_row(db, kept, str(number), f"req-{number}")
        assert str(raised.value).startswith(
            f"The disk holding Connex Desktop's data folder ({tmp_path}) is full")
        assert NOTHING_LOST in str(raised.value) and raised.value.field == "data-dir"
        assert "database or disk is full" in raised.value.detail
        # The transaction was undone as a whole, and the connection is not left inside it.
        assert db.query("SELECT * FROM ledger") == []
        assert not db.connection().in_transaction
        with pytest.raises(StorageError):
            for number in range(2_000):   # one statement at a time, outside a transaction
                add_ledger_row(db, kept, str(number), f"req-{number}")
    monkeypatch.undo()   # space freed
    with Database.open(path) as db:
        assert [row["name"] for row in db.query("SELECT name FROM connections")] == ["Kept"]
        add_ledger_row(db, kept, "after", "req-after")
