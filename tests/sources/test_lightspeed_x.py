"""The Lightspeed Retail X-Series connector against a local server that answers as API 2.0."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connex_desktop.core.errors import Cancelled, ReconnectError, SetupError
from connex_desktop.core.model import Address, Buyer, Order, PaymentStatus, Refund
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.lightspeed_x import LightspeedXSource
from tests.fakes.lightspeed_x import (
    FAKE_NOW_S,
    LSX_TOKEN,
    RETRY_AFTER_S,
    FakeLightspeedX,
    lsx_consignment,
    lsx_line,
    lsx_return,
    lsx_sale,
)
from tests.fakes.stores import Reply
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal


def tax_exclusive_sale() -> dict:
    """A US-style sale: two mugs, a T-shirt with 3.00 off, 8% tax on top, paid by card."""
    return lsx_sale("sale-1", "1001", [
        lsx_line("prod-mug", 2, "10.00", "0.80"),
        lsx_line("prod-tee", 1, "12.00", "0.96", discount="3.00")],
        customer_id="cust-ana", payment_name="Credit Card", note="Gift")


def tax_inclusive_sale() -> dict:
    """A New Zealand sale: three T-shirts at 21.00 with 15% GST in, 5.00 (GST in) off the sale
    as the discount product's line of quantity −1."""
    return lsx_sale("sale-2", "1002", [
        lsx_line("prod-tee", 3, "18.26087", "2.73913"),
        lsx_line("prod-discount", -1, "4.34783", "0.65217")],
        sale_date="2026-11-21T02:00:00+00:00")


def make_source(store: FakeLightspeedX, *, token: str = LSX_TOKEN, sleeps: list | None = None,
                page_size: int = 200) -> LightspeedXSource:
    return LightspeedXSource({"domain_prefix": store.url, "timezone": "Pacific/Auckland"},
                             {"personal_token": token}, page_size=page_size,
                             sleep=(sleeps if sleeps is not None else []).append,
                             clock=lambda: FAKE_NOW_S)


