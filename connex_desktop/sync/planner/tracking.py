"""A class and a location (Department in the API) on each document, where the company tracks
them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connex_desktop.core.connection import QuickBooksMapping
from connex_desktop.core.errors import SetupError
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.planner.documents import as_ref
from connex_desktop.sync.planner.inputs import ClassTracking, CompanySetup, References

# The lines a class goes on when the company tracks one a line (reference §2.4, §2.8, §2.16).
CLASSED_LINES = ("SalesItemLineDetail", "DiscountLineDetail", "ItemBasedExpenseLineDetail")
# A payment is no sales transaction: it has a location (every Transaction has DepartmentRef)
# but no class (Payment has no ClassRef).
UNCLASSED = frozenset({DocumentKind.PAYMENT})
# A purchase order has a class, on it or on its item lines (reference §2.8; python-quickbooks'
# PurchaseOrder has ClassRef), but Intuit documents no location (DepartmentRef) on it.
UNLOCATED = frozenset({DocumentKind.PURCHASE_ORDER})


@dataclass(frozen=True)
class Tracking:
    """The class and location one order's documents carry (None: none)."""

    class_ref: Mapping[str, str] | None = None
    class_per_line: bool = False
    location_ref: Mapping[str, str] | None = None
    note: str = ""    # a class or location chosen that the company does not track

    def tag(self, kind: DocumentKind, body: dict[str, Any]) -> dict[str, Any]:
        """`body` with the class and location where QuickBooks takes them (a new dict: bodies
        may share their lines)."""
        if self.location_ref is not None and kind not in UNLOCATED:
            body = {**body, "DepartmentRef": dict(self.location_ref)}
        if self.class_ref is None or kind in UNCLASSED:
            return body
        if not self.class_per_line:
            return {**body, "ClassRef": dict(self.class_ref)}
        return {**body, "Line": [self._classed(line) for line in body.get("Line", [])]}

    def _classed(self, line: Mapping[str, Any]) -> dict[str, Any]:
        detail = line.get(str(line.get("DetailType")))
        if line.get("DetailType") not in CLASSED_LINES or not isinstance(detail, Mapping):
            return dict(line)
        return {**line, str(line["DetailType"]): {**detail, "ClassRef": dict(self.class_ref or {})}}


def tracking(mapping: QuickBooksMapping, setup: CompanySetup, refs: References,
             rule: str = "") -> Tracking:
    """The mapping's class and location as refs, each only where the company tracks it (one
    it does not is left off, with a note); SetupError names the field (or the `rule` that
    chose it) whose class or location QuickBooks does not have."""
    class_ref = location_ref = None
    untracked = []
    if mapping.class_name.strip():
        if setup.class_tracking is ClassTracking.OFF:
            untracked.append(("class", mapping.class_name, "classes"))
        else:
            class_ref = _named("class", mapping.class_name,
                               refs.class_by_name(mapping.class_name), "class_name", rule)
    if mapping.location_name.strip():
        if not setup.track_locations:
            untracked.append(("location", mapping.location_name, "locations"))
        else:
            location_ref = _named(setup.location_label.lower(), mapping.location_name,
                                  refs.department_by_name(mapping.location_name),
                                  "location_name", rule)
    # Said, not failed: the documents are right without it, but the user chose it.
    note = " ".join(f"Booked without the {kind} '{name}': the QuickBooks company does not "
                    f"track {kinds}." for kind, name, kinds in untracked)
    return Tracking(class_ref, setup.class_tracking is ClassTracking.PER_LINE, location_ref,
                    note)


def _named(kind: str, name: str, record: Mapping[str, Any] | None,
           setting: str, rule: str) -> dict[str, Any]:
    if record is None:
        where, fix = ((f"of the rule '{rule}'", "the rule") if rule
                      else ("chosen for this connection", "the mapping"))
        raise SetupError(f"The {kind} '{name}' {where} is not in QuickBooks (or is inactive); "
                         f"choose another in {fix}.", field="rules" if rule else setting)
    return as_ref(record)
