"""A connection's rules against the sandbox company: each order booked as its rule says, once."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest

from connex_desktop.core.connection import QuickBooksMapping, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import OrderOutcome, RunStatus
from connex_desktop.core.rules import Condition, CustomerChoice, Field, Rule
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.sync_log import Shown, log_rows, log_table, write_csv
from tests.sync.conftest import by_number, connect, docs, money_of, row, write_orders

D = Decimal
ALL = OrderQuery()

# A store with wholesale orders on terms (unpaid, tagged "trade"), card orders paid at
# checkout, and a test order.
ORDERS = [
    row("1001", "SLB-20F-REG", "2", "179.95", payment_status="paid", payment_method="Visa",
        shipping_amount="12.50", tax_amount="27.36"),
    row("1002", "MUG-ENM-12", "24", "18.00", status="on-hold", tags="trade"),
    row("1003", "HDL-400L", "1", "39.99", payment_status="paid", payment_method="MasterCard",
        tags="test, qa"),
    row("1004", "FUEL-230G", "10", "7.49", status="on-hold", tags="Trade", channel="Phone",
        order_discount="4.90"),
]
TERMS = Rule("Terms", (Condition(Field.PAYMENT_STATUS, ("unpaid",)),
                       Condition(Field.TAG, ("trade",))),
             mode=TransactionMode.INVOICES, customer=CustomerChoice.NAMED,
             customer_name="Trade buyers", prefix="T-")
TEST_ORDERS = Rule("Test orders", (Condition(Field.TAG, ("test",)),), skip=True,
                   skip_reason="test orders are not sales")
CARDS = Rule("Cards", (Condition(Field.PAYMENT_METHOD, ("Visa", "MasterCard")),),
             payment_method="Visa", deposit_account="Checking")


def shop(app, sandbox, tmp_path, *rules: Rule):
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    return connect(app, sandbox, "Shop", TransactionMode.SALES_RECEIPTS, orders, rules=rules)


def outcomes(app, run_id):
    return {order.order_number: order for order in app.runs.orders(run_id)}


def test_terms_orders_become_invoices_and_card_orders_sales_receipts(app, sandbox, tmp_path):
    connection = shop(app, sandbox, tmp_path, TEST_ORDERS, TERMS, CARDS)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result
    invoices, receipts = by_number(sandbox, "Invoice"), by_number(sandbox, "SalesReceipt")
    assert {number: money_of(doc["TotalAmt"]) for number, doc in invoices.items()} == {
        "T-1002": D("432.00"), "T-1004": D("70.00")}
    assert {number: money_of(doc["TotalAmt"]) for number, doc in receipts.items()} == {
        "1001": D("399.76")}
    trade = {doc["CustomerRef"]["value"] for doc in invoices.values()}
    (customer,) = [c for c in docs(sandbox, "Customer") if c["DisplayName"] == "Trade buyers"]
    assert trade == {customer["Id"]}
    checking = next(a for a in docs(sandbox, "Account") if a["Name"] == "Checking")
    assert receipts["1001"]["DepositToAccountRef"]["value"] == checking["Id"]
    assert receipts["1001"]["PaymentMethodRef"]["name"] == "Visa"
    logged = outcomes(app, result.run_id)
    assert {number: order.rule for number, order in logged.items()} == {
        "1001": "Cards", "1002": "Terms", "1003": "Test orders", "1004": "Terms"}


def test_a_rule_that_skips_test_orders_skips_them_with_the_reason(app, sandbox, tmp_path):
    connection = shop(app, sandbox, tmp_path, TEST_ORDERS, TERMS)
    result = app.engine().run(connection)
    assert result.skipped == 1 and result.synced == 3
    assert "1003" not in by_number(sandbox, "SalesReceipt")
    skipped = outcomes(app, result.run_id)["1003"]
    assert skipped.outcome is OrderOutcome.SKIPPED
    assert skipped.message == ("Skipped: rule 'Test orders' skips it: test orders are not "
                               "sales.")
    (shown,) = [row for row in log_table([skipped], frozenset(), QuickBooksProduct.ONLINE)]
    assert shown.shown is Shown.RULE and shown.cells[-1] == skipped.message


def test_changing_a_rule_after_booking_books_nothing_again(app, sandbox, tmp_path):
    connection = shop(app, sandbox, tmp_path, TERMS)
    app.engine().run(connection)
    before = {entity: len(docs(sandbox, entity))
              for entity in ("Invoice", "SalesReceipt", "Estimate", "Payment")}
    # The terms orders would now be sales orders, the card order an invoice with payment.
    changed = dataclasses.replace(connection, mode=TransactionMode.INVOICES_WITH_PAYMENTS, rules=(
        dataclasses.replace(TERMS, mode=TransactionMode.SALES_ORDERS, prefix="S-"),))
    app.connections.update(changed)
    again = app.engine().run(app.connections.get("Shop"), query=ALL)
    assert again.status is RunStatus.SUCCEEDED and again.synced == 0, again
    assert {entity: len(docs(sandbox, entity)) for entity in before} == before
    logged = outcomes(app, again.run_id)
    assert "booked already (Invoice T-1002)" in logged["1002"].message
    assert logged["1002"].rule == "Terms" and logged["1001"].rule == ""


def test_an_order_booked_as_a_sales_order_is_not_booked_again_by_another_rule(app, sandbox,
                                                                           tmp_path):
    connection = shop(app, sandbox, tmp_path,
                      dataclasses.replace(TERMS, mode=TransactionMode.SALES_ORDERS))
    app.engine().run(connection)
    assert set(by_number(sandbox, "Estimate")) == {"T-1002", "T-1004"}
    app.connections.update(dataclasses.replace(connection, rules=(TERMS,)))
    again = app.engine().run(app.connections.get("Shop"), query=ALL)
    assert again.synced == 0 and not docs(sandbox, "Invoice")
    assert ("booked already (Sales order (Estimate) T-1002)"
            in outcomes(app, again.run_id)["1002"].message)


def test_the_preview_shows_the_rule_and_the_documents_it_would_make(app, sandbox, tmp_path):
    connection = shop(app, sandbox, tmp_path, TEST_ORDERS, TERMS)
    preview = app.engine().run(connection, dry_run=True)
    assert preview.rules == {"1002": "Terms", "1003": "Test orders", "1004": "Terms"}
    assert [(doc.order, doc.kind.value, doc.doc_number, doc.total)
            for doc in preview.documents] == [
        ("1001", "SalesReceipt", "1001", D("399.76")), ("1002", "Invoice", "T-1002", D("432.00")),
        ("1004", "Invoice", "T-1004", D("70.00"))]
    planned = outcomes(app, preview.run_id)["1002"]
    assert planned.outcome is OrderOutcome.PLANNED and planned.rule == "Terms"
    assert not docs(sandbox, "Invoice")


@pytest.fixture
def company(request) -> Iterator[SandboxServer]:
    """A sandbox company of the kind the test is parametrized with."""
    with SandboxServer(kind=request.param) as server:
        yield server


# Classes per transaction with locations, a class on each line without, neither.
@pytest.mark.parametrize(("company", "on_form", "on_lines", "location"), [
    ("us-tracked", True, False, True), ("us-line-classes", False, True, False),
    ("us", False, False, False),
], indirect=["company"], ids=["per-transaction", "per-line", "neither"])
def test_a_rules_class_and_location_replace_the_mappings_where_the_company_tracks_them(
        app, company, tmp_path, on_form, on_lines, location):
    classes = {c["Name"]: c["Id"] for c in docs(company, "Class")}
    locations = {d["Name"]: d["Id"] for d in docs(company, "Department")}
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    terms = dataclasses.replace(TERMS, class_name="Wholesale", location_name="Web")
    connection = connect(app, company, "Shop", TransactionMode.SALES_RECEIPTS, orders,
                         rules=(terms,), mapping=QuickBooksMapping(class_name="Online Store",
                                                                   location_name="Portland"))
    assert app.engine().run(connection).status is RunStatus.SUCCEEDED
    booked = {**by_number(company, "SalesReceipt"), **by_number(company, "Invoice")}
    assert set(booked) == {"1001", "1003", "T-1002", "T-1004"}
    for number, doc in booked.items():
        by_rule = number.startswith("T-")
        wanted = classes["Wholesale" if by_rule else "Online Store"]
        assert (doc.get("ClassRef") or {}).get("value") == (wanted if on_form else None)
        classed = [line[line["DetailType"]] for line in doc["Line"]
                   if line["DetailType"] in ("SalesItemLineDetail", "DiscountLineDetail")]
        assert [(detail.get("ClassRef") or {}).get("value") for detail in classed] == \
            [wanted if on_lines else None] * len(classed), number
        assert (doc.get("DepartmentRef") or {}).get("value") == (
            locations["Web" if by_rule else "Portland"] if location else None)


@pytest.mark.parametrize(("company", "tracked"), [("us-tracked", True), ("us", False)],
                         indirect=["company"], ids=["tracked", "not-tracked"])
def test_a_class_quickbooks_lacks_stops_the_run_naming_it_only_where_classes_are_tracked(
        app, company, tmp_path, tracked):
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    connection = connect(app, company, "Shop", TransactionMode.SALES_RECEIPTS, orders,
                         rules=(dataclasses.replace(TERMS, class_name="Trade"),))
    result = app.engine().run(connection)
    if tracked:
        assert result.status is RunStatus.FAILED and not docs(company, "Invoice")
        assert result.message.startswith(
            "The class 'Trade' of the rule 'Terms' is not in QuickBooks")
    else:
        assert result.status is RunStatus.SUCCEEDED
        assert set(by_number(company, "Invoice")) == {"T-1002", "T-1004"}


def test_the_log_and_its_export_name_the_rule_of_booked_and_failed_orders(app, sandbox,
                                                                        tmp_path):
    # The rule's prefix makes a 23-character number, which fails the order it decides.
    long_prefix = dataclasses.replace(TERMS, name="Phone orders",
                                      conditions=(Condition(Field.CHANNEL, ("phone",)),),
                                      prefix="TRADE-DESK-ORDERS-")
    connection = shop(app, sandbox, tmp_path, long_prefix, TERMS)
    result = app.engine().run(connection)
    assert result.failed == 1 and result.rules["1004"] == "Phone orders"
    logged = outcomes(app, result.run_id)
    assert (logged["1004"].outcome, logged["1004"].rule) == (OrderOutcome.FAILED,
                                                             "Phone orders")
    assert "'TRADE-DESK-ORDERS-1004' is 22 characters" in logged["1004"].message
    rows = {row.order.order_number: row.cells[-1]
            for row in log_table(app.runs.orders(result.run_id), frozenset(),
                                 QuickBooksProduct.ONLINE)}
    assert rows["1002"] == "By rule 'Terms'."
    assert rows["1004"].startswith("By rule 'Phone orders'. The document number")
    path = tmp_path / "log.csv"
    write_csv(path, log_rows([app.runs.get(result.run_id)], app.runs, app.ledger,
                             QuickBooksProduct.ONLINE))
    with path.open(encoding="utf-8-sig", newline="") as file:
        exported = {line["Order"]: line["Rule"] for line in csv.DictReader(file)}
    assert exported == {"1001": "", "1002": "Terms", "1003": "", "1004": "Phone orders"}


def test_a_rule_booking_estimates_needs_them_turned_on(app, sandbox, tmp_path):
    sandbox.set_preference(allow_estimates=False)
    connection = shop(app, sandbox, tmp_path,
                      dataclasses.replace(TERMS, mode=TransactionMode.SALES_ORDERS))
    assert "Estimates are turned off in QuickBooks" in (app.engine().prepare(connection) or "")


def test_another_connection_on_the_store_books_nothing_its_rules_would_book_otherwise(
        app, sandbox, tmp_path):
    first = shop(app, sandbox, tmp_path, TEST_ORDERS, TERMS)
    assert app.engine().run(first).synced == 3
    orders = tmp_path / "orders.csv"
    # The same store under other rules: every order would be an invoice numbered X-….
    second = connect(app, sandbox, "Shop again", TransactionMode.INVOICES_WITH_PAYMENTS, orders,
                     rules=(Rule("Everything", prefix="X-"),))
    again = app.engine().run(second)
    assert again.status is RunStatus.SUCCEEDED and again.skipped == 3, again
    # Only the test order, which the first connection's rule skipped, is booked now.
    assert set(by_number(sandbox, "Invoice")) == {"T-1002", "T-1004", "X-1003"}
    assert set(by_number(sandbox, "SalesReceipt")) == {"1001"}
    assert "booked already" in outcomes(app, again.run_id)["1002"].message
