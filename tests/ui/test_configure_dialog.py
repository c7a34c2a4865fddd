"""The configure form: generated from the store's declaration, validated, saved all at once."""

from __future__ import annotations

import dataclasses
import json
import threading
from contextlib import closing
from typing import ClassVar

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from connex_desktop.app import build_app
from connex_desktop.core.connection import (
    Connection,
    CustomerPolicy,
    QuickBooksCompany,
    QuickBooksMapping,
    QuickBooksProduct,
    Schedule,
)
from connex_desktop.core.errors import ConnexError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import QuickBooksUsage, RunStatus, RunTrigger, SyncResult
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.sources.base import FieldKind, OrderQuery, SettingField, Source
from connex_desktop.storage.keyring_secrets import KeyringUnavailable, MemorySecretStore
from connex_desktop.sync.company_kind import CompanyKind
from connex_desktop.sync.tax import CompanyTax
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.configure.store_tab import SAVED_SECRET_HINT

API_KEY = "sk-live-abc123-very-secret"


class PosSource(Source):
    """A point-of-sale system that keeps its own purchase orders and needs an API key."""

    kind: ClassVar[str] = "test-pos"
    label: ClassVar[str] = "Test POS"
    settings_fields: ClassVar[tuple[SettingField, ...]] = (
        SettingField("url", "Server address", FieldKind.URL),
        SettingField("api_key", "API key", secret=True),
        SettingField("register", "Register", FieldKind.CHOICE, required=False,
                     choices=("front", "back"), default="front"),
    )
    statuses: ClassVar[tuple[str, ...]] = ("open", "closed")
    keeps_own_purchase_orders: ClassVar[bool] = True

    def fetch_orders(self, query, cancel):
        return iter(())

    def purchase_orders(self, since, cancel, ids=()):
        return iter(())

    def check(self) -> str:
        if self.secrets.get("api_key") != API_KEY:
            raise ValueError("The POS did not accept the API key.")
        return f"Connected to the POS at {self.settings['url']}."


@pytest.fixture
def pos(app, monkeypatch):
    monkeypatch.setattr(app, "source_kinds", {**app.source_kinds, PosSource.kind: PosSource})
    return PosSource


def choices(combo):
    return [combo.itemText(i) for i in range(combo.count())]


def choose(combo, data):
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def test_mode_numbering_statuses_and_schedule_are_saved(qtbot, app):
    demo = app.start_demo(orders=5)
    dialog = ConfigureDialog(app, demo)
    qtbot.addWidget(dialog)
    choose(dialog.transactions.mode_combo, TransactionMode.SALES_RECEIPTS.value)
    assert dialog.transactions.mode_explanation.text() == \
        TransactionMode.SALES_RECEIPTS.info_in(QuickBooksProduct.ONLINE).explanation
    dialog.transactions.qb_numbering.setChecked(True)
    dialog.transactions.prefix_edit.setText("WEB-")
    for row in range(dialog.transactions.status_list.count()):
        item = dialog.transactions.status_list.item(row)
        if item.text() in ("completed", "processing"):
            item.setCheckState(item.checkState().Checked)
    dialog.schedule.schedule_every.setChecked(True)
    dialog.schedule.every_count.setValue(2)
    choose(dialog.schedule.every_unit, 60)
    assert dialog.save()

    saved = app.connections.get_by_id(demo.id)
    assert saved.mode is TransactionMode.SALES_RECEIPTS
    assert saved.use_qb_numbering and saved.prefix == "WEB-"
    assert set(saved.statuses) == {"completed", "processing"}
    assert saved.schedule == Schedule(every_minutes=120)
    assert saved.quickbooks == demo.quickbooks        # the form never touches the company

    again = ConfigureDialog(app, saved)
    qtbot.addWidget(again)
    assert again.transactions.mode_combo.currentData() == TransactionMode.SALES_RECEIPTS.value
    assert again.transactions.qb_numbering.isChecked() and again.schedule.every_count.value() == 2
    again.schedule.schedule_daily.setChecked(True)
    again.schedule.daily_time.setTime(again.schedule.daily_time.time().fromString("06:30", "HH:mm"))
    assert again.save()
    assert app.connections.get_by_id(demo.id).schedule == Schedule(daily_at="06:30")


