"""The demo company's realistic starting data, and the function that loads it into a company."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Protocol

from connex_desktop.sandbox.kinds import (
    AST,
    CLASS_PER_LINE,
    CLASS_PER_TRANSACTION,
    GLOBAL,
    US,
    CompanyKind,
)

COMPANY_NAME = "Maple & Pine Outfitters"
INVENTORY_START_DATE = "2025-01-01"
OPENING_QTY_ON_HAND = 40


@dataclass(frozen=True)
class SeedVendor:
    name: str
    email: str
    line1: str
    city: str
    region: str
    postal_code: str
    country: str


@dataclass(frozen=True)
class SeedItem:
    sku: str
    name: str
    type: str  # "Inventory" | "NonInventory" | "Service"
    price: Decimal
    vendor: str | None
    purchase_cost: Decimal | None


@dataclass(frozen=True)
class SeedAccount:
    name: str
    account_type: str
    sub_type: str
    acct_num: str


@dataclass(frozen=True)
class SeedTerm:
    name: str
    due_days: int


@dataclass(frozen=True)
class SeedPaymentMethod:
    name: str
    type: str  # "CREDIT_CARD" | "NON_CREDIT_CARD"


# Account names the server and the items refer to; kept as constants so nothing retypes them.
INCOME_ACCOUNT = "Sales of Product Income"
SERVICE_INCOME_ACCOUNT = "Services"
COGS_ACCOUNT = "Cost of Goods Sold"
INVENTORY_ASSET_ACCOUNT = "Inventory Asset"
UNDEPOSITED_FUNDS_ACCOUNT = "Undeposited Funds"
AR_ACCOUNT = "Accounts Receivable (A/R)"
AP_ACCOUNT = "Accounts Payable (A/P)"
DISCOUNT_ACCOUNT = "Discounts given"
SHIPPING_INCOME_ACCOUNT = "Shipping Income"
SALES_TAX_PAYABLE_ACCOUNT = US.tax_payable_account

ACCOUNTS: tuple[SeedAccount, ...] = (
    SeedAccount("Checking", "Bank", "Checking", "1000"),
    SeedAccount("Savings", "Bank", "Savings", "1010"),
    SeedAccount(UNDEPOSITED_FUNDS_ACCOUNT, "Other Current Asset", "UndepositedFunds", "1200"),
    SeedAccount(AR_ACCOUNT, "Accounts Receivable", "AccountsReceivable", "1100"),
    SeedAccount(INVENTORY_ASSET_ACCOUNT, "Other Current Asset", "Inventory", "1300"),
    SeedAccount(AP_ACCOUNT, "Accounts Payable", "AccountsPayable", "2000"),
    SeedAccount("Visa Credit Card", "Credit Card", "CreditCard", "2100"),
    SeedAccount(SALES_TAX_PAYABLE_ACCOUNT, "Other Current Liability",
                "SalesTaxPayable", "2200"),
    SeedAccount("Opening Balance Equity", "Equity", "OpeningBalanceEquity", "3000"),
    SeedAccount("Retained Earnings", "Equity", "RetainedEarnings", "3100"),
    SeedAccount(INCOME_ACCOUNT, "Income", "SalesOfProductIncome", "4000"),
    SeedAccount(SERVICE_INCOME_ACCOUNT, "Income", "ServiceFeeIncome", "4100"),
    SeedAccount(SHIPPING_INCOME_ACCOUNT, "Income", "OtherPrimaryIncome", "4200"),
    SeedAccount(DISCOUNT_ACCOUNT, "Income", "DiscountsRefundsGiven", "4300"),
    SeedAccount("Refunds to Customers", "Income", "DiscountsRefundsGiven", "4310"),
    SeedAccount(COGS_ACCOUNT, "Cost of Goods Sold", "SuppliesMaterialsCogs", "5000"),
    SeedAccount("Shipping and Delivery Expense", "Expense", "ShippingFreightDelivery", "6100"),
    SeedAccount("Merchant Account Fees", "Expense", "BankCharges", "6200"),
    SeedAccount("Advertising", "Expense", "AdvertisingPromotional", "6300"),
)

PAYMENT_METHODS: tuple[SeedPaymentMethod, ...] = (
    SeedPaymentMethod("Cash", "NON_CREDIT_CARD"),
    SeedPaymentMethod("Check", "NON_CREDIT_CARD"),
    SeedPaymentMethod("Visa", "CREDIT_CARD"),
    SeedPaymentMethod("MasterCard", "CREDIT_CARD"),
    SeedPaymentMethod("American Express", "CREDIT_CARD"),
    SeedPaymentMethod("Discover", "CREDIT_CARD"),
    SeedPaymentMethod("PayPal", "NON_CREDIT_CARD"),
    SeedPaymentMethod("Gift card", "NON_CREDIT_CARD"),
    SeedPaymentMethod("Bank transfer", "NON_CREDIT_CARD"),
)

TERMS: tuple[SeedTerm, ...] = (
    SeedTerm("Due on receipt", 0),
    SeedTerm("Net 15", 15),
    SeedTerm("Net 30", 30),
)

CLASSES: tuple[str, ...] = ("Online Store", "Retail Shop", "Wholesale")
LOCATIONS: tuple[str, ...] = ("Mill Valley", "Portland", "Web")  # Department, in the API

VENDORS: tuple[SeedVendor, ...] = (
    SeedVendor("Cascade Outdoor Supply", "orders@cascade-outdoor.example", "418 Industrial Way",
               "Portland", "OR", "97210", "USA"),
    SeedVendor("Summit Textiles Co", "sales@summit-textiles.example", "77 Mill Street",
               "Burlington", "VT", "05401", "USA"),
    SeedVendor("Ridgeline Gear Wholesale", "wholesale@ridgeline.example", "1290 Foothill Blvd",
               "Boulder", "CO", "80302", "USA"),
    SeedVendor("Pacific Coast Ceramics", "hello@pc-ceramics.example", "55 Harbor Drive",
               "Monterey", "CA", "93940", "USA"),
    SeedVendor("Northwoods Candle Works", "orders@northwoods-candles.example",
               "9 Birch Lane", "Duluth", "MN", "55802", "USA"),
    SeedVendor("Lumière Papeterie", "commandes@lumiere-papeterie.example",
               "14 Rue des Artisans", "Montréal", "QC", "H2X 1Y4", "Canada"),
    SeedVendor("Trailhead Nutrition", "trade@trailhead-nutrition.example", "300 Canyon Rd",
               "Salt Lake City", "UT", "84103", "USA"),
)

_CASCADE, _SUMMIT, _RIDGELINE, _PACIFIC, _NORTHWOODS, _LUMIERE, _TRAILHEAD = (
    v.name for v in VENDORS
)


def _item(sku: str, name: str, type_: str, price: str, vendor: str | None,
          cost: str | None) -> SeedItem:
    return SeedItem(sku, name, type_, Decimal(price), vendor,
                    Decimal(cost) if cost is not None else None)


CATALOG: tuple[SeedItem, ...] = (
    _item("TNT-2P-GRN", "Backpacking Tent 2P - Green", "Inventory", "249.00", _CASCADE, "132.50"),
    _item("TNT-4P-GRY", "Family Tent 4P - Grey", "Inventory", "389.00", _CASCADE, "201.00"),
    _item("SLB-20F-REG", "Sleeping Bag 20F - Regular", "Inventory", "179.95", _CASCADE, "88.40"),
    _item("SLB-20F-LNG", "Sleeping Bag 20F - Long", "Inventory", "194.95", _CASCADE, "95.10"),
    _item("PAD-INF-R", "Inflatable Sleeping Pad", "Inventory", "89.50", _CASCADE, "41.25"),
    _item("STV-CMP-1", "Compact Camp Stove", "Inventory", "64.99", _RIDGELINE, "29.80"),
    _item("FUEL-230G", "Isobutane Fuel 230 g", "Inventory", "7.49", _RIDGELINE, "3.10"),
    _item("HDL-400L", "Headlamp 400 lm", "Inventory", "39.99", _RIDGELINE, "16.75"),
    _item("BTL-1L-STL", "Insulated Bottle 1 L - Steel", "Inventory", "34.00", _RIDGELINE, "12.60"),
    _item("BTL-750-BLU", "Insulated Bottle 750 ml - Blue", "Inventory", "29.00", _RIDGELINE,
          "10.90"),
    _item("PCK-35L-RED", "Daypack 35 L - Red", "Inventory", "119.00", _RIDGELINE, "54.00"),
    _item("PCK-65L-BLK", "Trekking Pack 65 L - Black", "Inventory", "259.00", _RIDGELINE,
          "121.00"),
    _item("POL-CRB-PR", "Carbon Trekking Poles (pair)", "Inventory", "139.00", _RIDGELINE,
          "63.00"),
    _item("KNF-FLD-3", "Folding Knife 3 in", "Inventory", "45.00", _RIDGELINE, "19.50"),
    _item("FAK-TRL", "Trail First Aid Kit", "Inventory", "27.95", _TRAILHEAD, "11.20"),
    _item("JKT-RN-M-S", "Rain Jacket Men S", "Inventory", "149.00", _SUMMIT, "62.00"),
    _item("JKT-RN-M-M", "Rain Jacket Men M", "Inventory", "149.00", _SUMMIT, "62.00"),
    _item("JKT-RN-M-L", "Rain Jacket Men L", "Inventory", "149.00", _SUMMIT, "62.00"),
    _item("JKT-RN-W-S", "Rain Jacket Women S", "Inventory", "149.00", _SUMMIT, "62.00"),
    _item("JKT-RN-W-M", "Rain Jacket Women M", "Inventory", "149.00", _SUMMIT, "62.00"),
    _item("FLC-ZIP-M", "Fleece Zip Pullover M", "Inventory", "79.00", _SUMMIT, "31.50"),
    _item("FLC-ZIP-L", "Fleece Zip Pullover L", "Inventory", "79.00", _SUMMIT, "31.50"),
    _item("SCK-WOOL-M", "Merino Hiking Socks M", "Inventory", "22.00", _SUMMIT, "7.80"),
    _item("SCK-WOOL-L", "Merino Hiking Socks L", "Inventory", "22.00", _SUMMIT, "7.80"),
    _item("BNE-KNT-GRY", "Knit Beanie - Grey", "Inventory", "24.00", _SUMMIT, "8.25"),
    _item("GLV-LNR-M", "Liner Gloves M", "Inventory", "19.50", _SUMMIT, "6.90"),
    _item("TSH-LOGO-M", "Logo T-Shirt M", "Inventory", "28.00", _SUMMIT, "9.40"),
    _item("TSH-LOGO-L", "Logo T-Shirt L", "Inventory", "28.00", _SUMMIT, "9.40"),
    _item("MUG-ENM-12", "Enamel Camp Mug 12 oz", "Inventory", "18.00", _PACIFIC, "6.20"),
    _item("MUG-CER-SET", "Ceramic Mug Set of 4", "Inventory", "58.00", _PACIFIC, "22.00"),
    _item("BWL-CER-LG", "Stoneware Serving Bowl", "Inventory", "46.00", _PACIFIC, "17.30"),
    _item("PLT-CER-4", "Stoneware Plates Set of 4", "Inventory", "64.00", _PACIFIC, "25.60"),
    _item("VAS-CER-TL", "Tall Glazed Vase", "Inventory", "72.00", _PACIFIC, "28.80"),
    _item("CND-PINE-8", "Pine Forest Candle 8 oz", "Inventory", "26.00", _NORTHWOODS, "8.50"),
    _item("CND-CEDR-8", "Cedar & Smoke Candle 8 oz", "Inventory", "26.00", _NORTHWOODS, "8.50"),
    _item("CND-LAKE-16", "Lakeside Candle 16 oz", "Inventory", "42.00", _NORTHWOODS, "13.90"),
    _item("MTCH-JAR", "Match Jar with Striker", "Inventory", "14.00", _NORTHWOODS, "4.60"),
    _item("NTB-LIN-A5", "Linen Notebook A5", "Inventory", "21.00", _LUMIERE, "7.10"),
    _item("NTB-TRV-REF", "Traveler's Notebook Refill", "Inventory", "9.50", _LUMIERE, "2.95"),
    _item("PEN-BRS-01", "Brass Pocket Pen", "Inventory", "48.00", _LUMIERE, "19.00"),
    _item("MAP-TRL-CA", "Waterproof Trail Map - California", "Inventory", "16.95", _LUMIERE,
          "5.40"),
    _item("CRD-GRT-10", "Greeting Cards Pack of 10", "Inventory", "18.00", _LUMIERE, "5.75"),
    _item("BAR-PNT-12", "Peanut Energy Bars (12)", "Inventory", "23.88", _TRAILHEAD, "11.40"),
    _item("BAR-ALM-12", "Almond Energy Bars (12)", "Inventory", "25.08", _TRAILHEAD, "12.10"),
    _item("MEAL-CHL-2", "Freeze-Dried Chili (2 servings)", "Inventory", "11.95", _TRAILHEAD,
          "5.20"),
    _item("MEAL-PAS-2", "Freeze-Dried Pasta Primavera (2 servings)", "Inventory", "12.95",
          _TRAILHEAD, "5.60"),
    _item("ELC-MIX-20", "Electrolyte Drink Mix (20)", "Inventory", "19.99", _TRAILHEAD, "8.30"),
    _item("COF-INS-8", "Instant Coffee Sachets (8)", "Inventory", "13.50", _TRAILHEAD, "5.05"),
    _item("STK-LOGO", "Logo Sticker", "NonInventory", "3.00", _LUMIERE, "0.45"),
    _item("PTC-IRON", "Iron-on Patch", "NonInventory", "8.00", _SUMMIT, "2.10"),
    _item("GFT-BOX", "Gift Box", "NonInventory", "6.00", None, None),
    _item("GFT-CARD-25", "Gift Card $25", "NonInventory", "25.00", None, None),
    _item("GFT-CARD-50", "Gift Card $50", "NonInventory", "50.00", None, None),
    _item("SVC-WRAP", "Gift Wrapping", "Service", "5.00", None, None),
    _item("SVC-ENGRAVE", "Engraving", "Service", "15.00", None, None),
    _item("SVC-REPAIR", "Tent Repair Service", "Service", "45.00", None, None),
    _item("SVC-WAX", "Ski Wax Tune-up", "Service", "35.00", None, None),
    _item("SVC-RUSH", "Rush Handling", "Service", "12.00", None, None),
)


def new_preferences(kind: CompanyKind, custom_txn_numbers: bool,
                    multicurrency: bool) -> dict[str, Any]:
    """A new company's Preferences: the kind's tax and currency settings, custom numbering."""
    return {
        "Id": "1",
        "AccountingInfoPrefs": {
            "TrackDepartments": kind.track_locations,
            "DepartmentTerminology": kind.location_terminology or "Location",
            "ClassTrackingPerTxn": kind.class_tracking == CLASS_PER_TRANSACTION,
            "ClassTrackingPerTxnLine": kind.class_tracking == CLASS_PER_LINE,
            "FirstMonthOfFiscalYear": "January", "UseAccountNumbers": True,
            "CustomerTerminology": "Customers"},
        "ProductAndServicesPrefs": {"ForSales": True, "ForPurchase": True,
                                    "QuantityWithPriceAndRate": True,
                                    "QuantityOnHand": True},
        "SalesFormsPrefs": {"CustomTxnNumbers": custom_txn_numbers, "AllowShipping": True,
                            "AllowDiscount": True, "AllowEstimates": True,
                            "AllowDeposit": False, "AutoApplyPayments": False,
                            "ETransactionEnabledStatus": "NotApplicable",
                            "DefaultTerms": {"value": "1"}},
        "VendorAndPurchasesPrefs": {"TrackingByCustomer": False,
                                    "BillableExpenseTracking": False},
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": kind.tax_model == AST},
        "CurrencyPrefs": {"MultiCurrencyEnabled": multicurrency,
                          "HomeCurrency": {"value": kind.home_currency}},
        "OtherPrefs": {"NameValue": [
            {"Name": "VendorAndPurchasesPrefs.UseCustomTxnNumbers", "Value": "true"},
            {"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": ""},
            {"Name": "WarnDuplicateCheckNumber", "Value": "true"},
            {"Name": "WarnDuplicateJournalNumber", "Value": "false"}]},
    }

PLUS_PLAN = "QuickBooks Online Plus"


def new_company_info(kind: CompanyKind) -> dict[str, Any]:
    """A new company's CompanyInfo, in the kind's country."""
    return {
        "Id": "1", "CompanyName": COMPANY_NAME,
        "LegalName": f"{COMPANY_NAME} {kind.legal_suffix}",
        "CompanyAddr": dict(kind.address), "LegalAddr": dict(kind.address),
        "CustomerCommunicationAddr": dict(kind.address), "Country": kind.country,
        "Email": {"Address": "books@maple-pine.example"},
        "PrimaryPhone": {"FreeFormNumber": kind.phone},
        "FiscalYearStartMonth": "January", "SupportedLanguages": "en",
        "NameValue": [{"Name": "NeoEnabled", "Value": "true"},
                      {"Name": "IndustryType", "Value": "Retail"},
                      {"Name": "OfferingSku", "Value": PLUS_PLAN}],
    }


class SeedTarget(Protocol):
    """What seeding needs of a company: create one entity the way the API would."""

    def create(self, entity: str, body: Mapping[str, Any]) -> dict[str, Any]: ...


def _ref(entity: Mapping[str, Any], name_field: str = "Name") -> dict[str, str]:
    return {"value": str(entity["Id"]), "name": str(entity[name_field])}


def _address(vendor: SeedVendor) -> dict[str, str]:
    return {"Line1": vendor.line1, "City": vendor.city, "CountrySubDivisionCode": vendor.region,
            "PostalCode": vendor.postal_code, "Country": vendor.country}


def accounts_for(kind: CompanyKind) -> tuple[SeedAccount, ...]:
    """The chart of accounts, its tax liability named as the kind's country names it."""
    return tuple(replace(a, name=kind.tax_payable_account)
                 if a.name == SALES_TAX_PAYABLE_ACCOUNT else a for a in ACCOUNTS)


