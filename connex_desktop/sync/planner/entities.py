"""The customers and items an order's documents name: found in QuickBooks, or planned to create."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.connection import CustomerPolicy, MissingItemPolicy
from connex_desktop.core.errors import Fix, OrderDataError, Remedy
from connex_desktop.core.model import OrderLine
from connex_desktop.core.plan import NewEntity, NewEntityRef
from connex_desktop.core.quickbooks_rules import NAME_MAX_CHARS
from connex_desktop.qbdesktop.qbxml import latin1
from connex_desktop.sync.customer_fields import (
    currency_of,
    currency_twin,
    trim_name_parts,
)
from connex_desktop.sync.planner.documents import as_ref
from connex_desktop.sync.planner.draft import PlanDraft
from connex_desktop.sync.planner.inputs import CompanySetup, References

ITEM_NAME_TRIES = 5           # names a new item tries before it fails: "Name (SKU)", "… (SKU 2)"…
CUSTOMER_SUFFIX = " (customer)"   # for a buyer whose name a vendor or employee has


class Entities:
    """The order's customer and its lines' items, as refs or as holes for new ones."""

    def __init__(self, draft: PlanDraft) -> None:
        self.draft = draft
        self.refs = draft.refs
        self.setup = draft.setup

    def customer(self) -> dict[str, Any] | NewEntityRef:
        """The order's customer: matched by email (and, with multicurrency, by currency, since
        a customer's currency is fixed), else by name; created when QuickBooks has none."""
        buyer = self.draft.order.buyer
        currency = self._customer_currency()
        if self.draft.mapping.customer_policy is CustomerPolicy.PER_BUYER:
            email = buyer.email.strip()
            if email:
                found = self.refs.customer_by_email(email, currency or None)
                if found is None and currency == self.setup.home_currency.upper():
                    found = self.refs.customer_by_email(email, "")   # no currency: home
                if found is not None:
                    return as_ref(found, "DisplayName")
            name = clean_name(buyer.name or buyer.company or email)
            if self.setup.limits.latin1_names and email and not keeps_letters(name):
                name = email
            name = name[:self.setup.limits.customer_name]
            if name:
                return self._named_customer(name, email)
        return self._named_customer(clean_name(self.draft.mapping.generic_customer), "")

    def _named_customer(self, name: str, email: str) -> dict[str, Any] | NewEntityRef:
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
                return as_ref(found, "DisplayName")
        names = free or names
        return self._new_customer(names[0], email, (*names[1:], names[0] + CUSTOMER_SUFFIX))

    def _customer_currency(self) -> str:
        """The currency the order's customer must have ("" without multicurrency: any)."""
        if not self.setup.multicurrency:
            return ""
        return (self.draft.order.currency.strip() or self.setup.home_currency).upper()

    def _new_customer(self, name: str, email: str, other_names: tuple[str, ...]) -> NewEntityRef:
        currency = self._customer_currency()
        ref = NewEntityRef("Customer",
                           ":".join(part for part in (currency, (email or name).lower()) if part))
        if ref not in self.draft.creates:
            body: dict[str, Any] = {"DisplayName": name}
            if email:
                body.update(self._buyer_fields(email))
            self.draft.currency(body, document=False)
            self.draft.register(NewEntity("Customer", ref, name, body, other_names))
        return ref

    def _buyer_fields(self, email: str) -> dict[str, Any]:
        """What a new customer of its own (one per buyer) carries of the buyer."""
        draft = self.draft
        buyer = draft.order.buyer
        body: dict[str, Any] = {}
        if draft.checked_email(email):
            body["PrimaryEmailAddr"] = {"Address": email}
        if buyer.name:
            body["GivenName"], _, family = buyer.name.partition(" ")
            if family:
                body["FamilyName"] = family
        if buyer.company:
            body["CompanyName"] = buyer.company
        if buyer.phone:
            body["PrimaryPhone"] = {"FreeFormNumber": buyer.phone}
        for part, address in (("BillAddr", draft.order.billing_address),
                              ("ShipAddr", draft.order.shipping_address)):
            if not address.is_empty():
                body[part] = draft.address(address, part)
        for note in trim_name_parts(body):
            draft.note(note)
        return body

    def existing_item(self, line: OrderLine) -> Mapping[str, Any] | None:
        """The line's item: the one the SKU is mapped to, else by SKU, else by name, but never
        an item that has another SKU."""
        mapped = self.draft.mapping.item_map.get(line.sku) if line.sku else None
        if mapped and (found := self.refs.item_by_name(mapped)) is not None:
            return found
        return find_item(self.refs, line.sku, line.name)

    def item(self, line: OrderLine, index: int) -> dict[str, Any] | NewEntityRef:
        found = self.existing_item(line)
        if found is not None:
            return as_ref(found)
        fallback = fallback_for_missing_item(self.draft.mapping.missing_items, self.setup,
                                             line.sku, line.name, index, self.draft.order.number)
        if fallback is not None:
            return fallback
        return self.new_item(clean_name(line.name or line.sku), line.sku,
                             line.name or line.sku, line.unit_price, taxable=line.taxable)

    def new_item(self, name: str, sku: str, description: str, price: Decimal, *,
                 taxable: bool) -> NewEntityRef:
        """A non-inventory item to create (never inventory: it would start at zero on hand)."""
        entity = new_item_entity(self.refs, self.setup, name, sku, description, price,
                                  taxable=taxable)
        if entity.key not in self.draft.creates:
            self.draft.register(entity)
        return entity.key


