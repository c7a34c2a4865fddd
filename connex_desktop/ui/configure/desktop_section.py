"""The QuickBooks tab's QuickBooks Desktop part: the company file, how the app reaches it (this
computer, or the Web Connector with its .qwc file and password), and the connection test."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
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

from connex_desktop.connections import ConnectionService
from connex_desktop.core.connection import (
    Connection,
    DesktopTransport,
    QuickBooksCompany,
    QuickBooksProduct,
)
from connex_desktop.qbdesktop.com import direct_transport_unavailable
from connex_desktop.qbdesktop.com_helper import check_this_computer
from connex_desktop.qbdesktop.company_check import DesktopCompany
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.colors import error_style, ok_style
from connex_desktop.ui.configure.form import FieldRows, read_secret_for

TRANSPORTS = ((DesktopTransport.THIS_COMPUTER, "This computer"),
              (DesktopTransport.WEB_CONNECTOR, "Web Connector"))
NUMBERING_NOTE = ("QuickBooks Desktop keeps at most 11 characters of a document number: an "
                  "order number (with its prefix) longer than that gets QuickBooks' own number, "
                  "with the order number in the memo.")
WEB_CONNECTOR_STEPS = (
    "In the QuickBooks Web Connector (on the computer with QuickBooks): Add an application, "
    "choose the saved .qwc file, allow it in QuickBooks, then type the password below into its "
    "Password column. Update Selected sends what a sync queued; Auto-Run every few minutes "
    "keeps it going.")


def row_of(*widgets: QWidget, wide: QWidget) -> QWidget:
    """Widgets side by side, left to right, `wide` taking the room left."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget, 1 if widget is wide else 0)
    return box


