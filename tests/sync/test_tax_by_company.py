"""Tax in each kind of QuickBooks company: automated sales tax, legacy US, VAT and GST."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from connex_desktop.core.connection import QuickBooksMapping, TaxPolicy
from connex_desktop.core.ledger_state import LedgerState
from connex_desktop.core.model import Refund
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sync.tax import SaleTax
from tests.sync.conftest import connect, docs, money_of, row, write_orders
from tests.sync.test_refunds import refunding  # noqa: F401  (a fixture)

D = Decimal
ALL = OrderQuery()
SALE_ENTITIES = ("Estimate", "Invoice", "SalesReceipt")
COUNTED = (*SALE_ENTITIES, "Payment", "Customer", "Item")


@pytest.fixture
def company(request) -> Iterator[SandboxServer]:
    with SandboxServer(kind=request.param) as server:
        yield server


def kind(name: str):
    return pytest.mark.parametrize("company", [name], indirect=True, ids=[name])


def sales(sandbox: SandboxServer) -> list[dict]:
    return [doc for entity in SALE_ENTITIES for doc in docs(sandbox, entity)]


def codes_by_id(sandbox: SandboxServer) -> dict[str, str]:
    return {code["Id"]: code["Name"] for code in docs(sandbox, "TaxCode")}


def line_codes(sandbox: SandboxServer, document: dict) -> list[str]:
    """The name of each product and shipping line's tax code."""
    names = codes_by_id(sandbox)
    return [names.get(str((line["SalesItemLineDetail"].get("TaxCodeRef") or {}).get("value")),
                      "(none)")
            for line in document["Line"] if line["DetailType"] == "SalesItemLineDetail"]


def book(app, sandbox, tmp_path, rows, mode=TransactionMode.INVOICES_WITH_PAYMENTS, **changes):
    """Book the rows, then sync again: the second run must add nothing."""
    connection = connect(app, sandbox, "Shop", mode, write_orders(tmp_path / "o.csv", rows),
                         **changes)
    result = app.engine().run(connection)
    counts = {entity: len(docs(sandbox, entity)) for entity in COUNTED}
    again = app.engine().run(connection, query=ALL)
    assert again.documents == [], again.errors
    assert counts == {entity: len(docs(sandbox, entity)) for entity in COUNTED}
    return result


# --- US, automated sales tax ------------------------------------------------------------------

NEW_YORK = {"shipping_street": "350 Fifth Ave", "shipping_city": "New York",
            "shipping_state": "NY", "shipping_postal_code": "10118"}


def zero_tax_order(number: str = "1001") -> list[dict[str, str]]:
    """The issue's order: 4 × 42.31 + 2 × 45.00 + 37.91 shipping, no tax: 297.15."""
    return [row(number, "CND-LAKE-16", "4", "42.31", payment_status="paid",
                shipping_amount="37.91", tax_amount="0.00", **NEW_YORK),
            row(number, "SVC-REPAIR", "2", "45.00")]


@kind("us-ast")
@pytest.mark.parametrize("mode", list(TransactionMode), ids=[m.value for m in TransactionMode])
def test_automated_sales_tax_keeps_the_stores_zero_tax_in_every_mode(app, company, tmp_path,
                                                                      mode):
    result = book(app, company, tmp_path, zero_tax_order(), mode)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    booked = sales(company)
    assert booked and all(money_of(doc["TotalAmt"]) == D("297.15") for doc in booked)
    for document in booked:
        assert money_of(document["TxnTaxDetail"]["TotalTax"]) == 0
        assert set(line_codes(company, document)) <= {"TAX", "NON"}
    for invoice in docs(company, "Invoice"):
        assert money_of(invoice["Balance"]) == (0 if mode.books_payments else D("297.15"))


@kind("us-ast")
@pytest.mark.parametrize("policy", list(TaxPolicy), ids=[p.value for p in TaxPolicy])
def test_automated_sales_tax_books_the_stores_tax_not_its_own(app, company, tmp_path, policy):
    rows = [row("1002", "HDL-400L", "2", "39.99", payment_status="paid", tax_amount="5.60",
                **NEW_YORK)]   # the store charged 7 %, where QuickBooks would take 8.875 %
    result = book(app, company, tmp_path, rows, mapping=QuickBooksMapping(tax_policy=policy))
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    assert money_of(invoice["TotalAmt"]) == D("85.58")
    assert money_of(invoice["Balance"]) == 0
    # As an item line, the tax is no sales tax to QuickBooks: it states none of its own.
    stated = D("0.00") if policy is TaxPolicy.LINE_ITEM else D("5.60")
    assert money_of(invoice["TxnTaxDetail"]["TotalTax"]) == stated


# --- US, legacy sales tax ---------------------------------------------------------------------

