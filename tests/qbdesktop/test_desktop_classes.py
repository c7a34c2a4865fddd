"""Classes in QuickBooks Desktop: the connection's (or a rule's) class on each form and, as
QuickBooks fills them, on its lines, where the company file tracks classes; to the cent."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from connex_desktop.core.connection import QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.core.rules import Condition, Field, Rule
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.processor import FakeQuickBooks
from connex_desktop.qbdesktop.fake.records import (
    FEATURE_NOT_ENABLED,
    INVALID_REFERENCE,
    StatusError,
    Txn,
)
from connex_desktop.qbdesktop.qbxml import message_set
from connex_desktop.qbdesktop.requests import add_request
from connex_desktop.qbdesktop.responses import parse_response
from tests.fakes.linnworks import FakeLinnworks
from tests.qbdesktop.test_desktop_engine import (
    ORDERS,
    REFUNDED_ORDERS,
    TOTALS,
    booked_as_ordered,
    desktop_connection,
    refunded_once,
    sync,
    txns,
)
from tests.qbdesktop.test_desktop_store_purchase_orders import (
    linnworks_into_desktop,
    purchase_orders,
    run,
)
from tests.sync.conftest import write_orders
from tests.sync.test_store_purchase_orders import linnworks_po, set_quantity

D = Decimal
RETAIL = QuickBooksMapping(class_name="Retail Shop")


@pytest.fixture
def tracking(quickbooks: FakeQuickBooks) -> FakeQuickBooks:
    """The company file tracks classes and has two."""
    quickbooks.company.class_tracking = True
    for name in ("Retail Shop", "Wholesale"):
        quickbooks.company.add_other("Class", name)
    return quickbooks


def classes_of(txn: Txn) -> tuple[str, frozenset[str]]:
    """The form's class and its lines' classes, by name ("": none)."""
    return (txn.class_record.name if txn.class_record else "",
            frozenset(line.class_record.name if line.class_record else "" for line in txn.lines))


def forms(quickbooks: FakeQuickBooks, *kinds: str) -> list[Txn]:
    return [txn for txn in quickbooks.company.txns.values() if txn.kind in kinds]


def test_every_form_and_line_of_an_order_carries_the_connections_class(app, tracking, tmp_path):
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.SALES_ORDERS_INVOICES_POS, mapping=RETAIL)
    sync(app, shop)

    booked_as_ordered(tracking)
    sales = forms(tracking, "SalesOrder", "Invoice", "PurchaseOrder")
    assert len(sales) == 6
    assert {classes_of(txn) for txn in sales} == {("Retail Shop", frozenset({"Retail Shop"}))}
    payments = forms(tracking, "ReceivePayment")
    assert sorted(payment.total for payment in payments) == sorted(TOTALS.values())
    assert all(payment.class_record is None for payment in payments)   # payments have none


def test_a_sales_receipt_and_its_refunds_credit_memo_carry_the_class(app, tracking, tmp_path):
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    shop = desktop_connection(app, orders, TransactionMode.SALES_RECEIPTS, mapping=RETAIL)
    sync(app, shop)
    write_orders(orders, REFUNDED_ORDERS)
    sync(app, shop)

    refunded_once(tracking)
    receipts = txns(tracking, "SalesReceipt")
    assert {number: txn.total for number, txn in receipts.items()} == TOTALS
    for txn in (*receipts.values(), *forms(tracking, "CreditMemo")):
        assert classes_of(txn) == ("Retail Shop", {"Retail Shop"})


def test_a_rule_books_its_orders_under_its_own_class(app, tracking, tmp_path):
    wholesale = Rule("Big orders", (Condition(Field.TOTAL_ABOVE, ("100",)),),
                     class_name="Wholesale")
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES, mapping=RETAIL, rules=(wholesale,))
    sync(app, shop)

    invoices = txns(tracking, "Invoice")
    assert {number: (txn.total, classes_of(txn)) for number, txn in invoices.items()} == {
        "1001": (TOTALS["1001"], ("Wholesale", {"Wholesale"})),
        "1002": (TOTALS["1002"], ("Retail Shop", {"Retail Shop"}))}


@pytest.mark.parametrize(("mapping", "rules", "words"), [
    (QuickBooksMapping(class_name="Retail Shops"), (), "class 'Retail Shops' chosen for this"),
    (RETAIL, (Rule("Big orders", class_name="Wholesail"),),
     "class 'Wholesail' of the rule 'Big orders'"),
], ids=["connection", "rule"])
def test_a_class_the_company_file_lacks_stops_the_run_naming_it(app, tracking, tmp_path,
                                                                mapping, rules, words):
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES, mapping=mapping, rules=rules)
    result = app.engine().run(shop)

    assert result.status is RunStatus.FAILED
    assert words in result.message and "not in QuickBooks" in result.message
    assert forms(tracking, "Invoice") == []


def test_a_class_deleted_in_quickbooks_during_the_run_fails_the_order_naming_it(
        app, tracking, tmp_path, monkeypatch):
    def deleted(_company, ref, where):
        if ref is None:
            return None
        raise StatusError(INVALID_REFERENCE, "There is an invalid reference to QuickBooks "
                                             f'Class "Retail Shop" in the {where}.')
    monkeypatch.setattr(FakeCompanyFile, "class_ref", deleted)
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES, mapping=RETAIL)
    result = app.engine().run(shop)

    assert forms(tracking, "Invoice") == []
    assert {error.order for error in result.errors} == {"1001", "1002"}
    assert all(error.message.startswith(
        "QuickBooks refused its Invoice: the request names something QuickBooks does not have: "
        'There is an invalid reference to QuickBooks Class "Retail Shop" in the Invoice.')
               for error in result.errors)


def test_a_company_file_without_class_tracking_is_sent_no_class(app, quickbooks, tmp_path):
    quickbooks.company.add_other("Class", "Retail Shop")
    shop = desktop_connection(app, write_orders(tmp_path / "orders.csv", ORDERS),
                              TransactionMode.INVOICES, mapping=RETAIL)
    result = app.engine().run(shop)   # QuickBooks would refuse a class (see below): none sent

    assert result.status is RunStatus.SUCCEEDED and result.run_id is not None
    invoices = txns(quickbooks, "Invoice")
    assert {number: txn.total for number, txn in invoices.items()} == TOTALS
    assert {classes_of(txn) for txn in invoices.values()} == {("", frozenset({""}))}
    assert all("Booked without the class 'Retail Shop': the QuickBooks company does not track "
               "classes." in booked.message for booked in app.runs.orders(result.run_id))


def invoice_with_class(class_name: str) -> str:
    request, add = add_request("InvoiceAdd", "inv")
    ET.SubElement(ET.SubElement(add, "CustomerRef"), "FullName").text = "Jane Doe"
    ET.SubElement(ET.SubElement(add, "ClassRef"), "FullName").text = class_name
    line = ET.SubElement(add, "InvoiceLineAdd")
    ET.SubElement(ET.SubElement(line, "ItemRef"), "FullName").text = "Mug"
    ET.SubElement(line, "Amount").text = "9.50"
    return message_set([request])


def test_the_fake_refuses_a_class_the_file_does_not_track_or_have(quickbooks):
    untracked = parse_response(quickbooks.process(invoice_with_class("Retail Shop")))
    quickbooks.company.class_tracking = True
    unknown = parse_response(quickbooks.process(invoice_with_class("Retail Shop")))

    assert untracked.results[0].status_code == FEATURE_NOT_ENABLED
    assert unknown.results[0].status_code == INVALID_REFERENCE
    assert 'Class "Retail Shop"' in unknown.results[0].message
    assert forms(quickbooks, "Invoice") == []


def test_a_stores_purchase_order_and_its_lines_take_the_class_and_keep_it_when_changed(
        app, quickbooks):
    quickbooks.company.class_tracking = True
    quickbooks.company.add_other("Class", "Retail Shop")
    po_then = linnworks_po("PO-42", [("TENT-2P", 10, "150.00"), ("MUG", 3, "2.333")],
                           shipping="12.00")
    with FakeLinnworks([], purchases=[po_then]) as store:
        connection = linnworks_into_desktop(app, store)
        connection = app.connections.update(dataclasses.replace(connection, mapping=RETAIL))
        run(app, connection)
        po = purchase_orders(quickbooks)["PO-42"]
        set_quantity(po_then, 0, 12)
        run(app, connection)

    assert (po.total, po.edit_sequence) == (D("1819.00"), 2)
    assert po.class_record is not None and po.class_record.name == "Retail Shop"
    assert [(line.item.name, line.class_record.name if line.class_record else "")
            for line in po.lines] == [("Tent 2P", "Retail Shop"), ("Mug", "Retail Shop"),
                                      ("Freight", "Retail Shop")]
