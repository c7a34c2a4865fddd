"""The Mapping tab's rate → tax code table of a VAT/GST company."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from connex_desktop.sync.company_kind import CompanyKind
from connex_desktop.sync.company_setup import unknown_tax_codes


class TaxCodesTable(QTableWidget):
    """A store's tax rate (or its name for a tax) → the QuickBooks tax code to book it with;
    the last row is always blank, to add one."""

    def __init__(self) -> None:
        super().__init__(0, 2)
        self.setHorizontalHeaderLabels(["Store's rate or tax name", "QuickBooks tax code"])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        self.setMaximumHeight(170)
        self.itemChanged.connect(lambda _item: self._keep_a_blank_row())
        self.load({})

    def load(self, table: dict[str, str]) -> None:
        self.setRowCount(0)
        for rate, code in table.items():
            self._append(rate, code)
        self._keep_a_blank_row()

    def table(self) -> dict[str, str]:
        return {rate: code for rate, code in self._rows() if rate or code}

    def problems(self, kind: CompanyKind | None, company_name: str) -> str | None:
        """A row without its rate, or a code the company does not have (once its kind is known)."""
        if any(code and not rate for rate, code in self._rows()):
            return "Give each tax code the store's rate (e.g. 20) or the store's name for the tax."
        if any(rate and not code for rate, code in self._rows()):
            return "Choose the QuickBooks tax code of each rate, or clear the row."
        return unknown_tax_codes(self.table(), kind.tax, company_name) if kind else None

    def _rows(self) -> list[tuple[str, str]]:
        return [(self._text(row, 0), self._text(row, 1)) for row in range(self.rowCount())]

    def _text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text().strip() if item is not None else ""

    def _append(self, rate: str, code: str) -> None:
        row = self.rowCount()
        self.blockSignals(True)
        self.insertRow(row)
        self.setItem(row, 0, QTableWidgetItem(rate))
        self.setItem(row, 1, QTableWidgetItem(code))
        self.blockSignals(False)

    def _keep_a_blank_row(self) -> None:
        if self.rowCount() == 0 or any(self._rows()[-1]):
            self._append("", "")
