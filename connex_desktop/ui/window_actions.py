"""The main window's actions: their words, tips and shortcuts, and when each applies."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

from connex_desktop.core.token_life import RECONNECT_WORDS
from connex_desktop.ui import text
from connex_desktop.ui.assets import action_icon
from connex_desktop.ui.menu_bar import build_menu_bar, build_toolbar, connection_actions
from connex_desktop.ui.scheduler import AutoSyncScheduler

if TYPE_CHECKING:   # the window imports this module
    from connex_desktop.ui.main_window import MainWindow


def _action(window: MainWindow, label: str, slot: Callable[[], object], *, tip: str = "",
            shortcuts: tuple[str | QKeySequence.StandardKey, ...] = (),
            icon: str = "") -> QAction:
    action = QAction(action_icon(icon), label, window) if icon else QAction(label, window)
    action.triggered.connect(lambda _checked=False: slot())
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setShortcuts([QKeySequence(key) for key in shortcuts])
    return action


def build_actions(window: MainWindow, scheduler: AutoSyncScheduler) -> None:
    """window.add_action … window.quit_action, then the right-click menu, toolbar and menu bar
    that show them."""
    window.add_action = _action(window, "Add…", window.add_connection,
                                tip="Add a connection from a store to QuickBooks",
                                shortcuts=("Ctrl+N",), icon="add")
    window.configure_action = _action(window, "Configure…", window.configure_selected,
                                      tip="Change the selected connection's settings",
                                      # F2: the platform's rename key; the form opens on
                                      # the name.
                                      shortcuts=("Return", "Enter", "F2"), icon="configure")
    window.duplicate_action = _action(window, "Duplicate", window.duplicate_selected,
                                      tip="Copy the selected connection's settings",
                                      icon="duplicate")
    window.remove_action = _action(window, "Remove…", window.remove_selected,
                                   tip="Remove the selected connection",
                                   shortcuts=(QKeySequence.StandardKey.Delete,), icon="remove")
    window.connect_action = _action(window, "Connect to QuickBooks…", window.connect_selected,
                                    tip="Authorize this connection in QuickBooks Online",
                                    icon="connect")
    window.sync_action = _action(window, "Sync now", window.sync_selected,
                                 tip="Book the selected connection's orders now",
                                 shortcuts=("F5", "Ctrl+R"), icon="sync")
    window.preview_action = _action(
        window, "Preview", window.preview_selected,
        tip="Show what a sync would book, without writing anything to QuickBooks",
        shortcuts=("Ctrl+P",), icon="preview")
    window.cancel_action = _action(window, "Cancel", window.cancel_selected,
                                   tip="Stop the running sync after the current order",
                                   icon="cancel")
    window.log_action = _action(window, "Sync log…", window.show_log_of_selected,
                                tip="Runs and what each did with each order",
                                shortcuts=("Ctrl+L",), icon="log")
    # Closing the window only hides it while the tray keeps the app; this really quits.
    window.quit_action = _action(window, "Quit", window.quit_app,
                                 shortcuts=("Ctrl+Q",))   # Cmd+Q on macOS
    window.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
    # Enter and Delete act on the list only: elsewhere they belong to the focused widget.
    for action in (window.configure_action, window.remove_action):
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.table.addActions(connection_actions(window))
    window.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    toolbar = build_toolbar(window)
    window.addToolBar(toolbar)
    build_menu_bar(window, toolbar, scheduler)
    window.statusBar()


def enable_actions(window: MainWindow, connection_id: int | None, *, running: bool,
                   cancellable: bool) -> None:
    """What applies to the selected connection (None: to no connection)."""
    selected = connection_id is not None
    for action in (window.configure_action, window.duplicate_action, window.connect_action,
                   window.log_action):
        action.setEnabled(selected)
    window.remove_action.setEnabled(selected and not running)
    window.sync_action.setEnabled(selected and not running)
    window.preview_action.setEnabled(selected and not running)
    window.cancel_action.setEnabled(cancellable)
    _name_connect_action(window, connection_id)


def _name_connect_action(window: MainWindow, connection_id: int | None) -> None:
    """Reconnect for a company whose refresh token was refused or is near its end."""
    model = window.model
    row = model.row_of(connection_id) if connection_id is not None else -1
    reconnect = row >= 0 and bool(model.rows()[row].reconnect_note(text.local_now()))
    window.connect_action.setText(f"{RECONNECT_WORDS}…" if reconnect
                                  else "Connect to QuickBooks…")
