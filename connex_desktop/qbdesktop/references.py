"""The planner's References over QuickBooks Desktop's lists, read from list-query answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

from connex_desktop.qbdesktop.records import ITEM_KINDS, list_record
from connex_desktop.qbdesktop.responses import RequestResult


class DesktopReferences:
    """Customers, items, vendors and payment methods as the planner reads them: the ListID is
    the `Id`, the FullName (with its parents, "Tools:Hammer") the name."""

    def __init__(self) -> None:
        self.customers: list[dict[str, Any]] = []
        self.items: list[dict[str, Any]] = []
        self.vendors: dict[str, dict[str, Any]] = {}
        self.payment_methods: list[dict[str, Any]] = []

    @classmethod
    def from_results(cls, results: Iterable[RequestResult]) -> DesktopReferences:
        references = cls()
        for result in results:
            for ret in result.rets:
                references.add(ret)
        return references

    def add(self, ret: ET.Element) -> None:
        kind = ret.tag.removesuffix("Ret")
        record = list_record(ret)
        if kind == "Customer":
            self.customers.append(record)
        elif kind == "Vendor":
            self.vendors[record["Id"]] = record
        elif kind == "PaymentMethod":
            self.payment_methods.append(record)
        elif kind in ITEM_KINDS:
            self.items.append(record)

    def customer_by_email(self, email: str,
                          currency: str | None = None) -> Mapping[str, Any] | None:
        wanted = email.strip().casefold()
        return next((customer for customer in self.customers
                     if customer["PrimaryEmailAddr"]["Address"].casefold() == wanted), None)

    def customer_by_name(self, name: str) -> Mapping[str, Any] | None:
        return _named(self.customers, "DisplayName", name)

    def item_by_sku(self, sku: str) -> Mapping[str, Any] | None:
        wanted = sku.strip().casefold()
        return next((item for item in self.items if item["Sku"].casefold() == wanted), None)

    def item_by_name(self, name: str) -> Mapping[str, Any] | None:
        """By full name, else by the last part of it ("Hammer" finds "Tools:Hammer")."""
        found = _named(self.items, "Name", name)
        if found is None:
            leaves = [item for item in self.items
                      if item["Name"].rpartition(":")[2].casefold() == name.casefold()]
            found = leaves[0] if len(leaves) == 1 else None   # two "Hammer"s: neither
        return found

    def vendor(self, vendor_id: str) -> Mapping[str, Any] | None:
        return self.vendors.get(vendor_id)

    def payment_method_by_name(self, name: str) -> Mapping[str, Any] | None:
        return _named(self.payment_methods, "Name", name)


def _named(records: list[dict[str, Any]], key: str, name: str) -> dict[str, Any] | None:
    wanted = name.strip().casefold()
    return next((record for record in records if record[key].casefold() == wanted), None)
