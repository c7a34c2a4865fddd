"""QuickBooks Desktop's lists kept between runs, brought up to date with what it changed and
deleted since."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from connex_desktop.core.connection import QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.errors import ErrorKind
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.quickbooks.references import ReferenceStore

log = logging.getLogger(__name__)

Record = dict[str, Any]
# FromModifiedDate goes back this far before the newest change kept (both by QuickBooks' clock,
# which stamps TimeModified): a change stamped by another workstation whose clock is behind, or
# made while a long list was being read page by page, is still read (reference §3.10: rewind
# watermarks by a margin).
OVERLAP = timedelta(hours=1)
# QuickBooks reports the deletions of the last 90 days only (ListDeletedQuery; Conductor's
# QuickBooks Desktop API reference): a list brought up to date longer ago than this (by our
# clock, which may differ from QuickBooks') is read whole.
DELETIONS_LOOK_BACK = timedelta(days=80)
# HostQuery's answer (the product and country), kept as Online's CompanyInfo is.
COMPANY_INFO = "CompanyInfo"


class ListReader(Protocol):
    """The qbXML reads (QuickBooksDesktop's)."""

    def read_list(self, entity: str) -> list[Record]: ...

    def read_changes(self, entity: str, since: datetime) -> tuple[list[Record], list[str]]: ...


@dataclass
class _Kept:
    read_at: datetime           # when last brought up to date, by our clock
    records: dict[str, Record]  # by ListID, inactive ones too


class KeptLists:
    """A company file's lists (customers, items…) kept in the reference store between runs.
    A list is read whole the first time, then each read asks QuickBooks only for the records it
    changed (ActiveStatus All: one made inactive too) and deleted since the newest change kept.

    Those reads must find the kept records changed in the overlap again, at least the newest:
    when they do not, the company file is no longer the one the lists were read from (replaced,
    or restored from a backup) and every list is read whole again."""

    def __init__(self, store: ReferenceStore, realm_id: str, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._store = store
        self._realm_id = realm_id
        self._clock = clock
        self._kept: dict[str, _Kept] | None = None
        self._lock = threading.Lock()

    def records(self, entity: str, reader: ListReader) -> list[Record]:
        """The list's records as QuickBooks holds them now."""
        with self._lock:
            now = self._clock()
            kept = self._lists().get(entity)
            newest = None if kept is None else newest_change(kept.records.values())
            if kept is None or newest is None or now - kept.read_at >= DELETIONS_LOOK_BACK:
                return self._read_whole(entity, reader, now)
            since = newest - OVERLAP
            try:
                changed, deleted = reader.read_changes(entity, since)
            except QuickBooksFault as fault:
                if fault.kind is ErrorKind.RETRY_LATER:
                    raise
                log.warning("QuickBooks refused to tell what changed in its %s list (%s): it "
                            "is read whole.", entity, fault.message)
                return self._read_whole(entity, reader, now)
            if not holds_what_was_kept(kept.records, since, changed, deleted):
                log.warning("The QuickBooks company file is not the one its lists were read "
                            "from (replaced, or restored from a backup): they are read again.")
                self._store.forget(self._realm_id, list(self._lists()))
                self._kept = {}
                return self._read_whole(entity, reader, now)
            records = {**kept.records, **{str(record["Id"]): record for record in changed}}
            for list_id in deleted:
                records.pop(list_id, None)
            self._store.apply(self._realm_id, {entity: changed}, {entity: deleted}, now)
            self._lists()[entity] = _Kept(now, records)
            return list(records.values())

    def keep(self, entity: str, record: Record) -> None:
        """A one-record fact the company told this run (HostQuery's), kept as it is now."""
        self._store.replace(self._realm_id, entity, [record], self._clock())

    def _read_whole(self, entity: str, reader: ListReader, now: datetime) -> list[Record]:
        records = reader.read_list(entity)
        self._store.replace(self._realm_id, entity, records, now)
        self._lists()[entity] = _Kept(now, {str(record["Id"]): record for record in records})
        return records

    def _lists(self) -> dict[str, _Kept]:
        """The kept lists, read from the store once."""
        if self._kept is None:
            self._kept = {entity: _Kept(kept.read_at, dict(kept.records))
                          for entity, kept in self._store.lists(self._realm_id).items()}
        return self._kept


def host_record(product: str, country: str) -> Record:
    """HostQuery's answer as the engine reads it (as Online's CompanyInfo) and as it is kept:
    e.g. "QuickBooks Pro 2024", "US"."""
    return {"Id": "1", "Country": country, "CompanyName": product, "ProductName": product}


def kept_product(store: ReferenceStore, company: QuickBooksCompany) -> str:
    """The QuickBooks Desktop product a run last found for the company (e.g. "QuickBooks Pro
    2024"); "" for Online or before any run."""
    if company.product is not QuickBooksProduct.DESKTOP or not company.realm_id:
        return ""
    return next((str(record.get("ProductName") or "")
                 for record in store.records(company.realm_id, COMPANY_INFO)), "")


def changed_at(record: Mapping[str, Any]) -> datetime | None:
    """When QuickBooks last changed the record (its TimeModified), None when not told."""
    text = (record.get("MetaData") or {}).get("LastUpdatedTime")
    return datetime.fromisoformat(text) if text else None


def newest_change(records: Any) -> datetime | None:
    times = [moment for moment in map(changed_at, records) if moment is not None]
    return max(times, default=None)


def holds_what_was_kept(kept: Mapping[str, Record], since: datetime,
                        changed: list[Record], deleted: list[str]) -> bool:
    """Whether QuickBooks reported again, as changed or deleted since `since`, every kept record
    it had changed since then: a restored or other company file does not."""
    expected = {list_id for list_id, record in kept.items()
                if (moment := changed_at(record)) is not None and moment >= since}
    return expected <= {str(record["Id"]) for record in changed} | set(deleted)
