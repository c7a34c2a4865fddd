"""A per-run cache of the company's lists (customers, items, vendors, accounts…), bulk-loaded."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

REFERENCE_ENTITIES = ("Customer", "Item", "Vendor", "Account", "TaxCode", "PaymentMethod",
                      "Term", "Class")

Record = dict[str, Any]


class _Lister(Protocol):
    def query_all(self, entity: str, where: str = "") -> list[Record]: ...


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


# Per entity: the lookup keys it is indexed by, each a function of the record.
_KEYS: dict[str, dict[str, Callable[[Record], str]]] = {
    "Customer": {"name": lambda r: _fold(r.get("DisplayName")), "email": _email,
                 "email_currency": _email_in_currency},
    "Vendor": {"name": lambda r: _fold(r.get("DisplayName"))},
    "Item": {"name": lambda r: _fold(r.get("Name")), "sku": lambda r: _fold(r.get("Sku")),
             "full_name": lambda r: _fold(r.get("FullyQualifiedName"))},
    "Account": {"name": lambda r: _fold(r.get("Name")),
                "full_name": lambda r: _fold(r.get("FullyQualifiedName"))},
}
_NAME_ONLY: dict[str, Callable[[Record], str]] = {"name": lambda r: _fold(r.get("Name"))}


class _Table:
    """One entity's records by Id and by each lookup key (the first record seen wins a key)."""

    def __init__(self, keys: dict[str, Callable[[Record], str]]) -> None:
        self.keys = keys
        self.by_id: dict[str, Record] = {}
        self.index: dict[str, dict[str, Record]] = {key: {} for key in keys}

    def add(self, record: Record) -> None:
        self.by_id[str(record.get("Id"))] = record
        for key, value_of in self.keys.items():
            value = value_of(record)
            if value:
                self.index[key].setdefault(value, record)


class ReferenceCache:
    """The company's reference lists for one run: one paged bulk query per entity type, made
    the first time that type is looked up (or by `preload`), never a query per order.

    Thread-safe. `add` remembers what the run itself created, so later orders find it.
    """

    def __init__(self, client: _Lister) -> None:
        self._client = client
        self._tables: dict[str, _Table] = {}
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
            self._table(entity).add(record)

    def all(self, entity: str) -> list[Record]:
        with self._lock:
            return list(self._table(entity).by_id.values())

    def get(self, entity: str, entity_id: str) -> Record | None:
        with self._lock:
            return self._table(entity).by_id.get(str(entity_id))

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
        return self._find("Class", "name", name)

    def _find(self, entity: str, key: str, value: str) -> Record | None:
        folded = _fold(value)
        if not folded:
            return None
        with self._lock:
            return self._table(entity).index[key].get(folded)

    def _table(self, entity: str) -> _Table:
        with self._lock:
            table = self._tables.get(entity)
            if table is None:
                table = _Table(_KEYS.get(entity, _NAME_ONLY))
                for record in self._client.query_all(entity):
                    table.add(record)
                self._tables[entity] = table
            return table
