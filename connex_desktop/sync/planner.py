"""Turns one order into the QuickBooks documents its connection books: bodies, numbers, totals."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from connex_desktop.core.connection import (
    Connection,
    CustomerPolicy,
    MissingItemPolicy,
    TaxPolicy,
)
from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import (
    CLOSED_PAYMENT_STATUSES,
    CLOSED_STATUSES,
    Address,
    Order,
    OrderLine,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.model import Payment as OrderPayment
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import ZERO, MoneyError, money
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.customer_fields import (
    DISPLAY_NAME_MAX_CHARS,
    address_fields,
    currency_of,
    currency_twin,
    email_problem,
    trim_name_parts,
)
from connex_desktop.sync.tax import CompanyTax, SaleTax, TaxedLine, TaxModel

DOC_NUMBER_MAX_CHARS = 21     # QuickBooks Online's limit on DocNumber
NAME_MAX_CHARS = 100          # Item Name and Sku
ITEM_NAME_TRIES = 5           # names a new item tries before it fails: "Name (SKU)", "… (SKU 2)"…
CUSTOMER_SUFFIX = " (customer)"   # for a buyer whose name a vendor or employee has
PAYMENT_REF_MAX_CHARS = 21    # PaymentRefNum
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"
REFUND_ITEM_NAME = "Refunds"   # partial refunds, when the connection names no refund item
QB_ASSIGNS = "(QuickBooks assigns)"

# Document keys in the ledger: one of each per order, and one per payment / vendor.
ESTIMATE = "estimate"
INVOICE = "invoice"
SALES_RECEIPT = "sales_receipt"
SALE_KEYS = (INVOICE, SALES_RECEIPT)



def payment_key(index: int) -> str:
    return f"payment:{index}"


def refund_key(index: int) -> str:
    return f"refund:{index}"


def purchase_order_key(vendor_id: str) -> str:
    return f"po:{vendor_id}"


@dataclass(frozen=True)
class Pending:
    """An id known only once something earlier in the same run exists in QuickBooks.

    Keys: `customer:<key>` and `item:<key>` for entities to create, `doc:<doc_key>` for a
    document of the same order, and `invoice-customer:<qb id>` / `receipt-customer:<qb id>`
    for the customer of an invoice / sales receipt booked in an earlier run.
    """

    key: str


class References(Protocol):
    """The company's lists, looked up in a cache filled by bulk queries."""

    def customer_by_email(self, email: str,
                          currency: str | None = None) -> Mapping[str, Any] | None: ...

    def customer_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def item_by_sku(self, sku: str) -> Mapping[str, Any] | None: ...

    def item_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def vendor(self, vendor_id: str) -> Mapping[str, Any] | None: ...

    def payment_method_by_name(self, name: str) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class CompanySetup:
    """What the engine learned about the company and the connection's mapping before planning.

    Refs are `{"value": id, "name": name}` dicts, resolved once per run from the mapping's names.
    """

    custom_txn_numbers: bool = True
    using_sales_tax: bool = True
    allow_shipping: bool = True        # SalesFormsPrefs.AllowShipping: SHIPPING_ITEM_ID works
    allow_discount: bool = True        # SalesFormsPrefs.AllowDiscount: discount lines work
    home_currency: str = "USD"
    multicurrency: bool = False
    income_account: Mapping[str, str] | None = None       # for items created on the fly
    expense_account: Mapping[str, str] | None = None
    ap_account: Mapping[str, str] | None = None
    tax_code: Mapping[str, str] | None = None             # TxnTaxCodeRef, mapping.tax_code
    discount_account: Mapping[str, str] | None = None
    deposit_account: Mapping[str, str] | None = None
    undeposited_funds: Mapping[str, str] | None = None    # where refunds come from by default
    payment_method: Mapping[str, str] | None = None       # mapping.payment_method
    fallback_item: Mapping[str, Any] | None = None        # mapping.fallback_item
    shipping_item: Mapping[str, Any] | None = None        # mapping.shipping_item
    tax_item: Mapping[str, Any] | None = None             # mapping.tax_item (line-item tax)
    refund_item: Mapping[str, Any] | None = None          # mapping.refund_item
    store_label: str = ""
    # --- tax: the company's country, tax model and sales tax codes (sync/tax.py) ---
    tax: CompanyTax = field(default_factory=CompanyTax)


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows of one document of an order (booked by any connection)."""

    doc_key: str
    kind: str
    state: str            # planned | confirmed | failed | voided
    qb_id: str = ""
    doc_number: str = ""
    total: Decimal = ZERO
    run_id: int | None = None    # the sync run that booked it
    payload: str = ""            # the JSON body sent

    @property
    def exists(self) -> bool:
        """Booked, or possibly booked (planned: the outcome is not known yet)."""
        return self.state in ("planned", "confirmed")

    @property
    def label(self) -> str:
        """How a user finds it in QuickBooks, e.g. "Invoice 1001"."""
        return f"{self.kind} {self.doc_number or self.qb_id}".strip()


@dataclass(frozen=True)
class NewEntity:
    """A customer or item the plan needs that QuickBooks does not have yet."""

    entity: str          # "Customer" | "Item"
    key: str             # the Pending key that stands for its id
    name: str
    body: dict[str, Any]
    other_names: tuple[str, ...] = ()   # to try, in turn, when QuickBooks has the name (6240)

    @property
    def label(self) -> str:
        return f"{self.entity} '{self.name}'"


@dataclass
class PlannedDocument:
    doc_key: str
    kind: DocumentKind
    body: dict[str, Any]
    total: Decimal
    doc_number: str | None          # None: QuickBooks assigns it
    depends_on: tuple[str, ...] = ()  # doc keys of the same order that must exist first

    @property
    def number_label(self) -> str:
        return self.doc_number if self.doc_number is not None else QB_ASSIGNS


@dataclass
class OrderPlan:
    order: Order
    documents: list[PlannedDocument] = field(default_factory=list)
    creates: list[NewEntity] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skip_reason: str = ""


def document_number(order: Order, connection: Connection) -> str | None:
    """The order number with the connection's prefix, or None when QuickBooks numbers it."""
    if connection.use_qb_numbering:
        return None
    number = f"{connection.prefix}{order.number}"
    if len(number) > DOC_NUMBER_MAX_CHARS:
        raise OrderDataError(
            f"the document number '{number}' is {len(number)} characters; QuickBooks allows at "
            f"most {DOC_NUMBER_MAX_CHARS}. Shorten the prefix or choose "
            "'Use QuickBooks numbering'.", order=order.number, field="Order Number")
    return number


