"""Text reads at 4.5:1 or better on light and dark palettes; the toolbar's buttons have icons."""

from __future__ import annotations

import dataclasses
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QLineEdit, QToolBar

from connex_desktop.core.result import OrderOutcome, RunStatus, SyncResult
from connex_desktop.ui.assets import action_icon
from connex_desktop.ui.colors import MINIMUM_CONTRAST, contrast
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.configure.form import ErrorLabel
from connex_desktop.ui.connections_model import ConnectionsModel
from tests.ui.test_main_window import LONG_PREFIX, sync
from tests.ui.test_sync_log import loaded

Role = QPalette.ColorRole


def text_color(label: QLabel) -> QColor:
    label.ensurePolished()      # a style sheet's colour reaches the palette when polished
    return label.palette().color(label.foregroundRole())


def worst_contrast(color: QColor, palette: QPalette) -> float:
    """On the window's background and the inputs' alike: labels sit on both."""
    return min(contrast(color, palette.color(Role.Window)),
               contrast(color, palette.color(Role.Base)))


def test_hints_and_errors_in_configure_read_at_4_5_to_1(qtbot, app, palette):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    hints = [*dialog.hints.values(), dialog.transactions.mode_unavailable]
    assert len(hints) >= 5
    for hint in hints:
        shown = text_color(hint)
        assert worst_contrast(shown, palette) >= MINIMUM_CONTRAST, (hint.text(), shown.name())
        # Still a hint: quieter than the text around it.
        assert contrast(shown, palette.color(Role.Window)) < contrast(
            palette.color(Role.WindowText), palette.color(Role.Window))
    assert worst_contrast(text_color(ErrorLabel()), palette) >= MINIMUM_CONTRAST


def test_failed_and_partial_syncs_read_at_4_5_to_1_in_the_list(qtbot, palette, desktop):
    app, window = desktop.app, desktop.window
    connection = window.try_demo()
    app.connections.update(dataclasses.replace(connection, prefix=LONG_PREFIX))
    sync(qtbot, desktop, window.sync_selected)       # every order fails: a partial run
    last_sync = window.model.index(0, ConnectionsModel.LAST_SYNC)
    assert "failed" in last_sync.data()
    shown = last_sync.data(Qt.ItemDataRole.ForegroundRole)
    assert shown is not None
    assert worst_contrast(shown, palette) >= MINIMUM_CONTRAST, shown.name()


def test_the_sync_logs_failures_and_service_details_read_at_4_5_to_1(qtbot, palette, desktop):
    app = desktop.app
    demo = desktop.window.try_demo()
    run_id = app.runs.start(demo.id, "manual")
    app.runs.record_order(run_id, "demo-1", "1001", OrderOutcome.FAILED,
                          "QuickBooks already has a document with this number.",
                          "Duplicate Document Number Error", "fix_data")
    app.runs.finish(run_id, SyncResult(demo.name, run_id, RunStatus.PARTIAL, fetched=1,
                                       failed=1))
    log = loaded(qtbot, desktop.window.show_log(demo.id))
    failed_run = log.runs_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole)
    failed_order = log.orders_model.index(0, 0).data(Qt.ItemDataRole.ForegroundRole)
    details = re.search(r"<span style='color: ?(#[0-9a-f]{3,6});?'>Details from the service",
                        log.detail.text())
    assert details is not None, log.detail.text()
    for shown in (failed_run, failed_order, QColor(details[1])):
        assert worst_contrast(shown, palette) >= MINIMUM_CONTRAST, shown.name()


def test_placeholders_in_inputs_read_at_4_5_to_1(palette, desktop):
    placeholder = QLineEdit().palette().color(Role.PlaceholderText)
    assert worst_contrast(placeholder, palette) >= MINIMUM_CONTRAST, placeholder.name()


def test_the_toolbar_buttons_show_an_icon_beside_their_words(desktop):
    toolbar = desktop.window.findChild(QToolBar)
    assert toolbar.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    actions = [action for action in toolbar.actions() if not action.isSeparator()]
    assert len(actions) == 9
    assert [action.text() for action in actions if action.icon().isNull()] == []


def test_action_icons_are_drawn_in_the_palettes_button_text(qtbot, palette):
    image = action_icon("sync", palette).pixmap(24, 24).toImage()
    inked = [image.pixelColor(x, y) for x in range(24) for y in range(24)
             if image.pixelColor(x, y).alpha() == 255]
    assert inked
    assert all(color.rgb() == palette.color(Role.ButtonText).rgb() for color in inked)
