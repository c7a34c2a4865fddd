"""Automatic sync: a coarse tick asks the pure schedule which connections are due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from connex_desktop.app import App
from connex_desktop.core.app_settings import AUTO_SYNC_PAUSED
from connex_desktop.core.connection import Connection
from connex_desktop.core.result import RunStatus, RunTrigger
from connex_desktop.core.schedule import is_due, next_due
from connex_desktop.ui.controller import SyncController
from connex_desktop.ui.text import local_now

# Coarse on purpose: no long timers to drift or overflow, and a wake from sleep is noticed
# within one tick (the pure schedule catches up the missed run).
TICK_INTERVAL_MS = 30_000
# How far back a connection's history is read to count failures in a row for the back-off.
FAILURE_HISTORY_RUNS = 20


class AutoSyncScheduler(QObject):
    """Starts the due connections' syncs through the controller, as RunTrigger.SCHEDULE.

    Signals:
        paused_changed(bool)
    """

    paused_changed = Signal(bool)

    def __init__(self, app: App, controller: SyncController, *,
                 clock: Callable[[], datetime] = local_now, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._controller = controller
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_INTERVAL_MS)
        self._timer.timeout.connect(self.tick)

    def start(self) -> None:
        """Tick now (catch up what was missed while the app was closed) and then regularly."""
        self._timer.start()
        QTimer.singleShot(0, self.tick)

    def stop(self) -> None:
        self._timer.stop()

    @property
    def paused(self) -> bool:
        return self._app.settings.get(AUTO_SYNC_PAUSED)

    def set_paused(self, paused: bool) -> None:
        self._app.settings.set(AUTO_SYNC_PAUSED, paused)
        self.paused_changed.emit(paused)

    def _history(self, connection: Connection
                 ) -> tuple[datetime | None, RunStatus | None, int, str]:
        """The last real run's start and status, how many runs in a row failed, and what the
        last failure asks of the user (an ErrorKind value; "quota" waits for the next month).

        Previews book nothing, so they neither count as the last run nor as failures.
        """
        assert connection.id is not None
        runs = [run for run in self._app.runs.list(connection.id, limit=FAILURE_HISTORY_RUNS)
                if not run.dry_run and not run.running]
        if not runs:
            return None, None, 0, ""
        failures = 0
        for run in runs:
            if run.status != RunStatus.FAILED.value:
                break
            failures += 1
        return runs[0].started_at, RunStatus(runs[0].status), failures, runs[0].failure_kind

    def next_due(self, connection: Connection, now: datetime | None = None) -> datetime | None:
        """When the connection's next automatic sync is due (None: automatic sync is off)."""
        started, status, failures, kind = self._history(connection)
        return next_due(connection.schedule, started, status, now or self._clock(), failures,
                        kind)

    @Slot()
    def tick(self) -> list[int]:
        """Start every due connection; returns the ids started (for tests and logs)."""
        if self.paused:
            return []
        now = self._clock()
        started = []
        for connection in self._app.connections.list():
            assert connection.id is not None
            # Not connected, or its refresh token refused, a run can only fail: it waits for
            # Connect (or Reconnect) to QuickBooks rather than asking Intuit again and again.
            company = connection.quickbooks
            if (not connection.schedule.enabled or not company.connected
                    or company.needs_reconnect):
                continue
            last_started, status, failures, kind = self._history(connection)
            if not is_due(connection.schedule, last_started, status, now, failures,
                          running=self._controller.is_running(connection.id),
                          last_failure_kind=kind):
                continue
            if self._controller.start(connection.id, trigger=RunTrigger.SCHEDULE) is None:
                started.append(connection.id)
        return started
