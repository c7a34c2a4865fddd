"""Company kinds: each country's company, automated sales tax, and VAT/GST codes on every line."""

from __future__ import annotations

import signal
from decimal import Decimal

import pytest
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects import CompanyInfo, Customer, Invoice, Preferences, TaxCode, TaxRate

from connex_desktop.sandbox.server import SandboxServer
from tests.sandbox.conftest import connect, first_id, ref, sandbox_command
from tests.sandbox.kinds_helpers import (
    amount,
    company,
    created,
    customer,
    fault,
    invoice,
    item_id,
    line,
    names,
    shipping,
)
from tests.sandbox.test_transactions import item_line

NY = {"Line1": "350 Fifth Ave", "City": "New York", "CountrySubDivisionCode": "NY",
      "PostalCode": "10118", "Country": "USA"}


@pytest.mark.parametrize(("kind", "country", "currency", "automated", "codes"), [
    ("us", "US", "USD", False, {"TAX", "NON", "CA Sales Tax", "Out of State"}),
    ("us-ast", "US", "USD", True, {"TAX", "NON", "New York", "California"}),
    ("uk", "GB", "GBP", False, {"20.0% S", "5.0% R", "0.0% Z", "Exempt", "No VAT"}),
    ("ca", "CA", "CAD", False, {"GST", "HST ON", "GST/PST BC", "GST/QST QC - 9.975",
                                "Zero-rated", "Exempt", "Out of Scope"}),
    ("au", "AU", "AUD", False, {"GST", "GST free", "Export", "Input taxed", "Out of scope",
                                "GST on non-capital"}),
])
def test_each_kind_is_a_fresh_company_of_its_country(kind, country, currency, automated, codes):
    with SandboxServer(rate_limits=False, kind=kind) as server:
        qb = connect(server)
        info = CompanyInfo.get(qb.company_id, qb=qb)
        assert info.Country == country
        preferences = Preferences.get(qb=qb)
        assert preferences.TaxPrefs.UsingSalesTax is True
        assert preferences.TaxPrefs.PartnerTaxEnabled is automated
        assert preferences.CurrencyPrefs.MultiCurrencyEnabled is False
        assert preferences.CurrencyPrefs.HomeCurrency.value == currency
        assert preferences.SalesFormsPrefs.CustomTxnNumbers is True
        assert codes <= {code.Name for code in TaxCode.all(max_results=1000, qb=qb)}
        rates = {rate.Id: rate for rate in TaxRate.all(max_results=1000, qb=qb)}
        assert all(rate.AgencyRef.value for rate in rates.values())


def test_a_vat_code_lists_its_sales_and_purchase_rates_as_the_api_returns_them():
    with company("uk") as api:
        standard = api.query("SELECT * FROM TaxCode WHERE Name = '20.0% S'")["TaxCode"][0]
        sales = standard["SalesTaxRateList"]["TaxRateDetail"]
        purchase = standard["PurchaseTaxRateList"]["TaxRateDetail"]
        assert len(sales) == len(purchase) == 1
        rate = created(api.get(f"taxrate/{sales[0]['TaxRateRef']['value']}"), "TaxRate")
        assert amount(rate["RateValue"]) == 20
        agency = created(api.get(f"taxagency/{rate['AgencyRef']['value']}"), "TaxAgency")
        assert agency["DisplayName"] == "HM Revenue & Customs"


def test_the_sandbox_command_starts_the_kind_asked_for(tmp_path):
    database = str(tmp_path / "uk.sqlite")
    with sandbox_command("--company", "uk", "--multicurrency", "--db", database) as (
            process, details):
        assert (details["company"], details["multicurrency"]) == ("uk", True)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    with SandboxServer(tmp_path / "uk.sqlite", kind="uk", multicurrency=True) as server:
        assert server.company.company_info()["Country"] == "GB"
    with pytest.raises(ValueError, match="'uk' company with multicurrency"):
        SandboxServer(tmp_path / "uk.sqlite")


# --- US automated sales tax -------------------------------------------------------------------

