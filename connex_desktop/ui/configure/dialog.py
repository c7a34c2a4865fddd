"""The Configure dialog: its tabs read and fill the form; the connection service saves it."""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMessageBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from connex_desktop.app import App
from connex_desktop.core.app_settings import KEYRING_FOLDER_ID
from connex_desktop.core.connection import (
    Connection,
    QuickBooksCompany,
    QuickBooksMapping,
    QuickBooksProduct,
)
from connex_desktop.core.errors import ConnexError
from connex_desktop.core.modes import TransactionMode
from connex_desktop.sync.company_kind import CompanyKind
from connex_desktop.sync.desktop_lists import kept_product
from connex_desktop.ui.background import run_in_background
from connex_desktop.ui.configure.form import FieldRows
from connex_desktop.ui.configure.mapping_tab import MappingTab, company_lists, read_company_kind
from connex_desktop.ui.configure.quickbooks_tab import QuickBooksTab
from connex_desktop.ui.configure.rules_tab import RULES_KEY, RulesTab, recent_orders
from connex_desktop.ui.configure.schedule_tab import ScheduleTab
from connex_desktop.ui.configure.store_tab import StoreTab
from connex_desktop.ui.configure.transactions_tab import TransactionsTab
from connex_desktop.ui.connect_dialog import ConnectDialog
from connex_desktop.ui.screen_fit import fit_to_screen


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
        self.rows = FieldRows()
        self.errors, self.hints = self.rows.errors, self.rows.hints
        self.discard_question: QMessageBox | None = None   # open while the user decides
        self._fetching_orders = False   # the Rules tab's recent orders are being read
        self.setWindowTitle(f"Configure {connection.name}" if connection else "Add a connection")
        fit_to_screen(self, 720, 560)

        self.store = StoreTab(app.connection_service(), self.rows,
                              editing=connection is not None and connection.id is not None)
        self.quickbooks = QuickBooksTab(self.rows, app.connection_service(),
                                        app.settings.get(KEYRING_FOLDER_ID))
        self.transactions = TransactionsTab(self.rows)
        self.mapping = MappingTab(self.rows.add)
        self.schedule = ScheduleTab(self.rows)
        self.rules = RulesTab(self.rows.error_label(RULES_KEY))
        self.rules.product = self.mapping.product = lambda: QuickBooksProduct(
            self.quickbooks.product.currentData())
        self.quickbooks.product.currentIndexChanged.connect(lambda _index: self._product_chosen())
        self.quickbooks.desktop.product_found.connect(self.transactions.set_desktop_product)
        self.tabs = QTabWidget()
        for tab, title in ((self.store, "Store"), (self.quickbooks, "QuickBooks"),
                           (self.transactions, "Transactions"), (self.mapping, "Mapping"),
                           (self.rules, "Rules"), (self.schedule, "Automatic sync")):
            self.tabs.addTab(tab, title)
        self.tabs.currentChanged.connect(lambda _index: self.fetch_recent_orders())
        self.store.kind_changed.connect(lambda: self.transactions.set_source(self.store.source))
        self.quickbooks.connect_button.clicked.connect(self._open_connect_dialog)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.buttons)

        self._load(connection or Connection(name="", source_kind=next(iter(app.source_kinds), ""),
                                            mode=TransactionMode.INVOICES_WITH_PAYMENTS))
        self.store.name_edit.setFocus()
        self._loaded_state = self._form_state()
        self.fetch_company_lists()
        self.fetch_reads()

    def _load(self, connection: Connection) -> None:
        self.store.load(connection)
        self.transactions.load(connection, self.store.source)
        self.transactions.set_desktop_product(
            kept_product(self._app.references, connection.quickbooks))
        self.mapping.load(connection.mapping)
        self.rules.load(connection.rules)
        self.schedule.load(connection.schedule)
        self.quickbooks.load(connection)
        self._show_company()

    # ── QuickBooks ──────────────────────────────────────────────────────────────────────────

    def _product_chosen(self) -> None:
        """What depends on the QuickBooks chosen follows it: its words, the rows it offers."""
        self.mapping.show_tracking_rows()
        self.transactions.set_product(self.rules.product())
        self.rules.show_product()

    def _show_company(self) -> None:
        original = self._original
        self.quickbooks.show_company(self._current_quickbooks(), None if original is None
                                     else self._app.demo_address(original))

    def _current_quickbooks(self) -> QuickBooksCompany | None:
        """The saved connection's company as it is now (the connect dialog may change it)."""
        if self._original is None or self._original.id is None:
            return None
        return self._app.connections.get_by_id(self._original.id).quickbooks

    def _open_connect_dialog(self) -> None:
        assert self._original is not None and self._original.id is not None
        dialog = ConnectDialog(self._app, self._app.connections.get_by_id(self._original.id),
                               parent=self)
        dialog.exec()
        self._show_company()
        self.fetch_company_lists()
        self.fetch_reads()

    def fetch_company_lists(self) -> None:
        """Fill the mapping choices from the company's lists, then show the company's kind and
        the tax mapping that fits it, in the background."""
        company = self._current_quickbooks()
        self.quickbooks.show_kind(None)
        if company is None or not company.connected:
            self.mapping.lists_label.setText("Connect to QuickBooks to choose from the "
                                             "company's own lists; until then, type the names.")
            return
        self.mapping.lists_label.setText(
            f"Loading the lists of {company.company_name or 'the company'}…")
        assert self._original is not None
        app, saved = self._app, dataclasses.replace(self._original, quickbooks=company)

        def lists() -> tuple[dict[str, list[str]], Connection]:
            # The demo's company may not be running yet (a new start of the app).
            connection = dataclasses.replace(
                saved, quickbooks=app.with_demo_running(saved).quickbooks)
            return company_lists(app, connection), connection

        run_in_background(lists, on_success=lambda answer: self._lists_loaded(*answer),
                          on_failure=self.mapping.lists_failed, owner=self)

    def _lists_loaded(self, lists: dict[str, list[str]], connection: Connection) -> None:
        self._show_company()     # the demo's company runs now, at its address of this start
        self.mapping.fill(lists, connection.quickbooks.company_name)
        self.rules.company_lists = lists
        if connection.quickbooks.product is QuickBooksProduct.DESKTOP:
            return    # its kind is read by a sync (Configure would wait for the Web Connector)
        app = self._app
        run_in_background(lambda: read_company_kind(app, connection),
                          on_success=self._kind_read, on_failure=self.quickbooks.kind_failed,
                          owner=self)

    def _kind_read(self, kind: CompanyKind) -> None:
        self.quickbooks.show_kind(kind)
        self.mapping.show_kind(kind)
        self.rules.kind = kind

    def fetch_reads(self) -> None:
        """Count the company's QuickBooks reads this month, in the background."""
        self.quickbooks.show_reads(None)
        company = self._current_quickbooks()
        if company is None or not company.connected:
            return
        runs = self._app.runs
        run_in_background(lambda: runs.reads_this_month(company.realm_id),
                          on_success=self.quickbooks.show_reads,
                          on_failure=self.quickbooks.reads_failed)

    def fetch_recent_orders(self) -> None:
        """The first time the Rules tab is shown for a saved connection, read the store's
        recent orders in the background to count those each rule takes."""
        if (self.tabs.currentWidget() is not self.rules or self.rules.orders is not None
                or self._original is None or self._original.id is None
                or self._fetching_orders):
            return
        self._fetching_orders = True
        self.rules.orders_loading()
        app, connection = self._app, self._original
        run_in_background(lambda: recent_orders(app, connection),
                          on_success=self.rules.set_orders, on_failure=self.rules.orders_failed)

    # ── validate, save ──────────────────────────────────────────────────────────────────────

    def validate(self) -> tuple[Connection | None, dict[str, str], dict[str, str]]:
        """(the connection to save, the secrets typed, the problems by field key): what the
        form holds, checked by the connection service and by the tabs for their own inputs."""
        settings, typed = self.store.values()
        company = self._current_quickbooks()
        base = self._original or Connection(name="", source_kind="",
                                            mode=TransactionMode.INVOICES_WITH_PAYMENTS)
        mapping_base = base.mapping if self._original else QuickBooksMapping()
        mapping, problems = self.mapping.read(mapping_base,
                                              company.company_name if company else "")
        schedule, schedule_problems = self.schedule.read()
        problems.update(schedule_problems)
        tab = self.transactions
        source = self.store.source
        connection = dataclasses.replace(
            base, name=self.store.name_edit.text().strip(),
            source_kind=source.kind if source else "",
            mode=TransactionMode(tab.mode_combo.currentData()), source_settings=settings,
            statuses=tab.statuses(), use_qb_numbering=tab.qb_numbering.isChecked(),
            prefix=tab.prefix_edit.text().strip(), mapping=mapping, schedule=schedule,
            quickbooks=self.quickbooks.read(company or base.quickbooks),
            sync_purchase_orders=tab.syncs_purchase_orders(), rules=tuple(self.rules.rules))
        for problem in self._app.connection_service().problems(connection, typed):
            problems.setdefault(problem.field, problem.message)
        return (None if problems else connection), typed, problems

    def show_problems(self, problems: dict[str, str]) -> None:
        """Each problem under its field, and the tab of the first one shown."""
        first = self.rows.show(problems)
        if first is not None:
            self.tabs.setCurrentIndex(next(
                index for index in range(self.tabs.count())
                if self.tabs.widget(index).isAncestorOf(first)))
        unplaced = [message for key, message in problems.items() if key not in self.errors]
        if unplaced:   # no field of the form to show them under
            QMessageBox.warning(self, "Not saved", "\n".join(unplaced))

    def save(self) -> bool:
        """Validate everything, then save the connection and its typed secrets together."""
        connection, typed, problems = self.validate()
        self.show_problems(problems)
        if connection is None:
            return False
        service = self._app.connection_service()
        try:
            self.saved = service.add(connection, typed) if connection.id is None else \
                service.update(connection, typed, new_store=self.store.new_store_check.isChecked())
        except ConnexError as error:
            if error.field in self.errors:
                self.show_problems({error.field: error.message})
            else:
                QMessageBox.warning(self, "Not saved", str(error))
            return False
        self.accept()
        return True

    # ── cancel ──────────────────────────────────────────────────────────────────────────────

    def _form_state(self) -> dict[object, object]:
        """Every input's value, to tell whether the user changed anything; by input, since a
        tab shown is raised and so reorders the widgets found."""
        state: dict[object, object] = {edit: edit.text()
                                       for edit in self.tabs.findChildren(QLineEdit)}
        state |= {button: button.isChecked() for button in
                  self.tabs.findChildren(QAbstractButton) if button.isCheckable()}
        state |= {combo: combo.currentText() for combo in self.tabs.findChildren(QComboBox)}
        return state | {"statuses": self.transactions.status_states(),
                        "rules": list(self.rules.rules)}

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
