"""The ledger: every document planned, sent, confirmed or failed, so nothing is booked twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.redaction import redact
from connex_desktop.storage.database import Database, utc_now

# Documents that book the order as a sale: at most one of them per order and store.
SALE_DOC_KEYS = ("invoice", "sales_receipt")

# SQLite caps the number of ? in one statement; stay well below it.
_IN_CHUNK = 500


@dataclass(frozen=True)
class LedgerRow:
    id: int
    realm_id: str
    store_key: str
    order_id: str
    order_number: str
    doc_key: str
    kind: str
    connection_id: int | None
    run_id: int | None
    request_id: str
    state: LedgerState
    doc_number: str
    qb_id: str
    total: Decimal
    error: str
    payload: str
    undo_request_id: str = ""   # set before an undo sends the delete; the row stays confirmed

    @property
    def exists(self) -> bool:
        return self.state.exists


@dataclass(frozen=True)
class Intent:
    """A document about to be sent: recorded as planned before the request leaves."""

    order_id: str
    order_number: str
    doc_key: str
    kind: str
    request_id: str
    payload: str
    doc_number: str = ""
    total: Decimal = Decimal("0.00")


@dataclass(frozen=True)
class Confirmation:
    request_id: str
    qb_id: str
    doc_number: str
    total: Decimal


class LedgerRepository:
    """Ledger rows are keyed by (realm, store, order, document): one per document ever booked."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def for_orders(self, realm_id: str, store_key: str,
                   order_ids: Iterable[str]) -> dict[str, dict[str, LedgerRow]]:
        """Each order's rows by doc_key (orders with none are absent)."""
        found: dict[str, dict[str, LedgerRow]] = {}
        for entry in self._rows_among("realm_id = ? AND store_key = ?", (realm_id, store_key),
                                      "order_id", order_ids):
            found.setdefault(entry.order_id, {})[entry.doc_key] = entry
        return found

    def with_order_prefix(self, realm_id: str, store_key: str, prefix: str) -> list[LedgerRow]:
        """The rows of one kind of sync item (their order ids start with `prefix`), oldest
        first."""
        rows = self._db.query(
            "SELECT * FROM ledger WHERE realm_id = ? AND store_key = ? AND substr(order_id, 1, ?)"
            " = ? ORDER BY id", (realm_id, store_key, len(prefix), prefix))
        return [_row(row) for row in rows]

    def unconfirmed(self, realm_id: str, store_key: str) -> list[LedgerRow]:
        """Rows still planned: sent (or about to be) when a run stopped without an answer."""
        rows = self._db.query(
            "SELECT * FROM ledger WHERE realm_id = ? AND store_key = ? AND state = ? ORDER BY id",
            (realm_id, store_key, LedgerState.PLANNED))
        return [_row(row) for row in rows]

    def plan(self, realm_id: str, store_key: str, connection_id: int | None, run_id: int | None,
             intents: Sequence[Intent]) -> tuple[list[Intent], list[tuple[Intent, LedgerRow]]]:
        """Record intents as planned, in one transaction, before anything is sent.

        Returns (recorded, refused): an intent is refused when its document, or another sale
        document of the same order (an invoice when a sales receipt is wanted, or the other way
        round), is already planned or confirmed, for instance by a second connection on the same
        store running at the same time. A failed row is planned again with the new request id.
        """
        recorded: list[Intent] = []
        refused: list[tuple[Intent, LedgerRow]] = []
        now = utc_now()
        with self._db.transaction() as connection:
            for intent in intents:
                keys = SALE_DOC_KEYS if intent.doc_key in SALE_DOC_KEYS else (intent.doc_key,)
                marks = ",".join("?" * len(keys))
                clash = connection.execute(
                    f"SELECT * FROM ledger WHERE realm_id = ? AND store_key = ? AND order_id = ?"
                    f" AND doc_key IN ({marks}) AND state IN (?, ?)",
                    (realm_id, store_key, intent.order_id, *keys, LedgerState.PLANNED,
                     LedgerState.CONFIRMED)).fetchone()
                if clash is not None:
                    refused.append((intent, _row(clash)))
                    continue
                connection.execute(
                    "INSERT INTO ledger (realm_id, store_key, order_id, order_number, doc_key,"
                    " kind, connection_id, run_id, request_id, state, doc_number, qb_id, total,"
                    " error, payload, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, '', ?, ?, ?)"
                    " ON CONFLICT (realm_id, store_key, order_id, doc_key) DO UPDATE SET"
                    " order_number = excluded.order_number, kind = excluded.kind,"
                    " connection_id = excluded.connection_id, run_id = excluded.run_id,"
                    " request_id = excluded.request_id, state = excluded.state,"
                    " doc_number = excluded.doc_number, qb_id = '', total = excluded.total,"
                    " error = '', payload = excluded.payload, undo_request_id = '',"
                    " updated_at = excluded.updated_at",
                    (realm_id, store_key, intent.order_id, intent.order_number, intent.doc_key,
                     intent.kind, connection_id, run_id, intent.request_id, LedgerState.PLANNED,
                     intent.doc_number, str(intent.total), intent.payload, now, now))
                recorded.append(intent)
        return recorded, refused

    def confirm(self, confirmations: Iterable[Confirmation]) -> None:
        now = utc_now()
        with self._db.transaction() as connection:
            for item in confirmations:
                connection.execute(
                    "UPDATE ledger SET state = ?, qb_id = ?, doc_number = ?, total = ?,"
                    " error = '', updated_at = ? WHERE request_id = ?",
                    (LedgerState.CONFIRMED, item.qb_id, item.doc_number, str(item.total), now,
                     item.request_id))

    def fail(self, failures: Iterable[tuple[str, str]]) -> None:
        """(request_id, error) pairs: QuickBooks definitely refused these documents."""
        now = utc_now()
        with self._db.transaction() as connection:
            for request_id, error in failures:
                connection.execute(
                    "UPDATE ledger SET state = ?, error = ?, updated_at = ? WHERE request_id = ?",
                    (LedgerState.FAILED, redact(error), now, request_id))

    def mark_deleted(self, deleted: Iterable[tuple[str, str]]) -> None:
        """(request_id, note) pairs: confirmed documents the sync itself deleted again."""
        now = utc_now()
        with self._db.transaction() as connection:
            for request_id, note in deleted:
                connection.execute(
                    "UPDATE ledger SET state = ?, error = ?, updated_at = ? WHERE request_id = ?"
                    " AND state = ?",
                    (LedgerState.UNDONE, redact(note), now, request_id, LedgerState.CONFIRMED))

    def note_problem(self, request_id: str, problem: str) -> None:
        """Why a planned row could not be checked; it stays planned (its document may exist)."""
        with self._db.transaction() as connection:
            connection.execute(
                "UPDATE ledger SET error = ?, updated_at = ? WHERE request_id = ? AND state = ?",
                (problem, utc_now(), request_id, LedgerState.PLANNED))

    def rows_for_run(self, run_id: int) -> list[LedgerRow]:
        rows = self._db.query("SELECT * FROM ledger WHERE run_id = ? ORDER BY id", (run_id,))
        return [_row(row) for row in rows]

    def rows_for_order(self, realm_id: str, order_number: str) -> list[LedgerRow]:
        rows = self._db.query(
            "SELECT * FROM ledger WHERE realm_id = ? AND order_number = ? ORDER BY id",
            (realm_id, order_number))
        return [_row(row) for row in rows]

    # ---- undo ------------------------------------------------------------------------------

    def booked_by_run(self, run_id: int) -> list[LedgerRow]:
        """The run's documents QuickBooks still holds as far as the ledger knows: what an undo
        of the run deletes."""
        rows = self._db.query("SELECT * FROM ledger WHERE run_id = ? AND state = ? ORDER BY id",
                              (run_id, LedgerState.CONFIRMED))
        return [_row(row) for row in rows]

    def booked_by_qb_id(self, realm_id: str, kind: str,
                        qb_ids: Iterable[str]) -> dict[str, LedgerRow]:
        """Confirmed documents of one kind in one company, by their QuickBooks Id."""
        rows = self._rows_among("realm_id = ? AND kind = ? AND state = ?",
                                (realm_id, kind, LedgerState.CONFIRMED), "qb_id", qb_ids)
        return {entry.qb_id: entry for entry in rows}

    def intend_undo(self, requests: Iterable[tuple[int, str]]) -> None:
        """(row id, request id) pairs: recorded before the deletes are sent."""
        now = utc_now()
        with self._db.transaction() as connection:
            for row_id, request_id in requests:
                connection.execute(
                    "UPDATE ledger SET undo_request_id = ?, updated_at = ? WHERE id = ?",
                    (request_id, now, row_id))

    def mark_undone(self, undone: Iterable[tuple[int, str]]) -> None:
        """(row id, note) pairs: QuickBooks no longer holds these documents."""
        now = utc_now()
        with self._db.transaction() as connection:
            for row_id, note in undone:
                connection.execute(
                    "UPDATE ledger SET state = ?, error = ?, updated_at = ? WHERE id = ?"
                    " AND state = ?", (LedgerState.UNDONE, note, now, row_id,
                                       LedgerState.CONFIRMED))

    def _rows_among(self, where: str, parameters: tuple[str, ...], column: str,
                    values: Iterable[str]) -> Iterator[LedgerRow]:
        """Rows matching `where` whose `column` is one of `values`, asked in chunks (SQLite
        limits a statement's parameters)."""
        wanted = list(dict.fromkeys(values))
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.query(f"SELECT * FROM ledger WHERE {where} AND {column} IN ({marks})",
                                  (*parameters, *chunk))
            yield from (_row(row) for row in rows)


def _row(row: sqlite3.Row) -> LedgerRow:
    return LedgerRow(
        id=row["id"], realm_id=row["realm_id"], store_key=row["store_key"],
        order_id=row["order_id"], order_number=row["order_number"], doc_key=row["doc_key"],
        kind=row["kind"], connection_id=row["connection_id"], run_id=row["run_id"],
        request_id=row["request_id"], state=LedgerState(row["state"]),
        doc_number=row["doc_number"], qb_id=row["qb_id"], total=Decimal(row["total"] or "0"),
        error=row["error"], payload=row["payload"], undo_request_id=row["undo_request_id"])