def _zero_tax_order(api, buyer, **fields):
    """The issue's order: taxable candles, a non-taxable repair service, shipping; 297.15."""
    return invoice(api, buyer, line(item_id(api, "CND-LAKE-16"), "4", "42.31"),
                   line(item_id(api, "SVC-REPAIR"), "2", "45.00", "NON"),
                   shipping("37.91"), ShipAddr=NY, **fields)


def test_automated_sales_tax_adds_its_own_tax_unless_the_tax_is_stated():
    with company("us-ast") as api:
        buyer = customer(api, "Nia Brooks")["Id"]
        booked = created(_zero_tax_order(api, buyer))
        assert amount(booked["TxnTaxDetail"]["TotalTax"]) == Decimal("15.02")  # 8.875 %
        assert amount(booked["TotalAmt"]) == Decimal("312.17")
        assert {t["TaxLineDetail"]["TaxRateRef"]["name"] for t in
                booked["TxnTaxDetail"]["TaxLine"]} == {"NY State", "New York City", "NY MCTD"}
        stated = created(_zero_tax_order(api, buyer, TxnTaxDetail={"TotalTax": "0.00"}))
        assert amount(stated["TxnTaxDetail"]["TotalTax"]) == 0
        assert amount(stated["TotalAmt"]) == Decimal("297.15")
    with company("us") as api:  # the legacy company adds nothing it is not told to
        buyer = customer(api, "Nia Brooks")["Id"]
        assert amount(created(_zero_tax_order(api, buyer))["TotalAmt"]) == Decimal("297.15")


