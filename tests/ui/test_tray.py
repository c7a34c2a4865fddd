"""The tray: its menu as rebuilt when opened, its actions, its icon state and notifications."""

from __future__ import annotations

import dataclasses

import pytest

from connex_desktop.core.app_settings import AUTO_SYNC_PAUSED, NOTIFY_WHEN_ORDERS_BOOKED
from connex_desktop.core.connection import MissingItemPolicy, QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus, RunTrigger
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.ui.tray import TrayIcon
from tests.sync.conftest import connect, row, write_orders

FINISH_TIMEOUT_MS = 60_000
KNOWN_SKU = "MUG-ENM-12"     # in the sandbox's catalogue


@pytest.fixture
def notifications(desktop, monkeypatch):
    """The (title, message) of each tray notification, in order, instead of showing it."""
    shown = []
    monkeypatch.setattr(desktop.tray, "showMessage", lambda title, message, *rest: shown.append(
        (title, message)))
    return shown


def menu_texts(menu):
    return [action.text() for action in menu.actions() if not action.isSeparator()]


def action(menu, text):
    return next(a for a in menu.actions() if a.text() == text)


def test_menu_with_no_connections(desktop):
    tray = desktop.tray
    tray.build_menu()
    assert menu_texts(tray.menu) == ["No syncs yet", "Sync all now", "Sync",
                                     "Pause automatic sync", "Open Connex Desktop", "Quit"]
    assert not action(tray.menu, "No syncs yet").isEnabled()
    assert not action(tray.menu, "Sync all now").isEnabled()
    assert tray.state == "idle"


def test_sync_all_runs_every_connection_and_the_menu_follows(qtbot, desktop):
    app, tray = desktop.app, desktop.tray
    demo = desktop.window.try_demo()
    other = app.connections.duplicate(demo.name, "Second shop")   # no tokens of its own
    tray.menu.aboutToShow.emit()
    submenu = action(tray.menu, "Sync").menu()
    assert menu_texts(submenu) == ["Demo store", "Second shop"]
    results = {}
    desktop.controller.run_finished.connect(
        lambda cid, result, _request: results.__setitem__(cid, result))
    action(tray.menu, "Sync all now").trigger()
    assert desktop.controller.running_ids() == [demo.id, other.id]
    assert tray.state == "syncing"
    tray.menu.aboutToShow.emit()                    # rebuilt while syncing
    texts = menu_texts(tray.menu)
    assert texts[0] == "Syncing Demo store, Second shop…"
    assert "Cancel syncing" in texts
    assert not action(tray.menu, "Sync").menu().actions()[0].isEnabled()
    qtbot.waitUntil(lambda: len(results) == 2, timeout=FINISH_TIMEOUT_MS)
    assert results[demo.id].synced > 0
    assert results[other.id].message.startswith("Reconnect to QuickBooks")
    tray.menu.aboutToShow.emit()
    assert menu_texts(tray.menu)[0] == "Needs attention: Second shop"
    assert tray.state == "error"
    assert "Cancel syncing" not in menu_texts(tray.menu)


def test_cancel_from_the_tray_stops_the_runs(qtbot, desktop):
    desktop.window.try_demo()
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.tray.sync_all()
        desktop.tray.build_menu()
        action(desktop.tray.menu, "Cancel syncing").trigger()
    assert done.args[1].status.value == "cancelled"


def test_pause_automatic_sync_is_remembered(qtbot, desktop):
    tray = desktop.tray
    tray.build_menu()
    action(tray.menu, "Pause automatic sync").trigger()
    assert desktop.scheduler.paused
    assert desktop.app.settings.get(AUTO_SYNC_PAUSED) is True
    tray.build_menu()
    assert action(tray.menu, "Pause automatic sync").isChecked()
    assert "Automatic sync is paused" in menu_texts(tray.menu)
    assert desktop.scheduler.tick() == []


def test_a_failed_automatic_sync_notifies_and_turns_the_icon_red(qtbot, desktop, notifications):
    app, tray, shown = desktop.app, desktop.tray, notifications
    demo = desktop.window.try_demo()
    app.connections.update(dataclasses.replace(demo, prefix="WEB-STORE-ORDER-"))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        desktop.controller.start(demo.id, trigger=RunTrigger.SCHEDULE)
    assert tray.state == "error"
    assert shown and shown[0][0] == "Automatic sync of Demo store needs attention"
    assert "failed" in shown[0][1]
    # The next automatic run tries those orders again; they fail as before, which was told
    # already: the icon stays red, quietly.
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as again:
        desktop.controller.start(demo.id, trigger=RunTrigger.SCHEDULE)
    assert again.args[1].status is RunStatus.PARTIAL and again.args[1].failed
    assert tray.state == "error" and len(shown) == 1