@kind("us")
def test_legacy_tax_is_stated_with_the_companys_sales_tax_code(app, company, tmp_path):
    rows = [row("2001", "PCK-35L-RED", "1", "119.00", payment_status="paid", tax_amount="9.82")]
    result = book(app, company, tmp_path, rows)   # no tax code chosen in the mapping
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    detail = invoice["TxnTaxDetail"]
    assert codes_by_id(company)[detail["TxnTaxCodeRef"]["value"]] == "CA Sales Tax"
    assert money_of(detail["TotalTax"]) == D("9.82")
    assert money_of(invoice["TotalAmt"]) == D("128.82")


# --- VAT and GST ------------------------------------------------------------------------------

@kind("uk")
@pytest.mark.parametrize("mode", list(TransactionMode), ids=[m.value for m in TransactionMode])
def test_a_uk_company_books_each_line_with_the_vat_code_of_its_rate(app, company, tmp_path,
                                                                     mode):
    # 3 × 19.99 at 20 % = 11.99, 12.50 at 0 %, 4.95 shipping at 20 % = 0.99: 12.98 VAT.
    rows = [row("3001", "MUG-ENM-12", "3", "19.99", tax_rate="20", payment_status="paid",
                shipping_amount="4.95", tax_amount="12.98", currency="GBP"),
            row("3001", "NTB-LIN-A5", "1", "12.50", tax_rate="0%")]
    result = book(app, company, tmp_path, rows, mode)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    booked = sales(company)
    assert booked
    for document in booked:
        assert money_of(document["TotalAmt"]) == D("90.40")
        assert line_codes(company, document) == ["20.0% S", "0.0% Z", "20.0% S"]
        assert document["GlobalTaxCalculation"] == "TaxExcluded"
    for invoice in docs(company, "Invoice"):
        assert money_of(invoice["Balance"]) == (0 if mode.books_payments else D("90.40"))


@kind("uk")
def test_an_order_file_without_tax_rates_books_at_the_rate_its_tax_implies(app, company,
                                                                            tmp_path):
    rows = [row("3002", "HDL-400L", "2", "39.99", shipping_amount="5.00", tax_amount="17.00",
                payment_status="paid", currency="GBP"),
            row("3003", "HDL-400L", "1", "39.99", tax_amount="0.00", payment_status="paid",
                currency="GBP")]
    result = book(app, company, tmp_path, rows)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    invoices = {doc["DocNumber"]: doc for doc in docs(company, "Invoice")}
    assert line_codes(company, invoices["3002"]) == ["20.0% S", "20.0% S"]
    assert money_of(invoices["3002"]["TotalAmt"]) == D("101.98")
    assert line_codes(company, invoices["3003"]) == ["0.0% Z"]
    assert money_of(invoices["3003"]["TotalAmt"]) == D("39.99")


@kind("uk")
def test_vat_booked_as_an_item_line_takes_no_vat_of_quickbooks(app, company, tmp_path):
    rows = [row("3008", "HDL-400L", "1", "40.00", tax_rate="20", tax_amount="8.00",
                payment_status="paid", currency="GBP")]
    result = book(app, company, tmp_path, rows,
                  mapping=QuickBooksMapping(tax_policy=TaxPolicy.LINE_ITEM))
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    assert line_codes(company, invoice) == ["0.0% Z", "0.0% Z"]   # the headlamp, the tax line
    assert money_of(invoice["TotalAmt"]) == D("48.00")


@kind("uk")
def test_vat_the_store_rounded_on_the_total_is_stated_so_the_invoice_matches(app, company,
                                                                             tmp_path):
    # Four lines of 1.09 at 5 %: QuickBooks rounds per line (4 × 0.05 = 0.20); the store
    # rounded 4.36 × 5 % = 0.22.
    rows = [row("3004", "STK-LOGO", "1", "1.09", tax_rate="5", tax_amount="0.22",
                payment_status="paid", currency="GBP"),
            *[row("3004", sku, "1", "1.09", tax_rate="5")
              for sku in ("MUG-ENM-12", "HDL-400L", "NTB-LIN-A5")]]
    result = book(app, company, tmp_path, rows)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    assert money_of(invoice["TxnTaxDetail"]["TotalTax"]) == D("0.22")
    assert money_of(invoice["TotalAmt"]) == D("4.58")
    assert money_of(invoice["Balance"]) == 0


@kind("uk")
def test_a_rate_the_company_has_no_code_for_fails_its_order_naming_rate_and_codes(
        app, company, tmp_path):
    rows = [row("3005", "HDL-400L", "1", "10.00", tax_rate="7", tax_amount="0.70",
                currency="GBP"),
            row("3006", "HDL-400L", "1", "10.00", tax_rate="20", tax_amount="2.00",
                currency="GBP")]
    result = book(app, company, tmp_path, rows)
    (failure,) = result.errors
    assert failure.order == "3005"
    assert "7 %" in failure.message and "20.0% S (20 %)" in failure.message
    assert [doc["DocNumber"] for doc in docs(company, "Invoice")] == ["3006"]