def seed_company(company: SeedTarget, kind: CompanyKind = US) -> None:
    """Create the demo company's lists: accounts, taxes, payment methods, vendors and items."""
    accounts = {a.name: company.create("Account", {
        "Name": a.name, "AccountType": a.account_type, "AccountSubType": a.sub_type,
        "AcctNum": a.acct_num}) for a in accounts_for(kind)}
    _seed_taxes(company, kind, _ref(accounts[kind.tax_payable_account]))
    for method in PAYMENT_METHODS:
        company.create("PaymentMethod", {"Name": method.name, "Type": method.type,
                                         "Active": True})
    for term in TERMS:
        company.create("Term", {"Name": term.name, "DueDays": term.due_days, "Active": True,
                                "Type": "STANDARD"})
    for class_name in CLASSES:
        company.create("Class", {"Name": class_name, "SubClass": False, "Active": True})
    for location in LOCATIONS:
        company.create("Department", {"Name": location, "SubDepartment": False, "Active": True})
    vendors = {v.name: company.create("Vendor", {
        "DisplayName": v.name, "CompanyName": v.name, "PrintOnCheckName": v.name,
        "PrimaryEmailAddr": {"Address": v.email}, "BillAddr": _address(v),
        "Active": True}) for v in VENDORS}
    for item in CATALOG:
        company.create("Item", _item_body(item, accounts, vendors))