def test_automated_sales_tax_uses_the_company_address_and_replaces_the_code_sent():
    with company("us-ast") as api:
        buyer = customer(api, "Ola Park")["Id"]
        codes = names(api, "TaxCode")
        booked = created(invoice(api, buyer, line(item_id(api, "HDL-400L"), "1", "100.00", "TAX"),
                                 TxnTaxDetail={"TxnTaxCodeRef": {"value": codes["Texas"]}}))
        assert booked["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == codes["California"]
        assert amount(booked["TotalAmt"]) == Decimal("107.25")
        stated = created(invoice(api, buyer, line(item_id(api, "HDL-400L"), "1", "100.00"),
                                 ShipAddr={**NY, "CountrySubDivisionCode": "New York"},
                                 TxnTaxDetail={"TotalTax": "8.00"}))
        assert amount(stated["TotalAmt"]) == Decimal("108.00")
        assert sum(amount(t["Amount"]) for t in stated["TxnTaxDetail"]["TaxLine"]) == 8


# --- VAT / GST: a company's own code on every line ---------------------------------------------

@pytest.mark.parametrize(("kind", "detail"), [
    ("uk", "Make sure all your transactions have a VAT rate before you save."),
    ("ca", "Make sure all your transactions have a GST/HST rate before you save."),
    ("au", "Make sure all your transactions have a GST rate before you save."),
])
def test_a_line_without_a_tax_code_fails_in_a_vat_or_gst_company(kind, detail):
    with company(kind) as api:
        buyer = customer(api, "Tom Hale")["Id"]
        headlamp = item_id(api, "HDL-400L")
        assert fault(invoice(api, buyer, line(headlamp, "1", "39.99"))) == (
            "6000", f"Business Validation Error: {detail}")
        code = next(iter(names(api, "TaxCode").values()))
        assert fault(invoice(api, buyer, line(headlamp, "1", "39.99", code),
                             shipping("4.99"))) == ("6000", f"Business Validation Error: {detail}")
        assert fault(invoice(api, buyer, line(headlamp, "1", "39.99", "TAX")))[0] == "610"
        vendor = names(api, "Vendor", "DisplayName")["Ridgeline Gear Wholesale"]
        order = {"VendorRef": {"value": vendor}, "Line": [{
            "DetailType": "ItemBasedExpenseLineDetail", "Amount": "16.75",
            "ItemBasedExpenseLineDetail": {"ItemRef": {"value": headlamp}, "Qty": "1",
                                           "UnitPrice": "16.75"}}]}
        assert fault(api.post("purchaseorder", order))[0] == "6000"


def test_vat_is_computed_per_line_and_rounded_to_the_cent():
    with company("uk") as api:
        buyer = customer(api, "Ivy Moss")["Id"]
        codes, sticker = names(api, "TaxCode"), item_id(api, "STK-LOGO")
        reduced = [line(sticker, "1", "1.09", codes["5.0% R"]) for _ in range(4)]
        booked = created(invoice(api, buyer, *reduced))
        # Per line 0.0545 → 0.05, four times: 0.20, where 4.36 × 5 % would round to 0.22.
        assert amount(booked["TxnTaxDetail"]["TotalTax"]) == Decimal("0.20")
        assert amount(booked["TotalAmt"]) == Decimal("4.56")
        assert booked["GlobalTaxCalculation"] == "TaxExcluded"
        mixed = created(invoice(api, buyer, line(sticker, "3", "19.99", codes["20.0% S"]),
                                line(sticker, "1", "12.50", codes["0.0% Z"]),
                                shipping("4.95", codes["20.0% S"])))
        tax_lines = {t["TaxLineDetail"]["TaxRateRef"]["name"]: t
                     for t in mixed["TxnTaxDetail"]["TaxLine"]}
        assert amount(tax_lines["20.0% S (sales)"]["Amount"]) == Decimal("12.98")  # 11.99 + 0.99
        assert amount(tax_lines["20.0% S (sales)"]["TaxLineDetail"]["NetAmountTaxable"]) == \
            Decimal("64.92")
        assert amount(tax_lines["0.0% Z (sales)"]["Amount"]) == 0
        assert amount(mixed["TotalAmt"]) == Decimal("77.42") + Decimal("12.98")


def test_a_gst_group_code_taxes_each_rate_and_lists_each():
    with company("ca") as api:
        buyer = customer(api, "Lea Roy")["Id"]
        codes, bottle = names(api, "TaxCode"), item_id(api, "BTL-1L-STL")
        booked = created(invoice(api, buyer, line(bottle, "3", "33.33", codes["GST/PST BC"]),
                                 line(bottle, "1", "19.99", codes["HST ON"])))
        taxes = {t["TaxLineDetail"]["TaxRateRef"]["name"]: amount(t["Amount"])
                 for t in booked["TxnTaxDetail"]["TaxLine"]}
        assert taxes == {"GST (sales)": Decimal("5.00"), "PST BC (sales)": Decimal("7.00"),
                         "HST ON (sales)": Decimal("2.60")}
        assert amount(booked["TotalAmt"]) == Decimal("99.99") + Decimal("19.99") + \
            Decimal("14.60")


def test_a_tax_inclusive_line_keeps_its_gross_and_books_the_net():
    with company("au") as api:
        buyer = customer(api, "Ari Chen")["Id"]
        codes, pad = names(api, "TaxCode"), item_id(api, "PAD-INF-R")
        booked = created(invoice(
            api, buyer, line(pad, "1", "19.95", codes["GST"], TaxInclusiveAmt="19.95"),
            line(pad, "1", "110.00", codes["GST"], TaxInclusiveAmt="110.00"),
            line(pad, "1", "5.00", codes["GST free"]), GlobalTaxCalculation="TaxInclusive"))
        nets = [amount(x["Amount"]) for x in booked["Line"][:3]]
        assert nets == [Decimal("18.14"), Decimal("100.00"), Decimal("5.00")]
        assert amount(booked["TxnTaxDetail"]["TotalTax"]) == Decimal("11.81")  # 1.81 + 10.00
        assert amount(booked["TotalAmt"]) == Decimal("134.95")  # the gross the lines said
        assert [amount(x["SalesItemLineDetail"]["TaxInclusiveAmt"]) for x in booked["Line"][:3]] \
            == [Decimal("19.95"), Decimal("110.00"), Decimal("5.00")]


def test_stated_tax_lines_override_a_total_alone_is_recomputed_and_not_applicable_has_none():
    with company("uk") as api:
        buyer = customer(api, "Kit Lane")["Id"]
        codes, mug = names(api, "TaxCode"), item_id(api, "MUG-ENM-12")
        sold = line(mug, "1", "18.00", codes["20.0% S"])
        rate = api.query("SELECT * FROM TaxRate WHERE Name = '20.0% S (sales)'")["TaxRate"][0]
        stated = created(invoice(api, buyer, sold, TxnTaxDetail={"TaxLine": [{
            "Amount": "3.59", "DetailType": "TaxLineDetail",
            "TaxLineDetail": {"TaxRateRef": {"value": rate["Id"]}}}]}))
        assert amount(stated["TotalAmt"]) == Decimal("21.59")
        assert amount(stated["TxnTaxDetail"]["TaxLine"][0]["TaxLineDetail"][
            "OverrideDeltaAmount"]) == Decimal("-0.01")
        alone = created(invoice(api, buyer, sold, TxnTaxDetail={"TotalTax": "0.00"}))
        assert amount(alone["TotalAmt"]) == Decimal("21.60")
        assert fault(invoice(api, buyer, sold, GlobalTaxCalculation="NotApplicable",
                             TxnTaxDetail={"TotalTax": "0.00"}))[0] == "6170"
        untaxed = created(invoice(api, buyer, sold, GlobalTaxCalculation="NotApplicable"))
        assert amount(untaxed["TotalAmt"]) == Decimal("18.00")


def test_purchase_orders_take_purchase_codes_and_sales_take_sales_codes():
    with company("au") as api:
        codes, headlamp = names(api, "TaxCode"), item_id(api, "HDL-400L")
        vendor = names(api, "Vendor", "DisplayName")["Ridgeline Gear Wholesale"]

        def order(code: str):
            return api.post("purchaseorder", {"VendorRef": {"value": vendor}, "Line": [{
                "DetailType": "ItemBasedExpenseLineDetail", "Amount": "167.50",
                "ItemBasedExpenseLineDetail": {"ItemRef": {"value": headlamp}, "Qty": "10",
                                               "UnitPrice": "16.75",
                                               "TaxCodeRef": {"value": codes[code]}}}]})

        assert amount(created(order("GST on non-capital"), "PurchaseOrder")["TotalAmt"]) == \
            Decimal("184.25")
        assert fault(order("Export"))[0] == "6000"
        buyer = customer(api, "Max Ward")["Id"]
        assert fault(invoice(api, buyer, line(headlamp, "1", "39.99",
                                              codes["GST on non-capital"])))[0] == "6000"


def test_a_discount_is_spread_over_the_lines_before_vat():
    with company("uk") as api:
        buyer = customer(api, "Ned Ash")["Id"]
        codes, vase = names(api, "TaxCode"), item_id(api, "VAS-CER-TL")
        discount = {"DetailType": "DiscountLineDetail", "Amount": "10.00",
                    "DiscountLineDetail": {"PercentBased": False}}
        booked = created(invoice(api, buyer, line(vase, "1", "60.00", codes["20.0% S"]),
                                 line(vase, "1", "40.00", codes["5.0% R"]), discount))
        # 6.00 and 4.00 of the discount: VAT on 54.00 at 20 % and 36.00 at 5 %.
        assert amount(booked["TxnTaxDetail"]["TotalTax"]) == Decimal("12.60")
        assert amount(booked["TotalAmt"]) == Decimal("102.60")


def test_python_quickbooks_books_a_vat_invoice_with_a_code_on_each_line():
    with SandboxServer(rate_limits=False, kind="uk") as server:
        qb = connect(server)
        buyer = Customer()
        buyer.DisplayName = "Pia Holt"
        buyer = buyer.save(qb=qb)
        standard = TaxCode.filter(Name="20.0% S", qb=qb)[0]
        sold = item_line(first_id(server, "Item", "Sku = 'HDL-400L'"), "2", "39.99")
        document = Invoice()
        document.CustomerRef, document.Line = ref(buyer.Id), [sold]
        with pytest.raises(QuickbooksException) as refused:
            document.save(qb=qb)
        assert refused.value.error_code == 6000
        sold.SalesItemLineDetail.TaxCodeRef = ref(standard.Id)
        saved = document.save(qb=qb)
        assert (saved.TotalAmt, saved.TxnTaxDetail.TotalTax) == (95.98, 16.0)
        assert saved.CurrencyRef.value == "GBP"
