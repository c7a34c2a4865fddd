"""The planner: which documents an order becomes, with what numbers, lines and totals."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from connex_desktop.core.connection import (
    Connection,
    CustomerPolicy,
    MissingItemPolicy,
    QuickBooksMapping,
    TaxPolicy,
)
from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    PaymentStatus,
    Refund,
)
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import DocumentKind
from connex_desktop.sync.planner import (
    QB_ASSIGNS,
    BookedSaleCustomerRef,
    CompanySetup,
    LedgerEntry,
    NewEntityRef,
    PlannedDocumentId,
    document_total,
    names_order,
    plan_order,
    shrunk_payment,
    thawed,
)

D = Decimal


class FakeReferences:
    """A company with two items (one with a vendor and cost), a customer and payment methods."""

    def __init__(self) -> None:
        self.items = [
            {"Id": "11", "Name": "Tent 2P", "Sku": "TENT-2P", "PrefVendorRef": {"value": "41"},
             "PurchaseCost": "150.00"},
            {"Id": "12", "Name": "Mug", "Sku": "MUG", "PrefVendorRef": {"value": "42"},
             "PurchaseCost": "3.50"},
            {"Id": "13", "Name": "Gift Box", "Sku": "GIFT"},
        ]
        self.customers = [{"Id": "58", "DisplayName": "Jane Doe",
                           "PrimaryEmailAddr": {"Address": "jane@example.com"}}]
        self.vendors = {"41": {"Id": "41", "DisplayName": "Cascade",
                               "BillAddr": {"Line1": "418 Industrial Way", "City": "Portland"}},
                        "42": {"Id": "42", "DisplayName": "Pacific"}}

    def customer_by_email(self, email: str,
                          currency: str | None = None) -> dict[str, Any] | None:
        return next((c for c in self.customers
                     if c["PrimaryEmailAddr"]["Address"] == email.lower()
                     and currency in (None, c.get("CurrencyRef", {}).get("value", ""))), None)

    def customer_by_name(self, name: str) -> dict[str, Any] | None:
        return next((c for c in self.customers if c["DisplayName"].lower() == name.lower()), None)

    def item_by_sku(self, sku: str) -> dict[str, Any] | None:
        return next((i for i in self.items if i.get("Sku", "").lower() == sku.lower()), None)

    def item_by_name(self, name: str) -> dict[str, Any] | None:
        return next((i for i in self.items if i["Name"].lower() == name.lower()), None)

    def vendor(self, vendor_id: str) -> dict[str, Any] | None:
        return self.vendors.get(vendor_id)

    def payment_method_by_name(self, name: str) -> dict[str, Any] | None:
        return {"Id": "3", "Name": "Visa"} if name.lower() == "visa" else None


SETUP = CompanySetup(income_account={"value": "79", "name": "Sales"},
                     ap_account={"value": "33", "name": "A/P"},
                     deposit_account={"value": "35", "name": "Undeposited Funds"})


def make_order(number: str = "1001", *, lines: tuple[OrderLine, ...] | None = None,
               shipping: str = "0", discount: str = "0", tax: str = "0",
               paid: str | None = None, status: str = "completed",
               email: str = "jane@example.com", name: str = "Jane Doe",
               total: str | None = None, currency: str = "USD") -> Order:
    lines = lines or (OrderLine("TENT-2P", "Tent 2P", D("1"), D("299.00")),
                      OrderLine("MUG", "Mug", D("2"), D("9.50"), discount=D("1.00")))
    subtotal = sum((line.amount for line in lines), D("0"))
    computed = subtotal - D(discount) + D(shipping) + D(tax)
    payments = (Payment(D(paid), "Visa", "ch_123"),) if paid else ()
    status_paid = (PaymentStatus.PAID if paid and D(paid) >= computed
                   else PaymentStatus.PARTIALLY_PAID if paid else PaymentStatus.UNPAID)
    return Order(
        source="test", source_id=f"id-{number}", number=number, order_date=date(2025, 6, 1),
        status=status, payment_status=status_paid, currency=currency,
        buyer=Buyer(name=name, email=email), lines=lines,
        total=D(total) if total else computed, shipping=D(shipping), discount=D(discount),
        tax=D(tax), payments=payments,
        shipping_address=Address(line1="9 Elm St", city="Springfield", region="IL"))


def connection(mode: TransactionMode = TransactionMode.INVOICES_WITH_PAYMENTS,
               **changes: Any) -> Connection:
    return Connection(name="Shop", source_kind="csv", mode=mode, id=1, **changes)


def plan(order: Order, conn: Connection | None = None, ledger: dict[str, LedgerEntry] | None = None,
         setup: CompanySetup = SETUP):
    return plan_order(order, conn or connection(), FakeReferences(), setup, ledger)


def kinds(result) -> list[tuple[str, DocumentKind]]:
    return [(doc.doc_key, doc.kind) for doc in result.documents]


# ---- modes ----------------------------------------------------------------------------------

def test_invoices_mode_books_one_open_invoice_and_no_payment():
    result = plan(make_order(paid="318.00"), connection(TransactionMode.INVOICES))
    assert kinds(result) == [("invoice", DocumentKind.INVOICE)]


def test_invoices_with_payments_applies_what_was_paid():
    result = plan(make_order(paid="100.00"))
    assert kinds(result) == [("invoice", DocumentKind.INVOICE), ("payment:1", DocumentKind.PAYMENT)]
    payment = result.documents[1]
    assert payment.total == D("100.00")
    assert payment.body["TotalAmt"] == "100.00"
    assert payment.body["PaymentRefNum"] == "ch_123"
    assert payment.body["PaymentMethodRef"] == {"value": "3", "name": "Visa"}
    assert payment.body["DepositToAccountRef"]["value"] == "35"
    assert payment.body["Line"][0]["LinkedTxn"] == ({"TxnId": PlannedDocumentId("invoice"),
                                                     "TxnType": "Invoice"},)
    assert payment.depends_on == ("invoice",)
    assert payment.body["CustomerRef"] == result.documents[0].body["CustomerRef"]



def test_a_plan_cannot_be_changed_once_made():
    result = plan(make_order(paid="100.00", email="bob@example.com", name="Bob"))
    invoice, payment = result.documents
    with pytest.raises(dataclasses.FrozenInstanceError):
        payment.total = D("40.00")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.documents = ()
    with pytest.raises(TypeError):
        payment.body["TotalAmt"] = "40.00"
    with pytest.raises(TypeError):
        payment.body["Line"][0]["Amount"] = "40.00"    # and so are its lines
    with pytest.raises(AttributeError):
        invoice.body["Line"].append({"Amount": "1.00"})
    with pytest.raises(AttributeError):
        result.notes.append("a note")
    with pytest.raises(TypeError):
        result.creates[0].body["DisplayName"] = "Someone else"
    assert (payment.total, payment.body["TotalAmt"]) == (D("100.00"), "100.00")


def test_a_payment_for_less_than_planned_is_planned_anew_and_the_first_plan_kept():
    payment = plan(make_order(paid="100.00")).documents[1]
    shrunk = shrunk_payment(payment, D("40.00"))
    assert (shrunk.total, shrunk.body["TotalAmt"], shrunk.body["Line"][0]["Amount"]) == (
        D("40.00"), "40.00", "40.00")
    assert shrunk.body["Line"][0]["LinkedTxn"] == payment.body["Line"][0]["LinkedTxn"]
    assert {key: value for key, value in shrunk.body.items() if key not in ("TotalAmt", "Line")
            } == {key: value for key, value in payment.body.items()
                  if key not in ("TotalAmt", "Line")}
    assert (shrunk.doc_key, shrunk.kind, shrunk.depends_on) == (
        payment.doc_key, payment.kind, payment.depends_on)
    assert (payment.total, payment.body["TotalAmt"], payment.body["Line"][0]["Amount"]) == (
        D("100.00"), "100.00", "100.00")

def test_unpaid_order_in_payments_mode_is_an_open_invoice():
    assert kinds(plan(make_order())) == [("invoice", DocumentKind.INVOICE)]


def test_sales_receipt_for_a_paid_order():
    result = plan(make_order(paid="317.00"), connection(TransactionMode.SALES_RECEIPTS))
    assert kinds(result) == [("sales_receipt", DocumentKind.SALES_RECEIPT)]
    body = result.documents[0].body
    assert body["PaymentRefNum"] == "ch_123"
    assert body["DocNumber"] == "1001"


def test_sales_receipts_mode_skips_an_unpaid_order_with_a_reason():
    result = plan(make_order(), connection(TransactionMode.SALES_RECEIPTS))
    assert result.documents == ()
    assert "not paid in full" in result.skip_reason


def test_sales_orders_mode_books_only_an_estimate():
    result = plan(make_order(paid="317.00"), connection(TransactionMode.SALES_ORDERS))
    assert kinds(result) == [("estimate", DocumentKind.ESTIMATE)]
    assert result.documents[0].body["TxnStatus"] == "Pending"


def test_sales_orders_invoices_link_the_invoice_to_the_estimate_with_the_same_number():
    result = plan(make_order(paid="317.00"), connection(TransactionMode.SALES_ORDERS_INVOICES))
    assert kinds(result) == [("estimate", DocumentKind.ESTIMATE),
                             ("invoice", DocumentKind.INVOICE),
                             ("payment:1", DocumentKind.PAYMENT)]
    estimate, invoice, _ = result.documents
    assert estimate.doc_number == invoice.doc_number == "1001"
    assert invoice.body["LinkedTxn"] == ({"TxnId": PlannedDocumentId("estimate"),
                                          "TxnType": "Estimate"},)
    assert invoice.depends_on == ("estimate",)


def test_purchase_orders_one_per_vendor_with_cost_address_and_memo():
    lines = (OrderLine("TENT-2P", "Tent 2P", D("2"), D("299.00")),
             OrderLine("MUG", "Mug", D("3"), D("9.50")),
             OrderLine("GIFT", "Gift Box", D("1"), D("6.00")))
    result = plan(make_order(lines=lines), connection(TransactionMode.SALES_ORDERS_INVOICES_POS))
    pos = [doc for doc in result.documents if doc.kind is DocumentKind.PURCHASE_ORDER]
    assert [doc.doc_key for doc in pos] == ["po:41", "po:42"]
    first, second = pos
    assert first.total == D("300.00") and second.total == D("10.50")
    assert first.body["VendorRef"]["value"] == "41"
    assert first.body["VendorAddr"]["Line1"] == "418 Industrial Way"
    assert first.body["Memo"] == "Order 1001"
    assert first.body["APAccountRef"]["value"] == "33"
    line = first.body["Line"][0]["ItemBasedExpenseLineDetail"]
    assert (line["Qty"], line["UnitPrice"]) == ("2", "150.00")
    assert "BillableStatus" not in line   # read-only on a purchase order's lines
    assert any("Gift Box" in note and "default vendor" in note for note in result.notes)


# ---- numbering ------------------------------------------------------------------------------

def test_prefix_goes_before_the_order_number():
    result = plan(make_order(), connection(prefix="WEB-"))
    assert result.documents[0].body["DocNumber"] == "WEB-1001"


def test_number_over_21_characters_fails_the_order_saying_so():
    with pytest.raises(OrderDataError) as raised:
        plan(make_order("123456789012345678"), connection(prefix="SHOP-"))
    assert raised.value.order == "123456789012345678"
    assert "23 characters" in str(raised.value) and "at most 21" in str(raised.value)


def test_quickbooks_numbering_sends_no_number_and_keeps_the_order_in_the_memo():
    result = plan(make_order("123456789012345678901234"), connection(use_qb_numbering=True))
    invoice = result.documents[0]
    assert "DocNumber" not in invoice.body and invoice.body["AutoDocNumber"] is True
    assert invoice.number_label == QB_ASSIGNS
    assert invoice.body["PrivateNote"].startswith("Order 123456789012345678901234")


def test_quickbooks_numbering_numbers_the_estimate_and_its_invoice_each_in_its_sequence():
    conn = connection(TransactionMode.SALES_ORDERS_INVOICES, use_qb_numbering=True)
    estimate, invoice = plan(make_order(), conn).documents
    for document in (estimate, invoice):
        assert document.body["AutoDocNumber"] is True
        assert "DocNumber" not in document.body


# ---- lines, discounts, shipping, tax, totals ------------------------------------------------

def test_lines_keep_quantity_times_price_and_discounts_go_on_a_discount_line():
    result = plan(make_order(shipping="12.50", discount="10.00", tax="20.48"))
    body = result.documents[0].body
    items = [line for line in body["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert [line["Amount"] for line in items] == ["299.00", "19.00", "12.50"]
    assert items[2]["SalesItemLineDetail"]["ItemRef"] == {"value": "SHIPPING_ITEM_ID"}
    discount = [line for line in body["Line"] if line["DetailType"] == "DiscountLineDetail"]
    assert discount[0]["Amount"] == "11.00"
    assert body["TxnTaxDetail"]["TotalTax"] == "20.48"
    assert document_total(body) == D("339.98") == result.documents[0].total


def test_tax_as_a_line_item():
    setup = CompanySetup(tax_item={"Id": "99", "Name": "Sales tax"})
    conn = connection(mapping=QuickBooksMapping(tax_policy=TaxPolicy.LINE_ITEM))
    body = plan(make_order(tax="7.25"), conn, setup=setup).documents[0].body
    assert "TxnTaxDetail" not in body
    assert body["Line"][-1]["SalesItemLineDetail"]["ItemRef"]["value"] == "99"
    assert document_total(body) == D("324.25")


def test_an_order_whose_parts_do_not_add_up_fails_showing_both_amounts():
    with pytest.raises(OrderDataError) as raised:
        plan(make_order(total="330.00"))
    assert "317.00" in str(raised.value) and "330.00" in str(raised.value)
    assert raised.value.field == "Total"


def test_foreign_currency_without_multicurrency_fails_the_order():
    with pytest.raises(OrderDataError, match="EUR"):
        plan(make_order(currency="EUR"))
    body = plan(make_order(currency="EUR"),
                setup=CompanySetup(multicurrency=True)).documents[0].body
    assert body["CurrencyRef"] == {"value": "EUR"}


@pytest.mark.parametrize(("currency", "rate", "sent"), [
    ("EUR", "1.10", "1.10"),     # the store's rate
    ("EUR", None, None),         # none: QuickBooks takes its rate for the day, never 1
    ("USD", "1.10", None),       # the home currency has no rate
])
def test_a_foreign_document_carries_the_stores_exchange_rate_only(currency, rate, sent):
    order = dataclasses.replace(make_order(currency=currency, paid="317.00"),
                                exchange_rate=D(rate) if rate else None)
    result = plan(order, connection(TransactionMode.INVOICES_WITH_PAYMENTS),
                  setup=CompanySetup(multicurrency=True))
    invoice, payment = result.documents
    for document in (invoice, payment):
        assert document.body["CurrencyRef"] == {"value": currency}
        assert document.body.get("ExchangeRate") == sent
    # Jane's customer is in dollars: for a euro order she gets a euro twin.
    customers = [entity.body for entity in result.creates if entity.entity == "Customer"]
    assert [body["CurrencyRef"] for body in customers] == (
        [{"value": "EUR"}] if currency == "EUR" else [])
    assert all("ExchangeRate" not in body for body in customers)


# ---- customers and items --------------------------------------------------------------------

def test_known_buyer_is_matched_by_email():
    result = plan(make_order(email="JANE@example.com", name="Someone Else"))
    assert result.documents[0].body["CustomerRef"] == {"value": "58", "name": "Jane Doe"}
    assert result.creates == ()


def test_new_buyer_is_created_once():
    result = plan(make_order(email="bob@example.com", name="Bob: Builder"))
    assert [entity.label for entity in result.creates] == ["Customer 'Bob- Builder'"]
    assert result.documents[0].body["CustomerRef"] == NewEntityRef("Customer", "bob@example.com")


def test_generic_customer():
    conn = connection(mapping=QuickBooksMapping(customer_policy=CustomerPolicy.GENERIC,
                                               generic_customer="Web Store"))
    result = plan(make_order(), conn)
    assert result.creates[0].body == {"DisplayName": "Web Store"}


def test_missing_item_is_created_failed_or_mapped_as_the_connection_says():
    lines = (OrderLine("NEW-1", "New thing", D("1"), D("5.00")),)
    created = plan(make_order(lines=lines))
    item = next(entity for entity in created.creates if entity.entity == "Item")
    assert item.body["Type"] == "NonInventory" and item.body["Sku"] == "NEW-1"
    assert item.body["IncomeAccountRef"]["value"] == "79"
    with pytest.raises(OrderDataError, match="SKU 'NEW-1'"):
        plan(make_order(lines=lines),
             connection(mapping=QuickBooksMapping(missing_items=MissingItemPolicy.FAIL)))
    fallback = plan(make_order(lines=lines),
                    connection(mapping=QuickBooksMapping(missing_items=MissingItemPolicy.FALLBACK)),
                    setup=CompanySetup(fallback_item={"Id": "13", "Name": "Gift Box"}))
    assert fallback.documents[0].body["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "13"


# ---- what the ledger already holds ----------------------------------------------------------

def test_booked_order_is_not_booked_again():
    ledger = {"invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                     D("317.00"))}
    result = plan(make_order(), ledger=ledger)
    assert result.documents == () and "booked already" in result.skip_reason


def test_a_change_after_booking_is_told_from_what_was_sent_not_from_quickbooks_total():
    sent = plan(make_order(), connection(TransactionMode.INVOICES)).documents[0].body
    # QuickBooks booked 317.05 (its own tax), but 317.00 was sent: the store did not change.
    booked = {"invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                     D("317.05"), 7, json.dumps(thawed(sent)))}
    assert "changed" not in plan(make_order(), ledger=booked).skip_reason
    changed = make_order(lines=(OrderLine("SKU-1", "Thing", D("1"), D("327.00")),))
    result = plan(changed, ledger=booked)
    assert result.documents == ()
    assert ("It changed after booking: total 317.00 → 327.00. Invoice 1001 in QuickBooks "
            "keeps 317.05") in result.skip_reason
    assert "undo sync run 7" in result.skip_reason


def test_later_payment_goes_onto_the_existing_invoice():
    ledger = {"invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                     D("317.00"))}
    result = plan(make_order(paid="317.00"), ledger=ledger)
    assert kinds(result) == [("payment:1", DocumentKind.PAYMENT)]
    payment = result.documents[0]
    assert payment.body["Line"][0]["LinkedTxn"][0]["TxnId"] == "130"
    assert payment.body["CustomerRef"] == BookedSaleCustomerRef(DocumentKind.INVOICE, "130")
    assert payment.depends_on == ()


def test_only_the_unpaid_difference_is_paid_later():
    ledger = {"invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                     D("317.00")),
              "payment:1": LedgerEntry("payment:1", "Payment", "confirmed", "131", "",
                                       D("100.00"))}
    result = plan(make_order(paid="317.00"), ledger=ledger)
    assert kinds(result) == [("payment:2", DocumentKind.PAYMENT)]
    assert result.documents[0].total == D("217.00")


def test_a_sales_receipt_connection_never_books_an_invoiced_order_as_a_second_sale():
    ledger = {"invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                     D("317.00"))}
    result = plan(make_order(paid="317.00"), connection(TransactionMode.SALES_RECEIPTS),
                  ledger=ledger)
    assert kinds(result) == [("payment:1", DocumentKind.PAYMENT)]


def test_purchase_orders_not_yet_sent_when_a_run_stopped_are_planned_beside_the_invoice():
    lines = (OrderLine("TENT-2P", "Tent 2P", D("2"), D("299.00")),
             OrderLine("MUG", "Mug", D("3"), D("9.50")))
    ledger = {"estimate": LedgerEntry("estimate", "Estimate", "confirmed", "129", "1001",
                                      D("626.50")),
              "invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                     D("626.50")),
              "po:41": LedgerEntry("po:41", "PurchaseOrder", "confirmed", "131", "", D("300"))}
    result = plan(make_order(lines=lines), connection(TransactionMode.SALES_ORDERS_INVOICES_POS),
                  ledger=ledger)
    assert kinds(result) == [("po:42", DocumentKind.PURCHASE_ORDER)]
    ledger["po:42"] = LedgerEntry("po:42", "PurchaseOrder", "confirmed", "132", "", D("28.50"))
    again = plan(make_order(lines=lines), connection(TransactionMode.SALES_ORDERS_INVOICES_POS),
                 ledger=ledger)
    assert again.documents == () and "booked already" in again.skip_reason


def test_cancelled_order_never_booked_is_skipped():
    result = plan(make_order(status="Cancelled"))
    assert result.documents == () and "cancelled" in result.skip_reason.lower()


def test_memo_marker_does_not_match_a_longer_order_number():
    assert names_order("Order 10 from Shop. Booked by Connex Desktop.", "10")
    assert not names_order("Order 1001 from Shop.", "10")


def test_shipping_or_discounts_turned_off_in_quickbooks_fail_the_order_saying_what_to_do():
    with pytest.raises(OrderDataError, match="shipping is turned off") as raised:
        plan(make_order(shipping="5.00"), setup=CompanySetup(allow_shipping=False))
    assert raised.value.field == "Shipping Amount"
    shipping_item = CompanySetup(allow_shipping=False, shipping_item={"Id": "13", "Name": "Box"})
    assert plan(make_order(shipping="5.00"), setup=shipping_item).documents
    with pytest.raises(OrderDataError, match="discounts are turned off"):
        plan(make_order(), setup=CompanySetup(allow_discount=False))   # a line discount


def test_a_long_gateway_reference_is_cut_to_fit_and_kept_whole_in_the_memo():
    order = make_order(paid="317.00")
    reference = "pi_3PxYzABCDEFGHIJKLMNOPQRS"
    order = Order(**{**order.__dict__, "payments": (Payment(D("317.00"), "Visa", reference),)})
    payment = plan(order).documents[1]
    assert payment.body["PaymentRefNum"] == reference[:21]
    assert payment.body["PrivateNote"].endswith(f"Payment reference {reference}.")


# ---- refunds after the sale was booked --------------------------------------------------------

PAID_INVOICE = {"invoice": LedgerEntry("invoice", "Invoice", "confirmed", "130", "1001",
                                       D("337.63")),
                "payment:1": LedgerEntry("payment:1", "Payment", "confirmed", "131", "",
                                         D("337.63"))}


def refunded(*amounts: str) -> Order:
    order = make_order(paid="337.63", shipping="12.50", discount="5.00", tax="13.13")
    return replace(order, refunds=tuple(Refund(D(amount), f"re_{index}", date(2025, 6, 9))
                                        for index, amount in enumerate(amounts, start=1)))


def test_a_full_refund_mirrors_the_sale_and_a_partial_one_uses_the_refund_item():
    full = plan(refunded("337.63"), ledger=PAID_INVOICE)
    assert kinds(full) == [("refund:1", DocumentKind.REFUND_RECEIPT)]
    receipt = full.documents[0]
    sale = plan(refunded()).documents[0]
    assert receipt.body["Line"] == sale.body["Line"]
    assert receipt.body["TxnTaxDetail"] == sale.body["TxnTaxDetail"]
    assert receipt.total == document_total(receipt.body) == D("337.63")
    assert receipt.body["CustomerRef"] == BookedSaleCustomerRef(DocumentKind.INVOICE, "130")
    assert receipt.body["DepositToAccountRef"] == {"value": "35", "name": "Undeposited Funds"}
    assert receipt.body["PaymentRefNum"] == "re_1" and receipt.body["TxnDate"] == "2025-06-09"
    assert names_order(receipt.body["PrivateNote"], "1001")

    partial = plan(refunded("20.00", "5.25"), ledger=PAID_INVOICE)
    assert [(doc.doc_key, doc.total) for doc in partial.documents] == [
        ("refund:1", D("20.00")), ("refund:2", D("5.25"))]
    (line,) = partial.documents[1].body["Line"]
    assert line["SalesItemLineDetail"]["ItemRef"] == NewEntityRef("Item", "refunds")
    assert line["SalesItemLineDetail"]["TaxCodeRef"] == {"value": "NON"}
    (item,) = partial.creates
    assert item.body["Name"] == "Refunds" and item.body["Taxable"] is False
    assert any("does not say which lines" in note for note in partial.notes)


def test_only_refunds_not_booked_yet_are_planned_and_a_mismatch_books_the_difference():
    ledger = dict(PAID_INVOICE, **{"refund:1": LedgerEntry(
        "refund:1", "RefundReceipt", "confirmed", "140", "", D("20.00"))})
    later = plan(refunded("20.00", "5.25"), ledger=ledger)
    assert [(doc.doc_key, doc.total) for doc in later.documents] == [("refund:2", D("5.25"))]
    merged = plan(refunded("30.00"), ledger=ledger)
    assert [(doc.doc_key, doc.total) for doc in merged.documents] == [("refund:2", D("10.00"))]
    assert "booked already" in plan(refunded("20.00"), ledger=ledger).skip_reason


def test_refunds_are_not_booked_on_unpaid_invoices_estimates_or_unbooked_orders():
    unpaid = plan(refunded("20.00"), connection(TransactionMode.INVOICES),
                  ledger={"invoice": PAID_INVOICE["invoice"]})
    assert unpaid.documents == () and "credit memo" in unpaid.skip_reason
    estimate = {"estimate": LedgerEntry("estimate", "Estimate", "confirmed", "129", "1001",
                                        D("337.63"))}
    assert plan(refunded("20.00"), connection(TransactionMode.SALES_ORDERS),
                ledger=estimate).documents == ()
    never = plan(replace(refunded("337.63"), payment_status=PaymentStatus.REFUNDED))
    assert never.documents == () and "never booked" in never.skip_reason


def test_a_refund_of_a_sales_receipt_goes_to_its_customer():
    ledger = {"sales_receipt": LedgerEntry("sales_receipt", "SalesReceipt", "confirmed", "150",
                                           "1001", D("337.63"))}
    result = plan(refunded("50.00"), connection(TransactionMode.SALES_RECEIPTS), ledger=ledger)
    assert kinds(result) == [("refund:1", DocumentKind.REFUND_RECEIPT)]
    assert result.documents[0].body["CustomerRef"] == BookedSaleCustomerRef(
        DocumentKind.SALES_RECEIPT, "150")
