"""Where the demo store sells: each company kind's currency, buyers, prices, shipping and tax."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from connex_desktop.core.model import Address, Buyer
from connex_desktop.sandbox.currencies import day_rate


@dataclass(frozen=True)
class DemoCustomer:
    buyer: Buyer
    address: Address
    # Businesses usually buy on a purchase order and pay later.
    buys_on_account: bool = False


def demo_customer(name: str, email: str, line1: str, city: str, region: str, postal_code: str,
             country: str = "USA", company: str = "", phone: str = "") -> DemoCustomer:
    return DemoCustomer(Buyer(name=name, email=email, company=company, phone=phone),
                        Address(line1=line1, city=city, region=region, postal_code=postal_code,
                                country=country),
                        buys_on_account=bool(company))


@dataclass(frozen=True)
class LineTax:
    """A line's VAT/GST: the rates QuickBooks charges one by one (GST and PST), and the code's
    name where a zero rate alone does not say which (exports, outside the scope)."""

    parts: tuple[Decimal, ...]
    code: str = ""

    @property
    def rate(self) -> Decimal:
        return sum(self.parts, Decimal(0))


def _tax(*parts: str, code: str = "") -> LineTax:
    return LineTax(tuple(Decimal(part) for part in parts), code)


# The currency buyers of a country pay in, where a multicurrency company takes it.
COUNTRY_CURRENCIES = {"USA": "USD", "United Kingdom": "GBP", "Canada": "CAD",
                      "Australia": "AUD", "New Zealand": "NZD", "Ireland": "EUR",
                      "France": "EUR", "Germany": "EUR", "Italy": "EUR"}
# Shop prices per US dollar of the catalogue, and shipping abroad, in each currency.
PRICE_FACTORS = {"USD": Decimal("1"), "GBP": Decimal("0.8"), "EUR": Decimal("0.92"),
                 "CAD": Decimal("1.35"), "AUD": Decimal("1.5"), "NZD": Decimal("1.65")}
INTERNATIONAL_SHIPPING = {"USD": Decimal("24.00"), "GBP": Decimal("19.95"),
                          "EUR": Decimal("22.00"), "CAD": Decimal("34.00"),
                          "AUD": Decimal("39.95"), "NZD": Decimal("42.00")}


def local_price(price: Decimal, currency: str) -> Decimal:
    """A catalogue price (US dollars) as the shop shows it in `currency`: a .99 price."""
    factor = PRICE_FACTORS[currency]
    if factor == 1:
        return price
    return max((price * factor).quantize(Decimal("1")), Decimal("1")) - Decimal("0.01")


@dataclass(frozen=True)
class Market:
    """The demo store as it sells into one kind of company."""

    country: str                       # its buyers' country, as the store writes it
    currency: str
    customers: tuple[DemoCustomer, ...]
    shipping: tuple[Decimal, ...]      # home delivery choices (60/30/10 %)
    free_shipping_from: Decimal
    # VAT/GST per line (None: US sales tax on the order). Regional rates by state or province
    # ("" for the rest), goods taxed otherwise by SKU prefix, and exports.
    regional: Mapping[str, LineTax] | None = None
    by_sku: Mapping[str, LineTax] = field(default_factory=dict)
    export: LineTax = field(default_factory=lambda: _tax("0"))
    # Shops show prices with the tax included (UK, Australia).
    inclusive: bool = False

    def currency_for(self, address: Address, multicurrency: bool) -> str:
        """What the buyer pays in: their own currency where the company can take it."""
        own = COUNTRY_CURRENCIES.get(address.country, self.currency)
        return own if multicurrency and own in PRICE_FACTORS else self.currency

    def exchange_rate(self, currency: str) -> Decimal | None:
        return None if currency == self.currency else day_rate(currency, self.currency)

    def international_shipping(self, currency: str) -> Decimal:
        return INTERNATIONAL_SHIPPING[currency]

    def line_tax(self, sku: str, address: Address) -> LineTax:
        assert self.regional is not None
        if address.country != self.country:
            return self.export
        for prefix, tax in self.by_sku.items():
            if sku.startswith(prefix):
                return tax
        return self.regional.get(address.region, self.regional[""])


# ---- the UK: VAT, prices include it ---------------------------------------------------------

_UK_FOOD = _tax("0")   # food and printed maps are zero-rated
UK_MARKET = Market(
    country="United Kingdom", currency="GBP",
    customers=(
        demo_customer("Zoë Brontë", "zoe.bronte@example.co.uk", "3 Haworth Lane", "Keighley",
                 "West Yorkshire", "BD22 8DR", "United Kingdom"),
        demo_customer("Siân Llywelyn", "sian.llywelyn@example.co.uk", "21 Castle St", "Cardiff",
                 "", "CF10 1BS", "United Kingdom"),
        demo_customer("Oliver Hughes", "oliver.hughes@example.com", "8 Deansgate", "Manchester",
                 "", "M3 2BW", "United Kingdom"),
        demo_customer("Amelia Patel", "amelia.patel@example.co.uk", "140 Kensington High St",
                 "London", "", "W8 7RL", "United Kingdom"),
        demo_customer("Ruaridh MacLeod", "ruaridh@example.scot", "4 Lochside", "Inverness", "",
                 "IV3 5LS", "United Kingdom"),
        demo_customer("Grace O'Neill", "grace.oneill@example.com", "55 Botanic Ave", "Belfast", "",
                 "BT7 1JL", "United Kingdom"),
        demo_customer("Jörg Schäfer", "joerg.schaefer@example.de", "Hauptstraße 5", "Freiburg",
                 "BW", "79098", "Germany"),
        demo_customer("Aoife Byrne", "aoife.byrne@example.ie", "12 Quay St", "Galway", "",
                 "H91 X2YT", "Ireland"),
        demo_customer("Emily Carter", "emily.carter@example.com", "22 Sequoia Ct", "Mill Valley",
                 "CA", "94941"),
        demo_customer("Tom Ashworth", "tom@example.co.uk", "Unit 3, Mill Yard", "Hebden Bridge",
                 "", "HX7 8AD", "United Kingdom", company="Pennine Trails Ltd"),
        demo_customer("Harriet Cole", "orders@example-scouts.org.uk", "Gilwell Park", "London", "",
                 "E4 7QW", "United Kingdom", company="1st Chingford Scout Group"),
    ),
    shipping=(Decimal("3.95"), Decimal("4.99"), Decimal("9.95")),
    free_shipping_from=Decimal("100.00"),
    regional={"": _tax("20")},
    by_sku={"FUEL-": _tax("5"),   # fuel for domestic use is at the reduced rate
            "MEAL-": _UK_FOOD, "COF-": _UK_FOOD, "SMPL-COF": _UK_FOOD, "BAR-": _UK_FOOD,
            "MAP-": _UK_FOOD,
            "GFT-CARD": _tax("0", code="No VAT")},   # a voucher is outside the scope of VAT
    export=_tax("0", code="0.0% Z"),
    inclusive=True)

# ---- Canada: an Ontario company; the buyer's province sets GST, HST or GST+PST --------------

_CA_GROCERIES = _tax("0", code="Zero-rated")
CA_MARKET = Market(
    country="Canada", currency="CAD",
    customers=(
        demo_customer("Élodie Tremblay", "elodie.tremblay@example.ca", "88 Queen St W", "Toronto",
                 "ON", "M5H 2N2", "Canada"),
        demo_customer("Liam Wilson", "liam.wilson@example.com", "450 Rideau St", "Ottawa", "ON",
                 "K1N 5Z4", "Canada"),
        demo_customer("Priya Sandhu", "priya.sandhu@example.ca", "1020 Robson St", "Vancouver",
                 "BC", "V6E 1A7", "Canada"),
        demo_customer("Kenji Nakamura", "kenji.n@example.com", "77 Government St", "Victoria",
                 "BC", "V8W 1W5", "Canada"),
        demo_customer("Shannon Lafleur", "shannon.lafleur@example.ca", "310 8 Ave SW", "Calgary",
                 "AB", "T2P 1C7", "Canada"),
        demo_customer("Marc-André Roy", "marc.roy@example.ca", "40 Whyte Ave", "Edmonton", "AB",
                 "T6E 1Z6", "Canada"),
        demo_customer("Grace Liu", "grace.liu@example.com", "800 Broadway", "New York", "NY",
                 "10003"),
        demo_customer("Tom Becker", "tom@example.com", "55 Summit Rd", "Denver", "CO", "80203",
                 company="Trailhead Adventures LLC"),
        demo_customer("Anika Sørensen", "buying@example-algonquin.ca", "1 Portage Rd", "Huntsville",
                 "ON", "P1H 2J3", "Canada", company="Algonquin Outfitters Co-op"),
    ),
    shipping=(Decimal("9.95"), Decimal("14.95"), Decimal("24.95")),
    free_shipping_from=Decimal("200.00"),
    regional={"ON": _tax("13"), "BC": _tax("5", "7"), "": _tax("5")},
    by_sku={"MEAL-": _CA_GROCERIES, "COF-": _CA_GROCERIES, "SMPL-COF": _CA_GROCERIES,
            "GFT-CARD": _tax("0", code="Out of Scope")},
    export=_tax("0", code="Zero-rated"))

# ---- Australia: GST, prices include it ------------------------------------------------------

_AU_FOOD = _tax("0", code="GST free")
AU_MARKET = Market(
    country="Australia", currency="AUD",
    customers=(
        demo_customer("Charlotte Nguyen", "charlotte.nguyen@example.com.au", "12 Crown St",
                 "Surry Hills", "NSW", "2010", "Australia"),
        demo_customer("Jack Thompson", "jack.t@example.com", "301 Flinders Ln", "Melbourne", "VIC",
                 "3000", "Australia"),
        demo_customer("Mia Papadopoulos", "mia.p@example.com.au", "45 Adelaide St", "Brisbane",
                 "QLD", "4000", "Australia"),
        demo_customer("Wiremu Tane", "wiremu@example.co.nz", "18 Cuba St", "Wellington", "",
                 "6011", "New Zealand"),
        demo_customer("Ngaio Walker", "ngaio.walker@example.com.au", "9 Hay St", "Perth", "WA",
                 "6000", "Australia"),
        demo_customer("Lachlan Reid", "lachlan@example.com.au", "2 Salamanca Pl", "Hobart", "TAS",
                 "7000", "Australia", company="Tasman Treks Pty Ltd"),
    ),
    shipping=(Decimal("9.95"), Decimal("12.95"), Decimal("19.95")),
    free_shipping_from=Decimal("200.00"),
    regional={"": _tax("10")},
    by_sku={"MEAL-": _AU_FOOD, "COF-": _AU_FOOD, "SMPL-COF": _AU_FOOD,
            "GFT-CARD": _tax("0", code="Out of scope")},
    export=_tax("0", code="Export"),
    inclusive=True)