def fetch(source: LightspeedXSource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def test_a_tax_exclusive_sale_maps_products_customer_discount_and_payment():
    with FakeLightspeedX([tax_exclusive_sale()]) as store:
        [order] = fetch(make_source(store))
    assert isinstance(order, Order)
    assert (order.number, order.source_id, order.status) == ("1001", "sale-1", "CLOSED")
    # 21:30 UTC on the 20th is the morning of the 21st in Auckland.
    assert order.order_date == date(2026, 11, 21)
    assert [(line.sku, line.name, line.quantity, line.unit_price, line.discount, line.amount)
            for line in order.lines] == [
        ("MUG-BLUE", "Mug / Blue", D(2), D("10.00"), D("0.00"), D("20.00")),
        ("TEE-M", "T-shirt / M", D(1), D("15.00"), D("3.00"), D("12.00"))]
    assert (order.tax, order.total, order.computed_total) == (D("2.56"), D("34.56"), D("34.56"))
    assert order.buyer == Buyer("Ana Ruiz", "ana@example.com", "", "021 555 0101")
    assert order.billing_address == Address("1 Queen St", "", "Auckland", "", "1010", "NZ")
    assert [(p.amount, p.method, p.paid_on) for p in order.payments] == [
        (D("34.56"), "Credit Card", date(2026, 11, 21))]
    assert order.payment_status is PaymentStatus.PAID and order.notes == "Gift"


def test_tax_inclusive_prices_and_a_sale_wide_discount_add_up_to_the_cent():
    with FakeLightspeedX([tax_inclusive_sale()]) as store:
        [order] = fetch(make_source(store))
    assert isinstance(order, Order)
    assert [(line.sku, line.amount) for line in order.lines] == [("TEE-M", D("54.78"))]
    assert (order.discount, order.tax, order.total) == (D("4.35"), D("7.57"), D("58.00"))
    assert order.computed_total == order.total == order.amount_paid


def test_statuses_map_to_payment_status_and_parked_sales_only_when_asked():
    tee = [lsx_line("prod-tee", 1, "20.00", "0")]
    sales = [lsx_sale("a", "1", tee, status="ONACCOUNT", paid="0"),
             lsx_sale("b", "2", tee, status="LAYBY", paid="5.00"),
             lsx_sale("c", "3", tee, status="VOIDED"),
             lsx_sale("d", "4", tee, status="SAVED", paid="0"),
             lsx_sale("e", "5", tee, status="AWAITING_PICKUP")]
    with FakeLightspeedX(sales) as store:
        source = make_source(store)
        got = {o.number: o.payment_status for o in fetch(source)}
        parked = fetch(source, OrderQuery(statuses=("SAVED",)))
    assert got == {"1": PaymentStatus.UNPAID, "2": PaymentStatus.PARTIALLY_PAID,
                   "3": PaymentStatus.VOIDED, "5": PaymentStatus.PAID}
    assert "4" in {o.number for o in parked}
    assert LightspeedXSource.skipped_statuses() == ("VOIDED",)
    assert LightspeedXSource.unfinished_statuses == ("SAVED",)
    assert LightspeedXSource.keeps_own_purchase_orders


def test_a_return_is_a_refund_of_the_sale_it_returns_and_others_fail_with_the_reason():
    original = tax_exclusive_sale()
    later = "2026-11-25T01:00:00+00:00"
    mug_back = [lsx_line("prod-mug", -1, "10.00", "0.80", is_return=True)]
    returned = lsx_return("ret-1", "1003", original, mug_back, sale_date=later)
    stray = lsx_return("ret-2", "1004", None, mug_back, sale_date=later)
    orphan = lsx_return("ret-3", "1007", {"id": "deleted-sale"}, mug_back, sale_date=later)
    exchange = lsx_return("ret-4", "1008", original, [
        *mug_back, lsx_line("prod-tee", 1, "12.00", "0.96")], sale_date=later)
    with FakeLightspeedX([original, returned, stray, orphan, exchange]) as store:
        # Only the returns changed since: the sale they return comes back with its refund.
        got = fetch(make_source(store), OrderQuery(
            modified_since=datetime(2026, 11, 24, tzinfo=UTC)))
    sale, *failed = got
    assert isinstance(sale, Order) and sale.number == "1001"
    assert sale.refunds == (Refund(D("10.80"), "return 1003", date(2026, 11, 25)),)
    assert sale.payment_status is PaymentStatus.PAID
    reasons = {f.number: (f.field, f.message) for f in failed if isinstance(f, FailedOrder)}
    assert set(reasons) == {"1004", "1007", "1008"}
    assert reasons["1004"][0] == "return_for" and "not linked" in reasons["1004"][1]
    assert reasons["1007"][0] == "return_for" and "deleted-sale" in reasons["1007"][1]
    assert reasons["1008"][0] == "line_items" and "exchange" in reasons["1008"][1]


def test_lay_by_payments_stay_apart_and_change_comes_off_the_cash_tendered():
    lay_by = lsx_sale("lb", "21", [lsx_line("prod-tee", 1, "40.00", "0")],
                      status="LAYBY_CLOSED", sale_date="2026-11-02T01:00:00+00:00")
    lay_by["payments"] = [
        {"name": "Cash", "amount": 10.0, "payment_date": "2026-11-02T01:00:00+00:00"},
        {"name": "Cash", "amount": 50.0, "payment_date": "2026-11-09T01:00:00+00:00"},
        {"name": "Cash", "amount": -20.0, "payment_date": "2026-11-09T01:00:00+00:00"}]
    with FakeLightspeedX([lay_by]) as store:
        [order] = fetch(make_source(store))
    assert [(p.amount, p.paid_on) for p in order.payments] == [
        (D("10.00"), date(2026, 11, 2)), (D("30.00"), date(2026, 11, 9))]
    assert order.payment_status is PaymentStatus.PAID


def test_pages_follow_the_version_cursor_to_an_empty_page():
    sales = [lsx_sale(f"s{n}", str(n), [lsx_line("prod-mug", 1, "5.00", "0")])
             for n in range(1, 6)]
    with FakeLightspeedX(sales) as store:
        got = fetch(make_source(store, page_size=2))
        versions = sorted(s["version"] for s in sales)
        asked = [(r.param("after"), r.param("page_size")) for r in store.received
                 if r.path.endswith("/sales")]
    assert [o.number for o in got] == ["1", "2", "3", "4", "5"]
    assert asked == [("0", "2"), (str(versions[1]), "2"), (str(versions[3]), "2"),
                     (str(versions[4]), "2")]


def test_since_and_created_range_bound_the_sales():
    old = lsx_sale("old", "1", [lsx_line("prod-mug", 1, "5.00", "0")],
                   sale_date="2026-11-01T00:00:00+00:00")
    new = lsx_sale("new", "2", [lsx_line("prod-mug", 1, "5.00", "0")],
                   sale_date="2026-11-10T00:00:00+00:00")
    with FakeLightspeedX([old, new]) as store:
        source = make_source(store)
        since = fetch(source, OrderQuery(modified_since=datetime(2026, 11, 5, tzinfo=UTC)))
        # Edited later, the old sale is changed since then too.
        store.put(old, updated_at="2026-11-12T00:00:00+00:00", note="fixed")
        again = fetch(source, OrderQuery(modified_since=datetime(2026, 11, 5, tzinfo=UTC)))
        ranged = fetch(source, OrderQuery(created_from=date(2026, 11, 1),
                                          created_to=date(2026, 11, 5)))
    assert [o.number for o in since] == ["2"]
    assert sorted(o.number for o in again) == ["1", "2"]
    assert [o.number for o in ranged] == ["1"]


def test_one_sale_by_invoice_number_and_a_missing_one_reported():
    with FakeLightspeedX([tax_exclusive_sale(), tax_inclusive_sale()]) as store:
        got = fetch(make_source(store), OrderQuery(numbers=("1002", "9999")))
        searched = [r.query for r in store.received if r.path.endswith("/search")]
    assert [o.number for o in got] == ["1002", "9999"]
    assert isinstance(got[0], Order) and isinstance(got[1], FailedOrder)
    assert got[1].field == "number" and "No sale 9999" in got[1].message
    assert searched[0] == {"type": ["sales"], "invoice_number": ["1002"]}


def test_a_bad_record_fails_only_its_own_sale_naming_the_field():
    bad_amount = lsx_sale("x", "7", [lsx_line("prod-mug", 1, "5.00", "0")])
    bad_amount["line_items"][0]["price_total"] = "five"
    off_total = lsx_sale("y", "8", [lsx_line("prod-mug", 1, "5.00", "0")], total_price=9.0)
    with FakeLightspeedX([bad_amount, off_total, tax_exclusive_sale()]) as store:
        got = {o.number: o for o in fetch(make_source(store))}
    assert isinstance(got["1001"], Order)
    assert isinstance(got["7"], FailedOrder) and got["7"].field == "price_total"
    assert "line 1" in got["7"].message
    assert isinstance(got["8"], FailedOrder) and got["8"].field == "total"


def test_sales_that_failed_before_are_found_in_the_same_walk_whatever_the_bounds():
    with FakeLightspeedX([tax_exclusive_sale(), tax_inclusive_sale()]) as store:
        got = list(make_source(store).fetch_orders_and_retries(
            OrderQuery(modified_since=datetime(2026, 12, 1, tzinfo=UTC)), ["1001"],
            CancelToken()))
        walks = [r for r in store.received if r.path.endswith("/sales")]
    assert [o.number for o in got] == ["1001"]
    assert len(walks) == 2    # one walk of the feed: a page and the empty page after it


def test_cancel_is_honoured_between_pages():
    sales = [lsx_sale(f"s{n}", str(n), [lsx_line("prod-mug", 1, "5.00", "0")])
             for n in range(1, 4)]
    with FakeLightspeedX(sales) as store:
        cancel = CancelToken()
        answer = store.route

        def cancelled_after_a_page(request):
            reply = answer(request)
            cancel.cancel()     # the user presses Cancel while the first page arrives
            return reply

        store.route = cancelled_after_a_page
        with pytest.raises(Cancelled):
            list(make_source(store, page_size=1).fetch_orders(OrderQuery(), cancel))
        assert len([r for r in store.received if r.path.endswith("/sales")]) == 1


def test_throttled_then_served_after_the_http_date_retry_after():
    # Two pages of sales and a product use the window's budget; the next product waits.
    with FakeLightspeedX([tax_exclusive_sale()], budget=3) as store:
        sleeps: list[float] = []
        got = fetch(make_source(store, sleeps=sleeps))
        throttled = [r for r in store.received if r.path.endswith("/products/prod-tee")]
    assert [o.number for o in got] == ["1001"]
    assert sleeps == [float(RETRY_AFTER_S)]
    assert len(throttled) == 2    # the throttled request, then the same one again


def test_an_expired_token_asks_to_reconnect_and_never_shows_it():
    with FakeLightspeedX([tax_exclusive_sale()], token="lsxs_pt_the_new_one") as store:
        source = make_source(store)
        with pytest.raises(ReconnectError) as caught:
            fetch(source)
        with pytest.raises(ReconnectError):
            source.check()
        assert LSX_TOKEN not in json.dumps([r.query for r in store.received])
    error = caught.value
    assert "Reconnect the store" in str(error) and "expired or revoked" in error.detail
    for text in (str(error), error.detail, repr(error)):
        assert LSX_TOKEN not in text


def test_a_store_answering_not_as_the_api_and_settings_checked():
    with FakeLightspeedX([]) as store:
        for wrong in (Reply(200, {"sales": []}), Reply(404, {"error": "Not Found"})):
            store.queued = [wrong]
            with pytest.raises(SetupError) as caught:
                make_source(store).check()
            assert caught.value.field == "domain_prefix"
        assert make_source(store).check().startswith("Connected")
    with pytest.raises(SetupError) as caught:
        LightspeedXSource({"domain_prefix": "my shop"}, {"personal_token": "t"}).check()
    assert caught.value.field == "domain_prefix"
    source = LightspeedXSource({"domain_prefix": "MyStore"}, {})
    assert source.store_url == "https://mystore.retail.lightspeed.app"
    with pytest.raises(SetupError) as caught:
        source.check()
    assert caught.value.field == "personal_token"
    assert {f.name for f in LightspeedXSource.settings_fields if f.secret} == {"personal_token"}


def test_the_purchase_order_mode_is_refused_with_its_reason(cli, sandbox):
    with FakeLightspeedX([]) as store:
        add_store(cli, sandbox, store, "invoices")
        with pytest.raises(AssertionError, match="keeps its own purchase orders"):
            cli("connection", "set", "pos", "--mode", "sales-orders-invoices-pos")
        _, shown = cli("connection", "show", "pos")
    assert "sales-orders-invoices-pos" not in shown


def purchases(source: LightspeedXSource, since: datetime | None = None,
              ids: tuple[str, ...] = ()) -> list:
    return list(source.purchase_orders(since, CancelToken(), ids))


def stock_order() -> dict:
    """Forty-eight blue mugs at 2.375 and a dozen T-shirts at 6.10 from Mug Makers."""
    return lsx_consignment("con-1", "PO-0042", [("prod-mug", 48, "2.375"),
                                                ("prod-tee", 12, "6.10")])


def test_supplier_consignments_are_purchase_orders_with_lines_cost_and_state():
    outlet_transfer = lsx_consignment("con-9", "TR-1", [("prod-mug", 5, "2.00")], kind="OUTLET")
    with FakeLightspeedX([], consignments=[stock_order(), outlet_transfer]) as store:
        [draft] = purchases(make_source(store))
        store.move_consignment("con-1", "SENT")
        [sent] = purchases(make_source(store))
        store.move_consignment("con-1", "DISPATCHED", received={"prod-mug": 24})
        [partly] = purchases(make_source(store))
        store.move_consignment("con-1", "RECEIVED", received={"prod-mug": 48, "prod-tee": 12})
        [received] = purchases(make_source(store))
        with pytest.raises(ValueError):     # the API refuses a received one being cancelled
            store.move_consignment("con-1", "CANCELLED")
    assert isinstance(draft, PurchaseOrder)
    assert (draft.number, draft.vendor, draft.order_date, draft.expected_date) == (
        "PO-0042", "Mug Makers Ltd", date(2026, 11, 19), date(2026, 11, 29))
    assert [(ln.sku, ln.name, ln.quantity, ln.unit_cost, ln.amount) for ln in draft.lines] == [
        ("MUG-BLUE", "Mug / Blue", D(48), D("2.375"), D("114.00")),
        ("TEE-M", "T-shirt / M", D(12), D("6.10"), D("73.20"))]
    assert (draft.total, draft.computed_total) == (D("187.20"), D("187.20"))
    assert "Restock PO-0042" in draft.memo
    assert [(p.state, p.status) for p in (draft, sent, partly, received)] == [
        (PurchaseOrderState.DRAFT, "OPEN"), (PurchaseOrderState.OPEN, "SENT"),
        (PurchaseOrderState.PARTLY_RECEIVED, "DISPATCHED"),
        (PurchaseOrderState.RECEIVED, "RECEIVED")]
    assert [ln.received for ln in received.lines] == [D(48), D(12)]
    assert len({p.revision for p in (draft, sent, partly, received)}) == 4
    paths = {r.path for r in store.received}
    assert "/api/2.0/consignments/con-1/products" in paths
    assert "/api/2.0/consignments/con-9/products" not in paths


def test_consignments_changed_since_by_id_and_a_bad_one_failing_alone():
    old = lsx_consignment("con-2", "PO-1", [("prod-mug", 5, "2.00")], status="SENT",
                          updated_at="2026-10-01T00:00:00+00:00")
    new = lsx_consignment("con-3", "PO-2", [("prod-mug", 5, "2.00")],
                          updated_at="2026-11-25T00:00:00+00:00")
    orphan = lsx_consignment("con-4", "PO-3", [("prod-mug", 5, "2.00")], supplier_id=None,
                             updated_at="2026-11-26T00:00:00+00:00")
    with FakeLightspeedX([], consignments=[old, new, orphan]) as store:
        since = datetime(2026, 11, 20, tzinfo=UTC)
        recent = purchases(make_source(store), since)
        asked = purchases(make_source(store), since, ids=("con-2",))
    assert [(type(p).__name__, p.number) for p in recent] == [
        ("PurchaseOrder", "PO-2"), ("FailedOrder", "PO-3")]
    assert recent[1].field == "supplier_id"
    assert [p.number for p in asked] == ["PO-1", "PO-2", "PO-3"]


def test_a_deleted_consignment_whose_products_are_gone_is_cancelled_not_a_failed_run():
    """Whether the products of a deleted consignment still answer is not documented: were they
    404, the consignment still reads as cancelled and the others are read."""
    gone = lsx_consignment("con-5", "PO-5", [("prod-mug", 5, "2.00")], status="SENT",
                           deleted_at="2026-11-27T00:00:00+00:00")
    with FakeLightspeedX([], consignments=[gone, stock_order()]) as store:
        store.consignments["con-5"]["_products"] = None     # the fake answers 404 for it
        got = purchases(make_source(store))
    assert [(p.number, p.state, len(p.lines)) for p in got] == [
        ("PO-5", PurchaseOrderState.CANCELLED, 0), ("PO-0042", PurchaseOrderState.DRAFT, 2)]


def add_store(cli, sandbox, store: FakeLightspeedX, mode: str) -> None:
    cli("connection", "add", "pos", "--source", "lightspeed_x", "--mode", mode,
        "--set", f"domain_prefix={store.url}", "--set", "timezone=UTC",
        "--secret", "personal_token", stdin=f"{LSX_TOKEN}\n")
    cli.connect_quickbooks("pos", sandbox)


def test_sales_booked_as_invoices_with_payments_then_a_return_exactly_once(cli, sandbox):
    on_account = lsx_sale("sale-3", "1005", [lsx_line("prod-mug", 3, "10.00", "1.50")],
                          status="ONACCOUNT", paid="0", customer_id="cust-ana")
    sales = [tax_exclusive_sale(), tax_inclusive_sale(), on_account]
    with FakeLightspeedX(sales) as store:
        add_store(cli, sandbox, store, "invoices-with-payments")
        first = cli.sync("pos")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"])) for n, i in invoices.items()} \
            == {"1001": (D("34.56"), D("0.00")), "1002": (D("58.00"), D("0.00")),
                "1005": (D("34.50"), D("34.50"))}
        assert sorted(amount(p["TotalAmt"]) for p in documents(sandbox, "Payment")) == [
            D("34.56"), D("58.00")]
        assert cli.sync("pos")["documents"] == []

        # A mug comes back: the return is a new sale, booked as the refund of 1001.
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        store.put(lsx_return("ret-1", "1006", sales[0], [
            lsx_line("prod-mug", -1, "10.00", "0.80", is_return=True)], sale_date=now))
        second = cli.sync("pos")
        assert second["status"] == "succeeded", second
        assert [(d["order"], d["kind"], d["total"]) for d in second["documents"]] == [
            ("1001", "RefundReceipt", "10.80")]
        assert cli.sync("pos")["documents"] == []
        _, out = cli("sync", "pos", "--since", "2026-11-01", "--json")
        assert json.loads(out)["documents"] == []
    assert len(documents(sandbox, "Invoice")) == 3
    assert [amount(r["TotalAmt"]) for r in documents(sandbox, "RefundReceipt")] == [D("10.80")]
    assert_no_file_holds(cli.data_dir, LSX_TOKEN)


