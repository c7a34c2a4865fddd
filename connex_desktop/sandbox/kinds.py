"""Company kinds the sandbox can be: country, currency, tax model and a fresh company's taxes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

# How QuickBooks taxes a sales form in each kind of company:
LEGACY = "legacy"  # US before late 2017: lines TAX/NON, one transaction tax code
AST = "ast"        # US automated sales tax: QuickBooks computes tax from the ship-to address
GLOBAL = "global"  # UK, CA, AU, ...: every line carries one of the company's own tax codes

# Where a company tracks classes (Account and settings, Advanced, "Track classes"): not at all,
# one class a transaction (AccountingInfoPrefs.ClassTrackingPerTxn) or one a line
# (ClassTrackingPerTxnLine).
CLASSES_OFF = ""
CLASS_PER_TRANSACTION = "transaction"
CLASS_PER_LINE = "line"


@dataclass(frozen=True)
class TaxRateSpec:
    name: str
    percent: Decimal
    agency: str


@dataclass(frozen=True)
class TaxCodeSpec:
    name: str
    description: str
    sales: tuple[str, ...] = ()      # names of TaxRateSpec, in TaxOrder
    purchase: tuple[str, ...] = ()
    taxable: bool = True


@dataclass(frozen=True)
class Jurisdiction:
    """Where automated sales tax applies one code: the states (codes and names) it covers."""

    code: str  # name of a TaxCodeSpec
    states: tuple[str, ...]


@dataclass(frozen=True)
class CompanyKind:
    key: str
    country: str          # CompanyInfo.Country
    tax_model: str
    home_currency: str
    legal_suffix: str
    address: dict[str, str]
    phone: str
    tax_payable_account: str
    rates: tuple[TaxRateSpec, ...]
    codes: tuple[TaxCodeSpec, ...]
    # Non-US: the 6000 fault's detail for a line without a tax code.
    missing_code_detail: str = ""
    jurisdictions: tuple[Jurisdiction, ...] = field(default=())
    default_jurisdiction: str = ""  # code for a state not in `jurisdictions`
    class_tracking: str = CLASSES_OFF
    track_locations: bool = False   # AccountingInfoPrefs.TrackDepartments
    location_terminology: str = ""  # DepartmentTerminology ("Store", "Division"…); "": Location

    @property
    def agencies(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rate.agency for rate in self.rates))

    def jurisdiction_code(self, state: str) -> str:
        """The automated-sales-tax code for a ship-to state (a two-letter code or a name)."""
        wanted = state.strip().casefold()
        for jurisdiction in self.jurisdictions:
            if wanted in (s.casefold() for s in jurisdiction.states):
                return jurisdiction.code
        return self.default_jurisdiction


def _rate(name: str, percent: str, agency: str) -> TaxRateSpec:
    return TaxRateSpec(name, Decimal(percent), agency)


_CDTFA = "California Department of Tax and Fee Administration"
_US_ADDRESS = {"Line1": "2150 Redwood Hwy", "City": "Mill Valley", "CountrySubDivisionCode": "CA",
               "PostalCode": "94941", "Country": "USA"}
_US_LINE_CODES = (TaxCodeSpec("TAX", "Taxable"), TaxCodeSpec("NON", "Non-Taxable", taxable=False))

US = CompanyKind(
    key="us", country="US", tax_model=LEGACY, home_currency="USD", legal_suffix="LLC",
    address=_US_ADDRESS, phone="(415) 555-0142",
    tax_payable_account="Board of Equalization Payable",
    rates=(_rate("California", "7.25", _CDTFA), _rate("Marin County", "1.00", _CDTFA)),
    codes=(*_US_LINE_CODES,
           TaxCodeSpec("CA Sales Tax", "California and Marin County sales tax",
                       ("California", "Marin County")),
           TaxCodeSpec("Out of State", "Shipped out of state, no sales tax", taxable=False)))

# Automated sales tax: a deterministic table standing in for Intuit's rate service. New York
# City's combined rate is 8.875 % (state 4 %, city 4.5 %, MCTD 0.375 %); the company's own state
# (California) is the destination when a document has no ship-to address.
_NY = "New York State Department of Taxation and Finance"
US_AST = CompanyKind(
    key="us-ast", country="US", tax_model=AST, home_currency="USD", legal_suffix="LLC",
    address=_US_ADDRESS, phone="(415) 555-0142", tax_payable_account="Sales Tax Payable",
    rates=(_rate("NY State", "4.000", _NY), _rate("New York City", "4.500", _NY),
           _rate("NY MCTD", "0.375", _NY), _rate("California", "7.25", _CDTFA),
           _rate("Texas", "6.25", "Texas Comptroller of Public Accounts"),
           _rate("Washington", "6.5", "Washington State Department of Revenue"),
           _rate("Other state", "6.00", "State Department of Revenue")),
    codes=(*_US_LINE_CODES,
           TaxCodeSpec("New York", "New York City", ("NY State", "New York City", "NY MCTD")),
           TaxCodeSpec("California", "California", ("California",)),
           TaxCodeSpec("Texas", "Texas", ("Texas",)),
           TaxCodeSpec("Washington", "Washington", ("Washington",)),
           TaxCodeSpec("No sales tax", "States without a sales tax", taxable=False),
           TaxCodeSpec("Other state", "Any other state", ("Other state",))),
    jurisdictions=(Jurisdiction("New York", ("NY", "New York")),
                   Jurisdiction("California", ("CA", "California")),
                   Jurisdiction("Texas", ("TX", "Texas")),
                   Jurisdiction("Washington", ("WA", "Washington")),
                   Jurisdiction("No sales tax", ("OR", "Oregon", "MT", "Montana", "NH",
                                                 "New Hampshire", "DE", "Delaware", "AK",
                                                 "Alaska"))),
    default_jurisdiction="Other state")


def _both(code: str, description: str, rate: str) -> TaxCodeSpec:
    """A code with one rate for sales and one for purchases, named '<rate> (sales)' etc."""
    return TaxCodeSpec(code, description, (f"{rate} (sales)",), (f"{rate} (purchases)",))


def _sides(name: str, percent: str, agency: str) -> tuple[TaxRateSpec, TaxRateSpec]:
    return _rate(f"{name} (sales)", percent, agency), _rate(f"{name} (purchases)", percent, agency)


# UK VAT codes a new QuickBooks company sets up ("20.0% S", "5.0% R", "0.0% Z", "Exempt",
# "No VAT": Intuit's UK help, "VAT codes in QuickBooks Online").
_HMRC = "HM Revenue & Customs"
UK = CompanyKind(
    key="uk", country="GB", tax_model=GLOBAL, home_currency="GBP", legal_suffix="Ltd",
    address={"Line1": "14 Canal Street", "City": "Manchester", "PostalCode": "M1 3HE",
             "Country": "United Kingdom"},
    phone="0161 555 0142", tax_payable_account="VAT Control",
    rates=(*_sides("20.0% S", "20", _HMRC), *_sides("5.0% R", "5", _HMRC),
           *_sides("0.0% Z", "0", _HMRC), *_sides("Exempt", "0", _HMRC),
           *_sides("No VAT", "0", _HMRC)),
    codes=(_both("20.0% S", "Standard rate VAT", "20.0% S"),
           _both("5.0% R", "Reduced rate VAT", "5.0% R"),
           _both("0.0% Z", "Zero rate VAT", "0.0% Z"),
           _both("Exempt", "Exempt from VAT", "Exempt"),
           _both("No VAT", "Outside the scope of VAT", "No VAT")),
    missing_code_detail="Make sure all your transactions have a VAT rate before you save.")

# An Ontario company: GST/HST codes for its province and the common others, as QuickBooks
# Canada names them ("HST ON", "GST/PST BC", "GST/QST QC - 9.975", "Zero-rated", "Exempt",
# "Out of Scope"). PST is not recoverable, so it has no purchase rate.
_CRA = "Canada Revenue Agency"
CA = CompanyKind(
    key="ca", country="CA", tax_model=GLOBAL, home_currency="CAD", legal_suffix="Inc.",
    address={"Line1": "220 King Street West", "City": "Toronto", "CountrySubDivisionCode": "ON",
             "PostalCode": "M5H 1K4", "Country": "Canada"},
    phone="(416) 555-0142", tax_payable_account="GST/HST Payable",
    rates=(*_sides("GST", "5", _CRA), *_sides("HST ON", "13", _CRA),
           _rate("PST BC (sales)", "7", "Minister of Finance (BC)"),
           *_sides("QST", "9.975", "Revenu Québec"), *_sides("Zero-rated", "0", _CRA),
           *_sides("Exempt", "0", _CRA), *_sides("Out of Scope", "0", _CRA)),
    codes=(_both("GST", "GST", "GST"), _both("HST ON", "HST Ontario", "HST ON"),
           TaxCodeSpec("GST/PST BC", "GST and British Columbia PST",
                       ("GST (sales)", "PST BC (sales)"), ("GST (purchases)",)),
           TaxCodeSpec("GST/QST QC - 9.975", "GST and Quebec QST", ("GST (sales)", "QST (sales)"),
                       ("GST (purchases)", "QST (purchases)")),
           _both("Zero-rated", "Zero-rated supplies", "Zero-rated"),
           _both("Exempt", "Exempt supplies", "Exempt"),
           _both("Out of Scope", "Outside the scope of GST/HST", "Out of Scope")),
    missing_code_detail="Make sure all your transactions have a GST/HST rate before you save.")

# Australia: "GST" is made of the "GST (sales)" rate (Intuit, "Manage sales tax for non-US
# locales"); "GST on non-capital" and "GST on capital" are purchase codes only.
_ATO = "Australian Taxation Office"
AU = CompanyKind(
    key="au", country="AU", tax_model=GLOBAL, home_currency="AUD", legal_suffix="Pty Ltd",
    address={"Line1": "88 George Street", "City": "Sydney", "CountrySubDivisionCode": "NSW",
             "PostalCode": "2000", "Country": "Australia"},
    phone="(02) 5550 0142", tax_payable_account="GST Payable",
    rates=(*_sides("GST", "10", _ATO), *_sides("GST free", "0", _ATO),
           _rate("Export (sales)", "0", _ATO), *_sides("Input taxed", "0", _ATO),
           *_sides("Out of scope", "0", _ATO), _rate("GST on capital (purchases)", "10", _ATO)),
    codes=(_both("GST", "GST", "GST"), _both("GST free", "GST free", "GST free"),
           TaxCodeSpec("Export", "GST free export", ("Export (sales)",)),
           _both("Input taxed", "Input taxed", "Input taxed"),
           _both("Out of scope", "Out of scope", "Out of scope"),
           TaxCodeSpec("GST on non-capital", "GST on non-capital purchases",
                       purchase=("GST (purchases)",)),
           TaxCodeSpec("GST on capital", "GST on capital purchases",
                       purchase=("GST on capital (purchases)",))),
    # Intuit documents the UK and Canadian wording; Australia's follows the same pattern.
    missing_code_detail="Make sure all your transactions have a GST rate before you save.")

# A US company that tracks a class and a location per transaction, its locations called
# "Stores"; and one that tracks a class on each line.
US_TRACKED = replace(US, key="us-tracked", class_tracking=CLASS_PER_TRANSACTION,
                     track_locations=True, location_terminology="Store")
US_LINE_CLASSES = replace(US, key="us-line-classes", class_tracking=CLASS_PER_LINE)

KINDS = {kind.key: kind for kind in (US, US_AST, UK, CA, AU, US_TRACKED, US_LINE_CLASSES)}
DEFAULT_KIND = US.key


def company_kind(key: str) -> CompanyKind:
    try:
        return KINDS[key]
    except KeyError:
        raise ValueError(f"unknown company kind {key!r}; one of {', '.join(KINDS)}") from None