def test_each_problem_is_shown_next_to_its_field_and_nothing_is_saved(qtbot, app, tmp_path):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    dialog.show()
    choose(dialog.store.kind_combo, "csv")
    dialog.store.source_widgets["path"].findChild(QLineEdit).setText(str(tmp_path / "missing.csv"))
    dialog.transactions.prefix_edit.setText("X" * 21)
    choose(dialog.mapping.customer_policy, CustomerPolicy.GENERIC.value)
    dialog.mapping.generic_customer.setCurrentText("")
    assert not dialog.save()
    shown = {key: label.text() for key, label in dialog.errors.items() if label.isVisible()
             or label.text()}
    assert shown.keys() == {"name", "source:path", "prefix", "generic_customer"}
    assert "missing.csv" in shown["source:path"]
    assert dialog.tabs.currentIndex() == 0          # the first problem's tab is shown
    assert dialog.errors["name"].isVisible()
    assert app.connections.list() == []

    dialog.store.name_edit.setText("Orders file")
    orders = tmp_path / "orders.csv"
    orders.write_text("Order Number,Order Date,SKU,Quantity,Unit Price\n", encoding="utf-8")
    dialog.store.source_widgets["path"].findChild(QLineEdit).setText(str(orders))
    dialog.transactions.prefix_edit.setText("CSV-")
    dialog.mapping.generic_customer.setCurrentText("Walk-in customer")
    assert dialog.save()
    assert not any(label.text() for label in dialog.errors.values())
    saved = app.connections.get("Orders file")
    assert saved.source_settings["path"] == str(orders)
    assert saved.mapping.generic_customer == "Walk-in customer"


def test_secret_fields_are_masked_and_kept_only_in_the_secret_store(qtbot, app, pos):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    choose(dialog.store.kind_combo, pos.kind)
    key_edit = dialog.store.source_widgets["api_key"]
    assert key_edit.echoMode() == QLineEdit.EchoMode.Password
    dialog.store.name_edit.setText("Shop POS")
    dialog.store.source_widgets["url"].setText("pos.example")
    assert not dialog.save()
    assert dialog.errors["source:url"].text().startswith("Enter the full address")
    assert dialog.errors["source:api_key"].text() == "Enter the API key."   # not "api key"
    dialog.store.source_widgets["url"].setText("https://pos.example")
    key_edit.setText(API_KEY)
    assert dialog.save()

    saved = dialog.saved
    assert app.secrets.get(connection_secret_key(saved.id, "api_key")) == API_KEY
    stored = app.database.query_one("SELECT config FROM connections WHERE id = ?", (saved.id,))
    assert API_KEY not in stored["config"]
    assert json.loads(stored["config"])["source_settings"] == {"url": "https://pos.example",
                                                               "register": "front"}
    # Reopened: the secret is not shown, and a blank field keeps it.
    again = ConfigureDialog(app, saved)
    qtbot.addWidget(again)
    assert again.store.source_widgets["api_key"].text() == ""
    assert again.store.source_widgets["api_key"].placeholderText() == SAVED_SECRET_HINT
    assert again.save()
    assert app.secrets.get(connection_secret_key(saved.id, "api_key")) == API_KEY


def test_purchase_order_mode_is_disabled_with_the_reason_for_stores_with_their_own(
        qtbot, app, pos):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    dialog.show()
    tab = dialog.transactions
    po_row = tab.mode_combo.findData(TransactionMode.SALES_ORDERS_INVOICES_POS.value)
    choose(dialog.store.kind_combo, "demo")
    assert dialog.transactions.mode_combo.model().item(po_row).isEnabled()
    assert dialog.transactions.mode_unavailable.isHidden()
    choose(dialog.store.kind_combo, pos.kind)
    assert not dialog.transactions.mode_combo.model().item(po_row).isEnabled()
    assert not dialog.transactions.mode_unavailable.isHidden()
    assert "Test POS keeps its own purchase orders" in dialog.transactions.mode_unavailable.text()
    assert [tab.status_list.item(i).text() for i in range(tab.status_list.count())] == [
        "open", "closed"]


