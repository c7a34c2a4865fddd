"""What the window shows before the first connection: try the demo, or add a connection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


class EmptyPage(QWidget):
    """A title, one sentence, and the two ways to begin; the window connects the buttons."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        title = QLabel("<h2>Book your store's orders into QuickBooks</h2>")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explanation = QLabel(
            "You have no connections yet. Try the demo: a sample store books its orders into a "
            "sample QuickBooks company on this computer, with nothing to type.\n"
            "Or add a connection for your own store.")
        explanation.setAlignment(Qt.AlignmentFlag.AlignCenter)
        explanation.setWordWrap(True)
        self.demo_button = QPushButton("Try the demo")
        self.demo_button.setDefault(True)
        self.add_button = QPushButton("Add a connection")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.demo_button)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        layout.addWidget(title)
        layout.addWidget(explanation)
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(2)
