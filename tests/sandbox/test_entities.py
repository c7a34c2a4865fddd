"""python-quickbooks creates, reads, queries and updates every list entity in the sandbox."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    UnsupportedException,
    ValidationException,
)
from quickbooks.objects import (
    Account,
    Class,
    CompanyInfo,
    Customer,
    Employee,
    Item,
    PaymentMethod,
    Preferences,
    TaxCode,
    TaxRate,
    Term,
    Vendor,
)

from connex_desktop.sandbox.seed import ACCOUNTS, CATALOG, COMPANY_NAME, PAYMENT_METHODS, VENDORS
from tests.sandbox.conftest import first_id, ref


def test_the_seeded_company_is_there(qb):
    items = Item.all(max_results=1000, qb=qb)
    assert {i.Sku for i in items} == {s.sku for s in CATALOG}
    assert len(Vendor.all(qb=qb)) == len(VENDORS)
    assert {a.Name for a in Account.all(max_results=1000, qb=qb)} == {a.name for a in ACCOUNTS}
    assert {m.Name for m in PaymentMethod.all(qb=qb)} == {m.name for m in PAYMENT_METHODS}
    assert {c.Name for c in TaxCode.all(qb=qb)} >= {"TAX", "NON", "CA Sales Tax"}
    assert TaxCode.get("TAX", qb=qb).Name == "TAX"
    assert len(TaxRate.all(qb=qb)) == 2
    tent = Item.filter(Sku="TNT-2P-GRN", qb=qb)[0]
    assert tent.Type == "Inventory"
    assert Decimal(str(tent.UnitPrice)) == Decimal("249.00")
    assert Decimal(str(tent.PurchaseCost)) == Decimal("132.50")
    vendor = Vendor.get(tent.PrefVendorRef["value"], qb=qb)
    assert vendor.DisplayName == "Cascade Outdoor Supply"
    assert vendor.BillAddr.City == "Portland"
    wrap = Item.filter(Sku="SVC-WRAP", qb=qb)[0]
    assert wrap.Type == "Service" and getattr(wrap, "PrefVendorRef", None) is None
    assert CompanyInfo.get(qb.company_id, qb=qb).CompanyName == COMPANY_NAME


def test_customer_create_read_full_and_sparse_update(qb, sandbox):
    customer = Customer()
    customer.GivenName, customer.FamilyName = "Jürgen", "Müller-Łukasiewicz"
    customer.PrimaryEmailAddr = None
    created = customer.save(qb=qb)
    assert created.DisplayName == "Jürgen Müller-Łukasiewicz"  # built from the name parts
    assert created.SyncToken == "0"
    read = Customer.get(created.Id, qb=qb)
    read.CompanyName = "Müller GmbH"
    updated = read.save(qb=qb)
    assert updated.SyncToken == "1" and updated.CompanyName == "Müller GmbH"
    assert updated.DisplayName == created.DisplayName
    sparse = Customer()
    sparse.Id, sparse.SyncToken, sparse.sparse = updated.Id, updated.SyncToken, True
    sparse.Notes = "VIP"
    after = sparse.save(qb=qb)
    assert after.Notes == "VIP" and after.CompanyName == "Müller GmbH"  # others untouched
    stored = sandbox.company.all("Customer")
    assert [c["DisplayName"] for c in stored] == ["Jürgen Müller-Łukasiewicz"]
    assert stored[0]["MetaData"]["LastUpdatedTime"] >= stored[0]["MetaData"]["CreateTime"]


def test_full_update_clears_what_it_omits(qb, sandbox):
    customer = Customer()
    customer.DisplayName, customer.CompanyName = "Acme Retail", "Acme"
    created = customer.save(qb=qb)
    replacement = Customer()
    replacement.Id, replacement.SyncToken = created.Id, created.SyncToken
    replacement.DisplayName = "Acme Retail"
    replacement.save(qb=qb)
    assert "CompanyName" not in sandbox.company.all("Customer")[0]


def test_stale_sync_token_is_5010(qb):
    customer = Customer()
    customer.DisplayName = "Stale Stan"
    created = customer.save(qb=qb)
    created.Notes = "first"
    created.save(qb=qb)
    created.Notes = "second, from an old copy"
    with pytest.raises(QuickbooksException) as raised:
        created.save(qb=qb)
    assert raised.value.error_code == 5010
    assert "Stale Object Error" in raised.value.message


@pytest.mark.parametrize("other", ["Customer", "Vendor", "Employee"])
def test_display_names_are_unique_across_customers_vendors_and_employees(qb, other):
    vendor_name = VENDORS[0].name
    person = {"Customer": Customer, "Vendor": Vendor, "Employee": Employee}[other]()
    person.DisplayName = vendor_name.upper()  # the check ignores case
    if other == "Employee":
        person.GivenName = "Cascade"
    with pytest.raises(QuickbooksException) as raised:
        person.save(qb=qb)
    assert raised.value.error_code == 6240
    assert raised.value.message == "Duplicate Name Exists Error"


def test_item_names_are_unique_and_new_items_carry_vendor_and_cost(qb, sandbox):
    income = first_id(sandbox, "Account", "Name = 'Sales of Product Income'")
    cogs = first_id(sandbox, "Account", "Name = 'Cost of Goods Sold'")
    asset = first_id(sandbox, "Account", "Name = 'Inventory Asset'")
    vendor = first_id(sandbox, "Vendor", "DisplayName = 'Summit Textiles Co'")
    item = Item()
    item.Name, item.Sku, item.Type = "Trail Cap", "CAP-TRL", "Inventory"
    item.TrackQtyOnHand, item.QtyOnHand, item.InvStartDate = True, 12, "2025-01-01"
    item.UnitPrice, item.PurchaseCost = Decimal("24.50"), Decimal("9.75")
    item.IncomeAccountRef, item.ExpenseAccountRef = ref(income), ref(cogs)
    item.AssetAccountRef = ref(asset)
    item.PrefVendorRef = ref(vendor)
    created = item.save(qb=qb)
    found = Item.filter(Sku="CAP-TRL", qb=qb)[0]
    assert found.Id == created.Id and found.Name == "Trail Cap"
    assert found.PrefVendorRef["name"] == "Summit Textiles Co"
    duplicate = Item()
    duplicate.Name, duplicate.Type = "trail cap", "Service"
    duplicate.IncomeAccountRef = ref(income)
    with pytest.raises(QuickbooksException) as raised:
        duplicate.save(qb=qb)
    assert raised.value.error_code == 6240


def test_inventory_item_needs_its_accounts_and_quantities(qb, sandbox):
    income = first_id(sandbox, "Account", "Name = 'Sales of Product Income'")
    item = Item()
    item.Name, item.Type, item.IncomeAccountRef = "Half made", "Inventory", ref(income)
    with pytest.raises(ValidationException) as raised:
        item.save(qb=qb)
    assert raised.value.error_code == 2020


def test_missing_or_inactive_references_are_610(qb, sandbox):
    vendor = Vendor.get(first_id(sandbox, "Vendor", "DisplayName = 'Trailhead Nutrition'"), qb=qb)
    vendor.Active = False
    vendor.save(qb=qb)
    income = first_id(sandbox, "Account", "Name = 'Services'")
    item = Item()
    item.Name, item.Type, item.IncomeAccountRef = "Bars", "NonInventory", ref(income)
    item.PrefVendorRef = ref(vendor.Id)
    with pytest.raises(ObjectNotFoundException) as raised:
        item.save(qb=qb)
    assert raised.value.error_code == 610
    item.PrefVendorRef = ref("99999")
    with pytest.raises(ObjectNotFoundException):
        item.save(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        Customer.get("424242", qb=qb)


def test_name_lists_cannot_be_deleted_only_deactivated(qb, api, sandbox):
    vendor_id = first_id(sandbox, "Vendor", "DisplayName = 'Lumière Papeterie'")
    response = api.post("vendor", {"Id": vendor_id, "SyncToken": "0"}, operation="delete")
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "500"
    assert Vendor.count("Active = true", qb=qb) == len(VENDORS)


def test_account_class_term_payment_method_and_employee_round_trip(qb):
    account = Account()
    account.Name, account.AccountType, account.AccountSubType = (
        "Marketplace Sales", "Income", "SalesOfProductIncome")
    saved_account = account.save(qb=qb)
    assert saved_account.Classification == "Revenue"
    assert Account.filter(Name="Marketplace Sales", qb=qb)[0].Id == saved_account.Id
    klass = Class()
    klass.Name = "Pop-up Market"
    assert Class.get(klass.save(qb=qb).Id, qb=qb).FullyQualifiedName == "Pop-up Market"
    term = Term()
    term.Name, term.DueDays = "Net 45", 45
    term.save(qb=qb)
    assert Term.filter(Name="Net 45", qb=qb)[0].DueDays == 45
    method = PaymentMethod()
    method.Name, method.Type = "Apple Pay", "CREDIT_CARD"
    method.save(qb=qb)
    assert PaymentMethod.filter(Name="Apple Pay", qb=qb)[0].Type == "CREDIT_CARD"
    employee = Employee()
    employee.GivenName, employee.FamilyName = "Ana", "Silva"
    assert employee.save(qb=qb).DisplayName == "Ana Silva"


def test_account_names_have_no_colons_and_a_type(qb):
    account = Account()
    account.Name = "Sales: Online"
    account.AccountType = "Income"
    with pytest.raises(ValidationException):
        account.save(qb=qb)
    account.Name = "Untyped"
    account.AccountType = None
    with pytest.raises(QuickbooksException) as raised:
        account.save(qb=qb)
    assert raised.value.error_code == 6010


def test_tax_codes_are_read_only_over_the_api(api):
    response = api.post("taxcode", {"Name": "Mine"})
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "500"


def test_preferences_read_and_update(qb, sandbox):
    preferences = Preferences.get(qb=qb)
    assert preferences.SalesFormsPrefs.CustomTxnNumbers is True
    preferences.SalesFormsPrefs.CustomTxnNumbers = False
    saved = preferences.save(qb=qb)
    assert saved.SalesFormsPrefs.CustomTxnNumbers is False
    assert saved.SalesFormsPrefs.AllowShipping is True  # other preferences kept
    assert sandbox.company.preferences()["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    with pytest.raises(QuickbooksException) as raised:
        preferences.save(qb=qb)  # the old SyncToken
    assert raised.value.error_code == 5010


def test_unknown_resources_are_unsupported(qb, api):
    response = api.get("salesorder/1")
    assert response.status_code == 400
    with pytest.raises(UnsupportedException):
        qb.get(api.url("salesorder/1"))
