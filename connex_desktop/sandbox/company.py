"""One QuickBooks Online company: entities, their rules, numbering, preferences and queries."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from connex_desktop.core.money import ZERO, MoneyError, money, quantity
from connex_desktop.sandbox import faults
from connex_desktop.sandbox import query as qbql
from connex_desktop.sandbox.seed import (
    AP_ACCOUNT,
    COMPANY_ADDRESS,
    COMPANY_NAME,
    DISCOUNT_ACCOUNT,
    UNDEPOSITED_FUNDS_ACCOUNT,
    seed_company,
)
from connex_desktop.sandbox.store import Store, dumps, id_order, loads

PEOPLE = ("Customer", "Vendor", "Employee")
NAME_FIELD = {
    "Account": "Name", "Customer": "DisplayName", "Vendor": "DisplayName",
    "Employee": "DisplayName", "Item": "Name", "TaxCode": "Name", "TaxRate": "Name",
    "PaymentMethod": "Name", "Class": "Name", "Term": "Name", "Department": "Name",
}
SALES_FORMS = ("Invoice", "SalesReceipt", "Estimate", "CreditMemo", "RefundReceipt")
TRANSACTIONS = (*SALES_FORMS, "Payment", "PurchaseOrder")
SINGLETONS = ("Preferences", "CompanyInfo")
ENTITIES = (*NAME_FIELD, *TRANSACTIONS, *SINGLETONS)
# Tax codes and rates are made through the separate TaxService; the rest only by the service.
READ_ONLY_OVER_API = ("TaxCode", "TaxRate", *SINGLETONS)
VOIDABLE = ("Invoice", "Payment", "SalesReceipt")

DOC_NUMBER_MAX_LENGTH = 21
NAME_MAX_LENGTH = {"DisplayName": 500, "Name": 100, "Sku": 100}
FIRST_DOC_NUMBER = "1001"
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"
GRATUITY_ITEM_ID = "GRATUITY_ITEM_ID"
US_LINE_TAX_CODES = ("TAX", "NON")
ESTIMATE_OPEN_STATUSES = ("Pending", "Accepted")
SERVER_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "status", "time")
HOME_CURRENCY = {"value": "USD", "name": "United States Dollar"}
ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset",
    "Other Asset": "Asset", "Accounts Receivable": "Asset", "Equity": "Equity",
    "Expense": "Expense", "Other Expense": "Expense", "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Long Term Liability": "Liability", "Other Current Liability": "Liability",
    "Income": "Revenue", "Other Income": "Revenue",
}
ITEM_TYPES = ("Inventory", "NonInventory", "Service", "Category")

Entity = dict[str, Any]


def _clean(value: Any) -> Any:
    """Drop the empty strings and nulls python-quickbooks sends for every unset attribute."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None and v != ""}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def ref_id(ref: object) -> str | None:
    if isinstance(ref, Mapping):
        value = ref.get("value")
        return str(value) if value not in (None, "") else None
    return None


def _amount(value: object, element: str) -> Decimal:
    try:
        return money(value)
    except MoneyError as exc:
        raise faults.invalid_value(element, value) from exc


def _number(value: object, element: str) -> Decimal:
    try:
        return quantity(value)
    except MoneyError as exc:
        raise faults.invalid_value(element, value) from exc


def _next_doc_number(last: str | None) -> str:
    """The number after `last`, incrementing its trailing digits as QuickBooks does."""
    if not last:
        return FIRST_DOC_NUMBER
    match = re.fullmatch(r"(.*?)(\d+)(\D*)", last)
    if match is None:
        return last + "1"
    prefix, digits, suffix = match.groups()
    return f"{prefix}{str(int(digits) + 1).zfill(len(digits))}{suffix}"


