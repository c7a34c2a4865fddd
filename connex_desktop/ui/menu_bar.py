"""The main window's menu bar (File, Connection, View, Help), toolbar and context menu."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from connex_desktop.ui import help_topics
from connex_desktop.ui.scheduler import AutoSyncScheduler

if TYPE_CHECKING:   # the window imports this module
    from connex_desktop.ui.main_window import MainWindow


def _separator(window: MainWindow) -> QAction:
    separator = QAction(window)
    separator.setSeparator(True)
    return separator


def connection_actions(window: MainWindow) -> list[QAction]:
    """What can be done with the selected connection, in the Connection menu's order; the list's
    right-click menu shows the same."""
    return [window.configure_action, window.duplicate_action, window.remove_action,
            _separator(window), window.connect_action, _separator(window), window.sync_action,
            window.preview_action, window.cancel_action, _separator(window), window.log_action]


def build_toolbar(window: MainWindow) -> QToolBar:
    """The connection actions as buttons with icon and words, each reachable by Tab."""
    toolbar = QToolBar("Toolbar")
    toolbar.setMovable(False)
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for action in (window.add_action, window.configure_action, window.duplicate_action,
                   window.remove_action, None, window.connect_action, None, window.sync_action,
                   window.preview_action, window.cancel_action, None, window.log_action):
        if action is None:
            toolbar.addSeparator()
        else:
            toolbar.addAction(action)
            # Tool buttons take no focus by default: Tab would skip the toolbar.
            toolbar.widgetForAction(action).setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return toolbar


def _pause_action(window: MainWindow, scheduler: AutoSyncScheduler) -> QAction:
    """A check mark that follows the scheduler, wherever it is paused from (the tray too)."""
    pause = QAction("Pause automatic sync", window)
    pause.setCheckable(True)
    pause.setChecked(scheduler.paused)

    def on_toggled(paused: bool) -> None:
        if paused != scheduler.paused:      # not the echo of a pause from elsewhere
            scheduler.set_paused(paused)

    pause.toggled.connect(on_toggled)
    scheduler.paused_changed.connect(pause.setChecked)
    return pause


def _menu(window: MainWindow, title: str, actions: list[QAction | None]) -> QMenu:
    menu = window.menuBar().addMenu(title)
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)
    return menu


def build_menu_bar(window: MainWindow, toolbar: QToolBar, scheduler: AutoSyncScheduler) -> None:
    """File, Connection, View and Help, each reachable with Alt and its underlined letter."""
    demo = QAction("Try the &demo", window)
    demo.setStatusTip("A sample store and a sample QuickBooks company on this computer")
    demo.triggered.connect(lambda _checked=False: window.try_demo())
    _menu(window, "&File", [window.add_action, demo, None, _pause_action(window, scheduler),
                            None, window.quit_action])
    _menu(window, "&Connection", [None if action.isSeparator() else action
                                  for action in connection_actions(window)])
    toolbar_toggle = toolbar.toggleViewAction()
    toolbar_toggle.setText("Show &toolbar")
    _menu(window, "&View", [toolbar_toggle])

    how_to_connect = QAction("How to &connect QuickBooks…", window)
    how_to_connect.triggered.connect(lambda _checked=False: help_topics.show_how_to_connect(window))
    guide = QAction("&Documentation", window)
    guide.setShortcuts(QKeySequence.keyBindings(QKeySequence.StandardKey.HelpContents))
    guide.triggered.connect(lambda _checked=False: help_topics.open_guide(window))
    logs = QAction("Open the &logs folder", window)
    logs.setStatusTip(str(window.logs_folder))
    logs.triggered.connect(lambda _checked=False: help_topics.open_folder(window.logs_folder,
                                                                           window))
    about = QAction("&About Connex Desktop", window)
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(lambda _checked=False: help_topics.show_about(window))
    _menu(window, "&Help", [how_to_connect, guide, logs, None, about])
