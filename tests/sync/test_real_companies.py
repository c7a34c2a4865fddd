"""The engine against real kinds of company: currencies, numbering, inactive names, field limits."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connex_desktop.core.connection import CustomerPolicy, QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from tests.sync.conftest import connect, docs, money_of, row, write_orders

D = Decimal
ALL = OrderQuery()


@pytest.fixture
def multicurrency_sandbox():
    with SandboxServer(multicurrency=True) as server:
        yield server


def _customer(sandbox: SandboxServer, customer_id: str) -> dict:
    return sandbox.company.read("Customer", customer_id)


def test_a_buyers_euro_order_books_on_their_euro_customer_at_the_stores_rate(
        app, multicurrency_sandbox, tmp_path):
    sandbox = multicurrency_sandbox
    orders = write_orders(tmp_path / "orders.csv", [
        row("E-1", "MUG-ENM-12", "2", "18.00", payment_status="paid", customer_email="ana@x.eu",
            customer_name="Ana Ruiz"),
        row("E-2", "HDL-400L", "1", "39.99", payment_status="paid", customer_email="ana@x.eu",
            customer_name="Ana Ruiz", currency="EUR", exchange_rate="1.10"),
        row("E-3", "KNF-FLD-3", "1", "45.00", payment_status="paid", customer_email="ana@x.eu",
            customer_name="Ana Ruiz", currency="EUR"),
    ])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, orders)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    invoices = {doc["PrivateNote"].split()[1]: doc for doc in docs(sandbox, "Invoice")}
    assert sorted(invoices) == ["E-1", "E-2", "E-3"]
    usd, eur, daily = invoices["E-1"], invoices["E-2"], invoices["E-3"]
    assert usd["CurrencyRef"]["value"] == "USD"
    assert eur["CurrencyRef"]["value"] == daily["CurrencyRef"]["value"] == "EUR"
    assert money_of(eur["TotalAmt"]) == D("39.99")
    assert D(str(eur["ExchangeRate"])) == D("1.10")
    assert money_of(eur["HomeTotalAmt"]) == D("43.99")        # 39.99 × 1.10 USD
    # No rate from the store: QuickBooks' own rate for the day, never 1.
    assert D(str(daily["ExchangeRate"])) == D("1.08")
    assert eur["CustomerRef"]["value"] == daily["CustomerRef"]["value"]
    assert eur["CustomerRef"]["value"] != usd["CustomerRef"]["value"]
    euro_customer = _customer(sandbox, eur["CustomerRef"]["value"])
    assert euro_customer["CurrencyRef"]["value"] == "EUR"
    assert euro_customer["PrimaryEmailAddr"]["Address"] == "ana@x.eu"
    assert euro_customer["DisplayName"] == "Ana Ruiz (EUR)"
    for invoice in invoices.values():
        assert money_of(sandbox.company.read("Invoice", invoice["Id"])["Balance"]) == 0
    payments = docs(sandbox, "Payment")
    assert sorted(p["CurrencyRef"]["value"] for p in payments) == ["EUR", "EUR", "USD"]

    counts = {kind: len(docs(sandbox, kind)) for kind in ("Invoice", "Payment", "Customer")}
    again = app.engine().run(connection, query=ALL)
    assert again.status is RunStatus.SUCCEEDED and again.skipped == 3
    assert counts == {kind: len(docs(sandbox, kind)) for kind in counts}


def test_a_buyers_euro_order_is_not_refused_on_their_dollar_customer(app, multicurrency_sandbox,
                                                                   tmp_path):
    sandbox = multicurrency_sandbox
    orders = write_orders(tmp_path / "orders.csv", [
        row("D-1", "MUG-ENM-12", "1", "18.00", customer_email="bo@x.eu", customer_name="Bo"),
        row("D-2", "MUG-ENM-12", "1", "18.00", customer_email="bo@x.eu", customer_name="Bo",
            currency="EUR")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, orders)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    currencies = {_customer(sandbox, doc["CustomerRef"]["value"])["CurrencyRef"]["value"]
                  for doc in docs(sandbox, "Invoice")}
    assert currencies == {"USD", "EUR"}


def test_the_generic_customer_gets_a_twin_per_currency(app, multicurrency_sandbox, tmp_path):
    sandbox = multicurrency_sandbox
    orders = write_orders(tmp_path / "orders.csv", [
        row("G-1", "MUG-ENM-12", "1", "18.00"),
        row("G-2", "MUG-ENM-12", "1", "18.00", currency="GBP"),
    ])
    connection = connect(app, sandbox, "Shop", TransactionMode.SALES_ORDERS, orders,
                         mapping=QuickBooksMapping(customer_policy=CustomerPolicy.GENERIC))
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    by_order = {doc["PrivateNote"].split()[1]: doc for doc in docs(sandbox, "Estimate")}
    home = _customer(sandbox, by_order["G-1"]["CustomerRef"]["value"])
    twin = _customer(sandbox, by_order["G-2"]["CustomerRef"]["value"])
    generic = connection.mapping.generic_customer
    assert (home["DisplayName"], home["CurrencyRef"]["value"]) == (generic, "USD")
    assert (twin["DisplayName"], twin["CurrencyRef"]["value"]) == (f"{generic} (GBP)", "GBP")


def test_without_multicurrency_a_foreign_order_names_both_currencies(app, sandbox, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", [
        row("F-1", "MUG-ENM-12", "1", "18.00", currency="EUR")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, orders)
    result = app.engine().run(connection)
    (failure,) = result.errors
    assert "EUR" in failure.message and "USD" in failure.message
    assert docs(sandbox, "Invoice") == []


def test_qb_numbering_numbers_the_invoice_in_its_own_sequence(app, sandbox, tmp_path):
    """The merchant's own invoice 1001 exists; our estimate gets 1001 in the estimates'
    sequence, and its invoice must not copy that number."""
    merchant = sandbox.company.create("Customer", {"DisplayName": "Walk-in"})
    sandbox.company.create("Invoice", {
        "CustomerRef": {"value": merchant["Id"]},
        "DocNumber": "1001", "Line": [{"DetailType": "SalesItemLineDetail", "Amount": "5.00",
                                       "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})
    orders = write_orders(tmp_path / "orders.csv", [row("N-1", "MUG-ENM-12", "2", "18.00")])
    connection = connect(app, sandbox, "Shop", TransactionMode.SALES_ORDERS_INVOICES, orders,
                         use_qb_numbering=True)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (estimate,) = docs(sandbox, "Estimate")
    ours = [doc for doc in docs(sandbox, "Invoice") if "N-1" in str(doc.get("PrivateNote"))]
    (invoice,) = ours
    assert estimate["DocNumber"] == "1001"
    assert invoice["DocNumber"] == "1002"
    assert money_of(invoice["TotalAmt"]) == D("36.00")
    assert {"TxnId": estimate["Id"], "TxnType": "Estimate"} in invoice["LinkedTxn"]
    again = app.engine().run(connection, query=ALL)
    assert again.documents == [] and len(docs(sandbox, "Invoice")) == 2


@pytest.mark.parametrize("entity", ["Customer", "Item"])
def test_an_inactive_customer_or_item_is_reactivated_not_duplicated(app, sandbox, tmp_path,
                                                                    entity):
    orders = write_orders(tmp_path / "orders.csv", [
        row("I-1", "NEW-SKU-1", "1", "12.00", product_name="Lantern Hook",
            customer_name="Quinn Quiet", customer_email="quinn@example.com")])
    if entity == "Customer":
        record = sandbox.company.create("Customer", {
            "DisplayName": "Quinn Quiet", "PrimaryEmailAddr": {"Address": "old@example.com"}})
    else:
        income = next(a for a in sandbox.company.all("Account")
                      if a.get("AccountType") == "Income")
        record = sandbox.company.create("Item", {
            "Name": "Lantern Hook", "Sku": "NEW-SKU-1", "Type": "NonInventory",
            "IncomeAccountRef": {"value": income["Id"]}})
    sandbox.company.update(entity, {"Id": record["Id"], "SyncToken": record["SyncToken"],
                                    "sparse": True, "Active": False})
    before = len(sandbox.company.all(entity))
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, orders)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(sandbox, "Invoice")
    used = (invoice["CustomerRef"]["value"] if entity == "Customer"
            else invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"])
    assert used == record["Id"]
    assert sandbox.company.read(entity, record["Id"])["Active"] is True
    assert len(sandbox.company.all(entity)) == before
    assert money_of(invoice["TotalAmt"]) == D("12.00")


def test_over_long_or_malformed_customer_fields_are_dropped_with_a_note(app, sandbox, tmp_path):
    long_email = "a" * 95 + "@example.com"
    orders = write_orders(tmp_path / "orders.csv", [
        row("L-1", "MUG-ENM-12", "1", "18.00", customer_email=long_email,
            customer_name="Bea " + "B" * 120, billing_postal_code="9" * 40,
            billing_city="Springfield"),
        row("L-2", "MUG-ENM-12", "1", "18.00", customer_email="not an email",
            customer_name="Cal Core"),
    ])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, orders)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    invoices = {doc["PrivateNote"].split()[1]: doc for doc in docs(sandbox, "Invoice")}
    assert sorted(invoices) == ["L-1", "L-2"]
    bea = _customer(sandbox, invoices["L-1"]["CustomerRef"]["value"])
    assert "PrimaryEmailAddr" not in bea
    assert len(bea["FamilyName"]) == 100
    assert "PostalCode" not in bea.get("BillAddr", {})
    assert bea["BillAddr"]["City"] == "Springfield"
    assert "PrimaryEmailAddr" not in _customer(sandbox, invoices["L-2"]["CustomerRef"]["value"])
    for invoice in invoices.values():
        assert "BillEmail" not in invoice
        assert money_of(invoice["TotalAmt"]) == D("18.00")
    messages = {record.order_number: record.message for record in app.runs.orders(result.run_id)}
    assert "email" in messages["L-1"].lower() and "postal code" in messages["L-1"].lower()
    assert "not an email address" in messages["L-2"]


@pytest.mark.parametrize("plan", ["QuickBooks Online Essentials", "QuickBooks Online Advanced"])
def test_purchase_orders_need_quickbooks_plus_or_advanced(app, sandbox, tmp_path, plan):
    sandbox.company.set_plan(plan)
    orders = write_orders(tmp_path / "orders.csv", [
        row("P-1", "TNT-2P-GRN", "1", "349.00", payment_status="paid")])
    connection = connect(app, sandbox, "Drop ship", TransactionMode.SALES_ORDERS_INVOICES_POS,
                         orders)
    problem = app.engine().prepare(connection)
    result = app.engine().run(connection)
    if plan.endswith("Advanced"):
        assert problem is None and result.status is RunStatus.SUCCEEDED, result
        assert len(docs(sandbox, "PurchaseOrder")) == 1
        return
    assert result.status is RunStatus.FAILED
    assert result.message == problem
    assert "Plus" in problem and "Advanced" in problem and plan in problem
    assert docs(sandbox, "Estimate") == docs(sandbox, "PurchaseOrder") == []
