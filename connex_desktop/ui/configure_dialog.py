"""Configure one connection: a form generated from the store's declared settings, and more."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QTime
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.core.connection import (
    Connection,
    Schedule,
)
from connex_desktop.core.connection import QuickBooksMapping as Mapping
from connex_desktop.core.errors import ConnexError
from connex_desktop.core.modes import MODE_INFO, TransactionMode
from connex_desktop.core.quickbooks_rules import DOC_NUMBER_MAX_CHARS
from connex_desktop.core.schedule import parse_daily_at
from connex_desktop.core.secret_store import connection_secret_key
from connex_desktop.sources.base import FieldKind, SettingField, Source
from connex_desktop.ui.assets import ERROR_STYLE
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.connect_dialog import ConnectDialog
from connex_desktop.ui.mapping_tab import MappingTab, company_lists
from connex_desktop.ui.text import in_sentence

# The store tab's form: name and kind, then the rows generated from the store's declaration.
FIRST_SOURCE_ROW = 2
SAVED_SECRET_HINT = "Saved. Type to replace it."
OK_STYLE = "color: #1b6e20;"
SCHEDULE_UNITS = (("minutes", 1), ("hours", 60))
NUMBERING_HINTS = {
    False: "Off: each document takes the order's number (with the prefix).",
    True: "On: QuickBooks gives each document its next number; the order number goes into "
          "the memo."}
PREFIX_HINTS = {
    False: "Put before each order number, e.g. WEB-1001. QuickBooks allows 21 characters in all.",
    True: "Not used while QuickBooks numbers the documents."}


class _ErrorLabel(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.hide()

    def show_error(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))


class ConfigureDialog(QDialog):
    """Every setting of one connection. Save validates all of it first; nothing half-way.

    `saved` is the saved connection after the dialog is accepted.
    """

    def __init__(self, app: App, connection: Connection | None, *,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._original = connection
        self.saved: Connection | None = None
        self.errors: dict[str, _ErrorLabel] = {}
        self.hints: dict[str, QLabel] = {}
        self.discard_question: QMessageBox | None = None   # open while the user decides
        self._error_tabs: dict[str, int] = {}
        self._source_inputs: dict[str, Callable[[], str]] = {}
        self._source_widgets: dict[str, QWidget] = {}
        self.setWindowTitle(f"Configure {connection.name}" if connection else "Add a connection")
        self.resize(720, 560)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._store_tab(), "Store")
        self.tabs.addTab(self._quickbooks_tab(), "QuickBooks")
        self.tabs.addTab(self._transactions_tab(), "Transactions")
        self.mapping = MappingTab(self._field)
        self.tabs.addTab(self.mapping, "Mapping")
        self.tabs.addTab(self._schedule_tab(), "Automatic sync")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        self._load(connection or Connection(name="", source_kind=next(iter(app.source_kinds), ""),
                                            mode=TransactionMode.INVOICES_WITH_PAYMENTS))
        # Changing an interval or a time chooses it (connected after loading the saved one).
        self.every_count.valueChanged.connect(lambda _v: self.schedule_every.setChecked(True))
        self.every_unit.currentIndexChanged.connect(
            lambda _i: self.schedule_every.setChecked(True))
        self.daily_time.timeChanged.connect(lambda _t: self.schedule_daily.setChecked(True))
        self.name_edit.setFocus()
        self._loaded_state = self._form_state()
        self.fetch_company_lists()

    # ── layout helpers ──────────────────────────────────────────────────────────────────────

    def _field(self, form: QFormLayout, label: str, widget: QWidget, key: str,
               help_text: str = "") -> None:
        """A labelled row with its help line and the error label under the widget; the label
        names the input (its focus proxy, for a composite) for the keyboard and screen readers."""
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        if help_text:
            hint = QLabel(help_text)
            hint.setWordWrap(True)
            hint.setStyleSheet("color: palette(placeholder-text);")
            column.addWidget(hint)
            self.hints[key] = hint
        error = _ErrorLabel()
        column.addWidget(error)
        self.errors[key] = error
        # While a tab is being built, it is the next one to be added.
        self._error_tabs[key] = self.tabs.count()
        caption = QLabel(label)
        target = widget.focusProxy() or widget
        caption.setBuddy(target)
        target.setAccessibleName(label)
        form.addRow(caption, box)

    # ── tabs ────────────────────────────────────────────────────────────────────────────────

    def _store_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. Web shop paid orders")
        self._field(form, "Name", self.name_edit, "name")
        self.kind_combo = QComboBox()
        for kind, source in self._app.source_kinds.items():
            self.kind_combo.addItem(source.label, kind)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._on_kind_changed())
        self._field(form, "Kind of store", self.kind_combo, "source_kind")
        # The store's own settings follow in the same form, so the labels line up.
        self.source_form = form
        layout.addLayout(form)
        test_row = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        layout.addLayout(test_row)
        self.new_store_check = QCheckBox("It now reads a different store: book its orders as new")
        self.new_store_check.setToolTip(
            "Leave this off when the order file was only moved or renamed, or the store's "
            "address changed: it is still the same store, and no order is booked twice.")
        self.new_store_check.setVisible(self._original_id is not None)
        layout.addWidget(self.new_store_check)
        layout.addStretch(1)
        return page

    def _quickbooks_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.company_label = QLabel()
        self.company_label.setWordWrap(True)
        self.connect_button = QPushButton("Connect to QuickBooks…")
        self.connect_button.clicked.connect(self._open_connect_dialog)
        layout.addWidget(self.company_label)
        layout.addWidget(self.connect_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

    def _transactions_tab(self) -> QWidget:
        page, form = self._form_page()
        self.mode_combo = QComboBox()
        for mode in TransactionMode:
            self.mode_combo.addItem(MODE_INFO[mode].label, mode.value)
            self.mode_combo.setItemData(self.mode_combo.count() - 1, MODE_INFO[mode].explanation,
                                        Qt.ItemDataRole.ToolTipRole)
        self.mode_combo.currentIndexChanged.connect(lambda _i: self._on_mode_changed())
        self.mode_explanation = QLabel()
        self.mode_explanation.setWordWrap(True)
        self.mode_unavailable = QLabel()
        self.mode_unavailable.setWordWrap(True)
        self.mode_unavailable.setStyleSheet("color: palette(placeholder-text);")
        mode_box = QWidget()
        mode_column = QVBoxLayout(mode_box)
        mode_column.setContentsMargins(0, 0, 0, 0)
        mode_column.addWidget(self.mode_combo)
        mode_column.addWidget(self.mode_explanation)
        mode_column.addWidget(self.mode_unavailable)
        mode_box.setFocusProxy(self.mode_combo)
        self._field(form, "Book each order as", mode_box, "mode")
        self.qb_numbering = QCheckBox("Use QuickBooks numbering")
        self.qb_numbering.setToolTip(
            "QuickBooks gives each document its next number; the order number goes into the "
            "memo. Needed for order numbers longer than 21 characters.")
        self.qb_numbering.toggled.connect(self._on_numbering_changed)
        self._field(form, "Document numbers", self.qb_numbering, "use_qb_numbering",
                    NUMBERING_HINTS[False])
        self.prefix_edit = QLineEdit()
        self.prefix_edit.setMaxLength(DOC_NUMBER_MAX_CHARS)
        self.prefix_edit.setPlaceholderText("e.g. WEB-")
        self._field(form, "Number prefix", self.prefix_edit, "prefix", PREFIX_HINTS[False])
        self.status_list = QListWidget()
        self.status_list.setMaximumHeight(130)
        self._field(form, "Order statuses to sync", self.status_list, "statuses",
                    "None ticked: every status.")
        return page

    def _schedule_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
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
        every_row = QHBoxLayout()
        every_row.addWidget(self.schedule_every)
        every_row.addWidget(self.every_count)
        every_row.addWidget(self.every_unit)
        every_row.addStretch(1)
        daily_row = QHBoxLayout()
        daily_row.addWidget(self.schedule_daily)
        daily_row.addWidget(self.daily_time)
        daily_row.addStretch(1)
        layout.addWidget(self.schedule_off)
        layout.addLayout(every_row)
        layout.addLayout(daily_row)
        self.errors["schedule"] = _ErrorLabel()
        self._error_tabs["schedule"] = self.tabs.count()
        layout.addWidget(self.errors["schedule"])
        hint = QLabel("Automatic syncs run while Connex Desktop is open or in the tray. A sync "
                      "missed while the computer slept runs when it wakes; after a failure the "
                      "next attempt waits longer each time.")
        hint.setWordWrap(True)
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

    @staticmethod
    def _form_page() -> tuple[QWidget, QFormLayout]:
        """A tab page with one form at its top."""
        page = QWidget()
        layout = QVBoxLayout(page)
        form = QFormLayout()
        layout.addLayout(form)
        layout.addStretch(1)
        return page, form

    # ── loading and reading back ────────────────────────────────────────────────────────────

    @property
    def source(self) -> type[Source] | None:
        return self._app.source_kinds.get(self.kind_combo.currentData())

    def _load(self, connection: Connection) -> None:
        self.name_edit.setText(connection.name)
        self.kind_combo.setCurrentIndex(max(0, self.kind_combo.findData(connection.source_kind)))
        self.kind_combo.setEnabled(connection.id is None)
        self._build_source_fields(connection)
        self._load_statuses(connection.statuses)
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(connection.mode.value))
        self._update_mode_availability()
        self._on_mode_changed()
        self.qb_numbering.setChecked(connection.use_qb_numbering)
        self._on_numbering_changed(connection.use_qb_numbering)
        self.prefix_edit.setText(connection.prefix)
        self.mapping.load(connection.mapping)
        schedule = connection.schedule
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
        self._show_company()

    def _build_source_fields(self, connection: Connection | None) -> None:
        while self.source_form.rowCount() > FIRST_SOURCE_ROW:
            self.source_form.removeRow(FIRST_SOURCE_ROW)
        for key in [key for key in self.errors if key.startswith("source:")]:
            del self.errors[key]
        self._source_inputs.clear()
        self._source_widgets.clear()
        source = self.source
        settings = connection.source_settings if connection else {}
        for field in source.settings_fields if source else ():
            widget, read = self._source_input(field, settings.get(field.name, field.default),
                                              connection)
            label = field.label + ("" if field.required else " (optional)")
            self._field(self.source_form, label, widget, f"source:{field.name}", field.help)
            self._error_tabs[f"source:{field.name}"] = 0
            self._source_inputs[field.name] = read
            self._source_widgets[field.name] = widget

    def _source_input(self, field: SettingField, value: str,
                      connection: Connection | None) -> tuple[QWidget, Callable[[], str]]:
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
            if self._saved_secret(connection, field.name):
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

    def _saved_secret(self, connection: Connection | None, name: str) -> bool:
        if connection is None or connection.id is None:
            return False
        return bool(self._app.secrets.get(connection_secret_key(connection.id, name)))

    def _load_statuses(self, chosen: tuple[str, ...]) -> None:
        self.status_list.clear()
        vocabulary = list(self.source.statuses if self.source else ())
        vocabulary += [status for status in chosen if status not in vocabulary]
        for status in vocabulary:
            item = QListWidgetItem(status)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if status in chosen
                               else Qt.CheckState.Unchecked)
            self.status_list.addItem(item)

    def _on_kind_changed(self) -> None:
        self._build_source_fields(None)
        self._load_statuses(())
        self._update_mode_availability()
        self.test_result.clear()

    def _update_mode_availability(self) -> None:
        """The mode that builds purchase orders is off for stores that keep their own."""
        keeps_own = bool(self.source and self.source.keeps_own_purchase_orders)
        model = self.mode_combo.model()
        assert isinstance(model, QStandardItemModel)
        item = model.item(self.mode_combo.findData(TransactionMode.SALES_ORDERS_INVOICES_POS.value))
        item.setEnabled(not keeps_own)
        reason = (f"{self.source.label if self.source else 'This store'} keeps its own purchase "
                  "orders, so building them from each item's default vendor is not offered."
                  if keeps_own else "")
        self.mode_unavailable.setText(reason)
        self.mode_unavailable.setVisible(keeps_own)

    def _on_mode_changed(self) -> None:
        mode = TransactionMode(self.mode_combo.currentData())
        self.mode_explanation.setText(MODE_INFO[mode].explanation)

    def _on_numbering_changed(self, quickbooks_numbers: bool) -> None:
        self.prefix_edit.setEnabled(not quickbooks_numbers)
        self.hints["use_qb_numbering"].setText(NUMBERING_HINTS[quickbooks_numbers])
        self.hints["prefix"].setText(PREFIX_HINTS[quickbooks_numbers])

    # ── QuickBooks ──────────────────────────────────────────────────────────────────────────

    def _current_quickbooks(self):
        if self._original is None or self._original.id is None:
            return None
        return self._app.connections.get_by_id(self._original.id).quickbooks

    def _show_company(self) -> None:
        company = self._current_quickbooks()
        if company is None:
            self.company_label.setText("Save this connection first; then connect it to "
                                       "QuickBooks here or from the list.")
            self.connect_button.setEnabled(False)
        elif company.connected:
            self.company_label.setText(
                f"Connected to <b>{escape(company.company_name or company.realm_id)}</b> "
                f"({company.environment}).")
            self.connect_button.setText("Reconnect or disconnect…")
        else:
            self.company_label.setText("Not connected to a QuickBooks company yet.")

    def _open_connect_dialog(self) -> None:
        assert self._original is not None and self._original.id is not None
        dialog = ConnectDialog(self._app, self._app.connections.get_by_id(self._original.id),
                               parent=self)
        dialog.exec()
        self._show_company()
        self.fetch_company_lists()

    def fetch_company_lists(self) -> None:
        """Fill the mapping choices from the company's lists, in the background."""
        company = self._current_quickbooks()
        if company is None or not company.connected:
            self.mapping.lists_label.setText("Connect to QuickBooks to choose from the "
                                             "company's own lists; until then, type the names.")
            return
        self.mapping.lists_label.setText(
            f"Loading the lists of {company.company_name or 'the company'}…")
        assert self._original is not None
        connection = dataclasses.replace(self._original, quickbooks=company)
        run_in_background(lambda: company_lists(self._app, connection),
                          on_success=lambda lists: self.mapping.fill(lists, company.company_name),
                          on_failure=self.mapping.lists_failed)

    # ── test, validate, save ────────────────────────────────────────────────────────────────

    def _source_values(self) -> tuple[dict[str, str], dict[str, str]]:
        """(settings, typed secrets) from the form; secrets left blank are not in the second."""
        source = self.source
        settings: dict[str, str] = {}
        secrets: dict[str, str] = {}
        for field in source.settings_fields if source else ():
            value = self._source_inputs[field.name]()
            if field.secret:
                if value:
                    secrets[field.name] = value
            else:
                settings[field.name] = value
        return settings, secrets

    def _all_secrets(self, typed: dict[str, str]) -> dict[str, str]:
        """Typed secrets, and the saved ones for the fields left blank."""
        result = dict(typed)
        source = self.source
        if self._original is not None and self._original.id is not None and source:
            for field in source.settings_fields:
                if field.secret and field.name not in result:
                    saved = self._app.secrets.get(connection_secret_key(self._original.id,
                                                                        field.name))
                    if saved:
                        result[field.name] = saved
        return result

    def test_connection(self) -> None:
        """Try the store's settings in the background and say how it went."""
        source = self.source
        if source is None:
            return
        settings, typed = self._source_values()
        secrets = self._all_secrets(typed)
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText("Testing…")
        run_in_background(lambda: source(settings, secrets).check(),
                          on_success=self._on_test_succeeded, on_failure=self._on_test_failed)

    def _on_test_succeeded(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet(OK_STYLE)
        self.test_result.setText(message or "Connected.")

    def _on_test_failed(self, error: Exception) -> None:
        self.test_button.setEnabled(True)
        self.test_result.setStyleSheet(ERROR_STYLE)
        detail = getattr(error, "detail", "")
        self.test_result.setText(str(error) + (f"\n{detail}" if detail else ""))

    def validate(self) -> tuple[Connection | None, dict[str, str], dict[str, str]]:
        """(the connection to save, the secrets typed, the problems by field key)."""
        problems: dict[str, str] = {}
        name = self.name_edit.text().strip()
        if not name:
            problems["name"] = "Give the connection a name."
        elif any(other.name.casefold() == name.casefold() and other.id != self._original_id
                 for other in self._app.connections.list()):
            problems["name"] = f"A connection named {name!r} already exists."
        source = self.source
        if source is None:
            problems["source_kind"] = "Choose the kind of store."
        settings, typed = self._source_values()
        all_secrets = self._all_secrets(typed)
        for field in source.settings_fields if source else ():
            value = all_secrets.get(field.name, "") if field.secret else settings[field.name]
            key = f"source:{field.name}"
            if field.required and not value:
                problems[key] = f"Enter the {in_sentence(field.label)}."
            elif value and field.kind is FieldKind.URL and not value.startswith(
                    ("https://", "http://")):
                problems[key] = "Enter the full address, starting with https://."
            elif value and field.kind is FieldKind.PATH and not Path(value).expanduser().is_file():
                problems[key] = f"There is no file at {value}."
        mode = TransactionMode(self.mode_combo.currentData())
        if mode is TransactionMode.SALES_ORDERS_INVOICES_POS and source \
                and source.keeps_own_purchase_orders:
            problems["mode"] = self.mode_unavailable.text()
        prefix = self.prefix_edit.text().strip()
        if len(prefix) >= DOC_NUMBER_MAX_CHARS:
            problems["prefix"] = (f"Keep the prefix under {DOC_NUMBER_MAX_CHARS} characters: "
                                  "the order number must fit after it.")
        company = self._current_quickbooks()
        mapping, mapping_problems = self.mapping.read(
            self._original.mapping if self._original else Mapping(),
            company.company_name if company else "")
        problems.update(mapping_problems)
        schedule = Schedule()
        if self.schedule_every.isChecked():
            schedule = Schedule(every_minutes=self.every_count.value()
                                * int(self.every_unit.currentData()))
        elif self.schedule_daily.isChecked():
            daily_at = self.daily_time.time().toString("HH:mm")
            try:
                parse_daily_at(daily_at)
            except ValueError as error:
                problems["schedule"] = str(error)
            schedule = Schedule(daily_at=daily_at)
        if problems or source is None:
            return None, typed, problems
        statuses = tuple(self.status_list.item(row).text()
                         for row in range(self.status_list.count())
                         if self.status_list.item(row).checkState() == Qt.CheckState.Checked)
        base = self._original or Connection(name=name, source_kind=source.kind, mode=mode)
        quickbooks = self._current_quickbooks() or base.quickbooks
        connection = dataclasses.replace(
            base, name=name, source_kind=source.kind, mode=mode, source_settings=settings,
            statuses=statuses, use_qb_numbering=self.qb_numbering.isChecked(), prefix=prefix,
            mapping=mapping, schedule=schedule, quickbooks=quickbooks)
        return connection, typed, problems

    @property
    def _original_id(self) -> int | None:
        return self._original.id if self._original else None

    def show_problems(self, problems: dict[str, str]) -> None:
        for key, label in self.errors.items():
            label.show_error(problems.get(key, ""))
        if problems:
            first = next(key for key in self.errors if key in problems)
            self.tabs.setCurrentIndex(self._error_tabs.get(first, 0))

    def _form_state(self) -> list[object]:
        """Every input's value, to tell whether the user changed anything."""
        state: list[object] = [edit.text() for edit in self.tabs.findChildren(QLineEdit)]
        state += [button.isChecked() for button in self.tabs.findChildren(QAbstractButton)
                  if button.isCheckable()]
        state += [combo.currentText() for combo in self.tabs.findChildren(QComboBox)]
        state += [self.status_list.item(row).checkState()
                  for row in range(self.status_list.count())]
        return state

    def reject(self) -> None:
        """Esc, Cancel and closing the window: changes are discarded only once confirmed."""
        if self._form_state() == self._loaded_state:
            super().reject()
            return
        if self.discard_question is not None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Discard changes",
                          "Discard your changes to this connection?", parent=self)
        discard = box.addButton("Discard changes", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.finished.connect(lambda _code: self._discard_answered(box.clickedButton() is discard))
        self.discard_question = box
        box.open()

    def _discard_answered(self, discard: bool) -> None:
        self.discard_question = None
        if discard:
            super().reject()

    def save(self) -> bool:
        """Validate everything, then save the connection and its typed secrets together."""
        connection, typed, problems = self.validate()
        self.show_problems(problems)
        if connection is None:
            return False
        try:
            self.saved = self._write(connection, typed)
        except ConnexError as error:
            if error.field == "name":
                self.show_problems({"name": error.message})
            else:
                QMessageBox.warning(self, "Not saved", str(error))
            return False
        self.accept()
        return True

    def _write(self, connection: Connection, typed: dict[str, str]) -> Connection:
        """A new connection is removed again if its secrets cannot be stored; for an existing
        one the secrets go first, so a keyring failure leaves the saved settings untouched."""
        repository = self._app.connections
        if connection.id is None:
            connection = repository.add(connection)
            assert connection.id is not None
            try:
                self._store_secrets(connection.id, typed)
            except Exception:
                repository.remove(connection.name)
                raise
            return connection
        self._store_secrets(connection.id, typed)
        connection = repository.update(connection)
        if self.new_store_check.isChecked():
            repository.start_new_store(connection.id,
                                       self._app.source_for(connection).store_key)
        return connection

    def _store_secrets(self, connection_id: int, typed: dict[str, str]) -> None:
        for name, value in typed.items():
            self._app.secrets.set(connection_secret_key(connection_id, name), value)
