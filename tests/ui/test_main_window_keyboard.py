"""The main window's menu bar, help, title, keyboard, context menu and Quit."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QToolBar

from connex_desktop import APP_DISPLAY_NAME, __version__
from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.ui import help_topics, opening
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.connect_dialog import ConnectDialog

FINISH_TIMEOUT_MS = 60_000


def focus_the_list(qtbot, window):
    """The window active and the list focused, as after a click on it."""
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.table.setFocus()


def texts(actions):
    return [action.text().replace("&", "") for action in actions if not action.isSeparator()]


@pytest.fixture
def window(qtbot, desktop):
    window = desktop.window
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def quits(monkeypatch):
    """How many times the app was told to quit (instead of ending the test's QApplication)."""
    calls = []
    monkeypatch.setattr(QApplication, "quit", staticmethod(lambda: calls.append(True)))
    return calls


def test_menu_bar_file_connection_view_help(window):
    menus = {menu.title().replace("&", ""): menu for menu in
             (action.menu() for action in window.menuBar().actions())}
    assert list(menus) == ["File", "Connection", "View", "Help"]
    assert texts(menus["File"].actions()) == ["Add…", "Try the demo", "Pause automatic sync",
                                              "Quit"]
    assert texts(menus["Connection"].actions()) == [
        "Configure…", "Duplicate", "Remove…", "Connect to QuickBooks…", "Sync now", "Preview",
        "Cancel", "Sync log…"]
    assert texts(menus["View"].actions()) == ["Show toolbar"]
    assert texts(menus["Help"].actions()) == [
        "How to connect QuickBooks…", "Documentation", "Open the logs folder",
        "About Connex Desktop"]


def test_help_opens_the_guide_the_logs_folder_and_tells_the_version(window, desktop,
                                                                     monkeypatch):
    opened, abouts = [], []
    monkeypatch.setattr(opening.QDesktopServices, "openUrl",
                        lambda url: opened.append(url) or True)
    monkeypatch.setattr(QMessageBox, "about", lambda _parent, title, body: abouts.append(body))
    help_menu = window.menuBar().actions()[-1].menu()
    by_text = {action.text().replace("&", ""): action for action in help_menu.actions()}
    by_text["Documentation"].trigger()
    by_text["Open the logs folder"].trigger()
    by_text["About Connex Desktop"].trigger()
    guide, logs = (Path(url.toLocalFile()) for url in opened)
    assert guide.name == "guide.html" and guide.is_file()
    assert "Connect QuickBooks" in guide.read_text(encoding="utf-8")
    assert logs == desktop.app.paths.logs and logs.is_dir()
    assert f"{APP_DISPLAY_NAME} {__version__}" in abouts[0]


def test_with_no_browser_help_says_where_the_guide_and_the_logs_are(window, desktop,
                                                                    monkeypatch):
    monkeypatch.setattr(opening.QDesktopServices, "openUrl", lambda url: False)
    help_menu = window.menuBar().actions()[-1].menu()
    by_text = {action.text().replace("&", ""): action for action in help_menu.actions()}
    by_text["Documentation"].trigger()
    by_text["Open the logs folder"].trigger()
    told = [box.text() for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert len(told) == 2
    assert str(help_topics.resource_path(help_topics.GUIDE_FILE)) in told[0]
    assert str(desktop.app.paths.logs) in told[1]
    for box in window.findChildren(QMessageBox):
        box.close()


def test_how_to_connect_names_the_windows_own_buttons(window, desktop, monkeypatch):
    """Help says what the window does (one click through the connect service; Desktop through
    the Web Connector or this computer), as the guide does, not an own Intuit app's keys first."""
    told = []
    monkeypatch.setattr(QMessageBox, "information",
                        lambda _parent, title, body: told.append((title, body)))
    help_menu = window.menuBar().actions()[-1].menu()
    next(action for action in help_menu.actions()
         if action.text().replace("&", "").startswith("How to connect")).trigger()
    [(title, body)] = told
    assert title == "How to connect QuickBooks"
    assert "press <b>Connect to QuickBooks</b>" in body and "no keys to type" in body
    assert "Authorize in browser" not in body and "developer.intuit.com" not in body
    assert "<b>Web Connector</b>" in body and "<b>This computer</b>" in body
    assert body in help_topics.resource_path(help_topics.GUIDE_FILE).read_text(encoding="utf-8")


def test_one_window_title(window, qapp):
    qapp.setApplicationDisplayName(APP_DISPLAY_NAME)
    # Qt adds " — <display name>" to a title unless it ends with the display name already.
    title = window.windowTitle()
    shown = title if title.endswith(APP_DISPLAY_NAME) else f"{title} — {APP_DISPLAY_NAME}"
    assert shown == APP_DISPLAY_NAME


def test_keys_on_the_list_sync_preview_and_configure(qtbot, window, desktop,
                                                            monkeypatch):
    connection = window.try_demo()
    focus_the_list(qtbot, window)
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        qtbot.keyClick(window.table, Qt.Key.Key_F5)
    assert not done.args[2].dry_run and done.args[1].synced > 0
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        qtbot.keyClick(window.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert done.args[2].dry_run
    window.show_log(connection.id).close()        # the preview opened the log; back to the list
    configured = []
    monkeypatch.setattr(ConfigureDialog, "exec", lambda dialog: configured.append(
        dialog.windowTitle()) or 0)
    focus_the_list(qtbot, window)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert len(configured) == 1 and connection.name in configured[0]


def test_the_window_opens_focused_on_what_to_do_first(qtbot, window, desktop):
    """No connection yet: Enter tries the demo (its button looks like the default, and was
    not focused: Enter did nothing and Space opened Add). Then the list takes the keys."""
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    assert QApplication.focusWidget() is window.demo_button
    qtbot.keyClick(window.demo_button, Qt.Key.Key_Return)
    assert [c.name for c in desktop.app.connections.list()] == ["Demo store"]
    assert QApplication.focusWidget() is window.table


def test_connect_to_quickbooks_desktop_opens_its_settings(qtbot, window, desktop,
                                                        monkeypatch):
    """QuickBooks Desktop is reached through the Web Connector or this computer, set up in
    Configure: Connect to QuickBooks opens that tab, not QuickBooks Online's sign-in (which
    showed the address "desktop" and asked for Intuit keys)."""
    app = desktop.app
    demo = window.try_demo()
    company = dataclasses.replace(demo.quickbooks, product=QuickBooksProduct.DESKTOP)
    app.connections.update(dataclasses.replace(demo, quickbooks=company))
    window.reload(select_id=demo.id)
    shown = []
    monkeypatch.setattr(ConfigureDialog, "exec", lambda dialog: shown.append(
        dialog.tabs.currentWidget() is dialog.quickbooks) or 0)
    monkeypatch.setattr(ConnectDialog, "exec", lambda dialog: shown.append("Online") or 0)
    window.connect_action.trigger()
    assert shown == [True]


def test_f2_on_the_list_renames_in_configure(qtbot, window, desktop, monkeypatch):
    """F2, the platform's rename key, opens Configure on the connection's name."""
    connection = window.try_demo()
    focus_the_list(qtbot, window)
    named = []
    monkeypatch.setattr(ConfigureDialog, "exec", lambda dialog: named.append(
        (dialog.focusWidget() is dialog.store.name_edit, dialog.store.name_edit.text())) or 0)
    qtbot.keyClick(window.table, Qt.Key.Key_F2)
    assert named == [(True, connection.name)]


def test_delete_on_the_list_removes_after_asking(qtbot, window, desktop, monkeypatch):
    window.try_demo()
    focus_the_list(qtbot, window)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda _parent, title, *_rest: asked.append(
        title) or QMessageBox.StandardButton.Yes)
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert asked == ["Remove connection"]
    assert desktop.app.connections.list() == []


def test_right_click_offers_the_connection_actions_and_inputs_have_names(window):
    assert window.table.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    assert texts(window.table.actions()) == [
        "Configure…", "Duplicate", "Remove…", "Connect to QuickBooks…", "Sync now", "Preview",
        "Cancel", "Sync log…"]
    assert window.table.accessibleName() == "Connections"
    assert window.progress_bar.accessibleName() == "Sync progress"


def test_tab_reaches_the_toolbar(qtbot, window):
    window.try_demo()
    focus_the_list(qtbot, window)
    reached = set()
    for _press in range(20):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        reached.add(QApplication.focusWidget())
    toolbar = window.findChild(QToolBar)
    assert toolbar.widgetForAction(window.sync_action) in reached
    assert toolbar.widgetForAction(window.add_action) in reached


def test_quit_asks_while_a_sync_runs_and_the_close_it_sends_is_not_refused(
        qtbot, window, desktop, monkeypatch, quits):
    window.try_demo()
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _parent, _title, body, *_rest: asked.append(body) or answers.pop(0))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert window.sync_selected() is None
        window.quit_action.trigger()               # Cancel: the app goes on
        assert quits == [] and "Demo store is syncing" in asked[0]
        desktop.tray.build_menu()
        next(a for a in desktop.tray.menu.actions() if a.text() == "Quit").trigger()   # Yes
        assert quits == [True]
    told = []
    monkeypatch.setattr(desktop.tray, "showMessage", lambda title, *_rest: told.append(title))
    window.close()                       # what Qt does on quit: a close, not a hide to the tray
    assert not window.isVisible() and told == []


def test_quit_when_idle_does_not_ask(window, monkeypatch, quits):
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: pytest.fail("asked"))
    window.quit_action.trigger()
    assert quits == [True]


def test_ctrl_q_quits(qtbot, window, quits):
    focus_the_list(qtbot, window)
    qtbot.keyClick(window.table, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert quits == [True]
