"""The company's kind as Configure names it, and a rate table naming a code it lacks refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connex_desktop.core.connection import QuickBooksMapping
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.result import RunStatus
from connex_desktop.quickbooks.references import ReferenceCache
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sync.company_kind import company_kind
from tests.sync.conftest import connect, docs, row, write_orders


@pytest.fixture
def company(request) -> Iterator[SandboxServer]:
    with SandboxServer(kind=request.param, multicurrency=request.param == "au") as server:
        yield server


@pytest.mark.parametrize(("company", "described", "table"), [
    ("us", "United States, US legacy sales tax, home currency USD, multicurrency off.", {}),
    ("us-ast", "United States, US automated sales tax, home currency USD, multicurrency off.",
     {}),
    ("uk", "United Kingdom, VAT, home currency GBP, multicurrency off.",
     {"20": "20.0% S", "5": "5.0% R", "0": "0.0% Z"}),
    ("ca", "Canada, GST/HST, home currency CAD, multicurrency off.", None),
    ("au", "Australia, GST, home currency AUD, multicurrency on.", None),
    ("us-tracked", "United States, US legacy sales tax, home currency USD, multicurrency off; "
     "it tracks classes per transaction and stores.", {}),
    ("us-line-classes", "United States, US legacy sales tax, home currency USD, multicurrency "
     "off; it tracks classes per line.", {}),
], indirect=["company"], ids=["us", "us-ast", "uk", "ca", "au", "us-tracked", "us-line-classes"])
def test_each_kind_of_company_is_described_from_what_a_run_reads(app, company, tmp_path,
                                                                 described, table):
    connection = connect(app, company, "Shop", TransactionMode.INVOICES,
                         write_orders(tmp_path / "o.csv", [row("1", "HDL-400L")]))
    with app.quickbooks_client(connection) as client:
        kind = company_kind(ReferenceCache(client, app.references, realm_id=company.realm_id))
    assert kind.describe() == described
    if table is not None:
        assert kind.rate_table() == table
    else:   # several rates, each with a sales code of that rate
        assert len(kind.rate_table()) > 1
        for rate, code in kind.rate_table().items():
            assert f"{kind.tax.named(code).percent.normalize():f}" == rate


@pytest.mark.parametrize("company", ["uk"], indirect=True)
def test_a_sync_refuses_a_rate_table_naming_a_code_the_company_lacks(app, company, tmp_path):
    order = row("1", "HDL-400L", tax_rate="20", tax_amount="2.00", currency="GBP")
    connection = connect(app, company, "Shop", TransactionMode.INVOICES,
                         write_orders(tmp_path / "o.csv", [order]),
                         mapping=QuickBooksMapping(tax_codes={"20": "Standard VAT"}))
    result = app.engine().run(connection)
    assert result.status is RunStatus.FAILED
    assert "'Standard VAT'" in result.message and "20.0% S" in result.message
    assert docs(company, "Invoice") == []
