"""Document numbers: QuickBooks' automatic numbering, custom numbers and duplicates."""

from __future__ import annotations

import re

from connex_desktop.core.quickbooks_rules import DOC_NUMBER_MAX_CHARS
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.records import Entity, Records

FIRST_DOC_NUMBER = "1001"


def _next_doc_number(last: str | None) -> str:
    """The number after `last`, incrementing its trailing digits as QuickBooks does."""
    if not last:
        return FIRST_DOC_NUMBER
    match = re.fullmatch(r"(.*?)(\d+)(\D*)", last)
    if match is None:
        return last + "1"
    prefix, digits, suffix = match.groups()
    return f"{prefix}{str(int(digits) + 1).zfill(len(digits))}{suffix}"


class DocNumberRules(Records):
    """Which number a transaction gets, and which numbers it may not have."""

    def _uses_custom_numbers(self, entity: str) -> bool:
        if entity == "PurchaseOrder":
            return self._other_pref("VendorAndPurchasesPrefs.UseCustomTxnNumbers") == "true"
        return bool(self._pref("SalesFormsPrefs", "CustomTxnNumbers"))

    def _doc_number(self, entity: str, raw: Entity, current: Entity | None,
                    allow_duplicate: bool) -> None:
        sent = raw.get("DocNumber")
        auto = raw.pop("AutoDocNumber", None) is True or sent == "AUTO_GENERATE"
        if auto and sent not in (None, "AUTO_GENERATE"):
            raise faults.business_validation(
                "AutoDocNumber and DocNumber cannot both be given.", "DocNumber")
        if sent == "AUTO_GENERATE":
            sent = None
        if entity == "Payment":
            auto = False  # a payment's number is the customer's reference; never assigned
        if sent is not None:
            sent = str(sent)
            if len(sent) > DOC_NUMBER_MAX_CHARS:
                raise faults.string_too_long("DocNumber", DOC_NUMBER_MAX_CHARS, len(sent))
            if not allow_duplicate:
                self._check_unique_doc_number(entity, sent, raw["Id"])
            raw["DocNumber"] = sent
        elif current is not None and "DocNumber" in current and not auto:
            raw["DocNumber"] = current["DocNumber"]
        elif auto or (entity != "Payment" and not self._uses_custom_numbers(entity)):
            raw["DocNumber"] = self._assign_doc_number(entity)
        else:
            raw.pop("DocNumber", None)

    def _check_unique_doc_number(self, entity: str, number: str, own_id: str) -> None:
        for other in self.store.find(entity, "DocNumber", number):
            if other["Id"] != own_id:
                raise faults.fault(
                    "6140", "Duplicate Document Number Error",
                    f"Duplicate Document Number Error : You must specify a different number. "
                    f"This number has already been used. DocNumber={number} is assigned to "
                    f"TxnType={entity} with TxnId={other['Id']}", "DocNumber")

    def _assign_doc_number(self, entity: str) -> str:
        number = _next_doc_number(self.store.meta(f"last_doc_number:{entity}"))
        if len(number) > DOC_NUMBER_MAX_CHARS:
            number = FIRST_DOC_NUMBER  # a long custom number cannot be continued
        while self.store.find(entity, "DocNumber", number):
            number = _next_doc_number(number)
        return number

    def _remember_doc_number(self, entity: str, built: Entity, current: Entity | None) -> None:
        number = built.get("DocNumber")
        if number and (current is None or current.get("DocNumber") != number):
            self.store.set_meta(f"last_doc_number:{entity}", str(number))
