"""The tray: its menu as rebuilt when opened, its actions, its icon state and notifications."""

from __future__ import annotations

import dataclasses

import pytest

FINISH_TIMEOUT_MS = 60_000


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
    assert menu_texts(tray.menu)[0] == "Needs attention: 1 connection(s)"
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
    assert desktop.app.settings.get("auto_sync_paused") == "1"
    tray.build_menu()
    assert action(tray.menu, "Pause automatic sync").isChecked()
    assert "Automatic sync is paused" in menu_texts(tray.menu)
    assert desktop.scheduler.tick() == []


def test_a_failed_automatic_sync_notifies_and_turns_the_icon_red(qtbot, desktop, notifications):
    app, tray, shown = desktop.app, desktop.tray, notifications
    demo = desktop.window.try_demo()
    app.connections.update(dataclasses.replace(demo, prefix="WEB-STORE-ORDER-"))
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS):
        desktop.controller.start(demo.id, trigger="schedule")
    assert tray.state == "error"
    assert shown and shown[0][0] == "Automatic sync of Demo store needs attention"
    assert "failed" in shown[0][1]


def test_booked_orders_are_announced_only_when_asked_for(qtbot, desktop, notifications):
    app, tray, shown = desktop.app, desktop.tray, notifications
    demo = desktop.window.try_demo()
    app.settings.set("notify_when_orders_booked", "1")
    with qtbot.waitSignal(desktop.controller.run_finished, timeout=FINISH_TIMEOUT_MS) as done:
        desktop.controller.start(demo.id, trigger="schedule")
    booked = done.args[1].synced
    assert tray.state == "idle"
    assert shown == [(f"Demo store: {booked} order(s) booked",
                      f"{booked} booked, {done.args[1].skipped} skipped")]


def test_open_shows_the_window(qtbot, desktop):
    window = desktop.window
    window.hide()
    desktop.tray.build_menu()
    action(desktop.tray.menu, "Open Connex Desktop").trigger()
    assert window.isVisible()
