"""What the planner is given besides the order: the company's lists, its setup, the ledger."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.money import ZERO
from connex_desktop.core.quickbooks_rules import ONLINE_LIMITS, NameLimits
from connex_desktop.core.result import document_label
from connex_desktop.sync.tax import CompanyTax


class References(Protocol):
    """The company's lists, looked up in a cache filled by bulk queries."""

    def customer_by_email(self, email: str,
                          currency: str | None = None) -> Mapping[str, Any] | None: ...

    def customer_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def item_by_sku(self, sku: str) -> Mapping[str, Any] | None: ...

    def item_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def vendor(self, vendor_id: str) -> Mapping[str, Any] | None: ...

    def vendor_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def payment_method_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def class_by_name(self, name: str) -> Mapping[str, Any] | None: ...

    def department_by_name(self, name: str) -> Mapping[str, Any] | None: ...


class ClassTracking(enum.StrEnum):
    """Where the company tracks classes (AccountingInfoPrefs)."""

    OFF = "off"
    PER_TRANSACTION = "transaction"    # ClassTrackingPerTxn: one class a document
    PER_LINE = "line"                  # ClassTrackingPerTxnLine: one class each line


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
    limits: NameLimits = ONLINE_LIMITS    # Desktop's are shorter (DESKTOP_LIMITS)
    # --- classes and locations (Department in the API), tracked as the preferences say ---
    class_tracking: ClassTracking = ClassTracking.OFF
    track_locations: bool = False                         # TrackDepartments
    location_label: str = "Location"                      # DepartmentTerminology
    # --- tax: the company's country, tax model and sales tax codes (sync/tax.py) ---
    tax: CompanyTax = field(default_factory=CompanyTax)
    # Per rule (by name), the refs its actions name in place of the mapping's, e.g.
    # {"Wholesale": {"payment_method": {...}}}.
    by_rule: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def for_rule(self, rule: str) -> CompanySetup:
        """The setup as a rule's orders are booked with it."""
        overrides = self.by_rule.get(rule)
        return dataclasses.replace(self, **overrides) if overrides else self


@dataclass(frozen=True)
class LedgerEntry:
    """What the ledger knows of one document of an order (booked by any connection)."""

    doc_key: str
    kind: str
    state: LedgerState
    qb_id: str = ""
    doc_number: str = ""
    total: Decimal = ZERO
    run_id: int | None = None    # the sync run that booked it
    payload: str = ""            # the JSON body sent

    @property
    def exists(self) -> bool:
        """Booked, or possibly booked (planned: the outcome is not known yet)."""
        return LedgerState(self.state).exists

    def label_in(self, product: QuickBooksProduct) -> str:
        """How a user finds it in `product`, e.g. "Invoice 1001"."""
        return f"{document_label(self.kind, product)} {self.doc_number or self.qb_id}".strip()
