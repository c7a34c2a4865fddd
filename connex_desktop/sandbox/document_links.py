"""What a transaction does to others: payments applied to invoices, estimates closed."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connex_desktop.core.money import ZERO
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.currencies import in_home_currency
from connex_desktop.sandbox.doc_numbers import DocNumberRules
from connex_desktop.sandbox.records import Entity


def applied_to(payment: Mapping[str, Any] | None, txn_type: str, txn_id: str) -> Decimal:
    """How much of `payment` is applied to the transaction `txn_type` `txn_id`."""
    if payment is None:
        return ZERO
    return sum((Decimal(line["Amount"]) for line in payment.get("Line", [])
                if line["LinkedTxn"][0]["TxnType"] == txn_type
                and line["LinkedTxn"][0]["TxnId"] == txn_id), ZERO)


class DocumentLinkRules(DocNumberRules):
    """Balances and links kept in step when a transaction is written, deleted or voided."""

    def _after_write(self, entity: str, built: Entity, current: Entity | None) -> None:
        if entity == "Payment":
            if current is not None:
                self._unapply_payment(current)
            self._apply_payment(built)
        elif entity == "Invoice":
            self._link_estimates(built, current)
        self._remember_doc_number(entity, built, current)

    def _apply_payment(self, payment: Entity) -> None:
        for line in payment.get("Line", []):
            link = line["LinkedTxn"][0]
            target_type, target_id = link["TxnType"], link["TxnId"]
            target = self.store.get(target_type, target_id)
            assert target is not None
            changed = copy.deepcopy(target)
            changed["Balance"] = Decimal(changed["Balance"]) - line["Amount"]
            if target_type == "Invoice":
                changed["HomeBalance"] = in_home_currency(changed, changed["Balance"])
            else:
                changed["RemainingCredit"] = changed["Balance"]
            links = changed.setdefault("LinkedTxn", [])
            if not any(t.get("TxnId") == payment["Id"] and t.get("TxnType") == "Payment"
                       for t in links):
                links.append({"TxnId": payment["Id"], "TxnType": "Payment"})
            self._touch(target_type, changed, target)

    def _unapply_payment(self, payment: Entity) -> None:
        for line in payment.get("Line", []):
            link = line["LinkedTxn"][0]
            target = self.store.get(link["TxnType"], link["TxnId"])
            if target is None:
                continue
            changed = copy.deepcopy(target)
            changed["Balance"] = Decimal(changed["Balance"]) + Decimal(line["Amount"])
            if link["TxnType"] == "Invoice":
                changed["HomeBalance"] = in_home_currency(changed, changed["Balance"])
            else:
                changed["RemainingCredit"] = changed["Balance"]
            changed["LinkedTxn"] = [t for t in changed.get("LinkedTxn", [])
                                    if not (t.get("TxnType") == "Payment"
                                            and t.get("TxnId") == payment["Id"])]
            self._touch(link["TxnType"], changed, target)

    def _link_estimates(self, invoice: Entity, current: Entity | None) -> None:
        before = {t.get("TxnId") for t in (current or {}).get("LinkedTxn", [])
                  if t.get("TxnType") == "Estimate"}
        after = {t["TxnId"] for t in invoice.get("LinkedTxn", []) if t["TxnType"] == "Estimate"}
        for estimate_id in after - before:
            estimate = self.store.get("Estimate", estimate_id)
            assert estimate is not None
            changed = copy.deepcopy(estimate)
            changed["TxnStatus"] = "Closed"
            changed.setdefault("LinkedTxn", []).append(
                {"TxnId": invoice["Id"], "TxnType": "Invoice"})
            self._touch("Estimate", changed, estimate)
        for estimate_id in before - after:
            self._reopen_estimate(estimate_id, invoice["Id"])

    def _reopen_estimate(self, estimate_id: str, invoice_id: str) -> None:
        estimate = self.store.get("Estimate", estimate_id)
        if estimate is None:
            return
        changed = copy.deepcopy(estimate)
        changed["LinkedTxn"] = [t for t in changed.get("LinkedTxn", [])
                                if t.get("TxnId") != invoice_id]
        changed["TxnStatus"] = "Pending"
        self._touch("Estimate", changed, estimate)

    def _before_removal(self, entity: str, current: Entity, *, deleting: bool) -> None:
        """Undo what a transaction did to others before it is deleted or voided."""
        if entity == "Payment":
            self._unapply_payment(current)
        elif entity in ("Invoice", "CreditMemo"):
            for link in current.get("LinkedTxn", []):
                if link.get("TxnType") != "Payment":
                    continue
                if deleting:
                    raise faults.business_validation(
                        f"Payment {link['TxnId']} is applied to this transaction; delete or "
                        f"unapply the payment first.")
                self._detach_from_payment(link["TxnId"], entity, current["Id"])
            for link in current.get("LinkedTxn", []):
                if link.get("TxnType") == "Estimate":
                    self._reopen_estimate(link["TxnId"], current["Id"])

    def _detach_from_payment(self, payment_id: str, entity: str, txn_id: str) -> None:
        payment = self.store.get("Payment", payment_id)
        if payment is None:
            return
        changed = copy.deepcopy(payment)
        kept = [line for line in changed["Line"]
                if not (line["LinkedTxn"][0]["TxnType"] == entity
                        and line["LinkedTxn"][0]["TxnId"] == txn_id)]
        released = sum((Decimal(line["Amount"]) for line in changed["Line"]
                        if line not in kept), ZERO)
        changed["Line"] = kept
        sign = 1 if entity == "Invoice" else -1
        changed["UnappliedAmt"] = Decimal(changed["UnappliedAmt"]) + sign * released
        self._touch("Payment", changed, payment)
