"""The Configure dialog's labelled rows, each with its help line and its error label."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from connex_desktop.storage.keyring_secrets import KeyringUnavailable
from connex_desktop.ui.colors import error_style, hint_style

NO_KEYRING_HINT = "No system keyring on this computer to keep it in"
T = TypeVar("T")


def read_secret_for(edit: QLineEdit, read: Callable[[], T]) -> T | None:
    """`read()` of a secret shown in `edit`; None when there is no keyring to read, the field
    then saying so: the form still opens (the demo runs without a keyring)."""
    try:
        return read()
    except KeyringUnavailable:
        edit.setPlaceholderText(NO_KEYRING_HINT)
        return None


class ErrorLabel(QLabel):
    """What is wrong with one field, shown under it; hidden while nothing is."""

    def __init__(self) -> None:
        super().__init__()
        self.setStyleSheet(error_style())
        self.setWordWrap(True)
        self.hide()

    def show_error(self, message: str) -> None:
        self.setText(message)
        self.setVisible(bool(message))


class FieldRows:
    """The rows of every tab's form, with their error labels and help lines by field key (the
    keys the connection service names problems by)."""

    def __init__(self) -> None:
        self.errors: dict[str, ErrorLabel] = {}
        self.hints: dict[str, QLabel] = {}

    def add(self, form: QFormLayout, label: str, widget: QWidget, key: str,
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
            hint.setStyleSheet(hint_style())
            column.addWidget(hint)
            self.hints[key] = hint
        column.addWidget(self.error_label(key))
        caption = QLabel(label)
        target = widget.focusProxy() or widget
        caption.setBuddy(target)
        target.setAccessibleName(label)
        form.addRow(caption, box)

    def error_label(self, key: str) -> ErrorLabel:
        """The error label of the field `key`, for a tab to place where it belongs."""
        self.errors[key] = ErrorLabel()
        return self.errors[key]

    def forget(self, prefix: str) -> None:
        """Forget the rows whose keys start with `prefix` (their widgets were removed)."""
        for key in [key for key in self.errors if key.startswith(prefix)]:
            del self.errors[key]
            self.hints.pop(key, None)

    def show(self, problems: dict[str, str]) -> ErrorLabel | None:
        """Show each problem under its field and clear the others; the first one's label."""
        for key, label in self.errors.items():
            label.show_error(problems.get(key, ""))
        return next((label for key, label in self.errors.items() if key in problems), None)

