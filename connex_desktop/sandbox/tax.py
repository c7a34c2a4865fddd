"""Sales tax as each kind of company computes it: US legacy, US automated, and VAT/GST codes.

What QuickBooks Online does:
- US legacy: lines TAX/NON; one TxnTaxCodeRef computes the tax, a stated TotalTax overrides it.
- US automated sales tax (AST): QuickBooks computes tax from the ship-to address (the company's
  when there is none) on taxable lines, replacing any TxnTaxCodeRef sent, unless TotalTax is
  stated: then it keeps that amount, 0.00 included, spread over its rates.
- Non-US: every line carries one of the company's TaxCode Ids, or the write fails with 6000;
  GlobalTaxCalculation TaxExcluded / TaxInclusive / NotApplicable (6170 with a TxnTaxDetail).
  Tax is computed per line and rate, rounded to the cent, and summed per rate into TaxLine.
  Line.Amount is net of tax; SalesItemLineDetail.TaxInclusiveAmt is "the total amount of the line
  item including tax": when a TaxInclusive document gives it, it is the line's gross and the net is
  derived from it. Tax is overridden per rate by stating TaxLine amounts
  (TaxLineDetail.OverrideDeltaAmount keeps the difference); a TotalTax stated alone is
  recomputed, as real companies do.
- A discount is spread over the item lines in proportion to their amounts before tax (the sandbox's
  choice where Intuit does not say; each share is rounded to the cent, the last takes the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from connex_desktop.core.money import ZERO, allocate, money
from connex_desktop.core.quickbooks_rules import (
    GRATUITY_ITEM_ID,
    SHIPPING_ITEM_ID,
    US_LINE_TAX_CODES,
)
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.kinds import AST, GLOBAL
from connex_desktop.sandbox.records import Entity, Records, parse_amount, ref_id

TAX_MODES = ("TaxExcluded", "TaxInclusive", "NotApplicable")
EXTRA_ITEM_IDS = (SHIPPING_ITEM_ID, GRATUITY_ITEM_ID)
TAXED_LINE_DETAILS = ("SalesItemLineDetail", "ItemBasedExpenseLineDetail",
                      "AccountBasedExpenseLineDetail")
# What QuickBooks answers when a code cannot tax this kind of form (seen from an Australian
# company given a purchase code where it computes sales tax).
TAX_CALCULATION_DETAIL = (
    "We're sorry, QuickBooks encountered an error while calculating tax. Try reselecting the tax "
    "rate or reentering the product/service item and saving the form again.")


def _tax_line(rate: Entity, amount: Decimal, net: Decimal) -> Entity:
    return {"Amount": amount, "DetailType": "TaxLineDetail", "TaxLineDetail": {
        "TaxRateRef": {"value": rate["Id"], "name": rate["Name"]}, "PercentBased": True,
        "TaxPercent": Decimal(str(rate["RateValue"])), "NetAmountTaxable": net}}


class TaxRules(Records):
    """Line tax codes and the document's TxnTaxDetail, by the company's tax model."""

    # --- lines -----------------------------------------------------------------------------

    def _line_tax_code(self, detail: Entity, *, purchase: bool = False) -> str | None:
        """The line's TaxCodeRef Id, checked as the company's tax model requires."""
        code_id = ref_id(detail.get("TaxCodeRef"))
        if self.kind.tax_model != GLOBAL:
            if code_id is not None and code_id not in US_LINE_TAX_CODES and not purchase:
                raise faults.fault("6100", faults.BUSINESS_VALIDATION,
                                   f"Business Validation Error: Invalid line TaxCode {code_id}; "
                                   f"use TAX or NON.", "TaxCodeRef")
            return code_id
        if code_id is None:
            raise faults.business_validation(self.kind.missing_code_detail, "TaxCodeRef")
        code = self._resolve("TaxCode", detail["TaxCodeRef"], "TaxCodeRef")
        assert code is not None
        if not self._code_rates(code, purchase):
            raise faults.business_validation(TAX_CALCULATION_DETAIL, "TaxCodeRef")
        detail["TaxCodeRef"] = {"value": code["Id"], "name": code["Name"]}
        return code_id

    def _code_rates(self, code: Entity, purchase: bool) -> list[Entity]:
        side = "PurchaseTaxRateList" if purchase else "SalesTaxRateList"
        rates = (self.store.get("TaxRate", ref_id(d.get("TaxRateRef")))
                 for d in (code.get(side) or {}).get("TaxRateDetail", []))
        return [r for r in rates if r is not None]

    def _tax_inclusive_net(self, raw: Entity, detail: Entity, amount: Decimal) -> Decimal:
        """A TaxInclusive line's net amount: from its gross TaxInclusiveAmt when it gives one."""
        gross = Decimal(str(detail.get("TaxInclusiveAmt") or 0))
        if (self.kind.tax_model != GLOBAL or self._tax_mode(raw) != "TaxInclusive"
                or gross == 0):  # python-quickbooks sends 0 for "not given"
            return amount
        gross = parse_amount(gross, "TaxInclusiveAmt")
        code = self.store.get("TaxCode", ref_id(detail.get("TaxCodeRef")))
        percent = sum((Decimal(str(r["RateValue"])) for r in self._code_rates(code or {}, False)),
                      ZERO)
        detail["TaxInclusiveAmt"] = gross
        return gross - money(gross * percent / (100 + percent))

    # --- the document ----------------------------------------------------------------------

    def _document_tax(self, raw: Entity, lines: list[Entity], taxable: Decimal,
                      discount: Decimal, subtotal: Decimal) -> Decimal:
        """Set the document's TxnTaxDetail as the company computes it; returns the total tax."""
        if not self._pref("TaxPrefs", "UsingSalesTax"):
            raw.pop("TxnTaxDetail", None)
            return ZERO
        if self.kind.tax_model == GLOBAL:
            return self._global_tax(raw, lines, discount, subtotal)
        base = taxable
        if raw.get("ApplyTaxAfterDiscount") and subtotal:
            base = money(taxable - discount * taxable / subtotal)
        if self.kind.tax_model == AST:
            return self._automated_tax(raw, base)
        return self._legacy_tax(raw, base)

    def _legacy_tax(self, raw: Entity, base: Decimal) -> Decimal:
        detail = raw.get("TxnTaxDetail")
        if not isinstance(detail, dict):
            raw["TxnTaxDetail"] = {"TotalTax": ZERO}
            return ZERO
        detail = dict(detail)
        code = self._resolve("TaxCode", detail.get("TxnTaxCodeRef"), "TxnTaxCodeRef")
        if "TotalTax" in detail:
            tax = parse_amount(detail["TotalTax"], "TotalTax")
            detail.pop("TaxLine", None)
        elif code is not None:
            tax_lines = [_tax_line(rate, money(base * Decimal(str(rate["RateValue"])) / 100),
                                   base) for rate in self._code_rates(code, False)]
            tax = sum((t["Amount"] for t in tax_lines), ZERO)
            detail["TaxLine"] = tax_lines
        else:
            tax = ZERO
        if code is not None:
            detail["TxnTaxCodeRef"] = {"value": code["Id"], "name": code["Name"]}
        detail["TotalTax"] = tax
        raw["TxnTaxDetail"] = detail
        return tax

    def _automated_tax(self, raw: Entity, base: Decimal) -> Decimal:
        sent = raw.get("TxnTaxDetail")
        sent = sent if isinstance(sent, dict) else {}
        code = self._jurisdiction(raw)
        rates = self._code_rates(code, False)
        amounts = [money(base * Decimal(str(r["RateValue"])) / 100) for r in rates]
        if "TotalTax" in sent:
            stated = parse_amount(sent["TotalTax"], "TotalTax")
            amounts = allocate(stated, [Decimal(str(r["RateValue"])) for r in rates]) if rates \
                else []
            tax = stated
        else:
            tax = sum(amounts, ZERO)
        raw["TxnTaxDetail"] = {
            "TxnTaxCodeRef": {"value": code["Id"], "name": code["Name"]}, "TotalTax": tax,
            "TaxLine": [_tax_line(r, a, base) for r, a in zip(rates, amounts, strict=True)]}
        return tax

    def _jurisdiction(self, raw: Entity) -> Entity:
        """The code for where the goods go: the ship-to state, else the company's own."""
        ship_to = raw.get("ShipAddr")
        ship_to = ship_to if isinstance(ship_to, dict) else {}
        company = self.store.get("CompanyInfo", "1") or {}
        state = str(ship_to.get("CountrySubDivisionCode")
                    or company.get("CompanyAddr", {}).get("CountrySubDivisionCode", ""))
        found = self.store.find("TaxCode", "Name", self.kind.jurisdiction_code(state))
        assert found, "every automated-sales-tax jurisdiction has a seeded code"
        return found[0]

    # --- VAT / GST ---------------------------------------------------------------------------

    def _tax_mode(self, raw: Entity) -> str:
        mode = raw.get("GlobalTaxCalculation") or "TaxExcluded"
        if mode not in TAX_MODES:
            raise faults.invalid_value("GlobalTaxCalculation", mode)
        return str(mode)

    def _global_tax(self, raw: Entity, lines: list[Entity], discount: Decimal,
                    subtotal: Decimal, *, purchase: bool = False) -> Decimal:
        mode = raw["GlobalTaxCalculation"] = self._tax_mode(raw)
        if mode == "NotApplicable":
            if raw.get("TxnTaxDetail"):
                raise faults.fault(
                    "6170", faults.BUSINESS_VALIDATION,
                    "Business Validation Error: TxnTaxDetail is not allowed when "
                    "GlobalTaxCalculation is NotApplicable.", "TxnTaxDetail")
            return ZERO
        per_rate: dict[str, list[Any]] = {}  # rate Id → [rate, net taxable, tax]
        shares = self._discount_shares(lines, discount, subtotal)
        for line, detail in self._taxed_lines(lines):
            code = self.store.get("TaxCode", ref_id(detail["TaxCodeRef"]))
            rates = self._code_rates(code or {}, purchase)
            base = line["Amount"] - shares.get(line["Id"], ZERO)
            taxes = self._line_taxes(rates, base, detail, mode, line["Id"] in shares)
            detail["TaxInclusiveAmt"] = line["Amount"] + sum(taxes, ZERO)
            for rate, tax in zip(rates, taxes, strict=True):
                entry = per_rate.setdefault(rate["Id"], [rate, ZERO, ZERO])
                entry[1] += base
                entry[2] += tax
        tax_lines = [_tax_line(rate, tax, net) for rate, net, tax in per_rate.values()]
        self._apply_stated_tax(raw.get("TxnTaxDetail"), tax_lines)
        total = sum((t["Amount"] for t in tax_lines), ZERO)
        raw["TxnTaxDetail"] = {"TotalTax": total, "TaxLine": tax_lines}
        return total

    @staticmethod
    def _taxed_lines(lines: Iterable[Entity]) -> Iterable[tuple[Entity, Entity]]:
        for line in lines:
            kind = line.get("DetailType")
            detail = line.get(str(kind))
            if kind in TAXED_LINE_DETAILS and isinstance(detail, dict) and "TaxCodeRef" in detail:
                yield line, detail

    @staticmethod
    def _line_taxes(rates: list[Entity], base: Decimal, detail: Entity, mode: str,
                    discounted: bool) -> list[Decimal]:
        percents = [Decimal(str(r["RateValue"])) for r in rates]
        gross = Decimal(str(detail.get("TaxInclusiveAmt") or 0))
        if mode == "TaxInclusive" and gross and not discounted:
            return allocate(gross - base, percents)  # the gross stays what the line said
        return [money(base * p / 100) for p in percents]

    def _discount_shares(self, lines: list[Entity], discount: Decimal,
                         subtotal: Decimal) -> dict[str, Decimal]:
        if not discount or not subtotal:
            return {}
        items = [(line["Id"], line["Amount"]) for line, detail in self._taxed_lines(lines)
                 if ref_id(detail.get("ItemRef")) not in EXTRA_ITEM_IDS]
        shares = allocate(discount, [amount for _, amount in items])
        return {id_: share for (id_, _), share in zip(items, shares, strict=True)}

    @staticmethod
    def _apply_stated_tax(sent: object, tax_lines: list[Entity]) -> None:
        """Keep the tax a request states per rate; a rate the lines do not use is refused."""
        stated = sent.get("TaxLine") if isinstance(sent, dict) else None
        by_rate = {t["TaxLineDetail"]["TaxRateRef"]["value"]: t for t in tax_lines}
        for line in stated if isinstance(stated, list) else []:
            detail = line.get("TaxLineDetail") if isinstance(line, dict) else None
            rate_id = ref_id((detail or {}).get("TaxRateRef"))
            if rate_id is None or "Amount" not in line:
                continue
            if rate_id not in by_rate:
                raise faults.business_validation(TAX_CALCULATION_DETAIL, "TxnTaxDetail")
            computed = by_rate[rate_id]
            amount = parse_amount(line["Amount"], "TaxLine.Amount")
            if amount != computed["Amount"]:
                computed["TaxLineDetail"]["OverrideDeltaAmount"] = amount - computed["Amount"]
                computed["Amount"] = amount
