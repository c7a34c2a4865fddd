"""The plan of one order while it is drawn up: what it is given, what it has so far, its notes."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import Address, Order
from connex_desktop.core.money import money_text
from connex_desktop.core.plan import (
    NewEntity,
    NewEntityRef,
    OrderPlan,
    PlannedDocument,
    order_marker,
)
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.customer_fields import address_fields, email_problem
from connex_desktop.sync.planner.documents import document_total
from connex_desktop.sync.planner.inputs import CompanySetup, LedgerEntry, References
from connex_desktop.sync.planner.tracking import Tracking, tracking


def currency_fields(currency: str, rate: Decimal | None, setup: CompanySetup, number: str,
                    what: str) -> dict[str, Any]:
    """A document's (or new record's) currency fields for a store's `what` ("order") in
    `currency` at the store's exchange `rate` (None: QuickBooks' own for the day); none without
    multicurrency, where another currency than the home one fails naming both."""
    currency = currency.strip().upper()
    home = setup.home_currency.upper()
    if not setup.multicurrency:
        if currency and currency != home:
            raise OrderDataError(
                f"the {what} is in {currency} but the QuickBooks company keeps its books only "
                f"in {home} (multicurrency is off).", order=number, field="Currency")
        return {}
    fields: dict[str, Any] = {"CurrencyRef": {"value": currency or home}}
    if currency and currency != home and rate is not None:
        fields["ExchangeRate"] = str(rate)
    return fields


class PlanDraft:
    """One order's documents, new entities and notes as the planner's rooms add them, and what
    every room asks of the order: its memo, currency, addresses, email, a total that agrees."""

    def __init__(self, order: Order, connection: Connection, refs: References,
                 setup: CompanySetup, ledger: Mapping[str, LedgerEntry], rule: str = "") -> None:
        self.order = order
        self.connection = connection
        self.mode = connection.mode
        self.mapping = connection.mapping
        self.refs = refs
        self.setup = setup
        self.ledger = ledger
        self.documents: list[PlannedDocument] = []
        self.creates: dict[NewEntityRef, NewEntity] = {}
        self.notes: list[str] = []
        self.rule = rule
        self._tracking: Tracking | None = None

    def plan(self) -> OrderPlan:
        return OrderPlan(self.order, tuple(self.documents), tuple(self.creates.values()),
                         tuple(self.notes), rule=self.rule)

    def skipped(self, reason: str) -> OrderPlan:
        """Book nothing, saying why; the notes say what else the user should know (a change
        after booking, a refund that was not booked)."""
        skip_reason = " ".join([reason.rstrip(".") + ".", *self.notes]).rstrip(".")
        return OrderPlan(self.order, notes=tuple(self.notes), skip_reason=skip_reason,
                         rule=self.rule)

    def add(self, doc_key: str, kind: DocumentKind, body: dict[str, Any], total: Decimal,
            number: str | None, depends: tuple[str, ...] = ()) -> None:
        """A document to book, with the class and location the company tracks."""
        if self._tracking is None:
            self._tracking = tracking(self.mapping, self.setup, self.refs)
            self.note(self._tracking.note)
        body = self._tracking.tag(kind, body)
        self.documents.append(PlannedDocument(doc_key, kind, body, total, number, depends))

    def register(self, entity: NewEntity) -> None:
        self.creates[entity.key] = entity

    def booked(self, prefix: str) -> list[LedgerEntry]:
        """The ledger's documents of one kind (payments, refunds) that exist, in key order."""
        return [entry for key, entry in self.ledger.items()
                if key.startswith(prefix) and entry.exists]

    def note(self, note: str) -> None:
        if note and note not in self.notes:
            self.notes.append(note)

    def memo(self, what: str) -> str:
        store = f" from {self.setup.store_label}" if self.setup.store_label else ""
        suffix = f" ({what})" if what else ""
        return f"{order_marker(self.order.number)}{store}{suffix}. Booked by Connex Desktop."

    def currency(self, body: dict[str, Any], *, document: bool = True) -> None:
        """With multicurrency, the order's currency on a document or new customer, and on a
        foreign document the store's exchange rate (none given: QuickBooks takes its own rate
        for the day). Without it, an order in another currency fails naming both."""
        body.update(currency_fields(self.order.currency, self.order.exchange_rate if document
                                    else None, self.setup, self.order.number, "order"))

    def checked_email(self, email: str) -> str:
        """The buyer's email when QuickBooks would take it, else "" (and a note)."""
        problem = email_problem(email)
        self.note(problem)
        return "" if problem else email

    def address(self, address: Address, key: str) -> dict[str, str]:
        what = "shipping" if key == "ShipAddr" else "billing"
        fields, note = address_fields(address, what)
        self.note(note)
        return fields

    def checked_total(self, body: dict[str, Any], document: str, wanted: Decimal,
                      wanted_label: str, field: str) -> Decimal:
        """The body's total, which must be the store's amount: else nothing is booked."""
        total = document_total(body)
        if total != wanted:
            raise OrderDataError(
                f"{document} would total {money_text(total)} but {wanted_label} is "
                f"{money_text(wanted)}; nothing was booked.", order=self.order.number,
                field=field)
        return total
