"""The database schema as ordered migrations; `PRAGMA user_version` counts those applied."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    """One schema step. Its version is its position in MIGRATIONS, counting from 1."""

    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "connections, runs, run orders, ledger, source cursors, settings",
        (
            """CREATE TABLE connections (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                source_kind TEXT NOT NULL,
                config TEXT NOT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL)""",
            """CREATE TABLE runs (
                id INTEGER PRIMARY KEY,
                connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
                trigger TEXT NOT NULL,
                dry_run INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                fetched INTEGER NOT NULL DEFAULT 0,
                synced INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                message TEXT NOT NULL DEFAULT '')""",
            "CREATE INDEX runs_by_connection ON runs (connection_id, id)",
            "CREATE INDEX runs_by_status ON runs (status)",
            """CREATE TABLE run_orders (
                run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                order_id TEXT NOT NULL,
                order_number TEXT NOT NULL,
                outcome TEXT NOT NULL,
                message TEXT NOT NULL DEFAULT '',
                detail TEXT NOT NULL DEFAULT '',
                error_kind TEXT NOT NULL DEFAULT '',
                documents TEXT NOT NULL DEFAULT '[]',
                PRIMARY KEY (run_id, order_id))""",
            "CREATE INDEX run_orders_by_number ON run_orders (order_number)",
            # No foreign keys: deleting a connection keeps the record of what it booked.
            """CREATE TABLE ledger (
                id INTEGER PRIMARY KEY,
                realm_id TEXT NOT NULL,
                store_key TEXT NOT NULL,
                order_id TEXT NOT NULL,
                order_number TEXT NOT NULL,
                doc_key TEXT NOT NULL,
                kind TEXT NOT NULL,
                connection_id INTEGER,
                run_id INTEGER,
                request_id TEXT NOT NULL UNIQUE,
                state TEXT NOT NULL,
                doc_number TEXT NOT NULL DEFAULT '',
                qb_id TEXT NOT NULL DEFAULT '',
                total TEXT NOT NULL DEFAULT '',
                error TEXT NOT NULL DEFAULT '',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (realm_id, store_key, order_id, doc_key))""",
            "CREATE INDEX ledger_by_state ON ledger (state)",
            "CREATE INDEX ledger_by_run ON ledger (run_id)",
            "CREATE INDEX ledger_by_order_number ON ledger (realm_id, order_number)",
            """CREATE TABLE source_cursors (
                connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (connection_id, name))""",
            """CREATE TABLE settings (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL)""",
        ),
    ),
    Migration(
        "ledger: the request body sent, so an unconfirmed write can be sent again as it was",
        (
            "ALTER TABLE ledger ADD COLUMN payload TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        "undo: the delete request of each document being undone, and when a run was undone",
        (
            "ALTER TABLE ledger ADD COLUMN undo_request_id TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE runs ADD COLUMN undone_at TEXT",
            "ALTER TABLE runs ADD COLUMN undo_message TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        "connections: the store each one books from, remembered once it has booked, so a "
        "moved file or a new address keeps its ledger",
        (
            "ALTER TABLE connections ADD COLUMN store_key TEXT NOT NULL DEFAULT ''",
            # A connection that has booked already keeps the store its newest ledger row names.
            "UPDATE connections SET store_key = COALESCE((SELECT ledger.store_key FROM ledger"
            " WHERE ledger.connection_id = connections.id ORDER BY ledger.id DESC LIMIT 1), '')",
        ),
    ),
    Migration(
        "run_orders: the order's customer, so the sync log can be searched by customer",
        (
            "ALTER TABLE run_orders ADD COLUMN customer TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        "runs: what each asked of QuickBooks (metered reads, writes, requests), and what a "
        "failed run's failure asks of the user (the scheduler waits out a used-up month)",
        (
            # NULL until the run finishes, and for runs from before they were counted.
            "ALTER TABLE runs ADD COLUMN qb_reads INTEGER",
            "ALTER TABLE runs ADD COLUMN qb_writes INTEGER",
            "ALTER TABLE runs ADD COLUMN qb_requests INTEGER",
            "ALTER TABLE runs ADD COLUMN failure_kind TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        "reference lists kept between runs per company (realm): each list's records and when "
        "it was last read, so a sync refreshes them with one change data capture read",
        (
            """CREATE TABLE reference_lists (
                realm_id TEXT NOT NULL,
                entity TEXT NOT NULL,
                read_at TEXT NOT NULL,
                PRIMARY KEY (realm_id, entity))""",
            """CREATE TABLE reference_records (
                realm_id TEXT NOT NULL,
                entity TEXT NOT NULL,
                record_id TEXT NOT NULL,
                body TEXT NOT NULL,
                PRIMARY KEY (realm_id, entity, record_id))""",
        ),
    ),
    Migration(
        "run_orders: which kind of sync item each row is (an order, or the store's own "
        "purchase order), so failed orders are retried as orders and POs as POs",
        (
            "ALTER TABLE run_orders ADD COLUMN item TEXT NOT NULL DEFAULT 'order'",
        ),
    ),
    Migration(
        "run_orders: the fix the app can make for a failed order (core.errors.Fix, encoded), "
        "so the sync log offers it",
        (
            "ALTER TABLE run_orders ADD COLUMN fix TEXT NOT NULL DEFAULT ''",
        ),
    ),
    Migration(
        "run_orders: the connection's rule that decided each order ('': its own settings)",
        (
            "ALTER TABLE run_orders ADD COLUMN rule TEXT NOT NULL DEFAULT ''",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)