def _seed_taxes(company: SeedTarget, kind: CompanyKind, return_line: dict[str, str]) -> None:
    """The agencies, rates and codes a fresh company of `kind` has (TaxService creates them)."""
    agencies = {name: company.create("TaxAgency", {
        "DisplayName": name, "TaxTrackedOnSales": True,
        "TaxTrackedOnPurchases": kind.tax_model == GLOBAL}) for name in kind.agencies}
    rates = {r.name: company.create("TaxRate", {
        "Name": r.name, "Description": f"{r.name} sales tax", "RateValue": r.percent,
        "AgencyRef": _ref(agencies[r.agency], "DisplayName"), "TaxReturnLineRef": return_line,
        "Active": True}) for r in kind.rates}

    def rate_list(names: tuple[str, ...], applicable: str) -> dict[str, Any]:
        return {"TaxRateDetail": [{"TaxRateRef": _ref(rates[name]),
                                   "TaxTypeApplicable": applicable, "TaxOrder": order}
                                  for order, name in enumerate(names)]}

    for code in kind.codes:
        company.create("TaxCode", {
            "Name": code.name, "Description": code.description, "Taxable": code.taxable,
            "TaxGroup": len(code.sales) > 1, "Active": True,
            "SalesTaxRateList": rate_list(code.sales, "TaxOnAmount"),
            "PurchaseTaxRateList": rate_list(code.purchase, "TaxOnAmount")})


def _item_body(item: SeedItem, accounts: Mapping[str, Mapping[str, Any]],
               vendors: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    income = INCOME_ACCOUNT if item.type != "Service" else SERVICE_INCOME_ACCOUNT
    body: dict[str, Any] = {
        "Name": item.name, "Sku": item.sku, "Type": item.type, "Active": True,
        "Description": item.name, "UnitPrice": item.price, "Taxable": item.type != "Service",
        "IncomeAccountRef": _ref(accounts[income]),
    }
    if item.type != "Service":
        body["ExpenseAccountRef"] = _ref(accounts[COGS_ACCOUNT])
    if item.type == "Inventory":
        body.update({"TrackQtyOnHand": True, "QtyOnHand": OPENING_QTY_ON_HAND,
                     "InvStartDate": INVENTORY_START_DATE,
                     "AssetAccountRef": _ref(accounts[INVENTORY_ASSET_ACCOUNT])})
    if item.purchase_cost is not None:
        body["PurchaseCost"] = item.purchase_cost
        body["PurchaseDesc"] = f"{item.name} ({item.sku})"
    if item.vendor is not None:
        body["PrefVendorRef"] = _ref(vendors[item.vendor], "DisplayName")
    return body
