"""`connection rule add/list/remove/move`: a connection's rules changed on the command line."""

from __future__ import annotations

import argparse
import dataclasses
import json

from connex_desktop.app import App
from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.errors import SetupError
from connex_desktop.core.rules import Rule, describe
from connex_desktop.core.tracking import untracked_choices
from connex_desktop.rule_cli import rule_from_args
from connex_desktop.storage.repositories import to_plain
from connex_desktop.sync.company_setup import class_tracking, tracks_locations
from connex_desktop.sync.planner import ClassTracking


def connection_rule(app: App, args: argparse.Namespace) -> int:
    """`connection rule ACTION NAME ...`; exit 0, or a SetupError (exit 2)."""
    connection = app.connections.get(args.name)
    rules = list(connection.rules)
    if args.rule_action == "list":
        return _list(rules, connection.quickbooks.product, as_json=args.json)
    if args.rule_action == "add":
        rule = rule_from_args(args)
        untracked_choice = _untracked(app, connection, rule)
        if untracked_choice:
            raise SetupError(f"The rule {rule.name!r} cannot be added: {untracked_choice}",
                             field="rule")
        if _position(rules, rule.name, missing_ok=True) is not None:
            raise SetupError(f"{connection.name!r} has a rule named {rule.name!r} already; "
                             "remove it first, or choose another name.", field="rule")
        rules.insert(_place(args.position, len(rules) + 1), rule)
        done = f"Added the rule {rule.name!r}: {describe(rule, connection.quickbooks.product)}."
    else:
        index = _position(rules, args.rule)
        assert index is not None
        rule = rules.pop(index)
        if args.rule_action == "move":
            rules.insert(_place(args.to, len(rules) + 1), rule)
            done = f"Moved the rule {rule.name!r} to place {rules.index(rule) + 1}."
        else:
            done = f"Removed the rule {rule.name!r}."
    app.connection_service().update(dataclasses.replace(connection, rules=tuple(rules)), {})
    print(done)
    return 0


def _untracked(app: App, connection: Connection, rule: Rule) -> str | None:
    """Why the company takes no class (or location) for the rule to choose, as the app last
    read its preferences; nothing read yet: the names are checked when a sync starts."""
    company = connection.quickbooks
    kept = app.references.lists(company.realm_id).get("Preferences") if company.connected \
        else None
    preferences = next(iter(kept.records.values())) if kept and kept.records else None
    choices = untracked_choices(
        company.product,
        None if preferences is None else class_tracking(preferences) is not ClassTracking.OFF,
        None if preferences is None else tracks_locations(preferences))
    return next((reason for key, reason in choices.items() if getattr(rule, key).strip()), None)


def _list(rules: list[Rule], product: QuickBooksProduct, *, as_json: bool) -> int:
    if as_json:
        print(json.dumps([to_plain(rule) for rule in rules], indent=2))
        return 0
    if not rules:
        print("No rules: the connection's own settings book every order.")
    for place, rule in enumerate(rules, start=1):
        print(f"{place}. {rule.name}: {describe(rule, product)}")
    return 0


def _position(rules: list[Rule], name: str, *, missing_ok: bool = False) -> int | None:
    wanted = name.strip().casefold()
    index = next((i for i, rule in enumerate(rules) if rule.name.casefold() == wanted), None)
    if index is None and not missing_ok:
        names = ", ".join(repr(rule.name) for rule in rules) or "none"
        raise SetupError(f"No rule named {name!r} (its rules: {names}).", field="rule")
    return index


def _place(position: int | None, last: int) -> int:
    """A 1-based place (None: last) as a list index; SetupError when out of range."""
    if position is None:
        return last - 1
    if not 1 <= position <= last:
        raise SetupError(f"A rule's place is from 1 to {last}, not {position}.",
                         field="position")
    return position - 1
