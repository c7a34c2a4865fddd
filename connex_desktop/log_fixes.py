"""The fixes the sync log offers for a run's failures, and what each changes in the connection."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import Fix, Remedy
from connex_desktop.core.result import OrderOutcome
from connex_desktop.storage.repositories import RunOrderRecord, RunRecord

# Each remedy's company list the user picks from: (QuickBooks entity, what it is called).
CHOICE_LISTS = {Remedy.MAP_ITEM: ("Item", "item"), Remedy.MAP_TAX_CODE: ("TaxCode", "tax code")}


@dataclass(frozen=True)
class OfferedFix:
    """A fix for some of a run's failed orders (none: the run itself failed)."""

    fix: Fix
    orders: tuple[str, ...]

    @property
    def needs_choice(self) -> bool:
        """Whether the user picks a name from the company's lists first (an item, a tax code)."""
        return self.fix.remedy in CHOICE_LISTS

    @property
    def label(self) -> str:
        """The button's words."""
        count = len(self.orders)
        these = "this order" if count == 1 else f"these {count} orders"
        subject = self.fix.subject
        match self.fix.remedy:
            case Remedy.USE_QB_NUMBERING:
                return f"Use QuickBooks numbering for {these} and retry"
            case Remedy.MAP_ITEM:
                return f"Map SKU {subject} to an item…"
            case Remedy.MAP_TAX_CODE:
                return f"Choose a tax code for {tax_words(subject)}…"
            case _:
                return "Reconnect to QuickBooks"


def tax_words(subject: str) -> str:
    """A store's tax as the log names it: "the 7 % rate" or "tax 'GST'"."""
    return f"the {subject} % rate" if subject.replace(".", "", 1).isdigit() else f"tax '{subject}'"


def offered_fixes(run: RunRecord | None, orders: Iterable[RunOrderRecord], *,
                  needs_reconnect: bool = False) -> list[OfferedFix]:
    """The fixes for the run's failed orders, each with the orders it retries, in the order
    their first failure was recorded; first Reconnect, when QuickBooks refused the connection's
    tokens (`needs_reconnect`), whatever run is shown."""
    grouped: dict[Fix, list[str]] = {}
    for order in orders if run is not None and not run.dry_run else ():
        if order.outcome is OrderOutcome.FAILED and order.fix is not None:
            grouped.setdefault(order.fix, []).append(order.order_number)
    reconnect = [OfferedFix(Fix(Remedy.RECONNECT), ())] if needs_reconnect else []
    return reconnect + [OfferedFix(fix, tuple(numbers)) for fix, numbers in grouped.items()]


def fixed_connection(connection: Connection, fix: Fix, choice: str = "") -> Connection:
    """The connection as the fix leaves it for good: the SKU or the store's tax mapped to the
    `choice` (a name in the company). QuickBooks numbering is for the retried orders only, and
    a reconnection changes the tokens, not the connection: those leave it as it is."""
    mapping = connection.mapping
    if fix.remedy is Remedy.MAP_ITEM:
        mapping = dataclasses.replace(mapping, item_map={**mapping.item_map,
                                                         fix.subject: choice})
    elif fix.remedy is Remedy.MAP_TAX_CODE:
        mapping = dataclasses.replace(mapping, tax_codes={**mapping.tax_codes,
                                                          fix.subject: choice})
    return dataclasses.replace(connection, mapping=mapping)
