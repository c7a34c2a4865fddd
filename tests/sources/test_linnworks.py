"""The Linnworks connector against a local server that answers as Linnworks' API does."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connex_desktop.core.errors import Cancelled, ReconnectError, SetupError
from connex_desktop.core.model import Address, Buyer, Order, PaymentStatus, Refund
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sources.linnworks import LinnworksSource
from tests.fakes.linnworks import (
    LW_APP_ID,
    LW_SECRET,
    LW_TOKEN,
    RETRY_AFTER_S,
    FakeLinnworks,
    lw_item,
    lw_order,
    lw_purchase,
    lw_refund,
    now_iso,
)
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal
NOW_S = datetime(2026, 12, 1, tzinfo=UTC).timestamp()


def make_source(store: FakeLinnworks, *, token: str = LW_TOKEN, page_size: int = 200,
                sleeps: list | None = None) -> LinnworksSource:
    settings = {"application_id": LW_APP_ID, "api_url": store.url, "timezone": "Europe/London"}
    return LinnworksSource(settings, {"application_secret": LW_SECRET,
                                      "installation_token": token},
                           page_size=page_size, clock=lambda: NOW_S,
                           sleep=(sleeps if sleeps is not None else []).append)


def fetch(source: LinnworksSource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def vat_inclusive_order(currency: str = "GBP") -> dict:
    """A UK order: two tees at 12.00 with 20% VAT in, postage 4.99 with VAT in; paid."""
    return lw_order(10421, [lw_item("TEE-BLK-M", 2, "12.00", tax_rate="20", inclusive=True,
                                    title="Tee black M")],
                    postage="4.99", postage_tax_rate="20", currency=currency)


def tax_exclusive_order() -> dict:
    """A US order: three mugs at 8.50 with 8.25% sales tax on top, 5.00 postage; unpaid."""
    return lw_order(10422, [lw_item("MUG-1", 3, "8.50", tax_rate="8.25", title="Mug")],
                    postage="5.00", status=0, processed=False, currency="USD",
                    received="2026-11-21T23:30:00Z", updated="2026-11-22T08:00:00Z")


def test_vat_inclusive_and_exclusive_orders_add_up_to_the_cent():
    with FakeLinnworks([vat_inclusive_order(), tax_exclusive_order()]) as store:
        got = {o.number: o for o in fetch(make_source(store))}
    uk, us = got["10421"], got["10422"]
    assert isinstance(uk, Order) and isinstance(us, Order)
    assert (uk.number, uk.status, uk.currency, uk.order_date) == (
        "10421", "PAID", "GBP", date(2026, 11, 20))
    [tee] = uk.lines
    assert (tee.sku, tee.name, tee.quantity, tee.unit_price, tee.amount, tee.taxable) == (
        "TEE-BLK-M", "Tee black M", D(2), D("10.00"), D("20.00"), True)
    assert (uk.shipping, uk.tax, uk.total, uk.computed_total) == (
        D("4.16"), D("4.83"), D("28.99"), D("28.99"))
    assert [(p.amount, p.method, p.paid_on) for p in uk.payments] == [
        (D("28.99"), "PayPal", date(2026, 11, 20))]
    assert uk.payment_status is PaymentStatus.PAID and uk.notes == "SHOPIFY order #11421"
    assert uk.buyer == Buyer("Jane Doe", "jane@example.com", "Acme Ltd", "0113 496 0000")
    assert uk.shipping_address == Address("1 High St", "", "Leeds", "West Yorkshire",
                                          "LS1 1AA", "United Kingdom")

    # 23:30 UTC on 21 November is still the 21st in London (GMT in winter).
    assert (us.status, us.currency, us.order_date) == ("UNPAID", "USD", date(2026, 11, 21))
    assert (us.subtotal, us.shipping, us.tax, us.total) == (
        D("25.50"), D("5.00"), D("2.10"), D("32.60"))
    assert us.payments == () and us.payment_status is PaymentStatus.UNPAID


def test_pages_follow_the_search_token_and_from_date_is_the_cursor():
    orders = [lw_order(n, [lw_item("W", 1, "5.00")], updated=f"2026-11-2{n}T00:00:00Z")
              for n in range(1, 6)]
    since = datetime(2026, 11, 22, 6, tzinfo=UTC)
    with FakeLinnworks(orders) as store:
        got = fetch(make_source(store, page_size=2), OrderQuery(modified_since=since))
        asked = [r.query for r in store.received if r.path == "/v2/orders"]
        searched = [r.query for r in store.received
                    if r.path.endswith("SearchReturnsRefundsPaged")]
    assert [o.number for o in got] == ["3", "4", "5"]
    assert asked[0] == {"entriesPerPage": ["2"], "includeProcessed": ["true"],
                        "fromDate": ["2026-11-22T06:00:00Z"]}
    assert len(asked) == 2 and "searchToken" in asked[1]
    # Refunds are searched by the day they were actioned, from the same time.
    assert searched[0]["dateType"] == ["ACTIONED"] and searched[0]["from"] == [
        "2026-11-22T06:00:00Z"]


def test_a_refund_since_brings_its_order_back_with_all_its_refunds():
    order = vat_inclusive_order()
    refunds = {order["OrderId"]: [
        lw_refund("5.00", "2026-11-23T10:00:00Z", reference="RF-1"),
        lw_refund("4.99", "2026-11-23T10:00:00Z", reference="RF-1"),
        lw_refund("10.00", "2026-11-28T09:00:00Z", reference="RF-2"),
        lw_refund("1.00", "2026-11-29T09:00:00Z", reference="RF-3", actioned=False)]}
    with FakeLinnworks([order], refunds=refunds) as store:
        # Not updated since 25 November, but refunded on the 28th.
        [got] = fetch(make_source(store), OrderQuery(
            modified_since=datetime(2026, 11, 25, tzinfo=UTC)))
    assert got.refunds == (Refund(D("9.99"), "refund RF-1", date(2026, 11, 23)),
                           Refund(D("10.00"), "refund RF-2", date(2026, 11, 28)))
    assert got.payment_status is PaymentStatus.PAID


def test_statuses_cancelled_resends_and_the_created_range():
    resend = lw_order(31, [lw_item("W", 1, "5.00")], status=4)
    cancelled = lw_order(32, [lw_item("W", 1, "5.00")], cancelled=True)
    late = lw_order(33, [lw_item("W", 1, "5.00")], received="2026-11-30T10:00:00Z",
                    updated="2026-11-30T11:00:00Z")
    with FakeLinnworks([resend, cancelled, late]) as store:
        got = {o.number: o for o in fetch(make_source(store))}
        ranged = fetch(make_source(store), OrderQuery(created_from=date(2026, 11, 25)))
        from_date = [r.query.get("fromDate") for r in store.received
                     if r.path == "/v2/orders"][-1]
    assert (got["31"].status, got["32"].status) == ("RESEND", "CANCELLED")
    assert got["32"].payment_status is PaymentStatus.CANCELLED
    assert set(LinnworksSource.skipped_statuses()) == {"CANCELLED", "RETURN", "RESEND"}
    assert [o.number for o in ranged] == ["33"]
    assert from_date == ["2026-11-24T00:00:00Z"]


def test_one_order_by_number_and_missing_ones_reported():
    with FakeLinnworks([vat_inclusive_order(), tax_exclusive_order()]) as store:
        got = fetch(make_source(store), OrderQuery(numbers=("10422", "999", "#12")))
    assert [(type(r).__name__, r.number) for r in got] == [
        ("FailedOrder", "999"), ("FailedOrder", "#12"), ("Order", "10422")]
    assert "No order 999 in Linnworks" in got[0].message


def test_a_bad_record_fails_only_its_order_naming_the_field():
    off_total = vat_inclusive_order()
    off_total["TotalsInfo"]["TotalCharge"] = 99.0
    garbled = lw_order(51, [lw_item("W", 1, "5.00")])
    garbled["Items"][0]["Cost"] = "five"
    wrong_tax = lw_order(52, [lw_item("W", 1, "5.00", tax_rate="20")])
    wrong_tax["TotalsInfo"]["Tax"] = 3.0
    no_status = lw_order(53, [lw_item("W", 1, "5.00")])
    no_status["GeneralInfo"]["Status"] = 9
    with FakeLinnworks([off_total, garbled, wrong_tax, no_status,
                        tax_exclusive_order()]) as store:
        got = {r.number: r for r in fetch(make_source(store))}
    assert isinstance(got["10422"], Order)
    assert {n: (type(r).__name__, getattr(r, "field", "")) for n, r in got.items()
            if n != "10422"} == {"10421": ("FailedOrder", "total"),
                                 "51": ("FailedOrder", "Cost"),
                                 "52": ("FailedOrder", "Tax"), "53": ("FailedOrder", "Status")}
    assert "item 1 (W)" in got["51"].message and "99" in got["10421"].message


def test_the_per_method_limit_is_waited_out_by_retry_after():
    with FakeLinnworks([vat_inclusive_order()], limits={"/v2/orders": 1}) as store:
        sleeps: list[float] = []
        source = make_source(store, sleeps=sleeps)
        first = fetch(source, OrderQuery(modified_since=datetime(2026, 11, 1, tzinfo=UTC)))
        again = fetch(source, OrderQuery(modified_since=datetime(2026, 11, 1, tzinfo=UTC)))
        statuses = [r.path for r in store.received if r.path == "/v2/orders"]
    assert [o.number for o in first + again] == ["10421", "10421"]
    assert sleeps == [float(RETRY_AFTER_S)] and len(statuses) == 3


def test_an_ended_session_is_renewed_once_mid_walk():
    orders = [lw_order(n, [lw_item("W", 1, "5.00")]) for n in range(1, 5)]
    with FakeLinnworks(orders) as store:
        answer = store.route

        def ends_after_the_first_page(request):
            reply = answer(request)
            if request.path == "/v2/orders" and "searchToken" not in request.query:
                store.expire_sessions()
            return reply

        store.route = ends_after_the_first_page
        got = fetch(make_source(store, page_size=2))
        paths = [r.path.rsplit("/", 1)[-1] for r in store.received]
    assert [o.number for o in got] == ["1", "2", "3", "4"]
    assert paths[:4] == ["AuthorizeByApplication", "orders", "orders", "AuthorizeByApplication"]
    assert paths.count("AuthorizeByApplication") == 2


def test_refused_credentials_ask_to_reconnect_and_never_show_them():
    with FakeLinnworks([vat_inclusive_order()], token="a-newer-installation-token") as store:
        source = make_source(store)
        with pytest.raises(ReconnectError) as caught:
            fetch(source)
        with pytest.raises(ReconnectError):
            source.check()
    error = caught.value
    assert "Reconnect the store" in str(error) and "Invalid application" in error.detail
    for text in (str(error), error.detail, repr(error)):
        assert LW_TOKEN not in text and LW_SECRET not in text


def test_cancel_is_honoured_between_pages():
    orders = [lw_order(n, [lw_item("W", 1, "5.00")]) for n in range(1, 5)]
    with FakeLinnworks(orders) as store:
        cancel = CancelToken()
        answer = store.route

        def cancelled_with_the_first_page(request):
            reply = answer(request)
            if request.path == "/v2/orders":
                cancel.cancel()
            return reply

        store.route = cancelled_with_the_first_page
        with pytest.raises(Cancelled):
            list(make_source(store, page_size=2).fetch_orders(OrderQuery(), cancel))
        assert len([r for r in store.received if r.path == "/v2/orders"]) == 1


def test_check_and_settings():
    with FakeLinnworks([vat_inclusive_order()]) as store:
        assert make_source(store).check() == "Connected to Linnworks (EU): 1 orders."
    with pytest.raises(SetupError) as caught:
        LinnworksSource({"application_id": LW_APP_ID}, {"application_secret": LW_SECRET}).check()
    assert caught.value.field == "installation_token"
    with pytest.raises(SetupError) as caught:
        LinnworksSource({"application_id": LW_APP_ID, "api_url": "http://lw.example.com"},
                        {"application_secret": "s", "installation_token": "t"}).check()
    assert caught.value.field == "api_url"
    assert {f.name for f in LinnworksSource.settings_fields if f.secret} == {
        "application_secret", "installation_token"}
    assert LinnworksSource.keeps_own_purchase_orders


def purchases(source: LinnworksSource, since: datetime | None = None, ids=()) -> list:
    return list(source.purchase_orders(since, CancelToken(), ids))


def test_purchase_orders_read_with_unit_cost_without_tax_and_their_state():
    open_po = lw_purchase("PO-2026-0042", [("TEE-BLK-M", 100, "5.00"), ("MUG-1", 3, "2.333")],
                          shipping="12.00")
    partial = lw_purchase("PO-2026-0043", [("SOCK-3", 10, "1.10")], status="PARTIAL",
                          delivered=4, day="2026-11-20T09:00:00Z")
    with FakeLinnworks([], purchases=[open_po, partial]) as store:
        got = {p.number: p for p in purchases(make_source(store))}
    first = got["PO-2026-0042"]
    assert isinstance(first, PurchaseOrder)
    assert (first.vendor, first.state, first.status, first.currency) == (
        "Cotton Supply Co", PurchaseOrderState.OPEN, "OPEN", "GBP")
    assert (first.order_date, first.expected_date) == (date(2026, 11, 2), date(2026, 11, 10))
    # Cost is the line total with 20% tax: 600.00 for a hundred tees at 5.00.
    assert [(line.sku, line.quantity, line.unit_cost, line.amount) for line in first.lines] == [
        ("TEE-BLK-M", D(100), D("5.00"), D("500.00")), ("MUG-1", D(3), D("2.3333"), D("7.00"))]
    assert (first.other_costs, first.tax, first.total, first.computed_total) == (
        D("12.00"), D("101.40"), D("620.40"), D("620.40"))
    assert "supplier reference SUP-7781" in first.memo
    second = got["PO-2026-0043"]
    assert second.state is PurchaseOrderState.PARTLY_RECEIVED
    assert second.lines[0].received == D(4)


def test_purchase_orders_since_a_date_and_by_id_with_a_changed_revision():
    old = lw_purchase("PO-1", [("W", 5, "2.00")], day="2026-10-01T09:00:00Z")
    new = lw_purchase("PO-2", [("W", 5, "2.00")], day="2026-11-25T09:00:00Z")
    broken = lw_purchase("PO-3", [("W", 5, "2.00")], day="2026-11-26T09:00:00Z")
    broken["PurchaseOrderHeader"]["taxPaid"] = 9.0
    with FakeLinnworks([], purchases=[old, new, broken]) as store:
        source = make_source(store)
        recent = purchases(source, datetime(2026, 11, 20, tzinfo=UTC))
        [before] = purchases(source, datetime(2026, 12, 1, tzinfo=UTC),
                             ids=[old["PurchaseOrderHeader"]["pkPurchaseID"]])
        old["PurchaseOrderHeader"]["Status"] = "DELIVERED"
        old["PurchaseOrderItem"][0]["Delivered"] = 5
        [after] = purchases(source, datetime(2026, 12, 1, tzinfo=UTC),
                            ids=[old["PurchaseOrderHeader"]["pkPurchaseID"]])
    assert [(type(p).__name__, p.number) for p in recent] == [
        ("PurchaseOrder", "PO-2"), ("FailedOrder", "PO-3")]
    assert recent[1].field == "taxPaid"
    assert (before.state, after.state) == (PurchaseOrderState.OPEN, PurchaseOrderState.RECEIVED)
    assert before.revision != after.revision


def test_a_purchase_order_asked_for_by_id_and_gone_fails_alone():
    kept = lw_purchase("PO-5", [("W", 5, "2.00")], day="2026-11-25T09:00:00Z")
    with FakeLinnworks([], purchases=[kept]) as store:
        got = purchases(make_source(store), datetime(2026, 11, 20, tzinfo=UTC),
                        ids=["0f0f0f0f-dead-4000-8000-000000000000"])
    assert [(type(p).__name__, p.number) for p in got] == [
        ("FailedOrder", "0f0f0f0f-dead-4000-8000-000000000000"), ("PurchaseOrder", "PO-5")]
    assert "none with this id any more" in got[0].message


def add_linnworks(cli, sandbox, store: FakeLinnworks, mode: str) -> None:
    cli("connection", "add", "lw", "--source", "linnworks", "--mode", mode,
        "--set", f"application_id={LW_APP_ID}", "--set", f"api_url={store.url}",
        "--set", "timezone=Europe/London", "--secret", "application_secret",
        "--secret", "installation_token", stdin=f"{LW_SECRET}\n{LW_TOKEN}\n")
    cli.connect_quickbooks("lw", sandbox)


def test_booked_in_quickbooks_to_the_cent_incrementally_and_refunded_once(cli, sandbox):
    # The sandbox company keeps its books in US dollars: the UK-style order is sold in them.
    with FakeLinnworks([vat_inclusive_order("USD"), tax_exclusive_order()]) as store:
        add_linnworks(cli, sandbox, store, "invoices-with-payments")
        first = cli.sync("lw")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"]))
                for n, i in invoices.items()} == {
            "10421": (D("28.99"), D("0.00")), "10422": (D("32.60"), D("32.60"))}
        # The next sync reads from its cursor: nothing new, nothing booked.
        assert cli.sync("lw")["documents"] == []
        fresh = [r.query["fromDate"][0] for r in store.received
                 if r.path == "/v2/orders" and "fromDate" in r.query]
        assert datetime.fromisoformat(fresh[-1]) > datetime.now(UTC) - timedelta(hours=2)

        # Order 10422 is paid later, and 10421 is partly refunded.
        store.put(lw_order(10422, tax_exclusive_order()["Items"], postage="5.00",
                           currency="USD", received="2026-11-21T23:30:00Z",
                           updated=now_iso()))
        store.refunds[vat_inclusive_order()["OrderId"]] = [lw_refund("9.99", now_iso())]
        later = cli.sync("lw")
        assert sorted((d["order"], d["kind"], d["total"]) for d in later["documents"]) == [
            ("10421", "RefundReceipt", "9.99"), ("10422", "Payment", "32.60")], later
        assert cli.sync("lw")["documents"] == []
        _, out = cli("sync", "lw", "--since", "2026-11-01", "--json")
        assert json.loads(out)["documents"] == []
    assert len(documents(sandbox, "Invoice")) == 2
    assert [amount(r["TotalAmt"]) for r in documents(sandbox, "RefundReceipt")] == [D("9.99")]
    assert_no_file_holds(cli.data_dir, LW_TOKEN)
    assert_no_file_holds(cli.data_dir, LW_SECRET)
