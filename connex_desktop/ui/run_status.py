"""The line under the connections: the selected one's running sync or undo, or its last result."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from connex_desktop.core.progress import Progress, RunClock, pause_line
from connex_desktop.ui import text
from connex_desktop.ui.worker import RunRequest, UndoRequest

PROGRESS_BAR_WIDTH_PX = 280
TICK_MS = 1_000     # the countdown of a pause, and the estimate of the time left, move on


class RunStatusRow(QWidget):
    """A selectable line of text and a progress bar, hidden when nothing runs.

    A run's bar counts to a total only when the store counted its orders (or all are fetched);
    until then it is a busy bar beside the counts. `now` is the steady clock the run's
    RunClock goes by.
    """

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.now = now
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Sync progress")
        self.bar.setTextVisible(True)
        self.bar.setFixedWidth(PROGRESS_BAR_WIDTH_PX)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.bar)
        self._shown: tuple[RunRequest, Progress, RunClock | None] | None = None
        self._ticker = QTimer(self)
        self._ticker.setInterval(TICK_MS)
        self._ticker.timeout.connect(self.tick)

    def show_text(self, line: str) -> None:
        """Nothing running: just the line (the last result, or why it cannot sync)."""
        self._stop_ticking()
        self.bar.hide()
        self.label.setText(line)

    def show_undo(self, undo: UndoRequest) -> None:
        self._stop_ticking()
        self.bar.show()
        self.bar.setRange(0, 0)      # busy: an undo reports no progress
        self.label.setText(
            f"{'Checking what undoing' if undo.dry_run else 'Undoing'} run #{undo.run_id} "
            f"of {undo.connection.name}{' would delete' if undo.dry_run else ''}…")

    def show_progress(self, request: RunRequest, progress: Progress,
                      clock: RunClock | None = None) -> None:
        self._shown = (request, progress, clock)
        if not self._ticker.isActive():
            self._ticker.start()
        self.bar.show()
        done = progress.done
        if progress.total:
            self.bar.setRange(0, progress.total)
            self.bar.setValue(min(done, progress.total))
            self.bar.setFormat(f"{done} of {progress.total} orders")
        else:
            self.bar.setRange(0, 0)      # busy: the store has not said how many there are
        self.label.setText(self._line(request, progress, clock))

    def tick(self) -> None:
        """Count the pause down, and bring the estimate up to date, between reports."""
        if self._shown is not None:
            request, progress, clock = self._shown
            self.label.setText(self._line(request, progress, clock))

    def _line(self, request: RunRequest, progress: Progress, clock: RunClock | None) -> str:
        if progress.cancelling:
            return text.cancelling_line(progress.partly_sent)
        verb = "Previewing" if request.dry_run else "Syncing"
        now = self.now()
        resumes_in = (clock.resumes_in_s(now) if clock is not None
                      else progress.pause_s or None)
        if resumes_in is not None:
            return f"{verb} {request.connection.name}: " + pause_line(
                progress.paused_for, resumes_in)
        line = f"{verb} {request.connection.name}: " + text.progress_line(
            progress, dry_run=request.dry_run)
        left = clock.time_left_s(progress, now) if clock is not None else None
        return line if left is None else f"{line} · {text.time_left(left)}"

    def _stop_ticking(self) -> None:
        self._shown = None
        self._ticker.stop()
