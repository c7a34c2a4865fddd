"""Sales tax on a sale document as the company's kind books it: US legacy, US automated, VAT/GST.

What QuickBooks Online does with each kind:
- US legacy: lines TAX/NON; one TxnTaxCodeRef, and a stated TotalTax overrides what it computes.
- US automated sales tax: QuickBooks computes tax from the ship-to address unless TotalTax is
  stated, 0.00 included; any TxnTaxCodeRef sent is replaced.
- VAT/GST (every other country): each line carries one of the company's own TaxCode Ids, the
  document says GlobalTaxCalculation, and QuickBooks computes tax per line rounded to the cent
  unless the request states TaxLine amounts per rate. QuickBooks Desktop (UK and Canadian
  files) takes no tax amounts at all: it computes each line's tax from the line's code.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connex_desktop.core.errors import Fix, OrderDataError, Remedy
from connex_desktop.core.model import Order
from connex_desktop.core.money import CENT, ZERO, MoneyError, allocate, money, money_text, percent

US_COUNTRIES = frozenset({"US", "USA", "UNITED STATES"})


class TaxModel(enum.StrEnum):
    LEGACY = "legacy"        # US before late 2017
    AUTOMATED = "automated"  # US automated sales tax
    VAT = "vat"              # UK, Canada, Australia, …: the company's own codes on every line


@dataclass(frozen=True)
class TaxRate:
    id: str
    name: str
    percent: Decimal


@dataclass(frozen=True)
class SalesTaxCode:
    """One of the company's tax codes with the rates it charges on sales."""

    id: str
    name: str
    rates: tuple[TaxRate, ...]                 # on sales
    purchase_rates: tuple[TaxRate, ...] = ()   # on purchases

    @property
    def percent(self) -> Decimal:
        return sum((rate.percent for rate in self.rates), Decimal(0))

    @property
    def ref(self) -> dict[str, str]:
        return {"value": self.id, "name": self.name}

    @property
    def label(self) -> str:
        return f"{self.name} ({self.percent.normalize():f} %)"


@dataclass(frozen=True)
class CompanyTax:
    """How the company taxes sales: its country, tax model and (VAT/GST) sales tax codes."""

    country: str = "US"
    model: TaxModel = TaxModel.LEGACY
    codes: tuple[SalesTaxCode, ...] = ()
    takes_tax_amounts: bool = True   # False: QuickBooks Desktop, which only computes tax

    def named(self, name: str) -> SalesTaxCode | None:
        """The sales code of that name (a purchase-only code cannot tax a sale)."""
        wanted = name.strip().casefold()
        return next((code for code in self.codes
                     if code.rates and code.name.casefold() == wanted), None)

    def at_rate(self, rate: Decimal) -> SalesTaxCode | None:
        return next((code for code in self.codes if code.rates and code.percent == rate), None)

    def for_purchase(self, rate: Decimal | None) -> SalesTaxCode | None:
        """A purchase order line's code: the one of the sale's rate when it taxes purchases,
        else one that taxes purchases at nothing."""
        found = self.at_rate(rate) if rate is not None else None
        if found is not None and found.purchase_rates:
            return found
        return next((code for code in self.codes if code.purchase_rates
                     and not sum(r.percent for r in code.purchase_rates)), None)

    @property
    def listing(self) -> str:
        return ", ".join(code.label for code in self.codes if code.rates) or "none"


def read_company_tax(preferences: Mapping[str, Any], company_info: Mapping[str, Any],
                     tax_codes: Iterable[Mapping[str, Any]],
                     tax_rates: Iterable[Mapping[str, Any]]) -> CompanyTax:
    """The company's tax model from its country and preferences, and its sales tax codes."""
    country = str(company_info.get("Country") or "US").strip().upper()
    tax_prefs = preferences.get("TaxPrefs") or {}
    if country not in US_COUNTRIES:
        model = TaxModel.VAT
    elif tax_prefs.get("PartnerTaxEnabled"):
        model = TaxModel.AUTOMATED
    else:
        model = TaxModel.LEGACY
    rates = {str(rate.get("Id")): rate for rate in tax_rates}
    # Not one of Online's preferences: QuickBooks Desktop's, which cannot be told tax amounts.
    takes_amounts = tax_prefs.get("TakesTaxAmounts") is not False

    def listed(code: Mapping[str, Any], side: str) -> tuple[TaxRate, ...]:
        details = (code.get(side) or {}).get("TaxRateDetail") or []
        found = [rates.get(str((detail.get("TaxRateRef") or {}).get("value")))
                 for detail in details]
        return tuple(TaxRate(str(rate["Id"]), str(rate.get("Name", "")),
                             Decimal(str(rate.get("RateValue") or 0)))
                     for rate in found if rate is not None)

    codes = []
    for code in tax_codes:
        sales, purchases = listed(code, "SalesTaxRateList"), listed(code, "PurchaseTaxRateList")
        if (sales or purchases) and code.get("Active", True) is not False:
            codes.append(SalesTaxCode(str(code["Id"]), str(code.get("Name", "")), sales,
                                      purchases))
    return CompanyTax(country, model, tuple(codes), takes_amounts)


