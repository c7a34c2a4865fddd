"""Rules on a connection: which orders they take (conditions) and how those are booked (actions)."""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from connex_desktop.core.model import Order
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money_text
from connex_desktop.core.products import QuickBooksProduct


class Field(enum.StrEnum):
    """What of the order a condition looks at; the values are the CLI's and the config's."""

    STATUS = "status"
    PAYMENT_STATUS = "payment-status"
    PAYMENT_METHOD = "payment-method"      # any payment's method, or the store's gateway
    CHANNEL = "channel"                    # the sales channel or source name
    TAG = "tag"
    CUSTOMER_GROUP = "customer-group"
    EMAIL_DOMAIN = "email-domain"
    SHIPPING_COUNTRY = "shipping-country"
    CURRENCY = "currency"
    TOTAL_ABOVE = "total-above"            # more than the amount
    TOTAL_BELOW = "total-below"            # less than the amount
    SKU = "sku"                            # a line with one of the SKUs

    @property
    def is_amount(self) -> bool:
        return self in (Field.TOTAL_ABOVE, Field.TOTAL_BELOW)


FIELD_WORDS = {
    Field.STATUS: "status is", Field.PAYMENT_STATUS: "payment status is",
    Field.PAYMENT_METHOD: "payment method is", Field.CHANNEL: "channel is",
    Field.TAG: "tagged", Field.CUSTOMER_GROUP: "customer group is",
    Field.EMAIL_DOMAIN: "email domain is", Field.SHIPPING_COUNTRY: "ships to",
    Field.CURRENCY: "currency is", Field.TOTAL_ABOVE: "total above",
    Field.TOTAL_BELOW: "total below", Field.SKU: "has SKU",
}


class CustomerChoice(enum.StrEnum):
    """Whom a rule books its orders to."""

    GENERIC = "generic"        # the connection's generic customer
    PER_BUYER = "per-buyer"    # each buyer's own customer
    NAMED = "named"            # one customer the rule names


@dataclass(frozen=True)
class Condition:
    """The order's `field` is one of `values` (any case); for a total, beyond the one amount."""

    field: Field
    values: tuple[str, ...]

    def matches(self, order: Order) -> bool:
        if self.field.is_amount:
            limit = amount(self.values[0])
            return order.total > limit if self.field is Field.TOTAL_ABOVE else order.total < limit
        wanted = {value.strip().casefold() for value in self.values}
        return any(have.strip().casefold() in wanted for have in order_values(order, self.field))


def order_values(order: Order, field: Field) -> tuple[str, ...]:
    """What the order has of a (non-amount) field; a condition matches when one is wanted."""
    match field:
        case Field.STATUS:
            return (order.status,)
        case Field.PAYMENT_STATUS:
            return (order.payment_status.value,)
        case Field.PAYMENT_METHOD:
            return (*(payment.method for payment in order.payments), *order.payment_gateways)
        case Field.CHANNEL:
            return (order.channel,)
        case Field.TAG:
            return order.tags
        case Field.CUSTOMER_GROUP:
            return (order.customer_group,)
        case Field.EMAIL_DOMAIN:
            return (order.buyer.email.rpartition("@")[2],) if "@" in order.buyer.email else ()
        case Field.SHIPPING_COUNTRY:
            return (order.shipping_address.country,)
        case Field.CURRENCY:
            return (order.currency,)
        case Field.SKU:
            return tuple(line.sku for line in order.lines)
    raise ValueError(f"no order values for {field}")


@dataclass(frozen=True)
class Rule:
    """Orders meeting every condition (none: every order) are booked with these actions; an
    action left empty keeps the connection's setting."""

    name: str
    conditions: tuple[Condition, ...] = ()
    skip: bool = False
    skip_reason: str = ""
    mode: TransactionMode | None = None
    customer: CustomerChoice | None = None
    customer_name: str = ""           # CustomerChoice.NAMED
    payment_method: str = ""
    deposit_account: str = ""
    class_name: str = ""
    location_name: str = ""
    prefix: str | None = None         # "" books without a prefix

    def matches(self, order: Order) -> bool:
        return all(condition.matches(order) for condition in self.conditions)

    @property
    def skip_words(self) -> str:
        """Why the log says the rule skipped an order."""
        reason = self.skip_reason.strip().rstrip(".")
        return f"rule '{self.name}' skips it" + (f": {reason}" if reason else "")


