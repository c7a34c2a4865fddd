"""QuickBooks reference lists kept between runs, per company (realm), with when each was read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from connex_desktop.storage.database import Database

Record = dict[str, Any]
# Amounts come from QuickBooks as Decimal; JSON has no such type, so they are kept tagged.
_DECIMAL_TAG = "$decimal"


@dataclass(frozen=True)
class StoredList:
    """One entity's records (by Id) as last read, and when that read was."""

    entity: str
    read_at: datetime
    records: dict[str, Record]


class ReferenceRepository:
    """Reference records by realm and entity; a list's read time moves only with a full read or
    a change data capture read of it, never with a single record written through."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def lists(self, realm_id: str) -> dict[str, StoredList]:
        """Every list stored for the company, by entity."""
        read_at = {row["entity"]: datetime.fromisoformat(row["read_at"]) for row in self._db.query(
            "SELECT entity, read_at FROM reference_lists WHERE realm_id = ?", (realm_id,))}
        records: dict[str, dict[str, Record]] = {entity: {} for entity in read_at}
        for row in self._db.query("SELECT entity, record_id, body FROM reference_records"
                                  " WHERE realm_id = ?", (realm_id,)):
            if row["entity"] in records:
                records[row["entity"]][row["record_id"]] = _loads(row["body"])
        return {entity: StoredList(entity, when, records[entity])
                for entity, when in read_at.items()}

    def records(self, realm_id: str, entity: str) -> list[Record]:
        """One entity's records as kept (none when it was never read): a quick read of one."""
        return [_loads(row["body"]) for row in self._db.query(
            "SELECT body FROM reference_records WHERE realm_id = ? AND entity = ?",
            (realm_id, entity))]

    def replace(self, realm_id: str, entity: str, records: Iterable[Record],
                read_at: datetime) -> None:
        """A full read of one list: what was stored of it before goes."""
        with self._db.transaction() as connection:
            connection.execute("DELETE FROM reference_records WHERE realm_id = ? AND entity = ?",
                               (realm_id, entity))
            connection.executemany(
                "INSERT OR REPLACE INTO reference_records (realm_id, entity, record_id, body)"
                " VALUES (?, ?, ?, ?)",
                [(realm_id, entity, str(record["Id"]), _dumps(record)) for record in records])
            self._mark_read(connection, realm_id, [entity], read_at)

    def apply(self, realm_id: str, changed: Mapping[str, Iterable[Record]],
              removed: Mapping[str, Iterable[str]], read_at: datetime | None = None) -> None:
        """Records changed and records gone, per entity; with `read_at`, every entity named is
        marked read then (a change data capture read covers the lists it asked for)."""
        with self._db.transaction() as connection:
            connection.executemany(
                "INSERT OR REPLACE INTO reference_records (realm_id, entity, record_id, body)"
                " VALUES (?, ?, ?, ?)",
                [(realm_id, entity, str(record["Id"]), _dumps(record))
                 for entity, records in changed.items() for record in records])
            connection.executemany(
                "DELETE FROM reference_records WHERE realm_id = ? AND entity = ?"
                " AND record_id = ?",
                [(realm_id, entity, str(record_id))
                 for entity, ids in removed.items() for record_id in ids])
            if read_at is not None:
                self._mark_read(connection, realm_id, {*changed, *removed}, read_at)

    def forget(self, realm_id: str, entities: Iterable[str]) -> None:
        """Drop lists (too old to refresh by change data capture): the next use reads them."""
        with self._db.transaction() as connection:
            for entity in entities:
                for table in ("reference_records", "reference_lists"):
                    connection.execute(f"DELETE FROM {table} WHERE realm_id = ? AND entity = ?",
                                       (realm_id, entity))

    @staticmethod
    def _mark_read(connection: Any, realm_id: str, entities: Iterable[str],
                   read_at: datetime) -> None:
        connection.executemany(
            "INSERT INTO reference_lists (realm_id, entity, read_at) VALUES (?, ?, ?)"
            " ON CONFLICT (realm_id, entity) DO UPDATE SET read_at = excluded.read_at",
            [(realm_id, entity, read_at.isoformat()) for entity in entities])


def _tagged(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {_DECIMAL_TAG: str(value)}
    if isinstance(value, dict):
        return {key: _tagged(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tagged(item) for item in value]
    return value


def _untag(value: dict[str, Any]) -> Any:
    if len(value) == 1 and _DECIMAL_TAG in value:
        return Decimal(value[_DECIMAL_TAG])
    return value


def _dumps(record: Record) -> str:
    return json.dumps(_tagged(record), separators=(",", ":"))


def _loads(text: str) -> Record:
    loaded: Record = json.loads(text, object_hook=_untag)
    return loaded
