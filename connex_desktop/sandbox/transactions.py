"""Transactions: numbering, lines and totals, payments applied, estimates closed, removal."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from connex_desktop.core.money import ZERO, money
from connex_desktop.core.quickbooks_rules import DOC_NUMBER_MAX_CHARS, SHIPPING_ITEM_ID
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.currencies import CurrencyRules, in_home_currency
from connex_desktop.sandbox.kinds import GLOBAL
from connex_desktop.sandbox.records import (
    Entity,
    parse_amount,
    parse_date,
    parse_number,
    ref_id,
)
from connex_desktop.sandbox.seed import AP_ACCOUNT, DISCOUNT_ACCOUNT, UNDEPOSITED_FUNDS_ACCOUNT
from connex_desktop.sandbox.tax import TaxRules

FIRST_DOC_NUMBER = "1001"
GRATUITY_ITEM_ID = "GRATUITY_ITEM_ID"
ESTIMATE_OPEN_STATUSES = ("Pending", "Accepted")
TEXT_MAX_LENGTH = {"PrivateNote": 4000, "CustomerMemo": 1000, "Line.Description": 4000}


def _next_doc_number(last: str | None) -> str:
    """The number after `last`, incrementing its trailing digits as QuickBooks does."""
    if not last:
        return FIRST_DOC_NUMBER
    match = re.fullmatch(r"(.*?)(\d+)(\D*)", last)
    if match is None:
        return last + "1"
    prefix, digits, suffix = match.groups()
    return f"{prefix}{str(int(digits) + 1).zfill(len(digits))}{suffix}"


def _applied_to(payment: Mapping[str, Any] | None, txn_type: str, txn_id: str) -> Decimal:
    if payment is None:
        return ZERO
    return sum((Decimal(line["Amount"]) for line in payment.get("Line", [])
                if line["LinkedTxn"][0]["TxnType"] == txn_type
                and line["LinkedTxn"][0]["TxnId"] == txn_id), ZERO)


class TransactionRules(TaxRules, CurrencyRules):
    """Sales forms, purchase orders and payments, and what they do to each other."""

    # --- document numbers ------------------------------------------------------------------

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

    # --- building transactions -------------------------------------------------------------

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
        for key, target in (("ClassRef", "Class"), ("DepartmentRef", "Department"),
                            ("PaymentMethodRef", "PaymentMethod"), ("SalesTermRef", "Term")):
            ref = self._named_ref(target, raw.get(key), key)
            if ref is not None:
                raw[key] = ref

    def _build_sales_form(self, entity: str, raw: Entity, current: Entity | None,
                          allow_duplicate: bool) -> Entity:
        if entity == "Estimate" and not self._pref("SalesFormsPrefs", "AllowEstimates"):
            raise faults.business_validation("Estimates are turned off for this company.")
        self._transaction_header(entity, raw, current, allow_duplicate)
        customer = self._named_ref("Customer", raw.get("CustomerRef"), "CustomerRef",
                                   required=entity in ("Invoice", "Estimate", "CreditMemo"))
        if customer is not None:
            raw["CustomerRef"] = customer
        self._transaction_currency(raw, customer and self.visible("Customer", customer["value"]))
        if entity in ("SalesReceipt", "RefundReceipt"):
            deposit = self._named_ref("Account", raw.get("DepositToAccountRef"),
                                      "DepositToAccountRef", required=entity == "RefundReceipt")
            raw["DepositToAccountRef"] = deposit or self._account_ref(UNDEPOSITED_FUNDS_ACCOUNT)
        lines = raw.get("Line")
        if not lines:
            raise faults.required_missing("Line")
        subtotal, discount, extras, taxable = ZERO, ZERO, ZERO, ZERO
        built_lines: list[Entity] = []
        for number, line in enumerate(lines, start=1):
            kind = line.get("DetailType")
            if kind == "SubTotalLineDetail":
                continue  # recomputed below
            line = dict(line)
            line["Id"] = str(number)
            line["LineNum"] = number
            if kind == "SalesItemLineDetail":
                amount, is_extra, is_taxable = self._sales_item_line(line, raw)
                if is_extra:
                    extras += amount
                else:
                    subtotal += amount
                    taxable += amount if is_taxable else ZERO
            elif kind == "DiscountLineDetail":
                discount += self._discount_line(line, subtotal)
            elif kind == "DescriptionOnly":
                line.pop("Amount", None)
            elif not kind:
                raise faults.required_missing("Line.DetailType")
            else:
                raise faults.invalid_value("Line.DetailType", kind)
            built_lines.append(line)
        built_lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail",
                            "SubTotalLineDetail": {}})
        raw["Line"] = built_lines
        tax = self._document_tax(raw, built_lines, taxable, discount, subtotal)
        total = subtotal - discount + extras + tax
        if total < 0:
            raise faults.business_validation("The transaction total cannot be negative.",
                                             "TotalAmt")
        raw["TotalAmt"] = total
        raw["HomeTotalAmt"] = in_home_currency(raw, total)
        raw.setdefault("ApplyTaxAfterDiscount", False)
        raw.setdefault("PrintStatus", "NotSet")
        raw.setdefault("EmailStatus", "NotSet")
        if entity == "Invoice":
            self._invoice_balance(raw, current)
        elif entity == "CreditMemo":
            raw["Balance"] = raw["RemainingCredit"] = total
        elif entity == "Estimate":
            raw.setdefault("TxnStatus", "Pending")
            raw.setdefault("LinkedTxn", current.get("LinkedTxn", []) if current else [])
        else:
            raw["Balance"] = ZERO
        return raw

    def _sales_item_line(self, line: Entity, raw: Entity) -> tuple[Decimal, bool, bool]:
        """Validate one item line; returns (amount, is shipping/gratuity, is taxable)."""
        if "Amount" not in line:
            raise faults.required_missing("Line.Amount")
        amount = parse_amount(line["Amount"], "Line.Amount")
        detail = dict(line.get("SalesItemLineDetail") or {})
        self._check_line_amount(amount, detail)
        item_id = ref_id(detail.get("ItemRef"))
        tax_code = self._line_tax_code(detail) if item_id is not None else None
        amount = self._tax_inclusive_net(raw, detail, amount)
        line["Amount"] = amount
        line["SalesItemLineDetail"] = detail
        txn_date = raw["TxnDate"]
        if item_id in (SHIPPING_ITEM_ID, GRATUITY_ITEM_ID):
            if item_id == SHIPPING_ITEM_ID and not self._pref("SalesFormsPrefs", "AllowShipping"):
                raise faults.business_validation("Shipping is turned off for this company.",
                                                 "ItemRef")
            return amount, True, tax_code == "TAX"
        if item_id is None:
            # A sales line without an item is documentation only: its amount does not count.
            line["DetailType"] = "DescriptionOnly"
            line.pop("SalesItemLineDetail")
            line["DescriptionLineDetail"] = {}
            line.pop("Amount")
            return ZERO, False, False
        item = self._resolve("Item", detail["ItemRef"], "ItemRef")
        assert item is not None
        if item.get("Type") == "Category":
            raise faults.invalid_value("ItemRef", item_id)
        if item.get("TrackQtyOnHand") and txn_date < str(item.get("InvStartDate", "")):
            raise faults.fault(
                "6270", faults.BUSINESS_VALIDATION,
                f"Business Validation Error: Transaction date is prior to start date for "
                f"inventory item {item['Name']}", "TxnDate")
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
        if "ItemAccountRef" not in detail and "IncomeAccountRef" in item:
            detail["ItemAccountRef"] = dict(item["IncomeAccountRef"])
        class_ref = self._named_ref("Class", detail.get("ClassRef"), "ClassRef")
        if class_ref is not None:
            detail["ClassRef"] = class_ref
        if tax_code is None and self.kind.tax_model != GLOBAL:
            detail["TaxCodeRef"] = {"value": "TAX" if item.get("Taxable") else "NON"}
        return amount, False, ref_id(detail.get("TaxCodeRef")) == "TAX"

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

    def _discount_line(self, line: Entity, subtotal: Decimal) -> Decimal:
        if not self._pref("SalesFormsPrefs", "AllowDiscount"):
            raise faults.business_validation("Discounts are turned off for this company.")
        detail = dict(line.get("DiscountLineDetail") or {})
        percent = detail.get("DiscountPercent")
        if detail.get("PercentBased") is True and percent is not None:
            amount = money(subtotal * parse_number(percent, "DiscountPercent") / 100)
        elif "Amount" in line:
            amount = parse_amount(line["Amount"], "Line.Amount")
        else:
            raise faults.fault("6090", faults.BUSINESS_VALIDATION,
                               "Business Validation Error: The discount line needs an amount or "
                               "a percent.", "DiscountLineDetail")
        account = self._named_ref("Account", detail.get("DiscountAccountRef"),
                                  "DiscountAccountRef")
        detail["DiscountAccountRef"] = account or self._account_ref(DISCOUNT_ACCOUNT)
        detail.setdefault("PercentBased", False)
        line["Amount"] = amount
        line["DiscountLineDetail"] = detail
        return amount

    def _applied_payments(self, invoice_id: str) -> Decimal:
        applied = ZERO
        invoice = self.store.get("Invoice", invoice_id)
        for link in (invoice or {}).get("LinkedTxn", []):
            if link.get("TxnType") != "Payment":
                continue
            payment = self.store.get("Payment", link["TxnId"])
            applied += _applied_to(payment, "Invoice", invoice_id) if payment else ZERO
        return applied

    def _invoice_balance(self, raw: Entity, current: Entity | None) -> None:
        paid = self._applied_payments(raw["Id"]) if current is not None else ZERO
        if raw["TotalAmt"] < paid:
            raise faults.business_validation(
                f"The invoice total {raw['TotalAmt']} is less than the payments already applied "
                f"to it ({paid}).", "TotalAmt")
        raw["Balance"] = raw["TotalAmt"] - paid
        raw["HomeBalance"] = in_home_currency(raw, raw["Balance"])
        if "DueDate" not in raw:
            term = self.visible("Term", ref_id(raw.get("SalesTermRef")) or "")
            due_days = int(term.get("DueDays", 0)) if term else 0
            raw["DueDate"] = (date.fromisoformat(raw["TxnDate"])
                              + timedelta(days=due_days)).isoformat()
        links = raw.get("LinkedTxn", [])
        estimates = [t for t in links if t.get("TxnType") == "Estimate"]
        if len(estimates) > 1:
            raise faults.business_validation("Only one Estimate can be linked to an Invoice.",
                                             "LinkedTxn")
        kept = [t for t in links if t.get("TxnType") != "Estimate"]
        for link in estimates:
            estimate = self.visible("Estimate", str(link.get("TxnId", "")))
            if estimate is None:
                raise faults.not_found("LinkedTxn")
            already = any(t.get("TxnId") == raw["Id"] for t in estimate.get("LinkedTxn", []))
            if estimate.get("TxnStatus") not in ESTIMATE_OPEN_STATUSES and not already:
                continue  # closed or rejected estimates are ignored silently
            if ref_id(estimate.get("CustomerRef")) != ref_id(raw.get("CustomerRef")):
                raise faults.business_validation(
                    "The linked Estimate belongs to a different customer.", "LinkedTxn")
            kept.append({"TxnId": estimate["Id"], "TxnType": "Estimate"})
        raw["LinkedTxn"] = kept

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
                _applied_to(current, txn_type, txn_id) if current else ZERO)
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

    # --- effects on other documents --------------------------------------------------------

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
