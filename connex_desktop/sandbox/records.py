"""The base of the company: storage, time, preferences, references and saving entities."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connex_desktop.core.money import MoneyError, money, quantity
from connex_desktop.sandbox import faults
from connex_desktop.sandbox import query as qbql
from connex_desktop.sandbox.kinds import CompanyKind
from connex_desktop.sandbox.store import Store, dumps, loads

PEOPLE = ("Customer", "Vendor", "Employee")
NAME_FIELD = {
    "Account": "Name", "Customer": "DisplayName", "Vendor": "DisplayName",
    "Employee": "DisplayName", "Item": "Name", "TaxCode": "Name", "TaxRate": "Name",
    "PaymentMethod": "Name", "Class": "Name", "Term": "Name", "Department": "Name",
    "TaxAgency": "DisplayName",
}
SALES_FORMS = ("Invoice", "SalesReceipt", "Estimate", "CreditMemo", "RefundReceipt")
TRANSACTIONS = (*SALES_FORMS, "Payment", "PurchaseOrder")
SINGLETONS = ("Preferences", "CompanyInfo")
ENTITIES = (*NAME_FIELD, *TRANSACTIONS, *SINGLETONS)

Entity = dict[str, Any]


def ref_id(ref: object) -> str | None:
    """The Id a reference ({"value": …}) points at, or None when it is missing or empty."""
    if isinstance(ref, Mapping):
        value = ref.get("value")
        return str(value) if value not in (None, "") else None
    return None


def parse_amount(value: object, element: str) -> Decimal:
    return _parsed(money, value, element)


def parse_number(value: object, element: str) -> Decimal:
    return _parsed(quantity, value, element)


def _parsed(convert: Callable[[object], Decimal], value: object, element: str) -> Decimal:
    """A request's number as QuickBooks reads it, or QuickBooks' invalid-value fault for it."""
    try:
        return convert(value)
    except MoneyError as exc:
        raise faults.invalid_value(element, value) from exc


def parse_date(value: object, element: str) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError as exc:
        raise faults.fault("2070", "Invalid Date", f"Invalid date format: {value}",
                           element) from exc


class Records:
    """What every rule needs: the store, the company clock, preferences and references."""

    store: Store
    clock: Callable[[], float]
    kind: CompanyKind
    # While a batch runs: what its earlier items created, which later items cannot see.
    _batch_created: set[tuple[str, str]] | None = None

    # --- time ------------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), qbql.COMPANY_TZ)

    def timestamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def response_time(self) -> str:
        return self.now().isoformat(timespec="milliseconds")

    def today(self) -> str:
        return self.now().date().isoformat()

    # --- preferences -----------------------------------------------------------------------

    def _pref(self, section: str, key: str) -> Any:
        prefs = self.store.get("Preferences", "1")
        assert prefs is not None
        return prefs.get(section, {}).get(key)

    def _other_pref(self, name: str) -> str | None:
        prefs = self.store.get("Preferences", "1")
        assert prefs is not None
        for pair in prefs.get("OtherPrefs", {}).get("NameValue", []):
            if pair.get("Name") == name:
                return str(pair.get("Value"))
        return None

    # --- saving ----------------------------------------------------------------------------

    def _save(self, entity: str, built: Entity, current: Entity | None) -> Entity:
        stamp = self.timestamp()
        built["domain"] = "QBO"
        built["sparse"] = False
        if current is None:
            if self._batch_created is not None:
                self._batch_created.add((entity, built["Id"]))
            built["SyncToken"] = "0"
            built["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}
        else:
            built["SyncToken"] = str(int(current["SyncToken"]) + 1)
            built["MetaData"] = {**current.get("MetaData", {}), "LastUpdatedTime": stamp}
        self.store.put(entity, built)
        return loads(dumps(built))

    def _touch(self, entity: str, changed: Entity, current: Entity) -> None:
        """Store a change the service made itself (a payment applied, an estimate closed)."""
        self._save(entity, changed, current)

    def visible(self, entity: str, id_: object) -> Entity | None:
        """The stored entity a request may refer to (not one made earlier in the same batch)."""
        if self._batch_created and (entity, str(id_)) in self._batch_created:
            return None
        return self.store.get(entity, id_)

    # --- references ------------------------------------------------------------------------

    def _resolve(self, entity: str, ref: object, element: str, *,
                 required: bool = False) -> Entity | None:
        id_ = ref_id(ref)
        if id_ is None:
            if required:
                raise faults.required_missing(element)
            return None
        found = self.visible(entity, id_)
        if found is None or found.get("Active") is False:
            raise faults.not_found(element)
        return found

    def _named_ref(self, entity: str, ref: object, element: str, *,
                   required: bool = False) -> dict[str, str] | None:
        found = self._resolve(entity, ref, element, required=required)
        if found is None:
            return None
        return {"value": found["Id"], "name": str(found.get(NAME_FIELD.get(entity, "Name"), ""))}

    def _account_ref(self, name: str) -> dict[str, str]:
        """A reference to the company's account called `name` (a default the service fills)."""
        found = self.store.find("Account", "Name", name)
        if not found:
            raise faults.not_found("Account")
        return {"value": found[0]["Id"], "name": found[0]["Name"]}
