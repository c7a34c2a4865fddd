"""Realistic paid web orders for the benchmark and the fault tests, written as a CSV order file."""

from __future__ import annotations

import csv
import random
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from connex_desktop.core.money import ZERO, money
from connex_desktop.sandbox.seed import CATALOG
from connex_desktop.sources.csv_file import COLUMNS

SALES_TAX_RATE = Decimal("0.0825")
FLAT_SHIPPING = (Decimal("0.00"), Decimal("6.95"), Decimal("12.50"))
DISCOUNT_SHARE = 0.15          # orders with a 10 % coupon
CUSTOMER_POOL = 150            # distinct buyers; repeat buyers are the norm in a web store
FIRST_DAY = date(2026, 9, 1)   # after the seed company's inventory start date
PAYMENT_METHODS = ("Visa", "MasterCard", "American Express", "PayPal")
_FIRST_NAMES = ("Ava", "Liam", "Noah", "Emma", "Mia", "Lucas", "Zoe", "Ethan", "Ivy", "Owen",
                "Nora", "Eli", "Ruby", "Leo", "Maya")
_LAST_NAMES = ("Nguyen", "Garcia", "Smith", "O'Brien", "Patel", "Kim", "Rossi", "Müller",
               "Johnson", "Lopez")
_CITIES = (("Sausalito", "CA", "94965"), ("Portland", "OR", "97205"),
           ("Denver", "CO", "80202"), ("Austin", "TX", "78701"), ("San Rafael", "CA", "94901"))


@dataclass(frozen=True)
class ExpectedLine:
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    taxable: bool


@dataclass(frozen=True)
class ExpectedOrder:
    """What one generated order must become in QuickBooks: an invoice and a payment of `total`."""

    number: str
    order_date: date
    customer: str
    email: str
    street: str
    city: str
    state: str
    postal_code: str
    payment_method: str
    payment_reference: str
    lines: tuple[ExpectedLine, ...]
    shipping: Decimal
    discount: Decimal
    tax: Decimal

    @property
    def subtotal(self) -> Decimal:
        return sum((money(line.unit_price * line.quantity) for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.shipping + self.tax


def _customers(rng: random.Random) -> list[tuple[str, str, tuple[str, str, str, str]]]:
    buyers = []
    for index in range(CUSTOMER_POOL):
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        # A number keeps every display name unique, as stores' customer lists are.
        name = f"{first} {last} {index + 1}"
        email = f"{first}.{last}{index + 1}".lower().replace("'", "").replace("ü", "u")
        city, state, postal = rng.choice(_CITIES)
        street = f"{rng.randint(10, 9999)} {rng.choice(('Oak', 'Bay', 'Main', 'Pine'))} St"
        buyers.append((name, email + "@example.com", (street, city, state, postal)))
    return buyers


def generate_orders(count: int, *, seed: int = 1000, prefix: str = "WEB-",
                    first_number: int = 10001) -> list[ExpectedOrder]:
    """`count` paid orders of 1–4 catalog items, some with a coupon, shipping and CA tax."""
    rng = random.Random(seed)
    buyers = _customers(rng)
    items = [item for item in CATALOG if item.type != "Service"]
    orders = []
    for index in range(count):
        name, email, (street, city, state, postal) = rng.choice(buyers)
        picked = rng.sample(items, rng.randint(1, 4))
        lines = tuple(ExpectedLine(item.sku, item.name, rng.randint(1, 3), item.price,
                                   taxable=not item.sku.startswith("GFT-CARD"))
                      for item in picked)
        subtotal = sum((money(line.unit_price * line.quantity) for line in lines), ZERO)
        discount = money(subtotal * Decimal("0.10")) if rng.random() < DISCOUNT_SHARE else ZERO
        taxable = sum((money(line.unit_price * line.quantity) for line in lines if line.taxable),
                      ZERO)
        taxable_after_discount = taxable - (money(discount * taxable / subtotal) if subtotal
                                            else ZERO)
        tax = money(taxable_after_discount * SALES_TAX_RATE) if state == "CA" else ZERO
        method = rng.choice(PAYMENT_METHODS)
        orders.append(ExpectedOrder(
            number=f"{prefix}{first_number + index}",
            order_date=FIRST_DAY + timedelta(days=index * 60 // max(count, 1)),
            customer=name, email=email, street=street, city=city, state=state,
            postal_code=postal, payment_method=method,
            payment_reference=f"ch_{rng.getrandbits(48):012x}",
            lines=lines, shipping=rng.choice(FLAT_SHIPPING), discount=discount, tax=tax))
    return orders


def write_orders_csv(path: Path, orders: list[ExpectedOrder], *,
                     unpaid: Collection[str] = ()) -> Path:
    """The orders as an order file (CSV): one row per line, order amounts on every row.

    Orders numbered in `unpaid` are written as not paid yet (processing, nothing received).
    """
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for order in orders:
            paid = order.number not in unpaid
            for line in order.lines:
                writer.writerow({
                    "Order Number": order.number, "Order Date": order.order_date.isoformat(),
                    "Status": "completed" if paid else "processing",
                    "Payment Status": "paid" if paid else "unpaid",
                    "Amount Paid": f"{order.total:.2f}" if paid else "",
                    "Payment Method": order.payment_method,
                    "Payment Reference": order.payment_reference, "Currency": "USD",
                    "Customer Name": order.customer, "Customer Email": order.email,
                    "Company": "", "Billing Street": order.street, "Billing City": order.city,
                    "Billing State": order.state, "Billing Postal Code": order.postal_code,
                    "Billing Country": "US", "Shipping Street": order.street,
                    "Shipping City": order.city, "Shipping State": order.state,
                    "Shipping Postal Code": order.postal_code, "Shipping Country": "US",
                    "SKU": line.sku, "Product Name": line.name, "Quantity": str(line.quantity),
                    "Unit Price": f"{line.unit_price:.2f}", "Line Discount": "0.00",
                    "Shipping Amount": f"{order.shipping:.2f}",
                    "Order Discount": f"{order.discount:.2f}", "Tax Amount": f"{order.tax:.2f}",
                    "Notes": "",
                })
    return path