def order_marker(order_number: str) -> str:
    """Written into each document's memo so it can be found and recognised as ours."""
    return f"Order {order_number}"


def names_order(memo: str, order_number: str) -> bool:
    """Whether a memo carries this order's marker (so "Order 10" is not found in "Order 1001")."""
    pattern = re.escape(order_marker(order_number)) + r"(?![\w-])"
    return re.search(pattern, memo) is not None


def is_closed(order: Order) -> bool:
    return (order.status.strip().lower() in CLOSED_STATUSES
            or order.payment_status in CLOSED_PAYMENT_STATUSES)


def is_paid_in_full(order: Order) -> bool:
    return order.payment_status is PaymentStatus.PAID or (
        order.total > ZERO and order.amount_paid >= order.total)


def plan_order(order: Order, connection: Connection, refs: References, setup: CompanySetup,
               ledger: Mapping[str, LedgerEntry] | None = None) -> OrderPlan:
    """The documents to book for `order`; raises OrderDataError naming the order and field."""
    return _Planner(order, connection, refs, setup, ledger or {}).plan()


def money_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


class _Planner:
    def __init__(self, order: Order, connection: Connection, refs: References,
                 setup: CompanySetup, ledger: Mapping[str, LedgerEntry]) -> None:
        self.order = order
        self.connection = connection
        self.mode = connection.mode
        self.mapping = connection.mapping
        self.refs = refs
        self.setup = setup
        self.ledger = ledger
        self.result = OrderPlan(order)
        self._created: dict[str, NewEntity] = {}

    # -- the documents ------------------------------------------------------------------

    def plan(self) -> OrderPlan:
        self._check_amounts()
        order = self.order
        existing_sale = next((self.ledger[key] for key in SALE_KEYS
                              if key in self.ledger and self.ledger[key].exists), None)
        if existing_sale is not None:
            return self._plan_later_payment(existing_sale)
        if is_closed(order):
            return self._skip(f"the order is {order.status or order.payment_status.value} "
                              "and was never booked, so there is nothing to book")
        if self.mode is TransactionMode.SALES_RECEIPTS and not is_paid_in_full(order):
            return self._skip(
                "it is not paid in full; a sales receipt records a sale paid at checkout, so "
                "unpaid orders belong to an invoices connection")
        self._check_order_adds_up()
        number = document_number(order, self.connection)
        estimate = self.ledger.get(ESTIMATE)
        estimate_exists = estimate is not None and estimate.exists
        if estimate is not None and estimate_exists:
            self._note_change_after_booking(estimate)
        sale_body = self._sale_body(number)
        total = self._checked_total(sale_body, "the document", order.total, "the order's total",
                                    "Total")
        if self.mode.books_estimate and not estimate_exists:
            body = dict(sale_body, TxnStatus="Pending")
            self._add(ESTIMATE, DocumentKind.ESTIMATE, body, total, number)
        if self.mode.books_invoice:
            self._plan_invoice(sale_body, total, number, estimate if estimate_exists else None)
        if self.mode is TransactionMode.SALES_RECEIPTS:
            body = dict(sale_body)
            payment = order.payments[-1] if order.payments else None
            body.update(self._payment_fields(payment))
            body["PrivateNote"] += _long_reference(payment)
            self._add(SALES_RECEIPT, DocumentKind.SALES_RECEIPT, body, total, number)
        if self.mode.books_payments:
            self._plan_payments(Pending(f"doc:{INVOICE}"), sale_body["CustomerRef"],
                                booked=ZERO, booked_count=0)
        if self.mode is not TransactionMode.SALES_ORDERS:
            # Refunds made before the order's first sync: no later sync would see them new.
            sale_key = INVOICE if self.mode.books_invoice else SALES_RECEIPT
            self._plan_refunds(sale_key, sale_body["CustomerRef"],
                               f"the {sale_key.replace('_', ' ')}", depends=(sale_key,))
        if self.mode.books_purchase_orders:
            self._plan_purchase_orders()
        if not self.result.documents:
            return self._skip("everything this connection books for it is booked already")
        return self.result

    def _plan_invoice(self, sale_body: dict[str, Any], total: Decimal, number: str | None,
                      estimate: LedgerEntry | None) -> None:
        body = dict(sale_body)
        depends: tuple[str, ...] = ()
        if self.mode.books_estimate:
            estimate_id: str | Pending = estimate.qb_id if estimate else Pending(f"doc:{ESTIMATE}")
            body["LinkedTxn"] = [{"TxnId": estimate_id, "TxnType": "Estimate"}]
            if estimate is None:
                depends = (ESTIMATE,)
        # With QuickBooks numbering the invoice keeps AutoDocNumber: QuickBooks numbers each
        # kind of form in its own sequence, so the estimate's number may be an invoice's already.
        self._add(INVOICE, DocumentKind.INVOICE, body, total, number, depends)

    def _plan_later_payment(self, sale: LedgerEntry) -> OrderPlan:
        """The order was booked before (by this or another connection on the same store)."""
        where = sale.label
        if sale.state != "confirmed":
            return self._skip(f"its {where} is still being confirmed with QuickBooks")
        self._note_change_after_booking(sale)
        if sale.doc_key == INVOICE and not is_closed(self.order):
            self._plan_later_invoice_documents(sale, where)
        if self.mode is not TransactionMode.SALES_ORDERS:
            prefix = "invoice-customer" if sale.doc_key == INVOICE else "receipt-customer"
            self._plan_refunds(sale.doc_key, Pending(f"{prefix}:{sale.qb_id}"), where)
        if self.result.documents:
            return self.result
        return self._skip(f"it is booked already ({where})")

    def _note_change_after_booking(self, booked: LedgerEntry) -> None:
        """The store changed the order's total after its document was booked: say so, and
        what the user can do. The booked document is never changed or booked again."""
        if booked.state != "confirmed" or booked.total == self.order.total:
            return
        # What was sent is the order as it was; QuickBooks' total may differ for reasons of its
        # own (its tax), which the booking run reported. Read only when the totals differ.
        sent = document_total(json.loads(booked.payload)) if booked.payload else booked.total
        if sent == self.order.total:
            return
        run = f"sync run {booked.run_id}" if booked.run_id else "the sync run"
        self.result.notes.append(
            f"It changed after booking: total {money_text(sent)} → "
            f"{money_text(self.order.total)}. {booked.label} in QuickBooks keeps "
            f"{money_text(booked.total)}; the order is not booked again. To book it as it is "
            f"now, undo {run} that booked it (\"Undo this run\" in the sync log, or "
            f"connex-desktop undo {booked.run_id or 'RUN_ID'}) and sync again; or correct "
            f"{booked.label} in QuickBooks by hand.")

    def _plan_later_invoice_documents(self, sale: LedgerEntry, where: str) -> None:
        if self.mode.books_purchase_orders:
            # A run that stopped after sending the invoice may not have sent its purchase
            # orders yet; vendors the ledger already has are left out.
            self._plan_purchase_orders()
        if self.mode.books_payments or self.mode is TransactionMode.SALES_RECEIPTS:
            payments = [entry for key, entry in self.ledger.items()
                        if key.startswith("payment:") and entry.exists]
            booked = sum((entry.total for entry in payments), ZERO)
            customer = Pending(f"invoice-customer:{sale.qb_id}")
            before = len(self.result.documents)
            self._plan_payments(sale.qb_id, customer, booked=booked, booked_count=len(payments))
            if len(self.result.documents) > before:
                self.result.notes.append(f"A later payment onto {where}.")

    def _plan_refunds(self, sale_key: str, customer: Mapping[str, Any] | Pending, where: str,
                      depends: tuple[str, ...] = ()) -> None:
        """A refund receipt per refund of the store's that the ledger has not booked yet, to
        the customer of the sale (`sale_key`'s document)."""
        order = self.order
        booked_refunds = [entry for key, entry in self.ledger.items()
                          if key.startswith("refund:") and entry.exists]
        booked = sum((entry.total for entry in booked_refunds), ZERO)
        due = min(sum((refund.amount for refund in order.refunds), ZERO), order.total) - booked
        if due <= ZERO:
            return
        if sale_key == INVOICE:
            paid = sum((entry.total for key, entry in self.ledger.items()
                        if key.startswith("payment:") and entry.exists), ZERO) + sum(
                (doc.total for doc in self.result.documents
                 if doc.kind is DocumentKind.PAYMENT), ZERO)
            if paid <= ZERO:
                self.result.notes.append(
                    f"No refund booked: {where} has no payment booked, and money back on an "
                    "unpaid invoice is a credit memo, which this app does not book.")
                return
            due = min(due, paid - booked)
            if due <= ZERO:
                return
        # One refund receipt per refund the store recorded; whatever no longer matches them
        # one to one becomes one refund receipt for the difference.
        remaining = list(order.refunds[len(booked_refunds):])
        if not (remaining and sum((refund.amount for refund in remaining), ZERO) == due):
            last = order.refunds[-1]
            remaining = [Refund(due, last.reference, last.refunded_on)]
        method = order.payments[-1].method if order.payments else ""
        for index, refund in enumerate(remaining, start=len(booked_refunds) + 1):
            if refund.amount <= ZERO:
                continue
            payment = OrderPayment(refund.amount, method, refund.reference, refund.refunded_on)
            body: dict[str, Any] = {
                "CustomerRef": customer if isinstance(customer, Pending) else dict(customer),
                "TxnDate": (refund.refunded_on or date.today()).isoformat(),
                "PrivateNote": self._memo(f"refund {index}") + _long_reference(payment),
                "Line": [],
            }
            if refund.amount == order.total:
                self._check_order_adds_up()
                self._sale_lines(body)   # a full refund reverses the sale's income and tax
            else:
                body["Line"].append(self._refund_line(refund.amount))
                untaxed = TaxedLine(body["Line"][-1], refund.amount, taxable=False, rate=ZERO,
                                    item=False, label="the refund")
                self._sale_tax().apply(body, [untaxed], ZERO, ZERO)
            body.update(self._payment_fields(payment))
            body.setdefault("DepositToAccountRef", self._refund_account())
            self._currency(body)
            total = self._checked_total(body, "its refund receipt", refund.amount, "the refund",
                                        "Refund Amount")
            self._add(refund_key(index), DocumentKind.REFUND_RECEIPT, body, total, None,
                      depends)
            self.result.notes.append(f"A refund of {money_text(refund.amount)} on {where}.")

    def _refund_line(self, amount: Decimal) -> dict[str, Any]:
        """The store does not say which lines a partial refund was for: one line, on the
        refund item."""
        item: dict[str, Any] | Pending
        found = self.setup.refund_item or self.refs.item_by_name(REFUND_ITEM_NAME)
        if found is not None:
            item = _ref(found)
        else:
            item = self._new_item(REFUND_ITEM_NAME, "", "Money refunded to customers", ZERO,
                                  taxable=False)
        name = item.get("name", "") if isinstance(item, dict) else REFUND_ITEM_NAME
        self.result.notes.append(
            f"The refund of {money_text(amount)} is booked on the item '{name}': the store does "
            "not say which lines it was for.")
        detail: dict[str, Any] = {"ItemRef": item, "Qty": "1", "UnitPrice": money_text(amount)}
        return {"DetailType": "SalesItemLineDetail", "Amount": money_text(amount),
                "Description": f"Refund on order {self.order.number}",
                "SalesItemLineDetail": detail}

    def _refund_account(self) -> dict[str, Any]:
        account = self.setup.deposit_account or self.setup.undeposited_funds
        if account is None:
            raise OrderDataError(
                "it has a refund to book, but QuickBooks has no Undeposited Funds account to "
                "pay it from; choose a deposit account for this connection.",
                order=self.order.number, field="Refund Amount")
        return dict(account)

    def _plan_payments(self, invoice_id: str | Pending, customer: Mapping[str, Any] | Pending,
                       *, booked: Decimal, booked_count: int) -> None:
        order = self.order
        due = min(order.amount_paid, order.total) - booked
        if due <= ZERO:
            return
        if order.amount_paid > order.total:
            self.result.notes.append(
                f"The order says {money_text(order.amount_paid)} was paid, more than its total "
                f"{money_text(order.total)}; only the total is applied to the invoice.")
        # One Payment per payment the store recorded; whatever no longer matches them one to
        # one (a later payment, a cap) becomes one Payment for the difference.
        remaining = list(order.payments[booked_count:])
        if not (remaining and sum((p.amount for p in remaining), ZERO) == due):
            last = order.payments[-1] if order.payments else None
            remaining = [OrderPayment(due, last.method if last else "",
                                      last.reference if last else "",
                                      last.paid_on if last else None)]
        for index, payment in enumerate(remaining, start=booked_count + 1):
            if payment.amount <= ZERO:
                continue
            customer_ref = customer if isinstance(customer, Pending) else dict(customer)
            body: dict[str, Any] = {
                "CustomerRef": customer_ref,
                "TotalAmt": money_text(payment.amount),
                "TxnDate": (payment.paid_on or order.order_date).isoformat(),
                "PrivateNote": self._memo(f"payment {index}") + _long_reference(payment),
                "Line": [{"Amount": money_text(payment.amount),
                          "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
            }
            body.update(self._payment_fields(payment))
            self._currency(body)
            depends = (INVOICE,) if isinstance(invoice_id, Pending) else ()
            self._add(payment_key(index), DocumentKind.PAYMENT, body, payment.amount, None,
                      depends)

    def _plan_purchase_orders(self) -> None:
        by_vendor: dict[str, list[dict[str, Any]]] = {}
        for number, line in enumerate(self.order.lines, start=1):
            if line.quantity <= 0:
                continue
            item = self._existing_item(line)
            what = f"line {number} ({line.sku or line.name})"
            if item is None:
                self.result.notes.append(
                    f"No purchase order for {what}: the item is new in QuickBooks, so it has no "
                    "default vendor or purchase cost yet.")
                continue
            vendor_ref = item.get("PrefVendorRef") or {}
            cost = money(str(item.get("PurchaseCost") or "0"))
            if not vendor_ref.get("value") or cost <= ZERO:
                missing = " or ".join(
                    part for part, absent in (("a default vendor", not vendor_ref.get("value")),
                                              ("a purchase cost", cost <= ZERO)) if absent)
                self.result.notes.append(
                    f"No purchase order for {what}: the item '{item.get('Name')}' has no "
                    f"{missing} in QuickBooks.")
                continue
            detail = {"ItemRef": _ref(item), "Qty": str(line.quantity),
                      "UnitPrice": money_text(cost),
                      **self._purchase_tax_code(item, line)}
            by_vendor.setdefault(str(vendor_ref["value"]), []).append({
                "DetailType": "ItemBasedExpenseLineDetail",
                "Amount": money_text(money(cost * line.quantity)),
                "Description": line.name or str(item.get("Name", "")),
                "ItemBasedExpenseLineDetail": detail,
            })
        for vendor_id, lines in by_vendor.items():
            key = purchase_order_key(vendor_id)
            if key in self.ledger and self.ledger[key].exists:
                continue
            vendor = self.refs.vendor(vendor_id)
            if vendor is None:
                self.result.notes.append(
                    f"No purchase order for vendor {vendor_id}: it is not an active vendor.")
                continue
            body: dict[str, Any] = {
                "VendorRef": {"value": vendor_id, "name": str(vendor.get("DisplayName", ""))},
                "TxnDate": self.order.order_date.isoformat(),
                "POStatus": "Open",
                "Memo": order_marker(self.order.number),
                "PrivateNote": self._memo("purchase order"),
                "Line": lines,
            }
            if self.setup.ap_account:
                body["APAccountRef"] = dict(self.setup.ap_account)
            if vendor.get("BillAddr"):
                body["VendorAddr"] = dict(vendor["BillAddr"])
            if not self.order.shipping_address.is_empty():
                body["ShipAddr"] = self._address(self.order.shipping_address, "ShipAddr")
            total = sum((money(str(line["Amount"])) for line in lines), ZERO)
            self._add(key, DocumentKind.PURCHASE_ORDER, body, total, None)

    def _purchase_tax_code(self, item: Mapping[str, Any], line: OrderLine) -> dict[str, Any]:
        """A VAT/GST company needs a code on every purchase line: the item's own, else one
        for the sale's rate."""
        if self.setup.tax.model is not TaxModel.VAT:
            return {}
        code = self.setup.tax.for_purchase(line.tax_rate)
        code_ref = item.get("PurchaseTaxCodeRef") or (code.ref if code else None)
        return {"TaxCodeRef": dict(code_ref)} if code_ref else {}

    # -- the sale body (estimate, invoice, sales receipt) -------------------------------

    def _sale_body(self, number: str | None) -> dict[str, Any]:
        order = self.order
        body: dict[str, Any] = {
            "CustomerRef": self._customer(),
            "TxnDate": order.order_date.isoformat(),
            "PrivateNote": self._memo(""),
            "Line": [],
        }
        if number is None:
            body["AutoDocNumber"] = True
        else:
            body["DocNumber"] = number
        email = self._checked_email(order.buyer.email.strip())
        if email:
            body["BillEmail"] = {"Address": email}
        for key, address in (("BillAddr", order.billing_address),
                             ("ShipAddr", order.shipping_address)):
            if not address.is_empty():
                body[key] = self._address(address, key)
        self._currency(body)
        self._sale_lines(body)
        return body

    def _sale_lines(self, body: dict[str, Any]) -> None:
        """The order's lines (items, shipping, discount, tax line) and tax detail, onto body."""
        order = self.order
        lines: list[dict[str, Any]] = body["Line"]
        taxed: list[TaxedLine] = []
        for index, line in enumerate(order.lines, start=1):
            lines.append(self._item_line(index, line))
            taxed.append(TaxedLine(lines[-1], line.gross, line.taxable, line.tax_rate,
                                   line.tax_code, discount=line.discount,
                                   label=f"line {index} ({line.sku or line.name})"))
        line_discounts = sum((line.discount for line in order.lines), ZERO)
        if order.shipping:
            lines.append(self._shipping_line())
            taxed.append(TaxedLine(lines[-1], order.shipping, rate=order.shipping_tax_rate,
                                   item=False, label="shipping"))
        discount = order.discount + line_discounts
        if discount:
            lines.append(self._discount_line(order.discount, line_discounts))
        if order.tax and self.mapping.tax_policy is TaxPolicy.LINE_ITEM:
            lines.append(self._tax_line())
            taxed.append(TaxedLine(lines[-1], order.tax, taxable=False, item=False,
                                   label="the tax line"))
        self._sale_tax().apply(body, taxed, order.tax, order.discount)

    def _sale_tax(self) -> SaleTax:
        return SaleTax(self.order, self.setup.tax, self.setup.using_sales_tax,
                       tax_as_line=self.mapping.tax_policy is TaxPolicy.LINE_ITEM,
                       legacy_code=self.setup.tax_code, overrides=self.mapping.tax_codes)

    def _item_line(self, index: int, line: OrderLine) -> dict[str, Any]:
        detail: dict[str, Any] = {"ItemRef": self._item(line, index),
                                  "Qty": str(line.quantity),
                                  "UnitPrice": str(line.unit_price)}
        # Amount stays quantity × unit price (QuickBooks checks it); line discounts go on the
        # discount line so the document still totals what the order does.
        return {"DetailType": "SalesItemLineDetail", "Amount": money_text(line.gross),
                "Description": line.name or line.sku, "SalesItemLineDetail": detail}

    def _shipping_line(self) -> dict[str, Any]:
        amount = money_text(self.order.shipping)
        item = self.setup.shipping_item
        if item is None and not self.setup.allow_shipping:
            raise OrderDataError(
                f"it charges {amount} shipping, but shipping is turned off in QuickBooks. Turn "
                "on Shipping in QuickBooks (Account and settings, Sales) or choose a shipping "
                "item for this connection.", order=self.order.number, field="Shipping Amount")
        ref = _ref(item) if item else {"value": SHIPPING_ITEM_ID}
        detail: dict[str, Any] = {"ItemRef": ref}
        if item:
            detail.update(Qty="1", UnitPrice=amount)
        return {"DetailType": "SalesItemLineDetail", "Amount": amount, "Description": "Shipping",
                "SalesItemLineDetail": detail}

    def _discount_line(self, order_discount: Decimal, line_discounts: Decimal) -> dict[str, Any]:
        if not self.setup.allow_discount:
            raise OrderDataError(
                f"it has {money_text(order_discount + line_discounts)} of discounts, but "
                "discounts are turned off in QuickBooks. Turn on Discount in QuickBooks "
                "(Account and settings, Sales).", order=self.order.number,
                field="Order Discount" if order_discount else "Line Discount")
        parts = []
        if order_discount:
            parts.append(f"order discount {money_text(order_discount)}")
        if line_discounts:
            parts.append(f"line discounts {money_text(line_discounts)}")
        detail: dict[str, Any] = {"PercentBased": False}
        if self.setup.discount_account:
            detail["DiscountAccountRef"] = dict(self.setup.discount_account)
        return {"DetailType": "DiscountLineDetail",
                "Amount": money_text(order_discount + line_discounts),
                "Description": "Discount: " + ", ".join(parts),
                "DiscountLineDetail": detail}

    def _tax_line(self) -> dict[str, Any]:
        amount = money_text(self.order.tax)
        item: dict[str, Any] | Pending
        if self.setup.tax_item is not None:
            item = _ref(self.setup.tax_item)
        elif self.mapping.missing_items is MissingItemPolicy.CREATE:
            name = _clean_name(self.mapping.tax_item)
            item = self._new_item(name, "", name, self.order.tax, taxable=False)
        else:
            raise OrderDataError(
                f"the connection books tax as a line against the item '{self.mapping.tax_item}'"
                ", which is not in QuickBooks.", order=self.order.number, field="Tax Amount")
        return {"DetailType": "SalesItemLineDetail", "Amount": amount, "Description": "Sales tax",
                "SalesItemLineDetail": {"ItemRef": item, "Qty": "1", "UnitPrice": amount}}

    def _payment_fields(self, payment: OrderPayment | None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        method = self.setup.payment_method
        if method is None and payment is not None and payment.method:
            found = self.refs.payment_method_by_name(payment.method)
            method = _ref(found) if found else None
        if method:
            fields["PaymentMethodRef"] = dict(method)
        if payment is not None and payment.reference:
            fields["PaymentRefNum"] = payment.reference[:PAYMENT_REF_MAX_CHARS]
        if self.setup.deposit_account:
            fields["DepositToAccountRef"] = dict(self.setup.deposit_account)
        return fields

    # -- references ---------------------------------------------------------------------

    def _customer(self) -> dict[str, Any] | Pending:
        """The order's customer: matched by email (and, with multicurrency, by currency, since
        a customer's currency is fixed), else by name; created when QuickBooks has none."""
        buyer = self.order.buyer
        currency = self._customer_currency()
        if self.mapping.customer_policy is CustomerPolicy.PER_BUYER:
            email = buyer.email.strip()
            if email:
                found = self.refs.customer_by_email(email, currency or None)
                if found is None and currency == self.setup.home_currency.upper():
                    found = self.refs.customer_by_email(email, "")   # no currency: home
                if found is not None:
                    return _ref(found, "DisplayName")
            name = _clean_name(buyer.name or buyer.company or email)[:DISPLAY_NAME_MAX_CHARS]
            if name:
                return self._named_customer(name, email)
        return self._named_customer(_clean_name(self.mapping.generic_customer), "")

    def _named_customer(self, name: str, email: str) -> dict[str, Any] | Pending:
        """The customer named `name` in the order's currency; in a foreign currency its twin
        "name (EUR)" first. Else a new customer under the first of those names that is free."""
        currency = self._customer_currency()
        names = [name]
        if currency and currency != self.setup.home_currency.upper():
            names.insert(0, currency_twin(name, currency))
        free = []
        for candidate in names:
            found = self.refs.customer_by_name(candidate)
            if found is None:
                free.append(candidate)
            elif not currency or currency_of(found, self.setup.home_currency) == currency:
                return _ref(found, "DisplayName")
        names = free or names
        return self._new_customer(names[0], email, (*names[1:], names[0] + CUSTOMER_SUFFIX))

    def _customer_currency(self) -> str:
        """The currency the order's customer must have ("" without multicurrency: any)."""
        if not self.setup.multicurrency:
            return ""
        return (self.order.currency.strip() or self.setup.home_currency).upper()

    def _new_customer(self, name: str, email: str, other_names: tuple[str, ...]) -> Pending:
        currency = self._customer_currency()
        key = ":".join(part for part in ("customer", currency, (email or name).lower()) if part)
        if key not in self._created:
            body: dict[str, Any] = {"DisplayName": name}
            buyer = self.order.buyer
            if email:
                if self._checked_email(email):
                    body["PrimaryEmailAddr"] = {"Address": email}
                if buyer.name:
                    body["GivenName"], _, family = buyer.name.partition(" ")
                    if family:
                        body["FamilyName"] = family
                if buyer.company:
                    body["CompanyName"] = buyer.company
                if buyer.phone:
                    body["PrimaryPhone"] = {"FreeFormNumber": buyer.phone}
                for part, address in (("BillAddr", self.order.billing_address),
                                      ("ShipAddr", self.order.shipping_address)):
                    if not address.is_empty():
                        body[part] = self._address(address, part)
                for note in trim_name_parts(body):
                    self._note(note)
            self._currency(body, document=False)
            self._register(NewEntity("Customer", key, name, body, other_names))
        return Pending(key)

    def _existing_item(self, line: OrderLine) -> Mapping[str, Any] | None:
        """The line's item: by SKU, else by name, but never an item that has another SKU."""
        if line.sku and (found := self.refs.item_by_sku(line.sku)) is not None:
            return found
        for name in (line.name, line.sku):
            found = self.refs.item_by_name(_clean_name(name)) if name else None
            if found is not None and not other_sku(found, line.sku):
                return found
        return None

    def _item(self, line: OrderLine, index: int) -> dict[str, Any] | Pending:
        found = self._existing_item(line)
        if found is not None:
            return _ref(found)
        what = f"SKU '{line.sku}'" if line.sku else f"product '{line.name}'"
        policy = self.mapping.missing_items
        if policy is MissingItemPolicy.FALLBACK and self.setup.fallback_item:
            return _ref(self.setup.fallback_item)
        if policy is not MissingItemPolicy.CREATE:
            raise OrderDataError(
                f"line {index}: no QuickBooks item has {what}. Add the item in QuickBooks, or "
                "let the connection create missing items.", order=self.order.number,
                field="SKU" if line.sku else "Product Name")
        return self._new_item(_clean_name(line.name or line.sku), line.sku,
                              line.name or line.sku, line.unit_price, taxable=line.taxable)

    def _new_item(self, name: str, sku: str, description: str, price: Decimal, *,
                  taxable: bool) -> Pending:
        """A non-inventory item to create (never inventory: it would start at zero on hand)."""
        key = f"item:{(sku or name).lower()}"
        if key not in self._created:
            # A name another item has (with another SKU: else it would be this line's) is
            # skipped; QuickBooks may still refuse the first free one, then the next is tried.
            names = [candidate for candidate in item_names(name, sku)
                     if self.refs.item_by_name(candidate) is None] or [name[:NAME_MAX_CHARS]]
            name = names[0]
            body: dict[str, Any] = {"Name": name, "Type": "NonInventory",
                                    "Description": description, "UnitPrice": str(price),
                                    "Taxable": taxable}
            if sku:
                body["Sku"] = sku[:NAME_MAX_CHARS]
            if self.setup.income_account:
                body["IncomeAccountRef"] = dict(self.setup.income_account)
            if self.setup.expense_account:
                body["ExpenseAccountRef"] = dict(self.setup.expense_account)
            self._register(NewEntity("Item", key, name, body, tuple(names[1:])))
        return Pending(key)

    # -- helpers ------------------------------------------------------------------------

    def _register(self, entity: NewEntity) -> None:
        self._created[entity.key] = entity
        self.result.creates.append(entity)

    def _currency(self, body: dict[str, Any], *, document: bool = True) -> None:
        """With multicurrency, the order's currency on a document or new customer, and on a
        foreign document the store's exchange rate (none given: QuickBooks takes its own rate
        for the day). Without it, an order in another currency fails naming both."""
        currency = self.order.currency.strip().upper()
        home = self.setup.home_currency.upper()
        if not self.setup.multicurrency:
            if currency and currency != home:
                raise OrderDataError(
                    f"the order is in {currency} but the QuickBooks company keeps its books only "
                    f"in {home} (multicurrency is off).", order=self.order.number,
                    field="Currency")
            return
        body["CurrencyRef"] = {"value": currency or home}
        rate = self.order.exchange_rate
        if document and currency and currency != home and rate is not None:
            body["ExchangeRate"] = str(rate)

    def _note(self, note: str) -> None:
        if note and note not in self.result.notes:
            self.result.notes.append(note)

    def _checked_email(self, email: str) -> str:
        """The buyer's email when QuickBooks would take it, else "" (and a note)."""
        problem = email_problem(email)
        self._note(problem)
        return "" if problem else email

    def _address(self, address: Address, key: str) -> dict[str, str]:
        what = "shipping" if key == "ShipAddr" else "billing"
        fields, note = address_fields(address, what)
        self._note(note)
        return fields

    def _memo(self, what: str) -> str:
        store = f" from {self.setup.store_label}" if self.setup.store_label else ""
        suffix = f" ({what})" if what else ""
        return f"{order_marker(self.order.number)}{store}{suffix}. Booked by Connex Desktop."

    def _check_order_adds_up(self) -> None:
        order = self.order
        if order.computed_total != order.total:
            raise OrderDataError(
                f"its lines, discounts, shipping and tax add up to "
                f"{money_text(order.computed_total)} but its total is {money_text(order.total)}; "
                "nothing was booked.", order=order.number, field="Total")
        if order.total < ZERO:
            raise OrderDataError(f"its total {money_text(order.total)} is negative.",
                                 order=order.number, field="Total")
        if not order.lines:
            raise OrderDataError("it has no product lines.", order=order.number, field="SKU")

    def _check_amounts(self) -> None:
        """Each amount, and each line's quantity × unit price, must be computable to the cent
        (a Decimal holds 28 digits): an absurd one fails the order here, naming its field."""
        order = self.order
        amounts = [("Total", order.total), ("Shipping Amount", order.shipping),
                   ("Order Discount", order.discount), ("Tax Amount", order.tax),
                   *(("Amount Paid", payment.amount) for payment in order.payments),
                   *(("Refund Amount", refund.amount) for refund in order.refunds),
                   *(("Line Discount", line.discount) for line in order.lines)]
        for index, line in enumerate(order.lines, start=1):
            try:
                money(line.quantity * line.unit_price)
            except (MoneyError, ArithmeticError):
                raise OrderDataError(
                    f"line {index} ({line.sku or line.name}): its Quantity {line.quantity} × "
                    f"Unit Price {line.unit_price} is too large to compute to the cent; nothing "
                    "was booked.", order=order.number, field="Quantity") from None
        for field_name, amount in amounts:
            try:
                money(amount)
            except MoneyError:
                raise OrderDataError(
                    f"its {field_name} {amount} is too large to compute to the cent; nothing "
                    "was booked.", order=order.number, field=field_name) from None

    def _checked_total(self, body: dict[str, Any], document: str, wanted: Decimal,
                       wanted_label: str, field: str) -> Decimal:
        """The body's total, which must be the store's amount: else nothing is booked."""
        total = document_total(body)
        if total != wanted:
            raise OrderDataError(
                f"{document} would total {money_text(total)} but {wanted_label} is "
                f"{money_text(wanted)}; nothing was booked.", order=self.order.number,
                field=field)
        return total

    def _add(self, doc_key: str, kind: DocumentKind, body: dict[str, Any], total: Decimal,
             number: str | None, depends: tuple[str, ...] = ()) -> None:
        self.result.documents.append(PlannedDocument(doc_key, kind, body, total, number, depends))

    def _skip(self, reason: str) -> OrderPlan:
        """Book nothing, saying why; the notes say what else the user should know (a change
        after booking, a refund that was not booked)."""
        self.result.documents.clear()
        self.result.creates.clear()
        self.result.skip_reason = " ".join([reason.rstrip(".") + ".", *self.result.notes]
                                           ).rstrip(".")
        return self.result


def document_total(body: Mapping[str, Any]) -> Decimal:
    """What a sales document adds up to, computed from the body we send (as QuickBooks does)."""
    total = ZERO
    for line in body.get("Line", []):
        amount = money(str(line.get("Amount", "0")))
        if line.get("DetailType") == "DiscountLineDetail":
            total -= amount
        elif line.get("DetailType") == "SalesItemLineDetail":
            total += amount
    tax = (body.get("TxnTaxDetail") or {}).get("TotalTax")
    if tax is not None and body.get("GlobalTaxCalculation") != "TaxInclusive":
        total += money(str(tax))
    return total


def item_names(name: str, sku: str) -> list[str]:
    """Names for a new item, best first, each within QuickBooks' 100 characters: the product's
    own, then cut to make room for its SKU, so two SKUs whose names agree on their first 100
    characters never share one."""
    names = [name] if len(name) <= NAME_MAX_CHARS else []
    sku = _clean_name(sku)
    if sku:
        for tag in [f"({sku})", *(f"({sku} {n})" for n in range(2, ITEM_NAME_TRIES + 1))]:
            room = max(NAME_MAX_CHARS - len(tag) - 1, 0)
            names.append(f"{name[:room].rstrip()} {tag}".strip()[:NAME_MAX_CHARS])
    return list(dict.fromkeys(names)) or [name[:NAME_MAX_CHARS]]


def other_sku(item: Mapping[str, Any], sku: str) -> bool:
    """Whether a QuickBooks item belongs to another SKU than `sku` (an item without one, or a
    line without one, belongs to none)."""
    theirs = str(item.get("Sku") or "").strip().casefold()
    ours = sku[:NAME_MAX_CHARS].strip().casefold()   # QuickBooks keeps 100 characters of it
    return bool(theirs and ours and theirs != ours)


def _long_reference(payment: OrderPayment | None) -> str:
    """The whole gateway reference for the memo when PaymentRefNum can hold only its start."""
    if payment is None or len(payment.reference) <= PAYMENT_REF_MAX_CHARS:
        return ""
    return f" Payment reference {payment.reference}."


def _ref(entity: Mapping[str, Any], name_field: str = "Name") -> dict[str, Any]:
    if "value" in entity:  # already a ref
        return dict(entity)
    return {"value": str(entity["Id"]), "name": str(entity.get(name_field, ""))}


def _clean_name(name: str) -> str:
    # QuickBooks uses ':' for sub-customers and sub-items, so a name cannot contain one.
    return " ".join(name.replace(":", "-").split())
