"""The fake company file's records: names, items and transactions, and their …Ret elements."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from connex_desktop.core.money import ZERO, money
from connex_desktop.qbdesktop.qbxml import amount_text, datetime_text, price_text

# Before any stamp of the company file's clock (records are stamped when added).
NEVER = datetime(2000, 1, 1, tzinfo=UTC)
INVALID_REFERENCE = 3140
# "Feature not enabled" (reference §2.4, §4): multicurrency off, as for a sales order in a file
# without them; that a ClassRef in a file not tracking classes gets this code is not confirmed
# on a real file.
FEATURE_NOT_ENABLED = 3250


class StatusError(Exception):
    """A request QuickBooks refuses, with the status code and words it answers."""

    def __init__(self, code: int, message: str, severity: str = "Error") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.severity = severity


@dataclass
class NameRecord:
    """A customer or vendor (names are unique across both lists, as in QuickBooks)."""

    list_id: str
    kind: str             # "Customer" | "Vendor"
    name: str
    email: str = ""
    company: str = ""
    active: bool = True
    currency: OtherListRecord | None = None    # with multicurrency on: fixed once it is used
    time_created: datetime = NEVER
    time_modified: datetime = NEVER     # by the company file's clock, at each change

    def ret(self) -> ET.Element:
        ret = _list_ret(self)
        _text(ret, "IsActive", _bool(self.active))
        _text(ret, "CompanyName", self.company)
        _text(ret, "Email", self.email)
        _ref(ret, "CurrencyRef", self.currency)
        return ret


@dataclass
class OtherListRecord:
    """An account, payment method, sales tax code or currency: a name and a few fields of its
    own."""

    list_id: str
    kind: str               # "Account" | "PaymentMethod" | "SalesTaxCode" | "Class" | "Currency"
    name: str
    fields: dict[str, str] = field(default_factory=dict)   # in the …Ret's element order
    currency: OtherListRecord | None = None    # A/R, A/P and bank accounts, multicurrency on
    active: bool = True
    time_created: datetime = NEVER
    time_modified: datetime = NEVER
    # A UK or Canadian file's sales tax codes: the sales tax items of their rates, on sales
    # (ItemSalesTaxRef) and purchases (ItemPurchaseTaxRef).
    tax_items: dict[str, ItemRecord] = field(default_factory=dict)

    @property
    def sales_rate(self) -> Decimal:
        """A sales tax code's percent on sales (none: it names no sales tax item)."""
        item = self.tax_items.get("ItemSalesTaxRef")
        return item.tax_rate if item is not None else ZERO

    def ret(self) -> ET.Element:
        ret = _list_ret(self, full_name=self.kind in ("Account", "Class"))   # (they nest)
        _text(ret, "IsActive", _bool(self.active))
        for tag, value in self.fields.items():
            _text(ret, tag, value)
        for tag in ("ItemPurchaseTaxRef", "ItemSalesTaxRef"):
            _ref(ret, tag, self.tax_items.get(tag))
        _ref(ret, "CurrencyRef", self.currency)
        return ret


@dataclass
class ItemRecord:
    list_id: str
    name: str
    kind: str = "ItemNonInventory"     # or ItemService, ItemOtherCharge, ItemDiscount…
    part_number: str = ""
    price: Decimal = ZERO
    purchase_cost: Decimal = ZERO
    vendor: NameRecord | None = None
    on_hand: Decimal = ZERO              # inventory items: what invoices and receipts take
    active: bool = True
    time_created: datetime = NEVER
    time_modified: datetime = NEVER
    tax_rate: Decimal = ZERO             # sales tax items (ItemSalesTax): their percent

    @property
    def tracks_stock(self) -> bool:
        return self.kind in ("ItemInventory", "ItemInventoryAssembly")

    def ret(self) -> ET.Element:
        ret = _list_ret(self)
        _text(ret, "IsActive", _bool(self.active))
        if self.kind == "ItemSalesTax":
            _text(ret, "TaxRate", f"{self.tax_rate:f}")
            return ret
        _text(ret, "ManufacturerPartNumber", self.part_number)
        prices = ET.SubElement(ret, "SalesAndPurchase" if self.vendor else "SalesOrPurchase")
        _text(prices, "SalesPrice" if self.vendor else "Price", price_text(self.price))
        if self.vendor is not None:
            _text(prices, "PurchaseCost", price_text(self.purchase_cost))
            _ref(prices, "PrefVendorRef", self.vendor)
        if self.tracks_stock:
            _text(ret, "QuantityOnHand", price_text(self.on_hand))
        return ret


