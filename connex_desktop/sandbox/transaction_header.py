"""What every transaction shares: its header (date, number, texts, references) and
line amounts."""

from __future__ import annotations

from decimal import Decimal

from connex_desktop.core.money import ZERO, money
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.currencies import CurrencyRules
from connex_desktop.sandbox.doc_numbers import DocNumberRules
from connex_desktop.sandbox.records import Entity, parse_date, parse_number
from connex_desktop.sandbox.tax import TaxRules

TEXT_MAX_LENGTH = {"PrivateNote": 4000, "CustomerMemo": 1000, "Line.Description": 4000}


class TransactionHeaderRules(TaxRules, CurrencyRules, DocNumberRules):
    """The checks every sales form, purchase order and payment goes through."""

    def _transaction_header(self, entity: str, raw: Entity, current: Entity | None,
                            allow_duplicate: bool) -> None:
        raw["TxnDate"] = parse_date(raw.get("TxnDate", self.today()), "TxnDate")
        for key in ("DueDate", "ShipDate", "ExpirationDate"):
            if key in raw:
                raw[key] = parse_date(raw[key], key)
        self._doc_number(entity, raw, current, allow_duplicate)
        memo = raw.get("CustomerMemo")
        texts = [("PrivateNote", raw.get("PrivateNote")),
                 ("CustomerMemo", memo.get("value") if isinstance(memo, dict) else None)]
        lines = raw.get("Line", [])
        if not isinstance(lines, list) or not all(isinstance(line, dict) for line in lines):
            raise faults.invalid_value("Line", lines)
        texts += [("Line.Description", line.get("Description")) for line in lines]
        for element, text in texts:
            limit = TEXT_MAX_LENGTH[element]
            if isinstance(text, str) and len(text) > limit:
                raise faults.string_too_long(element, limit, len(text))
        for key, target in (("PaymentMethodRef", "PaymentMethod"), ("SalesTermRef", "Term")):
            ref = self._named_ref(target, raw.get(key), key)
            if ref is not None:
                raw[key] = ref
        self._tracked_ref(raw, "ClassRef",
                          entity != "Payment" and self._pref("AccountingInfoPrefs",
                                                             "ClassTrackingPerTxn") is True)
        self._tracked_ref(raw, "DepartmentRef",
                          self._pref("AccountingInfoPrefs", "TrackDepartments") is True)

    def _line_class(self, detail: Entity) -> None:
        """A line's ClassRef, kept when the company tracks a class on each line."""
        self._tracked_ref(detail, "ClassRef",
                          self._pref("AccountingInfoPrefs", "ClassTrackingPerTxnLine") is True)

    def _tracked_ref(self, holder: Entity, key: str, tracked: bool) -> None:
        """A ClassRef or DepartmentRef checked where the company tracks it; elsewhere QuickBooks
        ignores it without an error, as it does a transaction's class when classes are tracked
        per line (and a line's when per transaction)."""
        if not tracked:
            holder.pop(key, None)
            return
        ref = self._named_ref("Class" if key == "ClassRef" else "Department", holder.get(key),
                              key)
        if ref is not None:
            holder[key] = ref

    @staticmethod
    def _check_line_amount(amount: Decimal, detail: Entity) -> None:
        qty = parse_number(detail["Qty"], "Qty") if "Qty" in detail else ZERO
        price = parse_number(detail["UnitPrice"], "UnitPrice") if "UnitPrice" in detail else ZERO
        for key, value in (("Qty", qty), ("UnitPrice", price)):
            if key in detail:
                detail[key] = value
        # python-quickbooks sends Qty 0 and UnitPrice 0 for "not given"; only check real values.
        if qty != 0 and price != 0 and money(qty * price) != amount:
            raise faults.fault("6070", faults.BUSINESS_VALIDATION,
                               f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                               "Amount")