def deciding_rule(rules: Iterable[Rule], order: Order) -> Rule | None:
    """The first rule the order meets; None: the connection's own settings decide."""
    return next((rule for rule in rules if rule.matches(order)), None)


def rule_counts(rules: Sequence[Rule], orders: Iterable[Order]) -> tuple[list[int], int]:
    """How many of `orders` each rule decides (first match wins), and how many none does."""
    counts = [0] * len(rules)
    unruled = 0
    for order in orders:
        index = next((i for i, rule in enumerate(rules) if rule.matches(order)), None)
        if index is None:
            unruled += 1
        else:
            counts[index] += 1
    return counts, unruled


def amount(text: str) -> Decimal:
    """A condition's amount; ValueError when it is none."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not an amount")
    return value


# ---- in words, and checked: what the CLI and the Configure window show --------------------

def describe(rule: Rule, product: QuickBooksProduct) -> str:
    """The rule in one sentence, e.g. "When tagged wholesale: book as Invoices, customer
    'Wholesale'", its mode in the words of the connection's QuickBooks."""
    when = " and ".join(describe_condition(condition) for condition in rule.conditions)
    return f"{'When ' + when if when else 'Every order'}: {describe_actions(rule, product)}"


def describe_condition(condition: Condition) -> str:
    shown = " or ".join(condition.values)
    if condition.field.is_amount and len(condition.values) == 1:
        with contextlib.suppress(ValueError):   # a rule being built may not have one yet
            shown = money_text(amount(condition.values[0]))
    return f"{FIELD_WORDS[condition.field]} {shown}"


def describe_actions(rule: Rule, product: QuickBooksProduct) -> str:
    if rule.skip:
        return "skip" + (f" ({rule.skip_reason.strip()})" if rule.skip_reason.strip() else "")
    words = [f"book as {rule.mode.info_in(product).label}"] if rule.mode else []
    if rule.customer is CustomerChoice.NAMED:
        words.append(f"customer '{rule.customer_name}'")
    elif rule.customer is not None:
        words.append(f"customer: {rule.customer.value}")
    words.extend(f"{label} '{value}'" for label, value in (
        ("payment method", rule.payment_method), ("deposit account", rule.deposit_account),
        ("class", rule.class_name), ("location", rule.location_name)) if value)
    if rule.prefix is not None:
        words.append(f"number prefix '{rule.prefix}'" if rule.prefix else "no number prefix")
    return ", ".join(words) or "the connection's settings"


def rule_problems(rule: Rule) -> list[str]:
    """What keeps the rule from being saved, in plain words; empty when it can be."""
    problems = [] if rule.name.strip() else ["A rule needs a name."]
    for condition in rule.conditions:
        label = FIELD_WORDS[condition.field]
        if not any(value.strip() for value in condition.values):
            problems.append(f"The condition '{label}' has no value.")
        elif condition.field.is_amount:
            if len(condition.values) != 1:
                problems.append(f"The condition '{label}' takes one amount.")
            else:
                try:
                    amount(condition.values[0])
                except ValueError as error:
                    problems.append(f"The condition '{label}': {error}.")
    if rule.customer is CustomerChoice.NAMED and not rule.customer_name.strip():
        problems.append("The rule books to a named customer but names none.")
    if rule.skip and (rule.mode or rule.customer or rule.payment_method or rule.deposit_account
                      or rule.class_name or rule.location_name or rule.prefix is not None):
        problems.append("A rule that skips orders books nothing, so it takes no other action.")
    return problems


def rules_problems(rules: Iterable[Rule]) -> list[str]:
    """Each rule's problems, named, and names used twice."""
    problems: list[str] = []
    seen: set[str] = set()
    for rule in rules:
        problems.extend(f"Rule '{rule.name}': {problem}" if rule.name.strip() else problem
                        for problem in rule_problems(rule))
        key = rule.name.strip().casefold()
        if key in seen:
            problems.append(f"Two rules are named '{rule.name}'.")
        seen.add(key)
    return problems