class DesktopSection(QWidget):
    """The Desktop settings of one connection; the .qwc file and password need it saved."""

    product_found = Signal(str)     # the QuickBooks the connection test reached

    def __init__(self, rows: FieldRows, service: ConnectionService, folder_id: str) -> None:
        super().__init__()
        self._service = service
        self._folder_id = folder_id
        self._connection: Connection | None = None
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        self.company_file = QLineEdit()
        self.company_file.setPlaceholderText("The company file open in QuickBooks")
        rows.add(form, "Company file", self._with_browse(), "company_file",
                 "Its full path, where QuickBooks runs; blank: the file open in QuickBooks.")
        self.transport = QComboBox()
        for transport, label in TRANSPORTS:
            self.transport.addItem(label, transport.value)
        rows.add(form, "Reach QuickBooks through", self.transport, "desktop_transport",
                 "This computer: QuickBooks runs on this Windows PC. Web Connector: Intuit's "
                 "Web Connector passes the app's requests to QuickBooks, on any computer.")
        self.web_connector = self._web_connector_box()
        form.addRow(self.web_connector)
        self.this_computer = self._test_box()
        form.addRow(self.this_computer)
        note = QLabel(NUMBERING_NOTE)
        note.setWordWrap(True)
        form.addRow(note)
        self.transport.currentIndexChanged.connect(self._show_transport)

    def _with_browse(self) -> QWidget:
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        box = row_of(self.company_file, browse, wide=self.company_file)
        box.setFocusProxy(self.company_file)
        return box

    def _web_connector_box(self) -> QWidget:
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        self.web_connector_steps = QLabel(WEB_CONNECTOR_STEPS)
        self.web_connector_steps.setWordWrap(True)
        self.save_qwc_button = QPushButton("Save .qwc file…")
        self.save_qwc_button.clicked.connect(self.save_qwc)
        self.password = QLineEdit()
        self.password.setReadOnly(True)
        self.password.setPlaceholderText("Made when the .qwc file is saved")
        self.password.setAccessibleName("Web Connector password")
        copy = QPushButton("Copy password")
        copy.clicked.connect(lambda: QApplication.clipboard().setText(self.password.text()))
        password_row = QHBoxLayout()
        caption = QLabel("Password:")
        caption.setBuddy(self.password)
        password_row.addWidget(caption)
        password_row.addWidget(self.password, 1)
        password_row.addWidget(copy)
        self.qwc_result = QLabel()
        self.qwc_result.setWordWrap(True)
        column.addWidget(self.web_connector_steps)
        column.addWidget(self.save_qwc_button)
        column.addLayout(password_row)
        column.addWidget(self.qwc_result)
        return box

    def _test_box(self) -> QWidget:
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.test_result = QLabel()
        self.test_result.setWordWrap(True)
        return row_of(self.test_button, self.test_result, wide=self.test_result)

    # ── load, read ──────────────────────────────────────────────────────────────────────────

    def load(self, connection: Connection) -> None:
        """The connection's Desktop settings (as saved: the .qwc file names it)."""
        self._connection = connection
        company = connection.quickbooks
        self.company_file.setText(company.company_file)
        self.transport.setCurrentIndex(max(0, self.transport.findData(
            company.desktop_transport.value)))
        saved = connection.id is not None
        self.save_qwc_button.setEnabled(saved)
        connection_id = connection.id
        self.password.setText(read_secret_for(self.password, lambda: (
            self._service.web_connector_password(connection_id, create=False)
            if connection_id is not None else "")) or "")
        self.qwc_result.setText("" if saved else "Save this connection first; then save its "
                                                 ".qwc file here.")
        self._show_transport()

    def read(self, company: QuickBooksCompany) -> QuickBooksCompany:
        return dataclasses.replace(company, company_file=self.company_file.text().strip(),
                                   desktop_transport=DesktopTransport(self.transport.currentData()))

    def _show_transport(self) -> None:
        web = self.transport.currentData() == DesktopTransport.WEB_CONNECTOR.value
        self.web_connector.setVisible(web)
        self.this_computer.setVisible(not web)
        unavailable = direct_transport_unavailable()
        self.test_button.setEnabled(not unavailable)
        self._say(self.test_result, unavailable, ok=False)

    # ── actions ─────────────────────────────────────────────────────────────────────────────

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Company file", self.company_file.text(),
                                              "QuickBooks company files (*.qbw)")
        if path:
            self.company_file.setText(str(Path(path)))

    def save_qwc(self) -> None:
        """Write the connection's .qwc file where the user chooses."""
        connection = self._connection
        if connection is None or connection.id is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save .qwc file", f"{connection.name}.qwc",
                                              "Web Connector files (*.qwc)")
        if not path:
            return
        try:
            Path(path).write_text(self._service.web_connector_file(connection, self._folder_id),
                                  encoding="utf-8")
        except OSError as error:
            self._say(self.qwc_result, f"The .qwc file could not be saved: {error}", ok=False)
            return
        self.password.setText(self._service.web_connector_password(connection.id))
        self._say(self.qwc_result, f"Saved {path}. Add it in the Web Connector, then type the "
                                   "password below into it.", ok=True)

    def test_connection(self) -> None:
        """Read the company from QuickBooks on this computer, in the background."""
        company_file = self.company_file.text().strip()
        self.test_button.setEnabled(False)
        self.test_result.setStyleSheet("")
        self.test_result.setText("Testing…")
        run_in_background(lambda: check_this_computer(company_file),
                          on_success=lambda company: self._tested(company, company_file),
                          on_failure=self._test_failed)

    def _tested(self, company: DesktopCompany, company_file: str) -> None:
        self.test_button.setEnabled(True)
        self._say(self.test_result, f"Connected to {company.describe()}.", ok=True)
        saved = self._connection.quickbooks if self._connection is not None else None
        if (saved is not None and saved.product is QuickBooksProduct.DESKTOP
                and saved.company_file == company_file):    # the saved file: its realm known
            self._service.keep_desktop_company(saved, company.product, company.country)
        self.product_found.emit(company.product)

    def _test_failed(self, error: Exception) -> None:
        self.test_button.setEnabled(True)
        detail = getattr(error, "detail", "")
        self._say(self.test_result, str(error) + (f"\n{detail}" if detail else ""), ok=False)

    @staticmethod
    def _say(label: QLabel, text: str, *, ok: bool) -> None:
        label.setStyleSheet(ok_style() if ok else error_style())
        label.setText(text)
