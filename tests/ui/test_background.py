"""Background calls: their outcome reaches the GUI thread, unless their owner is gone."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject
from shiboken6 import Shiboken

from connex_desktop.ui.background import BackgroundCall, run_in_background
from tests.ui.conftest import settle_background_calls


def _call(owner: QObject, heard: list[object]) -> threading.Event:
    release = threading.Event()
    run_in_background(lambda: release.wait(5) and "done", on_success=heard.append,
                      on_failure=heard.append, owner=owner)
    return release


def test_the_answer_reaches_an_owner_still_there(qtbot):
    heard: list[object] = []
    owner = QObject()
    _call(owner, heard).set()
    qtbot.waitUntil(lambda: heard == ["done"])


def test_an_owner_closed_before_the_answer_is_not_called_back(qtbot):
    heard: list[object] = []
    owner = QObject()
    release = _call(owner, heard)
    Shiboken.delete(owner)        # the dialog was closed while its lists were loading
    release.set()
    qtbot.waitUntil(lambda: not BackgroundCall._pending)
    qtbot.wait(50)
    assert heard == []


def test_settling_waits_for_the_calls_that_answers_start(qtbot):
    """What the app fixture does before closing the sandbox and the database: no call is left
    running, not even one started by another's answer (the lists, then the company's kind)."""
    heard: list[object] = []

    def then_the_next(first: object) -> None:
        heard.append(first)
        run_in_background(lambda: time.sleep(0.2) or "second", on_success=heard.append,
                          on_failure=heard.append)

    run_in_background(lambda: "first", on_success=then_the_next, on_failure=heard.append)
    settle_background_calls()
    assert heard == ["first", "second"]
