"""Name lists: customers, vendors, employees, items, accounts and the smaller lists."""

from __future__ import annotations

from connex_desktop.core.money import ZERO
from connex_desktop.core.quickbooks_rules import (
    DISPLAY_NAME_MAX_CHARS,
    EMAIL_FORMAT,
    EMAIL_MAX_CHARS,
    NAME_MAX_CHARS,
    PERSON_NAME_MAX_CHARS,
    POSTAL_CODE_MAX_CHARS,
)
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.currencies import CurrencyRules, currency_ref
from connex_desktop.sandbox.records import (
    NAME_FIELD,
    PEOPLE,
    Entity,
    parse_date,
    parse_number,
)

NAME_FIELD_MAX_CHARS = {"DisplayName": DISPLAY_NAME_MAX_CHARS, "Name": NAME_MAX_CHARS,
                        "Sku": NAME_MAX_CHARS}
ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset",
    "Other Asset": "Asset", "Accounts Receivable": "Asset", "Equity": "Equity",
    "Expense": "Expense", "Other Expense": "Expense", "Cost of Goods Sold": "Expense",
    "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Long Term Liability": "Liability", "Other Current Liability": "Liability",
    "Income": "Revenue", "Other Income": "Revenue",
}
ITEM_TYPES = ("Inventory", "NonInventory", "Service", "Category")


class ListRules(CurrencyRules):
    """Validation and defaults for name-list entities; names are unique where QuickBooks says."""

    def _build_name_list(self, entity: str, raw: Entity, current: Entity | None) -> Entity:
        raw.setdefault("Active", True)
        if entity in PEOPLE:
            self._person(entity, raw, current)
        elif entity == "Item":
            self._item(raw)
        elif entity == "Account":
            self._account(raw)
        name_field = NAME_FIELD[entity]
        name = raw.get(name_field)
        if not isinstance(name, str) or not name.strip():
            raise faults.required_missing(name_field)
        raw[name_field] = name = name.strip()
        for field, limit in NAME_FIELD_MAX_CHARS.items():
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

    def _person(self, entity: str, raw: Entity, current: Entity | None) -> None:
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
        _check_person_fields(raw)
        if entity != "Employee":
            raw["Balance"] = raw.get("Balance", ZERO)
            self._party_currency(raw, current)
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
                raw[key] = parse_number(raw[key], key)
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
            raw["QtyOnHand"] = parse_number(raw["QtyOnHand"], "QtyOnHand")
            parse_date(raw["InvStartDate"], "InvStartDate")
        else:
            raw["TrackQtyOnHand"] = False
        raw.setdefault("Taxable", False)
        raw.setdefault("SubItem", False)

    def _account(self, raw: Entity) -> None:
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
        raw.setdefault("CurrencyRef", currency_ref(self._home_currency()))


def _check_person_fields(raw: Entity) -> None:
    """Name parts, email and postal codes within QuickBooks' limits, the email well formed."""
    for field, limit in PERSON_NAME_MAX_CHARS.items():
        value = raw.get(field)
        if isinstance(value, str) and len(value) > limit:
            raise faults.string_too_long(field, limit, len(value))
    address = (raw.get("PrimaryEmailAddr") or {}).get("Address")
    if isinstance(address, str) and address:
        if len(address) > EMAIL_MAX_CHARS:
            raise faults.string_too_long("PrimaryEmailAddr.Address", EMAIL_MAX_CHARS,
                                         len(address))
        if not EMAIL_FORMAT.fullmatch(address):
            raise faults.fault("2210", "Invalid Email Address format",
                               f"Invalid Email Address format: {address}",
                               "PrimaryEmailAddr.Address")
    for key in ("BillAddr", "ShipAddr"):
        postal_code = (raw.get(key) or {}).get("PostalCode")
        if isinstance(postal_code, str) and len(postal_code) > POSTAL_CODE_MAX_CHARS:
            raise faults.string_too_long(f"{key}.PostalCode", POSTAL_CODE_MAX_CHARS,
                                         len(postal_code))
