"""The benchmark's baseline: a plain per-order loop on python-quickbooks, one request at a time."""

from __future__ import annotations

from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.objects.base import Address, EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    DiscountLine,
    DiscountLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.tax import TxnTaxDetail

from connex_desktop.sandbox.server import SandboxServer
from tests.bench.orders import ExpectedOrder

SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"


def baseline_client(sandbox: SandboxServer) -> QuickBooks:
    """python-quickbooks as its README sets it up, pointed at the local sandbox."""
    auth = AuthClient(sandbox.client_id, sandbox.client_secret, "http://localhost:8765/callback",
                      sandbox.discovery_url)
    qb = QuickBooks(auth_client=auth, refresh_token=sandbox.refresh_token,
                    company_id=sandbox.realm_id, minorversion=75, use_decimal=True)
    qb.api_url_v3 = sandbox.api_url
    return qb


def _find_or_create_customer(order: ExpectedOrder, qb: QuickBooks) -> Customer:
    found = Customer.filter(DisplayName=order.customer, qb=qb)
    if found:
        return found[0]
    customer = Customer()
    customer.DisplayName = order.customer
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = order.email
    return customer.save(qb=qb)


def _address(order: ExpectedOrder) -> Address:
    address = Address()
    address.Line1 = order.street
    address.City = order.city
    address.CountrySubDivisionCode = order.state
    address.PostalCode = order.postal_code
    address.Country = "US"
    return address


def sync_order(order: ExpectedOrder, qb: QuickBooks) -> tuple[Invoice, Payment]:
    """Find the customer, find each item, create the invoice, create the payment."""
    customer = _find_or_create_customer(order, qb)
    invoice = Invoice()
    invoice.DocNumber = order.number
    invoice.TxnDate = order.order_date.isoformat()
    invoice.CustomerRef = customer.to_ref()
    invoice.BillAddr = _address(order)
    invoice.ShipAddr = _address(order)
    invoice.PrivateNote = f"Order {order.number}"
    for line in order.lines:
        item = Item.filter(Sku=line.sku, qb=qb)[0]
        sales_line = SalesItemLine()
        sales_line.Amount = line.unit_price * line.quantity
        sales_line.Description = line.name
        sales_line.SalesItemLineDetail = SalesItemLineDetail()
        sales_line.SalesItemLineDetail.ItemRef = item.to_ref()
        sales_line.SalesItemLineDetail.Qty = line.quantity
        sales_line.SalesItemLineDetail.UnitPrice = line.unit_price
        sales_line.SalesItemLineDetail.TaxCodeRef = Ref()
        sales_line.SalesItemLineDetail.TaxCodeRef.value = "TAX" if line.taxable else "NON"
        invoice.Line.append(sales_line)
    if order.shipping:
        shipping = SalesItemLine()
        shipping.Amount = order.shipping
        shipping.Description = "Shipping"
        shipping.SalesItemLineDetail = SalesItemLineDetail()
        shipping.SalesItemLineDetail.ItemRef = Ref()
        shipping.SalesItemLineDetail.ItemRef.value = SHIPPING_ITEM_ID
        invoice.Line.append(shipping)
    if order.discount:
        discount = DiscountLine()
        discount.Amount = order.discount
        discount.DiscountLineDetail = DiscountLineDetail()
        invoice.Line.append(discount)
    invoice.TxnTaxDetail = TxnTaxDetail()
    invoice.TxnTaxDetail.TotalTax = order.tax
    invoice = invoice.save(qb=qb)

    payment = Payment()
    payment.TxnDate = order.order_date.isoformat()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = order.total
    payment.PaymentRefNum = order.payment_reference
    payment.PrivateNote = f"Order {order.number} payment"
    applied = PaymentLine()
    applied.Amount = order.total
    applied.LinkedTxn.append(invoice.to_linked_txn())
    payment.Line.append(applied)
    return invoice, payment.save(qb=qb)
