"""The Configure dialog's Automatic sync tab: off, every so many minutes or hours, or daily."""

from __future__ import annotations

from PySide6.QtCore import QTime
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.core.connection import Schedule
from connex_desktop.core.schedule import parse_daily_at
from connex_desktop.ui.configure.form import FieldRows

SCHEDULE_UNITS = (("minutes", 1), ("hours", 60))
SCHEDULE_KEY = "schedule"


class ScheduleTab(QWidget):
    """When the connection syncs by itself; changing an interval or a time chooses it."""

    def __init__(self, rows: FieldRows) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.schedule_off = QRadioButton("Off: sync only when I press Sync now")
        self.schedule_every = QRadioButton("Every")
        self.schedule_daily = QRadioButton("Every day at")
        self.schedule_group = QButtonGroup(self)
        for button in (self.schedule_off, self.schedule_every, self.schedule_daily):
            self.schedule_group.addButton(button)
        self.every_count = QSpinBox()
        self.every_count.setRange(1, 999)
        self.every_unit = QComboBox()
        for label, minutes in SCHEDULE_UNITS:
            self.every_unit.addItem(label, minutes)
        self.daily_time = QTimeEdit()
        self.daily_time.setDisplayFormat("HH:mm")
        # Named for screen readers as their radio button reads with them.
        self.every_count.setAccessibleName("Sync every (number)")
        self.every_unit.setAccessibleName("Sync every (unit)")
        self.daily_time.setAccessibleName("Sync every day at")
        # Changing an interval or a time chooses it.
        self.every_count.valueChanged.connect(lambda _v: self.schedule_every.setChecked(True))
        self.every_unit.currentIndexChanged.connect(
            lambda _i: self.schedule_every.setChecked(True))
        self.daily_time.timeChanged.connect(lambda _t: self.schedule_daily.setChecked(True))
        layout.addWidget(self.schedule_off)
        layout.addLayout(_row(self.schedule_every, self.every_count, self.every_unit))
        layout.addLayout(_row(self.schedule_daily, self.daily_time))
        layout.addWidget(rows.error_label(SCHEDULE_KEY))
        hint = QLabel("Automatic syncs run while Connex Desktop is open or in the tray. A sync "
                      "missed while the computer slept runs when it wakes; after a failure the "
                      "next attempt waits longer each time.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)

    def load(self, schedule: Schedule) -> None:
        inputs = (self.every_count, self.every_unit, self.daily_time)
        for widget in inputs:   # showing the saved values chooses nothing
            widget.blockSignals(True)
        if schedule.every_minutes:
            self.schedule_every.setChecked(True)
            hours = schedule.every_minutes % 60 == 0
            self.every_count.setValue(schedule.every_minutes // 60 if hours
                                      else schedule.every_minutes)
            self.every_unit.setCurrentIndex(1 if hours else 0)
        elif schedule.daily_at:
            self.schedule_daily.setChecked(True)
            self.daily_time.setTime(QTime.fromString(schedule.daily_at, "HH:mm"))
        else:
            self.schedule_off.setChecked(True)
            self.every_count.setValue(15)
            self.daily_time.setTime(QTime(6, 0))
        for widget in inputs:
            widget.blockSignals(False)

    def read(self) -> tuple[Schedule, dict[str, str]]:
        """The schedule chosen, and the problems by field key."""
        if self.schedule_every.isChecked():
            return Schedule(every_minutes=self.every_count.value()
                            * int(self.every_unit.currentData())), {}
        if not self.schedule_daily.isChecked():
            return Schedule(), {}
        daily_at = self.daily_time.time().toString("HH:mm")
        try:
            parse_daily_at(daily_at)
        except ValueError as error:
            return Schedule(daily_at=daily_at), {SCHEDULE_KEY: str(error)}
        return Schedule(daily_at=daily_at), {}


def _row(*widgets: QWidget) -> QHBoxLayout:
    row = QHBoxLayout()
    for widget in widgets:
        row.addWidget(widget)
    row.addStretch(1)
    return row
