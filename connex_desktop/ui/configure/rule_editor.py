"""One rule, built by pointing and clicking: its conditions and its actions."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.rules import (
    FIELD_WORDS,
    Condition,
    CustomerChoice,
    Field,
    Rule,
    describe,
    rule_problems,
)

CONNECTION_S = "(the connection's)"
# The names a rule's actions may choose from the company's lists (mapping_tab.company_lists).
COMPANY_LISTS = {"payment_method": "payment_methods", "deposit_account": "deposit_accounts",
                 "class_name": "classes", "location_name": "locations"}
TRACKED = ("class_name", "location_name")   # offered only where the company tracks them
CUSTOMER_WORDS = {CustomerChoice.GENERIC: "The connection's generic customer",
                  CustomerChoice.PER_BUYER: "One customer per buyer",
                  CustomerChoice.NAMED: "This customer:"}


class ConditionRow:
    """One condition's inputs: what of the order, the values (separated by commas), remove."""

    def __init__(self, condition: Condition | None) -> None:
        self.field = QComboBox()
        for field, words in FIELD_WORDS.items():
            self.field.addItem(words, field.value)
        self.values = QLineEdit()
        self.values.setPlaceholderText("values, separated by commas")
        self.remove = QPushButton("Remove")
        if condition is not None:
            self.field.setCurrentIndex(self.field.findData(condition.field.value))
            self.values.setText(", ".join(condition.values))

    def condition(self) -> Condition:
        values = tuple(value.strip() for value in self.values.text().split(",") if value.strip())
        return Condition(Field(self.field.currentData()), values)

    def widgets(self) -> tuple[QWidget, ...]:
        return self.field, self.values, self.remove


