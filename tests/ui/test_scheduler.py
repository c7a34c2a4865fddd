"""The automatic-sync tick with a fake clock: due runs start, others wait, none twice."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from connex_desktop.connections import QUICKBOOKS_SECRETS, quickbooks_key_prefix
from connex_desktop.core.connection import QuickBooksCompany, Schedule
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.result import RunStatus, RunTrigger, SyncResult
from connex_desktop.core.schedule import reads_allowed_again
from connex_desktop.quickbooks.auth import ACCESS_TOKEN, REFRESH_TOKEN
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from connex_desktop.ui import text
from connex_desktop.ui.scheduler import TICK_INTERVAL_MS, AutoSyncScheduler
from connex_desktop.ui.text import local_now

FINISH_TIMEOUT_MS = 60_000


class FakeClock:
    def __init__(self):
        self.now = local_now()

    def __call__(self):
        return self.now


def scheduled_demo(desktop, schedule):
    demo = desktop.window.try_demo()
    return desktop.app.connections.update(dataclasses.replace(demo, schedule=schedule))


def test_due_connections_start_once_and_wait_for_their_next_turn(qtbot, desktop):
    clock = FakeClock()
    scheduler = AutoSyncScheduler(desktop.app, desktop.controller, clock=clock)
    demo = scheduled_demo(desktop, Schedule(every_minutes=15))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert scheduler.tick() == [demo.id]        # never ran: due at once
        assert scheduler.tick() == []               # running: not started twice
    assert done.args[2].trigger is RunTrigger.SCHEDULE
    run = desktop.app.runs.last(demo.id)
    assert run.trigger is RunTrigger.SCHEDULE
    clock.now = run.started_at.astimezone() + timedelta(minutes=14)
    assert scheduler.tick() == []
    assert scheduler.next_due(demo) == run.started_at + timedelta(minutes=15)
    clock.now += timedelta(hours=8)                 # the laptop slept: one catch-up run
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert scheduler.tick() == [demo.id]
    # The run's start is recorded by the real clock: just after it, nothing is due.
    clock.now = desktop.app.runs.last(demo.id).started_at.astimezone() + timedelta(minutes=1)
    assert scheduler.tick() == []


def test_paused_or_off_connections_are_left_alone(qtbot, desktop):
    clock = FakeClock()
    scheduler = AutoSyncScheduler(desktop.app, desktop.controller, clock=clock)
    demo = scheduled_demo(desktop, Schedule())
    assert scheduler.tick() == []
    assert desktop.window.model.index(0, 6).data() == "Off"
    desktop.app.connections.update(dataclasses.replace(demo, schedule=Schedule(every_minutes=5)))
    desktop.scheduler.set_paused(True)
    assert scheduler.paused
    assert scheduler.tick() == []
    assert desktop.window.model.index(0, 6).data() == "Paused"
    desktop.scheduler.set_paused(False)
    assert desktop.window.model.index(0, 6).data() == "Due now"


def test_failures_back_off(qtbot, desktop):
    clock = FakeClock()
    scheduler = AutoSyncScheduler(desktop.app, desktop.controller, clock=clock)
    demo = desktop.window.try_demo()
    # A copy has the company but none of its tokens: each run fails, asking to reconnect.
    copy = desktop.app.connections.duplicate(demo.name, "Second shop")
    copy = desktop.app.connections.update(dataclasses.replace(
        copy, schedule=Schedule(every_minutes=15)))
    for failures in (1, 2):
        with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
            assert scheduler.tick() == [copy.id]
        run = desktop.app.runs.last(copy.id)
        assert run.status == "failed"                  # recorded: the schedule backs off
        wait = scheduler.next_due(copy) - run.started_at
        assert wait == timedelta(minutes=15 * 2 ** failures)
        clock.now = run.started_at.astimezone() + wait


def test_the_tick_is_coarse(desktop):
    desktop.scheduler.start()
    assert desktop.scheduler._timer.interval() == TICK_INTERVAL_MS >= 10_000
    desktop.scheduler.stop()


def test_a_connection_not_connected_to_quickbooks_waits_for_it(qtbot, desktop):
    clock = FakeClock()
    scheduler = AutoSyncScheduler(desktop.app, desktop.controller, clock=clock)
    demo = scheduled_demo(desktop, Schedule(every_minutes=15))
    desktop.app.connections.update(dataclasses.replace(demo, quickbooks=QuickBooksCompany()))
    desktop.window.reload()
    assert scheduler.tick() == []
    assert desktop.app.runs.last(demo.id) is None          # no run that could only fail
    assert desktop.window.model.index(0, 6).data() == "Connect to QuickBooks first"
    desktop.app.connections.update(demo)                    # connected again: due at once
    desktop.window.reload()
    assert desktop.window.model.index(0, 6).data() == "Due now"
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert scheduler.tick() == [demo.id]


def test_used_up_reads_hold_automatic_syncs_until_the_next_month(qtbot, desktop):
    clock = FakeClock()
    scheduler = AutoSyncScheduler(desktop.app, desktop.controller, clock=clock)
    demo = scheduled_demo(desktop, Schedule(every_minutes=15))
    runs = desktop.app.runs
    run_id = runs.start(demo.id, "schedule")
    runs.finish(run_id, SyncResult(demo.name, run_id, RunStatus.FAILED, message="reads used up",
                                   failure_kind=ErrorKind.QUOTA))
    failed_at = runs.get(run_id).started_at
    resumes = reads_allowed_again(failed_at)
    assert scheduler.next_due(demo) == resumes
    clock.now = failed_at.astimezone() + timedelta(days=1)
    assert scheduler.tick() == []
    clock.now = resumes.astimezone()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert scheduler.tick() == [demo.id]


def saved_tokens(desktop, connection) -> MemorySecretStore:
    """A copy of the connection's working tokens, as a new sign-in would hand them over."""
    secrets, prefix = desktop.app.secrets_for(connection), quickbooks_key_prefix(connection.id)
    copy = MemorySecretStore()
    for name in QUICKBOOKS_SECRETS:
        copy.set(f"{prefix}/{name}", secrets.get(f"{prefix}/{name}") or "")
    return copy


