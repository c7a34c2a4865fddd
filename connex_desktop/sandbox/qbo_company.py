"""One QuickBooks Online company: its entities, queries, preferences and write operations."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from connex_desktop.core.money import ZERO
from connex_desktop.core.quickbooks_rules import PURCHASE_ORDER_PLANS, US_LINE_TAX_CODES
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.company_queries import CompanyQueries
from connex_desktop.sandbox.kinds import (
    CLASS_PER_LINE,
    CLASS_PER_TRANSACTION,
    DEFAULT_KIND,
    company_kind,
)
from connex_desktop.sandbox.lists import ListRules
from connex_desktop.sandbox.records import (
    ENTITIES,
    NAME_FIELD,
    PEOPLE,
    SALES_FORMS,
    SINGLETONS,
    TRANSACTIONS,
    Entity,
)
from connex_desktop.sandbox.seed import new_company_info, new_preferences, seed_company
from connex_desktop.sandbox.store import Store
from connex_desktop.sandbox.transactions import TransactionRules

# Tax codes and rates are made through the separate TaxService; the rest only by the service.
READ_ONLY_OVER_API = ("TaxCode", "TaxRate", *SINGLETONS)
VOIDABLE = ("Invoice", "Payment", "SalesReceipt")
SERVER_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "status", "time")
__all__ = ["ENTITIES", "READ_ONLY_OVER_API", "SINGLETONS", "Company"]


def _clean(value: Any) -> Any:
    """Drop the empty strings and nulls python-quickbooks sends for every unset attribute."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class Company(CompanyQueries, ListRules, TransactionRules):
    """A thread-safe QuickBooks Online company; every method raises QBFault on a bad request."""

    def __init__(self, db_path: str | Path | None = None, *, seed: bool = True,
                 custom_txn_numbers: bool = True, kind: str = DEFAULT_KIND,
                 multicurrency: bool = False,
                 clock: Callable[[], float] = time.time) -> None:
        """A new company of `kind` (see kinds.KINDS) is made when `db_path` holds none yet; an
        existing one must be of that kind and multicurrency setting (ValueError otherwise)."""
        self.clock = clock
        self.store = Store(db_path)
        self.lock = self.store.lock
        self.kind = company_kind(kind)
        with self.lock:
            if self.store.get("Preferences", "1") is None:
                self.store.set_meta("company_kind", self.kind.key)
                self._insert("Preferences",
                             new_preferences(self.kind, custom_txn_numbers, multicurrency))
                self._insert("CompanyInfo", new_company_info(self.kind))
                if seed:
                    seed_company(self, self.kind)
            self._check_same_company(db_path, multicurrency)

    def _check_same_company(self, db_path: str | Path | None, multicurrency: bool) -> None:
        stored = self.store.meta("company_kind") or DEFAULT_KIND
        stored_multicurrency = bool(self._pref("CurrencyPrefs", "MultiCurrencyEnabled"))
        if (stored, stored_multicurrency) != (self.kind.key, multicurrency):
            self.store.close()
            raise ValueError(
                f"{db_path} holds a '{stored}' company"
                f"{' with multicurrency' if stored_multicurrency else ''}; open it as one")

    def close(self) -> None:
        self.store.close()

    # --- preferences and company info ------------------------------------------------------

    def preferences(self) -> Entity:
        return self.read("Preferences", "1")

    def company_info(self) -> Entity:
        return self.read("CompanyInfo", "1")

    def set_plan(self, offering_sku: str) -> None:
        """The company's QuickBooks plan, e.g. "QuickBooks Online Essentials" (CompanyInfo's
        NameValue "OfferingSku")."""
        with self.lock:
            current = self.company_info()
            info = copy.deepcopy(current)
            pairs = [p for p in info.get("NameValue") or [] if p.get("Name") != "OfferingSku"]
            info["NameValue"] = [*pairs, {"Name": "OfferingSku", "Value": offering_sku}]
            self._save("CompanyInfo", info, current)

    def update_preferences(self, body: Mapping[str, Any]) -> Entity:
        with self.lock:
            current = self._existing("Preferences", body)
            updated = copy.deepcopy(current)
            for section, values in _clean(dict(body)).items():
                if section in SERVER_FIELDS:
                    continue
                if isinstance(values, dict) and isinstance(updated.get(section), dict):
                    updated[section].update(values)
                else:
                    updated[section] = values
            return self._save("Preferences", updated, current)

    def set_preference(self, *, custom_txn_numbers: bool | None = None,
                       purchase_custom_txn_numbers: bool | None = None,
                       allow_shipping: bool | None = None, allow_discount: bool | None = None,
                       allow_estimates: bool | None = None,
                       using_sales_tax: bool | None = None,
                       class_tracking: str | None = None,
                       track_locations: bool | None = None) -> None:
        """Change company preferences directly, as the merchant would in the QuickBooks UI;
        `class_tracking` is one of kinds.CLASSES_OFF, CLASS_PER_TRANSACTION, CLASS_PER_LINE."""
        with self.lock:
            current = self.store.get("Preferences", "1")
            assert current is not None
            prefs = copy.deepcopy(current)
            sales = prefs["SalesFormsPrefs"]
            for key, value in (("CustomTxnNumbers", custom_txn_numbers),
                               ("AllowShipping", allow_shipping),
                               ("AllowDiscount", allow_discount),
                               ("AllowEstimates", allow_estimates)):
                if value is not None:
                    sales[key] = value
            if using_sales_tax is not None:
                prefs["TaxPrefs"]["UsingSalesTax"] = using_sales_tax
            accounting = prefs["AccountingInfoPrefs"]
            if class_tracking is not None:
                accounting["ClassTrackingPerTxn"] = class_tracking == CLASS_PER_TRANSACTION
                accounting["ClassTrackingPerTxnLine"] = class_tracking == CLASS_PER_LINE
            if track_locations is not None:
                accounting["TrackDepartments"] = track_locations
            if purchase_custom_txn_numbers is not None:
                for pair in prefs["OtherPrefs"]["NameValue"]:
                    if pair["Name"] == "VendorAndPurchasesPrefs.UseCustomTxnNumbers":
                        pair["Value"] = str(purchase_custom_txn_numbers).lower()
            self._save("Preferences", prefs, current)

    # --- writing: entry points -------------------------------------------------------------

    def create(self, entity: str, body: Mapping[str, Any], *,
               allow_duplicate_doc_number: bool = False) -> Entity:
        """Create `entity` from `body` as QuickBooks would; returns the stored entity."""
        with self.lock:
            raw = _clean(copy.deepcopy(dict(body)))
            for key in SERVER_FIELDS:
                raw.pop(key, None)
            raw["Id"] = self._new_id(entity, raw)
            built = self._build(entity, raw, None, allow_duplicate_doc_number)
            self._after_write(entity, built, None)
            return self._save(entity, built, None)

    def update(self, entity: str, body: Mapping[str, Any], *,
               allow_duplicate_doc_number: bool = False) -> Entity:
        """Full or sparse (`"sparse": true`) update; the SyncToken must be the current one."""
        with self.lock:
            if entity in SINGLETONS:
                if entity == "Preferences":
                    return self.update_preferences(body)
                raise faults.unsupported_operation("Update")
            current = self._existing(entity, body)
            if self._is_voided(entity, current):
                raise faults.business_validation("A voided transaction cannot be changed.")
            raw = _clean(copy.deepcopy(dict(body)))
            sparse = raw.pop("sparse", False) is True
            for key in SERVER_FIELDS:
                raw.pop(key, None)
            if sparse:
                # python-quickbooks sends every list attribute, empty when unset; a sparse
                # update leaves those alone.
                changes = {k: v for k, v in raw.items() if v != []}
                merged = {**copy.deepcopy(current), **changes}
            else:
                merged = self._full(entity, current, raw)
            merged["Id"] = current["Id"]
            built = self._build(entity, merged, current, allow_duplicate_doc_number)
            self._after_write(entity, built, current)
            return self._save(entity, built, current)

    def delete(self, entity: str, body: Mapping[str, Any]) -> Entity:
        """Delete a transaction; name lists can only be made inactive."""
        with self.lock:
            current = self._removable(entity, body, deleting=True)
            stub = {"Id": current["Id"], "status": "Deleted", "domain": "QBO",
                    "MetaData": {**current["MetaData"], "LastUpdatedTime": self.timestamp()}}
            self.store.remove(entity, current, stub)
            return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}

    def void(self, entity: str, body: Mapping[str, Any]) -> Entity:
        """Void an Invoice, Payment or SalesReceipt: it stays, with every amount zero."""
        with self.lock:
            current = self._removable(entity, body, deleting=False)
            voided = copy.deepcopy(current)
            for line in voided.get("Line", []):
                line["Amount"] = ZERO
            for key in ("TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance", "UnappliedAmt"):
                if key in voided:
                    voided[key] = ZERO
            if "TxnTaxDetail" in voided:
                voided["TxnTaxDetail"] = {**voided["TxnTaxDetail"], "TotalTax": ZERO}
            note = voided.get("PrivateNote", "")
            voided["PrivateNote"] = f"Voided{' - ' + note if note else ''}"
            voided["LinkedTxn"] = [] if entity != "Payment" else voided.get("LinkedTxn", [])
            self.store.set_meta(f"voided:{entity}:{current['Id']}", self.timestamp())
            return self._save(entity, voided, current)

    def _removable(self, entity: str, body: Mapping[str, Any], *, deleting: bool) -> Entity:
        """The stored transaction a Delete or Void names, already unlinked from the others."""
        if entity not in (TRANSACTIONS if deleting else VOIDABLE):
            raise faults.unsupported_operation("Delete" if deleting else "Void")
        current = self._existing(entity, body)
        self._before_removal(entity, current, deleting=deleting)
        return current

    def _is_voided(self, entity: str, current: Mapping[str, Any]) -> bool:
        return self.store.meta(f"voided:{entity}:{current['Id']}") is not None

    # --- writing: shared machinery ---------------------------------------------------------

    def _insert(self, entity: str, body: Entity) -> None:
        stamp = self.timestamp()
        body.update(SyncToken="0", domain="QBO", sparse=False,
                    MetaData={"CreateTime": stamp, "LastUpdatedTime": stamp})
        self.store.put(entity, body)

    def _new_id(self, entity: str, raw: Mapping[str, Any]) -> str:
        if entity == "TaxCode" and raw.get("Name") in US_LINE_TAX_CODES:
            return str(raw["Name"])  # US companies' TAX and NON codes have these as their Ids
        return self.store.next_id(entity)

    def _existing(self, entity: str, body: Mapping[str, Any]) -> Entity:
        id_ = body.get("Id")
        if id_ in (None, ""):
            raise faults.required_missing("Id")
        current = self.visible(entity, str(id_))
        if current is None:
            raise faults.not_found("Id")
        token = body.get("SyncToken")
        if token in (None, ""):
            raise faults.required_missing("SyncToken")
        if str(token) != current["SyncToken"]:
            raise faults.stale_object()
        return current

    def _full(self, entity: str, current: Entity, raw: Entity) -> Entity:
        """A full update: what was sent, plus what the service owns and never clears."""
        kept = {"Balance", "BalanceWithJobs", "CurrentBalance", "CurrentBalanceWithSubAccounts",
                "QtyOnHand"} if entity in NAME_FIELD else set()
        if entity in PEOPLE:
            kept |= {"DisplayName"}  # DisplayName cannot be removed
        merged = dict(raw)
        for key in kept:
            if key in current and key not in merged:
                merged[key] = copy.deepcopy(current[key])
        if entity == "Invoice":
            # Payment links belong to the service; estimate links come from the request.
            merged["LinkedTxn"] = [
                *(t for t in current.get("LinkedTxn", []) if t.get("TxnType") == "Payment"),
                *(t for t in raw.get("LinkedTxn", []) if t.get("TxnType") != "Payment")]
        return merged

    def _build(self, entity: str, raw: Entity, current: Entity | None,
               allow_duplicate_doc_number: bool) -> Entity:
        if entity in NAME_FIELD:
            return self._build_name_list(entity, raw, current)
        if entity in SALES_FORMS:
            return self._build_sales_form(entity, raw, current, allow_duplicate_doc_number)
        if entity == "Payment":
            return self._build_payment(raw, current)
        if entity == "PurchaseOrder":
            if not any(word in self._plan().split() for word in PURCHASE_ORDER_PLANS):
                # Only Plus and Advanced have purchase orders; the fault real
                # QuickBooks gives is not documented.
                raise faults.business_validation(
                    f"Purchase orders are not available in {self._plan()}.")
            return self._build_purchase_order(raw, current, allow_duplicate_doc_number)
        raise faults.unsupported_operation("Create")

    def _plan(self) -> str:
        pairs = self.company_info().get("NameValue") or []
        return next((str(p["Value"]) for p in pairs if p.get("Name") == "OfferingSku"), "")
