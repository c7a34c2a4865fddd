"""Typed access to connections, sync runs, source cursors and settings in the database."""

from __future__ import annotations

import builtins
import dataclasses
import enum
import json
import sqlite3
import types
import typing
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from connex_desktop.core.app_settings import AppSetting
from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import ErrorKind, Fix, SetupError
from connex_desktop.core.redaction import redact
from connex_desktop.core.result import (
    BookedDocument,
    DocumentKind,
    OrderOutcome,
    QuickBooksUsage,
    RunTrigger,
    SyncResult,
)
from connex_desktop.storage.database import Database, utc_now

T = TypeVar("T")


def to_plain(value: Any) -> Any:
    """A dataclass (nested, with enums, tuples, Decimals) as JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_plain(getattr(value, field.name))
                for field in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_plain(item) for key, item in value.items()}
    return value


def from_plain(hint: Any, data: Any) -> Any:
    """The inverse of to_plain, guided by type hints.

    Keys the dataclass does not know are ignored and missing ones take their defaults, so a
    file written by a later or earlier version still loads.
    """
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in arguments:
            return None
        return from_plain(next(arg for arg in arguments if arg is not type(None)), data)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if not isinstance(data, dict):
            raise ValueError(f"expected an object for {hint.__name__}, found {data!r}")
        hints = typing.get_type_hints(hint)
        return hint(**{field.name: from_plain(hints[field.name], data[field.name])
                       for field in dataclasses.fields(hint)
                       if field.init and field.name in data})
    if origin in (tuple, list):
        if not isinstance(data, list):
            raise ValueError(f"expected a list, found {data!r}")
        item_hint = arguments[0] if arguments else Any
        return origin(from_plain(item_hint, item) for item in data)
    if origin is dict:
        if not isinstance(data, dict):
            raise ValueError(f"expected an object, found {data!r}")
        key_hint, value_hint = arguments or (Any, Any)
        return {from_plain(key_hint, key): from_plain(value_hint, value)
                for key, value in data.items()}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(data)
    if hint is Decimal:
        return Decimal(data)
    if hint in (str, int, bool) and not isinstance(data, hint):
        raise ValueError(f"expected {hint.__name__}, found {data!r}")
    return data


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


# ── connections ─────────────────────────────────────────────────────────────────────────────

# Kept in their own columns, not in the JSON: the row id, and the name and kind it is found by.
_CONNECTION_COLUMNS = ("id", "name", "source_kind")
# Ends the key of a store the user said is new although its settings name the old one.
NEW_STORE_MARK = "|new-store="


class ConnectionRepository:
    """The saved connections. Their secrets are not here: they live in the keyring."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self) -> list[Connection]:
        rows = self._db.query("SELECT * FROM connections ORDER BY name COLLATE NOCASE, id")
        return [self._from_row(row) for row in rows]

    def get(self, name: str) -> Connection:
        row = self._db.query_one("SELECT * FROM connections WHERE name = ?", (name,))
        if row is None:
            raise SetupError(f"No connection named {name!r}.", field="name")
        return self._from_row(row)

    def get_by_id(self, connection_id: int) -> Connection:
        row = self._db.query_one("SELECT * FROM connections WHERE id = ?", (connection_id,))
        if row is None:
            raise SetupError(f"No connection with id {connection_id}.", field="name")
        return self._from_row(row)

    def add(self, connection: Connection) -> Connection:
        """Save a new connection; the returned copy carries its id."""
        connection = self._checked(connection)
        now = utc_now()
        try:
            cursor = self._db.execute(
                "INSERT INTO connections (name, source_kind, config, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (connection.name, connection.source_kind, self._config(connection), now, now))
        except sqlite3.IntegrityError as error:
            raise self._name_taken(connection.name) from error
        return dataclasses.replace(connection, id=cursor.lastrowid)

    def update(self, connection: Connection) -> Connection:
        """Save changes to a connection found by its id; its name may change too."""
        if connection.id is None:
            raise SetupError(f"The connection {connection.name!r} has not been saved yet.",
                             field="name")
        connection = self._checked(connection)
        try:
            # Another kind of store is another store: it is remembered anew when it books.
            cursor = self._db.execute(
                "UPDATE connections SET name = ?, source_kind = ?, config = ?, updated_at = ?,"
                " store_key = CASE WHEN source_kind = ? THEN store_key ELSE '' END WHERE id = ?",
                (connection.name, connection.source_kind, self._config(connection), utc_now(),
                 connection.source_kind, connection.id))
        except sqlite3.IntegrityError as error:
            raise self._name_taken(connection.name) from error
        if cursor.rowcount == 0:
            raise SetupError(f"No connection with id {connection.id}.", field="name")
        return connection

    def remove(self, name: str) -> int:
        """Delete a connection with its runs and cursors (the ledger keeps what it booked).

        Returns its id, so the caller can delete its secrets from the keyring.
        """
        with self._db.transaction():
            connection_id = self.get(name).id
            self._db.execute("DELETE FROM connections WHERE id = ?", (connection_id,))
        assert connection_id is not None
        return connection_id

    def duplicate(self, name: str, new_name: str) -> Connection:
        """A copy of the connection's settings under a new name, with no history or cursors.

        The copy reads the same store, so it shares its ledger: an order is never booked by
        both. Secrets are not copied here: the caller copies them in the secret store if it
        wants.
        """
        original = self.get(name)
        assert original.id is not None
        copy = self.add(dataclasses.replace(original, name=new_name, id=None))
        assert copy.id is not None
        self.remember_store(copy.id, self.store_key(original.id))
        return copy

    # The store a connection books from keys its ledger rows. It is remembered once the
    # connection has booked, and not recomputed from the settings, so a renamed or moved
    # order file, or a store's new address, does not book everything again.

    def store_key(self, connection_id: int) -> str:
        """The store the connection books from, as the ledger names it ("" until it books)."""
        row = self._db.query_one("SELECT store_key FROM connections WHERE id = ?",
                                 (connection_id,))
        return row["store_key"] if row is not None else ""

    def remember_store(self, connection_id: int, store_key: str) -> None:
        """Keep the store the connection books from, unless it has one already."""
        self._db.execute("UPDATE connections SET store_key = ? WHERE id = ? AND store_key = ''",
                         (store_key, connection_id))

    def start_new_store(self, connection_id: int, store_key: str) -> str:
        """The user says the connection now reads a different store: from its next sync its
        orders are new to the ledger. Returns the store's new key.

        `store_key` is the store its settings name now; when that is the one it booked from
        (the same file, the same address), a key of its own is made.
        """
        if store_key == self.store_key(connection_id).partition(NEW_STORE_MARK)[0]:
            store_key += NEW_STORE_MARK + uuid.uuid4().hex[:12]
        self._db.execute("UPDATE connections SET store_key = ? WHERE id = ?",
                         (store_key, connection_id))
        return store_key

    @staticmethod
    def _checked(connection: Connection) -> Connection:
        name = connection.name.strip()
        if not name:
            raise SetupError("A connection needs a name.", field="name")
        if not connection.source_kind:
            raise SetupError(f"The connection {name!r} needs a kind of store.",
                             field="source_kind")
        return dataclasses.replace(connection, name=name)

    @staticmethod
    def _name_taken(name: str) -> SetupError:
        return SetupError(f"A connection named {name!r} already exists; choose another name.",
                          field="name")

    @staticmethod
    def _config(connection: Connection) -> str:
        plain = to_plain(connection)
        for column in _CONNECTION_COLUMNS:
            del plain[column]
        return json.dumps(plain, ensure_ascii=False, sort_keys=True)

    @staticmethod
    def _from_row(row: sqlite3.Row) -> Connection:
        plain = json.loads(row["config"])
        plain.update({column: row[column] for column in _CONNECTION_COLUMNS})
        try:
            connection: Connection = from_plain(Connection, plain)
        except (ValueError, TypeError) as error:
            raise SetupError(f"The saved settings of the connection {row['name']!r} cannot be "
                             f"read ({error}); edit or re-create it.", field="name") from error
        return connection


# ── sync runs ───────────────────────────────────────────────────────────────────────────────

RUNNING = "running"   # the status of a run that has not finished; the rest are RunStatus values

INTERRUPTED_MESSAGE = ("The app stopped before this run finished. What it booked is recorded; "
                       "sync again to book the rest.")


@dataclass(frozen=True)
class RunRecord:
    id: int
    connection_id: int
    trigger: RunTrigger
    dry_run: bool
    status: str            # RUNNING, or a core.result.RunStatus value
    started_at: datetime
    finished_at: datetime | None
    fetched: int
    synced: int
    skipped: int
    failed: int
    message: str
    undone_at: datetime | None = None   # when an undo deleted what the run booked
    undo_message: str = ""              # what the latest undo did, in plain words
    # The reads, writes and requests it made; None while running and for runs from before
    # they were counted.
    quickbooks: QuickBooksUsage | None = None
    failure_kind: str = ""              # a failed run's ErrorKind value ("" when not known)

    @property
    def running(self) -> bool:
        return self.status == RUNNING


# Intuit's free Builder tier: metered (CorePlus) calls a month for the app, summed over every
# company and user of it (../shared/reference/quickbooks-online-api.md §4 and "Metering").
FREE_TIER_READS_PER_MONTH = 500_000


@dataclass(frozen=True)
class MonthlyReads:
    """The metered QuickBooks reads this data folder's runs made for one company this month."""

    reads: int
    since: datetime    # the start of the calendar month, in UTC, that they are counted from

    def describe(self) -> str:
        return (f"QuickBooks reads this month (since {self.since.day} {self.since:%B} UTC): "
                f"{self.reads:,} by this app on this computer, for this company. Intuit's free "
                f"tier allows {FREE_TIER_READS_PER_MONTH:,} a month for the app, summed over "
                "all its users.")


def month_start(now: datetime) -> datetime:
    """The first instant, in UTC, of the calendar month `now` falls in."""
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# The kinds of sync item a run records: the store's orders, and its own purchase orders.
ORDER_ITEM = "order"
PURCHASE_ORDER_ITEM = "purchase_order"


@dataclass(frozen=True)
class RunOrderRecord:
    run_id: int
    order_id: str
    order_number: str
    outcome: OrderOutcome
    message: str
    detail: str
    error_kind: str        # an ErrorKind value for a failed order, else ""
    documents: tuple[BookedDocument, ...]
    customer: str = ""     # the buyer as the store names them ("" when the order was unreadable)
    item: str = ORDER_ITEM  # the kind of sync item: an order, or a purchase order (its vendor
    #                         is then in `customer`)
    fix: Fix | None = None   # what the app can do about a failed order, where it can
    rule: str = ""         # the connection's rule that decided the order ("": its own settings)


class RunRepository:
    """The history of sync runs and what each did with each order."""

    # `builtins.list` below: inside this class, plain `list` names the method.

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(self, connection_id: int, trigger: RunTrigger | str, dry_run: bool = False) -> int:
        cursor = self._db.execute(
            "INSERT INTO runs (connection_id, trigger, dry_run, status, started_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (connection_id, RunTrigger(trigger).value, int(dry_run), RUNNING, utc_now()))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def record_order(self, run_id: int, order_id: str, order_number: str,
                     outcome: OrderOutcome | str, message: str = "", detail: str = "",
                     error_kind: ErrorKind | str = "",
                     documents: Iterable[BookedDocument] = (), customer: str = "",
                     item: str = ORDER_ITEM, fix: Fix | None = None, rule: str = "") -> None:
        """What the run did with one order (or other sync `item`); recording the same one
        again replaces it."""
        documents_json = json.dumps(
            [{"kind": doc.kind.value, "qb_id": doc.qb_id, "doc_number": doc.doc_number,
              "total": str(doc.total)} for doc in documents], ensure_ascii=False)
        self._db.execute(
            "INSERT INTO run_orders (run_id, order_id, order_number, outcome, message, detail,"
            " error_kind, documents, customer, item, fix, rule)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, order_id) DO UPDATE SET order_number = excluded.order_number,"
            " outcome = excluded.outcome, message = excluded.message, detail = excluded.detail,"
            " error_kind = excluded.error_kind, documents = excluded.documents,"
            " customer = excluded.customer, item = excluded.item, fix = excluded.fix,"
            " rule = excluded.rule",
            (run_id, order_id, order_number, OrderOutcome(outcome).value, redact(message),
             redact(detail), ErrorKind(error_kind).value if error_kind else "", documents_json,
             customer, item, fix.encode() if fix else "", rule))

    def finish(self, run_id: int, result: SyncResult) -> None:
        self._db.execute(
            "UPDATE runs SET status = ?, finished_at = ?, fetched = ?, synced = ?, skipped = ?,"
            " failed = ?, message = ?, qb_reads = ?, qb_writes = ?, qb_requests = ?,"
            " failure_kind = ? WHERE id = ?",
            (result.status.value, utc_now(), result.fetched, result.synced, result.skipped,
             result.failed, redact(result.message), result.quickbooks.reads,
             result.quickbooks.writes, result.quickbooks.requests,
             result.failure_kind.value if result.failure_kind else "", run_id))

    def list(self, connection_id: int, limit: int = 50) -> list[RunRecord]:
        """The connection's runs, newest first."""
        rows = self._db.query("SELECT * FROM runs WHERE connection_id = ? ORDER BY id DESC"
                              " LIMIT ?", (connection_id, limit))
        return [self._run(row) for row in rows]

    def get(self, run_id: int) -> RunRecord:
        row = self._db.query_one("SELECT * FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise SetupError(f"No sync run with id {run_id}.", field="run")
        return self._run(row)

    def last(self, connection_id: int) -> RunRecord | None:
        runs = self.list(connection_id, limit=1)
        return runs[0] if runs else None

    def last_sync(self, connection_id: int) -> RunRecord | None:
        """The connection's latest real run: a preview books nothing, so it is not one."""
        row = self._db.query_one("SELECT * FROM runs WHERE connection_id = ? AND dry_run = 0"
                                 " ORDER BY id DESC LIMIT 1", (connection_id,))
        return None if row is None else self._run(row)

    def reads_this_month(self, realm_id: str, now: datetime | None = None) -> MonthlyReads:
        """The metered reads of the runs started this month (UTC) by every connection that
        books into the company `realm_id`; runs from before reads were counted add nothing."""
        since = month_start(now or datetime.now(UTC))
        if not realm_id:    # not connected: no company to count for
            return MonthlyReads(0, since)
        row = self._db.query_one(
            "SELECT COALESCE(SUM(r.qb_reads), 0) AS reads FROM runs AS r"
            " JOIN connections AS c ON c.id = r.connection_id"
            " WHERE json_extract(c.config, '$.quickbooks.realm_id') = ? AND r.started_at >= ?",
            (realm_id, since.isoformat(timespec="seconds")))
        assert row is not None      # an aggregate always has its row
        return MonthlyReads(row["reads"], since)

    def orders(self, run_id: int) -> builtins.list[RunOrderRecord]:
        """The orders of one run, in the order the run recorded them."""
        rows = self._db.query("SELECT * FROM run_orders WHERE run_id = ? ORDER BY rowid",
                              (run_id,))
        return [self._order(row) for row in rows]

    def failed_order_numbers(self, connection_id: int) -> builtins.list[str]:
        """Orders whose latest outcome in a real (not dry) run is a failure: what to retry.

        By number, as they are fetched again: an order the store could not read was recorded
        under its number, and once read, under the store's id for it.
        """
        return [order.order_number for order in self.failed_orders(connection_id)]

    def failed_orders(self, connection_id: int) -> builtins.list[RunOrderRecord]:
        """The orders' failures still standing, oldest run first: each order's latest outcome
        in a real run, where that is a failure."""
        return self._latest(connection_id, ORDER_ITEM, "order_number", OrderOutcome.FAILED)

    def latest_item_ids(self, connection_id: int, item: str, outcome: OrderOutcome,
                        message_start: str = "") -> builtins.list[str]:
        """The ids (as recorded) of a kind of sync item whose latest outcome in a real run is
        `outcome` (with a message that starts so), e.g. the store's purchase orders to ask
        for again."""
        return [record.order_id for record in
                self._latest(connection_id, item, "order_id", outcome, message_start)]

    def _latest(self, connection_id: int, item: str, key: str, outcome: OrderOutcome,
                message_start: str = "") -> builtins.list[RunOrderRecord]:
        """The items of a kind whose latest outcome (by `key`) in a real run is `outcome`."""
        assert key in ("order_number", "order_id")
        rows = self._db.query(
            f"""SELECT * FROM (
                   SELECT o.*, o.rowid AS position,
                          row_number() OVER (PARTITION BY o.{key}
                                             ORDER BY o.run_id DESC, o.rowid DESC) AS recency
                   FROM run_orders AS o JOIN runs AS r ON r.id = o.run_id
                   WHERE r.connection_id = ? AND r.dry_run = 0 AND o.item = ?)
               WHERE recency = 1 AND outcome = ? AND substr(message, 1, ?) = ?
               ORDER BY run_id, position""",
            (connection_id, item, outcome.value, len(message_start), message_start))
        return [self._order(row) for row in rows]

    def mark_undone(self, run_id: int, message: str, *, complete: bool) -> None:
        """An undo of the run deleted documents; `complete`: none of them is left."""
        self._db.execute("UPDATE runs SET undone_at = ?, undo_message = ? WHERE id = ?",
                         (utc_now() if complete else None, message, run_id))

    def mark_interrupted(self, connection_id: int | None = None) -> int:
        """Runs left 'running' by a killed process become failed. Returns how many.

        Only those of `connection_id` when given. Call it only when no other process may be
        syncing them right now (storage.sync_locks tells).
        """
        sql = "UPDATE runs SET status = 'failed', finished_at = ?, message = ? WHERE status = ?"
        parameters: builtins.list[object] = [utc_now(), INTERRUPTED_MESSAGE, RUNNING]
        if connection_id is not None:
            sql += " AND connection_id = ?"
            parameters.append(connection_id)
        return self._db.execute(sql, parameters).rowcount

    @staticmethod
    def _run(row: sqlite3.Row) -> RunRecord:
        started_at = _time(row["started_at"])
        assert started_at is not None
        return RunRecord(
            id=row["id"], connection_id=row["connection_id"], trigger=RunTrigger(row["trigger"]),
            dry_run=bool(row["dry_run"]), status=row["status"], started_at=started_at,
            finished_at=_time(row["finished_at"]), fetched=row["fetched"], synced=row["synced"],
            skipped=row["skipped"], failed=row["failed"], message=row["message"],
            undone_at=_time(row["undone_at"]), undo_message=row["undo_message"],
            quickbooks=None if row["qb_requests"] is None else QuickBooksUsage(
                row["qb_reads"], row["qb_writes"], row["qb_requests"]),
            failure_kind=row["failure_kind"])

    @staticmethod
    def _order(row: sqlite3.Row) -> RunOrderRecord:
        documents = tuple(
            BookedDocument(order=row["order_number"], kind=DocumentKind(doc["kind"]),
                           qb_id=doc["qb_id"], doc_number=doc["doc_number"],
                           total=Decimal(doc["total"]))
            for doc in json.loads(row["documents"]))
        return RunOrderRecord(
            run_id=row["run_id"], order_id=row["order_id"], order_number=row["order_number"],
            outcome=OrderOutcome(row["outcome"]), message=row["message"], detail=row["detail"],
            error_kind=row["error_kind"], documents=documents, customer=row["customer"],
            item=row["item"], fix=Fix.decode(row["fix"]), rule=row["rule"])


# ── cursors and settings ────────────────────────────────────────────────────────────────────

class CursorRepository:
    """A connection's incremental bookmarks in its store (e.g. modified-since)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, connection_id: int, name: str) -> str | None:
        row = self._db.query_one(
            "SELECT value FROM source_cursors WHERE connection_id = ? AND name = ?",
            (connection_id, name))
        return row["value"] if row is not None else None

    def set(self, connection_id: int, name: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO source_cursors (connection_id, name, value) VALUES (?, ?, ?)"
            " ON CONFLICT (connection_id, name) DO UPDATE SET value = excluded.value",
            (connection_id, name, value))

    def delete(self, connection_id: int, name: str) -> None:
        self._db.execute("DELETE FROM source_cursors WHERE connection_id = ? AND name = ?",
                         (connection_id, name))


class SettingsRepository:
    """The app's own settings (never secrets: those go to the keyring), as core.app_settings
    declares them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, setting: AppSetting[T]) -> T:
        row = self._db.query_one("SELECT value FROM settings WHERE key = ?", (setting.key,))
        return setting.parse(row["value"]) if row is not None else setting.default

    def set(self, setting: AppSetting[T], value: T) -> None:
        self._db.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                         " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                         (setting.key, setting.text(value)))

    def setdefault(self, setting: AppSetting[T], value: T) -> T:
        """The setting's value, storing `value` first when it has none; two processes starting
        at once agree on the one stored first."""
        self._db.execute("INSERT INTO settings (key, value) VALUES (?, ?)"
                         " ON CONFLICT (key) DO NOTHING", (setting.key, setting.text(value)))
        return self.get(setting)