ListRecord = NameRecord | ItemRecord | OtherListRecord


@dataclass
class Line:
    line_id: str
    item: ItemRecord
    desc: str
    quantity: Decimal | None
    rate: Decimal | None
    amount: Decimal
    linked_from: str = ""    # the sales order line this invoice line was brought in from
    class_record: OtherListRecord | None = None    # its own ClassRef, else the header's
    tax_code: OtherListRecord | None = None        # its SalesTaxCodeRef
    tax: Decimal = ZERO      # the VAT/GST QuickBooks works out for it (UK, Canadian files)


@dataclass
class Txn:
    """A transaction: sales order, invoice, sales receipt, payment, purchase order, credit memo
    or refund of a credit."""

    kind: str                 # "SalesOrder", "Invoice", "SalesReceipt", "ReceivePayment", …
    txn_id: str
    number: int               # TxnNumber
    entity: NameRecord
    txn_date: str
    ref_number: str
    memo: str = ""
    external_guid: str = ""
    lines: list[Line] = field(default_factory=list)
    total: Decimal = ZERO
    tax_included: bool | None = None    # UK, Canadian files' sales: IsTaxIncluded
    balance: Decimal = ZERO             # invoices: what is still owed; credit memos: credit left
    fully_invoiced: bool = False        # sales orders: closed by the invoices linking them
    manually_closed: bool = False       # purchase orders closed by hand (IsManuallyClosed)
    edit_sequence: int = 1              # changed by each Mod; a Mod must name the current one
    expected_date: str = ""             # purchase orders: when the goods are expected
    applied: dict[str, Decimal] = field(default_factory=dict)   # payments, refunds: what → amount
    linked: dict[str, str] = field(default_factory=dict)    # TxnID → TxnType, either way
    class_record: OtherListRecord | None = None              # the header's ClassRef
    # With multicurrency on: the customer's or vendor's currency, home units a unit of it, and
    # the A/R account (invoices, payments, credit memos and their refunds) in that currency.
    currency: OtherListRecord | None = None
    exchange_rate: Decimal = Decimal(1)
    ar_account: OtherListRecord | None = None

    @property
    def sales_tax(self) -> Decimal:
        return sum((line.tax for line in self.lines), ZERO)

    @property
    def home_total(self) -> Decimal:
        """The total in the home currency, as QuickBooks works it out: to the cent."""
        return money(self.total * self.exchange_rate)

    def ret(self, *, with_lines: bool = True) -> ET.Element:
        ret = ET.Element(f"{self.kind}Ret")
        _text(ret, "TxnID", self.txn_id)
        _text(ret, "EditSequence", str(self.edit_sequence))
        _text(ret, "TxnNumber", str(self.number))
        _ref(ret, "VendorRef" if self.kind == "PurchaseOrder" else "CustomerRef", self.entity)
        _ref(ret, "ClassRef", self.class_record)
        _ref(ret, "ARAccountRef", self.ar_account)
        _text(ret, "TxnDate", self.txn_date)
        _text(ret, "RefNumber", self.ref_number)
        if self.tax_included is not None:
            _text(ret, "Subtotal", amount_text(sum((line.amount for line in self.lines), ZERO)))
            ET.SubElement(ret, "SalesTaxTotal").text = amount_text(self.sales_tax)
        _text(ret, "TotalAmount", amount_text(self.total))
        if self.kind == "Invoice":
            _text(ret, "BalanceRemaining", amount_text(self.balance))
            _text(ret, "IsPaid", _bool(self.balance == ZERO))
        if self.kind == "CreditMemo":
            _text(ret, "CreditRemaining", amount_text(self.balance))
        if self.kind == "SalesOrder":
            _text(ret, "IsFullyInvoiced", _bool(self.fully_invoiced))
        if self.kind == "PurchaseOrder":
            _text(ret, "ExpectedDate", self.expected_date)
            _text(ret, "IsManuallyClosed", _bool(self.manually_closed))
        self._currency(ret)
        _text(ret, "Memo", self.memo)
        if self.tax_included is not None:
            _text(ret, "IsTaxIncluded", _bool(self.tax_included))
        _text(ret, "ExternalGUID", self.external_guid)
        for txn_id, txn_type in self.linked.items():
            link = ET.SubElement(ret, "LinkedTxn")
            _text(link, "TxnID", txn_id)
            _text(link, "TxnType", txn_type)
        refund = self.kind == "ARRefundCreditCard"
        for applied_to, amount in self.applied.items():
            applied = ET.SubElement(ret, "RefundAppliedToTxnRet" if refund else "AppliedToTxnRet")
            _text(applied, "TxnID", applied_to)
            _text(applied, "RefundAmount" if refund else "Amount", amount_text(amount))
        for line in self.lines if with_lines else ():
            element = ET.SubElement(ret, f"{self.kind}LineRet")
            _text(element, "TxnLineID", line.line_id)
            _ref(element, "ItemRef", line.item)
            _text(element, "Desc", line.desc)
            _text(element, "Quantity", price_text(line.quantity) if line.quantity else "")
            _text(element, "Rate", price_text(line.rate) if line.rate is not None else "")
            _ref(element, "ClassRef", line.class_record)
            _text(element, "Amount", amount_text(line.amount))
            _ref(element, "SalesTaxCodeRef", line.tax_code)
        return ret

    def _currency(self, ret: ET.Element) -> None:
        """CurrencyRef, ExchangeRate and what is owed (or the total) in the home currency."""
        if self.currency is None:
            return
        _ref(ret, "CurrencyRef", self.currency)
        _text(ret, "ExchangeRate", f"{self.exchange_rate:f}")
        tag = {"Invoice": "BalanceRemainingInHomeCurrency",
               "CreditMemo": "CreditRemainingInHomeCurrency"}.get(self.kind)
        if tag is None:
            _text(ret, "TotalAmountInHomeCurrency", amount_text(self.home_total))
        else:
            _text(ret, tag, amount_text(money(self.balance * self.exchange_rate)))


