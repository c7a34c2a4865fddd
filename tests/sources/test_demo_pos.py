"""The demo POS store: register sales and its own supplier purchase orders, to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connex_desktop.core.model import Order, PaymentStatus
from connex_desktop.core.money import ZERO, money
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.sandbox.seed import PAYMENT_METHODS, VENDORS
from connex_desktop.sources.base import FailedOrder, OrderQuery, purchase_orders_unavailable
from connex_desktop.sources.demo_pos import DemoPosSource, pos_purchase_orders, pos_sales
from connex_desktop.sources.demo_store import CA_SALES_TAX_RATE, MARKETS, DemoSource

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
D = Decimal


def source(now: datetime = NOW, **settings: str) -> DemoPosSource:
    return DemoPosSource(settings, {}, clock=lambda: now)


def purchases(now: datetime = NOW, since: datetime | None = None, ids=()) -> list:
    return list(source(now).purchase_orders(since, CancelToken(), ids))


@pytest.fixture(scope="module")
def sales() -> dict[str, Order]:
    return {sale.number: sale for sale in pos_sales(NOW)}


def test_a_pos_store_that_keeps_its_own_purchase_orders():
    assert (DemoPosSource.kind, DemoPosSource.label) == ("demo-pos", "Demo POS store")
    assert {f.name: f.default for f in DemoPosSource.settings_fields} == {"orders": "300",
                                                                            "seed": "1"}
    assert DemoPosSource.keeps_own_purchase_orders and purchase_orders_unavailable(DemoPosSource)
    # Another store than the online demo shop on the same seed: their ledgers stay apart.
    assert source().store_key != DemoSource({}, {}).store_key


def test_three_hundred_register_sales_each_adding_up_to_the_cent(sales):
    assert len(sales) == 300
    assert {(s.status, s.currency, s.shipping, s.discount) for s in sales.values()} == {
        ("CLOSED", "USD", ZERO, ZERO)}
    methods = {method.name for method in PAYMENT_METHODS}
    for sale in sales.values():
        assert sale.total == sale.computed_total, sale.number
        assert sum(p.amount for p in sale.payments) == sale.total, sale.number
        assert {p.method for p in sale.payments} <= methods
        # Californian sales tax where the register stands, rounded per sale.
        taxable = sum((line.amount for line in sale.lines if line.taxable), ZERO)
        assert sale.tax == money(taxable * CA_SALES_TAX_RATE), sale.number
    first = sales["SF1-13721"]
    assert (first.order_date, first.buyer.name, first.total, first.tax) == (
        date(2026, 1, 14), "Walk-in customer", D("238.04"), D("14.90"))
    assert [(p.method, p.amount) for p in first.payments] == [("Cash", D("238.04"))]


def test_split_tenders_and_returns_at_the_counter(sales):
    split = sales["SF1-13738"]
    assert [(p.method, p.amount) for p in split.payments] == [("Cash", D("52.83")),
                                                              ("Visa", D("79.24"))]
    assert split.payments[1].reference.startswith("Auth ")
    # One line of five brought back: its share of the sale's total, tax and all.
    partly = sales["SF2-13737"]
    assert (partly.total, partly.payment_status) == (D("323.57"), PaymentStatus.PAID)
    assert [(r.amount, r.refunded_on) for r in partly.refunds] == [
        (D("158.57"), date(2026, 1, 26))]
    whole = sales["SF1-13745"]
    assert (whole.payment_status, [r.amount for r in whole.refunds]) == (
        PaymentStatus.REFUNDED, [D("19.49")])
    # Before the customer came back, the sale shows no return.
    [before] = [s for s in pos_sales(datetime(2026, 1, 19, 12, tzinfo=UTC))
                if s.number == "SF1-13745"]
    assert (before.refunds, before.payment_status) == ((), PaymentStatus.PAID)
    kinds = {s.payment_status for s in sales.values() if s.refunds}
    assert kinds == {PaymentStatus.PAID, PaymentStatus.REFUNDED}


def test_the_same_store_for_the_same_seed_and_day_by_day(sales):
    assert {s.number: s for s in pos_sales(NOW)} == sales
    assert {s.number for s in pos_sales(NOW, seed="2")} & set(sales) != set(sales)
    later = {s.number: s for s in pos_sales(NOW + timedelta(days=1))}
    shared = set(later) & set(sales)
    assert len(shared) == 295 and all(later[n].total == sales[n].total for n in shared)
    fetched = list(source(orders="40").fetch_orders(OrderQuery(numbers=("SF1-14020",)),
                                                    CancelToken()))
    assert [o.number for o in fetched] == []      # 40 sales make a smaller store's numbers
    assert len(list(source(orders="40").fetch_orders(OrderQuery(), CancelToken()))) == 40


def test_a_uk_register_takes_vat_inclusive_prices():
    uk = pos_sales(NOW, 300, "1", MARKETS["uk"])
    assert {s.currency for s in uk} == {"GBP"} and {s.number[:3] for s in uk} == {"LDN"}
    assert all(s.total == s.computed_total for s in uk)
    inclusive = [s for s in uk if s.prices_include_tax]
    assert 150 < len(inclusive) < 300 and any(s.tax for s in inclusive)


def test_purchase_orders_of_the_window_to_the_cent():
    got = {p.number: p for p in purchases()}
    assert list(got) == [f"PO-{n}" for n in range(2249, 2269)]   # one every three days
    assert {p.vendor for p in got.values()} <= {v.name for v in VENDORS}
    assert {p.status for p in got.values()} == {"RECEIVED", "CANCELLED", "SENT"}
    for purchase in got.values():
        assert purchase.total == purchase.computed_total == purchase.subtotal + \
            purchase.other_costs, purchase.number
    po = got["PO-2253"]
    assert (po.source_id, po.vendor, po.order_date, po.expected_date) == (
        "demo-po-252", "Trailhead Nutrition", date(2026, 1, 26), date(2026, 2, 6))
    assert [(line.sku, line.quantity, line.unit_cost, line.received, line.amount)
            for line in po.lines] == [
        ("FAK-TRL", D(12), D("11.20"), D(12), D("134.40")),
        ("MEAL-CHL-2", D(24), D("5.20"), D(24), D("124.80")),
        ("BAR-ALM-12", D(24), D("12.10"), D(24), D("290.40"))]
    assert (po.subtotal, po.other_costs, po.tax, po.total) == (
        D("549.60"), D("60.00"), ZERO, D("609.60"))
    assert (po.state, po.ship_to.city, po.memo) == (
        PurchaseOrderState.RECEIVED, "San Francisco", "Demo POS purchase order PO-2253")


def test_a_purchase_order_is_written_sent_changed_received_in_two_deliveries():
    stage_times = [datetime(2024, 1, day, hour, minute, tzinfo=UTC) for day, hour, minute in (
        (4, 11, 36), (4, 14, 45), (6, 9, 37), (11, 2, 0), (12, 5, 3), (13, 5, 33))]
    # Asked for by id (as the engine asks for those still open), long after it left the window.
    life = [purchases(at, since=at, ids=["demo-po-1"]) for at in stage_times]
    assert all(len(seen) == 1 and isinstance(seen[0], PurchaseOrder) for seen in life)
    stages = [seen[0] for seen in life]
    assert [(p.status, p.state) for p in stages] == [
        ("OPEN", PurchaseOrderState.DRAFT), ("SENT", PurchaseOrderState.OPEN),
        ("SENT", PurchaseOrderState.OPEN), ("DISPATCHED", PurchaseOrderState.OPEN),
        ("PARTIALLY_RECEIVED", PurchaseOrderState.PARTLY_RECEIVED),
        ("RECEIVED", PurchaseOrderState.RECEIVED)]
    assert [[(line.sku, line.quantity, line.received) for line in p.lines]
            for p in (stages[1], stages[2], stages[4], stages[5])] == [
        [("PAD-INF-R", D(36), ZERO), ("TNT-2P-GRN", D(6), ZERO)],
        [("PAD-INF-R", D(72), ZERO), ("TNT-2P-GRN", D(6), ZERO)],
        [("PAD-INF-R", D(72), D(72)), ("TNT-2P-GRN", D(6), D(3))],
        [("PAD-INF-R", D(72), D(72)), ("TNT-2P-GRN", D(6), D(6))]]
    # 72 pads at 41.25 and 6 tents at 132.50 once changed.
    assert (stages[1].total, stages[2].total) == (D("2280.00"), D("3765.00"))
    assert len({p.revision for p in stages}) == 6     # each change is a revision of its own
    at = datetime(2024, 1, 11, tzinfo=UTC)
    [cancelled] = purchases(at, since=at, ids=["demo-po-2"])
    assert (cancelled.number, cancelled.state) == ("PO-2003", PurchaseOrderState.CANCELLED)


def test_since_a_time_and_unknown_ids():
    since = datetime(2026, 3, 6, tzinfo=UTC)
    got = purchases(since=since, ids=["demo-po-252", "demo-po-99999", "PO-1"])
    changed = [p for p in got if isinstance(p, PurchaseOrder)]
    assert [p.number for p in changed] == ["PO-2263", "PO-2264", "PO-2265", "PO-2266",
                                           "PO-2267", "PO-2268", "PO-2253"]
    assert all(p.updated_at and p.updated_at >= since for p in changed[:-1])
    assert [(f.number, f.field) for f in got if isinstance(f, FailedOrder)] == [
        ("demo-po-99999", "id"), ("PO-1", "id")]
    assert pos_purchase_orders(NOW) == pos_purchase_orders(NOW)
