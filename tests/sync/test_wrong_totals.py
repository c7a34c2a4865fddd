"""A document QuickBooks totals otherwise than the store, above or below, is deleted at once."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

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
NEW_YORK = {"shipping_street": "350 Fifth Ave", "shipping_city": "New York",
            "shipping_state": "NY", "shipping_postal_code": "10118"}
# 4 × 42.31 of taxable candles, 2 × 45.00 of untaxed repairs and 37.91 shipping, sold without
# tax; New York's automated sales tax on the candles would be 15.02.
GOODS = D("297.15")


@pytest.fixture
def company(request) -> Iterator[SandboxServer]:
    with SandboxServer(kind=getattr(request, "param", "us-ast")) as server:
        yield server


def untaxed_order(number: str, payment_status: str = "paid") -> list[dict[str, str]]:
    return [row(number, "CND-LAKE-16", "4", "42.31", payment_status=payment_status,
                shipping_amount="37.91", tax_amount="0.00", **NEW_YORK),
            row(number, "SVC-REPAIR", "2", "45.00")]


def vat_rounded_on_the_total(number: str) -> list[dict[str, str]]:
    """Four lines of 1.09 at 5 %: the store rounded 4.36 × 5 % = 0.22; QuickBooks, rounding
    each line, makes 4 × 0.05 = 0.20."""
    return [row(number, "STK-LOGO", "1", "1.09", tax_rate="5", tax_amount="0.22",
                payment_status="paid", currency="GBP"),
            *[row(number, sku, "1", "1.09", tax_rate="5")
              for sku in ("MUG-ENM-12", "HDL-400L", "NTB-LIN-A5")]]


def quickbooks_computes_its_own_tax(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store's tax is not stated on the document: QuickBooks' automated sales tax computes
    its own."""
    monkeypatch.setattr(SaleTax, "apply", lambda self, body, lines, tax, discount: None)


def quickbooks_recomputes_the_vat(monkeypatch: pytest.MonkeyPatch) -> None:
    """The VAT is stated as a total alone, without each rate's amount: QuickBooks recomputes it
    line by line."""
    stated = SaleTax.apply

    def total_alone(self, body, lines, tax, discount):
        stated(self, body, lines, tax, discount)
        body.get("TxnTaxDetail", {}).pop("TaxLine", None)

    monkeypatch.setattr(SaleTax, "apply", total_alone)


@pytest.mark.parametrize(("company", "rows", "unstated", "store_total", "quickbooks_total"), [
    ("us-ast", untaxed_order, quickbooks_computes_its_own_tax, GOODS, D("312.17")),
    ("uk", vat_rounded_on_the_total, quickbooks_recomputes_the_vat, D("4.58"), D("4.56")),
], ids=["quickbooks-more", "quickbooks-less"], indirect=["company"])
def test_a_sale_quickbooks_totals_otherwise_is_deleted_and_its_order_fails(
        app, company, tmp_path, monkeypatch, rows, unstated, store_total, quickbooks_total):
    unstated(monkeypatch)
    connection = connect(app, company, "Shop", TransactionMode.SALES_RECEIPTS,
                         write_orders(tmp_path / "o.csv", rows("6101")))
    result = app.engine().run(connection)

    (failure,) = result.errors
    assert failure.order == "6101"
    assert f"QuickBooks computed {quickbooks_total}" in failure.message
    assert f"total is {store_total}" in failure.message and "deleted" in failure.message
    assert docs(company, "SalesReceipt") == [] and result.synced == 0
    rows_now = app.ledger.rows_for_order(company.realm_id, "6101")
    assert [(entry.doc_key, entry.state) for entry in rows_now] == [
        ("sales_receipt", LedgerState.UNDONE)]


def test_a_refund_quickbooks_totals_otherwise_is_deleted_and_the_sale_stays(
        app, company, tmp_path, monkeypatch, refunding):  # noqa: F811
    path = tmp_path / "o.csv"
    connection = connect(app, company, "Shop", TransactionMode.SALES_RECEIPTS,
                         write_orders(path, untaxed_order("6102")))
    assert app.engine().run(connection).status is RunStatus.SUCCEEDED
    (receipt,) = docs(company, "SalesReceipt")
    assert money_of(receipt["TotalAmt"]) == GOODS

    refunding["6102"] = (Refund(GOODS),)   # all of it back; QuickBooks adds its tax again
    quickbooks_computes_its_own_tax(monkeypatch)
    result = app.engine().run(connection, query=OrderQuery())

    (failure,) = result.errors
    assert failure.order == "6102" and "deleted" in failure.message
    assert f"{GOODS}" in failure.message
    assert docs(company, "RefundReceipt") == []
    assert [doc["Id"] for doc in docs(company, "SalesReceipt")] == [receipt["Id"]]
    rows = app.ledger.rows_for_order(company.realm_id, "6102")
    assert {entry.doc_key: entry.state for entry in rows}["sales_receipt"] == LedgerState.CONFIRMED
    assert LedgerState.UNDONE in {entry.state for entry in rows if entry.doc_key != "sales_receipt"}
