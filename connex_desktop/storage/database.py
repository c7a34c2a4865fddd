"""The SQLite database: WAL, foreign keys, migrations, and one connection per thread."""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connex_desktop.core.errors import SetupError
from connex_desktop.core.private_files import private_file, private_folder
from connex_desktop.storage.migrations import MIGRATIONS, Migration

log = logging.getLogger(__name__)

# How long a writer waits for another thread or process to finish its transaction.
BUSY_TIMEOUT_MS = 10_000


class DatabaseError(SetupError):
    """The database file cannot be used: newer than this app, or not a database at all."""


class StorageError(DatabaseError):
    """The data folder cannot be written: its disk is full, or it is read-only."""


NOTHING_LOST = ("Nothing was lost and nothing will be booked twice: what was booked is in the "
                "ledger, and the write that could not finish was undone.")
_FULL_DISK = ("The disk holding Connex Desktop's data folder ({folder}) is full, so it could not "
              "save its work. " + NOTHING_LOST + " Free some space on that disk, then try again.")
_READ_ONLY = ("Connex Desktop cannot write to its data folder ({folder}): it is read-only for "
              "this user. " + NOTHING_LOST + " Make the folder and the files in it writable "
              "again, then try again (not in a new data folder: its empty ledger would book "
              "every order again).")
_FULL_SQLITE = frozenset({sqlite3.SQLITE_FULL})
_READ_ONLY_SQLITE = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN,
                               sqlite3.SQLITE_PERM})
_FULL_ERRNO = frozenset({errno.ENOSPC, errno.EDQUOT})
_READ_ONLY_ERRNO = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def storage_error(error: sqlite3.Error | OSError, folder: Path | None) -> StorageError | None:
    """The plain-words error for a full disk or a read-only folder; None for any other error.

    SQLite reports a full disk as SQLITE_FULL and a read-only file or folder as SQLITE_READONLY
    (or CANTOPEN, when it cannot create its files there); other writes say ENOSPC or EROFS.
    """
    if isinstance(error, sqlite3.Error):
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF  # the primary code
        full, read_only = code in _FULL_SQLITE, code in _READ_ONLY_SQLITE
    else:
        full, read_only = error.errno in _FULL_ERRNO, error.errno in _READ_ONLY_ERRNO
    if not (full or read_only):
        return None
    words = (_FULL_DISK if full else _READ_ONLY).format(folder=folder or "in memory")
    return StorageError(words, detail=str(error), field="data-dir")


def raise_if_storage_error(error: sqlite3.Error | OSError, folder: Path | None) -> None:
    """Raise `storage_error` of `error` (logged with the system's words) when there is one."""
    plain = storage_error(error, folder)
    if plain is not None:
        log.error("%s (%s)", plain.message, error)
        raise plain from error


def utc_now() -> str:
    """The timestamp format of every *_at column: ISO 8601 in UTC, to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class _ThreadConnection:
    """Holds one thread's connection; weakly tracked so a finished thread's is collected."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection


