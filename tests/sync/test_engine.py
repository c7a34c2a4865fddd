"""The engine against the sandbox company: what lands in QuickBooks, once, to the cent."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from connex_desktop.core.connection import QuickBooksMapping, TaxPolicy
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.progress import CancelToken, Progress
from connex_desktop.core.result import DocumentKind, OrderOutcome, RunStatus
from connex_desktop.sources.base import OrderQuery
from tests.sync.conftest import by_number, connect, docs, money_of, row, write_orders

D = Decimal
ALL = OrderQuery()   # every order in the file, whatever the cursor says

# Three orders: paid in full (discounts, shipping, tax), unpaid, and partly paid.
# 1001: 2×179.95 + 3×7.49 − 5.00 line discount = 377.37; −10.00 order discount, +12.50
#       shipping, +27.36 tax → 407.23
ORDERS = [
    row("W-1001", "SLB-20F-REG", "2", "179.95", payment_status="paid", payment_method="Visa",
        payment_reference="ch_1001", shipping_amount="12.50", order_discount="10.00",
        tax_amount="27.36"),
    row("W-1001", "FUEL-230G", "3", "7.49", line_discount="5.00"),
    row("W-1002", "MUG-ENM-12", "2", "18.00", status="on-hold"),
    row("W-1003", "HDL-400L", "1", "39.99", payment_status="partially_paid", amount_paid="20.00",
        payment_method="Check", payment_reference="4711"),
]
TOTALS = {"W-1001": D("407.23"), "W-1002": D("36.00"), "W-1003": D("39.99")}
PAID = {"W-1001": D("407.23"), "W-1002": D("0"), "W-1003": D("20.00")}


@pytest.mark.parametrize("use_qb_numbering", [False, True], ids=["order-numbers", "qb-numbers"])
@pytest.mark.parametrize("mode", list(TransactionMode), ids=[m.value for m in TransactionMode])
def test_every_mode_books_the_right_documents_once(app, sandbox, tmp_path, mode,
                                                   use_qb_numbering):
    orders = write_orders(tmp_path / "orders.csv", ORDERS)
    connection = connect(app, sandbox, "Shop", mode, orders, use_qb_numbering=use_qb_numbering)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result
    booked_orders = set(TOTALS)
    if mode is TransactionMode.SALES_RECEIPTS:
        booked_orders = {"W-1001"}   # the others are not paid in full
        assert result.skipped == 2
    assert result.synced == len(booked_orders)

    sales = {
        DocumentKind.ESTIMATE: mode.books_estimate, DocumentKind.INVOICE: mode.books_invoice,
        DocumentKind.SALES_RECEIPT: mode is TransactionMode.SALES_RECEIPTS}
    for kind, expected in sales.items():
        stored = docs(sandbox, kind.value)
        assert len(stored) == (len(booked_orders) if expected else 0), kind
        for doc in stored:
            number = _order_of(doc)
            assert money_of(doc["TotalAmt"]) == TOTALS[number], (kind, number)
            if use_qb_numbering:
                assert doc["DocNumber"] != number
            else:
                assert doc["DocNumber"] == number
    if mode.books_estimate and mode.books_invoice:
        estimates = {_order_of(e): e for e in docs(sandbox, "Estimate")}
        for invoice in docs(sandbox, "Invoice"):
            estimate = estimates[_order_of(invoice)]
            if not use_qb_numbering:   # else each kind of form has its own sequence
                assert invoice["DocNumber"] == estimate["DocNumber"]
            assert {"TxnId": estimate["Id"], "TxnType": "Estimate"} in invoice["LinkedTxn"]
            assert sandbox.company.read("Estimate", estimate["Id"])["TxnStatus"] == "Closed"
    payments = docs(sandbox, "Payment")
    if mode.books_payments:
        assert sorted(money_of(p["TotalAmt"]) for p in payments) == [D("20.00"), D("407.23")]
        for invoice in docs(sandbox, "Invoice"):
            number = _order_of(invoice)
            assert money_of(invoice["Balance"]) == TOTALS[number] - PAID[number]
    else:
        assert payments == []
    if mode is TransactionMode.SALES_RECEIPTS:
        (receipt,) = docs(sandbox, "SalesReceipt")
        assert receipt["PaymentRefNum"] == "ch_1001"

    # Again: nothing new in QuickBooks, every order skipped as booked.
    counts = {kind: len(docs(sandbox, kind)) for kind in
              ("Estimate", "Invoice", "SalesReceipt", "Payment", "PurchaseOrder", "Customer")}
    again = app.engine().run(connection, query=ALL)
    assert again.status is RunStatus.SUCCEEDED
    assert again.documents == [] and again.skipped == 3
    assert counts == {kind: len(docs(sandbox, kind)) for kind in counts}


def _order_of(doc: dict) -> str:
    """The order number a document was booked for, from its memo."""
    note = str(doc.get("PrivateNote") or doc.get("Memo") or "")
    return note.split()[1].rstrip(".")


def test_later_payment_closes_the_invoice_without_booking_the_order_again(app, sandbox,
                                                                          tmp_path):
    path = tmp_path / "orders.csv"
    write_orders(path, [row("2001", "KNF-FLD-3", "2", "45.00", status="on-hold")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    first = app.engine().run(connection)
    assert [doc.kind for doc in first.documents] == [DocumentKind.INVOICE]
    (invoice,) = docs(sandbox, "Invoice")
    assert money_of(invoice["Balance"]) == D("90.00")

    write_orders(path, [row("2001", "KNF-FLD-3", "2", "45.00", payment_status="paid",
                            payment_method="Visa", payment_reference="ch_late")])
    later = app.engine().run(connection, query=ALL)
    assert [doc.kind for doc in later.documents] == [DocumentKind.PAYMENT]
    assert len(docs(sandbox, "Invoice")) == 1
    (payment,) = docs(sandbox, "Payment")
    assert payment["Line"][0]["LinkedTxn"][0]["TxnId"] == invoice["Id"]
    assert payment["PaymentRefNum"] == "ch_late"
    assert money_of(sandbox.company.read("Invoice", invoice["Id"])["Balance"]) == D("0.00")

    third = app.engine().run(connection, query=ALL)
    assert third.documents == [] and third.skipped == 1
    assert len(docs(sandbox, "Payment")) == 1


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_ORDERS], ids=["invoice", "estimate"])
def test_an_order_changed_after_booking_says_so_and_is_not_booked_again(app, sandbox, tmp_path,
                                                                         mode):
    path = tmp_path / "orders.csv"
    write_orders(path, [row("2101", "KNF-FLD-3", "1", "10.00", payment_status="paid")])
    connection = connect(app, sandbox, "Shop", mode, path)
    first = app.engine().run(connection)
    assert first.synced == 1, first.errors
    kind = "Invoice" if mode.books_invoice else "Estimate"

    write_orders(path, [row("2101", "KNF-FLD-3", "2", "10.00", payment_status="paid")])
    later = app.engine().run(connection, query=ALL)

    assert later.status is RunStatus.SUCCEEDED and later.documents == [], later.errors
    assert [money_of(doc["TotalAmt"]) for doc in docs(sandbox, kind)] == [D("10.00")]
    assert len(docs(sandbox, "Payment")) == (1 if mode.books_payments else 0)
    (logged,) = app.runs.orders(later.run_id)
    assert logged.outcome is OrderOutcome.SKIPPED
    assert "changed after booking: total 10.00 → 20.00" in logged.message
    assert f"undo sync run {first.run_id}" in logged.message
    named = "Invoice" if mode.books_invoice else "Sales order (Estimate)"
    assert f"correct {named} 2101 in QuickBooks" in logged.message, logged.message


def test_two_connections_on_one_store_never_book_an_order_twice(app, sandbox, tmp_path):
    path = tmp_path / "orders.csv"
    write_orders(path, [
        row("3001", "CND-PINE-8", "1", "26.00", payment_status="paid"),
        row("3002", "CND-LAKE-16", "1", "42.00", status="on-hold"),
    ])
    receipts = connect(app, sandbox, "Paid", TransactionMode.SALES_RECEIPTS, path)
    invoices = connect(app, sandbox, "Unpaid", TransactionMode.INVOICES_WITH_PAYMENTS, path,
                       statuses=("On-Hold",))
    assert app.engine().run(receipts).synced == 1
    assert app.engine().run(invoices).synced == 1
    assert list(by_number(sandbox, "SalesReceipt")) == ["3001"]
    assert list(by_number(sandbox, "Invoice")) == ["3002"]

    # The unpaid order is paid: the payment goes onto its invoice, no sales receipt appears.
    write_orders(path, [
        row("3001", "CND-PINE-8", "1", "26.00", payment_status="paid"),
        row("3002", "CND-LAKE-16", "1", "42.00", payment_status="paid"),
    ])
    paid_later = app.engine().run(receipts, query=ALL)
    assert [(doc.order, doc.kind) for doc in paid_later.documents] == [
        ("3002", DocumentKind.PAYMENT)]
    assert list(by_number(sandbox, "SalesReceipt")) == ["3001"]
    invoice = by_number(sandbox, "Invoice")["3002"]
    assert money_of(invoice["Balance"]) == D("0.00")
    # The invoices connection no longer sees it (status) and would not book it again anyway.
    assert app.engine().run(invoices, query=OrderQuery(numbers=("3002",))).documents == []
    assert len(docs(sandbox, "Payment")) == 1


def test_purchase_orders_split_by_vendor_with_address_cost_and_memo(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        row("4001", "TNT-2P-GRN", "2", "349.00", payment_status="paid"),
        row("4001", "JKT-RN-M-M", "1", "149.00"),
        row("4001", "SCK-WOOL-M", "3", "22.00"),
        row("4001", "GFT-BOX", "1", "6.00"),
    ])
    connection = connect(app, sandbox, "Drop ship", TransactionMode.SALES_ORDERS_INVOICES_POS,
                         path)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    vendors = {v["Id"]: v for v in docs(sandbox, "Vendor")}
    items = {i["Sku"]: i for i in docs(sandbox, "Item") if i.get("Sku")}
    orders = docs(sandbox, "PurchaseOrder")
    by_vendor = {vendors[po["VendorRef"]["value"]]["DisplayName"]: po for po in orders}
    assert set(by_vendor) == {vendors[items[sku]["PrefVendorRef"]["value"]]["DisplayName"]
                              for sku in ("TNT-2P-GRN", "JKT-RN-M-M")}
    summit = by_vendor["Summit Textiles Co"]
    assert summit["Memo"] == "Order 4001"
    assert summit["VendorAddr"]["City"] == "Burlington"
    lines = {line["ItemBasedExpenseLineDetail"]["ItemRef"]["value"]: line
             for line in summit["Line"]}
    jacket = lines[items["JKT-RN-M-M"]["Id"]]
    assert money_of(jacket["Amount"]) == money_of(items["JKT-RN-M-M"]["PurchaseCost"])
    socks = lines[items["SCK-WOOL-M"]["Id"]]
    assert money_of(socks["Amount"]) == money_of(items["SCK-WOOL-M"]["PurchaseCost"]) * 3
    assert money_of(summit["TotalAmt"]) == money_of(jacket["Amount"]) + money_of(socks["Amount"])
    (record,) = app.runs.orders(result.run_id)
    assert "Gift Box" in record.message and "default vendor" in record.message


def test_bad_rows_fail_their_orders_and_the_rest_is_booked(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        row("5001", "MUG-ENM-12", "1", "18.00"),
        row("5002", "MUG-ENM-12", "two", "18.00"),
        row("5003", "MUG-ENM-12", "1", "18.00"),
    ])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    result = app.engine().run(connection)
    assert result.status is RunStatus.PARTIAL
    assert (result.synced, result.failed) == (2, 1)
    (error,) = result.errors
    assert error.order == "5002" and "Quantity" in error.message and "3" in error.message
    assert sorted(by_number(sandbox, "Invoice")) == ["5001", "5003"]
    assert app.runs.failed_order_numbers(connection.id) == ["5002"]

    # Fixed in the file: retrying the failed orders fetches and books just that one.
    write_orders(path, [row("5001", "MUG-ENM-12", "1", "18.00"),
                        row("5002", "MUG-ENM-12", "2", "18.00"),
                        row("5003", "MUG-ENM-12", "1", "18.00")])
    retried = app.engine().run(connection, retry_failed=True)
    assert (retried.fetched, retried.synced, retried.failed) == (1, 1, 0)
    assert sorted(by_number(sandbox, "Invoice")) == ["5001", "5002", "5003"]
    assert app.runs.failed_order_numbers(connection.id) == []


def test_an_order_number_too_long_fails_only_that_order(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        row("6001", "MUG-ENM-12"), row("60020000000000000000", "MUG-ENM-12")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path, prefix="WEB-")
    result = app.engine().run(connection)
    assert list(by_number(sandbox, "Invoice")) == ["WEB-6001"]
    (error,) = result.errors
    assert error.order == "60020000000000000000" and "at most 21" in error.message


def test_dry_run_shows_the_plan_and_writes_nothing(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", ORDERS)
    connection = connect(app, sandbox, "Shop", TransactionMode.SALES_ORDERS_INVOICES, path,
                         use_qb_numbering=True)
    before = {kind: len(docs(sandbox, kind)) for kind in ("Customer", "Item", "Invoice",
                                                         "Estimate", "Payment")}
    result = app.engine().run(connection, dry_run=True)
    assert result.dry_run and result.status is RunStatus.SUCCEEDED
    assert before == {kind: len(docs(sandbox, kind)) for kind in before}
    planned = [(doc.order, doc.kind, doc.doc_number, doc.total) for doc in result.documents]
    assert ("W-1001", DocumentKind.ESTIMATE, "(QuickBooks assigns)", D("407.23")) in planned
    assert ("W-1003", DocumentKind.PAYMENT, "(QuickBooks assigns)", D("20.00")) in planned
    assert "Customer 'Buyer W-1001'" in result.created
    run = app.runs.get(result.run_id)
    assert run.dry_run
    assert {o.outcome for o in app.runs.orders(result.run_id)} == {OrderOutcome.PLANNED}
    assert app.ledger.rows_for_run(result.run_id) == []


def test_cancel_stops_between_windows_and_the_next_run_resumes(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv",
                        [row(str(7000 + n), "BTL-1L-STL", "1", "34.00") for n in range(6)])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    engine = app.engine()
    engine.window_orders = 2
    engine.fill_batches = False
    cancel = CancelToken()
    seen: list[Progress] = []

    def progress(snapshot: Progress) -> None:
        seen.append(snapshot)
        if snapshot.booked == 2:
            cancel.cancel()

    result = engine.run(connection, progress=progress, cancel=cancel)
    assert result.status is RunStatus.CANCELLED
    assert len(docs(sandbox, "Invoice")) == result.synced == 2
    assert seen[-1].current_order in ("7000", "7001")
    resumed = app.engine().run(connection)
    assert resumed.status is RunStatus.SUCCEEDED
    assert resumed.synced == 4 and resumed.skipped == 2
    assert sorted(by_number(sandbox, "Invoice")) == [str(7000 + n) for n in range(6)]


def test_buyer_named_like_a_vendor_becomes_a_separate_customer(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        row("8001", "MUG-ENM-12", customer_name="Cascade Outdoor Supply",
            customer_email="buyer@cascade.example")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    customer_id = by_number(sandbox, "Invoice")["8001"]["CustomerRef"]["value"]
    assert sandbox.company.read("Customer", customer_id)["DisplayName"] == (
        "Cascade Outdoor Supply (customer)")


def test_missing_items_are_created_or_fail_the_order(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        row("9001", "NEW-SKU-1", "1", "12.00", product_name="Brand new thing")])
    strict = connect(app, sandbox, "Strict", TransactionMode.INVOICES, path,
                     mapping=QuickBooksMapping(missing_items="fail"))
    failed = app.engine().run(strict)
    assert failed.errors[0].order == "9001" and "NEW-SKU-1" in failed.errors[0].message
    assert docs(sandbox, "Invoice") == []
    relaxed = connect(app, sandbox, "Relaxed", TransactionMode.INVOICES, path)
    booked = app.engine().run(relaxed)
    assert booked.status is RunStatus.SUCCEEDED
    item = next(i for i in docs(sandbox, "Item") if i.get("Sku") == "NEW-SKU-1")
    assert item["Type"] == "NonInventory" and item["Name"] == "Brand new thing"
    assert "Item 'Brand new thing'" in booked.created


def item_of_line(sandbox, number: str) -> dict:
    (line,) = [line for line in by_number(sandbox, "Invoice")[number]["Line"]
               if line["DetailType"] == "SalesItemLineDetail"]
    return sandbox.company.read("Item", line["SalesItemLineDetail"]["ItemRef"]["value"])


def test_skus_whose_names_agree_on_100_characters_each_book_their_own_item(app, sandbox,
                                                                          tmp_path):
    common = "Ultralight down sleeping bag, 800 fill power, water-resistant shell, " * 2
    path = write_orders(tmp_path / "orders.csv", [
        row("9401", "BAG-REG-L", product_name=common + "regular, left zip"),
        row("9402", "BAG-LNG-R", product_name=common + "long, right zip")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    first, second = item_of_line(sandbox, "9401"), item_of_line(sandbox, "9402")
    assert (first["Sku"], second["Sku"]) == ("BAG-REG-L", "BAG-LNG-R")
    assert first["Name"].endswith(" (BAG-REG-L)") and second["Name"].endswith(" (BAG-LNG-R)")
    assert len(first["Name"]) <= 100 and len(second["Name"]) <= 100

    write_orders(path, [row("9403", "BAG-LNG-R", product_name=common + "long, right zip")])
    again = app.engine().run(connection, query=ALL)
    assert not [label for label in again.created if label.startswith("Item")]
    assert item_of_line(sandbox, "9403")["Id"] == second["Id"]


def test_an_item_of_another_sku_is_never_booked_for_a_line(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        # A seeded item has this name, with the SKU MUG-ENM-12.
        row("9501", "MUG-ENM-12-BLUE", product_name="Enamel Camp Mug 12 oz"),
        # New in one run, both named alike: QuickBooks takes one name once (6240).
        row("9502", "CAP-RED", product_name="Trail Cap"),
        row("9503", "CAP-BLUE", product_name="Trail Cap")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    items = {number: item_of_line(sandbox, number) for number in ("9501", "9502", "9503")}
    assert {number: item["Sku"] for number, item in items.items()} == {
        "9501": "MUG-ENM-12-BLUE", "9502": "CAP-RED", "9503": "CAP-BLUE"}
    assert items["9501"]["Name"] == "Enamel Camp Mug 12 oz (MUG-ENM-12-BLUE)"
    assert {items["9502"]["Name"], items["9503"]["Name"]} & {"Trail Cap"}
    assert len({item["Name"] for item in items.values()}) == 3


def test_custom_numbers_off_refuses_order_numbering_in_plain_words(app, sandbox, tmp_path):
    sandbox.set_preference(custom_txn_numbers=False)
    path = write_orders(tmp_path / "orders.csv", [row("9101", "MUG-ENM-12")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    reason = app.engine().prepare(connection)
    assert reason and "Custom transaction numbers are off" in reason
    result = app.engine().run(connection)
    assert result.status is RunStatus.FAILED and "Custom transaction numbers" in result.message
    assert docs(sandbox, "Invoice") == []
    numbered = connect(app, sandbox, "QB numbers", TransactionMode.INVOICES, path,
                       use_qb_numbering=True)
    assert app.engine().prepare(numbered) is None
    assert app.engine().run(numbered).status is RunStatus.SUCCEEDED
    (invoice,) = docs(sandbox, "Invoice")
    assert invoice["DocNumber"] and invoice["PrivateNote"].startswith("Order 9101")


def test_a_write_whose_answer_is_lost_is_not_booked_twice(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv",
                        [row(str(9200 + n), "MUG-ENM-12", payment_status="paid")
                         for n in range(3)])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    sandbox.inject("drop_after_write", count=2)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    assert sorted(by_number(sandbox, "Invoice")) == ["9200", "9201", "9202"]
    assert len(docs(sandbox, "Payment")) == 3


def test_not_connected_is_a_plain_reason_and_a_failed_run(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [row("9301", "MUG-ENM-12")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES, path)
    unconnected = app.connections.update(replace(connection, quickbooks=replace(
        connection.quickbooks, realm_id="")))
    assert "not connected to QuickBooks" in app.engine().prepare(unconnected)
    result = app.engine().run(unconnected)
    assert result.status is RunStatus.FAILED and "not connected" in result.message
    assert app.runs.get(result.run_id).status == "failed"


@pytest.mark.parametrize("mapping", [
    QuickBooksMapping(tax_code="CA Sales Tax", discount_account="Discounts given",
            deposit_account="Checking", payment_method="PayPal"),
    QuickBooksMapping(tax_policy=TaxPolicy.LINE_ITEM, shipping_item="Rush Handling"),
], ids=["tax-code-and-accounts", "tax-line-and-shipping-item"])
def test_tax_shipping_and_accounts_as_mapped_still_total_the_order(app, sandbox, tmp_path,
                                                                    mapping):
    path = write_orders(tmp_path / "orders.csv", [
        row("9401", "PCK-35L-RED", "1", "119.00", payment_status="paid",
            shipping_amount="9.95", order_discount="11.90", tax_amount="9.63",
            payment_reference="pp_9401")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path,
                         mapping=mapping)
    result = app.engine().run(connection)
    assert result.status is RunStatus.SUCCEEDED, (result.message, result.errors)
    invoice = by_number(sandbox, "Invoice")["9401"]
    assert money_of(invoice["TotalAmt"]) == D("126.68")
    assert money_of(invoice["Balance"]) == D("0.00")
    accounts = {a["Name"]: a["Id"] for a in docs(sandbox, "Account")}
    items = {i["Name"]: i for i in docs(sandbox, "Item")}
    (payment,) = docs(sandbox, "Payment")
    if mapping.tax_policy is TaxPolicy.TAX_CODE:
        codes = {c["Name"]: c["Id"] for c in docs(sandbox, "TaxCode")}
        assert invoice["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == codes["CA Sales Tax"]
        discount = next(line for line in invoice["Line"]
                        if line["DetailType"] == "DiscountLineDetail")
        assert (discount["DiscountLineDetail"]["DiscountAccountRef"]["value"]
                == accounts["Discounts given"])
        assert payment["DepositToAccountRef"]["value"] == accounts["Checking"]
        methods = {m["Name"]: m["Id"] for m in docs(sandbox, "PaymentMethod")}
        assert payment["PaymentMethodRef"]["value"] == methods["PayPal"]
    else:
        refs = [line["SalesItemLineDetail"]["ItemRef"]["value"] for line in invoice["Line"]
                if line["DetailType"] == "SalesItemLineDetail"]
        assert items["Rush Handling"]["Id"] in refs
        assert items["Sales tax"]["Id"] in refs and items["Sales tax"]["Type"] == "NonInventory"
        assert "Item 'Sales tax'" in result.created


def test_an_invoice_paid_by_hand_in_quickbooks_is_not_paid_again(app, sandbox, tmp_path):
    path = tmp_path / "orders.csv"
    write_orders(path, [row("9501", "COF-INS-8", "2", "13.50", status="on-hold")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    app.engine().run(connection)
    invoice = by_number(sandbox, "Invoice")["9501"]
    sandbox.company.create("Payment", {   # the bookkeeper records the cheque by hand
        "CustomerRef": invoice["CustomerRef"], "TotalAmt": "27.00",
        "Line": [{"Amount": "27.00", "LinkedTxn": [{"TxnId": invoice["Id"],
                                                     "TxnType": "Invoice"}]}]})
    write_orders(path, [row("9501", "COF-INS-8", "2", "13.50", payment_status="paid")])
    result = app.engine().run(connection, query=ALL)
    assert result.documents == [] and result.skipped == 1
    assert len(docs(sandbox, "Payment")) == 1
    (record,) = app.runs.orders(result.run_id)
    assert "already paid in QuickBooks" in record.message


def test_an_invoice_paid_in_part_by_hand_gets_a_payment_for_what_is_still_open(app, sandbox,
                                                                               tmp_path):
    path = tmp_path / "orders.csv"
    write_orders(path, [row("9502", "COF-INS-8", "2", "13.50", status="on-hold")])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    app.engine().run(connection)
    invoice = by_number(sandbox, "Invoice")["9502"]
    sandbox.company.create("Payment", {   # a deposit of 10.00 recorded by hand
        "CustomerRef": invoice["CustomerRef"], "TotalAmt": "10.00",
        "Line": [{"Amount": "10.00", "LinkedTxn": [{"TxnId": invoice["Id"],
                                                     "TxnType": "Invoice"}]}]})
    write_orders(path, [row("9502", "COF-INS-8", "2", "13.50", payment_status="paid")])
    result = app.engine().run(connection, query=ALL)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    assert sorted(money_of(p["TotalAmt"]) for p in docs(sandbox, "Payment")) == [
        D("10.00"), D("17.00")]
    assert money_of(by_number(sandbox, "Invoice")["9502"]["Balance"]) == D("0.00")
    (payment,) = app.ledger.rows_for_run(result.run_id)
    assert (payment.kind, payment.total) == ("Payment", D("17.00"))
    (record,) = app.runs.orders(result.run_id)
    assert "Only 17.00 of 27.00 was applied" in record.message


def test_the_same_orders_under_another_file_name_are_adopted_not_paid_twice(app, sandbox,
                                                                            tmp_path):
    rows = [row("9601", "NTB-LIN-A5", "2", "21.00", payment_status="paid")]
    first = connect(app, sandbox, "Old", TransactionMode.INVOICES_WITH_PAYMENTS,
                    write_orders(tmp_path / "orders.csv", rows))
    app.engine().run(first)
    moved = tmp_path / "moved"
    moved.mkdir()
    second = connect(app, sandbox, "New", TransactionMode.INVOICES_WITH_PAYMENTS,
                     write_orders(moved / "orders.csv", rows))
    result = app.engine().run(second)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    assert [doc.kind for doc in result.documents] == [DocumentKind.INVOICE]
    assert len(docs(sandbox, "Invoice")) == len(docs(sandbox, "Payment")) == 1


@pytest.mark.parametrize("window_orders", [120, 7], ids=["one-window", "windows-of-7"])
def test_more_orders_than_one_batch_holds_each_get_their_payment(app, sandbox, tmp_path,
                                                                 window_orders):
    path = write_orders(tmp_path / "orders.csv", [
        row(f"B{n}", "MUG-ENM-12", "1", f"{18 + n}.00", payment_status="paid")
        for n in range(45)])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    requests_before = sandbox.request_count
    engine = app.engine()
    engine.window_orders = window_orders   # part-filled batches wait for the next window
    result = engine.run(connection)
    assert result.status is RunStatus.SUCCEEDED and result.synced == 45
    invoices = docs(sandbox, "Invoice")
    assert len(invoices) == 45 and all(money_of(i["Balance"]) == 0 for i in invoices)
    assert len(docs(sandbox, "Payment")) == 45
    # Customers, invoices and payments: 135 operations in batches of 30, plus reading the
    # company's lists; nothing like a request per order.
    assert sandbox.request_count - requests_before <= 20


def test_cancel_before_anything_is_sent_books_nothing_and_the_next_run_books_all(
        app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", [
        row(f"C{n}", "MUG-ENM-12", "1", "18.00", payment_status="paid") for n in range(20)])
    connection = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path)
    engine = app.engine()
    engine.window_orders = 5
    cancel = CancelToken()

    def progress(snapshot: Progress) -> None:
        if snapshot.fetched >= 10:
            cancel.cancel()

    result = engine.run(connection, progress=progress, cancel=cancel)
    assert result.status is RunStatus.CANCELLED
    # Two windows were planned, but their part-filled batches not yet sent: a cancel starts
    # no new write, so nothing is booked, and nothing is half booked.
    assert result.synced == 0 and result.failed == 0
    assert len(docs(sandbox, "Invoice")) == len(docs(sandbox, "Payment")) == 0
    resumed = app.engine().run(connection)
    assert (resumed.synced, resumed.skipped) == (20, 0)
    assert len(docs(sandbox, "Invoice")) == len(docs(sandbox, "Payment")) == 20


STORE_ROWS = [row("9701", "NTB-LIN-A5", "2", "21.00", payment_status="paid"),
              row("9702", "CND-PINE-8", "1", "26.00", payment_status="paid")]


def move_order_file(app, connection, rows, path):
    """The user points the connection at another file (a new export, a moved folder)."""
    path.parent.mkdir(exist_ok=True)
    return app.connections.update(replace(connection, source_settings={
        "path": str(write_orders(path, rows))}))


@pytest.mark.parametrize("mode", [TransactionMode.INVOICES_WITH_PAYMENTS,
                                  TransactionMode.SALES_RECEIPTS], ids=["invoice", "receipt"])
def test_a_renamed_or_moved_order_file_books_nothing_twice(app, sandbox, tmp_path, mode):
    first_file = write_orders(tmp_path / "orders-2025-06-01.csv", STORE_ROWS)
    connection = connect(app, sandbox, "Shop", mode, first_file, use_qb_numbering=True)
    assert app.engine().run(connection).synced == 2

    # The next day's export under a new name, then the same file moved to another folder.
    newer = [*STORE_ROWS, row("9703", "MUG-ENM-12", "1", "18.00", payment_status="paid")]
    first_file.unlink()
    connection = move_order_file(app, connection, newer, tmp_path / "orders-2025-06-02.csv")
    renamed = app.engine().run(connection)
    connection = move_order_file(app, connection, newer,
                                 tmp_path / "archive" / "orders-2025-06-02.csv")
    moved = app.engine().run(connection, query=ALL)

    assert renamed.status is RunStatus.SUCCEEDED and renamed.synced == 1, renamed.errors
    assert {doc.order for doc in renamed.documents} == {"9703"}
    assert moved.status is RunStatus.SUCCEEDED and moved.documents == [], moved.errors
    sales = docs(sandbox, "Invoice" if mode.books_invoice else "SalesReceipt")
    assert sorted(money_of(doc["TotalAmt"]) for doc in sales) == [D("18.00"), D("26.00"),
                                                                  D("42.00")]
    paid = sorted(money_of(doc["TotalAmt"]) for doc in docs(sandbox, "Payment"))
    assert paid == ([D("18.00"), D("26.00"), D("42.00")] if mode.books_payments else [])


def test_a_duplicate_shares_the_store_and_a_new_store_starts_anew(app, sandbox, tmp_path):
    path = write_orders(tmp_path / "orders.csv", STORE_ROWS)
    original = connect(app, sandbox, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS, path,
                       use_qb_numbering=True)
    assert app.engine().run(original).synced == 2
    copy = app.connections.duplicate("Shop", "Shop copy")
    assert copy.id is not None and original.id is not None
    copy = connect_copy(app, sandbox, copy)
    copy = move_order_file(app, copy, STORE_ROWS, tmp_path / "copy" / "orders.csv")
    shared = app.engine().run(copy, query=ALL)
    assert shared.documents == [] and shared.skipped == 2, shared.errors

    # The user says the same file now holds another store's orders: 9701 and 9702 are new.
    app.connections.start_new_store(copy.id, app.source_for(copy).store_key)
    fresh = app.engine().run(copy, query=ALL)
    assert fresh.status is RunStatus.SUCCEEDED and fresh.synced == 2, fresh.errors
    assert len(docs(sandbox, "Invoice")) == len(docs(sandbox, "Payment")) == 4
    # The original still reads its own store, whose orders are booked.
    assert app.engine().run(original, query=ALL).documents == []


def connect_copy(app, sandbox, connection):
    """A duplicated connection gets its own QuickBooks sign-in (secrets are not copied)."""
    from connex_desktop.app import quickbooks_key_prefix
    from connex_desktop.quickbooks.auth import save_credentials

    assert connection.id is not None
    save_credentials(app.secrets, quickbooks_key_prefix(connection.id),
                     client_secret=sandbox.client_secret,
                     refresh_token=str(sandbox.new_grant()["refresh_token"]))
    return connection
