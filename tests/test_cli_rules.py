"""`connection rule add/list/remove/move`: every rule field through the command line and back."""

from __future__ import annotations

import json

import pytest

from connex_desktop.core.rules import Rule
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.storage.repositories import from_plain
from tests.rule_examples import EVERY_FIELD_RULES
from tests.sync.conftest import row, write_orders
from tests.test_cli import (  # noqa: F401  (the keyring fixture, by name)
    cli,
    connect_csv,
    memory_keyring,
)

# EVERY_FIELD_RULES as a user types them.
EVERY_FIELD_COMMANDS = (
    ("Test orders", "--when", "tag=test,qa", "--skip", "test orders are not sales"),
    ("Wholesale", "--when", "status=on-hold", "--when", "payment-status=unpaid",
     "--when", "payment-method=bacs, Cheque", "--when", "channel=web",
     "--when", "customer-group=Trade", "--when", "email-domain=wholesale.example",
     "--when", "shipping-country=US,CA", "--when", "currency=USD",
     "--when", "total-above=100", "--when", "total-below=5000.50", "--when", "sku=CASE-12",
     "--mode", "invoices", "--customer-name", "Trade buyers", "--payment-method", "Check",
     "--deposit-account", "Checking", "--class", "Wholesale", "--location", "Warehouse",
     "--prefix", "W-"),
    ("Retail", "--mode", "sales-receipts", "--customer", "per-buyer", "--prefix", ""),
    ("Walk-ins", "--when", "channel=pos", "--customer", "generic"),
)


@pytest.fixture
def shop(tmp_path):
    data_dir = tmp_path / "data"
    write_orders(tmp_path / "orders.csv", [row("1001", "MUG")])
    assert cli(data_dir, "connection", "add", "Shop", "--source", "csv", "--set",
               f"path={tmp_path / 'orders.csv'}", "--mode", "sales-receipts") == 0
    return data_dir


def listed(data_dir, capsys) -> tuple[Rule, ...]:
    capsys.readouterr()
    assert cli(data_dir, "connection", "rule", "list", "Shop", "--json") == 0
    return tuple(from_plain(Rule, plain) for plain in json.loads(capsys.readouterr().out))


def test_every_rule_field_round_trips_through_the_command_line(shop, capsys):
    for name, *options in EVERY_FIELD_COMMANDS:
        assert cli(shop, "connection", "rule", "add", "Shop", name, *options) == 0
    assert listed(shop, capsys) == EVERY_FIELD_RULES
    assert cli(shop, "connection", "rule", "list", "Shop") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "1. Test orders: When tagged test or qa: skip (test orders are not sales)"
    assert lines[2] == ("3. Retail: Every order: book as Sales receipts, customer: per-buyer, "
                        "no number prefix")


def test_rules_are_moved_inserted_and_removed_by_name(shop, capsys):
    for name, *options in EVERY_FIELD_COMMANDS[:3]:
        assert cli(shop, "connection", "rule", "add", "Shop", name, *options) == 0
    assert cli(shop, "connection", "rule", "move", "Shop", "retail", "--to", "1") == 0
    assert [rule.name for rule in listed(shop, capsys)] == ["Retail", "Test orders", "Wholesale"]
    name, *options = EVERY_FIELD_COMMANDS[3]
    assert cli(shop, "connection", "rule", "add", "Shop", name, *options, "--position", "2") == 0
    assert cli(shop, "connection", "rule", "remove", "Shop", "Test orders") == 0
    assert [rule.name for rule in listed(shop, capsys)] == ["Retail", "Walk-ins", "Wholesale"]


@pytest.mark.parametrize(("arguments", "words"), [
    (("add", "Shop", "R", "--when", "colour=red"), "no field 'colour'"),
    (("add", "Shop", "R", "--when", "tag="), "names no value"),
    (("add", "Shop", "R", "--when", "total-above=lots"), "'lots' is not an amount"),
    (("add", "Shop", "R", "--skip", "--mode", "invoices"), "takes no other action"),
    (("add", "Shop", "Retail"), "has a rule named 'Retail' already"),
    (("move", "Shop", "Retail", "--to", "3"), "from 1 to 1, not 3"),
    (("remove", "Shop", "Nope"), "No rule named 'Nope' (its rules: 'Retail')"),
])
def test_a_rule_that_cannot_be_saved_says_why_and_changes_nothing(shop, capsys, arguments,
                                                                  words):
    assert cli(shop, "connection", "rule", "add", "Shop", "Retail", "--mode",
               "invoices") == 0
    before = listed(shop, capsys)
    assert cli(shop, "connection", "rule", *arguments) == 2
    assert words in capsys.readouterr().err
    assert listed(shop, capsys) == before


@pytest.fixture
def synced(tmp_path, monkeypatch, memory_keyring, request):   # noqa: F811
    """A shop connected to a sandbox company of the kind `request.param`, synced once (so the
    app has read its preferences)."""
    data_dir = tmp_path / "data"
    with SandboxServer(kind=request.param) as sandbox:
        connect_csv(data_dir, sandbox, monkeypatch,
                    write_orders(tmp_path / "orders.csv", [row("1001", "MUG")]))
        assert cli(data_dir, "sync", "Shop") == 0
    return data_dir


@pytest.mark.parametrize(("synced", "option", "words"), [
    ("us", ("--class", "Wholesale"), "does not track classes: to choose one, turn on 'Track "
                                     "classes' in QuickBooks"),
    ("us-line-classes", ("--location", "Portland"), "does not track locations: to choose "
                                                   "one, turn on 'Track locations'"),
], indirect=["synced"], ids=["class", "location"])
def test_a_class_or_location_the_company_does_not_track_is_refused_saying_how_to_turn_it_on(
        synced, capsys, option, words):
    assert cli(synced, "connection", "rule", "add", "Shop", "Big", *option) == 2
    assert words in capsys.readouterr().err
    assert listed(synced, capsys) == ()


@pytest.mark.parametrize("synced", ["us-tracked"], indirect=True)
def test_a_company_tracking_classes_and_locations_takes_both(synced, capsys):
    assert cli(synced, "connection", "rule", "add", "Shop", "Big", "--class", "Wholesale",
               "--location", "Portland") == 0
    (rule,) = listed(synced, capsys)
    assert (rule.class_name, rule.location_name) == ("Wholesale", "Portland")


def test_a_quickbooks_desktop_connection_refuses_a_rules_location(shop, capsys):
    assert cli(shop, "connection", "set", "Shop", "--quickbooks", "desktop") == 0
    assert cli(shop, "connection", "rule", "add", "Shop", "Big", "--class", "Wholesale") == 0
    assert cli(shop, "connection", "rule", "add", "Shop", "Stores", "--location",
               "Portland") == 2
    assert ("The rule 'Stores' cannot be added: QuickBooks Desktop has no locations (only "
            "QuickBooks Online has them); report by a class instead.") in capsys.readouterr().err
    assert [rule.name for rule in listed(shop, capsys)] == ["Big"]
    assert cli(shop, "connection", "set", "Shop", "--map", "location_name=Portland") == 2
    assert "The location 'Portland' cannot be booked" in capsys.readouterr().err