@kind("uk")
def test_the_connections_tax_codes_override_the_code_chosen_by_rate(app, company, tmp_path):
    rows = [row("3007", "MAP-TRL-CA", "1", "12.00", tax_rate="0", currency="GBP"),
            row("3007", "HDL-400L", "1", "10.00", tax_code="Standard", tax_amount="2.00")]
    result = book(app, company, tmp_path, rows,
                  mapping=QuickBooksMapping(tax_codes={"0": "Exempt", "standard": "20.0% S"}))
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    assert line_codes(company, invoice) == ["Exempt", "20.0% S"]
    assert money_of(invoice["TotalAmt"]) == D("24.00")


@kind("ca")
def test_a_canadian_order_takes_the_gst_pst_and_hst_codes_of_its_rates(app, company, tmp_path):
    rows = [row("4001", "BTL-1L-STL", "3", "33.33", tax_rate="12", tax_amount="14.60",
                payment_status="paid", currency="CAD"),
            row("4001", "BTL-750-BLU", "1", "19.99", tax_rate="13")]
    result = book(app, company, tmp_path, rows, TransactionMode.SALES_RECEIPTS)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (receipt,) = docs(company, "SalesReceipt")
    assert line_codes(company, receipt) == ["GST/PST BC", "HST ON"]
    assert money_of(receipt["TotalAmt"]) == D("134.58")


@kind("au")
def test_tax_inclusive_prices_book_as_tax_inclusive(app, company, tmp_path):
    rows = [row("5001", "PAD-INF-R", "1", "19.95", tax_rate="10", prices_include_tax="yes",
                tax_amount="11.81", payment_status="paid", currency="AUD"),
            row("5001", "STV-CMP-1", "1", "110.00", tax_rate="10"),
            row("5001", "MAP-TRL-CA", "1", "5.00", tax_rate="0")]
    result = book(app, company, tmp_path, rows)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    (invoice,) = docs(company, "Invoice")
    assert invoice["GlobalTaxCalculation"] == "TaxInclusive"
    assert money_of(invoice["TotalAmt"]) == D("134.95")
    assert money_of(invoice["TxnTaxDetail"]["TotalTax"]) == D("11.81")
    assert line_codes(company, invoice) == ["GST", "GST", "GST free"]
    assert money_of(invoice["Balance"]) == 0


@kind("uk")
def test_refunds_in_a_vat_company_carry_its_codes(app, company, tmp_path, refunding):  # noqa: F811
    def rows(status: str) -> list[dict[str, str]]:
        return [row(number, "MUG-ENM-12", "2", "18.00", tax_rate="20", tax_amount="7.20",
                    payment_status=status, currency="GBP") for number in ("3010", "3011")]

    path = tmp_path / "o.csv"
    connection = connect(app, company, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                         write_orders(path, rows("paid")))
    assert app.engine().run(connection).synced == 2
    refunding["3010"] = (Refund(D("10.00")),)           # part of it, lines unknown
    refunding["3011"] = (Refund(D("43.20")),)           # all of it
    result = app.engine().run(connection, query=ALL)
    assert result.status is RunStatus.SUCCEEDED, result.errors
    receipts = sorted(docs(company, "RefundReceipt"), key=lambda doc: money_of(doc["TotalAmt"]))
    assert [money_of(doc["TotalAmt"]) for doc in receipts] == [D("10.00"), D("43.20")]
    assert line_codes(company, receipts[0]) == ["0.0% Z"]
    assert line_codes(company, receipts[1]) == ["20.0% S"]


# --- QuickBooks' total is not the store's: the document goes at once ---------------------------

@kind("us-ast")
def test_a_document_quickbooks_totals_otherwise_is_deleted_at_once(app, company, tmp_path,
                                                                   monkeypatch):
    def without_stated_tax(self, body, lines, tax, discount):   # QuickBooks computes the tax
        pass

    monkeypatch.setattr(SaleTax, "apply", without_stated_tax)
    connection = connect(app, company, "Shop", TransactionMode.INVOICES_WITH_PAYMENTS,
                         write_orders(tmp_path / "o.csv", zero_tax_order("6001")))
    result = app.engine().run(connection)
    (failure,) = result.errors
    assert "312.17" in failure.message and "297.15" in failure.message
    assert "deleted" in failure.message
    assert docs(company, "Invoice") == [] and docs(company, "Payment") == []
    rows = app.ledger.rows_for_order(connection.quickbooks.realm_id, "6001")
    assert [(row.doc_key, row.state) for row in rows] == [("invoice", LedgerState.UNDONE)]

    monkeypatch.undo()   # fixed: the next sync books it, once
    again = app.engine().run(connection, query=ALL)
    assert again.status is RunStatus.SUCCEEDED, again.errors
    (invoice,) = docs(company, "Invoice")
    assert money_of(invoice["TotalAmt"]) == D("297.15") and money_of(invoice["Balance"]) == 0