@dataclass
class TaxedLine:
    """A line of the document, with what the store says of its tax."""

    body: dict[str, Any]         # the line as sent: its TaxCodeRef is set here
    amount: Decimal              # its Amount (tax included when the prices include tax)
    taxable: bool = True
    rate: Decimal | None = None  # a percent, as the store gave it
    code: str = ""               # a QuickBooks tax code name, or the store's name for its tax
    item: bool = True            # an item line, not shipping: the discount is spread over these
    discount: Decimal = ZERO     # the line's own discount (on the document's discount line)
    label: str = ""              # "line 2 (SKU-1)", "shipping": for messages


@dataclass
class SaleTax:
    """Puts the order's tax on one sale document: line codes, GlobalTaxCalculation, detail."""

    order: Order
    company: CompanyTax
    using_sales_tax: bool = True
    tax_as_line: bool = False                   # the connection books tax as an item line
    legacy_code: Mapping[str, str] | None = None
    overrides: Mapping[str, str] | None = None  # rate or store tax name → QuickBooks code name

    def apply(self, body: dict[str, Any], lines: list[TaxedLine], tax: Decimal,
              discount: Decimal) -> None:
        """`discount`: the order's own, beside its lines' discounts."""
        if not self.using_sales_tax:
            return
        if self.company.model is TaxModel.VAT:
            _VatDocument(self, lines, ZERO if self.tax_as_line else tax, discount).apply(body)
            return
        if self.tax_as_line and self.company.model is TaxModel.LEGACY:
            return   # no line code: QuickBooks taxes nothing, the tax is the item line
        for line in lines:
            # Shipping stays untaxed: the store's tax is stated, and QuickBooks would tax it
            # only where the state does.
            code = "TAX" if line.taxable and line.item and not self.tax_as_line else "NON"
            _set_code(line, {"value": code})
        stated = ZERO if self.tax_as_line else tax
        if self.company.model is TaxModel.AUTOMATED:
            body["TxnTaxDetail"] = {"TotalTax": money_text(stated)}
        elif self.legacy_code or stated:
            detail: dict[str, Any] = {"TotalTax": money_text(stated)}
            if self.legacy_code:
                detail["TxnTaxCodeRef"] = dict(self.legacy_code)
            body["TxnTaxDetail"] = detail


