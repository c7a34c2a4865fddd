"""The parser of `connection rule add/list/remove/move`, and the rule its options describe."""

from __future__ import annotations

import argparse

from connex_desktop.core.errors import SetupError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import Condition, CustomerChoice, Field, Rule

WHEN_HELP = (
    "a condition, FIELD=VALUE or FIELD=VALUE,VALUE,... (any of them, any case; repeat: every "
    "condition must hold). FIELD: " + ", ".join(field.value for field in Field) + ". "
    "payment-method matches a payment's method or the store's gateway; channel the sales "
    "channel or source (Shopify's source name, WooCommerce's created_via, BigCommerce's "
    "channel id, a CSV's Channel column); tag a tag (WooCommerce: its order meta as "
    "key=value); total-above and total-below take one amount; sku a line's SKU.")


def add_rule_parser(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`connection rule ...` under the `connection` command's actions."""
    rule = actions.add_parser(
        "rule", help="rules: book some orders otherwise, or skip them",
        description="Rules decide per order, in their order: the first whose conditions an "
                    "order meets books it with its actions; the connection's own settings "
                    "book the rest. A rule changed after an order was booked never books it "
                    "again.")
    rule_actions = rule.add_subparsers(dest="rule_action", metavar="RULE_ACTION", required=True)
    add = rule_actions.add_parser("add", help="add a rule (last, or at --position)")
    add.add_argument("name", help="the connection")
    add.add_argument("rule", help="the rule's name")
    add.add_argument("--when", action="append", default=[], metavar="FIELD=VALUES",
                     help=WHEN_HELP)
    add.add_argument("--skip", nargs="?", const="", default=None, metavar="REASON",
                     help="skip the orders it takes (the reason is shown in the log)")
    add.add_argument("--mode", choices=[mode.value for mode in TransactionMode],
                     help="book its orders as this transaction type")
    customer = add.add_mutually_exclusive_group()
    customer.add_argument("--customer", choices=[CustomerChoice.GENERIC.value,
                                                 CustomerChoice.PER_BUYER.value],
                          help="the connection's generic customer, or each buyer's own")
    customer.add_argument("--customer-name", metavar="NAME", help="one customer for them all")
    add.add_argument("--payment-method", default="", metavar="NAME")
    add.add_argument("--deposit-account", default="", metavar="NAME")
    add.add_argument("--class", default="", dest="class_name", metavar="NAME")
    add.add_argument("--location", default="", dest="location_name", metavar="NAME")
    add.add_argument("--prefix", default=None, help="document number prefix ('' for none)")
    add.add_argument("--position", type=int, default=None, metavar="N",
                     help="its place among the rules, from 1 (default: last)")
    listing = rule_actions.add_parser("list", help="the rules, in the order they decide")
    listing.add_argument("name")
    listing.add_argument("--json", action="store_true")
    remove = rule_actions.add_parser("remove", help="remove a rule")
    remove.add_argument("name")
    remove.add_argument("rule")
    move = rule_actions.add_parser("move", help="give a rule another place")
    move.add_argument("name")
    move.add_argument("rule")
    move.add_argument("--to", type=int, required=True, metavar="N",
                      help="its new place, from 1")


def rule_from_args(args: argparse.Namespace) -> Rule:
    """The rule `connection rule add` describes."""
    customer = (CustomerChoice.NAMED if args.customer_name is not None
                else CustomerChoice(args.customer) if args.customer else None)
    return Rule(
        name=args.rule.strip(), conditions=tuple(condition(text) for text in args.when),
        skip=args.skip is not None, skip_reason=(args.skip or "").strip(),
        mode=TransactionMode(args.mode) if args.mode else None, customer=customer,
        customer_name=args.customer_name or "", payment_method=args.payment_method,
        deposit_account=args.deposit_account, class_name=args.class_name,
        location_name=args.location_name, prefix=args.prefix)


def condition(text: str) -> Condition:
    """`FIELD=VALUE,VALUE` as a condition; SetupError names what is wrong."""
    name, equals, values = text.partition("=")
    try:
        field = Field(name.strip().lower())
    except ValueError:
        raise SetupError(f"--when {text!r}: no field {name.strip()!r}; the fields are "
                         f"{', '.join(f.value for f in Field)}.", field="when") from None
    listed = tuple(value.strip() for value in values.split(",") if value.strip())
    if not equals or not listed:
        raise SetupError(f"--when {text!r} names no value; write {field.value}=VALUE.",
                         field="when")
    return Condition(field, listed)
