"""The Configure dialog's Rules tab: the connection's rules in order, each with its orders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.core.connection import Connection, QuickBooksProduct
from connex_desktop.core.model import Order
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.rules import Rule, describe, rule_counts, rules_problems
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sync.company_kind import CompanyKind, untracked_for
from connex_desktop.ui.configure.rule_editor import RuleEditor

COUNTED_DAYS = 30
RULES_KEY = "rules"


def recent_orders(app: App, connection: Connection, *, today: date | None = None) -> list[Order]:
    """The store's orders of the last COUNTED_DAYS days, read from the store only (run in the
    background): what the rules' counts are worked out on."""
    start = (today or date.today()) - timedelta(days=COUNTED_DAYS)
    source = app.source_for(connection)
    return [order for order in source.fetch_orders(OrderQuery(created_from=start), CancelToken())
            if isinstance(order, Order)]


class RulesTab(QWidget):
    """Rules decide per order, top first; the connection's settings book what none takes."""

    def __init__(self, error_label: QLabel) -> None:
        super().__init__()
        self.rules: list[Rule] = []
        self.orders: list[Order] | None = None   # the last days' orders, once read
        self.editor: RuleEditor | None = None    # open while a rule is edited
        self.company_lists: dict[str, list[str]] = {}   # once the dialog has read them
        self.kind: CompanyKind | None = None              # once the dialog has read it
        self.product: Callable[[], QuickBooksProduct] = lambda: QuickBooksProduct.ONLINE
        self.rule_list = QListWidget()
        self.rule_list.setAccessibleName("Rules, the first that matches an order decides it")
        self.rule_list.itemDoubleClicked.connect(lambda _item: self.edit_rule())
        self.counts_label = QLabel()
        self.counts_label.setWordWrap(True)
        self.add_button = QPushButton("Add rule…")
        self.edit_button = QPushButton("Edit…")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.add_button.clicked.connect(lambda: self._open_editor(None))
        self.edit_button.clicked.connect(self.edit_rule)
        self.remove_button.clicked.connect(self.remove_rule)
        self.up_button.clicked.connect(lambda: self.move_rule(-1))
        self.down_button.clicked.connect(lambda: self.move_rule(+1))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.remove_button, self.up_button,
                       self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        hint = QLabel("Each order is booked as the first rule whose conditions it meets says; "
                      "the connection's own settings book the rest. Changing a rule never "
                      "books an order again that was booked already.")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        for widget in (hint, self.rule_list):
            layout.addWidget(widget)
        layout.addLayout(buttons)
        layout.addWidget(self.counts_label)
        layout.addWidget(error_label)
        self.rule_list.currentRowChanged.connect(lambda _row: self._enable_buttons())
        self._show()

    def load(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)
        self._show()

    def problems(self) -> dict[str, str]:
        problems = rules_problems(self.rules)
        return {RULES_KEY: "\n".join(problems)} if problems else {}

    # ── the orders each rule takes ─────────────────────────────────────────────────────────

    def orders_loading(self) -> None:
        self.counts_label.setText(f"Reading the last {COUNTED_DAYS} days' orders from the store "
                                  "to count those each rule takes…")

    def set_orders(self, orders: list[Order]) -> None:
        self.orders = orders
        self._show()

    def orders_failed(self, error: Exception) -> None:
        self.counts_label.setText(f"The store's orders could not be read to count them: "
                                  f"{error}")

    # ── editing ────────────────────────────────────────────────────────────────────────────

    def edit_rule(self) -> None:
        row = self.rule_list.currentRow()
        if 0 <= row < len(self.rules):
            self._open_editor(row)

    def remove_rule(self) -> None:
        row = self.rule_list.currentRow()
        if 0 <= row < len(self.rules):
            del self.rules[row]
            self._show(min(row, len(self.rules) - 1))

    def move_rule(self, step: int) -> None:
        row = self.rule_list.currentRow()
        to = row + step
        if 0 <= row < len(self.rules) and 0 <= to < len(self.rules):
            self.rules.insert(to, self.rules.pop(row))
            self._show(to)

    def _open_editor(self, row: int | None) -> None:
        # The window's child, not the tab's: the dialog tells a changed form by the tabs'
        # inputs, and an editor's own inputs are none of them.
        editor = RuleEditor(self.rules[row] if row is not None else None,
                            lists=self.company_lists, untracked=self.untracked(),
                            product=self.product(),
                            parent=self.window())
        editor.finished.connect(lambda _code: self._edited(editor, row))
        self.editor = editor
        editor.open()

    def untracked(self) -> dict[str, str]:
        """The rule fields the company takes no name for, each with why and how to change
        that; before the company's kind is read, only Desktop's locations (it has none)."""
        return untracked_for(self.kind, self.product())

    def _edited(self, editor: RuleEditor, row: int | None) -> None:
        self.editor = None
        if editor.rule is None:
            return
        if row is None:
            self.rules.append(editor.rule)
            row = len(self.rules) - 1
        else:
            self.rules[row] = editor.rule
        self._show(row)

    # ── showing ────────────────────────────────────────────────────────────────────────────

    def show_product(self) -> None:
        """The rules again, in the words of the QuickBooks now chosen."""
        self._show(self.rule_list.currentRow())

    def _show(self, current: int | None = None) -> None:
        counts, unruled = rule_counts(self.rules, self.orders or [])
        self.rule_list.clear()
        for place, (rule, count) in enumerate(zip(self.rules, counts, strict=True), start=1):
            taken = f" — {_orders(count)}" if self.orders is not None else ""
            described = describe(rule, self.product())
            self.rule_list.addItem(f"{place}. {rule.name}: {described}{taken}")
        if current is not None and self.rules:
            self.rule_list.setCurrentRow(current)
        if self.orders is not None:
            self.counts_label.setText(
                f"Of the last {COUNTED_DAYS} days' {_orders(len(self.orders))}, the "
                f"connection's own settings would book {unruled}.")
        self._enable_buttons()

    def _enable_buttons(self) -> None:
        row = self.rule_list.currentRow()
        chosen = 0 <= row < len(self.rules)
        for button in (self.edit_button, self.remove_button):
            button.setEnabled(chosen)
        self.up_button.setEnabled(chosen and row > 0)
        self.down_button.setEnabled(chosen and row < len(self.rules) - 1)


def _orders(count: int) -> str:
    return f"{count} order" + ("" if count == 1 else "s")
