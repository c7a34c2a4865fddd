"""The sandbox's storage: entities as JSON in SQLite, mirrored in memory with lookup indexes."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

# Fields looked up by equality on hot paths (DocNumber per transaction type, names per list).
INDEXED_FIELDS = ("DocNumber", "Name", "DisplayName", "Sku")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entity (
    type TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS deleted (
    type TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (type, id));
CREATE TABLE IF NOT EXISTS replay (
    request_id TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB NOT NULL,
    content_type TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refresh_token (
    token TEXT PRIMARY KEY, grant_id TEXT NOT NULL, predecessor TEXT, expires_at REAL NOT NULL,
    retired INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS access_token (
    token TEXT PRIMARY KEY, grant_id TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_grant (grant_id TEXT PRIMARY KEY, ends_at REAL NOT NULL);
"""


class _NotExactAsFloat(Exception):
    """A Decimal with more digits than a float carries exactly."""


def _wire_default(value: object) -> object:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:
            return int(value)
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise _NotExactAsFloat
        return as_float
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: object) -> str:
    """JSON with every amount exact: through a float where one carries it (the C encoder's
    speed), else with the Decimal's own digits (12345678901234567.89 would become ...568)."""
    try:
        return json.dumps(value, default=_wire_default, ensure_ascii=False,
                          separators=(",", ":"))
    except _NotExactAsFloat:
        return _exact_dumps(value)


def _exact_dumps(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"{value} is not a JSON number")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ",".join(f"{_exact_dumps(str(key))}:{_exact_dumps(item)}"
                              for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_exact_dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def id_order(entity_or_id: object) -> tuple[int, str]:
    """Sort key for Ids: numeric ones in number order, then the named ones (TaxCode TAX/NON)."""
    id_ = entity_or_id["Id"] if isinstance(entity_or_id, dict) else entity_or_id
    text = str(id_)
    return (0, text.zfill(20)) if text.isdigit() else (1, text)


def _index_key(value: object) -> str | None:
    return value.casefold() if isinstance(value, str) and value else None


class Store:
    """Entities by type and Id; callers hold `lock` around every read-modify-write."""

    def __init__(self, db_path: str | Path | None) -> None:
        self.lock = threading.RLock()
        if db_path:
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(db_path) if db_path else ":memory:",
                                   check_same_thread=False, isolation_level=None)
        if db_path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._entities: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._index: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(
            lambda: defaultdict(set))
        self._last_id: dict[str, int] = defaultdict(int)
        for type_, id_, body in self._db.execute("SELECT type, id, body FROM entity"):
            self._remember(type_, loads(body))
            self._note_id(type_, id_)
        for type_, id_ in self._db.execute("SELECT type, id FROM deleted"):
            self._note_id(type_, id_)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @property
    def is_empty(self) -> bool:
        return not any(self._entities.values())

    # --- entities -------------------------------------------------------------------------

    def _note_id(self, type_: str, id_: str) -> None:
        if id_.isdigit():
            self._last_id[type_] = max(self._last_id[type_], int(id_))

    def next_id(self, type_: str) -> str:
        self._last_id[type_] += 1
        return str(self._last_id[type_])

    def get(self, type_: str, id_: object) -> dict[str, Any] | None:
        return self._entities[type_].get(str(id_))

    def all(self, type_: str) -> Iterator[dict[str, Any]]:
        return iter(list(self._entities[type_].values()))

    def count(self, type_: str) -> int:
        return len(self._entities[type_])

    def find(self, type_: str, field: str, value: str) -> list[dict[str, Any]]:
        """Entities whose indexed `field` equals `value`, ignoring case."""
        key = _index_key(value)
        if key is None:
            return []
        ids = self._index[(type_, field)].get(key, set())
        return [self._entities[type_][i] for i in sorted(ids, key=id_order)]

    def put(self, type_: str, entity: dict[str, Any]) -> None:
        old = self._entities[type_].get(entity["Id"])
        if old is not None:
            self._forget(type_, old)
        self._remember(type_, entity)
        self._db.execute("INSERT OR REPLACE INTO entity (type, id, body) VALUES (?, ?, ?)",
                         (type_, entity["Id"], dumps(entity)))

    def remove(self, type_: str, entity: dict[str, Any], stub: dict[str, Any]) -> None:
        self._forget(type_, entity)
        del self._entities[type_][entity["Id"]]
        self._db.execute("DELETE FROM entity WHERE type = ? AND id = ?", (type_, entity["Id"]))
        self._db.execute("INSERT OR REPLACE INTO deleted (type, id, body) VALUES (?, ?, ?)",
                         (type_, entity["Id"], dumps(stub)))

    def deleted(self, type_: str) -> list[dict[str, Any]]:
        rows = self._db.execute("SELECT body FROM deleted WHERE type = ?", (type_,))
        return sorted((loads(body) for (body,) in rows), key=id_order)

    def _remember(self, type_: str, entity: dict[str, Any]) -> None:
        self._entities[type_][entity["Id"]] = entity
        for field in INDEXED_FIELDS:
            key = _index_key(entity.get(field))
            if key is not None:
                self._index[(type_, field)][key].add(entity["Id"])

    def _forget(self, type_: str, entity: dict[str, Any]) -> None:
        for field in INDEXED_FIELDS:
            key = _index_key(entity.get(field))
            if key is not None:
                self._index[(type_, field)][key].discard(entity["Id"])

    # --- requestid replay -----------------------------------------------------------------

    def replay(self, request_id: str) -> tuple[int, bytes, str] | None:
        row = self._db.execute(
            "SELECT status, body, content_type FROM replay WHERE request_id = ?",
            (request_id,)).fetchone()
        return (int(row[0]), bytes(row[1]), str(row[2])) if row else None

    def remember_reply(self, request_id: str, status: int, body: bytes, content_type: str) -> None:
        self._db.execute(
            "INSERT OR IGNORE INTO replay (request_id, status, body, content_type) "
            "VALUES (?, ?, ?, ?)", (request_id, status, body, content_type))

    # --- settings and OAuth records -------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def execute(self, sql: str, parameters: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the OAuth tables and return its rows."""
        return list(self._db.execute(sql, parameters))
