"""The canonical purchase order: what a system that keeps its own purchase orders yields."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connex_desktop.core.model import Address
from connex_desktop.core.money import ZERO, money


class PurchaseOrderState(enum.StrEnum):
    """Where a purchase order stands, whatever the system calls it."""

    DRAFT = "draft"                      # still being written: may change freely
    OPEN = "open"                        # ordered from the vendor, nothing received yet
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"                # all received (or closed as complete)
    CANCELLED = "cancelled"
    DELETED = "deleted"                  # gone from the system: only its id is known


# States after which nothing more is expected: the QuickBooks purchase order closes.
FINAL_STATES = frozenset({PurchaseOrderState.RECEIVED, PurchaseOrderState.CANCELLED,
                          PurchaseOrderState.DELETED})


def revision_of(*parts: object) -> str:
    """A short fingerprint of what a purchase order says, for systems that keep no revision
    (or no modified time) of their own: it changes exactly when one of `parts` does."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class PurchaseOrderLine:
    """One product ordered, at its unit cost without tax."""

    sku: str
    name: str
    quantity: Decimal
    unit_cost: Decimal
    received: Decimal = ZERO
    tax_rate: Decimal | None = None      # a percent, when the system states one

    @property
    def amount(self) -> Decimal:
        return money(self.quantity * self.unit_cost)


def lines_subtotal(lines: Iterable[PurchaseOrderLine]) -> Decimal:
    """What the lines cost together, without tax (a reader checks or sets a total by it)."""
    return sum((line.amount for line in lines), ZERO)


@dataclass(frozen=True)
class PurchaseOrder:
    """A purchase order from a source, in the source's currency, money as Decimal.

    `total` is what the source says the order costs with tax; `computed_total` is what the
    parts add up to. `revision` changes whenever the order does, so each change is booked once.
    """

    source: str
    source_id: str
    number: str
    vendor: str
    order_date: date
    state: PurchaseOrderState
    status: str                          # the system's own word for the state
    currency: str
    lines: tuple[PurchaseOrderLine, ...]
    total: Decimal
    revision: str
    expected_date: date | None = None
    other_costs: Decimal = ZERO          # shipping and other costs without tax
    tax: Decimal = ZERO
    ship_to: Address = field(default_factory=Address)
    memo: str = ""
    updated_at: datetime | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def subtotal(self) -> Decimal:
        return lines_subtotal(self.lines)

    @property
    def computed_total(self) -> Decimal:
        return self.subtotal + self.other_costs + self.tax


def deleted_purchase_order(source: str, source_id: str, deleted_at: datetime) -> PurchaseOrder:
    """A purchase order the system says it deleted: its id is all it can still tell (the sync
    names it as it booked it)."""
    return PurchaseOrder(
        source=source, source_id=source_id, number=f"id {source_id}", vendor="",
        order_date=deleted_at.date(), state=PurchaseOrderState.DELETED,
        status=PurchaseOrderState.DELETED.value, currency="", lines=(), total=ZERO,
        revision=PurchaseOrderState.DELETED.value, updated_at=deleted_at)
