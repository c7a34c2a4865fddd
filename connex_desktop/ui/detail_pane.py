"""The selected connection at a glance: health, failures to fix, recent runs, quick actions."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QResizeEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.connection_overview import ConnectionOverview, Tone, health, read_overview
from connex_desktop.storage.repositories import RunRecord
from connex_desktop.ui import text
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.colors import hint_style
from connex_desktop.ui.connections_model import ConnectionRow

# Text and background of the health badge by tone; each pair reads at 4.5:1 or better on any
# palette, since the badge paints its own background.
BADGE_COLORS = {
    Tone.GOOD: ("#14532d", "#dcf3e3"),
    Tone.QUIET: ("#1f2937", "#e5e7eb"),
    Tone.ATTENTION: ("#6b3f00", "#fdecc8"),
    Tone.PROBLEM: ("#8c1d18", "#fbe0de"),
}
FAILURES_SHOWN = 5
PANE_MIN_WIDTH_PX = 300
# Narrower than this, the pane goes under the list instead of beside it.
SIDE_BY_SIDE_MIN_WIDTH_PX = 1080
# The list's share of the length: beside the pane it takes most; above it, half.
LIST_SHARE = {Qt.Orientation.Horizontal: 0.75, Qt.Orientation.Vertical: 0.5}


class ListAndPane(QSplitter):
    """The list with the pane beside it on a wide window, under it on a narrow one."""

    def __init__(self, connections: QWidget, pane: QWidget) -> None:
        super().__init__()
        self.setChildrenCollapsible(False)
        self.addWidget(connections)
        self.addWidget(pane)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        wide = event.size().width() >= SIDE_BY_SIDE_MIN_WIDTH_PX
        orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if orientation != self.orientation() or event.oldSize().isEmpty():
            self.setOrientation(orientation)
            length = event.size().width() if wide else event.size().height()
            listed = int(length * LIST_SHARE[orientation])
            self.setSizes([listed, length - listed])


def _heading(words: str) -> QLabel:
    heading = QLabel(f"<b>{escape(words)}</b>")
    heading.setContentsMargins(0, 8, 0, 0)
    return heading


def _wrapping(label: QLabel) -> QLabel:
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class DetailPane(QScrollArea):
    """What the window's selection needs now; the database is read off the GUI thread. It
    scrolls, rather than push the window past a small screen."""

    def __init__(self, app: App, quick_actions: Sequence[QAction]) -> None:
        super().__init__()
        self._app = app
        self._reads = 0     # a newer selection's read makes an older one's answer stale
        self.connection_id: int | None = None
        self.overview: ConnectionOverview | None = None    # None while it is being read
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(PANE_MIN_WIDTH_PX)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Selected connection")
        self.title = _wrapping(QLabel())
        self.store = _wrapping(QLabel())
        self.store.setStyleSheet(hint_style())
        self.badge = QLabel()
        self.badge.setAccessibleName("Health")
        self.last_sync, self.next_sync = _wrapping(QLabel()), _wrapping(QLabel())
        self.failures = _wrapping(QLabel())
        self.failures.setTextFormat(Qt.TextFormat.RichText)
        self.recent_runs = _wrapping(QLabel())
        self.recent_runs.setTextFormat(Qt.TextFormat.RichText)
        self.buttons = self._buttons(quick_actions)

        when = QFormLayout()
        when.addRow("Last sync:", self.last_sync)
        when.addRow("Next sync:", self.next_sync)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.title)    # across the pane: a long name wraps, shown whole
        layout.addWidget(self.store)
        layout.addWidget(self.badge, 0, Qt.AlignmentFlag.AlignLeft)   # its colour hugs its words
        layout.addLayout(when)
        layout.addWidget(self.buttons)
        self.failures_heading = _heading("Needs attention")
        for widget in (self.failures_heading, self.failures, _heading("Recent runs"),
                       self.recent_runs):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setWidget(body)

    @staticmethod
    def _buttons(actions: Sequence[QAction]) -> QWidget:
        """The actions as buttons in two columns; each follows its action's enabled state."""
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 4, 0, 0)
        for position, action in enumerate(actions):
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            grid.addWidget(button, position // 2, position % 2)
        return box

    def show_row(self, row: ConnectionRow | None, next_sync: str) -> None:
        """Show the connection of `row` (None: nothing selected) and read its runs."""
        self._reads += 1
        self.overview = None    # until the read below comes back
        self.setVisible(row is not None)
        if row is None:
            self.connection_id = None
            return
        self.connection_id = row.connection.id
        self.title.setText(f"<span style='font-size: large'><b>"
                           f"{escape(row.connection.name)}</b></span>")
        self.store.setText(row.store)
        self.next_sync.setText(next_sync)
        runs, connection_id, ticket = self._app.runs, row.connection.id, self._reads
        assert connection_id is not None
        run_in_background(lambda: read_overview(runs, connection_id),
                          on_success=lambda overview: self._show_overview(row, overview, ticket),
                          on_failure=lambda error: self._show_unreadable(error, ticket))

    def _show_overview(self, row: ConnectionRow, overview: ConnectionOverview,
                       ticket: int) -> None:
        if ticket != self._reads:
            return
        self.overview = overview
        state = health(row.connection, overview, needs_reconnect=row.needs_reconnect,
                       running=row.progress is not None, previewing=row.dry_run)
        foreground, background = BADGE_COLORS[state.tone]
        self.badge.setText(state.words)
        self.badge.setStyleSheet(f"color: {foreground}; background: {background}; "
                                 "border-radius: 4px; padding: 2px 8px; font-weight: bold;")
        now = text.local_now()
        last = overview.last_sync
        self.last_sync.setText("Never" if last is None else
                               f"{text.when(last.started_at, now)}: {text.run_summary(last)}")
        self._show_failures(overview)
        self.recent_runs.setText("<br>".join(_run_line(run) for run in overview.recent_runs)
                                 or "None yet.")

    def _show_failures(self, overview: ConnectionOverview) -> None:
        failures = overview.failures
        self.failures_heading.setVisible(bool(failures))
        self.failures.setVisible(bool(failures))
        lines = [f"<b>{escape(order.order_number)}</b>: {escape(order.message)}"
                 for order in failures[:FAILURES_SHOWN]]
        if len(failures) > FAILURES_SHOWN:
            lines.append(f"and {len(failures) - FAILURES_SHOWN} more: open the sync log.")
        self.failures.setText("<br>".join(lines))

    def _show_unreadable(self, error: Exception, ticket: int) -> None:
        if ticket == self._reads:
            self.recent_runs.setText(f"The runs could not be read: {escape(str(error))}")


def _run_line(run: RunRecord) -> str:
    return escape(f"{text.when(run.started_at, text.local_now())}: {text.run_summary(run)}")
