"""The QuickBooks tab's Desktop choice: company file, transport, the Web Connector's .qwc file
and password, and the connection test of "This computer"."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from PySide6.QtWidgets import QFileDialog, QLineEdit

from connex_desktop.connections import (
    WEB_CONNECTOR_PASSWORD,
    chosen_company,
    web_connector_url,
    web_connector_user,
)
from connex_desktop.core.connection import DesktopTransport, QuickBooksProduct
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.qbdesktop import com_helper
from connex_desktop.qbdesktop.com import ComRequestProcessor
from connex_desktop.ui.configure import ConfigureDialog, desktop_section
from tests.qbdesktop.fake_com import COMPANY_FILE
from tests.qbdesktop.test_com import quickbooks_on_this_pc
from tests.sources.store_cli import assert_no_file_holds
from tests.ui.test_configure_dialog import choose


@pytest.fixture
def orders(app, tmp_path):
    """A saved connection reading an order file, booking into QuickBooks Online."""
    path = tmp_path / "orders.csv"
    path.write_text("Order Number,Order Date,SKU,Quantity,Unit Price\n", encoding="utf-8")
    dialog = ConfigureDialog(app, None)
    dialog.store.name_edit.setText("Shop")
    choose(dialog.store.kind_combo, "csv")
    dialog.store.source_widgets["path"].findChild(QLineEdit).setText(str(path))
    assert dialog.save()
    dialog.deleteLater()
    return dialog.saved


def open_dialog(qtbot, app, connection):
    dialog = ConfigureDialog(app, connection)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_choosing_desktop_saves_the_company_file_and_the_transport(qtbot, app, orders):
    dialog = open_dialog(qtbot, app, orders)
    tab = dialog.quickbooks
    assert tab.product.currentText() == "QuickBooks Online"
    assert not tab.online.isHidden() and tab.desktop.isHidden()
    choose(tab.product, QuickBooksProduct.DESKTOP.value)
    assert not tab.desktop.isHidden() and tab.online.isHidden()
    tab.desktop.company_file.setText("Shop.qbw")
    choose(tab.desktop.transport, DesktopTransport.THIS_COMPUTER.value)
    assert not dialog.save()
    assert "full path" in dialog.errors["company_file"].text()
    assert dialog.tabs.currentWidget() is tab
    tab.desktop.company_file.setText(COMPANY_FILE)
    assert dialog.save()
    saved = app.connections.get_by_id(orders.id).quickbooks
    assert (saved.product, saved.company_file, saved.desktop_transport) == (
        QuickBooksProduct.DESKTOP, COMPANY_FILE, DesktopTransport.THIS_COMPUTER)
    # Ready to sync, as `connection set --quickbooks desktop` makes it: the ledger knows the
    # company by its file, and the list no longer asks to connect to QuickBooks Online.
    assert saved.connected and saved.realm_id.startswith("qbd-")
    assert app.engine()._local_problem(app.connections.get_by_id(orders.id)) is None

    again = open_dialog(qtbot, app, app.connections.get_by_id(orders.id))
    assert again.quickbooks.product.currentText() == "QuickBooks Desktop"
    assert again.quickbooks.desktop.company_file.text() == COMPANY_FILE
    assert again.quickbooks.desktop.transport.currentText() == "This computer"


def test_the_qwc_file_is_saved_and_its_password_kept_only_in_the_keyring(
        qtbot, app, orders, tmp_path, monkeypatch):
    dialog = open_dialog(qtbot, app, orders)
    desktop = dialog.quickbooks.desktop
    choose(dialog.quickbooks.product, QuickBooksProduct.DESKTOP.value)
    choose(desktop.transport, DesktopTransport.WEB_CONNECTOR.value)
    assert not desktop.web_connector.isHidden() and desktop.this_computer.isHidden()
    assert desktop.password.text() == ""
    target = tmp_path / "Shop.qwc"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args: (str(target), "Web Connector files (*.qwc)"))
    desktop.save_qwc_button.click()

    password = desktop.password.text()
    assert len(password) >= 24
    assert app.secrets.get(connection_secret_key(orders.id, WEB_CONNECTOR_PASSWORD)) == password
    text = target.read_text(encoding="utf-8")
    qwc = ET.fromstring(text)
    assert qwc.findtext("AppName") == "Connex Desktop - Shop"
    assert qwc.findtext("AppURL") == web_connector_url()
    assert qwc.findtext("UserName") == web_connector_user(orders.id)
    assert qwc.findtext("QBType") == "QBFS"
    assert password not in text
    assert str(target) in desktop.qwc_result.text()
    assert dialog.save()
    assert_no_file_holds(tmp_path, password)      # the database, the log, the .qwc file

    again = open_dialog(qtbot, app, app.connections.get_by_id(orders.id))
    assert again.quickbooks.desktop.password.text() == password     # made once
    again.quickbooks.desktop.save_qwc_button.click()
    assert ET.fromstring(target.read_text(encoding="utf-8")).findtext("OwnerID") == \
        qwc.findtext("OwnerID")


def test_an_unsaved_connection_saves_its_qwc_file_after_it_is_saved(qtbot, app):
    dialog = open_dialog(qtbot, app, None)
    choose(dialog.quickbooks.product, QuickBooksProduct.DESKTOP.value)
    desktop = dialog.quickbooks.desktop
    choose(desktop.transport, DesktopTransport.WEB_CONNECTOR.value)
    assert not desktop.save_qwc_button.isEnabled()
    assert "Save this connection first" in desktop.qwc_result.text()


def test_online_stays_as_it_was(qtbot, app):
    demo = app.start_demo(orders=5)
    dialog = open_dialog(qtbot, app, demo)
    tab = dialog.quickbooks
    assert tab.product.currentText() == "QuickBooks Online"
    assert not tab.connect_button.isHidden() and tab.desktop.isHidden()
    assert "Connected to" in tab.company_label.text()
    assert dialog.save()
    assert app.connections.get_by_id(demo.id).quickbooks == demo.quickbooks
    assert app.secrets.get(connection_secret_key(demo.id, WEB_CONNECTOR_PASSWORD)) is None


def test_this_computer_says_plainly_why_it_cannot_be_tested_off_windows(qtbot, app, orders):
    dialog = open_dialog(qtbot, app, orders)
    choose(dialog.quickbooks.product, QuickBooksProduct.DESKTOP.value)
    desktop = dialog.quickbooks.desktop
    choose(desktop.transport, DesktopTransport.THIS_COMPUTER.value)
    assert not desktop.this_computer.isHidden()
    assert not desktop.test_button.isEnabled()
    assert "only on Windows" in desktop.test_result.text()
    assert "Web Connector" in desktop.test_result.text()


@pytest.fixture
def on_windows(monkeypatch):
    """This computer as a Windows PC with QuickBooks (the fake COM object) on it."""
    fake = quickbooks_on_this_pc()
    monkeypatch.setattr(desktop_section, "direct_transport_unavailable", lambda: "")
    monkeypatch.setattr(com_helper, "direct_transport_unavailable", lambda: "")
    monkeypatch.setattr(com_helper, "direct_processor", lambda company_file: ComRequestProcessor(
        company_file, open_com=fake.opener))
    return fake


def test_this_computer_tests_the_connection_in_the_background(qtbot, app, orders, on_windows):
    dialog = open_dialog(qtbot, app, orders)
    choose(dialog.quickbooks.product, QuickBooksProduct.DESKTOP.value)
    desktop = dialog.quickbooks.desktop
    choose(desktop.transport, DesktopTransport.THIS_COMPUTER.value)
    desktop.company_file.setText(COMPANY_FILE)
    desktop.test_button.click()
    qtbot.waitUntil(desktop.test_button.isEnabled)
    assert desktop.test_result.text() == (
        "Connected to Trailhead Outfitters (QuickBooks Premier Edition 2024, US).")
    assert on_windows.calls[-2:] == ["EndSession", "CloseConnection"]

    on_windows.running = False
    desktop.company_file.setText("")
    desktop.test_button.click()
    qtbot.waitUntil(desktop.test_button.isEnabled)
    assert desktop.test_result.text().startswith("QuickBooks Desktop is not running.")


def test_a_desktop_connection_offers_the_lists_its_last_sync_kept_without_asking(
        qtbot, app, orders, monkeypatch):
    """Asking a QuickBooks Desktop file would wait for the Web Connector (and QuickBooks
    Online's client cannot reach one): Configure offers what the last sync kept of its lists."""
    desktop = app.connections.update(dataclasses.replace(orders, quickbooks=chosen_company(
        orders.quickbooks, QuickBooksProduct.DESKTOP.value, COMPANY_FILE,
        DesktopTransport.WEB_CONNECTOR.value)))

    def online_client(_connection):
        raise AssertionError("Configure asked QuickBooks Online for a Desktop company's lists")

    monkeypatch.setattr(app, "quickbooks_client", online_client)
    never_synced = open_dialog(qtbot, app, desktop)
    qtbot.waitUntil(lambda: "sync once" in never_synced.mapping.lists_label.text(),
                    timeout=10_000)

    realm = desktop.quickbooks.realm_id
    app.references.replace(realm, "Item", [
        {"Id": "80000001", "Name": "Shipping", "Active": True},
        {"Id": "80000002", "Name": "Old freight", "Active": False}],
        datetime.now(UTC))
    app.references.replace(realm, "Class", [{"Id": "80000003", "Name": "Web", "Active": True}],
                           datetime.now(UTC))
    dialog = open_dialog(qtbot, app, desktop)
    qtbot.waitUntil(lambda: "are the lists of" in dialog.mapping.lists_label.text(),
                    timeout=10_000)
    shipping = dialog.mapping.shipping_item
    offered = [shipping.itemText(row) for row in range(shipping.count())]
    assert "Shipping" in offered and "Old freight" not in offered
