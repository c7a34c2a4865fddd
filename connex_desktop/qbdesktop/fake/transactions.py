"""The fake company file's transactions: sales orders closed by the invoices linking them,
invoices paid down by payments, sales receipts, purchase orders, deletes and look-ups."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from connex_desktop.core.money import ZERO, money
from connex_desktop.qbdesktop.fake.company import FakeCompanyFile
from connex_desktop.qbdesktop.fake.currencies import book_in_currency
from connex_desktop.qbdesktop.fake.records import Line, NameRecord, StatusError, Txn

LINKED_TXN_CLOSED = 570
PAY_MORE_THAN_DUE = 3210
EDIT_SEQUENCE_STALE = 3200
SALES_KINDS = ("SalesOrder", "Invoice", "SalesReceipt")
TXN_KINDS = (*SALES_KINDS, "ReceivePayment", "PurchaseOrder", "CreditMemo",
             "ARRefundCreditCard")
# A transaction's effect on stock: sales take it out, a credit memo's returns put it back.
STOCK_SIGNS = {"Invoice": -1, "SalesReceipt": -1, "CreditMemo": +1}


def sale_add(company: FakeCompanyFile, kind: str,
             add: ET.Element) -> tuple[ET.Element, StatusError | None]:
    """SalesOrderAdd, InvoiceAdd, SalesReceiptAdd, and a warning to answer beside the record.
    A sales order changes no inventory and no account; an invoice linking it (LinkToTxnID)
    brings in its lines and closes it."""
    where = kind
    customer = company.name_ref(add.find("CustomerRef"), "Customer", where)
    txn = _new_txn(company, kind, customer, add)
    if add.findtext("IsTaxIncluded") is not None:
        txn.tax_included = add.findtext("IsTaxIncluded") == "true"
    warning = None
    for order_id in (element.text or "" for element in add.findall("LinkToTxnID")):
        order = company.txn(order_id, "SalesOrder")
        if order.fully_invoiced:
            warning = StatusError(LINKED_TXN_CLOSED, "Cannot link to transaction "
                                  f'"{order_id}": it is already closed.', "Warn")
            continue
        txn.lines += [Line(company.new_id(), line.item, line.desc, line.quantity, line.rate,
                           line.amount, line.line_id, line.class_record, line.tax_code)
                      for line in order.lines]
        if txn.tax_included is None:
            txn.tax_included = order.tax_included
        order.fully_invoiced = True
        order.linked[txn.txn_id] = txn.kind
        txn.linked[order.txn_id] = order.kind
    txn.lines += _lines(company, add.findall(f"{kind}LineAdd"), where, txn)
    if not txn.lines:
        # Intuit: linking to a closed transaction with nothing else to add is refused (the
        # exact status code of that refusal is not documented; 570 names the cause).
        if warning is not None:
            raise StatusError(warning.code, warning.message)
        raise StatusError(3180, f"There was an error when saving a {kind}.")
    txn.total = sum((line.amount for line in txn.lines), ZERO) + _sales_tax(company, txn)
    # An invoice's balance is what is owed; a credit memo's, the credit still to use.
    txn.balance = txn.total if kind in ("Invoice", "CreditMemo") else ZERO
    _move_stock(txn, +1)
    company.txns[txn.txn_id] = txn
    return txn.ret(), warning


def purchase_order_add(company: FakeCompanyFile, add: ET.Element) -> ET.Element:
    vendor = company.name_ref(add.find("VendorRef"), "Vendor", "PurchaseOrder")
    txn = _new_txn(company, "PurchaseOrder", vendor, add)
    txn.expected_date = add.findtext("ExpectedDate", "")
    txn.lines = _lines(company, add.findall("PurchaseOrderLineAdd"), "PurchaseOrder", txn)
    txn.total = sum((line.amount for line in txn.lines), ZERO)
    company.txns[txn.txn_id] = txn
    return txn.ret()


def purchase_order_mod(company: FakeCompanyFile, mod: ET.Element) -> ET.Element:
    """PurchaseOrderMod: refused for an EditSequence not the current one (3200); its head as
    sent; with line Mods, the lines it names kept (changed as sent) or added (TxnLineID -1)
    and the others dropped; IsManuallyClosed kept as POStatus."""
    txn = company.txn(mod.findtext("TxnID", ""), "PurchaseOrder")
    if mod.findtext("EditSequence") != str(txn.edit_sequence):
        raise StatusError(EDIT_SEQUENCE_STALE, "The provided edit sequence "
                          f'"{mod.findtext("EditSequence")}" is out-of-date.')
    if mod.find("VendorRef") is not None:
        txn.entity = company.name_ref(mod.find("VendorRef"), "Vendor", "PurchaseOrder")
    if mod.find("ClassRef") is not None:
        txn.class_record = company.class_ref(mod.find("ClassRef"), "PurchaseOrder")
    txn.txn_date = mod.findtext("TxnDate") or txn.txn_date
    txn.memo = mod.findtext("Memo", txn.memo)
    txn.expected_date = mod.findtext("ExpectedDate", txn.expected_date)
    if mod.findtext("IsManuallyClosed") is not None:
        txn.manually_closed = mod.findtext("IsManuallyClosed") == "true"
    line_mods = mod.findall("PurchaseOrderLineMod")
    if line_mods:
        kept = {line.line_id: line for line in txn.lines}
        lines = []
        for element in line_mods:
            line_id = element.findtext("TxnLineID", "")
            if line_id == "-1":
                lines += _lines(company, [element], "PurchaseOrder", txn)
            elif line_id in kept:
                lines.append(kept[line_id])
            else:
                raise StatusError(3120, f'Object "{line_id}" specified in the request cannot '
                                        "be found.")
        txn.lines = lines
        txn.total = sum((line.amount for line in txn.lines), ZERO)
    txn.edit_sequence += 1
    return txn.ret()


def receive_payment_add(company: FakeCompanyFile, add: ET.Element) -> ET.Element:
    """A payment applied to invoices; more than an invoice still owes is refused."""
    customer = company.name_ref(add.find("CustomerRef"), "Customer", "ReceivePayment")
    txn = _new_txn(company, "ReceivePayment", customer, add)
    txn.total = money(add.findtext("TotalAmount", "0"))
    applying: list[tuple[Txn, Decimal]] = []
    for applied in add.findall("AppliedToTxnAdd"):
        invoice = company.txn(applied.findtext("TxnID", ""), "Invoice")
        amount = money(applied.findtext("PaymentAmount", "0"))
        if amount > invoice.balance:
            raise StatusError(PAY_MORE_THAN_DUE, "You cannot pay more than the amount due.")
        applying.append((invoice, amount))
    if sum((amount for _, amount in applying), ZERO) > txn.total:
        raise StatusError(PAY_MORE_THAN_DUE, "The amounts applied are more than the payment.")
    for invoice, amount in applying:
        invoice.balance -= amount
        invoice.linked[txn.txn_id] = txn.kind
        txn.applied[invoice.txn_id] = amount
        txn.linked[invoice.txn_id] = invoice.kind
    company.txns[txn.txn_id] = txn
    return txn.ret()


def refund_of_credit_add(company: FakeCompanyFile, add: ET.Element) -> ET.Element:
    """ARRefundCreditCardAdd: money paid back out of the customer's credit memos; more than a
    credit memo has left is refused."""
    customer = company.name_ref(add.find("CustomerRef"), "Customer", "ARRefundCreditCard")
    txn = _new_txn(company, "ARRefundCreditCard", customer, add)
    applying: list[tuple[Txn, Decimal]] = []
    for applied in add.findall("RefundAppliedToTxnAdd"):
        credit = company.txn(applied.findtext("TxnID", ""), "CreditMemo")
        amount = money(applied.findtext("RefundAmount", "0"))
        if amount > credit.balance:
            raise StatusError(PAY_MORE_THAN_DUE, "You cannot refund more than the credit "
                                                 "remaining.")
        applying.append((credit, amount))
    for credit, amount in applying:
        credit.balance -= amount
        credit.linked[txn.txn_id] = txn.kind
        txn.applied[credit.txn_id] = amount
        txn.linked[credit.txn_id] = credit.kind
    txn.total = sum((amount for _, amount in applying), ZERO)
    company.txns[txn.txn_id] = txn
    return txn.ret()


def txn_del(company: FakeCompanyFile, request: ET.Element) -> ET.Element:
    """Deleting an invoice reopens the sales order it closed; deleting a payment gives the
    invoice its balance back."""
    kind = request.findtext("TxnDelType", "")
    txn = company.txn(request.findtext("TxnID", ""), kind)
    _move_stock(txn, -1)
    for invoice_id, amount in txn.applied.items():
        if invoice_id in company.txns:
            company.txns[invoice_id].balance += amount
    for line in txn.lines:
        for other in company.txns.values():
            if other.kind == "SalesOrder" and any(
                    order_line.line_id == line.linked_from for order_line in other.lines):
                other.fully_invoiced = False
    for other in company.txns.values():
        other.linked.pop(txn.txn_id, None)
    del company.txns[txn.txn_id]
    ret = ET.Element("TxnDelRs")
    ET.SubElement(ret, "TxnDelType").text = kind
    ET.SubElement(ret, "TxnID").text = txn.txn_id
    return ret


def txn_query(company: FakeCompanyFile, kind: str, request: ET.Element) -> list[ET.Element]:
    """By TxnID, by RefNumber (not unique: every match), by customer or vendor (EntityFilter),
    else all of the kind."""
    ids = [element.text for element in request.findall("TxnID")]
    numbers = [element.text for element in request.findall("RefNumber")]
    entities = [element.text for element in request.findall("EntityFilter/ListID")]
    with_lines = request.findtext("IncludeLineItems") == "true"
    return [txn.ret(with_lines=with_lines) for txn in company.txns.values()
            if txn.kind == kind and (not ids or txn.txn_id in ids)
            and (not numbers or txn.ref_number in numbers)
            and (not entities or txn.entity.list_id in entities)]


def _new_txn(company: FakeCompanyFile, kind: str, entity: NameRecord, add: ET.Element) -> Txn:
    txn = Txn(kind, company.new_id(), company.next_txn_number(), entity,
              add.findtext("TxnDate", "") or "2026-12-06",
              add.findtext("RefNumber") or company.next_ref_number(kind),
              add.findtext("Memo", ""), add.findtext("ExternalGUID", ""),
              class_record=company.class_ref(add.find("ClassRef"), kind))
    book_in_currency(company, txn, add)
    return txn


def _lines(company: FakeCompanyFile, elements: list[ET.Element], where: str,
           txn: Txn) -> list[Line]:
    """The lines of `txn`, each of its own class or else of the header's (as QuickBooks
    fills a line's class from the form's)."""
    lines = []
    for element in elements:
        item = company.item_ref(element.find("ItemRef"), where)
        quantity = _decimal(element.findtext("Quantity"))
        rate = _decimal(element.findtext("Rate"))
        amount_text = element.findtext("Amount")
        if amount_text is not None:
            amount = money(amount_text)
        elif rate is not None:
            amount = money((quantity if quantity is not None else Decimal(1)) * rate)
        else:
            amount = money(item.price * (quantity if quantity is not None else 1))
        own_class = company.class_ref(element.find("ClassRef"), where)
        lines.append(Line(company.new_id(), item, element.findtext("Desc", ""), quantity, rate,
                          amount, class_record=own_class or txn.class_record,
                          tax_code=company.tax_code(element.find("SalesTaxCodeRef"), where)))
    return lines


def _sales_tax(company: FakeCompanyFile, txn: Txn) -> Decimal:
    """A UK or Canadian file's sale: each line's VAT/GST at its code's rate, rounded to the
    cent line by line (the amounts include it when IsTaxIncluded, else it is added to them);
    what it adds to the total. A US file's sales tax is the lines of its sales tax items."""
    if company.country == "US":
        return ZERO
    if txn.tax_included is None:
        txn.tax_included = False
    for line in txn.lines:
        # A line naming no code would take its item's in QuickBooks; the fake's items have
        # none, so it is untaxed.
        rate = line.tax_code.sales_rate if line.tax_code is not None else ZERO
        base = Decimal(100) + rate if txn.tax_included else Decimal(100)
        line.tax = money(line.amount * rate / base)
    return ZERO if txn.tax_included else txn.sales_tax


def _move_stock(txn: Txn, sign: int) -> None:
    """Invoices and sales receipts take inventory out, credit memos put it back (`sign` +1 on
    adding the transaction, -1 on deleting it); a sales order changes none."""
    for line in txn.lines:
        if line.item.tracks_stock:
            line.item.on_hand += sign * STOCK_SIGNS.get(txn.kind, 0) * (line.quantity or 0)


def _decimal(text: str | None) -> Decimal | None:
    return Decimal(text) if text else None