def test_sync_purchase_orders_is_offered_for_stores_that_keep_them_and_saved(qtbot, app, pos):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    tab = dialog.transactions
    choose(dialog.store.kind_combo, "demo")
    assert not tab.sync_purchase_orders.isEnabled()
    assert "keeps no purchase orders of its own" in dialog.rows.hints[
        "sync_purchase_orders"].text()
    choose(dialog.store.kind_combo, pos.kind)
    assert tab.sync_purchase_orders.isEnabled()
    tab.sync_purchase_orders.setChecked(True)
    dialog.store.name_edit.setText("Shop POS")
    dialog.store.source_widgets["url"].setText("https://pos.example")
    dialog.store.source_widgets["api_key"].setText(API_KEY)
    assert dialog.save()
    assert app.connections.get("Shop POS").sync_purchase_orders
    again = ConfigureDialog(app, app.connections.get("Shop POS"))
    qtbot.addWidget(again)
    assert again.transactions.sync_purchase_orders.isChecked()


def test_test_connection_runs_in_the_background_and_reports_plainly(qtbot, app, pos):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    choose(dialog.store.kind_combo, pos.kind)
    dialog.store.source_widgets["url"].setText("https://pos.example")
    dialog.store.source_widgets["api_key"].setText("wrong")
    dialog.store.test_button.click()
    assert dialog.store.test_result.text() == "Testing…"
    qtbot.waitUntil(lambda: dialog.store.test_button.isEnabled())
    assert dialog.store.test_result.text() == "The POS did not accept the API key."
    dialog.store.source_widgets["api_key"].setText(API_KEY)
    dialog.store.test_button.click()
    qtbot.waitUntil(lambda: dialog.store.test_button.isEnabled())
    assert dialog.store.test_result.text() == "Connected to the POS at https://pos.example."


class RotatingSource(PosSource):
    """A store whose every sign-in revokes its refresh token and hands out another."""

    kind: ClassVar[str] = "test-rotating"
    label: ClassVar[str] = "Rotating POS"
    issued: ClassVar[list[str]] = ["rt-1"]

    def check(self) -> str:
        if self.secrets.get("api_key") != self.issued[-1]:
            raise ValueError("The POS refused the token.")
        self.issued.append(f"rt-{len(self.issued) + 1}")
        self.keep_secret("api_key", self.issued[-1])
        return "Connected."


def test_a_token_renewed_by_a_test_is_the_one_saved(qtbot, app, monkeypatch):
    monkeypatch.setattr(app, "source_kinds", {**app.source_kinds,
                                              RotatingSource.kind: RotatingSource})
    monkeypatch.setattr(RotatingSource, "issued", ["rt-1"])
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    choose(dialog.store.kind_combo, RotatingSource.kind)
    dialog.store.name_edit.setText("Rotating")
    dialog.store.source_widgets["url"].setText("https://pos.example")
    dialog.store.source_widgets["api_key"].setText("rt-1")
    dialog.store.test_button.click()
    qtbot.waitUntil(lambda: dialog.store.test_button.isEnabled())
    assert dialog.store.test_result.text() == "Connected."
    assert dialog.save()
    saved = dialog.saved
    assert app.secrets.get(connection_secret_key(saved.id, "api_key")) == "rt-2"

    # Reopened with the token left blank: a test renews the saved one at once.
    again = ConfigureDialog(app, saved)
    qtbot.addWidget(again)
    again.store.test_button.click()
    qtbot.waitUntil(lambda: again.store.test_button.isEnabled())
    assert again.store.test_result.text() == "Connected."
    assert app.secrets.get(connection_secret_key(saved.id, "api_key")) == "rt-3"


def demo_dialog_with_lists(qtbot, app):
    """The demo connection, and its dialog once the company's lists are in."""
    demo = app.start_demo(orders=5)
    dialog = ConfigureDialog(app, demo)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "are the lists of" in dialog.mapping.lists_label.text(),
                    timeout=20_000)
    return demo, dialog


