"""What a sync run produced: its status, the documents booked and the orders that failed."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from decimal import Decimal

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.errors import ErrorKind, Fix


class RunStatus(enum.StrEnum):
    SUCCEEDED = "succeeded"   # every order booked or rightly skipped
    PARTIAL = "partial"       # some orders failed; the rest were booked
    FAILED = "failed"         # nothing could be done (setup, authorisation, unreachable)
    CANCELLED = "cancelled"


class RunTrigger(enum.StrEnum):
    """What started a run."""

    MANUAL = "manual"
    SCHEDULE = "schedule"
    CLI = "cli"
    RETRY = "retry"
    DEMO = "demo"


class OrderOutcome(enum.StrEnum):
    """What a run did with one order."""

    BOOKED = "booked"
    SKIPPED = "skipped"
    FAILED = "failed"
    PLANNED = "planned"   # a dry run's: what would have been booked


class DocumentKind(enum.StrEnum):
    """QuickBooks Online entity names, as the API spells them."""

    ESTIMATE = "Estimate"
    INVOICE = "Invoice"
    PAYMENT = "Payment"
    SALES_RECEIPT = "SalesReceipt"
    PURCHASE_ORDER = "PurchaseOrder"
    REFUND_RECEIPT = "RefundReceipt"

    def label_in(self, product: QuickBooksProduct) -> str:
        """What the connection's QuickBooks calls this document: Online's Estimate is "Sales
        order (Estimate)", Desktop's own Sales Order just "Sales order"."""
        return DOCUMENT_LABELS[product][self]

    def a_label_in(self, product: QuickBooksProduct) -> str:
        """The label with its article, for a sentence: "an Invoice", "a Sales receipt"."""
        label = self.label_in(product)
        return f"{'an' if label[0] in 'AEIOU' else 'a'} {label}"


DOCUMENT_LABELS = {
    QuickBooksProduct.ONLINE: {
        DocumentKind.ESTIMATE: "Sales order (Estimate)",
        DocumentKind.INVOICE: "Invoice",
        DocumentKind.PAYMENT: "Payment",
        DocumentKind.SALES_RECEIPT: "Sales receipt",
        DocumentKind.PURCHASE_ORDER: "Purchase order",
        DocumentKind.REFUND_RECEIPT: "Refund receipt",
    },
    # Desktop books a Sales Order, a Receive Payment, and a refund as a credit memo paid back
    # (ARRefundCreditCard): named as its own windows name them.
    QuickBooksProduct.DESKTOP: {
        DocumentKind.ESTIMATE: "Sales order",
        DocumentKind.INVOICE: "Invoice",
        DocumentKind.PAYMENT: "Payment",
        DocumentKind.SALES_RECEIPT: "Sales receipt",
        DocumentKind.PURCHASE_ORDER: "Purchase order",
        DocumentKind.REFUND_RECEIPT: "Credit memo (refunded)",
    },
}


def document_label(kind: str, product: QuickBooksProduct) -> str:
    """A ledger row's kind as `product` calls it; a kind this app does not book, as it is."""
    try:
        return DocumentKind(kind).label_in(product)
    except ValueError:
        return kind


# QuickBooks Online's own page for each kind of document (`…/app/<page>?txnId=<Id>`).
QBO_PAGES = {
    DocumentKind.INVOICE: "invoice",
    DocumentKind.PAYMENT: "recvpayment",
    DocumentKind.SALES_RECEIPT: "salesreceipt",
    DocumentKind.ESTIMATE: "estimate",
    DocumentKind.PURCHASE_ORDER: "purchaseorder",
    DocumentKind.REFUND_RECEIPT: "refundreceipt",
}


@dataclass(frozen=True)
class BookedDocument:
    order: str
    kind: DocumentKind
    qb_id: str
    doc_number: str
    total: Decimal


@dataclass(frozen=True)
class OrderFailure:
    order: str
    message: str
    kind: ErrorKind = ErrorKind.FIX_DATA
    detail: str = ""   # QuickBooks' (or the store's) own words, shown under the message
    fix: Fix | None = None   # what the app can do about it, offered in the sync log


@dataclass(frozen=True)
class QuickBooksUsage:
    """What a run asked of QuickBooks: metered reads (CorePlus: queries, reads, CDC, reports),
    writes (Core: creates, updates, deletes, each operation of a batch) and HTTP requests (a
    batch is one), retries included."""

    reads: int = 0
    writes: int = 0
    requests: int = 0

    def as_json(self) -> dict[str, int]:
        return {"reads": self.reads, "writes": self.writes, "requests": self.requests}


@dataclass
class SyncResult:
    connection: str
    run_id: int | None
    status: RunStatus
    fetched: int = 0
    synced: int = 0
    skipped: int = 0
    failed: int = 0
    documents: list[BookedDocument] = field(default_factory=list)
    errors: list[OrderFailure] = field(default_factory=list)
    message: str = ""   # for a FAILED run: why nothing could be done, in plain words
    dry_run: bool = False
    # Customers and items the run created in QuickBooks (a dry run: would create), e.g.
    # "Customer 'Jane Doe'".
    created: list[str] = field(default_factory=list)
    # For a FAILED run: what the user can do (reconnect, fix the setup, or retry later).
    failure_kind: ErrorKind | None = None
    # Of the failed orders, those whose last attempt before this run had not failed (new, or
    # booked or skipped before): what nobody has been told about yet. Not set for a dry run.
    new_failures: int = 0
    quickbooks: QuickBooksUsage = field(default_factory=QuickBooksUsage)
    # Order number -> the connection's rule that decided it, for the orders a rule decided.
    rules: dict[str, str] = field(default_factory=dict)