def test_sales_booked_as_sales_receipts_to_the_cent_exactly_once(cli, sandbox):
    with FakeLightspeedX([tax_exclusive_sale(), tax_inclusive_sale()]) as store:
        add_store(cli, sandbox, store, "sales-receipts")
        first = cli.sync("pos")
        assert first["status"] == "succeeded", first
        assert cli.sync("pos")["documents"] == []
    receipts = {r["DocNumber"]: amount(r["TotalAmt"]) for r in documents(sandbox, "SalesReceipt")}
    assert receipts == {"1001": D("34.56"), "1002": D("58.00")}
    assert documents(sandbox, "Invoice") == []


def sales_after(store: FakeLightspeedX, start: int = 0) -> list[int]:
    """The `after` of each sales feed request since request number `start`."""
    return [int(r.param("after") or 0) for r in store.received[start:]
            if r.path == "/api/2.0/sales"]


def test_each_sync_reads_the_feed_from_where_the_last_confirmed_one_left_it(cli, sandbox):
    sales = [tax_exclusive_sale(), tax_inclusive_sale()]
    with FakeLightspeedX(sales) as store:
        add_store(cli, sandbox, store, "invoices-with-payments")
        assert cli.sync("pos")["status"] == "succeeded"
        assert sales_after(store) == [0, sales[1]["version"]]
        reached = max(sale["version"] for sale in sales)

        # A refused token fails the run: the position stays where the last good run left it.
        start = len(store.received)
        store.queued.append(Reply(401, {"error": "Unauthorized"}))
        with pytest.raises(AssertionError, match="refused"):
            cli.sync("pos")
        start = len(store.received)
        assert cli.sync("pos")["documents"] == []
        assert sales_after(store, start) == [reached]

        # Only what came after is read: a new sale, then a return of the first one.
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        store.put(lsx_sale("sale-7", "1007", [lsx_line("prod-tee", 1, "20.00", "1.60")],
                           sale_date=now))
        start = len(store.received)
        third = cli.sync("pos")
        assert [(d["order"], d["kind"]) for d in third["documents"]] == [
            ("1007", "Invoice"), ("1007", "Payment")]
        assert sales_after(store, start)[0] == reached
        assert all(r.path != "/api/2.0/search" for r in store.received[start:])


