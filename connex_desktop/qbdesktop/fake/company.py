"""The fake company file's lists: customers, vendors and items, looked up as QuickBooks does."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from connex_desktop.core.money import ZERO
from connex_desktop.qbdesktop.fake import currencies
from connex_desktop.qbdesktop.fake.records import (
    DeletedListRecord,
    ItemRecord,
    ListRecord,
    NameRecord,
    OtherListRecord,
    StatusError,
    Txn,
    feature_not_enabled,
    invalid_reference,
    ref_words,
)

ID_EPOCH = 1764979200       # the second part of every ListID/TxnID, as QuickBooks stamps them
NAME_IN_USE = 3100
# ListDeletedQuery reports the deletions of the last 90 days (Conductor's QuickBooks Desktop
# API reference: "from the last 90 days (QuickBooks limit)").
DELETIONS_KEPT = timedelta(days=90)

_Record = TypeVar("_Record", NameRecord, ItemRecord, OtherListRecord)
# What a new US company file starts with (the accounts the app books through, the sales tax
# codes QuickBooks makes when sales tax is turned on) and the usual payment methods.
STARTING_ACCOUNTS = (("Accounts Receivable", "AccountsReceivable", "AccountsReceivable"),
                     ("Undeposited Funds", "OtherCurrentAsset", "UndepositedFunds"),
                     ("Accounts Payable", "AccountsPayable", "AccountsPayable"),
                     ("Sales", "Income", ""), ("Cost of Goods Sold", "CostOfGoodsSold", ""))
STARTING_TAX_CODES = (("Tax", "true"), ("Non", "false"))
# What a UK or Canadian file's VAT/GST codes are (name, description, percent): each names the
# sales tax item of its rate, on sales and purchases alike. The names and rates follow
# Intuit's VAT and GST/HST help; QuickBooks Desktop keeps a code's name to 3 characters.
# (Canadian provincial sales taxes, charged beside GST, are not modelled.)
EDITION_TAX_CODES = {
    "UK": (("S", "Standard rate VAT", "20"), ("R", "Reduced rate VAT", "5"),
           ("Z", "Zero rate VAT", "0"), ("E", "Exempt from VAT", "0"),
           ("O", "Outside the scope of VAT", "0")),
    "CA": (("G", "GST", "5"), ("H", "HST Ontario", "13"), ("Z", "Zero-rated", "0"),
           ("E", "Exempt", "0")),
}
STARTING_PAYMENT_METHODS = ("Cash", "Check", "Visa", "MasterCard", "American Express")


class FakeCompanyFile:
    """What a QuickBooks Desktop company file keeps, as far as this app books into it."""

    def __init__(self, name: str = "Connex Demo Company", *,
                 clock: Callable[[], datetime] | None = None, country: str = "US") -> None:
        self.name = name
        self.country = country      # the edition: US, UK or CA (HostRet Country)
        # QuickBooks' clock (its workstation's, in its time zone): it stamps TimeModified.
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.deleted: list[DeletedListRecord] = []
        self.class_tracking = False    # Preferences: "Use class tracking for transactions"
        self.names: dict[str, NameRecord] = {}
        self.items: dict[str, ItemRecord] = {}
        self.txns: dict[str, Txn] = {}
        self._ids = itertools.count(0x80000001)
        self._txn_numbers = itertools.count(1)
        self._ref_numbers: dict[str, itertools.count[int]] = {}
        self.others: list[OtherListRecord] = []
        self.multicurrency = False
        self.home_currency: OtherListRecord | None = None     # multicurrency on
        for account, account_type, special in STARTING_ACCOUNTS:
            fields = {"FullName": account, "AccountType": account_type}
            if special:
                fields["SpecialAccountType"] = special
            self.add_other("Account", account, fields)
        if country in EDITION_TAX_CODES:
            for code, description, rate in EDITION_TAX_CODES[country]:
                self.add_tax_code(code, description, Decimal(rate))
        else:
            for code, taxable in STARTING_TAX_CODES:
                self.add_other("SalesTaxCode", code, {"IsTaxable": taxable})
        for method in STARTING_PAYMENT_METHODS:
            self.add_other("PaymentMethod", method)

    # -- ids and numbers ---------------------------------------------------------------------

    def new_id(self) -> str:
        return f"{next(self._ids):X}-{ID_EPOCH}"

    def now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def next_txn_number(self) -> int:
        return next(self._txn_numbers)

    def next_ref_number(self, kind: str) -> str:
        """QuickBooks numbers each kind of form in its own sequence."""
        return str(next(self._ref_numbers.setdefault(kind, itertools.count(1))))

    # -- lists -------------------------------------------------------------------------------

    def add_name(self, kind: str, name: str, *, email: str = "", company: str = "",
                 currency: OtherListRecord | None = None) -> NameRecord:
        """A customer or vendor (in the home currency unless said); QuickBooks keeps one name
        once across both lists."""
        if any(record.name.casefold() == name.casefold() for record in self.names.values()):
            raise StatusError(NAME_IN_USE, f'The name "{name}" of the list element is already '
                                           "in use.")
        record = self._stamped(NameRecord(self.new_id(), kind, name, email, company,
                                          currency=currency or self.home_currency))
        self.names[record.list_id] = record
        return record

    def add_item(self, name: str, *, kind: str = "ItemNonInventory", part_number: str = "",
                 price: Decimal = ZERO, vendor: NameRecord | None = None,
                 purchase_cost: Decimal = ZERO, on_hand: Decimal = ZERO) -> ItemRecord:
        if any(item.name.casefold() == name.casefold() for item in self.items.values()):
            raise StatusError(NAME_IN_USE, f'The name "{name}" of the list element is already '
                                           "in use.")
        item = self._stamped(ItemRecord(self.new_id(), name, kind, part_number, price,
                                        purchase_cost, vendor, on_hand))
        self.items[item.list_id] = item
        return item

    def add_other(self, kind: str, name: str,
                  fields: dict[str, str] | None = None) -> OtherListRecord:
        record = self._stamped(OtherListRecord(self.new_id(), kind, name, dict(fields or {})))
        self.others.append(record)
        return record

    def add_tax_code(self, name: str, description: str, rate: Decimal) -> OtherListRecord:
        """A UK or Canadian file's VAT/GST code, and the sales tax item of its rate."""
        item = self.add_item(f"{description} {rate:f}%", kind="ItemSalesTax")
        item.tax_rate = rate
        code = self.add_other("SalesTaxCode", name, {"IsTaxable": "true" if rate else "false",
                                                     "Desc": description})
        code.tax_items = {"ItemPurchaseTaxRef": item, "ItemSalesTaxRef": item}
        return code

    def tax_code(self, ref: ET.Element | None, where: str) -> OtherListRecord | None:
        """The sales tax code a SalesTaxCodeRef names (None: it names none)."""
        if ref is None:
            return None
        found = self._find(ref, self.other("SalesTaxCode"))
        if found is None:
            raise invalid_reference("Sales Tax Code", ref_words(ref), where)
        return found

    def edit(self, record: ListRecord, **changes: Any) -> None:
        """A change made in QuickBooks (a rename, made inactive…): stamped by its clock."""
        for attribute, value in changes.items():
            setattr(record, attribute, value)
        record.time_modified = self.now()

    def delete(self, record: ListRecord) -> None:
        """A list record deleted in QuickBooks (which deletes only records no transaction
        uses), kept among the deletions ListDeletedQuery reports."""
        if any(txn.entity is record or any(line.item is record for line in txn.lines)
               for txn in self.txns.values()):
            raise ValueError(f'QuickBooks does not delete "{record.name}": a transaction uses it.')
        self.names.pop(record.list_id, None)
        self.items.pop(record.list_id, None)
        self.others = [other for other in self.others if other is not record]
        self.deleted.append(DeletedListRecord(record.kind, record.list_id, record.name,
                                              record.time_created, self.now()))

    def deleted_since(self, del_types: set[str], since: datetime | None) -> list[ET.Element]:
        """ListDeletedQuery: the deletions of those types at or after `since`, of the last 90
        days only."""
        start = self.now() - DELETIONS_KEPT
        if since is not None:
            start = max(start, since)
        return [deleted.ret() for deleted in self.deleted
                if deleted.del_type in del_types and deleted.time_deleted >= start]

    def _stamped(self, record: _Record) -> _Record:
        record.time_created = record.time_modified = self.now()
        return record

    def turn_on_multicurrency(self, home: str = "USD") -> None:
        currencies.turn_on(self, home)

    def other(self, kind: str) -> list[OtherListRecord]:
        return [record for record in self.others if record.kind == kind]

    def class_ref(self, ref: ET.Element | None, where: str) -> OtherListRecord | None:
        """The class a ClassRef names (None: it names none); refused where the file does not
        track classes, or has no such class."""
        if ref is None:
            return None
        if not self.class_tracking:
            raise feature_not_enabled("class tracking")
        found = self._find(ref, self.other("Class"))
        if found is None:
            raise invalid_reference("Class", ref_words(ref), where)
        return found

    def preferences_ret(self) -> ET.Element:
        """PreferencesRet: AccountingPreferences (the flags the schema requires, in order), then
        MultiCurrencyPreferences."""
        ret = ET.Element("PreferencesRet")
        accounting = ET.SubElement(ret, "AccountingPreferences")
        for tag, value in (("IsUsingAccountNumbers", False), ("IsRequiringAccounts", True),
                           ("IsUsingClassTracking", self.class_tracking),
                           ("IsUsingAuditTrail", True), ("IsAssigningJournalEntryNumbers", True)):
            ET.SubElement(accounting, tag).text = "true" if value else "false"
        ret.append(currencies.multicurrency_preferences(self))
        return ret

    def customers(self) -> list[NameRecord]:
        return [record for record in self.names.values() if record.kind == "Customer"]

    def vendors(self) -> list[NameRecord]:
        return [record for record in self.names.values() if record.kind == "Vendor"]

    def name_ref(self, ref: ET.Element | None, kind: str, where: str) -> NameRecord:
        """The customer or vendor a CustomerRef/VendorRef names, by ListID else FullName."""
        found = self._find(ref, [record for record in self.names.values() if record.kind == kind])
        if found is None:
            raise invalid_reference(kind, ref_words(ref), where)
        return found

    def item_ref(self, ref: ET.Element | None, where: str) -> ItemRecord:
        found = self._find(ref, list(self.items.values()))
        if found is None:
            raise invalid_reference("Item", ref_words(ref), where)
        return found

    def find_other(self, kind: str, ref: ET.Element | None) -> OtherListRecord | None:
        """The account, currency… a reference names, by ListID else FullName."""
        return self._find(ref, self.other(kind))

    @staticmethod
    def _find(ref: ET.Element | None, records: list[_Record]) -> _Record | None:
        if ref is None:
            return None
        list_id, full_name = ref.findtext("ListID"), ref.findtext("FullName")
        for record in records:
            if list_id is not None:
                if record.list_id == list_id:
                    return record
            elif full_name is not None and record.name.casefold() == full_name.casefold():
                return record
        return None

    def txn(self, txn_id: str, kind: str | None = None) -> Txn:
        found = self.txns.get(txn_id)
        if found is None or (kind is not None and found.kind != kind):
            raise StatusError(3120, f'Object "{txn_id}" specified in the request cannot be '
                                    "found.")
        return found

    # -- list requests -----------------------------------------------------------------------

    def customer_add(self, add: ET.Element) -> ET.Element:
        record = self.add_name("Customer", add.findtext("Name", ""),
                               email=add.findtext("Email", ""),
                               company=add.findtext("CompanyName", ""),
                               currency=currencies.currency_of_new(
                                   self, add.find("CurrencyRef"), "Customer"))
        return record.ret()

    def vendor_add(self, add: ET.Element) -> ET.Element:
        return self.add_name("Vendor", add.findtext("Name", ""),
                             company=add.findtext("CompanyName", ""),
                             currency=currencies.currency_of_new(
                                 self, add.find("CurrencyRef"), "Vendor")).ret()

    def item_other_charge_add(self, add: ET.Element) -> ET.Element:
        return self.add_item(add.findtext("Name", ""), kind="ItemOtherCharge").ret()

    def item_non_inventory_add(self, add: ET.Element) -> ET.Element:
        price = add.findtext("SalesOrPurchase/Price") or "0"
        item = self.add_item(add.findtext("Name", ""),
                             part_number=add.findtext("ManufacturerPartNumber", ""),
                             price=Decimal(price))
        return item.ret()


def reactivate(company: FakeCompanyFile, record: NameRecord | ItemRecord,
               mod: ET.Element) -> ET.Element:
    """CustomerMod / ItemNonInventoryMod with IsActive: refused for a stale EditSequence."""
    if mod.findtext("EditSequence") != "1":
        raise StatusError(3200, "The provided edit sequence is out-of-date.")
    company.edit(record, active=mod.findtext("IsActive", "true") == "true")
    return record.ret()
