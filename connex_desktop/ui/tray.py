"""The tray icon: idle, syncing or error at a glance; a menu rebuilt each time it opens."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from connex_desktop.app import App
from connex_desktop.core.app_settings import NOTIFY_WHEN_ORDERS_BOOKED, TRAY_NEEDS_ATTENTION
from connex_desktop.core.progress import pause_line
from connex_desktop.core.result import RunStatus, RunTrigger, SyncResult
from connex_desktop.ui import text
from connex_desktop.ui.assets import icon
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.scheduler import AutoSyncScheduler
from connex_desktop.ui.worker import RunRequest

NOTIFICATION_MS = 8_000
PROBLEM_STATUSES = (RunStatus.FAILED, RunStatus.PARTIAL)


class TrayIcon(QSystemTrayIcon):
    """Reflects the controller's runs; its actions go through the controller too.

    `open_window` and `quit_app` are the callables behind Open and Quit.
    """

    def __init__(self, app: App, controller: SyncController, scheduler: AutoSyncScheduler, *,
                 open_window, quit_app, parent: QObject | None = None) -> None:
        super().__init__(icon("tray-idle"), parent)
        self._app = app
        self._controller = controller
        self._scheduler = scheduler
        self._open_window = open_window
        self._quit_app = quit_app
        self._problems = self._saved_problems()   # connection id → why its last run went wrong
        self.state = "idle"
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self.build_menu)
        self.setContextMenu(self.menu)
        self.activated.connect(self._on_activated)
        controller.running_changed.connect(lambda _running: self._update_icon())
        # A pause or a cancel shows in the tooltip as it is reported.
        controller.run_progressed.connect(lambda *_progressed: self._update_tooltip())
        controller.run_finished.connect(self._on_controller_run_finished)
        # An undone run changes the last sync the tray reports.
        controller.undo_finished.connect(lambda *_finished: self._update_icon())
        self.build_menu()
        self._update_icon()

    def status_line(self) -> str:
        running = self._controller.running_ids()
        if running:
            # The names the jobs started with: no database read while runs report progress.
            syncing = [request.connection.name for cid in running
                       if (request := self._controller.request(cid)) is not None]
            undoing = [undo.connection.name for cid in running
                       if (undo := self._controller.undo_request(cid)) is not None]
            parts = []
            if syncing:
                parts.append(f"Syncing {', '.join(syncing)}")
            if undoing:
                parts.append(f"Undoing a run of {', '.join(undoing)}")
            return "; ".join(parts) + "…"
        connections = self._app.connections.list()
        if self._problems:      # which: the window may not show why after a restart
            return "Needs attention: " + ", ".join(c.name for c in connections
                                                   if c.id in self._problems)
        lasts = [run for c in connections
                 if c.id is not None and (run := self._app.runs.last_sync(c.id)) is not None]
        if not lasts:
            return "No syncs yet"
        newest = max(lasts, key=lambda run: run.started_at)
        return f"Last sync {text.when(newest.started_at, text.local_now())}: " \
               f"{text.run_summary(newest)}"

    def run_notes(self) -> list[str]:
        """What each running sync waits for, or finishes after a cancel, in the window's
        words: "Demo store: Waiting for QuickBooks' limit — resumes in 42 s"."""
        notes = []
        for cid in self._controller.running_ids():
            request = self._controller.request(cid)
            progress = self._controller.progress(cid)
            clock = self._controller.run_clock(cid)
            if request is None or progress is None or clock is None:
                continue
            resumes_in = clock.resumes_in_s(time.monotonic())
            if progress.cancelling:
                notes.append(f"{request.connection.name}: "
                             f"{text.cancelling_line(progress.partly_sent)}")
            elif resumes_in is not None:
                notes.append(f"{request.connection.name}: "
                             f"{pause_line(progress.paused_for, resumes_in)}")
        return notes

    @Slot()
    def build_menu(self) -> None:
        """The menu as things are now (called each time it is about to open)."""
        menu = self.menu
        menu.clear()
        for line in [self.status_line(), *self.run_notes()]:
            menu.addAction(line).setEnabled(False)
        if self._scheduler.paused:
            paused_note = menu.addAction("Automatic sync is paused")
            paused_note.setEnabled(False)
        menu.addSeparator()
        connections = self._app.connections.list()
        sync_all = menu.addAction("Sync all now")
        sync_all.setEnabled(bool(connections))
        sync_all.triggered.connect(self.sync_all)
        one = menu.addMenu("Sync")
        one.setEnabled(bool(connections))
        for connection in connections:
            assert connection.id is not None
            action = one.addAction(connection.name)
            action.setEnabled(not self._controller.is_running(connection.id))
            action.triggered.connect(
                lambda _checked=False, cid=connection.id: self._controller.start(cid))
        if any(self._controller.request(cid) for cid in self._controller.running_ids()):
            cancel = menu.addAction("Cancel syncing")
            cancel.triggered.connect(self._controller.cancel_all)
        menu.addSeparator()
        pause = QAction("Pause automatic sync", menu)
        pause.setCheckable(True)
        pause.setChecked(self._scheduler.paused)
        pause.toggled.connect(self._scheduler.set_paused)
        menu.addAction(pause)
        menu.addSeparator()
        menu.addAction("Open Connex Desktop").triggered.connect(self._open_window)
        menu.addAction("Quit").triggered.connect(self._quit_app)

    def _saved_problems(self) -> dict[int, str]:
        """The problems the app knew of when it last ran, for the connections still there."""
        saved = self._app.settings.get(TRAY_NEEDS_ATTENTION)
        existing = {connection.id for connection in self._app.connections.list()}
        return {cid: why for cid, why in saved.items() if cid in existing}

    def _set_problem(self, connection_id: int, problem: str | None) -> None:
        if problem is None:
            self._problems.pop(connection_id, None)
        else:
            self._problems[connection_id] = problem
        self._app.settings.set(TRAY_NEEDS_ATTENTION, self._problems)

    def sync_all(self) -> dict[int, str | None]:
        """Start every connection that is not running; returns each one's refusal (or None)."""
        return {c.id: self._controller.start(c.id) for c in self._app.connections.list()
                if c.id is not None and not self._controller.is_running(c.id)}

    def _update_icon(self) -> None:
        self.state = ("syncing" if self._controller.running_ids() else
                      "error" if self._problems else "idle")
        self.setIcon(icon(f"tray-{self.state}"))
        self._update_tooltip()

    def _update_tooltip(self) -> None:
        self.setToolTip("\n".join([f"Connex Desktop: {self.status_line()}", *self.run_notes()]))

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self._open_window()

    @Slot(int, object, object)
    def _on_controller_run_finished(self, connection_id: int, result: SyncResult,
                                    request: RunRequest) -> None:
        if request.dry_run:
            return
        name = request.connection.name
        if result.status is RunStatus.CANCELLED:
            # Not every order was tried: what was wrong before may still be, and what failed
            # before the cancel is wrong now.
            if result.failed:
                self._set_problem(connection_id,
                                  f"{text.count_of(result.failed, 'order')} failed")
        elif result.status in PROBLEM_STATUSES:
            problem = result.message or f"{text.count_of(result.failed, 'order')} failed"
            told_before = self._problems.get(connection_id)
            self._set_problem(connection_id, problem)
            # Every plain sync tries the failed orders again: an order nobody has fixed yet
            # fails in each automatic run. Only what went wrong anew is worth a notification.
            new_trouble = (result.new_failures > 0 if result.status is RunStatus.PARTIAL
                           else problem != told_before)
            if request.trigger is RunTrigger.SCHEDULE and new_trouble:
                self.showMessage(f"Automatic sync of {name} needs attention", problem,
                                 QSystemTrayIcon.MessageIcon.Warning, NOTIFICATION_MS)
        else:
            self._set_problem(connection_id, None)
            if (request.trigger is RunTrigger.SCHEDULE and result.synced
                    and self._app.settings.get(NOTIFY_WHEN_ORDERS_BOOKED)):
                self.showMessage(f"{name}: {text.count_of(result.synced, 'order')} booked",
                                 text.counts(result.synced, result.skipped, result.failed),
                                 QSystemTrayIcon.MessageIcon.Information, NOTIFICATION_MS)
        self._update_icon()

