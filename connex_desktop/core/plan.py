"""What a plan is: frozen documents and new entities, typed holes for ids not known yet, and
the memo marker that tells a document booked for an order."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from connex_desktop.core.model import Order
from connex_desktop.core.result import DocumentKind

QB_ASSIGNS = "(QuickBooks assigns)"

# Document keys in the ledger: one of each per order, and one per payment / refund / vendor.
ESTIMATE = "estimate"
INVOICE = "invoice"
SALES_RECEIPT = "sales_receipt"
SALE_KEYS = (INVOICE, SALES_RECEIPT)
PAYMENT_PREFIX = "payment:"
REFUND_PREFIX = "refund:"


def payment_key(index: int) -> str:
    return f"{PAYMENT_PREFIX}{index}"


def refund_key(index: int) -> str:
    return f"{REFUND_PREFIX}{index}"


def purchase_order_key(vendor_id: str) -> str:
    return f"po:{vendor_id}"


def order_marker(order_number: str) -> str:
    """Written into each document's memo so it can be found and recognised as ours."""
    return f"Order {order_number}"


def names_order(memo: str, order_number: str) -> bool:
    """Whether a memo carries this order's marker (so "Order 10" is not found in "Order 1001")."""
    pattern = re.escape(order_marker(order_number)) + r"(?![\w-])"
    return re.search(pattern, memo) is not None


# ---- holes: ids known only once something earlier in the same run exists in QuickBooks ------

@dataclass(frozen=True)
class PlannedDocumentId:
    """The QuickBooks Id of a document planned for the same order (e.g. the invoice a
    payment pays), known once that document is confirmed."""

    doc_key: str

    def __str__(self) -> str:
        return f"its {self.doc_key.replace('_', ' ')}"


@dataclass(frozen=True)
class BookedSaleCustomerRef:
    """The CustomerRef of a sale (invoice or sales receipt) booked in an earlier run: later
    payments and refunds go to the customer it was booked to."""

    sale: DocumentKind
    qb_id: str

    def __str__(self) -> str:
        return f"the customer of the sale booked before (Id {self.qb_id})"


@dataclass(frozen=True)
class NewEntityRef:
    """The ref of a customer or item this run creates; `key` tells one new entity from
    another (an item by SKU or name; a customer by currency and email or name)."""

    entity: str          # "Customer" | "Item"
    key: str

    def __str__(self) -> str:
        return f"the new {self.entity.lower()} '{self.key}'"


Pending = PlannedDocumentId | BookedSaleCustomerRef | NewEntityRef


def frozen(value: Any) -> Any:
    """A read-only deep copy of a document body: mappings as MappingProxyType, lists as tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(frozen(item) for item in value)
    return value


def thawed(value: Any, fill: Callable[[Pending], Any] | None = None) -> Any:
    """A plain, JSON-ready copy of a frozen body; each hole replaced by `fill(hole)` if given."""
    if isinstance(value, Pending):
        return value if fill is None else fill(value)
    if isinstance(value, Mapping):
        return {key: thawed(item, fill) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thawed(item, fill) for item in value]
    return value


# ---- the plan ------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewEntity:
    """A customer or item the plan needs that QuickBooks does not have yet."""

    entity: str          # "Customer" | "Item"
    key: NewEntityRef    # stands for its ref in the documents' bodies
    name: str
    body: Mapping[str, Any]
    other_names: tuple[str, ...] = ()   # to try, in turn, when QuickBooks has the name (6240)

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", frozen(self.body))

    @property
    def label(self) -> str:
        return f"{self.entity} '{self.name}'"


@dataclass(frozen=True)
class PlannedDocument:
    doc_key: str
    kind: DocumentKind
    body: Mapping[str, Any]
    total: Decimal
    doc_number: str | None          # None: QuickBooks assigns it
    depends_on: tuple[str, ...] = ()  # doc keys of the same order that must exist first

    def __post_init__(self) -> None:
        object.__setattr__(self, "body", frozen(self.body))

    @property
    def number_label(self) -> str:
        return self.doc_number if self.doc_number is not None else QB_ASSIGNS


@dataclass(frozen=True)
class OrderPlan:
    order: Order
    documents: tuple[PlannedDocument, ...] = ()
    creates: tuple[NewEntity, ...] = ()
    notes: tuple[str, ...] = ()
    skip_reason: str = ""
    rule: str = ""       # the connection's rule that decided the order ("": its own settings)
