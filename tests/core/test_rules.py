"""Rules: which orders each takes, the connection it books them with, and how it reads."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from connex_desktop.core.connection import (
    Connection,
    CustomerPolicy,
    QuickBooksMapping,
    QuickBooksProduct,
)
from connex_desktop.core.model import Address, Buyer, Order, OrderLine, Payment, PaymentStatus
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import (
    Condition,
    CustomerChoice,
    Field,
    Rule,
    deciding_rule,
    describe,
    rule_counts,
    rule_problems,
    rules_problems,
)
from tests.rule_examples import EVERY_FIELD_RULES

D = Decimal
ONLINE = QuickBooksProduct.ONLINE


def order(**changes) -> Order:
    values = dict(
        source="test", source_id="1", number="1001", order_date=date(2025, 6, 1),
        status="on-hold", payment_status=PaymentStatus.UNPAID, currency="usd",
        buyer=Buyer("Ann Lee", "ann@Wholesale.example"),
        lines=(OrderLine("CASE-12", "Case of 12", D("1"), D("240.00")),), total=D("240.00"),
        shipping_address=Address(country="US"), tags=("Trade",), channel="Web",
        customer_group="trade", payment_gateways=("bacs",))
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]


WHOLESALE = EVERY_FIELD_RULES[1]


def test_an_order_meeting_every_condition_is_taken_and_one_failing_condition_is_not():
    assert WHOLESALE.matches(order())
    for change in ({"status": "completed"}, {"payment_status": PaymentStatus.PAID},
                   {"payment_gateways": ("stripe",)}, {"channel": "pos"},
                   {"customer_group": "retail"}, {"buyer": Buyer("Ann", "ann@gmail.com")},
                   {"shipping_address": Address(country="GB")}, {"currency": "EUR"},
                   {"total": D("100.00")}, {"total": D("5000.50")},
                   {"lines": (OrderLine("MUG", "Mug", D("1"), D("240.00")),)}):
        assert not WHOLESALE.matches(order(**change)), change


def test_a_payment_method_matches_a_payment_or_the_gateway():
    cheque = order(payment_gateways=(), payments=(Payment(D("240.00"), "cheque"),))
    assert Condition(Field.PAYMENT_METHOD, ("Cheque",)).matches(cheque)
    assert not Condition(Field.PAYMENT_METHOD, ("Cheque",)).matches(order())


def test_tags_match_any_of_the_orders_tags_in_any_case():
    assert Condition(Field.TAG, ("test", "trade")).matches(order(tags=("VIP", "TRADE")))
    assert not Condition(Field.TAG, ("test",)).matches(order(tags=()))


def test_the_first_rule_an_order_meets_decides_and_none_leaves_the_connection():
    rules = EVERY_FIELD_RULES
    assert deciding_rule(rules, order(tags=("QA",))) is rules[0]
    assert deciding_rule(rules, order()) is rules[1]
    assert deciding_rule(rules, order(status="completed")) is rules[2]   # no conditions
    assert deciding_rule(rules[3:], order()) is None


def test_a_connection_under_a_rule_takes_its_actions_and_keeps_the_rest():
    connection = Connection("Shop", "csv", TransactionMode.SALES_RECEIPTS, prefix="WEB-",
                            mapping=QuickBooksMapping(tax_code="TAX", payment_method="Visa"))
    wholesale = connection.under_rule(WHOLESALE)
    assert wholesale.mode is TransactionMode.INVOICES and wholesale.prefix == "W-"
    assert wholesale.mapping == QuickBooksMapping(
        customer_policy=CustomerPolicy.GENERIC, generic_customer="Trade buyers",
        tax_code="TAX", payment_method="Check", deposit_account="Checking",
        class_name="Wholesale", location_name="Warehouse")
    walk_ins = connection.under_rule(EVERY_FIELD_RULES[3])
    assert walk_ins.mode is TransactionMode.SALES_RECEIPTS and walk_ins.prefix == "WEB-"
    assert walk_ins.mapping.customer_policy is CustomerPolicy.GENERIC
    assert walk_ins.mapping.generic_customer == "Online store customer"
    assert walk_ins.mapping.payment_method == "Visa"
    assert connection.under_rule(EVERY_FIELD_RULES[2]).prefix == ""


def test_a_rule_reads_as_a_sentence():
    assert describe(EVERY_FIELD_RULES[0], ONLINE) == (
        "When tagged test or qa: skip (test orders are not sales)")
    assert describe(WHOLESALE, ONLINE).startswith(
        "When status is on-hold and payment status is unpaid and payment method is bacs or "
        "Cheque and channel is web")
    assert "total above 100.00 and total below 5000.50" in describe(WHOLESALE, ONLINE)
    assert describe(WHOLESALE, ONLINE).endswith(
        ": book as Invoices, customer 'Trade buyers', payment method 'Check', deposit account "
        "'Checking', class 'Wholesale', location 'Warehouse', number prefix 'W-'")
    assert describe(EVERY_FIELD_RULES[2], ONLINE) == (
        "Every order: book as Sales receipts, customer: per-buyer, no number prefix")


@pytest.mark.parametrize(("rule", "problem"), [
    (Rule(" "), "A rule needs a name."),
    (Rule("R", (Condition(Field.TAG, (" ",)),)), "The condition 'tagged' has no value."),
    (Rule("R", (Condition(Field.TOTAL_ABOVE, ("ten",)),)),
     "The condition 'total above': 'ten' is not an amount."),
    (Rule("R", (Condition(Field.TOTAL_BELOW, ("1", "2")),)),
     "The condition 'total below' takes one amount."),
    (Rule("R", customer=CustomerChoice.NAMED),
     "The rule books to a named customer but names none."),
    (Rule("R", skip=True, mode=TransactionMode.INVOICES),
     "A rule that skips orders books nothing, so it takes no other action."),
])
def test_a_rule_that_cannot_work_says_why(rule, problem):
    assert rule_problems(rule) == [problem]


def test_the_examples_are_valid_and_twin_names_are_not():
    assert rules_problems(EVERY_FIELD_RULES) == []
    assert rules_problems((Rule("Retail"), Rule("retail "))) == ["Two rules are named 'retail '."]


def test_each_rule_counts_the_orders_it_decides_first():
    orders = [order(tags=("QA",)), order(), order(status="completed"), order(channel="pos")]
    assert rule_counts(EVERY_FIELD_RULES, orders) == ([1, 1, 2, 0], 0)
    assert rule_counts(EVERY_FIELD_RULES[3:], orders) == ([1], 3)