def test_a_second_return_is_booked_though_the_first_lies_before_the_position(cli, sandbox):
    sale = tax_exclusive_sale()
    mug = [lsx_line("prod-mug", -1, "10.00", "0.80", is_return=True)]
    with FakeLightspeedX([sale]) as store:
        add_store(cli, sandbox, store, "sales-receipts")
        assert cli.sync("pos")["status"] == "succeeded"
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        store.put(lsx_return("ret-1", "1006", sale, mug, sale_date=now))
        assert [(d["order"], d["total"]) for d in cli.sync("pos")["documents"]] == [
            ("1001", "10.80")]
        # The second mug comes back later: the first return is not in what changed since,
        # yet the sale still counts it, so only the second is booked.
        store.put(lsx_return("ret-2", "1008", sale, [dict(mug[0], id="line-ret-2")],
                             sale_date=now))
        start = len(store.received)
        assert [(d["order"], d["total"]) for d in cli.sync("pos")["documents"]] == [
            ("1001", "10.80")]
        assert "/api/2.0/sales/ret-1" in {r.path for r in store.received[start:]}
        assert cli.sync("pos")["documents"] == []
    assert [amount(r["TotalAmt"]) for r in documents(sandbox, "RefundReceipt")] == [
        D("10.80"), D("10.80")]


def test_an_undone_run_is_read_again_from_the_start_of_the_feed(cli, sandbox):
    with FakeLightspeedX([tax_exclusive_sale()]) as store:
        add_store(cli, sandbox, store, "sales-receipts")
        assert cli.sync("pos")["status"] == "succeeded"
        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        store.put(lsx_sale("sale-7", "1007", [lsx_line("prod-tee", 1, "20.00", "1.60")],
                           sale_date=now))
        second = cli.sync("pos")
        assert [d["order"] for d in second["documents"]] == ["1007"]
        cli("undo", str(second["run_id"]), "--json")
        start = len(store.received)
        again = cli.sync("pos")
        assert [(d["order"], d["total"]) for d in again["documents"]] == [("1007", "21.60")]
        assert sales_after(store, start)[0] == 0
    assert sorted(r["DocNumber"] for r in documents(sandbox, "SalesReceipt")) == [
        "1001", "1007"]
