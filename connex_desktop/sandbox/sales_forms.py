"""Sales forms: invoices, sales receipts, estimates, credit memos and refund receipts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connex_desktop.core.money import ZERO, money
from connex_desktop.core.quickbooks_rules import GRATUITY_ITEM_ID, SHIPPING_ITEM_ID
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.currencies import in_home_currency
from connex_desktop.sandbox.document_links import applied_to
from connex_desktop.sandbox.kinds import GLOBAL
from connex_desktop.sandbox.records import Entity, parse_amount, parse_number, ref_id
from connex_desktop.sandbox.seed import DISCOUNT_ACCOUNT, UNDEPOSITED_FUNDS_ACCOUNT
from connex_desktop.sandbox.transaction_header import TransactionHeaderRules

ESTIMATE_OPEN_STATUSES = ("Pending", "Accepted")


@dataclass
class _SalesTotals:
    """A sales form's running sums over its lines, before tax."""

    subtotal: Decimal = ZERO
    discount: Decimal = ZERO
    extras: Decimal = ZERO  # shipping and gratuity, outside the subtotal
    taxable: Decimal = ZERO


class SalesFormRules(TransactionHeaderRules):
    """Building a sales form: its lines, discount, tax, total and balance."""

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
        built_lines, sums = self._sales_lines(lines, raw)
        raw["Line"] = built_lines
        tax = self._document_tax(raw, built_lines, sums.taxable, sums.discount, sums.subtotal)
        total = sums.subtotal - sums.discount + sums.extras + tax
        if total < 0:
            raise faults.business_validation("The transaction total cannot be negative.",
                                             "TotalAmt")
        raw["TotalAmt"] = total
        raw["HomeTotalAmt"] = in_home_currency(raw, total)
        raw.setdefault("ApplyTaxAfterDiscount", False)
        raw.setdefault("PrintStatus", "NotSet")
        raw.setdefault("EmailStatus", "NotSet")
        self._sales_form_balance(entity, raw, current, total)
        return raw

    def _sales_lines(self, lines: list[Entity], raw: Entity) -> tuple[list[Entity], _SalesTotals]:
        """The form's lines numbered and checked, ending in a recomputed subtotal line."""
        sums = _SalesTotals()
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
                    sums.extras += amount
                else:
                    sums.subtotal += amount
                    sums.taxable += amount if is_taxable else ZERO
            elif kind == "DiscountLineDetail":
                sums.discount += self._discount_line(line, sums.subtotal)
            elif kind == "DescriptionOnly":
                line.pop("Amount", None)
            elif not kind:
                raise faults.required_missing("Line.DetailType")
            else:
                raise faults.invalid_value("Line.DetailType", kind)
            built_lines.append(line)
        built_lines.append({"Amount": sums.subtotal, "DetailType": "SubTotalLineDetail",
                            "SubTotalLineDetail": {}})
        return built_lines, sums

    def _sales_form_balance(self, entity: str, raw: Entity, current: Entity | None,
                            total: Decimal) -> None:
        """What is still open on the form: an invoice's balance, a credit memo's credit."""
        if entity == "Invoice":
            self._invoice_balance(raw, current)
        elif entity == "CreditMemo":
            raw["Balance"] = raw["RemainingCredit"] = total
        elif entity == "Estimate":
            raw.setdefault("TxnStatus", "Pending")
            raw.setdefault("LinkedTxn", current.get("LinkedTxn", []) if current else [])
        else:
            raw["Balance"] = ZERO

    def _sales_item_line(self, line: Entity, raw: Entity) -> tuple[Decimal, bool, bool]:
        """Validate one item line; returns (amount, is shipping/gratuity, is taxable)."""
        if "Amount" not in line:
            raise faults.required_missing("Line.Amount")
        amount = parse_amount(line["Amount"], "Line.Amount")
        detail = dict(line.get("SalesItemLineDetail") or {})
        self._check_line_amount(amount, detail)
        self._line_class(detail)
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
        if tax_code is None and self.kind.tax_model != GLOBAL:
            detail["TaxCodeRef"] = {"value": "TAX" if item.get("Taxable") else "NON"}
        return amount, False, ref_id(detail.get("TaxCodeRef")) == "TAX"

    def _discount_line(self, line: Entity, subtotal: Decimal) -> Decimal:
        if not self._pref("SalesFormsPrefs", "AllowDiscount"):
            raise faults.business_validation("Discounts are turned off for this company.")
        detail = dict(line.get("DiscountLineDetail") or {})
        self._line_class(detail)
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
            applied += applied_to(payment, "Invoice", invoice_id) if payment else ZERO
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