@dataclass(frozen=True)
class DeletedListRecord:
    """A list record deleted in QuickBooks, as ListDeletedQuery reports it."""

    del_type: str           # its ListDelType: Customer, ItemNonInventory…
    list_id: str
    full_name: str
    time_created: datetime
    time_deleted: datetime

    def ret(self) -> ET.Element:
        ret = ET.Element("ListDeletedRet")
        for tag, value in (("ListDelType", self.del_type), ("ListID", self.list_id),
                           ("TimeCreated", datetime_text(self.time_created)),
                           ("TimeDeleted", datetime_text(self.time_deleted)),
                           ("FullName", self.full_name)):
            _text(ret, tag, value)
        return ret


def _list_ret(record: ListRecord, *, full_name: bool = True) -> ET.Element:
    """The start every list record's …Ret shares (top-level records: name = full name)."""
    ret = ET.Element(f"{record.kind}Ret")
    _text(ret, "ListID", record.list_id)
    _text(ret, "TimeCreated", datetime_text(record.time_created))
    _text(ret, "TimeModified", datetime_text(record.time_modified))
    _text(ret, "EditSequence", "1")
    _text(ret, "Name", record.name)
    if full_name:
        _text(ret, "FullName", record.name)
    return ret


def invalid_reference(what: str, words: str, where: str, why: str = "") -> StatusError:
    """QuickBooks' refusal of a reference to a `what` ("Customer", "AR Account"…) it does not
    have, or not there (`why`: its further words)."""
    return StatusError(INVALID_REFERENCE, f'There is an invalid reference to QuickBooks {what} '
                                          f'"{words}" in the {where}.' + why)


def feature_not_enabled(feature: str) -> StatusError:
    """QuickBooks' refusal of a `feature` (class tracking, multicurrency) the file has off."""
    return StatusError(FEATURE_NOT_ENABLED, "This feature is not enabled or not available in "
                                            f"this version of QuickBooks: {feature}.")


def ref_words(ref: ET.Element | None) -> str:
    """What a reference names, as QuickBooks quotes it in a refusal."""
    if ref is None:
        return ""
    return ref.findtext("FullName") or ref.findtext("ListID") or ""


def _text(parent: ET.Element, tag: str, value: str | None) -> None:
    if value:
        ET.SubElement(parent, tag).text = value


def _ref(parent: ET.Element, tag: str, record: ListRecord | None) -> None:
    if record is None:
        return
    element = ET.SubElement(parent, tag)
    _text(element, "ListID", record.list_id)
    _text(element, "FullName", record.name)


def _bool(value: bool) -> str:
    return "true" if value else "false"
