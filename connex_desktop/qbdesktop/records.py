"""QuickBooks Desktop's …Ret records in the shape the engine reads QuickBooks records in (Online's:
Id, DisplayName, DocNumber, TotalAmt, CustomerRef…), so the planner and the ledger serve both."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from connex_desktop.qbdesktop.requests import REFUND_OF_CREDIT, TXN_TYPES

ITEM_KINDS = ("ItemService", "ItemNonInventory", "ItemInventory", "ItemOtherCharge",
              "ItemDiscount", "ItemSalesTax", "ItemSalesTaxGroup", "ItemInventoryAssembly",
              "ItemGroup", "ItemSubtotal", "ItemPayment")
# The engine's kind of document by Desktop's transaction type.
KINDS = {txn_type: kind.value for kind, txn_type in TXN_TYPES.items()}
# AccountType values whose words differ from Online's beyond the spaces.
ACCOUNT_TYPES = {"CostOfGoodsSold": "Cost of Goods Sold", "NonPosting": "Non-Posting"}

Record = dict[str, Any]


def list_record(ret: ET.Element) -> Record:
    """A customer, vendor, item, account, payment method, sales tax code or class."""
    kind = ret.tag.removesuffix("Ret")
    full_name = ret.findtext("FullName") or ret.findtext("Name", "")
    record: Record = {"Id": ret.findtext("ListID", ""), "SyncToken": ret.findtext("EditSequence",
                                                                                  ""),
                      "Active": ret.findtext("IsActive", "true") != "false",
                      # QuickBooks' clock (its workstation's), as it stamped the change
                      "MetaData": {"LastUpdatedTime": ret.findtext("TimeModified", "")}}
    if kind == "Customer":
        record.update(DisplayName=full_name, CompanyName=ret.findtext("CompanyName", ""),
                      PrimaryEmailAddr={"Address": ret.findtext("Email", "")})
    elif kind == "Vendor":
        record.update(DisplayName=full_name, CompanyName=ret.findtext("CompanyName", ""))
    elif kind in ITEM_KINDS:
        record.update(Name=full_name, FullyQualifiedName=full_name, Type=kind,
                      Sku=ret.findtext("ManufacturerPartNumber", ""),
                      PurchaseCost=ret.findtext(".//PurchaseCost", ""))
        vendor = ret.find(".//PrefVendorRef")
        if vendor is not None:
            record["PrefVendorRef"] = ref_of(vendor)
        if kind == "ItemSalesTax":    # a UK or Canadian file's VAT/GST rate
            record["RateValue"] = ret.findtext("TaxRate", "0")
    elif kind == "Account":
        account_type = ret.findtext("AccountType", "")
        record.update(Name=ret.findtext("Name", ""), FullyQualifiedName=full_name,
                      AccountType=ACCOUNT_TYPES.get(account_type, _words(account_type)),
                      AccountSubType=ret.findtext("SpecialAccountType", ""))
    elif kind == "Class":
        record.update(Name=full_name, FullyQualifiedName=full_name)
    else:   # PaymentMethod, SalesTaxCode
        record.update(Name=full_name, Taxable=ret.findtext("IsTaxable") == "true")
        # A UK or Canadian file's code names the sales tax items of its rates, as Online's
        # names its TaxRates.
        for side, tag in (("Sales", "ItemSalesTaxRef"), ("Purchase", "ItemPurchaseTaxRef")):
            rate = ret.find(tag)
            if rate is not None:
                record[f"{side}TaxRateList"] = {"TaxRateDetail": [{"TaxRateRef": ref_of(rate)}]}
    currency = ret.find("CurrencyRef")   # customers, vendors, accounts: multicurrency on
    if currency is not None:
        record["CurrencyRef"] = ref_of(currency)
    return record


def txn_record(ret: ET.Element) -> Record:
    """A sales order, invoice, sales receipt, payment, purchase order or credit memo."""
    kind = ret.tag.removesuffix("Ret")
    record: Record = {"Id": ret.findtext("TxnID", ""), "SyncToken": ret.findtext("EditSequence",
                                                                                 ""),
                      "DocNumber": ret.findtext("RefNumber", ""),
                      "TxnDate": ret.findtext("TxnDate", ""),
                      "TotalAmt": ret.findtext("TotalAmount", ""),
                      "PrivateNote": ret.findtext("Memo", ""),
                      "ExternalGUID": ret.findtext("ExternalGUID", ""),
                      "LinkedTxn": [{"TxnId": link.findtext("TxnID", ""),
                                     "TxnType": KINDS.get(link.findtext("TxnType", ""), "")}
                                    for link in ret.findall("LinkedTxn")
                                    # a credit memo's refund: the engine's same refund receipt
                                    if link.findtext("TxnType") != REFUND_OF_CREDIT]}
    if kind == "Invoice":
        record["Balance"] = ret.findtext("BalanceRemaining", "")
    if kind == "PurchaseOrder":
        closed = "true" in (ret.findtext("IsManuallyClosed"), ret.findtext("IsFullyReceived"))
        record.update(POStatus="Closed" if closed else "Open",
                      DueDate=ret.findtext("ExpectedDate", ""))
    party = ret.find("VendorRef" if kind == "PurchaseOrder" else "CustomerRef")
    if party is not None:
        record["VendorRef" if kind == "PurchaseOrder" else "CustomerRef"] = ref_of(party)
    return record


def ref_of(element: ET.Element) -> dict[str, str]:
    """A qbXML list reference as the engine's {"value": ListID, "name": FullName}."""
    return {"value": element.findtext("ListID", ""), "name": element.findtext("FullName", "")}


def _words(camel: str) -> str:
    """"OtherCurrentAsset" → "Other Current Asset"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", camel)
