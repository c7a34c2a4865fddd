"""Transactions: sales forms, purchase orders and payments, and what they do to each other."""

from __future__ import annotations

from decimal import Decimal

from connex_desktop.core.money import ZERO, money
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.currencies import in_home_currency
from connex_desktop.sandbox.document_links import DocumentLinkRules, applied_to
from connex_desktop.sandbox.kinds import GLOBAL
from connex_desktop.sandbox.records import Entity, parse_amount, ref_id
from connex_desktop.sandbox.sales_forms import SalesFormRules
from connex_desktop.sandbox.seed import AP_ACCOUNT, UNDEPOSITED_FUNDS_ACCOUNT


class TransactionRules(SalesFormRules, DocumentLinkRules):
    """Sales forms, purchase orders and payments, and what they do to each other."""

    def _build_purchase_order(self, raw: Entity, current: Entity | None,
                              allow_duplicate: bool) -> Entity:
        self._transaction_header("PurchaseOrder", raw, current, allow_duplicate)
        raw["VendorRef"] = self._named_ref("Vendor", raw.get("VendorRef"), "VendorRef",
                                           required=True)
        self._transaction_currency(raw, self.visible("Vendor", raw["VendorRef"]["value"]))
        ap_ref = self._named_ref("Account", raw.get("APAccountRef"), "APAccountRef")
        raw["APAccountRef"] = ap_ref or self._account_ref(AP_ACCOUNT)
        lines = raw.get("Line")
        if not lines:
            raise faults.required_missing("Line")
        total = ZERO
        built_lines = []
        for number, line in enumerate(lines, start=1):
            line = dict(line)
            kind = line.get("DetailType")
            if kind not in ("ItemBasedExpenseLineDetail", "AccountBasedExpenseLineDetail"):
                if not kind:
                    raise faults.required_missing("Line.DetailType")
                raise faults.invalid_value("Line.DetailType", kind)
            if "Amount" not in line:
                raise faults.required_missing("Line.Amount")
            amount = parse_amount(line["Amount"], "Line.Amount")
            detail = dict(line.get(kind) or {})
            self._line_tax_code(detail, purchase=True)
            self._line_class(detail)
            if kind == "ItemBasedExpenseLineDetail":
                self._check_line_amount(amount, detail)
                detail["ItemRef"] = self._named_ref("Item", detail.get("ItemRef"), "ItemRef",
                                                    required=True)
                detail.setdefault("BillableStatus", "NotBillable")
            else:
                detail["AccountRef"] = self._named_ref("Account", detail.get("AccountRef"),
                                                       "AccountRef", required=True)
            line.update(Id=str(number), LineNum=number, Amount=amount, **{kind: detail})
            total += amount
            built_lines.append(line)
        raw["Line"] = built_lines
        if self.kind.tax_model == GLOBAL and self._pref("TaxPrefs", "UsingSalesTax"):
            total += self._global_tax(raw, built_lines, ZERO, total, purchase=True)
        raw["TotalAmt"] = total
        raw["HomeTotalAmt"] = in_home_currency(raw, total)
        raw.setdefault("POStatus", "Open")
        raw.setdefault("EmailStatus", "NotSet")
        raw["LinkedTxn"] = current.get("LinkedTxn", []) if current else []
        return raw

    def _build_payment(self, raw: Entity, current: Entity | None) -> Entity:
        self._transaction_header("Payment", raw, current, True)
        customer = self._named_ref("Customer", raw.get("CustomerRef"), "CustomerRef",
                                   required=True)
        assert customer is not None
        raw["CustomerRef"] = customer
        self._transaction_currency(raw, self.visible("Customer", customer["value"]))
        if "TotalAmt" not in raw:
            raise faults.required_missing("TotalAmt")
        total = parse_amount(raw["TotalAmt"], "TotalAmt")
        if total < 0:
            raise faults.invalid_value("TotalAmt", raw["TotalAmt"])
        deposit = self._named_ref("Account", raw.get("DepositToAccountRef"),
                                  "DepositToAccountRef")
        raw["DepositToAccountRef"] = deposit or self._account_ref(UNDEPOSITED_FUNDS_ACCOUNT)
        to_invoices, from_credits = ZERO, ZERO
        built_lines = []
        for line in raw.get("Line", []):
            if "Amount" not in line:
                raise faults.required_missing("Line.Amount")
            amount = parse_amount(line["Amount"], "Line.Amount")
            links = line.get("LinkedTxn") or []
            if len(links) != 1:
                raise faults.required_missing("Line.LinkedTxn")
            link = links[0]
            txn_type, txn_id = link.get("TxnType"), str(link.get("TxnId", ""))
            if txn_type not in ("Invoice", "CreditMemo"):
                raise faults.invalid_value("LinkedTxn.TxnType", txn_type)
            target = self.visible(txn_type, txn_id)
            if target is None:
                raise faults.not_found("LinkedTxn")
            if ref_id(target.get("CustomerRef")) != customer["value"]:
                raise faults.business_validation(
                    f"{txn_type} {txn_id} belongs to a different customer.", "LinkedTxn")
            open_balance = Decimal(target.get("Balance", ZERO)) + (
                applied_to(current, txn_type, txn_id) if current else ZERO)
            if amount > open_balance:
                raise faults.business_validation(
                    f"The payment amount {amount} applied to {txn_type} {txn_id} is more than "
                    f"its open balance {money(open_balance)}.", "Line.Amount")
            if txn_type == "Invoice":
                to_invoices += amount
            else:
                from_credits += amount
            built_lines.append({"Amount": amount,
                                "LinkedTxn": [{"TxnId": txn_id, "TxnType": txn_type}]})
        if to_invoices > total + from_credits:
            raise faults.business_validation(
                f"The amounts applied ({to_invoices}) are more than the payment total "
                f"({total}).", "TotalAmt")
        raw["Line"] = built_lines
        raw["TotalAmt"] = total
        raw["UnappliedAmt"] = total + from_credits - to_invoices
        raw.setdefault("ProcessPayment", False)
        return raw
