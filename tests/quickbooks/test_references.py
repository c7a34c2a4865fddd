"""The per-run reference cache: one bulk query per entity type, lookups the engine needs."""

from __future__ import annotations

from typing import Any

from connex_desktop.quickbooks.references import REFERENCE_ENTITIES, ReferenceCache


class FakeLister:
    """Stands in for QuickBooksClient.query_all and counts the queries."""

    def __init__(self, data: dict[str, list[dict[str, Any]]]) -> None:
        self.data = data
        self.queries: list[str] = []

    def query_all(self, entity: str, where: str = "") -> list[dict[str, Any]]:
        self.queries.append(entity)
        return [dict(record) for record in self.data.get(entity, [])]


COMPANY = {
    "Customer": [
        {"Id": "1", "DisplayName": "Jane Doe", "PrimaryEmailAddr": {"Address": "Jane@Example.com"}},
        {"Id": "2", "DisplayName": "John  Roe"},
        {"Id": "3", "DisplayName": "Jane Doe (2)",
         "PrimaryEmailAddr": {"Address": "jane@example.com"}},
    ],
    "Item": [
        {"Id": "11", "Name": "Blue Widget", "Sku": "BW-1", "PrefVendorRef": {"value": "41"},
         "PurchaseCost": 7.5},
        {"Id": "12", "Name": "Large", "FullyQualifiedName": "Shirts:Large", "Sku": ""},
    ],
    "Vendor": [{"Id": "41", "DisplayName": "Acme Supply Co"}],
    "Account": [
        {"Id": "4", "Name": "Undeposited Funds", "AccountType": "Other Current Asset",
         "AccountSubType": "UndepositedFunds"},
        {"Id": "5", "Name": "Checking", "AccountType": "Bank", "AccountSubType": "Checking"},
        {"Id": "6", "Name": "Old bank", "AccountType": "Bank", "AccountSubType": "Checking",
         "Active": False},
    ],
    "TaxCode": [{"Id": "2", "Name": "California"}],
    "PaymentMethod": [{"Id": "3", "Name": "Credit Card"}],
    "Term": [{"Id": "1", "Name": "Net 30"}],
    "Class": [],
}


def test_lookups_match_regardless_of_case_and_spacing():
    cache = ReferenceCache(FakeLister(COMPANY))
    assert cache.customer_by_email("JANE@example.COM")["Id"] == "1"   # first one wins
    assert cache.customer_by_name("john roe")["Id"] == "2"
    assert cache.customer_by_name(" Jane DOE ")["Id"] == "1"
    assert cache.item_by_sku("bw-1")["Id"] == "11"
    assert cache.item_by_name("blue widget")["Id"] == "11"
    assert cache.item_by_name("Shirts:Large")["Id"] == "12"
    assert cache.item("11")["PrefVendorRef"] == {"value": "41"}
    assert cache.vendor("41")["DisplayName"] == "Acme Supply Co"
    assert cache.vendor_by_name("ACME SUPPLY CO")["Id"] == "41"
    assert cache.account_by_name("undeposited funds")["Id"] == "4"
    assert cache.account_by_type("Bank", "Checking")["Id"] == "5"     # the inactive one is not
    assert [a["Id"] for a in cache.accounts_by_type("Bank")] == ["5"]
    assert cache.tax_code_by_name("california")["Id"] == "2"
    assert cache.payment_method_by_name("credit card")["Id"] == "3"
    assert cache.term_by_name("Net 30")["Id"] == "1"


def test_misses_and_blank_keys_find_nothing():
    cache = ReferenceCache(FakeLister(COMPANY))
    assert cache.customer_by_email("nobody@example.com") is None
    assert cache.customer_by_email("") is None
    assert cache.item_by_sku("") is None          # an item without a SKU is not found by ""
    assert cache.class_by_name("Retail") is None
    assert cache.account_by_type("Expense") is None


def test_one_query_per_entity_type_however_many_lookups():
    lister = FakeLister(COMPANY)
    cache = ReferenceCache(lister)
    for _ in range(1000):
        cache.customer_by_email("jane@example.com")
        cache.item_by_sku("BW-1")
        cache.item_by_name("Blue Widget")
    assert lister.queries == ["Customer", "Item"]
    cache.preload()
    assert sorted(lister.queries) == sorted(REFERENCE_ENTITIES)
    assert cache.loaded("Vendor")


def test_what_the_run_created_is_found_later():
    lister = FakeLister(COMPANY)
    cache = ReferenceCache(lister)
    cache.add("Customer", {"Id": "99", "DisplayName": "New Buyer",
                           "PrimaryEmailAddr": {"Address": "new@example.com"}})
    cache.add("Item", {"Id": "98", "Name": "Gift wrap", "Sku": "GW"})
    assert cache.customer_by_email("NEW@example.com")["Id"] == "99"
    assert cache.customer_by_name("Jane Doe")["Id"] == "1"   # added on top of the loaded list
    assert cache.item_by_sku("gw")["Id"] == "98"
    assert lister.queries == ["Customer", "Item"]
