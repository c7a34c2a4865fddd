"""The line under the connections: the selected one's running sync or undo, or its last result."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from connex_desktop.core.progress import Progress
from connex_desktop.ui import text
from connex_desktop.ui.worker import RunRequest, UndoRequest

PROGRESS_BAR_WIDTH_PX = 280


class RunStatusRow(QWidget):
    """A selectable line of text and a progress bar, hidden when nothing runs."""

    def __init__(self) -> None:
        super().__init__()
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

    def show_text(self, line: str) -> None:
        """Nothing running: just the line (the last result, or why it cannot sync)."""
        self.bar.hide()
        self.label.setText(line)

    def show_undo(self, undo: UndoRequest) -> None:
        self.bar.show()
        self.bar.setRange(0, 0)      # busy: an undo reports no progress
        self.label.setText(
            f"{'Checking what undoing' if undo.dry_run else 'Undoing'} run #{undo.run_id} "
            f"of {undo.connection.name}{' would delete' if undo.dry_run else ''}…")

    def show_progress(self, request: RunRequest, progress: Progress) -> None:
        done = progress.booked + progress.skipped + progress.failed
        self.bar.show()
        if progress.fetched:
            self.bar.setRange(0, progress.fetched)
            self.bar.setValue(min(done, progress.fetched))
            self.bar.setFormat(f"{done} of {progress.fetched} orders")
        else:
            self.bar.setRange(0, 0)      # busy until the first orders arrive
        verb = "Previewing" if request.dry_run else "Syncing"
        self.label.setText(
            f"{verb} {request.connection.name}: "
            f"{text.progress_line(progress, dry_run=request.dry_run)}")