def test_lists_that_could_not_load_say_why_in_one_sentence(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    dialog.mapping.lists_failed(ConnexError("QuickBooks could not be reached."))
    assert dialog.mapping.lists_label.text() == (
        "The company's lists could not be loaded: QuickBooks could not be reached. Type the "
        "names instead.")


def test_the_demos_lists_load_after_a_restart(qtbot, tmp_path):
    """Configure starts the demo's company when it is not running yet (a new start of the app):
    its lists come, not "QuickBooks must be reached over https…"."""
    keyring_ = MemorySecretStore()
    with closing(build_app(str(tmp_path / "data"), secrets=keyring_)) as first:
        demo = first.start_demo(orders=5)
    with closing(build_app(str(tmp_path / "data"), secrets=keyring_)) as again:
        dialog = ConfigureDialog(again, again.connections.get_by_id(demo.id))
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: "are the lists of" in dialog.mapping.lists_label.text(),
                        timeout=20_000)
        assert "Visa" in choices(dialog.mapping.payment_method)
        dialog.done(0)
        QThreadPool.globalInstance().waitForDone(20_000)


def test_mapping_choices_come_from_the_company_lists(qtbot, app):
    demo, dialog = demo_dialog_with_lists(qtbot, app)
    methods = choices(dialog.mapping.payment_method)
    assert {"Visa", "PayPal", "Bank transfer"} <= set(methods)
    assert methods[0] == "(the order's own method)"
    items = choices(dialog.mapping.fallback_item)
    assert len(items) >= 50
    deposit = choices(dialog.mapping.deposit_account)
    assert "Undeposited Funds" in deposit or len(deposit) > 1

    dialog.mapping.payment_method.setCurrentText("PayPal")
    choose(dialog.mapping.missing_items, "fallback")
    dialog.mapping.fallback_item.setCurrentText(items[5])
    assert dialog.save()
    mapping = app.connections.get_by_id(demo.id).mapping
    assert mapping.payment_method == "PayPal" and mapping.fallback_item == items[5]
    assert mapping.deposit_account == ""       # the default choice stands for "" (Undeposited)


def test_partial_refunds_item_is_chosen_and_the_other_mapping_choices_are_kept(qtbot, app):
    demo = app.start_demo(orders=5)
    app.connections.update(dataclasses.replace(
        demo, mapping=dataclasses.replace(demo.mapping, generic_customer="Walk-in")))
    dialog = ConfigureDialog(app, app.connections.get_by_id(demo.id))
    qtbot.addWidget(dialog)
    assert dialog.mapping.refund_item.currentText() == "(an item 'Refunds', made if missing)"
    dialog.mapping.refund_item.setCurrentText("Returns and refunds")
    assert dialog.save()
    mapping = app.connections.get_by_id(demo.id).mapping
    assert mapping.refund_item == "Returns and refunds"
    assert mapping.generic_customer == "Walk-in"


def test_a_new_path_keeps_the_store_unless_the_user_says_it_is_a_different_one(qtbot, app,
                                                                              tmp_path):
    old_file, new_file = tmp_path / "june.csv", tmp_path / "july.csv"
    old_file.write_text("Order Number\n")
    new_file.write_text("Order Number\n")
    shop = app.connections.add(Connection(name="Shop", source_kind="csv",
                                          mode=TransactionMode.INVOICES,
                                          source_settings={"path": str(old_file)}))
    assert shop.id is not None
    app.connections.remember_store(shop.id, app.source_for(shop).store_key)
    booked_from = app.connections.store_key(shop.id)

    adding = ConfigureDialog(app, None)
    qtbot.addWidget(adding)
    assert adding.store.new_store_check.isHidden()    # a new connection has no store yet

    moved = ConfigureDialog(app, shop)
    qtbot.addWidget(moved)
    assert not moved.store.new_store_check.isHidden()
    assert not moved.store.new_store_check.isChecked()
    moved.store.source_widgets["path"].findChild(QLineEdit).setText(str(new_file))
    assert moved.save()
    assert app.connections.store_key(shop.id) == booked_from

    different = ConfigureDialog(app, app.connections.get_by_id(shop.id))
    qtbot.addWidget(different)
    different.store.new_store_check.setChecked(True)
    assert different.save()
    assert app.connections.store_key(shop.id) not in ("", booked_from)


