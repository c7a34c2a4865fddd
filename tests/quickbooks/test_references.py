"""The reference cache: the lookups the engine needs, bulk reads, lists kept between runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from connex_desktop.core.errors import ErrorKind
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.quickbooks.references import (
    CDC_MARGIN,
    REFERENCE_ENTITIES,
    SETTINGS_MAX_AGE,
    ReferenceCache,
)
from connex_desktop.storage.database import Database
from connex_desktop.storage.references import ReferenceRepository


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


# ---- kept between runs -------------------------------------------------------------------

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class FakeCompany(FakeLister):
    """Also answers change data capture (with `changes`) and preferences, counting the reads."""

    def __init__(self, data: dict[str, list[dict[str, Any]]], clock: Clock) -> None:
        super().__init__(data)
        self.clock = clock
        self.changes: dict[str, list[dict[str, Any]]] = {}
        self.cdc_reads: list[tuple[tuple[str, ...], datetime]] = []

    def cdc(self, entities, changed_since):  # type: ignore[no-untyped-def]
        self.cdc_reads.append((tuple(entities), changed_since))
        return {entity: list(self.changes.get(entity, [])) for entity in entities}, self.clock()

    def preferences(self) -> dict[str, Any]:
        self.queries.append("Preferences")
        return {"Id": "1", "SalesFormsPrefs": {"CustomTxnNumbers": True}}

    def company_info(self) -> dict[str, Any]:
        self.queries.append("CompanyInfo")
        return {"Id": "1", "Country": "US"}


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def kept_cache(company: FakeCompany, store: ReferenceRepository) -> ReferenceCache:
    """One run's cache of the company, on the lists kept in `store`."""
    company.queries.clear()
    return ReferenceCache(company, store, realm_id="9130", clock=company.clock)


def first_run() -> tuple[FakeCompany, ReferenceRepository, Clock]:
    clock = Clock()
    company = FakeCompany({**COMPANY, "Item": [dict(COMPANY["Item"][0],
                                                    PurchaseCost=Decimal("7.50"))]}, clock)
    store = ReferenceRepository(Database.memory())
    cache = kept_cache(company, store)
    cache.preload()
    cache.preferences()
    assert sorted(company.queries) == sorted([*REFERENCE_ENTITIES, "Preferences"])
    assert company.cdc_reads == []
    return company, store, clock


def test_a_later_run_reads_only_what_changed_in_one_cdc_read():
    company, store, clock = first_run()
    clock.now = START + timedelta(hours=2)
    company.changes = {
        "Customer": [{"Id": "1", "DisplayName": "Jane Wed",
                      "PrimaryEmailAddr": {"Address": "jane@example.com"}},
                     {"Id": "2", "status": "Deleted"},
                     {"Id": "3", "DisplayName": "Jane Doe (2)", "Active": False},
                     {"Id": "4", "DisplayName": "Newcomer"}]}
    cache = kept_cache(company, store)
    assert cache.customer_by_name("jane wed")["Id"] == "1"
    assert cache.customer_by_name("Jane Doe") is None           # renamed
    assert cache.customer_by_name("John Roe") is None           # deleted
    assert cache.customer_by_name("Jane Doe (2)") is None       # made inactive
    assert cache.customer_by_name("Newcomer")["Id"] == "4"
    assert cache.item_by_sku("BW-1")["PurchaseCost"] == Decimal("7.50")   # still a Decimal
    assert cache.preferences()["SalesFormsPrefs"] == {"CustomTxnNumbers": True}
    assert company.queries == []                                # not one list read in full
    ((entities, since),) = company.cdc_reads
    assert set(entities) == set(REFERENCE_ENTITIES) and since == START - CDC_MARGIN
    # The next run asks only since this one's read, and keeps what it learnt.
    clock.now = START + timedelta(hours=3)
    company.changes = {}
    cache = kept_cache(company, store)
    assert cache.customer_by_name("Newcomer")["Id"] == "4"
    assert cache.customer_by_email("jane@example.com")["Id"] == "1"
    assert company.cdc_reads[-1][1] == START + timedelta(hours=2) - CDC_MARGIN


def test_what_a_write_answered_is_kept_without_reading_it_back():
    company, store, _ = first_run()
    kept_cache(company, store).add("Customer", {"Id": "77", "DisplayName": "Fresh Buyer"})
    cache = kept_cache(company, store)
    assert cache.customer_by_name("fresh buyer")["Id"] == "77"
    assert company.queries == []


def test_lists_beyond_cdc_look_back_or_answer_size_are_read_in_full():
    company, store, clock = first_run()
    clock.now = START + timedelta(hours=1)
    company.changes = {"Item": [{"Id": str(n), "Name": f"Item {n}"} for n in range(100, 1100)]}
    cache = kept_cache(company, store)
    assert cache.customer_by_name("John Roe")["Id"] == "2"
    assert company.queries == []
    assert cache.item_by_sku("BW-1")["Id"] == "11"              # a full answer may be cut short
    assert company.queries == ["Item"]

    clock.now = START + timedelta(days=31)
    cache = kept_cache(company, store)
    cache.preload()
    cache.preferences()
    assert len(company.cdc_reads) == 1                          # none for a month-old cache
    assert sorted(company.queries) == sorted([*REFERENCE_ENTITIES, "Preferences"])


def test_preferences_and_company_info_are_read_again_once_a_day():
    company, store, clock = first_run()
    kept_cache(company, store).company_info()
    clock.now = START + timedelta(hours=23)
    cache = kept_cache(company, store)
    cache.preferences()
    cache.company_info()
    assert company.queries == []
    clock.now = START + SETTINGS_MAX_AGE + timedelta(minutes=1)
    cache = kept_cache(company, store)
    cache.preferences()
    cache.company_info()
    assert company.queries == ["Preferences", "CompanyInfo"]


def test_a_refused_cdc_read_falls_back_to_reading_the_lists_in_full():
    company, store, clock = first_run()
    clock.now = START + timedelta(hours=1)

    def refused(entities, changed_since):  # type: ignore[no-untyped-def]
        raise QuickBooksFault("QuickBooks refused a query.", kind=ErrorKind.FIX_DATA,
                              code="4001")

    company.cdc = refused  # type: ignore[method-assign]
    cache = kept_cache(company, store)
    assert cache.customer_by_name("John Roe")["Id"] == "2"
    cache.preload()
    assert sorted(company.queries) == sorted(REFERENCE_ENTITIES)
