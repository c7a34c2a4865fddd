"""The Configure dialog's Store tab: the name, the kind of store and the settings it declares."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.connections import ConnectionService, setting_key
from connex_desktop.core.connection import Connection
from connex_desktop.sources.base import FieldKind, SettingField, Source
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.colors import error_style, ok_style
from connex_desktop.ui.configure.form import FieldRows, read_secret_for

# The form: name and kind, then the rows generated from the store's declaration.
FIRST_SOURCE_ROW = 2
SAVED_SECRET_HINT = "Saved. Type to replace it."


class StoreTab(QWidget):
    """Which store the connection reads, with a form generated from its declared settings.

    Signals:
        kind_changed(): another kind of store was chosen (its settings are blank).
    """

    kind_changed = Signal()

    def __init__(self, service: ConnectionService, rows: FieldRows, *, editing: bool) -> None:
        super().__init__()
        self._service = service
        self._rows = rows
        self._connection_id: int | None = None
        self._source_inputs: dict[str, Callable[[], str]] = {}
        self.source_widgets: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        self.form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Web shop paid orders")
        rows.add(self.form, "Name", self.name_edit, "name")
        self.kind_combo = QComboBox()
        for kind, source in service.source_kinds.items():
            self.kind_combo.addItem(source.label, kind)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._on_kind_changed())
        rows.add(self.form, "Kind of store", self.kind_combo, "source_kind")
        # The store's own settings follow in the same form, so the labels line up.
        layout.addLayout(self.form)
        layout.addLayout(self._test_row())
        self.new_store_check = QCheckBox("It now reads a different store: book its orders as new")
        self.new_store_check.setToolTip(
            "Leave this off when the order file was only moved or renamed, or the store's "
            "address changed: it is still the same store, and no order is booked twice.")
        self.new_store_check.setVisible(editing)
        layout.addWidget(self.new_store_check)
        layout.addStretch(1)

    def _test_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        row.addWidget(self.test_button)
        row.addWidget(self.test_result, 1)
        return row

    @property
    def source(self) -> type[Source] | None:
        return self._service.source_kinds.get(self.kind_combo.currentData())

    def load(self, connection: Connection) -> None:
        self._connection_id = connection.id
        self.name_edit.setText(connection.name)
        self.kind_combo.blockSignals(True)   # the settings below are the connection's own
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(connection.source_kind)))
        self.kind_combo.blockSignals(False)
        self.kind_combo.setEnabled(connection.id is None)
        self._build_source_fields(connection.source_settings)

    def _on_kind_changed(self) -> None:
        self._build_source_fields({})
        self.test_result.clear()
        self.kind_changed.emit()

    def _build_source_fields(self, settings: Mapping[str, str]) -> None:
        while self.form.rowCount() > FIRST_SOURCE_ROW:
            self.form.removeRow(FIRST_SOURCE_ROW)
        self._rows.forget(setting_key(""))
        self._source_inputs.clear()
        self.source_widgets.clear()
        for field in self.source.settings_fields if self.source else ():
            widget, read = self._source_input(field, settings.get(field.name, field.default))
            label = field.label + ("" if field.required else " (optional)")
            self._rows.add(self.form, label, widget, setting_key(field.name), field.help)
            self._source_inputs[field.name] = read
            self.source_widgets[field.name] = widget
        self._order_tabs()

    def _order_tabs(self) -> None:
        """Made after the dialog's buttons, the store's fields would come after Save: Tab goes
        from the kind of store through them to Test connection."""
        chain = [self.kind_combo]
        for widget in self.source_widgets.values():
            chain += ([widget] if widget.focusPolicy() != Qt.FocusPolicy.NoFocus else
                      [child for child in widget.findChildren(QWidget)
                       if child.focusPolicy() != Qt.FocusPolicy.NoFocus])
        for before, after in itertools.pairwise([*chain, self.test_button]):
            QWidget.setTabOrder(before, after)

    def _source_input(self, field: SettingField,
                      value: str) -> tuple[QWidget, Callable[[], str]]:
        if field.kind is FieldKind.BOOL:
            check = QCheckBox()
            check.setChecked(value.lower() in ("1", "true", "yes"))
            return check, lambda: "true" if check.isChecked() else "false"
        if field.kind is FieldKind.CHOICE:
            combo = QComboBox()
            combo.addItems(field.choices)
            combo.setCurrentText(value)
            return combo, combo.currentText
        edit = QLineEdit()
        if field.secret:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            if read_secret_for(edit, lambda: self._service.has_secret(self._connection_id,
                                                                      field.name)):
                edit.setPlaceholderText(SAVED_SECRET_HINT)
        else:
            edit.setText(value)
        if field.kind is FieldKind.URL:
            edit.setPlaceholderText(edit.placeholderText() or "https://")
        if field.kind is not FieldKind.PATH:
            return edit, lambda: edit.text().strip()
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        browse = QPushButton("Browse…")
        browse.clicked.connect(lambda: edit.setText(
            QFileDialog.getOpenFileName(self, field.label, edit.text())[0] or edit.text()))
        row.addWidget(edit, 1)
        row.addWidget(browse)
        box.setFocusProxy(edit)
        return box, lambda: edit.text().strip()

    def values(self) -> tuple[dict[str, str], dict[str, str]]:
        """(settings, typed secrets) from the form; secrets left blank are not in the second."""
        settings: dict[str, str] = {}
        typed: dict[str, str] = {}
        for field in self.source.settings_fields if self.source else ():
            value = self._source_inputs[field.name]()
            if not field.secret:
                settings[field.name] = value
            elif value:
                typed[field.name] = value
        return settings, typed

    def test_connection(self) -> None:
        """Try the store's settings in the background and say how it went."""
        source = self.source
        if source is None:
            return
        settings, typed = self.values()
        secrets = self._service.store_secrets(self._connection_id, source, typed)
        store = source(settings, secrets)
        if self._connection_id is not None:   # a renewed secret replaces the saved one at once
            store.secret_saver = functools.partial(self._service.keep_store_secret,
                                                   self._connection_id)
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText("Testing…")
        run_in_background(store.check, on_success=lambda message: self._on_test_succeeded(
            message, store.secrets, secrets), on_failure=lambda error: self._on_test_failed(
            error, store.secrets, secrets))

    def _keep_renewed(self, now: Mapping[str, str], given: Mapping[str, str]) -> None:
        """A secret the store renewed while tested (a rotated refresh token) goes into its
        field, so saving the form keeps the new one, not the one the store revoked."""
        for name, value in now.items():
            widget = self.source_widgets.get(name)
            if value != given.get(name) and isinstance(widget, QLineEdit):
                widget.setText(value)

    def _on_test_succeeded(self, message: str, now: Mapping[str, str],
                           given: Mapping[str, str]) -> None:
        self._keep_renewed(now, given)
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet(ok_style())
        self.test_result.setText(message or "Connected.")

    def _on_test_failed(self, error: Exception, now: Mapping[str, str],
                        given: Mapping[str, str]) -> None:
        self._keep_renewed(now, given)
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet(error_style())
        detail = getattr(error, "detail", "")
        self.test_result.setText(str(error) + (f"\n{detail}" if detail else ""))