def test_a_whole_run_failure_notifies_once_until_it_changes(qtbot, desktop, notifications):
    app, tray, shown = desktop.app, desktop.tray, notifications
    demo = desktop.window.try_demo()
    other = app.connections.duplicate(demo.name, "Second shop")   # no tokens of its own
    for _run in range(2):
        with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
            desktop.controller.start(other.id, trigger=RunTrigger.SCHEDULE)
        assert done.args[1].status is RunStatus.FAILED
    assert len(shown) == 1 and shown[0][0] == "Automatic sync of Second shop needs attention"
    assert shown[0][1].startswith("Reconnect to QuickBooks")
    assert tray.state == "error"


def test_automatic_syncs_notify_orders_failing_for_the_first_time_only(
        qtbot, desktop, notifications, tmp_path):
    app, tray, shown = desktop.app, desktop.tray, notifications
    orders = tmp_path / "orders.csv"

    def automatic_sync():
        with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
            desktop.controller.start(shop.id, trigger=RunTrigger.SCHEDULE)
        return done.args[1]

    with SandboxServer() as sandbox:
        shop = connect(app, sandbox, "Shop", TransactionMode.INVOICES,
                       write_orders(orders, [row("7001", KNOWN_SKU), row("7002", "NO-SUCH-SKU")]),
                       mapping=QuickBooksMapping(missing_items=MissingItemPolicy.FAIL))
        first = automatic_sync()
        assert (first.status, first.synced, first.failed) == (RunStatus.PARTIAL, 1, 1)
        assert len(shown) == 1 and shown[0][0] == "Automatic sync of Shop needs attention"
        assert tray.state == "error"

        # Nobody fixed 7002: each automatic run tries it again, fails, and says nothing new.
        for _run in range(2):
            again = automatic_sync()
            assert (again.status, again.failed) == (RunStatus.PARTIAL, 1)
        assert len(shown) == 1
        assert tray.state == "error"        # the failure is still there to see

        write_orders(orders, [row("7001", KNOWN_SKU), row("7002", "NO-SUCH-SKU"),
                              row("7003", "ANOTHER-UNKNOWN-SKU")])
        worse = automatic_sync()
        assert (worse.status, worse.failed) == (RunStatus.PARTIAL, 2)
        assert len(shown) == 2 and "1 order failed for the first time" in shown[1][1]
        assert tray.state == "error"


def test_booked_orders_are_announced_only_when_asked_for(qtbot, desktop, notifications):
    app, tray, shown = desktop.app, desktop.tray, notifications
    demo = desktop.window.try_demo()
    app.settings.set(NOTIFY_WHEN_ORDERS_BOOKED, True)
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.controller.start(demo.id, trigger=RunTrigger.SCHEDULE)
    booked = done.args[1].synced
    assert tray.state == "idle"
    assert shown == [(f"Demo store: {booked} orders booked",
                      f"{booked} booked, {done.args[1].skipped} skipped")]


def test_open_shows_the_window(qtbot, desktop):
    window = desktop.window
    window.hide()
    desktop.tray.build_menu()
    action(desktop.tray.menu, "Open Connex Desktop").trigger()
    assert window.isVisible()


def test_needs_attention_outlives_a_cancelled_run_and_a_restart(qtbot, desktop):
    app, tray = desktop.app, desktop.tray
    demo = desktop.window.try_demo()
    app.connections.update(dataclasses.replace(demo, prefix="WEB-STORE-ORDER-"))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.controller.start(demo.id, trigger=RunTrigger.SCHEDULE)
    assert done.args[1].status is RunStatus.PARTIAL and tray.state == "error"
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        tray.sync_all()
        desktop.controller.cancel(demo.id)
    assert done.args[1].status is RunStatus.CANCELLED
    assert tray.state == "error"                    # the failed orders are still there

    def restarted_tray():
        again = TrayIcon(app, desktop.controller, desktop.scheduler, open_window=lambda: None,
                         quit_app=lambda: None)
        again.build_menu()
        return again

    after_restart = restarted_tray()
    assert after_restart.state == "error"
    assert menu_texts(after_restart.menu)[0] == "Needs attention: Demo store"
    app.connections.update(dataclasses.replace(demo, use_qb_numbering=True))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.controller.start(demo.id)           # fixed: every order books
    assert done.args[1].status is RunStatus.SUCCEEDED and tray.state == "idle"
    assert restarted_tray().state == "idle"
