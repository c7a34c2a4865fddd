"""The controller and its worker: one run per connection, throttled progress, a live GUI."""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
from contextlib import closing, contextmanager

from PySide6.QtCore import QElapsedTimer, QThreadPool, QTimer

from connex_desktop.app import build_app
from connex_desktop.core.progress import Progress
from connex_desktop.core.result import RunStatus
from connex_desktop.core.undo_result import UndoOutcome, UndoStatus
from connex_desktop.storage.database import NOTHING_LOST
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.sync import engine as engine_module
from connex_desktop.sync.undo import RunUndoer
from connex_desktop.ui import controller as controller_module
from connex_desktop.ui.application import Desktop
from connex_desktop.ui.worker import PROGRESS_INTERVAL_S, RunRequest, SyncWorker
from tests.fakes.full_disk import fill_disk_after

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


@contextmanager
def started_again(qtbot, folder, keyring_):
    """The window's app started on `folder` anew: the demo's company is not running yet."""
    app = build_app(str(folder), secrets=keyring_)
    desktop = Desktop(app, tray=False)
    qtbot.addWidget(desktop.window)
    try:
        yield desktop
    finally:
        desktop.shutdown()
        QThreadPool.globalInstance().waitForDone(FINISH_TIMEOUT_MS)
        app.close()


def test_the_demo_undoes_and_syncs_again_after_a_restart(qtbot, tmp_path):
    """The demo's company runs while the app does: the next start's Undo and Sync now start it
    again (they said "QuickBooks must be reached over https…", or found nothing listening)."""
    keyring_ = MemorySecretStore()
    with closing(build_app(str(tmp_path / "data"), secrets=keyring_)) as first:
        demo = first.start_demo(orders=5)
        booked = first.engine().run(demo)
    assert booked.synced > 0
    with started_again(qtbot, tmp_path / "data", keyring_) as desktop:
        with qtbot.waitSignal(desktop.controller.undo_finished,
                              timeout=FINISH_TIMEOUT_MS) as undone:
            assert desktop.controller.start_undo(demo.id, booked.run_id) is None
        assert undone.args[1].status is UndoStatus.UNDONE, undone.args[1].message
    with started_again(qtbot, tmp_path / "data", keyring_) as desktop:
        with qtbot.waitSignal(desktop.controller.run_finished,
                              timeout=FINISH_TIMEOUT_MS) as done:
            assert desktop.controller.start(demo.id) is None
        result = done.args[1]
        assert result.status is RunStatus.SUCCEEDED, result.message
        assert result.synced == booked.synced


def test_a_runs_own_settings_outlast_the_demo_being_started(qtbot, desktop):
    """The sync log's fix books with QuickBooks numbering for that run only: starting the
    demo's company on the way does not bring back the connection's own numbers."""
    demo = desktop.window.try_demo()
    desktop.app.connections.update(dataclasses.replace(demo, prefix="WEB-STORE-ORDER-"))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert desktop.controller.start(demo.id, qb_numbering=True) is None
    result = done.args[1]
    assert result.status is RunStatus.SUCCEEDED and result.failed == 0, result.message


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


def test_collections_during_a_job_leave_the_apps_own_objects_alone(qtbot, desktop,
                                                                  monkeypatch):
    """A full collection holds the GIL for as long as it walks: the window's objects, the
    engine's modules and the like (most of the heap) are left out of it once a job starts."""
    monkeypatch.setattr(controller_module, "_frozen", False)   # as in a new app's process
    demo = desktop.window.try_demo()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert desktop.controller.start(demo.id) is None
    walked = {id(thing) for thing in gc.get_objects()}
    assert id(desktop.app) not in walked and id(desktop.window.model) not in walked
    assert id(vars(engine_module)) not in walked


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


def test_a_connection_has_one_job_a_sync_or_an_undo(qtbot, desktop, monkeypatch):
    demo = desktop.window.try_demo()
    controller = desktop.controller
    with qtbot.waitSignal(controller.run_finished, timeout=FINISH_TIMEOUT_MS) as synced:
        assert controller.start(demo.id) is None
    booked = synced.args[1]
    assert booked.documents
    # The undo waits on the worker thread until the test has tried everything else.
    release = threading.Event()
    real_undo = RunUndoer.undo

    def undo_when_released(self, run_id, *, dry_run=False):
        assert release.wait(FINISH_TIMEOUT_MS / 1000)
        return real_undo(self, run_id, dry_run=dry_run)

    monkeypatch.setattr(RunUndoer, "undo", undo_when_released)
    try:
        assert controller.start_undo(demo.id, booked.run_id) is None
        refusal = "A run of this connection is being undone; sync it once that has finished."
        assert controller.start(demo.id) == refusal
        assert desktop.window.sync_selected() == refusal
        assert not desktop.window.sync_action.isEnabled()
        assert not desktop.window.cancel_action.isEnabled()
        assert controller.cancel(demo.id) is False
        assert desktop.tray.sync_all() == {}
        assert desktop.tray.status_line() == "Undoing a run of Demo store…"
        assert controller.start_undo(demo.id, booked.run_id) == \
            "A run of this connection is being undone already."
    finally:
        release.set()
    with qtbot.waitSignal(controller.undo_finished, timeout=FINISH_TIMEOUT_MS) as undone:
        pass
    connection_id, result, request = undone.args
    assert (connection_id, request.run_id, request.dry_run) == (demo.id, booked.run_id, False)
    assert result.status is UndoStatus.UNDONE
    assert result.count(UndoOutcome.DELETED) == len(booked.documents)
    assert controller.running_ids() == []

    # And the other way round: no undo while the connection syncs.
    with qtbot.waitSignal(controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert controller.start(demo.id) is None
        assert controller.start_undo(demo.id, booked.run_id) == \
            "A sync of this connection is running; undo the run once it has finished."


def test_a_full_disk_says_in_the_window_what_the_command_line_says(qtbot, app, monkeypatch):
    demo = app.start_demo(orders=3)
    fill_disk_after(monkeypatch, spare_pages=0)
    worker = SyncWorker(app.engine(), RunRequest(demo))
    run = threading.Thread(target=worker.run)   # a new thread: a new, limited connection
    with qtbot.waitSignal(worker.finished, timeout=FINISH_TIMEOUT_MS) as finished:
        run.start()
    run.join()
    (result,) = finished.args
    assert result.status.value == "failed"
    assert result.message.startswith(f"The disk holding Connex Desktop's data folder "
                                     f"({app.paths.data}) is full")
    assert NOTHING_LOST in result.message and "unexpectedly" not in result.message
