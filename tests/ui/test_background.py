"""Background calls: their answers reach the GUI thread, unless no one is left to tell."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtWidgets import QLabel

from connex_desktop.ui.background import BackgroundCall, run_in_background


def test_an_answer_for_a_widget_already_deleted_is_dropped(qtbot):
    """A dialog closed (and deleted) before its lists arrive: nothing raises."""
    kept, closed = QLabel(), QLabel()
    qtbot.addWidget(kept)
    release = threading.Event()

    def late() -> str:
        release.wait(10)
        return "Company: United States"

    calls = [run_in_background(late, on_success=label.setText, on_failure=label.setText)
             for label in (kept, closed)]
    shiboken6.delete(closed)
    release.set()
    qtbot.waitUntil(lambda: not set(calls) & BackgroundCall._pending, timeout=10_000)
    assert kept.text() == "Company: United States"