class NoKeyring:
    """A computer with no system keyring: every secret read or written is refused."""

    def get(self, key: str) -> str | None:
        raise KeyringUnavailable("keyring found only keyring.backends.fail.Keyring")

    set = delete = get


def test_configure_opens_without_a_keyring(qtbot, app, pos, monkeypatch):
    """The demo runs with no keyring (its tokens in memory): its Configure, and a store's with a
    secret, open all the same; a secret field says why nothing is saved in it."""
    demo = app.start_demo(orders=5)
    till = app.connections.add(Connection(name="Till", source_kind=pos.kind,
                                          mode=TransactionMode.SALES_RECEIPTS,
                                          source_settings={"url": "https://pos.example"}))
    monkeypatch.setattr(app, "secrets", NoKeyring())
    demo_dialog = ConfigureDialog(app, demo)
    qtbot.addWidget(demo_dialog)
    assert demo_dialog.store.name_edit.text() == "Demo store"
    assert demo_dialog.quickbooks.desktop.password.text() == ""
    till_dialog = ConfigureDialog(app, till)
    qtbot.addWidget(till_dialog)
    api_key = till_dialog.store.source_widgets["api_key"]
    assert api_key.text() == "" and "no system keyring" in api_key.placeholderText().lower()


def test_tab_reaches_the_stores_own_fields_before_save(qtbot, app):
    """The store's fields are made after the dialog's buttons: Tab went from the name to
    Test connection, Save and Cancel, and only then to "Orders in the last 60 days"."""
    dialog = ConfigureDialog(app, app.start_demo(orders=5))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.store.name_edit.setFocus()
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    before_save = []
    while QApplication.focusWidget() is not save and len(before_save) < 20:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        before_save.append(QApplication.focusWidget())
    assert set(dialog.store.source_widgets.values()) <= set(before_save)
    assert before_save.index(dialog.store.source_widgets["orders"]) < before_save.index(
        dialog.store.test_button)


