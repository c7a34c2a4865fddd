"""Lightspeed R-Series records (string-typed, relations as object or list) as orders and POs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from decimal import Decimal
from typing import Any

from connex_desktop.core.errors import OrderDataError
from connex_desktop.core.model import (
    Address,
    Buyer,
    Order,
    OrderLine,
    Payment,
    Refund,
)
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.purchase_order import (
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderState,
    lines_subtotal,
    revision_of,
)
from connex_desktop.sources.amounts import (
    amount_of,
    payment_status_of,
    price_of,
    quantity_of,
    unit_price,
)
from connex_desktop.sources.base import FailedOrder
from connex_desktop.sources.timestamps import local_day, utc_instant

SOURCE = "lightspeed_r"


def records(body: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The `name` records of an answer: one record comes as an object, several as a list."""
    return _as_list(body.get(name))


def relation(raw: Mapping[str, Any], plural: str, singular: str) -> list[Mapping[str, Any]]:
    """A loaded relation, e.g. raw["SaleLines"]["SaleLine"], always as a list."""
    holder = raw.get(plural)
    return _as_list(holder.get(singular)) if isinstance(holder, dict) else []


def sale_lines(raw: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return relation(raw, "SaleLines", "SaleLine")


def _as_list(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def flag(raw: Mapping[str, Any], key: str) -> bool:
    """R-Series sends booleans as the strings "true" and "false"."""
    return str(raw.get(key) or "").strip().lower() == "true"


def sale_status(raw: Mapping[str, Any]) -> str:
    """The sale's flags as one word, the most final first."""
    for word in ("archived", "voided", "completed"):
        if flag(raw, word):
            return word
    return "open"


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _tax(raw: Mapping[str, Any], number: str, where: str = "") -> Decimal:
    """R-Series' two tax slots together."""
    return (amount_of(raw, "calcTax1", number, where=where)
            + amount_of(raw, "calcTax2", number, where=where))


# -- sales --------------------------------------------------------------------------------------

def sale_order(raw: Mapping[str, Any], number: str, refunds: list[Refund],
               zone: tzinfo) -> Order:
    """A sale as an order, its lines without tax and its tax on top. Each line is its unit
    price times its quantity less its own and its share of the sale's discount; with
    isTaxInclusive the prices hold the tax [Inferred]."""
    status = sale_status(raw)
    day = local_day(raw.get("completeTime") or raw.get("createTime"), zone)
    if day is None:
        raise OrderDataError(f"completeTime is {raw.get('completeTime')!r}, not a date.",
                             order=number, field="completeTime")
    lines = tuple(_line(item, number, index, flag(raw, "isTaxInclusive"))
                  for index, item in enumerate(sale_lines(raw), start=1))
    total = amount_of(raw, "calcTotal", number)
    payments = _payments(raw, number, zone)
    payment_status = payment_status_of(total, payments, refunds, voided=status == "voided")
    customer = _section(raw, "Customer")
    return Order(
        source=SOURCE, source_id=str(raw.get("saleID")), number=number, order_date=day,
        status=status, payment_status=payment_status, currency="", buyer=_buyer(customer),
        lines=lines, total=total, billing_address=_address(customer), tax=_tax(raw, number),
        payments=payments, refunds=tuple(refunds),
        notes=f"Lightspeed ticket {raw['ticketNumber']}" if raw.get("ticketNumber") else "",
        updated_at=utc_instant(raw.get("timeStamp")), raw=raw)


def _line(item: Mapping[str, Any], number: str, index: int, inclusive: bool) -> OrderLine:
    """A product line without tax. A tax-inclusive line's price holds its tax, which comes
    out of it (and out of its discount, in proportion), so every kind of company books it."""
    where = f"line {index}: "
    count = quantity_of(item, "unitQuantity", number, where=where)
    if count < ZERO:
        raise OrderDataError(f"{where}returns an item inside a sale (an exchange); book the "
                             "exchange by hand.", order=number, field="unitQuantity")
    price = price_of(item, "unitPrice", number, where=where)
    discount = (amount_of(item, "calcLineDiscount", number, where=where)
                + amount_of(item, "calcTransactionDiscount", number, where=where))
    if inclusive:
        sold_for = money(count * price) - discount
        without_tax = sold_for - _tax(item, number, where)
        discount = money(discount * without_tax / sold_for) if sold_for else discount
        price = unit_price(without_tax + discount, count)
    product = _section(item, "Item")
    return OrderLine(
        sku=str(product.get("customSku") or product.get("systemSku") or ""),
        name=str(product.get("description") or ""), quantity=count, unit_price=price,
        discount=discount, taxable=flag(item, "tax"))


def _payments(raw: Mapping[str, Any], number: str, zone: tzinfo) -> tuple[Payment, ...]:
    """The payments taken; change handed back (a negative payment) comes off the last one of
    its type."""
    taken: list[Payment] = []
    for index, item in enumerate(relation(raw, "SalePayments", "SalePayment"), start=1):
        if flag(item, "archived"):
            continue
        amount = amount_of(item, "amount", number, where=f"payment {index}: ")
        method = str(_section(item, "PaymentType").get("name") or item.get("paymentTypeID")
                     or "")
        same = [at for at, payment in enumerate(taken) if payment.method == method]
        if amount < ZERO and same:
            payment = taken[same[-1]]
            taken[same[-1]] = Payment(payment.amount + amount, method, payment.reference,
                                      payment.paid_on)
        elif amount > ZERO:
            taken.append(Payment(amount, method, str(item.get("salePaymentID") or ""),
                                 local_day(item.get("createTime"), zone)))
    return tuple(payment for payment in taken if payment.amount > ZERO)


def refund_of(raw: Mapping[str, Any], refund_id: str, zone: tzinfo) -> Refund | None:
    """A refund sale as the money handed back (its total, below zero, tax included); None
    while it is not completed, or voided. An exchange (a refund selling items too) is for a
    person to book."""
    for index, item in enumerate(sale_lines(raw), start=1):
        if quantity_of(item, "unitQuantity", refund_id, where=f"line {index}: ") > ZERO:
            raise OrderDataError(f"line {index}: it is an exchange (a refund that also sells "
                                 "items): book it by hand.", order=refund_id,
                                 field="unitQuantity")
    if sale_status(raw) != "completed":
        return None
    return Refund(-amount_of(raw, "calcTotal", refund_id), f"refund {refund_id}",
                  local_day(raw.get("completeTime"), zone))


def _contact(customer: Mapping[str, Any], plural: str, singular: str) -> Mapping[str, Any]:
    found = relation(_section(customer, "Contact"), plural, singular)
    return found[0] if found else {}


def _buyer(customer: Mapping[str, Any]) -> Buyer:
    name = " ".join(str(customer[k]) for k in ("firstName", "lastName") if customer.get(k))
    return Buyer(name=name, company=str(customer.get("company") or ""),
                 email=str(_contact(customer, "Emails", "ContactEmail").get("address") or ""),
                 phone=str(_contact(customer, "Phones", "ContactPhone").get("number") or ""))


def _address(customer: Mapping[str, Any]) -> Address:
    place = _contact(customer, "Addresses", "ContactAddress")
    return Address(line1=str(place.get("address1") or ""),
                   line2=str(place.get("address2") or ""), city=str(place.get("city") or ""),
                   region=str(place.get("state") or ""), postal_code=str(place.get("zip") or ""),
                   country=str(place.get("countryCode") or place.get("country") or ""))


# -- purchase orders ----------------------------------------------------------------------------

def purchase_order(raw: Mapping[str, Any], number: str, zone: tzinfo
                   ) -> PurchaseOrder | FailedOrder:
    """A vendor order as a purchase order, or a FailedOrder naming the field it cannot read."""
    try:
        return _purchase_order(raw, number, zone)
    except OrderDataError as error:
        return FailedOrder(number, error.message, field=error.field)


def _purchase_order(raw: Mapping[str, Any], number: str, zone: tzinfo) -> PurchaseOrder:
    """Its state is read from its dates and flags (R-Series keeps no status word): no
    orderedDate is a draft, complete is checked in, archived before that is cancelled."""
    lines = []
    for index, item in enumerate(relation(raw, "OrderLines", "OrderLine"), start=1):
        where = f"line {index}: "
        product = _section(item, "Item")
        lines.append(PurchaseOrderLine(
            sku=str(product.get("customSku") or product.get("systemSku") or ""),
            name=str(product.get("description") or ""),
            quantity=quantity_of(item, "quantity", number, where=where),
            unit_cost=price_of(item, "price", number, where=where),
            received=quantity_of(item, "numReceived", number, where=where)))
    ordered = local_day(raw.get("orderedDate"), zone)
    if flag(raw, "complete"):
        state, status = PurchaseOrderState.RECEIVED, "finished"
    elif flag(raw, "archived"):
        state, status = PurchaseOrderState.CANCELLED, "archived"
    elif ordered is None:
        state, status = PurchaseOrderState.DRAFT, "draft"
    elif any(line.received > ZERO for line in lines):
        state, status = PurchaseOrderState.PARTLY_RECEIVED, "partly received"
    else:
        state, status = PurchaseOrderState.OPEN, "ordered"
    day = ordered or local_day(raw.get("timeStamp"), zone)
    if day is None:
        raise OrderDataError(f"orderedDate is {raw.get('orderedDate')!r}, not a date.",
                             order=number, field="orderedDate")
    vendor = str(_section(raw, "Vendor").get("name") or "")
    if not vendor:
        raise OrderDataError(f"its vendor (vendorID {raw.get('vendorID')!r}) came without a "
                             "name.", order=number, field="vendorID")
    discount = amount_of(raw, "totalDiscount", number)
    other = amount_of(raw, "shipCost", number) + amount_of(raw, "otherCost", number) - discount
    expected = local_day(raw.get("arrivalDate"), zone)
    subtotal = lines_subtotal(lines)
    reference = str(raw.get("refNum") or "")
    memo = f"Lightspeed purchase order {number}" + (f", reference {reference}" if reference
                                                   else "")
    return PurchaseOrder(
        source=SOURCE, source_id=str(raw.get("orderID") or number), number=number,
        vendor=vendor, order_date=day, state=state,
        status=status, currency=str(raw.get("vendorCurrencyCode") or ""), lines=tuple(lines),
        total=subtotal + other, expected_date=expected, other_costs=other,
        memo=memo + (f", less a discount of {discount}" if discount else ""),
        updated_at=utc_instant(raw.get("timeStamp")),
        revision=revision_of(state, expected, other, [
            (line.sku, line.quantity, line.unit_cost, line.received) for line in lines]),
        raw=raw)