def fallback_for_missing_item(policy: MissingItemPolicy, setup: CompanySetup, sku: str,
                              name: str, index: int, number: str) -> dict[str, Any] | None:
    """What line `index` (of order or purchase order `number`) books a product QuickBooks has
    no item for: the fallback item's ref; None to create one; OrderDataError when the
    connection fails such a line."""
    if policy is MissingItemPolicy.FALLBACK and setup.fallback_item:
        return as_ref(setup.fallback_item)
    if policy is not MissingItemPolicy.CREATE:
        what = f"SKU '{sku}'" if sku else f"product '{name}'"
        raise OrderDataError(
            f"line {index}: no QuickBooks item has {what}. Add the item in QuickBooks, or let "
            "the connection create missing items.", order=number,
            field="SKU" if sku else "Product Name", fix=Fix(Remedy.MAP_ITEM, sku) if sku else None)
    return None


def find_item(refs: References, sku: str, name: str) -> Mapping[str, Any] | None:
    """The item of a product: by SKU, else by name, but never an item that has another SKU."""
    if sku and (found := refs.item_by_sku(sku)) is not None:
        return found
    for candidate in (name, sku):
        found = refs.item_by_name(clean_name(candidate)) if candidate else None
        if found is not None and not other_sku(found, sku):
            return found
    return None


def new_item_entity(refs: References, setup: CompanySetup, name: str, sku: str,
                    description: str, price: Decimal, *, taxable: bool) -> NewEntity:
    """A non-inventory item to create (never inventory: it would start at zero on hand)."""
    # A name another item has (with another SKU: else it would be this product's) is
    # skipped; QuickBooks may still refuse the first free one, then the next is tried.
    limit = setup.limits.item_name
    names = [candidate for candidate in item_names(name, sku, limit)
             if refs.item_by_name(candidate) is None] or [name[:limit]]
    body: dict[str, Any] = {"Name": names[0], "Type": "NonInventory",
                            "Description": description, "UnitPrice": str(price),
                            "Taxable": taxable}
    if sku:
        body["Sku"] = sku[:limit]
    if setup.income_account:
        body["IncomeAccountRef"] = dict(setup.income_account)
    if setup.expense_account:
        body["ExpenseAccountRef"] = dict(setup.expense_account)
    return NewEntity("Item", NewEntityRef("Item", (sku or name).lower()), names[0], body,
                     tuple(names[1:]))


def item_names(name: str, sku: str, max_chars: int = NAME_MAX_CHARS) -> list[str]:
    """Names for a new item, best first, each within QuickBooks' `max_chars` (Online's 100,
    Desktop's 31): the product's own, then cut to make room for its SKU, so two SKUs whose
    names agree on their first characters never share one."""
    names = [name] if len(name) <= max_chars else []
    sku = clean_name(sku)
    if sku:
        for tag in [f"({sku})", *(f"({sku} {n})" for n in range(2, ITEM_NAME_TRIES + 1))]:
            room = max(max_chars - len(tag) - 1, 0)
            names.append(f"{name[:room].rstrip()} {tag}".strip()[:max_chars])
    return list(dict.fromkeys(names)) or [name[:max_chars]]


def other_sku(item: Mapping[str, Any], sku: str) -> bool:
    """Whether a QuickBooks item belongs to another SKU than `sku` (an item without one, or a
    line without one, belongs to none)."""
    theirs = str(item.get("Sku") or "").strip().casefold()
    ours = sku[:NAME_MAX_CHARS].strip().casefold()   # QuickBooks keeps 100 characters of it
    return bool(theirs and ours and theirs != ours)


def keeps_letters(name: str) -> bool:
    """Whether QuickBooks Desktop's Latin-1 keeps every letter of the name (accents may go)."""
    return latin1(name).count("?") == name.count("?")


def clean_name(name: str) -> str:
    # QuickBooks uses ':' for sub-customers and sub-items, so a name cannot contain one.
    return " ".join(name.replace(":", "-").split())
