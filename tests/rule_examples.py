"""Rules that use every condition and every action, for the round-trip tests."""

from __future__ import annotations

from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import Condition, CustomerChoice, Field, Rule

EVERY_FIELD_RULES = (
    Rule("Test orders", (Condition(Field.TAG, ("test", "qa")),), skip=True,
         skip_reason="test orders are not sales"),
    Rule("Wholesale", (
        Condition(Field.STATUS, ("on-hold",)), Condition(Field.PAYMENT_STATUS, ("unpaid",)),
        Condition(Field.PAYMENT_METHOD, ("bacs", "Cheque")),
        Condition(Field.CHANNEL, ("web",)), Condition(Field.CUSTOMER_GROUP, ("Trade",)),
        Condition(Field.EMAIL_DOMAIN, ("wholesale.example",)),
        Condition(Field.SHIPPING_COUNTRY, ("US", "CA")), Condition(Field.CURRENCY, ("USD",)),
        Condition(Field.TOTAL_ABOVE, ("100",)), Condition(Field.TOTAL_BELOW, ("5000.50",)),
        Condition(Field.SKU, ("CASE-12",))),
        mode=TransactionMode.INVOICES, customer=CustomerChoice.NAMED,
        customer_name="Trade buyers", payment_method="Check", deposit_account="Checking",
        class_name="Wholesale", location_name="Warehouse", prefix="W-"),
    Rule("Retail", mode=TransactionMode.SALES_RECEIPTS, customer=CustomerChoice.PER_BUYER,
         prefix=""),
    Rule("Walk-ins", (Condition(Field.CHANNEL, ("pos",)),), customer=CustomerChoice.GENERIC),
)