class _VatDocument:
    """Codes by rate for every line, and the tax stated per rate where QuickBooks' own
    per-line rounding would not give the store's amount."""

    def __init__(self, sale: SaleTax, lines: list[TaxedLine], tax: Decimal,
                 discount: Decimal) -> None:
        self.sale = sale
        self.order = sale.order
        self.company = sale.company
        self.lines = lines
        self.tax = tax
        self.discount = discount   # the order's; its lines' own are on the lines
        self.discounted = bool(discount) or any(line.discount for line in lines)
        self.inclusive = self.order.prices_include_tax and not sale.tax_as_line

    def apply(self, body: dict[str, Any]) -> None:
        if self.inclusive and self.discounted:
            raise OrderDataError(
                "its prices include tax and it has a discount; QuickBooks cannot be told the "
                "tax of a discounted tax-inclusive sale to the cent, so nothing was booked. "
                "Book it by hand.", order=self.order.number, field="Prices Include Tax")
        codes = self._codes()
        per_rate = self._per_rate(codes)
        computed = sum((amount for _, amount, _ in per_rate.values()), ZERO)
        difference = self.tax - computed
        if abs(difference) > self._tolerance():
            raise OrderDataError(
                f"its Tax Amount is {money_text(self.tax)} but its lines' tax rates give "
                f"{money_text(computed)} ({self._rates_used(codes)}); nothing was booked. Check "
                "each line's Tax Rate.", order=self.order.number, field="Tax Amount")
        if not self.company.takes_tax_amounts:
            self._check_computed(body, codes)
        body["GlobalTaxCalculation"] = "TaxInclusive" if self.inclusive else "TaxExcluded"
        detail: dict[str, Any] = {"TotalTax": money_text(self.tax)}
        if difference or self.discounted:
            # QuickBooks' rounding per line (or its share of the discount) would differ from
            # the store's: state each rate's tax, the difference on the largest.
            largest = max(per_rate, key=lambda rate_id: per_rate[rate_id][1])
            rate, amount, net = per_rate[largest]
            per_rate[largest] = (rate, amount + difference, net)
            detail["TaxLine"] = [_tax_line(rate, amount, net)
                                 for rate, amount, net in per_rate.values()]
        body["TxnTaxDetail"] = detail
        for line, code in zip(self.lines, codes, strict=True):
            _set_code(line, code.ref)
            if self.inclusive:
                line.body["SalesItemLineDetail"]["TaxInclusiveAmt"] = money_text(line.amount)

    def _check_computed(self, body: dict[str, Any], codes: list[SalesTaxCode]) -> None:
        """QuickBooks Desktop cannot be told tax: what it works out line by line must be the
        store's."""
        computed = self._desktop_tax(body, codes)
        if computed != self.tax:
            raise OrderDataError(
                f"its Tax Amount is {money_text(self.tax)} but QuickBooks Desktop, which works "
                f"tax out line by line and cannot be told the store's, gives "
                f"{money_text(computed)} ({self._rates_used(codes)}); nothing was booked. Book "
                "it by hand.", order=self.order.number, field="Tax Amount")

    def _desktop_tax(self, body: dict[str, Any], codes: list[SalesTaxCode]) -> Decimal:
        """Each line's tax at its code, rounded to the cent, as QuickBooks Desktop works it
        out; a discount is a line of its own, taxed (negatively) at the code of the item
        lines it comes off, which must then share one."""
        if not self.discounted:
            return self._total(codes)
        item_codes = {code.id: code for line, code in zip(self.lines, codes, strict=True)
                      if line.item}
        if len(item_codes) > 1 and any(code.percent for code in item_codes.values()):
            raise OrderDataError(
                "it has a discount on lines of different tax codes "
                f"({self._rates_used(list(item_codes.values()))}); QuickBooks Desktop taxes a "
                "discount at one code, so it cannot be booked to the cent. Book it by hand.",
                order=self.order.number, field="Order Discount")
        code = next(iter(item_codes.values()))
        for line in body["Line"]:
            if line.get("DetailType") == "DiscountLineDetail":
                line["DiscountLineDetail"]["TaxCodeRef"] = dict(code.ref)
        taxes = [money(line.amount * line_code.percent / 100) for line, line_code in
                 zip(self.lines, codes, strict=True)]
        discount = sum(self._discount_shares(), ZERO)
        return sum(taxes, ZERO) - money(discount * code.percent / 100)

    def _tolerance(self) -> Decimal:
        return CENT * (len(self.lines) + 1)

    # ---- which code each line takes -------------------------------------------------------

    def _codes(self) -> list[SalesTaxCode]:
        """Each line's code: named, or at its rate; lines without one at the rate the order's
        tax implies."""
        if self.sale.tax_as_line:
            return [self._at(ZERO, line) for line in self.lines]
        given: list[SalesTaxCode | None] = [self._given(line) for line in self.lines]
        unknown = [index for index, code in enumerate(given) if code is None]
        if not unknown:
            return [code for code in given if code is not None]
        for candidate in self._guesses(unknown):
            if abs(self.tax - self._total(candidate)) <= self._tolerance():
                return candidate
        missing = self.lines[unknown[0]]
        raise OrderDataError(
            f"{missing.label} has no Tax Rate, and its Tax Amount {money_text(self.tax)} is not "
            f"what any of the company's tax codes gives ({self.company.listing}); give each line "
            "its Tax Rate.", order=self.order.number, field="Tax Rate")

    def _given(self, line: TaxedLine) -> SalesTaxCode | None:
        overrides = {key.strip().casefold(): value for key, value in
                     (self.sale.overrides or {}).items()}
        if line.code:
            name = overrides.get(line.code.strip().casefold(), line.code)
            code = self.company.named(name)
            if code is None:
                raise OrderDataError(
                    f"{line.label}: its tax '{line.code}' is not a tax code of the QuickBooks "
                    f"company ({self.company.listing}); map it to one in the connection's tax "
                    "codes.", order=self.order.number, field="Tax Code",
                    fix=Fix(Remedy.MAP_TAX_CODE, line.code))
            return code
        if line.rate is not None:
            return self._at(line.rate, line, overrides)
        if not self.tax or not line.taxable:
            return self._at(ZERO, line, overrides)
        if not line.item and self.order.shipping_tax_rate is not None:
            return self._at(self.order.shipping_tax_rate, line, overrides)
        return None

    def _at(self, rate: Decimal, line: TaxedLine,
            overrides: Mapping[str, str] | None = None) -> SalesTaxCode:
        for key, name in (overrides or {}).items():
            try:
                mapped = percent(key) == rate
            except MoneyError:
                continue   # a store tax name, not a rate
            if mapped and self.company.named(name) is not None:
                return self.company.named(name)   # type: ignore[return-value]
        code = self.company.at_rate(rate)
        if code is None:
            raise OrderDataError(
                f"{line.label}: its tax rate {rate.normalize():f} % is not the rate of any "
                f"sales tax code of the QuickBooks company ({self.company.listing}); add the "
                "rate in QuickBooks or map it in the connection's tax codes.",
                order=self.order.number, field="Tax Rate",
                fix=Fix(Remedy.MAP_TAX_CODE, f"{rate.normalize():f}"))
        return code

    def _guesses(self, unknown: list[int]) -> Iterable[list[SalesTaxCode]]:
        """Codes for the lines without one: each non-zero rate the company has for the items,
        with shipping untaxed or at that rate (delivery follows the goods)."""
        given = {index: self._given(line) for index, line in enumerate(self.lines)}
        for code in self.company.codes:
            if not code.percent:
                continue
            for shipping in (self.company.at_rate(ZERO), code):
                if shipping is None:
                    continue
                yield [given[index] or (shipping if not self.lines[index].item else code)
                       for index in range(len(self.lines))]

    # ---- what QuickBooks computes ---------------------------------------------------------

    def _total(self, codes: list[SalesTaxCode]) -> Decimal:
        return sum((amount for _, amount, _ in self._per_rate(codes).values()), ZERO)

    def _per_rate(self, codes: list[SalesTaxCode]) -> dict[str, tuple[TaxRate, Decimal, Decimal]]:
        """Per rate Id: the rate, the tax QuickBooks computes line by line, the net taxed."""
        shares = self._discount_shares()
        found: dict[str, tuple[TaxRate, Decimal, Decimal]] = {}
        for line, code, share in zip(self.lines, codes, shares, strict=True):
            if self.inclusive:
                whole = money(line.amount * code.percent / (100 + code.percent))
                net = line.amount - whole
                taxes = allocate(whole, [rate.percent for rate in code.rates])
            else:
                net = line.amount - share
                taxes = [money(net * rate.percent / 100) for rate in code.rates]
            for rate, amount in zip(code.rates, taxes, strict=True):
                _, before, net_before = found.get(rate.id, (rate, ZERO, ZERO))
                found[rate.id] = (rate, before + amount, net_before + net)
        return found

    def _discount_shares(self) -> list[Decimal]:
        """Each line's discount: its own, and its share of the order's in proportion to what
        is left of the item lines after their own (as a store computes it)."""
        items = [index for index, line in enumerate(self.lines) if line.item]
        shares = [line.discount for line in self.lines]
        if self.discount and items:
            left = [self.lines[index].amount - self.lines[index].discount for index in items]
            for index, amount in zip(items, allocate(self.discount, left), strict=True):
                shares[index] += amount
        return shares

    def _rates_used(self, codes: list[SalesTaxCode]) -> str:
        return ", ".join(dict.fromkeys(code.label for code in codes))


def _set_code(line: TaxedLine, ref: Mapping[str, str]) -> None:
    line.body["SalesItemLineDetail"]["TaxCodeRef"] = dict(ref)


def _tax_line(rate: TaxRate, amount: Decimal, net: Decimal) -> dict[str, Any]:
    return {"Amount": money_text(amount), "DetailType": "TaxLineDetail", "TaxLineDetail": {
        "TaxRateRef": {"value": rate.id, "name": rate.name}, "PercentBased": True,
        "TaxPercent": f"{rate.percent.normalize():f}", "NetAmountTaxable": money_text(net)}}
