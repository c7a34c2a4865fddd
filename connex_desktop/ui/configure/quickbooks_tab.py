"""The Configure dialog's QuickBooks tab: QuickBooks Online or Desktop, and the company the
connection books into."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from connex_desktop.connections import ConnectionService, chosen_company
from connex_desktop.core.connection import Connection, QuickBooksCompany, QuickBooksProduct
from connex_desktop.storage.repositories import MonthlyReads
from connex_desktop.sync.company_kind import CompanyKind
from connex_desktop.ui.configure.desktop_section import DesktopSection
from connex_desktop.ui.configure.form import FieldRows

PRODUCTS = ((QuickBooksProduct.ONLINE, "QuickBooks Online"),
            (QuickBooksProduct.DESKTOP, "QuickBooks Desktop"))


class QuickBooksTab(QWidget):
    """QuickBooks Online or Desktop; for Online, which company the connection books into and
    the button that connects it; for Desktop, the DesktopSection."""

    def __init__(self, rows: FieldRows, service: ConnectionService, folder_id: str) -> None:
        super().__init__()
        self.product = QComboBox()
        for product, label in PRODUCTS:
            self.product.addItem(label, product.value)
        choice = QFormLayout()
        rows.add(choice, "QuickBooks", self.product, "product")
        self.online = QWidget()
        layout = QVBoxLayout(self.online)
        layout.setContentsMargins(0, 0, 0, 0)
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
        self.desktop = DesktopSection(rows, service, folder_id)
        column = QVBoxLayout(self)
        column.addLayout(choice)
        column.addWidget(self.online)
        column.addWidget(self.desktop)
        column.addStretch(1)
        self.product.currentIndexChanged.connect(self._show_product)

    def load(self, connection: Connection) -> None:
        """The connection's choice of QuickBooks and its Desktop settings."""
        self.product.setCurrentIndex(max(0, self.product.findData(
            connection.quickbooks.product.value)))
        self.desktop.load(connection)
        self._show_product()

    def read(self, company: QuickBooksCompany) -> QuickBooksCompany:
        """`company` with the form's choice of QuickBooks (and Desktop settings)."""
        product = QuickBooksProduct(self.product.currentData())
        if product is QuickBooksProduct.ONLINE:
            return chosen_company(company, product, None, None)
        desktop = self.desktop.read(company)
        return chosen_company(company, product, desktop.company_file,
                              desktop.desktop_transport)

    def _show_product(self) -> None:
        desktop = self.product.currentData() == QuickBooksProduct.DESKTOP.value
        self.online.setVisible(not desktop)
        self.desktop.setVisible(desktop)

    def show_company(self, company: QuickBooksCompany | None,
                     demo_address: str | None = None) -> None:
        """The saved connection's company; None while the connection is not saved. A demo's
        company is where its sandbox answers now (`demo_address`, "" while not running)."""
        if company is None:
            self.company_label.setText("Save this connection first; then connect it to "
                                       "QuickBooks here or from the list.")
            self.connect_button.setEnabled(False)
        elif company.connected:
            where = (company.environment if demo_address is None else
                     demo_address or "the demo's sandbox on this computer, started when needed")
            self.company_label.setText(
                f"Connected to <b>{escape(company.company_name or company.realm_id)}</b> "
                f"({escape(where, quote=False)}).")
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
