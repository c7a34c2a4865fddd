"""qbXML requests from the planner's documents (QuickBooks Online-shaped bodies), in the
schema's element order and within its field lengths."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.errors import SetupError
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.plan import PlannedDocument
from connex_desktop.core.quickbooks_rules import (
    DESKTOP_CUSTOMER_NAME_MAX_CHARS,
    DESKTOP_ITEM_NAME_MAX_CHARS,
    DESKTOP_REF_NUMBER_MAX_CHARS,
    SHIPPING_ITEM_ID,
)
from connex_desktop.core.result import DocumentKind
from connex_desktop.qbdesktop.qbxml import Builder, external_guid

REF_NUMBER_MAX_CHARS = DESKTOP_REF_NUMBER_MAX_CHARS   # sales orders, invoices, receipts, POs
PAYMENT_REF_NUMBER_MAX_CHARS = 20  # ReceivePayment
MEMO_MAX_CHARS = 4095
CUSTOMER_NAME_MAX_CHARS = DESKTOP_CUSTOMER_NAME_MAX_CHARS
ITEM_NAME_MAX_CHARS = DESKTOP_ITEM_NAME_MAX_CHARS
FULL_NAME_MAX_CHARS = 209          # CustomerRef / ItemRef FullName: five levels of 41
ACCOUNT_NAME_MAX_CHARS = 159
CLASS_NAME_MAX_CHARS = 159         # ClassRef FullName: nested classes
SHORT_NAME_MAX_CHARS = 31          # payment methods, sales tax items
TAX_CODE_NAME_MAX_CHARS = 3        # SalesTaxCodeRef FullName (US, UK and Canadian files)
VENDOR_NAME_MAX_CHARS = 41
CURRENCY_NAME_MAX_CHARS = 64       # CurrencyRef FullName ("British Pound Sterling")

# Per kind of document: the Add request's name and its line element's.
ADDS = {
    DocumentKind.ESTIMATE: ("SalesOrderAdd", "SalesOrderLineAdd"),
    DocumentKind.INVOICE: ("InvoiceAdd", "InvoiceLineAdd"),
    DocumentKind.SALES_RECEIPT: ("SalesReceiptAdd", "SalesReceiptLineAdd"),
    DocumentKind.PAYMENT: ("ReceivePaymentAdd", ""),
    DocumentKind.PURCHASE_ORDER: ("PurchaseOrderAdd", "PurchaseOrderLineAdd"),
    DocumentKind.REFUND_RECEIPT: ("CreditMemoAdd", "CreditMemoLineAdd"),
}
# The Adds that book on an A/R account (ARAccountRef right after CustomerRef).
RECEIVABLE_ADDS = ("InvoiceAdd", "ReceivePaymentAdd", "CreditMemoAdd")
# TxnDelType per kind, for undo.
TXN_TYPES = {
    DocumentKind.ESTIMATE: "SalesOrder",
    DocumentKind.INVOICE: "Invoice",
    DocumentKind.SALES_RECEIPT: "SalesReceipt",
    DocumentKind.PAYMENT: "ReceivePayment",
    DocumentKind.PURCHASE_ORDER: "PurchaseOrder",
    DocumentKind.REFUND_RECEIPT: "CreditMemo",
}
# Transaction queries without IncludeLinkedTxns (qbXML 13.0 schema: TxnQuery's group).
WITHOUT_LINKED_TXNS = ("ReceivePayment", "SalesReceipt")
REFUND_OF_CREDIT = "ARRefundCreditCard"   # Desktop's refund of a customer's credit
# Names the credit memo's TxnID for the refund of it sent in the same message set.
CREDIT_MACRO = "TxnID:Credit"
NEW_LINE = "-1"     # a Mod's TxnLineID for a line to add


@dataclass(frozen=True)
class DesktopItems:
    """The items that carry, in QuickBooks Desktop, what Online books as special lines: Desktop
    has no shipping, discount or tax lines, only lines on items of these names."""

    shipping: str = "Shipping"
    discount: str = "Discount"
    sales_tax: str = "Sales Tax"
    freight: str = "Freight"       # purchase orders' shipping and other costs (other charge)


@dataclass(frozen=True)
class DesktopRequest:
    """One request to send, what QuickBooks will number it, and what the user should know."""

    element: ET.Element
    ref_number: str | None              # None: QuickBooks numbers it
    notes: tuple[str, ...] = field(default_factory=tuple)


def add_request(name: str, request_id: str, **attributes: str) -> tuple[ET.Element, ET.Element]:
    """`<NameRq requestID=…><Name …>`: the request and its Add aggregate."""
    request = ET.Element(f"{name}Rq", requestID=request_id)
    return request, ET.SubElement(request, name, attributes)


def document_request(planned: PlannedDocument, order: str, request_id: str, *,
                     items: DesktopItems = DesktopItems(),
                     external_key: str = "") -> DesktopRequest:
    """The Add request for one planned document whose Pending refs are resolved already;
    `external_key` (the ledger's key of the document) becomes its ExternalGUID."""
    if planned.kind not in ADDS:
        kind = planned.kind.a_label_in(QuickBooksProduct.DESKTOP)
        raise SetupError(f"QuickBooks Desktop does not take {kind} from this app yet.",
                         order=order)
    name, line_tag = ADDS[planned.kind]
    build = Builder(order)
    body = planned.body
    request, add = add_request(name, request_id)
    ref_number = planned.doc_number
    if ref_number is not None and len(ref_number) > REF_NUMBER_MAX_CHARS:
        build.notes.append(
            f"The number {ref_number} is longer than the {REF_NUMBER_MAX_CHARS} characters "
            "QuickBooks Desktop keeps: QuickBooks numbers it, and its memo names the order.")
        ref_number = None
    if planned.kind is DocumentKind.PAYMENT:
        _payment(build, add, body, external_key)
    elif planned.kind is DocumentKind.PURCHASE_ORDER:
        _purchase_order(build, add, body, ref_number, line_tag, external_key, items)
    else:
        _sale(build, add, planned.kind, body, ref_number, line_tag, items, external_key)
    return DesktopRequest(request, ref_number, tuple(build.notes))


def refund_requests(planned: PlannedDocument, order: str, request_id: str, *,
                    items: DesktopItems = DesktopItems(),
                    external_key: str = "") -> list[DesktopRequest]:
    """A refund as QuickBooks Desktop books it (it has no refund receipt): a credit memo for
    the refunded amount, and the refund of that credit paid from the refund's account, applied
    to the credit memo through a macro (both go in one message set)."""
    credit = document_request(planned, order, request_id, items=items,
                              external_key=external_key)
    credit_add = credit.element[0]
    credit_add.set("defMacro", CREDIT_MACRO)
    amount = sum((money(line.findtext("Amount")) for line in credit_add.iter("CreditMemoLineAdd")),
                 ZERO)
    if planned.body.get("GlobalTaxCalculation") == "TaxExcluded":
        # The VAT/GST QuickBooks adds to the credit is refunded with it.
        amount += money((planned.body.get("TxnTaxDetail") or {}).get("TotalTax") or ZERO)
    build = Builder(order)
    body = planned.body
    request, add = add_request(f"{REFUND_OF_CREDIT}Add", f"{request_id}r")
    build.ref(add, "CustomerRef", body.get("CustomerRef"), FULL_NAME_MAX_CHARS, "Customer")
    build.ref(add, "RefundFromAccountRef", body.get("DepositToAccountRef"),
              ACCOUNT_NAME_MAX_CHARS, "Refund account")
    build.ref(add, "ARAccountRef", body.get("ARAccountRef"), ACCOUNT_NAME_MAX_CHARS,
              "A/R account")
    build.text(add, "TxnDate", body.get("TxnDate"), 10, "Refund Date")
    build.ref(add, "PaymentMethodRef", body.get("PaymentMethodRef"), SHORT_NAME_MAX_CHARS,
              "Payment Method")
    build.text(add, "Memo", body.get("PrivateNote"), MEMO_MAX_CHARS, "Memo", cut=True)
    build.rate(add, "ExchangeRate", body.get("ExchangeRate"))
    _external(add, f"{external_key}/refund" if external_key else "")
    applied = ET.SubElement(add, "RefundAppliedToTxnAdd")
    ET.SubElement(applied, "TxnID", useMacro=CREDIT_MACRO)
    build.amount(applied, "RefundAmount", amount)
    return [credit, DesktopRequest(request, None, tuple(build.notes))]


def _head(build: Builder, add: ET.Element, body: Mapping[str, Any]) -> None:
    build.ref(add, "CustomerRef", body.get("CustomerRef"), FULL_NAME_MAX_CHARS, "Customer")
    if add.tag != "ReceivePaymentAdd":     # a payment has no class
        _class(build, add, body)
    if add.tag in RECEIVABLE_ADDS:
        build.ref(add, "ARAccountRef", body.get("ARAccountRef"), ACCOUNT_NAME_MAX_CHARS,
                  "A/R account")
    build.text(add, "TxnDate", body.get("TxnDate"), 10, "Order Date")


def _class(build: Builder, add: ET.Element, body: Mapping[str, Any]) -> None:
    """The form's class: QuickBooks Desktop gives it to each line that names none."""
    build.ref(add, "ClassRef", body.get("ClassRef"), CLASS_NAME_MAX_CHARS, "Class")


def _external(add: ET.Element, key: str) -> None:
    """ExternalGUID: lets a document found by number be told apart from one someone else made."""
    if key:
        ET.SubElement(add, "ExternalGUID").text = external_guid(key)


def _sale(build: Builder, add: ET.Element, kind: DocumentKind, body: Mapping[str, Any],
          ref_number: str | None, line_tag: str, items: DesktopItems,
          external_key: str) -> None:
    """SalesOrderAdd, InvoiceAdd, SalesReceiptAdd: their shared elements in schema order."""
    _head(build, add, body)
    build.text(add, "RefNumber", ref_number, REF_NUMBER_MAX_CHARS, "Order Number")
    build.address(add, "BillAddress", body.get("BillAddr"), "billing address")
    build.address(add, "ShipAddress", body.get("ShipAddr"), "shipping address")
    if kind is DocumentKind.SALES_RECEIPT:
        build.text(add, "CheckNumber", body.get("PaymentRefNum"), 25, "Payment Reference",
                   cut=True)
        build.ref(add, "PaymentMethodRef", body.get("PaymentMethodRef"), SHORT_NAME_MAX_CHARS,
                  "Payment Method")
    build.text(add, "Memo", body.get("PrivateNote"), MEMO_MAX_CHARS, "Memo", cut=True)
    if is_vat(body):     # IsTaxIncluded: not in US files (Intuit's qbxmlops130 notes)
        ET.SubElement(add, "IsTaxIncluded").text = (
            "true" if body["GlobalTaxCalculation"] == "TaxInclusive" else "false")
    if kind is DocumentKind.SALES_RECEIPT:
        build.ref(add, "DepositToAccountRef", body.get("DepositToAccountRef"),
                  ACCOUNT_NAME_MAX_CHARS, "Deposit account")
    build.rate(add, "ExchangeRate", body.get("ExchangeRate"))
    _external(add, external_key)
    linked = [link["TxnId"] for link in body.get("LinkedTxn", [])
              if link.get("TxnType") == "Estimate"]
    if kind is DocumentKind.INVOICE and linked:
        # The whole sales order: QuickBooks copies its lines and closes it, as the invoice
        # form's "create invoice from sales order" does. Lines sent too would count twice.
        for txn_id in linked:
            ET.SubElement(add, "LinkToTxnID").text = str(txn_id)
        return
    _sale_lines(build, add, body, line_tag, items)


def _sale_lines(build: Builder, add: ET.Element, body: Mapping[str, Any], line_tag: str,
                items: DesktopItems) -> None:
    for line in body.get("Line", []):
        element = ET.SubElement(add, line_tag)
        detail = line.get(str(line.get("DetailType")), {})
        if line.get("DetailType") == "DiscountLineDetail":
            _item_line(build, element, {"name": items.discount}, "Discount item", line)
            build.amount(element, "Amount", f"-{line['Amount']}")
        else:
            item = detail.get("ItemRef") or {}
            if item.get("value") == SHIPPING_ITEM_ID:
                item = {"name": items.shipping}
            _item_line(build, element, item, "SKU", line, detail)
            build.amount(element, "Amount", line.get("Amount"))
        if is_vat(body):
            build.ref(element, "SalesTaxCodeRef", detail.get("TaxCodeRef"),
                      TAX_CODE_NAME_MAX_CHARS, "Tax Code")
    tax = (body.get("TxnTaxDetail") or {}).get("TotalTax")
    if not is_vat(body) and money(tax) != ZERO:
        # The store's tax to the cent, as a line: QuickBooks' own sales tax item would work
        # the tax out again, and may round it differently.
        element = ET.SubElement(add, line_tag)
        build.ref(element, "ItemRef", {"name": items.sales_tax}, FULL_NAME_MAX_CHARS,
                  "Sales tax item")
        build.text(element, "Desc", "Sales tax", MEMO_MAX_CHARS, "Description")
        build.amount(element, "Amount", tax)


def is_vat(body: Mapping[str, Any]) -> bool:
    """A sale planned for a UK or Canadian file: each line names its VAT/GST code, and
    QuickBooks works the tax out from them (a US sale's tax is a line of its own)."""
    return "GlobalTaxCalculation" in body


def _payment(build: Builder, add: ET.Element, body: Mapping[str, Any],
             external_key: str) -> None:
    """ReceivePaymentAdd applied to the invoice(s) the planned payment names."""
    _head(build, add, body)
    build.text(add, "RefNumber", body.get("PaymentRefNum"), PAYMENT_REF_NUMBER_MAX_CHARS,
               "Payment Reference", cut=True)
    build.amount(add, "TotalAmount", body.get("TotalAmt"))
    build.rate(add, "ExchangeRate", body.get("ExchangeRate"))
    build.ref(add, "PaymentMethodRef", body.get("PaymentMethodRef"), SHORT_NAME_MAX_CHARS,
              "Payment Method")
    build.text(add, "Memo", body.get("PrivateNote"), MEMO_MAX_CHARS, "Memo", cut=True)
    build.ref(add, "DepositToAccountRef", body.get("DepositToAccountRef"),
              ACCOUNT_NAME_MAX_CHARS, "Deposit account")
    _external(add, external_key)
    for line in body.get("Line", []):
        for link in line.get("LinkedTxn", []):
            applied = ET.SubElement(add, "AppliedToTxnAdd")
            ET.SubElement(applied, "TxnID").text = str(link["TxnId"])
            build.amount(applied, "PaymentAmount", line.get("Amount"))


def _purchase_order(build: Builder, add: ET.Element, body: Mapping[str, Any],
                    ref_number: str | None, line_tag: str, external_key: str,
                    items: DesktopItems) -> None:
    build.ref(add, "VendorRef", body.get("VendorRef"), VENDOR_NAME_MAX_CHARS, "Vendor")
    _class(build, add, body)
    build.text(add, "TxnDate", body.get("TxnDate"), 10, "Order Date")
    build.text(add, "RefNumber", ref_number, REF_NUMBER_MAX_CHARS, "Order Number")
    build.address(add, "VendorAddress", body.get("VendorAddr"), "vendor address")
    build.address(add, "ShipAddress", body.get("ShipAddr"), "shipping address")
    build.text(add, "ExpectedDate", body.get("DueDate"), 10, "Expected Date")
    build.text(add, "Memo", body.get("PrivateNote") or body.get("Memo"), MEMO_MAX_CHARS, "Memo",
               cut=True)
    build.rate(add, "ExchangeRate", body.get("ExchangeRate"))
    _external(add, external_key)
    _purchase_lines(build, add, body, line_tag, items)


def purchase_order_mod(body: Mapping[str, Any], request_id: str, *,
                       items: DesktopItems = DesktopItems(), order: str = "") -> ET.Element:
    """PurchaseOrderMod of a planned change (its body names the Id and, as SyncToken, the
    EditSequence last read): the head as planned, closed by hand when POStatus is Closed, and
    its lines replaced by the body's (each sent as a new line, TxnLineID -1: QuickBooks drops
    the lines a Mod leaves out); a body without lines keeps them as they are."""
    build = Builder(order)
    request, mod = add_request("PurchaseOrderMod", request_id)
    ET.SubElement(mod, "TxnID").text = str(body["Id"])
    ET.SubElement(mod, "EditSequence").text = str(body.get("SyncToken", ""))
    build.ref(mod, "VendorRef", body.get("VendorRef"), VENDOR_NAME_MAX_CHARS, "Vendor")
    _class(build, mod, body)
    build.text(mod, "TxnDate", body.get("TxnDate"), 10, "Order Date")
    build.address(mod, "VendorAddress", body.get("VendorAddr"), "vendor address")
    build.address(mod, "ShipAddress", body.get("ShipAddr"), "shipping address")
    build.text(mod, "ExpectedDate", body.get("DueDate"), 10, "Expected Date")
    if body.get("POStatus"):
        ET.SubElement(mod, "IsManuallyClosed").text = (
            "true" if body["POStatus"] == "Closed" else "false")
    build.text(mod, "Memo", body.get("PrivateNote") or body.get("Memo"), MEMO_MAX_CHARS, "Memo",
               cut=True)
    build.rate(mod, "ExchangeRate", body.get("ExchangeRate"))
    _purchase_lines(build, mod, body, "PurchaseOrderLineMod", items)
    return request


def _purchase_lines(build: Builder, parent: ET.Element, body: Mapping[str, Any],
                    line_tag: str, items: DesktopItems) -> None:
    """Item lines as planned; shipping and other costs (an account line in Online) on the
    freight item, as Desktop's purchase orders take item lines only. A UK or Canadian file's
    lines carry the VAT/GST code planned (a US file's purchase orders take none)."""
    for line in body.get("Line", []):
        element = ET.SubElement(parent, line_tag)
        if line_tag.endswith("Mod"):
            ET.SubElement(element, "TxnLineID").text = NEW_LINE
        detail = line.get(str(line.get("DetailType")), {})
        if line.get("DetailType") == "AccountBasedExpenseLineDetail":
            _item_line(build, element, {"name": items.freight}, "Freight item", line)
        else:
            _item_line(build, element, detail.get("ItemRef"), "SKU", line, detail)
        build.amount(element, "Amount", line.get("Amount"))
        build.ref(element, "SalesTaxCodeRef", detail.get("TaxCodeRef"), TAX_CODE_NAME_MAX_CHARS,
                  "Tax Code")


def _item_line(build: Builder, element: ET.Element, item: Mapping[str, Any] | None,
               item_label: str, line: Mapping[str, Any],
               detail: Mapping[str, Any] | None = None) -> None:
    """A sale's or purchase's line up to its Amount: the item, the description and, for a
    line of an item sold or bought (`detail`), its quantity and rate."""
    build.ref(element, "ItemRef", item, FULL_NAME_MAX_CHARS, item_label)
    build.text(element, "Desc", line.get("Description"), MEMO_MAX_CHARS, "Description",
               cut=True)
    if detail is not None:
        build.price(element, "Quantity", detail.get("Qty"))
        build.price(element, "Rate", detail.get("UnitPrice"))


def cost_account(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The account a purchase order's other costs are booked on, None when it has none."""
    for line in body.get("Line", []):
        detail = line.get("AccountBasedExpenseLineDetail")
        if detail:
            return dict(detail.get("AccountRef") or {})
    return None


def other_charge_request(name: str, account: Mapping[str, Any], request_id: str) -> ET.Element:
    """ItemOtherChargeAdd: the freight item, its purchases booked on `account`."""
    build = Builder("")
    request, add = add_request("ItemOtherChargeAdd", request_id)
    build.text(add, "Name", name, ITEM_NAME_MAX_CHARS, "Freight item")
    sales = ET.SubElement(add, "SalesOrPurchase")
    build.text(sales, "Desc", "Shipping and other costs", MEMO_MAX_CHARS, "Description")
    build.ref(sales, "AccountRef", account, ACCOUNT_NAME_MAX_CHARS, "Cost account")
    return request


def entity_request(entity: str, body: Mapping[str, Any], request_id: str, *,
                   order: str = "") -> DesktopRequest:
    """CustomerAdd, VendorAdd or ItemNonInventoryAdd for a customer, vendor or item the plan
    creates (its Online-shaped body) for `order`."""
    build = Builder(order)
    if entity == "Customer":
        request, add = add_request("CustomerAdd", request_id)
        build.text(add, "Name", body.get("DisplayName"), CUSTOMER_NAME_MAX_CHARS,
                   "Customer Name")
        build.text(add, "CompanyName", body.get("CompanyName"), 41, "Company", cut=True)
        build.text(add, "FirstName", body.get("GivenName"), 25, "first name", cut=True)
        build.text(add, "LastName", body.get("FamilyName"), 25, "last name", cut=True)
        build.address(add, "BillAddress", body.get("BillAddr"), "billing address")
        build.address(add, "ShipAddress", body.get("ShipAddr"), "shipping address")
        build.text(add, "Phone", (body.get("PrimaryPhone") or {}).get("FreeFormNumber"), 21,
                   "Phone", cut=True)
        build.text(add, "Email", (body.get("PrimaryEmailAddr") or {}).get("Address"), 1023,
                   "Email")
    elif entity == "Vendor":
        request, add = add_request("VendorAdd", request_id)
        build.text(add, "Name", body.get("DisplayName"), VENDOR_NAME_MAX_CHARS, "Vendor Name")
        build.text(add, "CompanyName", body.get("CompanyName"), 41, "Company", cut=True)
    else:
        request, add = add_request("ItemNonInventoryAdd", request_id)
        build.text(add, "Name", body.get("Name"), ITEM_NAME_MAX_CHARS, "Product Name")
        build.text(add, "ManufacturerPartNumber", body.get("Sku"), ITEM_NAME_MAX_CHARS, "SKU")
        sales = ET.SubElement(add, "SalesOrPurchase")
        build.text(sales, "Desc", body.get("Description"), MEMO_MAX_CHARS, "Description",
                   cut=True)
        build.price(sales, "Price", body.get("UnitPrice"))
        build.ref(sales, "AccountRef", body.get("IncomeAccountRef"), ACCOUNT_NAME_MAX_CHARS,
                  "Income account")
    if entity != "Item":   # last in CustomerAdd and VendorAdd; Desktop's ref, not a code
        build.ref(add, "CurrencyRef", body.get("CurrencyRef"), CURRENCY_NAME_MAX_CHARS,
                  "Currency")
    return DesktopRequest(request, None, tuple(build.notes))


def reactivate_request(name: str, list_id: str, edit_sequence: str,
                       request_id: str) -> ET.Element:
    """CustomerMod, ItemNonInventoryMod…: make an inactive record active again (its
    EditSequence as last read: QuickBooks refuses a change to a record changed since)."""
    request, mod = add_request(name, request_id)
    for tag, value in (("ListID", list_id), ("EditSequence", edit_sequence),
                       ("IsActive", "true")):
        ET.SubElement(mod, tag).text = value
    return request


def query_request(name: str, request_id: str, *, full_names: tuple[str, ...] = (),
                  ref_number: str = "", txn_ids: tuple[str, ...] = (),
                  entity_ids: tuple[str, ...] = (), max_returned: int = 0,
                  iterator_id: str = "", with_lines: bool = False, active_status: str = "",
                  modified_since: str = "") -> ET.Element:
    """A `<Name>QueryRq` (Customer, Item, Vendor, Account, PaymentMethod, SalesOrder, Invoice,
    …): by full names, transaction ids or RefNumber, else a page of `max_returned` through an
    iterator (`iterator_id` continues one), or a transaction query's customers or vendors
    (`entity_ids`: their ListIDs). A list query's filter takes `active_status` (ActiveOnly,
    InactiveOnly, All) and `modified_since` (FromModifiedDate, QuickBooks' clock)."""
    request = ET.Element(f"{name}QueryRq", requestID=request_id)
    if max_returned:
        request.set("iterator", "Continue" if iterator_id else "Start")
        if iterator_id:
            request.set("iteratorID", iterator_id)
    for txn_id in txn_ids:
        ET.SubElement(request, "TxnID").text = txn_id
    for full_name in full_names:
        ET.SubElement(request, "FullName").text = full_name
    if ref_number:
        ET.SubElement(request, "RefNumber").text = ref_number
    if max_returned:
        ET.SubElement(request, "MaxReturned").text = str(max_returned)
    if active_status:
        ET.SubElement(request, "ActiveStatus").text = active_status
    if modified_since:
        ET.SubElement(request, "FromModifiedDate").text = modified_since
    if entity_ids:
        entity_filter = ET.SubElement(request, "EntityFilter")
        for list_id in entity_ids:
            ET.SubElement(entity_filter, "ListID").text = list_id
    if with_lines:
        ET.SubElement(request, "IncludeLineItems").text = "true"
        if name not in WITHOUT_LINKED_TXNS:
            ET.SubElement(request, "IncludeLinkedTxns").text = "true"
    return request


def list_deleted_query(del_types: tuple[str, ...], deleted_since: str,
                       request_id: str) -> ET.Element:
    """The list records of the ListDelTypes deleted at or after `deleted_since` (QuickBooks'
    clock; it keeps the last 90 days of them)."""
    request = ET.Element("ListDeletedQueryRq", requestID=request_id)
    for del_type in del_types:
        ET.SubElement(request, "ListDelType").text = del_type
    dates = ET.SubElement(request, "DeletedDateRangeFilter")
    ET.SubElement(dates, "FromDeletedDate").text = deleted_since
    return request


def host_query(request_id: str) -> ET.Element:
    """Which QuickBooks, which country, which qbXML versions it takes."""
    return ET.Element("HostQueryRq", requestID=request_id)


def delete_request(txn_type: str, txn_id: str, request_id: str) -> ET.Element:
    """TxnDel for undo: removes one transaction (of TxnDelType `txn_type`) QuickBooks booked."""
    request = ET.Element("TxnDelRq", requestID=request_id)
    ET.SubElement(request, "TxnDelType").text = txn_type
    ET.SubElement(request, "TxnID").text = txn_id
    return request
