"""The company's lists (customers, items, vendors, accounts…) for a run, kept between runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from connex_desktop.core.errors import ErrorKind
from connex_desktop.quickbooks.errors import QuickBooksFault

log = logging.getLogger(__name__)

REFERENCE_ENTITIES = ("Customer", "Item", "Vendor", "Account", "TaxCode", "PaymentMethod",
                      "Term", "Class", "Department")
# The lists one change data capture read refreshes (every list the cache holds).
CDC_ENTITIES = frozenset({*REFERENCE_ENTITIES, "TaxRate"})
CDC_LOOK_BACK = timedelta(days=30)      # reference §1.9: CDC reports changes of 30 days only
CDC_MAX_OBJECTS = 1000                  # reference §1.9: at most this many objects an answer
# changedSince goes back this far before the last read: this computer's clock and QuickBooks'
# differ, and a change stamped just before the last read must not slip between two reads.
CDC_MARGIN = timedelta(minutes=10)
SETTINGS_MAX_AGE = timedelta(hours=24)

Record = dict[str, Any]


class _Client(Protocol):
    def query_all(self, entity: str, where: str = "") -> list[Record]: ...

    def cdc(self, entities: Sequence[str],
            changed_since: datetime) -> tuple[dict[str, list[Record]], datetime]: ...

    def preferences(self) -> Record: ...

    def company_info(self) -> Record: ...


class StoredList(Protocol):
    read_at: datetime
    records: dict[str, Record]


class ReferenceStore(Protocol):
    """Where the lists live between runs (storage.references.ReferenceRepository)."""

    def lists(self, realm_id: str) -> Mapping[str, StoredList]: ...

    def records(self, realm_id: str, entity: str) -> list[Record]: ...

    def replace(self, realm_id: str, entity: str, records: Iterable[Record],
                read_at: datetime) -> None: ...

    def apply(self, realm_id: str, changed: Mapping[str, Iterable[Record]],
              removed: Mapping[str, Iterable[str]], read_at: datetime | None = None) -> None: ...

    def forget(self, realm_id: str, entities: Iterable[str]) -> None: ...


def _fold(text: str | None) -> str:
    """Names and emails match regardless of case and surrounding spaces."""
    return " ".join((text or "").split()).casefold()


def _email(customer: Record) -> str:
    return _fold((customer.get("PrimaryEmailAddr") or {}).get("Address"))


def _email_in_currency(customer: Record) -> str:
    """Email and currency ("" when the record has none): with multicurrency a buyer has one
    customer per currency, all with the same email."""
    email = _email(customer)
    currency = str((customer.get("CurrencyRef") or {}).get("value") or "").upper()
    return _fold(f"{email} {currency}") if email else ""


_NAME_ONLY: dict[str, Callable[[Record], str]] = {"name": lambda r: _fold(r.get("Name"))}
# Lists whose records may be sub-records ("Parent:Child"), found by either name.
_IN_A_TREE: dict[str, Callable[[Record], str]] = {
    **_NAME_ONLY, "full_name": lambda r: _fold(r.get("FullyQualifiedName"))}
# Per entity: the lookup keys it is indexed by, each a function of the record.
_KEYS: dict[str, dict[str, Callable[[Record], str]]] = {
    "Customer": {"name": lambda r: _fold(r.get("DisplayName")), "email": _email,
                 "email_currency": _email_in_currency},
    "Vendor": {"name": lambda r: _fold(r.get("DisplayName"))},
    "Item": {**_IN_A_TREE, "sku": lambda r: _fold(r.get("Sku"))},
    "Account": _IN_A_TREE, "Class": _IN_A_TREE, "Department": _IN_A_TREE,
}


class _Table:
    """One entity's active records by Id and by each lookup key; the record with the lowest Id
    wins a key, as a paged query ordered by Id would have it."""

    def __init__(self, keys: dict[str, Callable[[Record], str]],
                 records: Iterable[Record] = ()) -> None:
        self.keys = keys
        self.by_id: dict[str, Record] = {}
        self.index: dict[str, dict[str, Record]] = {key: {} for key in keys}
        self._stale_index = False
        for record in sorted(records, key=lambda record: _id_order(str(record.get("Id")))):
            self.put(record)

    def put(self, record: Record) -> None:
        record_id = str(record.get("Id"))
        if record.get("Active") is False or record.get("status") == "Deleted":
            # A plain query lists active records only; CDC reports deleted ones as stubs.
            self.remove(record_id)
            return
        self._stale_index |= record_id in self.by_id
        self.by_id[record_id] = record
        if not self._stale_index:
            self._index(record)

    def remove(self, record_id: str) -> None:
        if self.by_id.pop(str(record_id), None) is not None:
            self._stale_index = True

    def lookup(self, key: str, value: str) -> Record | None:
        if self._stale_index:
            self.index = {key: {} for key in self.keys}
            for record_id in sorted(self.by_id, key=_id_order):
                self._index(self.by_id[record_id])
            self._stale_index = False
        return self.index[key].get(value)

    def _index(self, record: Record) -> None:
        for key, value_of in self.keys.items():
            value = value_of(record)
            if value:
                self.index[key].setdefault(value, record)


def _id_order(record_id: str) -> tuple[int, str]:
    return len(record_id), record_id


class ReferenceCache:
    """The company's reference lists (and its preferences and info), kept between runs when
    given a `store`: loaded from it and brought up to date with one change data capture read
    for every list the first time a list is needed in a run. A list never read, or read more
    than 30 days ago (CDC's look-back), is read in full with paged queries; never a query per
    order. Preferences and CompanyInfo are read again once a day (reference §1.9 does not name
    them among what CDC reports).

    Thread-safe. `add` writes through what QuickBooks answered a write with, so later orders
    and later runs find it without reading it back.
    """

    def __init__(self, client: _Client, store: ReferenceStore | None = None, *,
                 realm_id: str = "",
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._client = client
        self._store = store
        self._realm_id = realm_id
        self._clock = clock
        self._tables: dict[str, _Table] = {}
        self._settings: dict[str, Record] = {}
        self._kept_lists: Mapping[str, StoredList] | None = None
        self._refreshed = False
        self._lock = threading.RLock()

    def preload(self, *entities: str) -> None:
        """Load the given entity types now (all of them when none are named)."""
        for entity in entities or REFERENCE_ENTITIES:
            self._table(entity)

    def loaded(self, entity: str) -> bool:
        with self._lock:
            return entity in self._tables

    def add(self, entity: str, record: Record) -> None:
        with self._lock:
            self._table(entity).put(record)
            if self._store is not None:
                self._store.apply(self._realm_id, {entity: [record]}, {})

    def all(self, entity: str) -> list[Record]:
        with self._lock:
            return list(self._table(entity).by_id.values())

    def get(self, entity: str, entity_id: str) -> Record | None:
        with self._lock:
            return self._table(entity).by_id.get(str(entity_id))

    def refresh(self) -> None:
        """Bring the lists up to date now: a write was refused for a record QuickBooks made
        inactive or deleted after they were read (one CDC read; a full read without a store)."""
        with self._lock:
            if self._store is None:
                self._tables.clear()
            self._kept_lists = None
            self._refreshed = False
            self._refresh_once()

    def preferences(self) -> Record:
        return dict(self._setting("Preferences", self._client.preferences))

    def company_info(self) -> Record:
        return dict(self._setting("CompanyInfo", self._client.company_info))

    # ---- the lookups the engine needs ----------------------------------------------------

    def customer_by_email(self, email: str, currency: str | None = None) -> Record | None:
        """By email; with `currency`, only a customer in that currency ("": one without a
        CurrencyRef)."""
        if currency is None:
            return self._find("Customer", "email", email)
        if not _fold(email):
            return None
        return self._find("Customer", "email_currency", f"{_fold(email)} {currency.upper()}")

    def customer_by_name(self, name: str) -> Record | None:
        return self._find("Customer", "name", name)

    def item_by_sku(self, sku: str) -> Record | None:
        return self._find("Item", "sku", sku)

    def item_by_name(self, name: str) -> Record | None:
        """By Name, or by the full "Parent:Child" name of a sub-item."""
        return self._find("Item", "name", name) or self._find("Item", "full_name", name)

    def item(self, item_id: str) -> Record | None:
        return self.get("Item", item_id)

    def vendor(self, vendor_id: str) -> Record | None:
        return self.get("Vendor", vendor_id)

    def vendor_by_name(self, name: str) -> Record | None:
        return self._find("Vendor", "name", name)

    def account_by_name(self, name: str) -> Record | None:
        """By Name, or by the full "Parent:Child" name of a sub-account."""
        return self._find("Account", "name", name) or self._find("Account", "full_name", name)

    def accounts_by_type(self, account_type: str, subtype: str = "") -> list[Record]:
        """Active accounts of an AccountType (and AccountSubType if given), in QuickBooks' order."""
        return [account for account in self.all("Account")
                if account.get("AccountType") == account_type
                and (not subtype or account.get("AccountSubType") == subtype)
                and account.get("Active", True)]

    def account_by_type(self, account_type: str, subtype: str = "") -> Record | None:
        accounts = self.accounts_by_type(account_type, subtype)
        return accounts[0] if accounts else None

    def tax_code_by_name(self, name: str) -> Record | None:
        return self._find("TaxCode", "name", name)

    def payment_method_by_name(self, name: str) -> Record | None:
        return self._find("PaymentMethod", "name", name)

    def term_by_name(self, name: str) -> Record | None:
        return self._find("Term", "name", name)

    def class_by_name(self, name: str) -> Record | None:
        """By Name, or by the full "Parent:Child" name of a sub-class."""
        return self._find("Class", "name", name) or self._find("Class", "full_name", name)

    def department_by_name(self, name: str) -> Record | None:
        """A location (QuickBooks' API calls it Department), by Name or full "Parent:Child"
        name."""
        return (self._find("Department", "name", name)
                or self._find("Department", "full_name", name))

    def _find(self, entity: str, key: str, value: str) -> Record | None:
        folded = _fold(value)
        if not folded:
            return None
        with self._lock:
            return self._table(entity).lookup(key, folded)

    def _table(self, entity: str) -> _Table:
        with self._lock:
            self._refresh_once()
            table = self._tables.get(entity)
            if table is None:
                read_at = self._clock()
                records = self._client.query_all(entity)
                table = self._tables[entity] = _Table(_KEYS.get(entity, _NAME_ONLY), records)
                if self._store is not None:
                    self._store.replace(self._realm_id, entity, records, read_at)
            return table

    def _setting(self, entity: str, read: Callable[[], Record]) -> Record:
        """Preferences or CompanyInfo: as kept, unless read more than a day ago."""
        with self._lock:
            record = self._settings.get(entity)
            if record is not None:
                return record
            now = self._clock()
            kept = self._kept().get(entity)
            if kept is not None and kept.records and now - kept.read_at < SETTINGS_MAX_AGE:
                record = next(iter(kept.records.values()))
            else:
                record = read()
                if self._store is not None:
                    self._store.replace(self._realm_id, entity, [record], now)
            self._settings[entity] = record
            return record

    def _kept(self) -> Mapping[str, StoredList]:
        """What the store keeps of the company (read from it once a refresh)."""
        if self._kept_lists is None:
            self._kept_lists = ({} if self._store is None
                                else self._store.lists(self._realm_id))
        return self._kept_lists

    def _refresh_once(self) -> None:
        """The stored lists, brought up to date by one CDC read (once a run)."""
        if self._refreshed or self._store is None:
            self._refreshed = True
            return
        self._refreshed = True
        now = self._clock()
        lists = {entity: kept for entity, kept in self._kept().items()
                 if entity in CDC_ENTITIES}
        too_old = [entity for entity, kept in lists.items()
                   if now - (kept.read_at - CDC_MARGIN) >= CDC_LOOK_BACK]
        if too_old:     # beyond what CDC reports: read in full when first needed
            self._store.forget(self._realm_id, too_old)
        for entity in too_old:
            del lists[entity]
        if not lists:
            return
        since = min(kept.read_at for kept in lists.values()) - CDC_MARGIN
        try:
            changes, answered_at = self._client.cdc(sorted(lists), since)
        except QuickBooksFault as fault:
            if fault.kind is not ErrorKind.FIX_DATA:
                raise
            # Refused (a list CDC does not cover, reference §1.9 names none): read in full.
            log.warning("QuickBooks refused the change data capture read (%s); the company's "
                        "lists are read in full.", fault.message)
            self._store.forget(self._realm_id, lists)
            return
        changed: dict[str, list[Record]] = {}
        removed: dict[str, list[str]] = {}
        for entity, kept in lists.items():
            records = changes.get(entity, [])
            if len(records) >= CDC_MAX_OBJECTS:     # maybe more than one answer holds
                self._store.forget(self._realm_id, [entity])
                continue
            table = self._tables[entity] = _Table(_KEYS.get(entity, _NAME_ONLY),
                                                  kept.records.values())
            changed[entity], removed[entity] = [], []
            for record in records:
                table.put(record)
                record_id = str(record.get("Id"))
                if record_id in table.by_id:
                    changed[entity].append(record)
                else:   # deleted, or made inactive: gone from what a query would list
                    removed[entity].append(record_id)
        self._store.apply(self._realm_id, changed, removed, answered_at)