class Database:
    """An open database. Use it from any thread: each thread gets its own connection.

    Writes go in short `transaction()` blocks (BEGIN IMMEDIATE, so a writer waits for the lock
    up front instead of failing half-way); single statements outside a block commit at once.
    """

    def __init__(self, uri: str, path: Path | None) -> None:
        self._uri = uri
        self.path = path
        self._local = threading.local()
        self._open: weakref.WeakSet[_ThreadConnection] = weakref.WeakSet()
        self._lock = threading.Lock()
        self._closed = False
        # An in-memory database lives as long as one connection to it is open: keep this one.
        self._keeper = self._connect()

    @classmethod
    def open(cls, path: Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> Database:
        """Open (creating if needed) the database file and bring its schema up to date.

        Before migrating a file written by an older version, a copy is kept beside it as
        `<name>.v<old version>.bak`. A file from a newer version is refused.
        """
        path = Path(path)
        private_folder(path.parent)
        private_file(path)     # before SQLite, which gives the -wal and -shm files its mode
        database = cls(f"{path.resolve().as_uri()}?mode=rwc", path)
        try:
            database._migrate(migrations)
        except BaseException:
            database.close()
            raise
        return database

    @classmethod
    def memory(cls, *, migrations: Sequence[Migration] = MIGRATIONS) -> Database:
        """A private in-memory database with the current schema, shared by this object's threads."""
        database = cls(f"file:/connex-{uuid.uuid4().hex}?vfs=memdb", None)
        database._migrate(migrations)
        return database

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: transactions are exactly the BEGINs this class issues.
            connection = sqlite3.connect(self._uri, uri=True, isolation_level=None,
                                         check_same_thread=False,
                                         timeout=BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error as error:
            self._raise_storage_error(error)
            raise DatabaseError(f"Cannot open the database {self._where}: {error}",
                                field="data-dir") from error
        connection.row_factory = sqlite3.Row
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA foreign_keys = ON")
            if self.path is not None:
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as error:
            connection.close()
            self._raise_storage_error(error)
            raise DatabaseError(
                f"{self._where} is not a Connex Desktop database (SQLite says: {error}). "
                "Put back the right file (e.g. from a backup); starting afresh without it "
                "would book again every order the store still lists.",
                field="data-dir") from error
        holder = _ThreadConnection(connection)
        with self._lock:
            self._open.add(holder)
        self._local.holder = holder
        return connection

    @property
    def _where(self) -> str:
        return str(self.path) if self.path is not None else "in memory"

    def _raise_storage_error(self, error: sqlite3.Error | OSError) -> None:
        raise_if_storage_error(error, self.path.parent if self.path is not None else None)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        if self._closed:
            raise DatabaseError("The database has been closed.")
        holder = getattr(self._local, "holder", None)
        return holder.connection if holder is not None else self._connect()

    @property
    def version(self) -> int:
        """The schema version of the file: how many migrations have been applied."""
        row = self.query_one("PRAGMA user_version")
        return int(row[0]) if row is not None else 0

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement; outside a transaction() block it commits at once."""
        try:
            return self.connection().execute(sql, parameters)
        except sqlite3.Error as error:
            self._raise_storage_error(error)
            raise

    def query(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        try:
            return self.connection().execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            self._raise_storage_error(error)
            raise

    def query_one(self, sql: str,
                  parameters: Sequence[Any] | dict[str, Any] = ()) -> sqlite3.Row | None:
        try:
            row: sqlite3.Row | None = self.connection().execute(sql, parameters).fetchone()
        except sqlite3.Error as error:
            self._raise_storage_error(error)
            raise
        return row

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Commit the block's writes together, or none of them if it raises.

        Nested blocks become savepoints: an inner failure undoes only the inner writes. A full
        disk or a read-only folder, wherever it strikes, raises StorageError.
        """
        try:
            with self._transaction() as connection:
                yield connection
        except sqlite3.Error as error:
            self._raise_storage_error(error)
            raise

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self.connection()
        if connection.in_transaction:
            name = f"nested_{uuid.uuid4().hex}"
            connection.execute(f"SAVEPOINT {name}")
            try:
                yield connection
            except BaseException:
                connection.execute(f"ROLLBACK TO {name}")
                connection.execute(f"RELEASE {name}")
                raise
            connection.execute(f"RELEASE {name}")
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            # Also after a failed COMMIT (a full disk): the connection must not stay inside
            # the transaction. Some errors have rolled back already.
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def close(self) -> None:
        """Close every thread's connection. Call it when no thread uses the database any more."""
        self._closed = True
        with self._lock:
            holders = list(self._open)
            self._open.clear()
        for holder in holders:
            holder.connection.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _migrate(self, migrations: Sequence[Migration]) -> None:
        target = len(migrations)
        current = self.version
        if current > target:
            raise DatabaseError(
                f"The database {self._where} was written by a newer version of Connex Desktop "
                f"(schema version {current}; this version knows up to {target}). Update the app, "
                "or choose another data folder with --data-dir.", field="data-dir")
        if current == target:
            return
        backup = ""
        if current > 0 and self.path is not None:
            backup_path = self.path.with_name(f"{self.path.name}.v{current}.bak")
            self._back_up(backup_path)
            backup = f" A copy from before is at {backup_path}."
        for version, migration in enumerate(migrations, start=1):
            try:
                with self.transaction() as connection:
                    # Re-read under the write lock: another process may have migrated meanwhile.
                    if connection.execute("PRAGMA user_version").fetchone()[0] >= version:
                        continue
                    for statement in migration.statements:
                        connection.execute(statement)
                    connection.execute(f"PRAGMA user_version = {version}")
            except sqlite3.Error as error:
                raise DatabaseError(
                    f"Could not update the database {self._where} to version {version} "
                    f"({migration.description}): {error}. That step changed nothing.{backup}",
                    field="data-dir") from error

    def _back_up(self, destination: Path) -> None:
        """A consistent copy through SQLite's backup API (a file copy could miss the WAL)."""
        try:
            destination.unlink(missing_ok=True)
            private_file(destination)
            with closing(sqlite3.connect(destination)) as copy:
                self.connection().backup(copy)
        except (sqlite3.Error, OSError) as error:
            self._raise_storage_error(error)
            raise
