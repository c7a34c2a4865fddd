"""A customer's fields validated as QuickBooks does; purchase orders only in Plus and Advanced."""

from __future__ import annotations

import pytest

from tests.sandbox.conftest import RawApi
from tests.sandbox.kinds_helpers import created, fault


@pytest.mark.parametrize(("fields", "code", "element"), [
    ({"PrimaryEmailAddr": {"Address": "a" * 89 + "@example.com"}}, "2050",
     "PrimaryEmailAddr.Address"),
    ({"PrimaryEmailAddr": {"Address": "not an email"}}, "2210", "PrimaryEmailAddr.Address"),
    ({"PrimaryEmailAddr": {"Address": "ann@example"}}, "2210", "PrimaryEmailAddr.Address"),
    ({"BillAddr": {"City": "Oslo", "PostalCode": "0" * 31}}, "2050", "BillAddr.PostalCode"),
    ({"GivenName": "G" * 101}, "2050", "GivenName"),
    ({"Title": "T" * 17}, "2050", "Title"),
])
def test_one_bad_optional_field_fails_the_whole_customer(api: RawApi, fields, code, element):
    response = api.post("customer", {"DisplayName": "Field Tester", **fields})
    assert fault(response)[0] == code
    assert response.json()["Fault"]["Error"][0]["element"] == element
    assert api.query("SELECT * FROM Customer WHERE DisplayName = 'Field Tester'") == {}


def test_fields_within_the_limits_are_kept(api: RawApi):
    body = {"DisplayName": "Field Keeper", "GivenName": "G" * 100,
            "PrimaryEmailAddr": {"Address": "a" * 88 + "@example.com"},
            "ShipAddr": {"City": "Oslo", "PostalCode": "0" * 30}}
    customer = created(api.post("customer", body), "Customer")
    assert customer["PrimaryEmailAddr"] == body["PrimaryEmailAddr"]
    assert customer["ShipAddr"]["PostalCode"] == "0" * 30


def test_purchase_orders_exist_only_in_plus_and_advanced(sandbox, api: RawApi):
    vendor = api.query("SELECT * FROM Vendor")["Vendor"][0]
    item = api.query("SELECT * FROM Item WHERE Sku = 'TNT-2P-GRN'")["Item"][0]
    order = {"VendorRef": {"value": vendor["Id"]},
             "Line": [{"DetailType": "ItemBasedExpenseLineDetail", "Amount": "10.00",
                       "ItemBasedExpenseLineDetail": {"ItemRef": {"value": item["Id"]},
                                                      "Qty": "1", "UnitPrice": "10.00"}}]}
    created(api.post("purchaseorder", order), "PurchaseOrder")     # a new company is Plus
    sandbox.company.set_plan("QuickBooks Online Essentials")
    info = api.get(f"companyinfo/{sandbox.realm_id}").json()["CompanyInfo"]
    assert {"Name": "OfferingSku", "Value": "QuickBooks Online Essentials"} in info["NameValue"]
    code, detail = fault(api.post("purchaseorder", order))
    assert code == "6000" and "QuickBooks Online Essentials" in detail