class RuleEditor(QDialog):
    """Edits a rule; `rule` is the one built once the dialog is accepted."""

    def __init__(self, rule: Rule | None, *, lists: dict[str, list[str]] | None = None,
                 untracked: Mapping[str, str] | None = None,
                 product: QuickBooksProduct,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lists = lists or {}   # the company's lists, when the dialog has read them
        self.product = product     # whose words its modes are in
        self.setWindowTitle(f"Rule {rule.name}" if rule else "New rule")
        self.rule: Rule | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020")
        self.name = QLineEdit(rule.name if rule else "")
        actions = QGroupBox("Then")
        self.form = QFormLayout(actions)
        self._action_inputs(rule or Rule(""))
        self._offer_tracking(untracked or {})
        self.rows: list[ConditionRow] = []
        self.grid = QGridLayout()
        self.add_condition = QPushButton("Add condition")
        self.add_condition.clicked.connect(lambda: self._add_row(None))
        conditions = QGroupBox("When an order meets every condition (none: every order)")
        box = QVBoxLayout(conditions)
        box.addLayout(self.grid)
        box.addWidget(self.add_condition)
        for condition in rule.conditions if rule else ():
            self._add_row(condition)
        self.buttons = buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                                  | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        name_row = QFormLayout()
        name_row.addRow("Rule name", self.name)
        layout.addLayout(name_row)
        for widget in (conditions, actions, self.summary, self.problem, buttons):
            layout.addWidget(widget)
        for edit in (self.name, self.skip_reason, self.customer_name, self.prefix):
            edit.textChanged.connect(lambda _text: self._show_summary())
        for combo in self.names.values():
            combo.currentTextChanged.connect(lambda _text: self._show_summary())
        for combo in (self.mode, self.customer):
            combo.currentIndexChanged.connect(lambda _i: self._show_summary())
        for check in (self.skip, self.own_prefix):
            check.toggled.connect(lambda _on: self._show_summary())
        self._show_summary()

    def _action_inputs(self, rule: Rule) -> None:
        self.skip = QCheckBox("Skip these orders")
        self.skip.setChecked(rule.skip)
        self.skip_reason = QLineEdit(rule.skip_reason)
        self.skip_reason.setPlaceholderText("why, as the sync log shows it")
        self.mode = QComboBox()
        self.mode.addItem(CONNECTION_S, "")
        for mode in TransactionMode:
            self.mode.addItem(mode.info_in(self.product).label, mode.value)
        self.mode.setCurrentIndex(self.mode.findData(rule.mode.value if rule.mode else ""))
        self.customer = QComboBox()
        self.customer.addItem(CONNECTION_S, "")
        for choice, words in CUSTOMER_WORDS.items():
            self.customer.addItem(words, choice.value)
        self.customer.setCurrentIndex(self.customer.findData(
            rule.customer.value if rule.customer else ""))
        self.customer_name = QLineEdit(rule.customer_name)
        self.names = {key: self._name_combo(getattr(rule, key), self.lists.get(list_key, []))
                      for key, list_key in COMPANY_LISTS.items()}
        self.own_prefix = QCheckBox("Its own number prefix")
        self.own_prefix.setChecked(rule.prefix is not None)
        self.prefix = QLineEdit(rule.prefix or "")
        for label, widget in (("", self.skip), ("Reason", self.skip_reason),
                              ("Book as", self.mode), ("Customer", self.customer),
                              ("", self.customer_name),
                              ("Payment method", self.names["payment_method"]),
                              ("Deposit to", self.names["deposit_account"]),
                              ("Class", self.names["class_name"]),
                              ("Location", self.names["location_name"]),
                              ("", self.own_prefix), ("Prefix", self.prefix)):
            self.form.addRow(label, widget)

    def _offer_tracking(self, untracked: Mapping[str, str]) -> None:
        """A class and a location only where the company tracks them (`untracked`: by field,
        why not and how to turn tracking on, shown in their place); a name the rule has
        already stays, to be cleared."""
        self.tracking_hints: dict[str, QLabel] = {}
        for key in TRACKED:
            combo, reason = self.names[key], untracked.get(key, "")
            hint = self.tracking_hints[key] = QLabel(reason)
            hint.setWordWrap(True)
            self.form.insertRow(self.form.getWidgetPosition(combo)[0] + 1, "", hint)
            self.form.setRowVisible(combo, not reason or bool(combo.currentText().strip()))
            self.form.setRowVisible(hint, bool(reason))

    @staticmethod
    def _name_combo(value: str, names: list[str]) -> QComboBox:
        """A name typed, or chosen from the company's list once the dialog has read it."""
        combo = QComboBox()
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        combo.addItems(["", *names])
        combo.setCurrentText(value)
        return combo

    def _add_row(self, condition: Condition | None) -> None:
        row = ConditionRow(condition)
        self.rows.append(row)
        row.remove.clicked.connect(lambda: self._remove_row(row))
        row.values.textChanged.connect(lambda _text: self._show_summary())
        row.field.currentIndexChanged.connect(lambda _i: self._show_summary())
        self._lay_out_rows()

    def _remove_row(self, row: ConditionRow) -> None:
        self.rows.remove(row)
        for widget in row.widgets():
            widget.deleteLater()
        self._lay_out_rows()

    def _lay_out_rows(self) -> None:
        for place, row in enumerate(self.rows):
            for column, widget in enumerate(row.widgets()):
                self.grid.addWidget(widget, place, column)
        self._show_summary()

    def built(self) -> Rule:
        """The rule the inputs describe, checked or not."""
        skip = self.skip.isChecked()
        customer = self.customer.currentData()
        return Rule(
            name=self.name.text().strip(), conditions=tuple(r.condition() for r in self.rows),
            skip=skip, skip_reason=self.skip_reason.text().strip() if skip else "",
            mode=None if skip or not self.mode.currentData()
            else TransactionMode(self.mode.currentData()),
            customer=None if skip or not customer else CustomerChoice(customer),
            customer_name=self.customer_name.text().strip()
            if customer == CustomerChoice.NAMED.value and not skip else "",
            **{key: "" if skip else combo.currentText().strip()
               for key, combo in self.names.items()},
            prefix=self.prefix.text().strip()
            if self.own_prefix.isChecked() and not skip else None)

    def _show_summary(self) -> None:
        skip = self.skip.isChecked()
        for widget in (self.mode, self.customer, self.own_prefix, *self.names.values()):
            widget.setEnabled(not skip)
        self.skip_reason.setEnabled(skip)
        self.customer_name.setEnabled(
            not skip and self.customer.currentData() == CustomerChoice.NAMED.value)
        self.prefix.setEnabled(not skip and self.own_prefix.isChecked())
        self.summary.setText(describe(self.built(), self.product))

    def accept(self) -> None:
        rule = self.built()
        problems = rule_problems(rule)
        self.problem.setText("\n".join(problems))
        if problems:
            return
        self.rule = rule
        super().accept()
