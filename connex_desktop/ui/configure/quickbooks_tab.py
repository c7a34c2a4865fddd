"""The Configure dialog's QuickBooks tab: the company the connection books into."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.storage.repositories import MonthlyReads
from connex_desktop.sync.company_kind import CompanyKind


class QuickBooksTab(QWidget):
    """Which company the connection books into, and the button that connects it."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.company_label = QLabel()
        self.company_label.setWordWrap(True)
        self.kind_label = QLabel()      # country, tax mode and currencies, once read
        self.kind_label.setWordWrap(True)
        self.kind_label.setTextFormat(Qt.TextFormat.PlainText)
        self.reads_label = QLabel()     # the company's metered reads this month
        self.reads_label.setWordWrap(True)
        self.reads_label.setTextFormat(Qt.TextFormat.PlainText)
        self.connect_button = QPushButton("Connect to QuickBooks…")
        layout.addWidget(self.company_label)
        layout.addWidget(self.kind_label)
        layout.addWidget(self.reads_label)
        layout.addWidget(self.connect_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)

    def show_company(self, company: QuickBooksCompany | None) -> None:
        """The saved connection's company; None while the connection is not saved."""
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

    def show_kind(self, kind: CompanyKind | None) -> None:
        """The company's kind; None while it is read or not connected."""
        self.kind_label.setText(f"Company: {kind.describe()}" if kind is not None else "")

    def kind_failed(self, error: Exception) -> None:
        self.kind_label.setText(f"The company's country and tax settings could not be read: "
                                f"{error}")

    def show_reads(self, reads: MonthlyReads | None) -> None:
        """This month's reads for the company; None while they are counted or not known."""
        self.reads_label.setText(reads.describe() if reads is not None else "")

    def reads_failed(self, error: Exception) -> None:
        self.reads_label.setText(f"This month's QuickBooks reads could not be counted: {error}")
