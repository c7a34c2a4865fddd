"""The controller and its worker: one run per connection, throttled progress, a live GUI."""

from __future__ import annotations

import time

from PySide6.QtCore import QElapsedTimer, QTimer

from connex_desktop.core.progress import Progress
from connex_desktop.ui.worker import PROGRESS_INTERVAL_S, RunRequest, SyncWorker

FINISH_TIMEOUT_MS = 60_000
HEARTBEAT_MS = 20
# The longest the GUI thread may go without running its timers while a sync is going on.
MAX_GUI_STALL_MS = 300


def test_one_run_per_connection(qtbot, desktop):
    demo = desktop.window.try_demo()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert desktop.controller.start(demo.id) is None
        assert desktop.controller.start(demo.id) == \
            "A sync of this connection is already running."
        assert desktop.controller.running_ids() == [demo.id]
    assert desktop.controller.running_ids() == []
    assert desktop.controller.start(10_000) == "No connection with id 10000."


def test_the_window_stays_responsive_during_a_sync(qtbot, desktop):
    desktop.window.try_demo()
    clock = QElapsedTimer()
    gaps = []
    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)

    def beat():
        gaps.append(clock.restart())

    heartbeat.timeout.connect(beat)
    clock.start()
    heartbeat.start()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        desktop.window.sync_selected()
    heartbeat.stop()
    assert len(gaps) > 10
    assert max(gaps) < MAX_GUI_STALL_MS, gaps


def test_progress_reaches_the_gui_about_ten_times_a_second(qtbot, app):
    demo = app.start_demo(orders=3)
    worker = SyncWorker(app.engine(), RunRequest(demo))
    emitted = []
    worker.progressed.connect(emitted.append)
    started = time.monotonic()
    calls = 0
    while time.monotonic() - started < 0.35:
        worker._on_progress(Progress(fetched=calls))      # the engine's callback, very fast
        calls += 1
    assert calls > 1000
    assert 2 <= len(emitted) <= 0.35 / PROGRESS_INTERVAL_S + 1
    assert emitted[0].fetched == 0