class Company:
    """A thread-safe QuickBooks Online company; every method raises QBFault on a bad request."""

    def __init__(self, db_path: str | Path | None = None, *, seed: bool = True,
                 custom_txn_numbers: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.store = Store(db_path)
        self.lock = self.store.lock
        with self.lock:
            if self.store.get("Preferences", "1") is None:
                self._insert("Preferences", self._default_preferences(custom_txn_numbers))
                self._insert("CompanyInfo", self._default_company_info())
                if seed:
                    seed_company(self)

    def close(self) -> None:
        self.store.close()

    # --- time -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), qbql.COMPANY_TZ)

    def timestamp(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def response_time(self) -> str:
        return self.now().isoformat(timespec="milliseconds")

    def today(self) -> str:
        return self.now().date().isoformat()

    # --- reading --------------------------------------------------------------------------

    def read(self, entity: str, id_: str) -> Entity:
        with self.lock:
            found = self.store.get(entity, id_)
            if found is None:
                raise faults.not_found()
            return loads(dumps(found))

    def all(self, entity: str) -> list[Entity]:
        """Every stored `entity` as the API returns it, amounts as Decimal."""
        with self.lock:
            return [loads(dumps(e)) for e in sorted(self.store.all(entity), key=id_order)]

    def query(self, text: str) -> list[Entity]:
        """Run a query as the API would and return the matching entities (one page)."""
        response = self.run_query(text)
        return [loads(dumps(e)) for key, value in response.items() if isinstance(value, list)
                for e in value]

    def run_query(self, text: str) -> dict[str, Any]:
        """The QueryResponse object for `text`."""
        parsed = qbql.parse(text)
        entity = self._entity_name(parsed.entity)
        self._check_queryable(entity, parsed)
        with self.lock:
            candidates = self._candidates(entity, parsed)
            total, page = qbql.select(parsed, candidates, id_order)
        if parsed.count:
            return {"totalCount": total}
        if not page:
            return {}
        return {entity: page, "startPosition": parsed.start_position, "maxResults": len(page)}

    def _entity_name(self, name: str) -> str:
        for entity in ENTITIES:
            if entity.lower() == name.lower():
                return entity
        raise faults.query_validation_error(f"Unsupported Entity: {name}")

    @staticmethod
    def _check_queryable(entity: str, parsed: qbql.Query) -> None:
        for condition in parsed.conditions:
            top = condition.field.split(".")[0].lower()
            unfilterable = top in ("privatenote", "customfield", "memo", "line") or (
                entity == "Payment" and top == "docnumber")
            if unfilterable:
                raise faults.query_validation_error(
                    f"property '{condition.field}' is not queryable")

    def _candidates(self, entity: str, parsed: qbql.Query) -> Iterable[Entity]:
        for condition in parsed.conditions:
            if condition.field in ("DocNumber", "Name", "DisplayName", "Sku") and \
                    condition.operator in ("=", "IN"):
                found: dict[str, Entity] = {}
                for value in condition.values:
                    for e in self.store.find(entity, condition.field, str(value)):
                        found[e["Id"]] = e
                return found.values()
            if condition.field == "Id" and condition.operator in ("=", "IN"):
                hits = (self.store.get(entity, str(v)) for v in condition.values)
                return [e for e in hits if e is not None]
        return self.store.all(entity)

    def cdc(self, entities: Iterable[str], since: str) -> list[dict[str, Any]]:
        """Entities changed at or after `since`, deleted ones as stubs (Change Data Capture)."""
        moment = qbql.as_datetime(since)
        if moment is None:
            raise faults.invalid_value("changedSince", since)
        results = []
        with self.lock:
            for name in entities:
                entity = self._entity_name(name.strip())
                changed = [e for e in sorted(self.store.all(entity), key=id_order)
                           if self._changed_since(e, moment)]
                changed += [e for e in self.store.deleted(entity)
                            if self._changed_since(e, moment)]
                response: dict[str, Any] = {entity: changed} if changed else {}
                if changed:
                    response.update(startPosition=1, maxResults=len(changed))
                results.append(response)
        return results

    @staticmethod
    def _changed_since(entity: Mapping[str, Any], moment: datetime) -> bool:
        updated = qbql.as_datetime(entity.get("MetaData", {}).get("LastUpdatedTime", ""))
        return updated is not None and updated >= moment

    # --- preferences and company info -----------------------------------------------------

    def preferences(self) -> Entity:
        return self.read("Preferences", "1")

    def company_info(self) -> Entity:
        return self.read("CompanyInfo", "1")

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
                       using_sales_tax: bool | None = None) -> None:
        """Change company preferences directly, as the merchant would in the QuickBooks UI."""
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
            if purchase_custom_txn_numbers is not None:
                for pair in prefs["OtherPrefs"]["NameValue"]:
                    if pair["Name"] == "VendorAndPurchasesPrefs.UseCustomTxnNumbers":
                        pair["Value"] = str(purchase_custom_txn_numbers).lower()
            self._save("Preferences", prefs, current)

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

    @staticmethod
    def _default_preferences(custom_txn_numbers: bool) -> Entity:
        return {
            "Id": "1",
            "AccountingInfoPrefs": {"TrackDepartments": False, "ClassTrackingPerTxn": True,
                                    "ClassTrackingPerTxnLine": False,
                                    "FirstMonthOfFiscalYear": "January",
                                    "UseAccountNumbers": True, "CustomerTerminology": "Customers"},
            "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True,
                                        "QuantityWithPriceAndRate": True,
                                        "QuantityOnHand": True},
            "SalesFormsPrefs": {"CustomTxnNumbers": custom_txn_numbers, "AllowShipping": True,
                                "AllowDiscount": True, "AllowEstimates": True,
                                "AllowDeposit": False, "AutoApplyPayments": False,
                                "ETransactionEnabledStatus": "NotApplicable",
                                "DefaultTerms": {"value": "1"}},
            "VendorAndPurchasesPrefs": {"TrackingByCustomer": False,
                                        "BillableExpenseTracking": False},
            "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False},
            "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "USD"}},
            "OtherPrefs": {"NameValue": [
                {"Name": "VendorAndPurchasesPrefs.UseCustomTxnNumbers", "Value": "true"},
                {"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": ""},
                {"Name": "WarnDuplicateCheckNumber", "Value": "true"},
                {"Name": "WarnDuplicateJournalNumber", "Value": "false"}]},
        }

    @staticmethod
    def _default_company_info() -> Entity:
        return {
            "Id": "1", "CompanyName": COMPANY_NAME, "LegalName": f"{COMPANY_NAME} LLC",
            "CompanyAddr": dict(COMPANY_ADDRESS), "LegalAddr": dict(COMPANY_ADDRESS),
            "CustomerCommunicationAddr": dict(COMPANY_ADDRESS), "Country": "US",
            "Email": {"Address": "books@maple-pine.example"},
            "PrimaryPhone": {"FreeFormNumber": "(415) 555-0142"},
            "FiscalYearStartMonth": "January", "SupportedLanguages": "en",
            "NameValue": [{"Name": "NeoEnabled", "Value": "true"},
                          {"Name": "IndustryType", "Value": "Retail"}],
        }

    # --- writing: entry points ------------------------------------------------------------

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
            if entity not in TRANSACTIONS:
                raise faults.unsupported_operation("Delete")
            current = self._existing(entity, body)
            self._before_removal(entity, current, deleting=True)
            stub = {"Id": current["Id"], "status": "Deleted", "domain": "QBO",
                    "MetaData": {**current["MetaData"], "LastUpdatedTime": self.timestamp()}}
            self.store.remove(entity, current, stub)
            return {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}

    def void(self, entity: str, body: Mapping[str, Any]) -> Entity:
        """Void an Invoice, Payment or SalesReceipt: it stays, with every amount zero."""
        with self.lock:
            if entity not in VOIDABLE:
                raise faults.unsupported_operation("Void")
            current = self._existing(entity, body)
            self._before_removal(entity, current, deleting=False)
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

    def _is_voided(self, entity: str, current: Mapping[str, Any]) -> bool:
        return self.store.meta(f"voided:{entity}:{current['Id']}") is not None

    # --- writing: shared machinery --------------------------------------------------------

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
        current = self.store.get(entity, str(id_))
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
        if entity == "Invoice":
            kept |= {"LinkedTxn"}
        if entity in PEOPLE:
            kept |= {"DisplayName"}  # DisplayName cannot be removed
        merged = dict(raw)
        for key in kept:
            if key in current and (key not in merged or key == "LinkedTxn"):
                merged[key] = copy.deepcopy(current[key])
        if entity == "Invoice":
            merged["LinkedTxn"] = self._merged_invoice_links(current, raw)
        return merged

    @staticmethod
    def _merged_invoice_links(current: Entity, raw: Entity) -> list[Entity]:
        # Payment links belong to the service; estimate links come from the request.
        payments = [t for t in current.get("LinkedTxn", []) if t.get("TxnType") == "Payment"]
        sent = [t for t in raw.get("LinkedTxn", []) if t.get("TxnType") != "Payment"]
        return payments + sent

    def _save(self, entity: str, built: Entity, current: Entity | None) -> Entity:
        stamp = self.timestamp()
        built["domain"] = "QBO"
        built["sparse"] = False
        if current is None:
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

    def _build(self, entity: str, raw: Entity, current: Entity | None,
               allow_duplicate_doc_number: bool) -> Entity:
        if entity in NAME_FIELD:
            return self._build_name_list(entity, raw, current)
        if entity in SALES_FORMS:
            return self._build_sales_form(entity, raw, current, allow_duplicate_doc_number)
        if entity == "Payment":
            return self._build_payment(raw, current)
        if entity == "PurchaseOrder":
            return self._build_purchase_order(raw, current, allow_duplicate_doc_number)
        raise faults.unsupported_operation("Create")

    # --- references -----------------------------------------------------------------------

    def _resolve(self, entity: str, ref: object, element: str, *,
                 required: bool = False) -> Entity | None:
        id_ = ref_id(ref)
        if id_ is None:
            if required:
                raise faults.required_missing(element)
            return None
        found = self.store.get(entity, id_)
        if found is None or found.get("Active") is False:
            raise faults.not_found(element)
        return found

    def _named_ref(self, entity: str, ref: object, element: str, *,
                   required: bool = False) -> dict[str, str] | None:
        found = self._resolve(entity, ref, element, required=required)
        if found is None:
            return None
        return {"value": found["Id"], "name": str(found.get(NAME_FIELD.get(entity, "Name"), ""))}

    def _account_named(self, name: str) -> Entity:
        found = self.store.find("Account", "Name", name)
        if not found:
            raise faults.not_found("Account")
        return found[0]

    def _account_ref(self, name: str) -> dict[str, str]:
        account = self._account_named(name)
        return {"value": account["Id"], "name": account["Name"]}

    # --- name lists -----------------------------------------------------------------------

    def _build_name_list(self, entity: str, raw: Entity, current: Entity | None) -> Entity:
        raw.setdefault("Active", True)
        if entity in PEOPLE:
            self._person(entity, raw)
        elif entity == "Item":
            self._item(raw)
        elif entity == "Account":
            self._account(raw)
        name_field = NAME_FIELD[entity]
        name = raw.get(name_field)
        if not isinstance(name, str) or not name.strip():
            raise faults.required_missing(name_field)
        raw[name_field] = name = name.strip()
        for field, limit in NAME_MAX_LENGTH.items():
            value = raw.get(field)
            if isinstance(value, str) and len(value) > limit:
                raise faults.string_too_long(field, limit, len(value))
        if ":" in name and entity != "TaxRate":
            raise faults.invalid_value(name_field, name)
        self._check_unique_name(entity, name_field, name, raw["Id"])
        if entity in ("Account", "Item", "Class", "Department", "Customer"):
            raw["FullyQualifiedName"] = name
        if entity == "Term":
            raw.setdefault("Type", "STANDARD")
        if entity == "PaymentMethod":
            raw.setdefault("Type", "NON_CREDIT_CARD")
        if current is not None:
            for key in ("Balance", "BalanceWithJobs"):
                if key in current:
                    raw[key] = current[key]
        return raw

    def _check_unique_name(self, entity: str, field: str, name: str, own_id: str) -> None:
        scope = PEOPLE if entity in PEOPLE else (entity,)
        for other_type in scope:
            for other in self.store.find(other_type, field, name):
                if other_type == entity and other["Id"] == own_id:
                    continue
                what = ("customer, vendor or employee" if entity in PEOPLE
                        else entity.lower() if entity != "Item" else "Item")
                raise faults.fault(
                    "6240", "Duplicate Name Exists Error",
                    f"The name supplied already exists. : Another {what} is already using this "
                    f"name. Please use a different name.", field)

    @staticmethod
    def _person(entity: str, raw: Entity) -> None:
        if not raw.get("DisplayName"):
            parts = [raw.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName",
                                          "Suffix")]
            derived = " ".join(str(p).strip() for p in parts if p)
            if not derived:
                raise faults.fault(
                    "6080", "Required param missing, need to supply the required value for the "
                    "API", "Required parameter DisplayName or one of Title, GivenName, "
                    "MiddleName, FamilyName, Suffix is missing in the request", "DisplayName")
            raw["DisplayName"] = derived
        raw.setdefault("PrintOnCheckName", raw["DisplayName"])
        if entity != "Employee":
            raw["Balance"] = raw.get("Balance", ZERO)
            raw.setdefault("CurrencyRef", dict(HOME_CURRENCY))
        if entity == "Customer":
            raw["BalanceWithJobs"] = raw.get("BalanceWithJobs", ZERO)
            raw.setdefault("Taxable", True)
            raw.setdefault("Job", False)
            raw.setdefault("BillWithParent", False)
            raw.setdefault("PreferredDeliveryMethod", "Print")

    def _item(self, raw: Entity) -> None:
        item_type = raw.get("Type")
        if not item_type:
            raise faults.required_missing("Type")
        if item_type not in ITEM_TYPES:
            raise faults.invalid_value("Type", item_type)
        for key in ("UnitPrice", "PurchaseCost"):
            if key in raw:
                raw[key] = _number(raw[key], key)
        if item_type == "Category":
            return
        income = self._named_ref("Account", raw.get("IncomeAccountRef"), "IncomeAccountRef",
                                 required=True)
        raw["IncomeAccountRef"] = income
        for key in ("ExpenseAccountRef", "AssetAccountRef"):
            needed = item_type == "Inventory" and (key == "AssetAccountRef" or
                                                   key == "ExpenseAccountRef")
            ref = self._named_ref("Account", raw.get(key), key, required=needed)
            if ref is not None:
                raw[key] = ref
        vendor = self._named_ref("Vendor", raw.get("PrefVendorRef"), "PrefVendorRef")
        if vendor is not None:
            raw["PrefVendorRef"] = vendor
        if item_type == "Inventory":
            if raw.get("TrackQtyOnHand") is not True:
                raise faults.required_missing("TrackQtyOnHand")
            for key in ("QtyOnHand", "InvStartDate"):
                if key not in raw:
                    raise faults.required_missing(key)
            raw["QtyOnHand"] = _number(raw["QtyOnHand"], "QtyOnHand")
            self._date(raw["InvStartDate"], "InvStartDate")
        else:
            raw["TrackQtyOnHand"] = False
        raw.setdefault("Taxable", False)
        raw.setdefault("SubItem", False)

    @staticmethod
    def _account(raw: Entity) -> None:
        name = str(raw.get("Name", ""))
        if '"' in name:
            raise faults.invalid_value("Name", name)
        if not raw.get("AccountType") and not raw.get("AccountSubType"):
            raise faults.fault("6010", "Invalid account type",
                               "Either AccountType or AccountSubType is required.",
                               "AccountType")
        if not raw.get("AccountType"):
            raise faults.required_missing("AccountType")
        account_type = raw["AccountType"]
        if account_type not in ACCOUNT_CLASSIFICATION:
            raise faults.invalid_value("AccountType", account_type)
        acct_num = raw.get("AcctNum")
        if isinstance(acct_num, str) and len(acct_num) > 7:
            raise faults.string_too_long("AcctNum", 7, len(acct_num))
        raw["Classification"] = ACCOUNT_CLASSIFICATION[account_type]
        raw.setdefault("SubAccount", False)
        raw.setdefault("CurrentBalance", ZERO)
        raw.setdefault("CurrentBalanceWithSubAccounts", ZERO)
        raw.setdefault("CurrencyRef", dict(HOME_CURRENCY))

    @staticmethod
    def _date(value: object, element: str) -> str:
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError as exc:
            raise faults.fault("2070", "Invalid Date", f"Invalid date format: {value}",
                               element) from exc

    # --- document numbers -----------------------------------------------------------------

    def _uses_custom_numbers(self, entity: str) -> bool:
        if entity == "PurchaseOrder":
            return self._other_pref("VendorAndPurchasesPrefs.UseCustomTxnNumbers") == "true"
        return bool(self._pref("SalesFormsPrefs", "CustomTxnNumbers"))

    def _doc_number(self, entity: str, raw: Entity, current: Entity | None,
                    allow_duplicate: bool) -> None:
        sent = raw.get("DocNumber")
        auto = raw.pop("AutoDocNumber", None) is True or sent == "AUTO_GENERATE"
        if auto and sent not in (None, "AUTO_GENERATE"):
            raise faults.business_validation(
                "AutoDocNumber and DocNumber cannot both be given.", "DocNumber")
        if sent == "AUTO_GENERATE":
            sent = None
        if entity == "Payment":
            auto = False  # a payment's number is the customer's reference; never assigned
        if sent is not None:
            sent = str(sent)
            if len(sent) > DOC_NUMBER_MAX_LENGTH:
                raise faults.string_too_long("DocNumber", DOC_NUMBER_MAX_LENGTH, len(sent))
            if not allow_duplicate:
                self._check_unique_doc_number(entity, sent, raw["Id"])
            raw["DocNumber"] = sent
        elif current is not None and "DocNumber" in current and not auto:
            raw["DocNumber"] = current["DocNumber"]
        elif auto or (entity != "Payment" and not self._uses_custom_numbers(entity)):
            raw["DocNumber"] = self._assign_doc_number(entity)
        else:
            raw.pop("DocNumber", None)

    def _check_unique_doc_number(self, entity: str, number: str, own_id: str) -> None:
        for other in self.store.find(entity, "DocNumber", number):
            if other["Id"] != own_id:
                raise faults.fault(
                    "6140", "Duplicate Document Number Error",
                    f"Duplicate Document Number Error : You must specify a different number. "
                    f"This number has already been used. DocNumber={number} is assigned to "
                    f"TxnType={entity} with TxnId={other['Id']}", "DocNumber")

    def _assign_doc_number(self, entity: str) -> str:
        number = _next_doc_number(self.store.meta(f"last_doc_number:{entity}"))
        while self.store.find(entity, "DocNumber", number) or len(number) > DOC_NUMBER_MAX_LENGTH:
            if len(number) > DOC_NUMBER_MAX_LENGTH:
                number = FIRST_DOC_NUMBER + "0"
            number = _next_doc_number(number)
        return number

    def _remember_doc_number(self, entity: str, built: Entity, current: Entity | None) -> None:
        number = built.get("DocNumber")
        if number and (current is None or current.get("DocNumber") != number):
            self.store.set_meta(f"last_doc_number:{entity}", str(number))

    # --- transactions ---------------------------------------------------------------------

    def _transaction_header(self, entity: str, raw: Entity, current: Entity | None,
                            allow_duplicate: bool) -> None:
        raw["TxnDate"] = self._date(raw.get("TxnDate", self.today()), "TxnDate")
        for key in ("DueDate", "ShipDate", "ExpirationDate"):
            if key in raw:
                raw[key] = self._date(raw[key], key)
        self._doc_number(entity, raw, current, allow_duplicate)
        raw["CurrencyRef"] = dict(HOME_CURRENCY)
        raw["ExchangeRate"] = Decimal(1)
        private_note = raw.get("PrivateNote")
        if isinstance(private_note, str) and len(private_note) > 4000:
            raise faults.string_too_long("PrivateNote", 4000, len(private_note))
        for key, target in (("ClassRef", "Class"), ("DepartmentRef", "Department"),
                            ("PaymentMethodRef", "PaymentMethod"), ("SalesTermRef", "Term")):
            ref = self._named_ref(target, raw.get(key), key)
            if ref is not None:
                raw[key] = ref

    def _build_sales_form(self, entity: str, raw: Entity, current: Entity | None,
                          allow_duplicate: bool) -> Entity:
        if entity == "Estimate" and not self._pref("SalesFormsPrefs", "AllowEstimates"):
            raise faults.business_validation("Estimates are turned off for this company.")
        self._transaction_header(entity, raw, current, allow_duplicate)
        customer_required = entity in ("Invoice", "Estimate", "CreditMemo")
        customer = self._named_ref("Customer", raw.get("CustomerRef"), "CustomerRef",
                                   required=customer_required)
        if customer is not None:
            raw["CustomerRef"] = customer
        if entity in ("SalesReceipt", "RefundReceipt"):
            deposit = self._named_ref("Account", raw.get("DepositToAccountRef"),
                                      "DepositToAccountRef", required=entity == "RefundReceipt")
            raw["DepositToAccountRef"] = deposit or self._account_ref(UNDEPOSITED_FUNDS_ACCOUNT)
        lines = raw.get("Line")
        if not lines:
            raise faults.required_missing("Line")
        subtotal, discount, extras, taxable = ZERO, ZERO, ZERO, ZERO
        built_lines: list[Entity] = []
        for number, line in enumerate(lines, start=1):
            kind = line.get("DetailType")
            if kind == "SubTotalLineDetail":
                continue  # recomputed below
            line = dict(line)
            line["Id"] = str(number)
            line["LineNum"] = number
            if kind == "SalesItemLineDetail":
                amount, is_extra, is_taxable = self._sales_item_line(line, raw["TxnDate"])
                if is_extra:
                    extras += amount
                else:
                    subtotal += amount
                    taxable += amount if is_taxable else ZERO
            elif kind == "DiscountLineDetail":
                discount += self._discount_line(line, subtotal)
            elif kind == "DescriptionOnly":
                line.pop("Amount", None)
            elif not kind:
                raise faults.required_missing("Line.DetailType")
            else:
                raise faults.invalid_value("Line.DetailType", kind)
            built_lines.append(line)
        built_lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail",
                            "SubTotalLineDetail": {}})
        raw["Line"] = built_lines
        tax = self._sales_tax(raw, taxable, discount, subtotal)
        total = subtotal - discount + extras + tax
        if total < 0:
            raise faults.business_validation("The transaction total cannot be negative.",
                                             "TotalAmt")
        raw["TotalAmt"] = total
        raw["HomeTotalAmt"] = total
        raw.setdefault("ApplyTaxAfterDiscount", False)
        raw.setdefault("PrintStatus", "NotSet")
        raw.setdefault("EmailStatus", "NotSet")
        if entity == "Invoice":
            self._invoice_balance(raw, current)
        elif entity == "CreditMemo":
            raw["Balance"] = raw["RemainingCredit"] = total
        elif entity == "Estimate":
            raw.setdefault("TxnStatus", "Pending")
            raw.setdefault("LinkedTxn", current.get("LinkedTxn", []) if current else [])
        else:
            raw["Balance"] = ZERO
        return raw

    def _sales_item_line(self, line: Entity, txn_date: str) -> tuple[Decimal, bool, bool]:
        """Validate one item line; returns (amount, is shipping/gratuity, is taxable)."""
        if "Amount" not in line:
            raise faults.required_missing("Line.Amount")
        amount = _amount(line["Amount"], "Line.Amount")
        detail = dict(line.get("SalesItemLineDetail") or {})
        self._check_line_amount(amount, detail)
        tax_code = ref_id(detail.get("TaxCodeRef"))
        if tax_code is not None and tax_code not in US_LINE_TAX_CODES:
            raise faults.fault("6100", BUSINESS_VALIDATION_MESSAGE,
                               f"Business Validation Error: Invalid line TaxCode {tax_code}; "
                               f"use TAX or NON.", "TaxCodeRef")
        item_id = ref_id(detail.get("ItemRef"))
        line["Amount"] = amount
        line["SalesItemLineDetail"] = detail
        if item_id in (SHIPPING_ITEM_ID, GRATUITY_ITEM_ID):
            if item_id == SHIPPING_ITEM_ID and not self._pref("SalesFormsPrefs", "AllowShipping"):
                raise faults.business_validation("Shipping is turned off for this company.",
                                                 "ItemRef")
            return amount, True, tax_code == "TAX"
        if item_id is None:
            # A sales line without an item is documentation only: its amount does not count.
            line["DetailType"] = "DescriptionOnly"
            line.pop("SalesItemLineDetail")
            line["DescriptionLineDetail"] = {}
            line.pop("Amount")
            return ZERO, False, False
        item = self._resolve("Item", detail["ItemRef"], "ItemRef")
        assert item is not None
        if item.get("Type") == "Category":
            raise faults.invalid_value("ItemRef", item_id)
        if item.get("TrackQtyOnHand") and txn_date < str(item.get("InvStartDate", "")):
            raise faults.fault(
                "6270", BUSINESS_VALIDATION_MESSAGE,
                f"Business Validation Error: Transaction date is prior to start date for "
                f"inventory item {item['Name']}", "TxnDate")
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
        if "ItemAccountRef" not in detail and "IncomeAccountRef" in item:
            detail["ItemAccountRef"] = dict(item["IncomeAccountRef"])
        class_ref = self._named_ref("Class", detail.get("ClassRef"), "ClassRef")
        if class_ref is not None:
            detail["ClassRef"] = class_ref
        if tax_code is None:
            detail["TaxCodeRef"] = {"value": "TAX" if item.get("Taxable") else "NON"}
        return amount, False, detail["TaxCodeRef"]["value"] == "TAX"

    @staticmethod
    def _check_line_amount(amount: Decimal, detail: Entity) -> None:
        qty = _number(detail["Qty"], "Qty") if "Qty" in detail else ZERO
        price = _number(detail["UnitPrice"], "UnitPrice") if "UnitPrice" in detail else ZERO
        for key, value in (("Qty", qty), ("UnitPrice", price)):
            if key in detail:
                detail[key] = value
        # python-quickbooks sends Qty 0 and UnitPrice 0 for "not given"; only check real values.
        if qty != 0 and price != 0 and money(qty * price) != amount:
            raise faults.fault("6070", BUSINESS_VALIDATION_MESSAGE,
                               f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                               "Amount")

    def _discount_line(self, line: Entity, subtotal: Decimal) -> Decimal:
        if not self._pref("SalesFormsPrefs", "AllowDiscount"):
            raise faults.business_validation("Discounts are turned off for this company.")
        detail = dict(line.get("DiscountLineDetail") or {})
        percent = detail.get("DiscountPercent")
        if detail.get("PercentBased") is True and percent is not None:
            amount = money(subtotal * _number(percent, "DiscountPercent") / 100)
        elif "Amount" in line:
            amount = _amount(line["Amount"], "Line.Amount")
        else:
            raise faults.fault("6090", BUSINESS_VALIDATION_MESSAGE,
                               "Business Validation Error: The discount line needs an amount or "
                               "a percent.", "DiscountLineDetail")
        account = self._named_ref("Account", detail.get("DiscountAccountRef"),
                                  "DiscountAccountRef")
        detail["DiscountAccountRef"] = account or self._account_ref(DISCOUNT_ACCOUNT)
        detail.setdefault("PercentBased", False)
        line["Amount"] = amount
        line["DiscountLineDetail"] = detail
        return amount

    def _sales_tax(self, raw: Entity, taxable: Decimal, discount: Decimal,
                   subtotal: Decimal) -> Decimal:
        detail = raw.get("TxnTaxDetail")
        if not self._pref("TaxPrefs", "UsingSalesTax"):
            raw.pop("TxnTaxDetail", None)
            return ZERO
        if not isinstance(detail, dict):
            raw["TxnTaxDetail"] = {"TotalTax": ZERO}
            return ZERO
        detail = dict(detail)
        code = self._resolve("TaxCode", detail.get("TxnTaxCodeRef"), "TxnTaxCodeRef")
        if "TotalTax" in detail:
            tax = _amount(detail["TotalTax"], "TotalTax")
            detail.pop("TaxLine", None)
        elif code is not None:
            base = taxable
            if raw.get("ApplyTaxAfterDiscount") and subtotal:
                base = money(taxable - discount * taxable / subtotal)
            tax_lines = []
            tax = ZERO
            for rate_detail in code.get("SalesTaxRateList", {}).get("TaxRateDetail", []):
                rate = self.store.get("TaxRate", ref_id(rate_detail.get("TaxRateRef")))
                if rate is None:
                    continue
                percent = Decimal(rate["RateValue"])
                line_tax = money(base * percent / 100)
                tax += line_tax
                tax_lines.append({"Amount": line_tax, "DetailType": "TaxLineDetail",
                                  "TaxLineDetail": {
                                      "TaxRateRef": {"value": rate["Id"]}, "PercentBased": True,
                                      "TaxPercent": percent, "NetAmountTaxable": base}})
            detail["TaxLine"] = tax_lines
        else:
            tax = ZERO
        if code is not None:
            detail["TxnTaxCodeRef"] = {"value": code["Id"], "name": code["Name"]}
        detail["TotalTax"] = tax
        raw["TxnTaxDetail"] = detail
        return tax

    def _applied_payments(self, invoice_id: str, *, excluding: str | None = None) -> Decimal:
        applied = ZERO
        invoice = self.store.get("Invoice", invoice_id)
        for link in (invoice or {}).get("LinkedTxn", []):
            if link.get("TxnType") != "Payment" or link.get("TxnId") == excluding:
                continue
            payment = self.store.get("Payment", link["TxnId"])
            applied += _applied_to(payment, "Invoice", invoice_id) if payment else ZERO
        return applied

    def _invoice_balance(self, raw: Entity, current: Entity | None) -> None:
        paid = self._applied_payments(raw["Id"]) if current is not None else ZERO
        if raw["TotalAmt"] < paid:
            raise faults.business_validation(
                f"The invoice total {raw['TotalAmt']} is less than the payments already applied "
                f"to it ({paid}).", "TotalAmt")
        raw["Balance"] = raw["HomeBalance"] = raw["TotalAmt"] - paid
        if "DueDate" not in raw:
            term = self.store.get("Term", ref_id(raw.get("SalesTermRef")) or "")
            due_days = int(term.get("DueDays", 0)) if term else 0
            raw["DueDate"] = (date.fromisoformat(raw["TxnDate"])
                              + timedelta(days=due_days)).isoformat()
        links = raw.get("LinkedTxn", [])
        estimates = [t for t in links if t.get("TxnType") == "Estimate"]
        if len(estimates) > 1:
            raise faults.business_validation("Only one Estimate can be linked to an Invoice.",
                                             "LinkedTxn")
        kept = [t for t in links if t.get("TxnType") != "Estimate"]
        for link in estimates:
            estimate = self.store.get("Estimate", str(link.get("TxnId", "")))
            if estimate is None:
                raise faults.not_found("LinkedTxn")
            already = any(t.get("TxnId") == raw["Id"] for t in estimate.get("LinkedTxn", []))
            if estimate.get("TxnStatus") not in ESTIMATE_OPEN_STATUSES and not already:
                continue  # closed or rejected estimates are ignored silently
            if ref_id(estimate.get("CustomerRef")) != ref_id(raw.get("CustomerRef")):
                raise faults.business_validation(
                    "The linked Estimate belongs to a different customer.", "LinkedTxn")
            kept.append({"TxnId": estimate["Id"], "TxnType": "Estimate"})
        raw["LinkedTxn"] = kept

    def _build_purchase_order(self, raw: Entity, current: Entity | None,
                              allow_duplicate: bool) -> Entity:
        self._transaction_header("PurchaseOrder", raw, current, allow_duplicate)
        raw["VendorRef"] = self._named_ref("Vendor", raw.get("VendorRef"), "VendorRef",
                                           required=True)
        ap_ref = self._named_ref("Account", raw.get("APAccountRef"), "APAccountRef")
        raw["APAccountRef"] = ap_ref or self._account_ref(AP_ACCOUNT)
        lines = raw.get("Line")
        if not lines:
            raise faults.required_missing("Line")
        total = ZERO
        built_lines = []
        for number, line in enumerate(lines, start=1):
            line = dict(line)
            kind = line.get("DetailType")
            if kind not in ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail"):
                if not kind:
                    raise faults.required_missing("Line.DetailType")
                raise faults.invalid_value("Line.DetailType", kind)
            if "Amount" not in line:
                raise faults.required_missing("Line.Amount")
            amount = _amount(line["Amount"], "Line.Amount")
            detail = dict(line.get(kind) or {})
            if kind == "ItemBasedExpenseLineDetail":
                self._check_line_amount(amount, detail)
                detail["ItemRef"] = self._named_ref("Item", detail.get("ItemRef"), "ItemRef",
                                                    required=True)
                detail.setdefault("BillableStatus", "NotBillable")
            else:
                detail["AccountRef"] = self._named_ref("Account", detail.get("AccountRef"),
                                                       "AccountRef", required=True)
            line.update(Id=str(number), LineNum=number, Amount=amount, **{kind: detail})
            total += amount
            built_lines.append(line)
        raw["Line"] = built_lines
        raw["TotalAmt"] = raw["HomeTotalAmt"] = total
        raw.setdefault("POStatus", "Open")
        raw.setdefault("EmailStatus", "NotSet")
        raw["LinkedTxn"] = current.get("LinkedTxn", []) if current else []
        return raw

    def _build_payment(self, raw: Entity, current: Entity | None) -> Entity:
        self._transaction_header("Payment", raw, current, True)
        customer = self._named_ref("Customer", raw.get("CustomerRef"), "CustomerRef",
                                   required=True)
        assert customer is not None
        raw["CustomerRef"] = customer
        if "TotalAmt" not in raw:
            raise faults.required_missing("TotalAmt")
        total = _amount(raw["TotalAmt"], "TotalAmt")
        if total < 0:
            raise faults.invalid_value("TotalAmt", raw["TotalAmt"])
        deposit = self._named_ref("Account", raw.get("DepositToAccountRef"),
                                  "DepositToAccountRef")
        raw["DepositToAccountRef"] = deposit or self._account_ref(UNDEPOSITED_FUNDS_ACCOUNT)
        to_invoices, from_credits = ZERO, ZERO
        built_lines = []
        for line in raw.get("Line", []):
            if "Amount" not in line:
                raise faults.required_missing("Line.Amount")
            amount = _amount(line["Amount"], "Line.Amount")
            links = line.get("LinkedTxn") or []
            if len(links) != 1:
                raise faults.required_missing("Line.LinkedTxn")
            link = links[0]
            txn_type, txn_id = link.get("TxnType"), str(link.get("TxnId", ""))
            if txn_type not in ("Invoice", "CreditMemo"):
                raise faults.invalid_value("LinkedTxn.TxnType", txn_type)
            target = self.store.get(txn_type, txn_id)
            if target is None:
                raise faults.not_found("LinkedTxn")
            if ref_id(target.get("CustomerRef")) != customer["value"]:
                raise faults.business_validation(
                    f"{txn_type} {txn_id} belongs to a different customer.", "LinkedTxn")
            open_balance = Decimal(target.get("Balance", ZERO)) + (
                _applied_to(current, txn_type, txn_id) if current else ZERO)
            if amount > open_balance:
                raise faults.business_validation(
                    f"The payment amount {amount} applied to {txn_type} {txn_id} is more than "
                    f"its open balance {money(open_balance)}.", "Line.Amount")
            if txn_type == "Invoice":
                to_invoices += amount
            else:
                from_credits += amount
            built_lines.append({"Amount": amount,
                                "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]})
        if to_invoices > total + from_credits:
            raise faults.business_validation(
                f"The amounts applied ({to_invoices}) are more than the payment total "
                f"({total}).", "TotalAmt")
        raw["Line"] = built_lines
        raw["TotalAmt"] = total
        raw["UnappliedAmt"] = total + from_credits - to_invoices
        raw.setdefault("ProcessPayment", False)
        return raw

    # --- effects on other documents -------------------------------------------------------

    def _after_write(self, entity: str, built: Entity, current: Entity | None) -> None:
        if entity == "Payment":
            if current is not None:
                self._unapply_payment(current)
            self._apply_payment(built)
        elif entity == "Invoice":
            self._link_estimates(built, current)
        self._remember_doc_number(entity, built, current)

    def _apply_payment(self, payment: Entity) -> None:
        for line in payment.get("Line", []):
            link = line["LinkedTxn"][0]
            target_type, target_id = link["TxnType"], link["TxnId"]
            target = self.store.get(target_type, target_id)
            assert target is not None
            changed = copy.deepcopy(target)
            changed["Balance"] = Decimal(changed["Balance"]) - line["Amount"]
            if target_type == "Invoice":
                changed["HomeBalance"] = changed["Balance"]
            else:
                changed["RemainingCredit"] = changed["Balance"]
            links = changed.setdefault("LinkedTxn", [])
            if not any(t.get("TxnId") == payment["Id"] and t.get("TxnType") == "Payment"
                       for t in links):
                links.append({"TxnId": payment["Id"], "TxnType": "Payment"})
            self._touch(target_type, changed, target)

    def _unapply_payment(self, payment: Entity) -> None:
        for line in payment.get("Line", []):
            link = line["LinkedTxn"][0]
            target = self.store.get(link["TxnType"], link["TxnId"])
            if target is None:
                continue
            changed = copy.deepcopy(target)
            changed["Balance"] = Decimal(changed["Balance"]) + Decimal(line["Amount"])
            changed["HomeBalance" if link["TxnType"] == "Invoice" else "RemainingCredit"] = \
                changed["Balance"]
            changed["LinkedTxn"] = [t for t in changed.get("LinkedTxn", [])
                                    if not (t.get("TxnType") == "Payment"
                                            and t.get("TxnId") == payment["Id"])]
            self._touch(link["TxnType"], changed, target)

    def _link_estimates(self, invoice: Entity, current: Entity | None) -> None:
        before = {t.get("TxnId") for t in (current or {}).get("LinkedTxn", [])
                  if t.get("TxnType") == "Estimate"}
        after = {t["TxnId"] for t in invoice.get("LinkedTxn", []) if t["TxnType"] == "Estimate"}
        for estimate_id in after - before:
            estimate = self.store.get("Estimate", estimate_id)
            assert estimate is not None
            changed = copy.deepcopy(estimate)
            changed["TxnStatus"] = "Closed"
            changed.setdefault("LinkedTxn", []).append(
                {"TxnId": invoice["Id"], "TxnType": "Invoice"})
            self._touch("Estimate", changed, estimate)
        for estimate_id in before - after:
            self._reopen_estimate(estimate_id, invoice["Id"])

    def _reopen_estimate(self, estimate_id: str, invoice_id: str) -> None:
        estimate = self.store.get("Estimate", estimate_id)
        if estimate is None:
            return
        changed = copy.deepcopy(estimate)
        changed["LinkedTxn"] = [t for t in changed.get("LinkedTxn", [])
                                if t.get("TxnId") != invoice_id]
        changed["TxnStatus"] = "Pending"
        self._touch("Estimate", changed, estimate)

    def _before_removal(self, entity: str, current: Entity, *, deleting: bool) -> None:
        """Undo what a transaction did to others before it is deleted or voided."""
        if entity == "Payment":
            self._unapply_payment(current)
        elif entity in ("Invoice", "CreditMemo"):
            for link in current.get("LinkedTxn", []):
                if link.get("TxnType") != "Payment":
                    continue
                if deleting:
                    raise faults.business_validation(
                        f"Payment {link['TxnId']} is applied to this transaction; delete or "
                        f"unapply the payment first.")
                self._detach_from_payment(link["TxnId"], entity, current["Id"])
            for link in current.get("LinkedTxn", []):
                if link.get("TxnType") == "Estimate":
                    self._reopen_estimate(link["TxnId"], current["Id"])

    def _detach_from_payment(self, payment_id: str, entity: str, txn_id: str) -> None:
        payment = self.store.get("Payment", payment_id)
        if payment is None:
            return
        changed = copy.deepcopy(payment)
        kept = [line for line in changed["Line"]
                if not (line["LinkedTxn"][0]["TxnType"] == entity
                        and line["LinkedTxn"][0]["TxnId"] == txn_id)]
        released = sum((Decimal(line["Amount"]) for line in changed["Line"]
                        if line not in kept), ZERO)
        changed["Line"] = kept
        sign = 1 if entity == "Invoice" else -1
        changed["UnappliedAmt"] = Decimal(changed["UnappliedAmt"]) + sign * released
        self._touch("Payment", changed, payment)


BUSINESS_VALIDATION_MESSAGE = faults.BUSINESS_VALIDATION


def _applied_to(payment: Mapping[str, Any] | None, txn_type: str, txn_id: str) -> Decimal:
    if payment is None:
        return ZERO
    return sum((Decimal(line["Amount"]) for line in payment.get("Line", [])
                if line["LinkedTxn"][0]["TxnType"] == txn_type
                and line["LinkedTxn"][0]["TxnId"] == txn_id), ZERO)
