"""The Configure dialog's Rules tab: rules built by clicking, reordered, counted, saved."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from connex_desktop.core.connection import Connection, QuickBooksCompany, QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import Condition, CustomerChoice, Field, Rule
from connex_desktop.ui.configure import ConfigureDialog
from tests.sync.conftest import row, write_orders


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


@pytest.fixture
def shop(app, tmp_path):
    """A CSV store: two orders of the last 30 days (one tagged wholesale), one older."""
    recent = (date.today() - timedelta(days=3)).isoformat()
    old = (date.today() - timedelta(days=45)).isoformat()
    orders = write_orders(tmp_path / "orders.csv", [
        row("1", "MUG", order_date=recent, tags="wholesale"),
        row("2", "MUG", order_date=recent, tags="test"),
        row("3", "MUG", order_date=old, tags="wholesale")])
    return app.connections.add(Connection(
        "Shop", "csv", TransactionMode.SALES_RECEIPTS, source_settings={"path": str(orders)}))


def open_rules(qtbot, app, connection):
    dialog = ConfigureDialog(app, connection)
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentWidget(dialog.rules)
    qtbot.waitUntil(lambda: dialog.rules.orders is not None, timeout=20_000)
    return dialog


def click(qtbot, button):
    """A click near the button's left edge: on a check box's box, not beyond its words."""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton, pos=QPoint(4, button.height() // 2))


def build(qtbot, tab, name, fill):
    """A rule added by clicking Add rule…, filling the editor, and clicking OK."""
    click(qtbot, tab.add_button)
    editor = tab.editor
    assert editor is not None and editor.isVisible()
    editor.name.setText(name)
    fill(qtbot, editor)
    click(qtbot, editor.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert not editor.isVisible()


def condition(qtbot, editor, field, values):
    click(qtbot, editor.add_condition)
    choose(editor.rows[-1].field, field.value)
    editor.rows[-1].values.setText(values)


def wholesale(qtbot, editor):
    condition(qtbot, editor, Field.TAG, "wholesale")
    choose(editor.mode, TransactionMode.INVOICES.value)
    choose(editor.customer, CustomerChoice.NAMED.value)
    editor.customer_name.setText("Trade buyers")
    editor.names["class_name"].setCurrentText("Wholesale")
    click(qtbot, editor.own_prefix)
    editor.prefix.setText("W-")


def skip_test_orders(qtbot, editor):
    condition(qtbot, editor, Field.TAG, "test, qa")
    click(qtbot, editor.skip)
    editor.skip_reason.setText("not sales")


def test_rules_built_by_clicking_are_counted_reordered_and_saved(qtbot, app, shop):
    dialog = open_rules(qtbot, app, shop)
    tab = dialog.rules
    assert [order.number for order in tab.orders] == ["1", "2"]   # the last 30 days only
    build(qtbot, tab, "Wholesale", wholesale)
    assert tab.rule_list.item(0).text() == (
        "1. Wholesale: When tagged wholesale: book as Invoices, customer 'Trade buyers', "
        "class 'Wholesale', number prefix 'W-' — 1 order")
    build(qtbot, tab, "Test orders", skip_test_orders)
    assert tab.counts_label.text() == \
        "Of the last 30 days' 2 orders, the connection's own settings would book 0."
    tab.rule_list.setCurrentRow(1)
    click(qtbot, tab.up_button)
    assert [tab.rule_list.item(i).text()[:14] for i in range(2)] == [
        "1. Test orders", "2. Wholesale: "]
    assert dialog.save()
    assert app.connections.get("Shop").rules == (
        Rule("Test orders", (Condition(Field.TAG, ("test", "qa")),), skip=True,
             skip_reason="not sales"),
        Rule("Wholesale", (Condition(Field.TAG, ("wholesale",)),),
             mode=TransactionMode.INVOICES, customer=CustomerChoice.NAMED,
             customer_name="Trade buyers", class_name="Wholesale", prefix="W-"))


def test_a_rule_that_cannot_work_is_not_taken_and_says_why(qtbot, app, shop):
    tab = open_rules(qtbot, app, shop).rules
    click(qtbot, tab.add_button)
    editor = tab.editor
    condition(qtbot, editor, Field.TOTAL_ABOVE, "lots")
    click(qtbot, editor.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert editor.isVisible() and editor.rule is None
    assert editor.problem.text() == ("A rule needs a name.\n"
                                     "The condition 'total above': 'lots' is not an amount.")
    editor.reject()
    assert tab.rules == []


def test_a_saved_rule_is_edited_and_removed(qtbot, app, shop):
    app.connections.update(Connection(
        "Shop", "csv", TransactionMode.SALES_RECEIPTS, id=shop.id,
        source_settings=shop.source_settings, rules=(Rule("Everything"),)))
    dialog = open_rules(qtbot, app, app.connections.get("Shop"))
    tab = dialog.rules
    assert tab.rule_list.item(0).text() == (
        "1. Everything: Every order: the connection's settings — 2 orders")
    tab.rule_list.setCurrentRow(0)
    click(qtbot, tab.edit_button)
    choose(tab.editor.mode, TransactionMode.INVOICES.value)
    click(qtbot, tab.editor.buttons.button(QDialogButtonBox.StandardButton.Ok))
    assert tab.rules == [Rule("Everything", mode=TransactionMode.INVOICES)]
    click(qtbot, tab.remove_button)
    assert dialog.save() and app.connections.get("Shop").rules == ()


def choices(combo):
    return [combo.itemText(i) for i in range(combo.count())]


def open_editor(qtbot, app, connection):
    """A new rule's editor, once the dialog has read the company's lists and kind."""
    dialog = ConfigureDialog(app, connection)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.rules.kind is not None, timeout=20_000)
    dialog.tabs.setCurrentWidget(dialog.rules)
    click(qtbot, dialog.rules.add_button)
    return dialog, dialog.rules.editor


def offered(editor, key) -> bool:
    return editor.form.isRowVisible(editor.names[key])


def test_a_rules_names_are_offered_from_the_companys_lists(qtbot, app):
    _, editor = open_editor(qtbot, app, app.start_demo(orders=5, company_kind="us-tracked"))
    assert offered(editor, "class_name") and offered(editor, "location_name")
    assert choices(editor.names["class_name"]) == ["", "Online Store", "Retail Shop",
                                                    "Wholesale"]
    assert "Portland" in choices(editor.names["location_name"])
    assert "Visa" in choices(editor.names["payment_method"])
    assert not any(editor.form.isRowVisible(hint) for hint in editor.tracking_hints.values())
    editor.reject()


def test_a_company_not_tracking_classes_or_locations_is_offered_neither_but_told_how(qtbot,
                                                                                   app):
    _, editor = open_editor(qtbot, app, app.start_demo(orders=5))
    for key, words in (("class_name", "does not track classes: to choose one, turn on 'Track "
                                      "classes' in QuickBooks (Account and settings, Advanced"),
                       ("location_name", "does not track locations: to choose one, turn on "
                                         "'Track locations'")):
        assert not offered(editor, key)
        hint = editor.tracking_hints[key]
        assert editor.form.isRowVisible(hint) and words in hint.text()
    editor.reject()


def test_quickbooks_desktop_is_offered_no_location_and_refuses_a_rules_own(qtbot, app, shop):
    app.connections.update(dataclasses.replace(
        shop, quickbooks=QuickBooksCompany(product=QuickBooksProduct.DESKTOP),
        rules=(Rule("Stores", location_name="Portland"),)))
    dialog = open_rules(qtbot, app, app.connections.get("Shop"))
    tab = dialog.rules
    click(qtbot, tab.add_button)
    editor = tab.editor
    assert offered(editor, "class_name") and not offered(editor, "location_name")
    assert "QuickBooks Desktop has no locations" in editor.tracking_hints["location_name"].text()
    editor.reject()
    tab.rule_list.setCurrentRow(0)
    click(qtbot, tab.edit_button)
    assert offered(tab.editor, "location_name")     # the rule's own, to be cleared
    tab.editor.reject()
    assert not dialog.save()
    assert ("Rule 'Stores' chooses the location 'Portland', which cannot be booked: QuickBooks "
            "Desktop has no locations") in dialog.errors["rules"].text()


def test_cancel_asks_only_when_the_rules_changed(qtbot, app, shop):
    dialog = open_rules(qtbot, app, shop)
    click(qtbot, dialog.rules.add_button)
    dialog.rules.editor.reject()           # an editor opened and cancelled changes nothing
    dialog.reject()
    assert dialog.discard_question is None and dialog.result() == QDialog.DialogCode.Rejected
    dialog = open_rules(qtbot, app, shop)
    build(qtbot, dialog.rules, "Retail", lambda _qtbot, editor: None)
    dialog.reject()
    assert dialog.discard_question is not None
    dialog.discard_question.reject()
