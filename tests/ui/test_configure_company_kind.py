"""Configure shows the company's kind and the tax mapping that fits it; prefixed numbers warn."""

from __future__ import annotations

from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.ui.configure import ConfigureDialog
from connex_desktop.ui.configure.mapping_tab import AUTOMATED_TAX_NOTE
from tests.sync import test_tax_by_company
from tests.sync.conftest import connect, docs, money_of, row, write_orders
from tests.sync.test_tax_by_company import kind, line_codes

company = test_tax_by_company.company   # the fixture: a sandbox company of the kind asked for


def open_dialog(qtbot, app, connection):
    """The dialog once the company's kind is read."""
    dialog = ConfigureDialog(app, connection)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.quickbooks.kind_label.text() != "", timeout=20_000)
    return dialog


def shop(app, company, tmp_path, rows=()):
    return connect(app, company, "Shop", TransactionMode.INVOICES,
                   write_orders(tmp_path / "orders.csv", list(rows) or [row("1", "HDL-400L")]))


def tax_rows_shown(dialog) -> tuple[bool, bool, bool]:
    """Whether the tax code, the automated tax note and the rate table are shown."""
    mapping = dialog.mapping
    return (not mapping.tax_code.parentWidget().isHidden(), not mapping.tax_note.isHidden(),
            not mapping.tax_codes.parentWidget().isHidden())


@kind("us")
def test_a_us_legacy_company_is_named_and_keeps_its_tax_code_choice(qtbot, app, company,
                                                                     tmp_path):
    dialog = open_dialog(qtbot, app, shop(app, company, tmp_path))
    assert dialog.quickbooks.kind_label.text() == (
        "Company: United States, US legacy sales tax, home currency USD, multicurrency off.")
    assert tax_rows_shown(dialog) == (True, False, False)


@kind("us-ast")
def test_automated_sales_tax_has_no_code_to_choose(qtbot, app, company, tmp_path):
    dialog = open_dialog(qtbot, app, shop(app, company, tmp_path))
    assert dialog.quickbooks.kind_label.text() == (
        "Company: United States, US automated sales tax, home currency USD, multicurrency off.")
    assert tax_rows_shown(dialog) == (False, True, False)
    assert dialog.mapping.tax_note.text() == AUTOMATED_TAX_NOTE


@kind("uk")
def test_a_vat_companys_rate_table_is_prefilled_edited_saved_and_booked_with(
        qtbot, app, company, tmp_path):
    rows = [row("3007", "MAP-TRL-CA", "1", "12.00", tax_rate="0", currency="GBP"),
            row("3007", "HDL-400L", "1", "10.00", tax_rate="20", tax_amount="2.00")]
    connection = shop(app, company, tmp_path, rows)
    dialog = open_dialog(qtbot, app, connection)
    assert dialog.quickbooks.kind_label.text() == (
        "Company: United Kingdom, VAT, home currency GBP, multicurrency off.")
    assert tax_rows_shown(dialog) == (False, False, True)
    table = dialog.mapping.tax_codes
    assert table.table() == {"20": "20.0% S", "5": "5.0% R", "0": "0.0% Z"}

    zero_row = [table.item(r, 0).text() for r in range(table.rowCount())].index("0")
    table.item(zero_row, 1).setText("Exempt")     # zero-rated sales booked as exempt instead
    assert dialog.save()
    saved = app.connections.get_by_id(connection.id)
    assert saved.mapping.tax_codes == {"20": "20.0% S", "5": "5.0% R", "0": "Exempt"}

    result = app.engine().run(saved)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    assert line_codes(company, invoice) == ["Exempt", "20.0% S"]
    assert money_of(invoice["TotalAmt"]) == money_of("24.00")


@kind("uk")
def test_a_tax_code_the_company_lacks_is_refused_naming_it(qtbot, app, company, tmp_path):
    connection = shop(app, company, tmp_path)
    dialog = open_dialog(qtbot, app, connection)
    table = dialog.mapping.tax_codes
    table.item(table.rowCount() - 1, 0).setText("17.5")      # the blank last row
    table.item(table.rowCount() - 2, 1).setText("17.5% Old standard")
    assert not dialog.save()
    message = dialog.errors["tax_codes"].text()
    assert "'17.5% Old standard'" in message and "20.0% S" in message
    assert app.connections.get_by_id(connection.id).mapping.tax_codes == {}


def test_a_prefix_without_quickbooks_numbering_warns_of_the_next_manual_invoice(qtbot, app):
    dialog = ConfigureDialog(app, None)
    qtbot.addWidget(dialog)
    transactions = dialog.transactions
    assert transactions.prefix_warning.isHidden()
    transactions.prefix_edit.setText("WEB-")
    assert not transactions.prefix_warning.isHidden()
    assert "WEB-1002" in transactions.prefix_warning.text()
    assert "Use QuickBooks numbering" in transactions.prefix_warning.text()
    transactions.qb_numbering.setChecked(True)
    assert transactions.prefix_warning.isHidden()
    transactions.qb_numbering.setChecked(False)
    assert not transactions.prefix_warning.isHidden()
    transactions.prefix_edit.setText("")
    assert transactions.prefix_warning.isHidden()
