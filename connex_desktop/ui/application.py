"""Starts the desktop app: one instance, the window, the tray, automatic sync."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from connex_desktop import APP_DISPLAY_NAME, APP_NAME
from connex_desktop.app import App, build_app
from connex_desktop.core.app_settings import TRAY_HINT_SHOWN
from connex_desktop.core.errors import ConnexError
from connex_desktop.paths import AppPaths
from connex_desktop.ui.assets import icon
from connex_desktop.ui.colors import with_readable_placeholders
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.main_window import MainWindow
from connex_desktop.ui.scheduler import AutoSyncScheduler
from connex_desktop.ui.single_instance import SingleInstance, server_name
from connex_desktop.ui.tray import TrayIcon

TRAY_HINT_MS = 6_000


class Desktop(QObject):
    """The running app's parts, wired together: controller, scheduler, window and tray."""

    def __init__(self, app: App, *, tray: bool | None = None,
                 demo_orders: int | None = None) -> None:
        super().__init__()
        self.app = app
        QApplication.setPalette(with_readable_placeholders(QApplication.palette()))
        self.controller = SyncController(app, self)
        self.scheduler = AutoSyncScheduler(app, self.controller, parent=self)
        self.window = MainWindow(app, self.controller, self.scheduler, demo_orders=demo_orders)
        use_tray = QSystemTrayIcon.isSystemTrayAvailable() if tray is None else tray
        self.tray: TrayIcon | None = None
        if use_tray:
            self.tray = TrayIcon(app, self.controller, self.scheduler,
                                 open_window=self.window.show_and_raise, quit_app=self.quit,
                                 parent=self)
            self.window.keep_running_in_tray = True
            self.window.hidden_to_tray.connect(self._on_window_hidden_to_tray)
            self.tray.show()

    def _on_window_hidden_to_tray(self) -> None:
        """The first time only: say that closing the window did not stop the app."""
        if self.app.settings.get(TRAY_HINT_SHOWN) or self.tray is None:
            return
        self.tray.showMessage(
            "Connex Desktop is still running",
            "Automatic syncs go on in the background. Open the window or quit from this icon.",
            QSystemTrayIcon.MessageIcon.Information, TRAY_HINT_MS)
        self.app.settings.set(TRAY_HINT_SHOWN, True)

    def quit(self) -> bool:
        """Quit as the window's File → Quit does: after asking, if a sync is running."""
        return self.window.quit_app()

    def shutdown(self) -> None:
        """Stop automatic sync, cancel the runs and wait for them to stop between two orders."""
        self.scheduler.stop()
        self.controller.shutdown()
        if self.tray is not None:
            self.tray.hide()


def _open_app(data_dir: str | None) -> App | None:
    """The app, with runs a crash cut short marked so; None (after saying why, in the words the
    command line uses) when it cannot start, e.g. on a read-only data folder."""
    app: App | None = None
    try:
        app = build_app(data_dir)
        # Before the window lists the runs: a run cut short by a crash no longer shows running.
        app.mark_interrupted_runs()
    except ConnexError as error:
        if app is not None:
            app.close()
        QMessageBox.critical(None, "Connex Desktop cannot start", str(error))
        return None
    return app


def run(args: argparse.Namespace) -> int:
    """`connex-desktop [--demo] [--data-dir DIR]`: the window, with the app kept in the tray."""
    qt_app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qt_app, QApplication)
    qt_app.setApplicationName(APP_NAME)
    qt_app.setApplicationDisplayName(APP_DISPLAY_NAME)
    qt_app.setWindowIcon(icon("app"))
    instance = SingleInstance(server_name(AppPaths.resolve(args.data_dir).data))
    if instance.notify_running():
        print("Connex Desktop is already running; its window was brought to the front.")
        return 0
    app = _open_app(args.data_dir)
    if app is None:
        return 1
    instance.listen()
    desktop = Desktop(app)
    qt_app.setQuitOnLastWindowClosed(desktop.tray is None)
    instance.raise_requested.connect(desktop.window.show_and_raise)
    if args.demo:
        desktop.window.try_demo()
    desktop.window.show()
    desktop.scheduler.start()
    try:
        return qt_app.exec()
    finally:
        desktop.shutdown()
        instance.close()
        app.close()
