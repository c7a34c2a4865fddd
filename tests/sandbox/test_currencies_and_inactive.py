"""Currencies fixed per customer, foreign documents without multicurrency, inactive records."""

from __future__ import annotations

from decimal import Decimal

import pytest

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
)


def test_a_customer_keeps_the_currency_it_was_created_with():
    with company("uk", multicurrency=True) as api:
        euro = customer(api, "Élise Martin", CurrencyRef={"value": "EUR"})
        assert euro["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
        assert customer(api, "Sam Jones")["CurrencyRef"]["value"] == "GBP"  # home by default
        moved = api.post("customer", {"Id": euro["Id"], "SyncToken": euro["SyncToken"],
                                      "sparse": True, "CurrencyRef": {"value": "USD"}})
        assert fault(moved)[0] == "6000"
        renamed = created(api.post("customer", {"Id": euro["Id"], "SyncToken": euro["SyncToken"],
                                                "sparse": True, "CompanyName": "EM SARL"}),
                          "Customer")
        assert renamed["CurrencyRef"]["value"] == "EUR"


def test_a_document_is_in_its_customers_currency_at_the_stated_or_days_rate():
    with company("uk", multicurrency=True) as api:
        euro = customer(api, "Élise Martin", CurrencyRef={"value": "EUR"})["Id"]
        codes, mug = names(api, "TaxCode"), item_id(api, "MUG-ENM-12")
        sold = line(mug, "2", "18.00", codes["20.0% S"])
        stated = created(invoice(api, euro, sold, ExchangeRate="0.85"))
        assert stated["CurrencyRef"]["value"] == "EUR"
        assert amount(stated["TotalAmt"]) == Decimal("43.20")
        assert amount(stated["HomeTotalAmt"]) == Decimal("36.72")  # 43.20 × 0.85 GBP
        assert amount(stated["HomeBalance"]) == Decimal("36.72")
        daily = created(invoice(api, euro, sold, CurrencyRef={"value": "EUR"}))
        assert amount(daily["ExchangeRate"]) == Decimal("0.850394")  # 1.08 / 1.27
        assert fault(invoice(api, euro, sold, CurrencyRef={"value": "USD"})) == (
            "6000", "Business Validation Error: You can only use one foreign currency per "
                    "transaction: Élise Martin uses EUR, this transaction is in USD.")
        payment = created(api.post("payment", {
            "CustomerRef": {"value": euro}, "TotalAmt": "43.20", "ExchangeRate": "0.85",
            "Line": [{"Amount": "43.20", "LinkedTxn": [{"TxnId": stated["Id"],
                                                        "TxnType": "Invoice"}]}]}), "Payment")
        assert payment["CurrencyRef"]["value"] == "EUR"
        paid = created(api.get(f"invoice/{stated['Id']}"))
        assert amount(paid["Balance"]) == amount(paid["HomeBalance"]) == 0


@pytest.mark.parametrize("kind", [None, "uk"])  # None: the default US company
def test_without_multicurrency_only_the_home_currency_exists(kind):
    with company(kind) as api:
        assert fault(api.post("customer", {"DisplayName": "Euro Eva",
                                           "CurrencyRef": {"value": "EUR"}}))[0] == "6000"
        buyer = customer(api, "Home Hal")["Id"]
        code = names(api, "TaxCode")["20.0% S" if kind else "TAX"]
        sold = line(item_id(api, "HDL-400L"), "1", "39.99", code)
        code, detail = fault(invoice(api, buyer, sold, CurrencyRef={"value": "EUR"}))
        assert code == "6000" and "EUR" in detail
        home = created(invoice(api, buyer, sold))
        assert home["CurrencyRef"]["value"] == ("GBP" if kind else "USD")
        assert amount(home["ExchangeRate"]) == 1


@pytest.mark.parametrize(("entity", "field", "body"), [
    ("Customer", "DisplayName", {"DisplayName": "Quiet Quinn"}),
    ("Item", "Name", {"Name": "Retired Lantern", "Type": "Service"}),
])
def test_an_inactive_record_holds_its_name_and_is_found_only_when_asked(entity, field, body):
    with company(None) as api:
        if entity == "Item":
            body = {**body, "IncomeAccountRef": {"value": names(api, "Account")["Services"]}}
        record = created(api.post(entity.lower(), body), entity)
        name = body[field]
        where = f"SELECT * FROM {entity} WHERE {field} = '{name}'"
        retired = created(api.post(entity.lower(), {"Id": record["Id"], "SyncToken": "0",
                                                    "sparse": True, "Active": False}), entity)
        assert api.query(where) == {}
        assert [e["Id"] for e in api.query(where + " AND Active IN (true, false)")[entity]] == \
            [record["Id"]]
        assert [e["Id"] for e in api.query(f"SELECT * FROM {entity} WHERE Active = false")[
            entity]] == [record["Id"]]
        assert fault(api.post(entity.lower(), body))[0] == "6240"
        created(api.post(entity.lower(), {"Id": record["Id"], "SyncToken": retired["SyncToken"],
                                          "sparse": True, "Active": True}), entity)
        assert [e["Id"] for e in api.query(where)[entity]] == [record["Id"]]
