"""The company's tax model read once per run, and the tax code a legacy US company needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connex_desktop.core.connection import Connection
from connex_desktop.core.errors import SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sync.company_setup import company_setup
from connex_desktop.sync.tax import TaxModel

CONNECTION = Connection(name="Shop", source_kind="csv", mode=TransactionMode.INVOICES)
RATES = [{"Id": "1", "Name": "Bay Area", "RateValue": "8.625"},
         {"Id": "2", "Name": "Fresno", "RateValue": "7.975"}]


class Lists:
    """The company's lists as QuickBooks answers a query for them."""

    def __init__(self, **entities: list[dict[str, Any]]) -> None:
        self.entities = entities

    def query_all(self, entity: str, where: str = "") -> list[dict[str, Any]]:
        return list(self.entities.get(entity, []))


def code(code_id: str, name: str, *rate_ids: str) -> dict[str, Any]:
    return {"Id": code_id, "Name": name, "SalesTaxRateList": {"TaxRateDetail": [
        {"TaxRateRef": {"value": rate_id}} for rate_id in rate_ids]}}


US_CODES = [code("TAX", "TAX"), code("NON", "NON"), code("5", "Bay Area", "1"),
            code("6", "Fresno", "2")]


def setup(preferences: dict[str, Any], country: str = "US", codes=US_CODES):
    refs = ReferenceCache(Lists(TaxCode=codes, TaxRate=RATES))
    return company_setup(CONNECTION, preferences, refs, company_info={"Country": country})


def test_a_legacy_company_with_several_codes_and_no_default_is_refused_naming_the_setting():
    with pytest.raises(SetupError) as refused:
        setup({"TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": False}})
    assert refused.value.field == "tax_code"
    assert "Bay Area, Fresno" in refused.value.message
    assert "mapping (Tax code)" in refused.value.message


def test_a_legacy_company_states_tax_with_its_default_or_only_code():
    chosen = setup({"TaxPrefs": {"UsingSalesTax": True, "TaxGroupCodeRef": {"value": "6"}}})
    assert chosen.tax_code == {"value": "6", "name": "Fresno"}
    only = setup({"TaxPrefs": {"UsingSalesTax": True}}, codes=US_CODES[:3])
    assert only.tax_code == {"value": "5", "name": "Bay Area"}
    assert only.tax.model is TaxModel.LEGACY


def test_automated_and_vat_companies_need_no_transaction_tax_code():
    automated = setup({"TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": True}})
    assert automated.tax.model is TaxModel.AUTOMATED and automated.tax_code is None
    vat = setup({"TaxPrefs": {"UsingSalesTax": True}}, country="GB")
    assert vat.tax.model is TaxModel.VAT and vat.tax_code is None
    assert vat.tax.at_rate(Decimal("7.975")).name == "Fresno"
