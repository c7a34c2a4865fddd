"""The transaction modes in the words of the connection's QuickBooks: Desktop's own Sales
Orders for a Desktop user, Online's Estimates (as before) for an Online user."""

from __future__ import annotations

from connex_desktop.core.connection import Connection, QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import Rule, describe

DESKTOP, ONLINE = QuickBooksProduct.DESKTOP, QuickBooksProduct.ONLINE
SALES_ORDER_MODES = [mode for mode in TransactionMode if mode.books_estimate]


def test_a_desktop_user_reads_sales_orders_never_estimates():
    labels = {mode: mode.info_in(DESKTOP).label for mode in TransactionMode}
    assert [labels[mode] for mode in SALES_ORDER_MODES] == [
        "Sales orders", "Sales orders and invoices", "Sales orders, invoices and purchase orders"]
    for mode in TransactionMode:
        info = mode.info_in(DESKTOP)
        assert "estimate" not in f"{info.label} {info.explanation}".lower(), mode


def test_a_desktop_user_is_told_pro_has_no_sales_orders():
    for mode in TransactionMode:
        says_pro = "Pro has no sales orders" in mode.info_in(DESKTOP).explanation
        assert says_pro is mode.books_estimate, mode
        assert "Pro" not in mode.info_in(ONLINE).explanation


def test_an_online_user_reads_what_online_users_always_read():
    assert [mode.info_in(ONLINE).label for mode in TransactionMode] == [
        "Invoices", "Invoices with payments", "Sales receipts",
        "Sales orders (Estimates in QuickBooks Online)", "Sales orders (Estimates) and invoices",
        "Sales orders (Estimates), invoices and purchase orders"]
    assert TransactionMode.SALES_ORDERS_INVOICES.info_in(ONLINE).explanation == (
        "An estimate and an invoice with the same number, the invoice closing the estimate; "
        "plus a payment when paid.")


def test_a_connection_names_its_mode_as_its_quickbooks_does():
    online = Connection("Shop", "csv", TransactionMode.SALES_ORDERS_INVOICES)
    desktop = Connection("Shop", "csv", TransactionMode.SALES_ORDERS_INVOICES,
                         quickbooks=QuickBooksCompany(product=DESKTOP))
    assert online.mode_info.label == "Sales orders (Estimates) and invoices"
    assert desktop.mode_info.label == "Sales orders and invoices"


def test_a_rules_mode_reads_in_the_connections_words():
    rule = Rule("Drop ship", mode=TransactionMode.SALES_ORDERS)
    assert describe(rule, DESKTOP) == "Every order: book as Sales orders"
    assert describe(rule, ONLINE) == (
        "Every order: book as Sales orders (Estimates in QuickBooks Online)")
