"""Property: whatever an order holds, every document booked for it totals the order to the cent,
in every kind of company (legacy and automated US sales tax, UK VAT)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connex_desktop.app import App, build_app
from connex_desktop.core.connection import Connection
from connex_desktop.core.modes import TransactionMode
from connex_desktop.core.money import money
from connex_desktop.core.result import DocumentKind, RunStatus
from connex_desktop.sandbox.seed import CATALOG
from connex_desktop.sandbox.server import SandboxServer
from connex_desktop.sources.base import OrderQuery
from connex_desktop.storage.keyring_secrets import MemorySecretStore
from tests.sync.conftest import connect, money_of, row, write_orders

MODES = (TransactionMode.INVOICES_WITH_PAYMENTS, TransactionMode.SALES_RECEIPTS,
         TransactionMode.SALES_ORDERS_INVOICES)
_numbers = itertools.count(1)


KINDS = ("us", "us-ast", "uk")
VAT_RATES = ("20", "5", "0")
HOME_CURRENCY = {"us": "USD", "us-ast": "USD", "uk": "GBP"}


class Company:
    def __init__(self, tmp_path, kind: str) -> None:
        self.kind = kind
        self.sandbox = SandboxServer(kind=kind).start()
        self.app: App = build_app(str(tmp_path / "data"), secrets=MemorySecretStore())
        self.files = {mode: tmp_path / f"{mode.value}.csv" for mode in MODES}
        self.connections: dict[TransactionMode, Connection] = {}
        for mode in MODES:
            write_orders(self.files[mode], [])
            self.connections[mode] = connect(self.app, self.sandbox, mode.value, mode,
                                             self.files[mode])

    def close(self) -> None:
        self.app.close()
        self.sandbox.stop()


@pytest.fixture(scope="module", params=KINDS)
def company(tmp_path_factory, request) -> Iterator[Company]:
    built = Company(tmp_path_factory.mktemp("property"), request.param)
    yield built
    built.close()


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400"), places=2)
small = st.decimals(min_value=Decimal("0"), max_value=Decimal("40"), places=2)
quantities = st.sampled_from(["1", "2", "3", "5", "12", "0.5", "1.25"])


@st.composite
def orders(draw, kind: str):
    lines = draw(st.lists(st.tuples(st.sampled_from(CATALOG), quantities, amounts,
                                    st.integers(0, 100), st.sampled_from(VAT_RATES)),
                          min_size=1, max_size=4))
    rows_ = []
    number = f"P{next(_numbers)}"
    nets: list[tuple[Decimal, Decimal]] = []   # each line's amount after its discount, rate
    for item, qty, price, discount_percent, rate in lines:
        gross = money(Decimal(qty) * price)
        discount = money(gross * discount_percent / 400)   # at most a quarter off
        nets.append((gross - discount, Decimal(rate)))
        rows_.append(row(number, item.sku, qty, str(price), line_discount=str(discount),
                         currency=HOME_CURRENCY[kind]))
        if kind == "uk":
            rows_[-1]["Tax Rate"] = rate
    subtotal = sum((net for net, _ in nets), Decimal("0"))
    order_discount = min(draw(small), subtotal)
    shipping, tax = draw(small), draw(small)
    if kind == "uk":
        tax = _vat(nets, order_discount, subtotal, shipping)
    total = subtotal - order_discount + shipping + tax
    # Half of a cent's total rounds to the whole cent: that order is paid, not partly paid.
    partly = ["partially_paid"] if total >= Decimal("0.02") else []
    paid = draw(st.sampled_from(["paid", "unpaid", *partly]))
    rows_[0].update({"Order Discount": str(order_discount), "Shipping Amount": str(shipping),
                     "Tax Amount": str(tax), "Payment Status": paid})
    if paid == "partially_paid":
        rows_[0]["Amount Paid"] = str(money(total / 2))
    return number, rows_, total


def _vat(nets: list[tuple[Decimal, Decimal]], discount: Decimal, subtotal: Decimal,
         shipping: Decimal) -> Decimal:
    """VAT as a store computes it: per rate on the lines' share after the order discount,
    rounded once per rate; shipping at the first line's rate."""
    by_rate: dict[Decimal, Decimal] = {}
    for net, rate in nets:
        share = net - (discount * net / subtotal if subtotal else 0)
        by_rate[rate] = by_rate.get(rate, Decimal("0")) + share
    by_rate[nets[0][1]] = by_rate.get(nets[0][1], Decimal("0")) + shipping
    return sum((money(base * rate / 100) for rate, base in by_rate.items()), Decimal("0"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(data=st.data(), mode=st.sampled_from(MODES))
def test_every_booked_document_totals_the_order(company, data, mode):
    number, rows_, total = data.draw(orders(company.kind))
    write_orders(company.files[mode], rows_)
    result = company.app.engine().run(company.connections[mode],
                                      query=OrderQuery(numbers=(number,)))
    assert result.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL), result.message
    assert result.errors == [], result.errors
    for document in result.documents:
        stored = company.sandbox.company.read(document.kind.value, document.qb_id)
        if document.kind is DocumentKind.PAYMENT:
            assert money_of(stored["TotalAmt"]) <= total
        else:
            assert money_of(stored["TotalAmt"]) == total, (document, rows_)
        assert money_of(stored["TotalAmt"]) == document.total
