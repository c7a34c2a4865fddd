"""The kind of a QuickBooks company as Configure shows it: country, tax mode and currencies."""

from __future__ import annotations

from dataclasses import dataclass

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.tracking import untracked_choices
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sync.company_setup import (
    class_tracking,
    company_tax,
    home_currency,
    location_label,
    multicurrency,
    tracks_locations,
)
from connex_desktop.sync.planner import ClassTracking
from connex_desktop.sync.tax import CompanyTax, TaxModel

# What a VAT/GST company's tax is called where it is (CompanyInfo.Country, code or name).
TAX_NAMES = {"GB": "VAT", "UK": "VAT", "UNITED KINGDOM": "VAT", "CA": "GST/HST",
             "CANADA": "GST/HST", "AU": "GST", "AUSTRALIA": "GST"}
COUNTRY_NAMES = {"US": "United States", "USA": "United States", "GB": "United Kingdom",
                 "UK": "United Kingdom", "CA": "Canada", "AU": "Australia"}


@dataclass(frozen=True)
class CompanyKind:
    """What decides how the company's documents are taxed and in which currencies, and
    whether they carry a class and a location."""

    tax: CompanyTax
    home_currency: str
    multicurrency: bool
    class_tracking: ClassTracking = ClassTracking.OFF
    track_locations: bool = False
    location_label: str = "Location"    # what the company calls its locations

    @property
    def tax_mode(self) -> str:
        if self.tax.model is TaxModel.AUTOMATED:
            return "US automated sales tax"
        if self.tax.model is TaxModel.LEGACY:
            return "US legacy sales tax"
        return TAX_NAMES.get(self.tax.country, "VAT/GST")

    def describe(self) -> str:
        country = COUNTRY_NAMES.get(self.tax.country, self.tax.country.title())
        currencies = "multicurrency on" if self.multicurrency else "multicurrency off"
        tracked = [f"classes per {self.class_tracking.value}"] * (
            self.class_tracking is not ClassTracking.OFF)
        tracked += [f"{self.location_label.lower()}s"] * self.track_locations
        tracking = f"; it tracks {' and '.join(tracked)}" if tracked else ""
        return (f"{country}, {self.tax_mode}, home currency {self.home_currency}, "
                f"{currencies}{tracking}.")

    def rate_table(self) -> dict[str, str]:
        """A VAT/GST company's sales rates → its first sales code of each (the code the engine
        chooses for that rate when the table does not say); US companies have no such table."""
        table: dict[str, str] = {}
        if self.tax.model is not TaxModel.VAT:
            return table
        for code in self.tax.codes:
            if code.rates:
                table.setdefault(f"{code.percent.normalize():f}", code.name)
        return table


def company_kind(refs: ReferenceCache) -> CompanyKind:
    """The company's kind from the facts a sync run reads (preferences, CompanyInfo, tax codes
    and rates)."""
    preferences = refs.preferences()
    return CompanyKind(company_tax(preferences, refs.company_info(), refs),
                       home_currency(preferences), multicurrency(preferences),
                       class_tracking(preferences), tracks_locations(preferences),
                       location_label(preferences))


def untracked_for(kind: CompanyKind | None, product: QuickBooksProduct) -> dict[str, str]:
    """By mapping and rule field, why the company (its `kind`, None: not read yet) takes no
    class or location, and how to change that."""
    if kind is None:
        return untracked_choices(product, None, None)
    return untracked_choices(product, kind.class_tracking is not ClassTracking.OFF,
                             kind.track_locations)