def test_the_form_opens_on_its_first_field(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.focusWidget() is dialog.store.name_edit


def test_quickbooks_numbering_turns_the_prefix_off_and_says_so(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    assert dialog.transactions.prefix_edit.isEnabled()
    assert "order's number" in dialog.hints["use_qb_numbering"].text()
    dialog.transactions.qb_numbering.setChecked(True)
    assert not dialog.transactions.prefix_edit.isEnabled()
    assert "QuickBooks gives each document its next number" in \
        dialog.hints["use_qb_numbering"].text()
    assert dialog.hints["prefix"].text() == "Not used while QuickBooks numbers the documents."
    dialog.transactions.qb_numbering.setChecked(False)
    assert dialog.transactions.prefix_edit.isEnabled()
    assert "WEB-1001" in dialog.hints["prefix"].text()


def test_mapping_takes_only_names_the_company_has_and_offers_undeposited_funds_once(
        qtbot, app):
    demo, dialog = demo_dialog_with_lists(qtbot, app)
    deposit = choices(dialog.mapping.deposit_account)
    assert [name for name in deposit if "undeposited funds" in name.casefold()] == \
        ["(Undeposited Funds)"]
    items = choices(dialog.mapping.fallback_item)

    choose(dialog.mapping.missing_items, "fallback")
    dialog.mapping.fallback_item.setCurrentText("Gift wrapping deluxe")      # not in the company
    dialog.mapping.payment_method.setCurrentText("Carrier pigeon")
    dialog.mapping.deposit_account.setCurrentText("undeposited funds")        # the default, typed
    dialog.tabs.setCurrentIndex(0)
    assert not dialog.save()
    assert dialog.errors["fallback_item"].text() == (
        f"{demo.quickbooks.company_name} has no item named 'Gift wrapping deluxe' in "
        "QuickBooks. Choose one from the list.")
    assert "no payment method named 'Carrier pigeon'" in dialog.errors["payment_method"].text()
    assert not dialog.errors["deposit_account"].text()
    assert dialog.tabs.tabText(dialog.tabs.currentIndex()) == "Mapping"

    dialog.mapping.fallback_item.setCurrentText(items[5].upper())   # any case: saved as spelt
    dialog.mapping.payment_method.setCurrentText("PayPal")
    assert dialog.save()
    mapping = app.connections.get_by_id(demo.id).mapping
    assert (mapping.fallback_item, mapping.payment_method, mapping.deposit_account) == (
        items[5], "PayPal", "")


def test_changing_the_interval_or_the_time_chooses_it(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    assert dialog.schedule.schedule_off.isChecked()
    dialog.schedule.every_count.setValue(30)
    assert dialog.schedule.schedule_every.isChecked()
    dialog.schedule.daily_time.setTime(dialog.schedule.daily_time.time().addSecs(3600))
    assert dialog.schedule.schedule_daily.isChecked()
    choose(dialog.schedule.every_unit, 60)
    assert dialog.schedule.schedule_every.isChecked()


def test_every_input_is_named_by_its_label(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    choose(dialog.store.kind_combo, "csv")
    path_edit = dialog.store.source_widgets["path"].findChild(QLineEdit)
    assert path_edit.accessibleName() == "Order file"
    assert dialog.transactions.mode_combo.accessibleName() == "Book each order as"
    labelled = {}
    for form in dialog.tabs.findChildren(QFormLayout):
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if item is not None and isinstance(item.widget(), QLabel):
                labelled[item.widget().text()] = item.widget().buddy()
    assert len(labelled) > 15
    for text, buddy in labelled.items():
        assert buddy is not None and buddy.accessibleName() == text, text
        assert buddy.focusPolicy() != Qt.FocusPolicy.NoFocus, text



def test_every_input_a_screen_reader_reaches_has_a_name(qtbot, app):
    """Inputs outside the forms too: the schedule's interval and time, the list of rules."""
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    inputs = (QAbstractItemView, QLineEdit, QComboBox, QAbstractSpinBox)

    def part_of_another(widget: QWidget) -> bool:    # a combo's popup or a spin box's editor
        parent = widget.parent()
        while parent is not None:
            if isinstance(parent, QComboBox | QAbstractSpinBox):
                return True
            parent = parent.parent()
        return False

    unnamed = [f"{type(widget).__name__} in {type(widget.parent()).__name__}"
               for widget in dialog.tabs.findChildren(QWidget)
               if isinstance(widget, inputs) and not widget.isHidden()
               and widget.focusPolicy() != Qt.FocusPolicy.NoFocus
               and not part_of_another(widget) and not widget.accessibleName()]
    assert unnamed == []


def test_escape_asks_before_discarding_edits(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)       # nothing changed: closes at once
    assert not dialog.isVisible() and dialog.discard_question is None

    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.store.name_edit.setText("Web shop")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = dialog.discard_question
    assert box is not None and dialog.isVisible()
    assert box.text() == "Discard your changes to this connection?"
    keep = next(b for b in box.buttons() if b.text() == "Keep editing")
    keep.click()
    assert dialog.isVisible() and dialog.store.name_edit.text() == "Web shop"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    discard = next(b for b in dialog.discard_question.buttons()
                   if b.text() == "Discard changes")
    discard.click()
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Rejected
    assert app.connections.list() == []


def test_looking_through_every_tab_is_no_edit(qtbot, app):
    """Each tab shown raises its page, which reorders the dialog's widgets: Esc after only
    looking still closes at once."""
    dialog = ConfigureDialog(app, app.start_demo(orders=5))
    qtbot.addWidget(dialog)
    dialog.show()
    for index in (*range(dialog.tabs.count()), 0):
        dialog.tabs.setCurrentIndex(index)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible() and dialog.discard_question is None


def test_the_quickbooks_tab_shows_the_company_reads_this_month(qtbot, app, monkeypatch):
    demo = app.start_demo(orders=5)
    synced = app.engine().run(demo, query=OrderQuery()).quickbooks.reads
    assert synced > 0
    # Another connection booking into the same company counts too.
    copy = app.connections.duplicate(demo.name, "Demo, second store")
    run_id = app.runs.start(copy.id, RunTrigger.MANUAL)
    app.runs.finish(run_id, SyncResult(connection=copy.name, run_id=run_id,
                                       status=RunStatus.SUCCEEDED,
                                       quickbooks=QuickBooksUsage(1000, 4, 1004)))
    on_gui_thread = []
    count = app.runs.reads_this_month

    def counted(realm_id):
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return count(realm_id)

    monkeypatch.setattr(app.runs, "reads_this_month", counted)
    dialog = ConfigureDialog(app, demo)
    qtbot.addWidget(dialog)
    label = dialog.quickbooks.reads_label
    qtbot.waitUntil(lambda: "reads this month" in label.text(), timeout=20_000)
    assert f": {synced + 1000:,} by this app on this computer, for this company." in label.text()
    assert "Intuit's free tier allows 500,000 a month for the app" in label.text()
    assert on_gui_thread == [False], "the reads were counted on the GUI thread"

    unsaved = ConfigureDialog(app, None)
    qtbot.addWidget(unsaved)
    assert unsaved.quickbooks.reads_label.text() == ""


def _row_shown(dialog, combo) -> bool:
    return dialog.mapping._form.isRowVisible(combo.parentWidget())


def test_a_class_and_a_store_are_chosen_from_a_company_that_tracks_them(qtbot, app):
    demo = app.start_demo(orders=5, company_kind="us-tracked")
    dialog = ConfigureDialog(app, demo)
    qtbot.addWidget(dialog)
    mapping = dialog.mapping
    assert not _row_shown(dialog, mapping.class_name)   # not known yet, and none chosen
    qtbot.waitUntil(lambda: mapping.kind is not None, timeout=20_000)
    assert _row_shown(dialog, mapping.class_name) and _row_shown(dialog, mapping.location_name)
    form = mapping._form
    assert form.labelForField(mapping.location_name.parentWidget()).text() == "Store"
    assert choices(mapping.class_name) == ["(none)", "Online Store", "Retail Shop", "Wholesale"]
    assert "Portland" in choices(mapping.location_name)

    mapping.class_name.setCurrentText("Wholesail")
    assert not dialog.save()
    assert "no class named 'Wholesail'" in dialog.errors["class_name"].text()
    mapping.class_name.setCurrentIndex(choices(mapping.class_name).index("Retail Shop"))
    mapping.location_name.setCurrentText("portland")     # any case: saved as the company spells it
    assert dialog.save()
    saved = app.connections.get_by_id(demo.id).mapping
    assert (saved.class_name, saved.location_name) == ("Retail Shop", "Portland")


def test_class_and_location_are_not_offered_where_the_company_does_not_track_them(qtbot, app):
    demo, dialog = demo_dialog_with_lists(qtbot, app)
    qtbot.waitUntil(lambda: dialog.mapping.kind is not None, timeout=20_000)
    assert not _row_shown(dialog, dialog.mapping.class_name)
    assert not _row_shown(dialog, dialog.mapping.location_name)
    note = dialog.mapping.tracking_note
    assert not note.isHidden() and note.text() == (
        "This company does not track classes: to choose one, turn on 'Track classes' in "
        "QuickBooks (Account and settings, Advanced, Categories). This company does not track "
        "locations: to choose one, turn on 'Track locations' in QuickBooks (Account and "
        "settings, Advanced, Categories).")
    assert dialog.save()
    assert app.connections.get_by_id(demo.id).mapping.class_name == ""


def test_a_desktop_connections_location_is_shown_to_be_cleared_and_refused_until_then(
        qtbot, app, tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text("Order Number\n")
    shop = app.connections.add(Connection(
        "Shop", "csv", TransactionMode.INVOICES, source_settings={"path": str(orders)},
        quickbooks=QuickBooksCompany(product=QuickBooksProduct.DESKTOP),
        mapping=QuickBooksMapping(location_name="Portland")))
    dialog = ConfigureDialog(app, shop)
    qtbot.addWidget(dialog)
    dialog._kind_read(CompanyKind(CompanyTax(), "USD", False))   # as a Desktop file reads
    mapping = dialog.mapping
    assert _row_shown(dialog, mapping.location_name)
    assert "QuickBooks Desktop has no locations" in mapping.tracking_note.text()
    assert not dialog.save()
    assert ("The location 'Portland' cannot be booked: QuickBooks Desktop has no locations"
            in dialog.errors["location_name"].text())
    mapping.location_name.setCurrentIndex(0)     # (none)
    assert dialog.save()
    assert app.connections.get("Shop").mapping.location_name == ""
