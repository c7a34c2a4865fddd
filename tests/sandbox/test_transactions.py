"""Transactions through python-quickbooks: totals, numbering, payments, estimates, void, delete."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, ValidationException
from quickbooks.objects import (
    CreditMemo,
    Customer,
    DiscountLine,
    DiscountLineDetail,
    Estimate,
    Invoice,
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    LinkedTxn,
    Payment,
    PaymentLine,
    PurchaseOrder,
    RefundReceipt,
    SalesItemLine,
    SalesItemLineDetail,
    SalesReceipt,
    TxnTaxDetail,
)

from tests.sandbox.conftest import first_id, ref


def item_line(item_id: str, qty: str, unit_price: str, amount: str | None = None) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(amount) if amount is not None else Decimal(qty) * Decimal(unit_price)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item_id)
    line.SalesItemLineDetail.Qty = Decimal(qty)
    line.SalesItemLineDetail.UnitPrice = Decimal(unit_price)
    return line


def discount_line(amount: str) -> DiscountLine:
    line = DiscountLine()
    line.Amount = Decimal(amount)
    line.DiscountLineDetail = DiscountLineDetail()
    return line


def shipping_line(amount: str) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("SHIPPING_ITEM_ID")
    return line


@pytest.fixture
def customer_id(qb) -> str:
    customer = Customer()
    customer.DisplayName = "Beatriz O'Connor"
    return str(customer.save(qb=qb).Id)


@pytest.fixture
def tent(sandbox) -> str:
    return first_id(sandbox, "Item", "Sku = 'TNT-2P-GRN'")


@pytest.fixture
def socks(sandbox) -> str:
    return first_id(sandbox, "Item", "Sku = 'SCK-WOOL-M'")


def make_invoice(qb, customer_id: str, lines, doc_number: str | None = None, **fields) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = ref(customer_id)
    invoice.Line = list(lines)
    if doc_number is not None:
        invoice.DocNumber = doc_number
    for key, value in fields.items():
        setattr(invoice, key, value)
    return invoice.save(qb=qb)


def money(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_invoice_totals_with_discount_shipping_and_tax(qb, sandbox, customer_id, tent, socks):
    tax = TxnTaxDetail()
    tax.TotalTax = Decimal("37.92")
    invoice = make_invoice(qb, customer_id, [
        item_line(tent, "1", "249.00"), item_line(socks, "3", "22.00"), discount_line("31.50"),
        shipping_line("9.95")], "WEB-1001", TxnTaxDetail=tax)
    # 249 + 66 = 315 subtotal; - 31.50 discount + 9.95 shipping + 37.92 tax
    assert money(invoice.TotalAmt) == Decimal("331.37")
    assert money(invoice.Balance) == Decimal("331.37")
    stored = sandbox.company.query("SELECT * FROM Invoice WHERE DocNumber = 'WEB-1001'")[0]
    assert stored["TotalAmt"] == Decimal("331.37") and stored["HomeBalance"] == Decimal("331.37")
    subtotal = [line for line in stored["Line"] if line["DetailType"] == "SubTotalLineDetail"]
    assert subtotal[0]["Amount"] == Decimal("315.00")
    assert stored["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"] == \
        "Backpacking Tent 2P - Green"
    assert stored["TxnTaxDetail"]["TotalTax"] == Decimal("37.92")


def test_tax_is_computed_from_the_transaction_tax_code(qb, sandbox, customer_id, tent):
    code = first_id(sandbox, "TaxCode", "Name = 'CA Sales Tax'")
    tax = TxnTaxDetail()
    tax.TxnTaxCodeRef = ref(code)
    tax.TotalTax = None
    line = item_line(tent, "2", "249.00")
    line.SalesItemLineDetail.TaxCodeRef = ref("TAX")
    invoice = make_invoice(qb, customer_id, [line], "TAX-1", TxnTaxDetail=tax)
    # 498.00 × (7.25 % + 1.00 %) = 36.105 + 4.98 → 36.11 + 4.98
    assert money(invoice.TotalAmt) == Decimal("539.09")


def test_line_amount_must_equal_qty_times_unit_price(qb, customer_id, tent):
    with pytest.raises(QuickbooksException) as raised:
        make_invoice(qb, customer_id, [item_line(tent, "2", "249.00", amount="497.99")])
    assert raised.value.error_code == 6070
    assert "Amount is not equal to UnitPrice * Qty" in raised.value.detail
    # python-quickbooks' defaults (Qty 0, UnitPrice 0) mean "not given": no check.
    line = SalesItemLine()
    line.Amount = Decimal("100")
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(tent)
    assert money(make_invoice(qb, customer_id, [line]).TotalAmt) == Decimal("100.00")


def test_duplicate_doc_number_is_6140_with_the_documented_detail(qb, customer_id, tent):
    first = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "1042")
    with pytest.raises(QuickbooksException) as raised:
        make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "1042")
    assert raised.value.error_code == 6140
    assert raised.value.message == "Duplicate Document Number Error"
    assert raised.value.detail == (
        "Duplicate Document Number Error : You must specify a different number. This number has "
        f"already been used. DocNumber=1042 is assigned to TxnType=Invoice with TxnId={first.Id}")
    receipt = SalesReceipt()  # another transaction type may use the same number
    receipt.DocNumber, receipt.Line = "1042", [item_line(tent, "1", "249")]
    assert receipt.save(qb=qb).DocNumber == "1042"
    again = Invoice()
    again.CustomerRef, again.DocNumber = ref(customer_id), "1042"
    again.Line = [item_line(tent, "1", "249")]
    allowed = again.save(qb=qb, params={"include": "allowduplicatedocnum"})
    assert allowed.DocNumber == "1042"


def test_doc_number_longer_than_21_is_2050(qb, customer_id, tent):
    with pytest.raises(ValidationException) as raised:
        make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "SHOPIFY-ORDER-1000000001")
    assert raised.value.error_code == 2050
    assert "Max:21" in raised.value.detail and "Supplied length:24" in raised.value.detail


def test_custom_numbers_on_leave_the_number_empty(qb, customer_id, tent):
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249")])
    assert not getattr(invoice, "DocNumber", None)


def test_custom_numbers_off_assigns_the_next_number(qb, sandbox, customer_id, tent):
    make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "INV-0099")
    sandbox.set_preference(custom_txn_numbers=False)
    numbers = [make_invoice(qb, customer_id, [item_line(tent, "1", "249")]).DocNumber
               for _ in range(2)]
    assert numbers == ["INV-0100", "INV-0101"]
    receipt = SalesReceipt()
    receipt.Line = [item_line(tent, "1", "249")]
    assert receipt.save(qb=qb).DocNumber == "1001"  # its own sequence, QuickBooks' first number


def test_auto_doc_number_asks_for_the_next_number_when_custom_numbers_are_on(qb, customer_id,
                                                                               tent):
    make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "2040")
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], AutoDocNumber=True)
    assert invoice.DocNumber == "2041"


def payment_for(customer_id: str, invoice_id: str, amount: str) -> Payment:
    payment = Payment()
    payment.CustomerRef, payment.TotalAmt = ref(customer_id), Decimal(amount)
    line = PaymentLine()
    line.Amount = Decimal(amount)
    link = LinkedTxn()
    link.TxnId, link.TxnType = invoice_id, "Invoice"
    line.LinkedTxn = [link]
    payment.Line = [line]
    return payment


def test_payment_reduces_the_invoice_balance_and_links_both_ways(qb, sandbox, customer_id, tent):
    invoice = make_invoice(qb, customer_id, [item_line(tent, "2", "249.00")], "PAY-1")
    saved = payment_for(customer_id, invoice.Id, "300.00").save(qb=qb)
    assert money(saved.UnappliedAmt) == Decimal("0.00")
    after = Invoice.get(invoice.Id, qb=qb)
    assert money(after.Balance) == Decimal("198.00")
    assert [(t.TxnType, t.TxnId) for t in after.LinkedTxn] == [("Payment", saved.Id)]
    assert after.SyncToken == "1"
    undeposited = first_id(sandbox, "Account", "Name = 'Undeposited Funds'")
    assert saved.DepositToAccountRef.value == undeposited
    # Paying more than the open balance is refused.
    with pytest.raises(QuickbooksException) as raised:
        payment_for(customer_id, invoice.Id, "198.01").save(qb=qb)
    assert raised.value.error_code == 6000
    # Changing the payment re-applies it: its own earlier share counts as open.
    saved.Line[0].Amount = saved.TotalAmt = Decimal("498.00")
    saved = saved.save(qb=qb)
    assert money(Invoice.get(invoice.Id, qb=qb).Balance) == Decimal("0.00")
    # Deleting the payment puts the balance back.
    saved.delete(qb=qb)
    assert money(Invoice.get(invoice.Id, qb=qb).Balance) == Decimal("498.00")


def test_an_invoice_that_links_an_estimate_closes_it(qb, customer_id, tent):
    estimate = Estimate()
    estimate.CustomerRef, estimate.DocNumber = ref(customer_id), "SO-1001"
    estimate.Line = [item_line(tent, "1", "249")]
    estimate = estimate.save(qb=qb)
    assert estimate.TxnStatus == "Pending"
    link = LinkedTxn()
    link.TxnId, link.TxnType = estimate.Id, "Estimate"
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "SO-1001",
                           LinkedTxn=[link])
    closed = Estimate.get(estimate.Id, qb=qb)
    assert closed.TxnStatus == "Closed"
    assert [(t.TxnType, t.TxnId) for t in closed.LinkedTxn] == [("Invoice", invoice.Id)]
    assert [(t.TxnType, t.TxnId) for t in invoice.LinkedTxn] == [("Estimate", estimate.Id)]
    # Deleting the invoice reopens the estimate (a roll-back leaves it as it was).
    invoice.delete(qb=qb)
    reopened = Estimate.get(estimate.Id, qb=qb)
    assert reopened.TxnStatus == "Pending" and not reopened.LinkedTxn


def test_void_invoice_keeps_it_with_zero_amounts(qb, sandbox, customer_id, tent):
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "VOID-1")
    invoice.void(qb=qb)
    stored = sandbox.company.query("SELECT * FROM Invoice WHERE DocNumber = 'VOID-1'")[0]
    assert stored["TotalAmt"] == 0 and stored["Balance"] == 0
    assert stored["PrivateNote"].startswith("Voided")


def test_void_sales_receipt_and_payment(qb, sandbox, customer_id, tent):
    receipt = SalesReceipt()
    receipt.CustomerRef, receipt.DocNumber = ref(customer_id), "SR-1"
    receipt.Line = [item_line(tent, "1", "249")]
    receipt = receipt.save(qb=qb)
    assert money(receipt.TotalAmt) == Decimal("249.00") and money(receipt.Balance) == 0
    receipt.void(qb=qb)
    assert SalesReceipt.get(receipt.Id, qb=qb).TotalAmt == 0
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "PV-1")
    payment = payment_for(customer_id, invoice.Id, "249").save(qb=qb)
    assert money(Invoice.get(invoice.Id, qb=qb).Balance) == 0
    payment.void(qb=qb)
    assert money(Invoice.get(invoice.Id, qb=qb).Balance) == Decimal("249.00")


def test_purchase_order_credit_memo_and_refund_receipt(qb, sandbox, customer_id, tent):
    vendor = first_id(sandbox, "Vendor", "DisplayName = 'Cascade Outdoor Supply'")
    order = PurchaseOrder()
    order.VendorRef, order.DocNumber = ref(vendor), "PO-1001"
    line = ItemBasedExpenseLine()
    line.Amount = Decimal("265.00")
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = ref(tent)
    line.ItemBasedExpenseLineDetail.Qty = 2
    line.ItemBasedExpenseLineDetail.UnitPrice = Decimal("132.50")
    order.Line = [line]
    saved = order.save(qb=qb)
    assert money(saved.TotalAmt) == Decimal("265.00") and saved.POStatus == "Open"
    assert saved.APAccountRef.value == first_id(sandbox, "Account",
                                                "Name = 'Accounts Payable (A/P)'")
    assert PurchaseOrder.filter(DocNumber="PO-1001", qb=qb)[0].Id == saved.Id
    memo = CreditMemo()
    memo.CustomerRef, memo.DocNumber = ref(customer_id), "CM-1"
    memo.Line = [item_line(tent, "1", "249")]
    memo = memo.save(qb=qb)
    assert money(memo.TotalAmt) == Decimal("249.00") and money(memo.RemainingCredit) == 249
    refund = RefundReceipt()
    refund.CustomerRef, refund.DocNumber = ref(customer_id), "RF-1"
    refund.Line = [item_line(tent, "1", "249")]
    with pytest.raises(ValidationException):  # a refund is paid from an account
        refund.save(qb=qb)
    refund.DepositToAccountRef = ref(first_id(sandbox, "Account", "Name = 'Checking'"))
    assert money(refund.save(qb=qb).TotalAmt) == Decimal("249.00")


def test_invoice_full_and_sparse_update_recompute_totals(qb, customer_id, tent, socks):
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "UPD-1")
    invoice.Line = [line for line in invoice.Line if line.DetailType != "SubTotalLineDetail"]
    invoice.Line.append(item_line(socks, "1", "22.00"))
    updated = invoice.save(qb=qb)
    assert money(updated.TotalAmt) == Decimal("271.00") and updated.SyncToken == "1"
    sparse = Invoice()
    sparse.Id, sparse.SyncToken, sparse.sparse = updated.Id, updated.SyncToken, True
    sparse.PrivateNote = "Shop order #1"
    after = sparse.save(qb=qb)
    assert money(after.TotalAmt) == Decimal("271.00") and after.PrivateNote == "Shop order #1"


def test_transactions_need_a_known_active_customer_and_item(qb, customer_id, tent):
    with pytest.raises(ObjectNotFoundException):
        make_invoice(qb, "9999", [item_line(tent, "1", "249")])
    with pytest.raises(ObjectNotFoundException):
        make_invoice(qb, customer_id, [item_line("9999", "1", "249")])
    customer = Customer.get(customer_id, qb=qb)
    customer.Active = False
    customer.save(qb=qb)
    with pytest.raises(ObjectNotFoundException) as raised:
        make_invoice(qb, customer_id, [item_line(tent, "1", "249")])
    assert "made inactive" in raised.value.detail


def test_percent_discount_tax_after_discount_and_auto_generate(qb, sandbox, customer_id, tent):
    code = first_id(sandbox, "TaxCode", "Name = 'CA Sales Tax'")
    discount = DiscountLine()
    discount.Amount = Decimal("0")
    discount.DiscountLineDetail = DiscountLineDetail()
    discount.DiscountLineDetail.PercentBased = True
    discount.DiscountLineDetail.DiscountPercent = Decimal("10")
    tax = TxnTaxDetail()
    tax.TxnTaxCodeRef = ref(code)
    tax.TotalTax = None
    line = item_line(tent, "2", "249.00")
    line.SalesItemLineDetail.TaxCodeRef = ref("TAX")
    receipt = SalesReceipt()
    receipt.CustomerRef, receipt.DocNumber = ref(customer_id), "AUTO_GENERATE"
    receipt.Line = [line, discount]
    receipt.TxnTaxDetail, receipt.ApplyTaxAfterDiscount = tax, True
    saved = receipt.save(qb=qb)
    # 498.00 - 10 % = 448.20; tax 8.25 % of 448.20 = 32.49 (7.25 %) + 4.48 (1 %)
    assert money(saved.TotalAmt) == Decimal("485.17")
    assert saved.DocNumber == "1001"
    stored = sandbox.company.all("SalesReceipt")[0]
    assert [line["Amount"] for line in stored["Line"]] == [
        Decimal("498.00"), Decimal("49.80"), Decimal("498.00")]
    assert stored["TxnTaxDetail"]["TotalTax"] == Decimal("36.97")


def test_shipping_and_discount_lines_need_their_preferences(qb, sandbox, customer_id, tent):
    sandbox.set_preference(allow_shipping=False)
    with pytest.raises(QuickbooksException) as raised:
        make_invoice(qb, customer_id, [item_line(tent, "1", "249"), shipping_line("5.00")])
    assert raised.value.error_code == 6000
    sandbox.set_preference(allow_shipping=True, allow_discount=False)
    with pytest.raises(QuickbooksException):
        make_invoice(qb, customer_id, [item_line(tent, "1", "249"), discount_line("5.00")])


def test_links_to_closed_estimates_are_ignored_and_only_one_estimate_links(qb, customer_id,
                                                                           tent):
    estimates = []
    for number, status in (("E-1", "Rejected"), ("E-2", "Pending"), ("E-3", "Accepted")):
        estimate = Estimate()
        estimate.CustomerRef, estimate.DocNumber, estimate.TxnStatus = (
            ref(customer_id), number, status)
        estimate.Line = [item_line(tent, "1", "249")]
        estimates.append(estimate.save(qb=qb))

    def link(estimate) -> LinkedTxn:
        linked = LinkedTxn()
        linked.TxnId, linked.TxnType = estimate.Id, "Estimate"
        return linked

    ignored = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "EI-1",
                           LinkedTxn=[link(estimates[0])])
    assert not ignored.LinkedTxn
    assert Estimate.get(estimates[0].Id, qb=qb).TxnStatus == "Rejected"
    with pytest.raises(QuickbooksException) as raised:
        make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "EI-2",
                     LinkedTxn=[link(estimates[1]), link(estimates[2])])
    assert raised.value.error_code == 6000
    accepted = make_invoice(qb, customer_id, [item_line(tent, "1", "249")], "EI-3",
                            LinkedTxn=[link(estimates[2])])
    assert Estimate.get(estimates[2].Id, qb=qb).TxnStatus == "Closed"
    assert [t.TxnId for t in accepted.LinkedTxn] == [estimates[2].Id]


def test_a_payment_can_apply_a_credit_memo_to_an_invoice(qb, customer_id, tent, socks):
    invoice = make_invoice(qb, customer_id, [item_line(tent, "1", "249.00")], "CMI-1")
    memo = CreditMemo()
    memo.CustomerRef, memo.DocNumber = ref(customer_id), "CM-9"
    memo.Line = [item_line(socks, "1", "22.00")]
    memo = memo.save(qb=qb)
    payment = payment_for(customer_id, invoice.Id, "227.00")
    payment.Line[0].Amount = Decimal("249.00")
    credit = PaymentLine()
    credit.Amount = Decimal("22.00")
    link = LinkedTxn()
    link.TxnId, link.TxnType = memo.Id, "CreditMemo"
    credit.LinkedTxn = [link]
    payment.Line.append(credit)
    saved = payment.save(qb=qb)
    assert money(saved.UnappliedAmt) == 0
    assert money(Invoice.get(invoice.Id, qb=qb).Balance) == 0
    assert money(CreditMemo.get(memo.Id, qb=qb).RemainingCredit) == 0


def test_text_lengths_are_limited(qb, customer_id, tent):
    line = item_line(tent, "1", "249")
    line.Description = "x" * 4001
    with pytest.raises(ValidationException) as raised:
        make_invoice(qb, customer_id, [line])
    assert raised.value.error_code == 2050 and "Supplied length:4001" in raised.value.detail
    with pytest.raises(ValidationException):
        make_invoice(qb, customer_id, [item_line(tent, "1", "249")], PrivateNote="n" * 4001)


def test_each_document_has_a_page_where_quickbooks_online_shows_it(qb, sandbox, customer_id,
                                                                   tent):
    invoice = make_invoice(qb, customer_id, [item_line(tent, "2", "199.00")], "<b>A-1</b>")
    page = requests.get(f"{sandbox.base_url}/app/invoice", params={"txnId": invoice.Id},
                        timeout=10)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<title>Invoice &lt;b&gt;A-1&lt;/b&gt;</title>" in page.text   # escaped, not markup
    assert "398.00" in page.text
    for missing in ("/app/invoice?txnId=9999", "/app/nosuchpage?txnId=1", "/app/invoice"):
        assert requests.get(sandbox.base_url + missing, timeout=10).status_code == 404