def test_a_refused_refresh_token_stops_automatic_syncs_until_reconnected(qtbot, desktop):
    clock = FakeClock()
    scheduler = AutoSyncScheduler(desktop.app, desktop.controller, clock=clock)
    demo = scheduled_demo(desktop, Schedule(every_minutes=15))
    signed_in = saved_tokens(desktop, demo)
    secrets, prefix = desktop.app.secrets_for(demo), quickbooks_key_prefix(demo.id)
    secrets.set(f"{prefix}/{ACCESS_TOKEN}", "expired-access")
    secrets.set(f"{prefix}/{REFRESH_TOKEN}", "revoked-refresh")   # QuickBooks: invalid_grant
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        assert scheduler.tick() == [demo.id]
    failed = desktop.app.runs.last(demo.id)
    assert failed.failure_kind == ErrorKind.RECONNECT.value
    assert failed.message.startswith("Reconnect to QuickBooks: the saved authorisation")
    assert desktop.app.connections.get_by_id(demo.id).quickbooks.needs_reconnect
    for later in (timedelta(minutes=30), timedelta(hours=7), timedelta(days=30)):
        clock.now = failed.started_at.astimezone() + later
        assert scheduler.tick() == []                  # no run that could only fail again
    assert len(desktop.app.runs.list(demo.id)) == 1
    desktop.window.reload(select_id=demo.id)
    assert desktop.window.model.index(0, 6).data() == "Reconnect to QuickBooks first"
    assert desktop.window.connect_action.text() == "Reconnect to QuickBooks…"

    desktop.app.connection_service().connect_quickbooks(demo, demo.quickbooks, signed_in)
    assert not desktop.app.connections.get_by_id(demo.id).quickbooks.needs_reconnect
    desktop.window.reload(select_id=demo.id)
    assert desktop.window.connect_action.text() == "Connect to QuickBooks…"
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        assert scheduler.tick() == [demo.id]           # the back-off is not waited out
    assert done.args[1].status is RunStatus.SUCCEEDED


def test_the_window_asks_to_reconnect_a_month_before_the_authorisation_ends(
        qtbot, desktop, monkeypatch):
    demo = desktop.window.try_demo()
    demo = desktop.app.connection_service().connect_quickbooks(
        demo, demo.quickbooks, saved_tokens(desktop, demo))     # signed in now
    ends = datetime.fromisoformat(demo.quickbooks.signed_in_at).astimezone()
    ends = ends.replace(year=ends.year + 5)
    for days_left, note in ((31, ""), (29, f": Reconnect to QuickBooks before {ends.day} "
                                          f"{ends.strftime('%b %Y')}")):
        monkeypatch.setattr(text, "local_now", lambda days=days_left: ends - timedelta(days))
        desktop.window.reload(select_id=demo.id)
        assert desktop.window.model.index(0, 2).data() == demo.quickbooks.company_name + note
        assert desktop.window.connect_action.text() == (
            "Reconnect to QuickBooks…" if note else "Connect to QuickBooks…")
