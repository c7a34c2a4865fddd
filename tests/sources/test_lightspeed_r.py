"""The Lightspeed R-Series connector against a local server that answers as API V3 does."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import keyring.core
import pytest
from keyring.errors import PasswordSetError

from connex_desktop.core.errors import ReconnectError, SetupError
from connex_desktop.core.model import Order, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.lightspeed_r import LeakyBucket, LightspeedRSource
from connex_desktop.storage.keyring_secrets import BACKEND_ENV
from tests.fakes.lightspeed_r import (
    LSR_ACCOUNT,
    LSR_CLIENT_ID,
    LSR_CLIENT_SECRET,
    LSR_REFRESH,
    FakeLightspeedR,
    lsr_line,
    lsr_order,
    lsr_refund,
    lsr_sale,
)
from tests.fakes.memory_keyring import ReadOnlyKeyring
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal
CUSTOMER = {"customerID": "4", "firstName": "Ana", "lastName": "Ruiz", "company": "",
            "Contact": {"Emails": {"ContactEmail": {"address": "ana@example.com"}},
                        "Addresses": {"ContactAddress": {"address1": "1 Main St",
                                                         "city": "Austin", "state": "TX",
                                                         "zip": "78701", "countryCode": "US"}}}}


class Clock:
    """The fake's and the source's time: a sleep moves it on, so the bucket drains."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_source(store: FakeLightspeedR, clock: Clock, *, refresh: str | None = None,
                page_size: int = 100, saved: dict | None = None) -> LightspeedRSource:
    source = LightspeedRSource(
        {"account_id": LSR_ACCOUNT, "client_id": LSR_CLIENT_ID, "api_url": store.url,
         "timezone": "America/Chicago"},
        {"client_secret": LSR_CLIENT_SECRET, "refresh_token": refresh or store.refresh_token},
        sleep=clock.sleep, clock=clock, page_size=page_size)
    if saved is not None:
        source.secret_saver = saved.__setitem__
    return source


def fetch(source: LightspeedRSource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def sales_listed(store: FakeLightspeedR) -> list:
    return [r for r in store.received if r.path.endswith("/Sale.json") and "saleID" not in r.query]


def helmet_sale() -> dict:
    """Sample-like: one helmet at 280.00, 8.25% and 5% tax on top, paid cash: 317.10."""
    return lsr_sale("2", [lsr_line("6", 1, "280")], customer=CUSTOMER)


def mixed_sale() -> dict:
    """Three bells at 9.99 less 1.50, two tubes at 12.49 (13.25% tax in all): 60.53."""
    return lsr_sale("3", [lsr_line("7", 3, "9.99", discount="1.50"),
                          lsr_line("8", 2, "12.49")], payment="Credit Card")


def test_sales_map_lines_two_tax_slots_discounts_and_payments_to_the_cent():
    clock = Clock()
    inclusive = lsr_sale("4", [lsr_line("8", 3, "7.99", inclusive=True)], inclusive=True)
    with FakeLightspeedR([helmet_sale(), mixed_sale(), inclusive], clock=clock) as store:
        got = {o.number: o for o in fetch(make_source(store, clock))}
    helmet, mixed, gross = got["2"], got["3"], got["4"]
    assert isinstance(helmet, Order) and isinstance(mixed, Order) and isinstance(gross, Order)
    # One line and one payment come back as objects, not lists: read all the same.
    [line] = helmet.lines
    assert (line.sku, line.name, line.quantity, line.unit_price, line.taxable) == (
        "HELM-L", "Helmet L", D(1), D("280"), True)
    assert (helmet.tax, helmet.total, helmet.computed_total, helmet.order_date) == (
        D("37.10"), D("317.10"), D("317.10"), date(2026, 11, 20))
    assert (helmet.buyer.name, helmet.buyer.email, helmet.billing_address.city) == (
        "Ana Ruiz", "ana@example.com", "Austin")
    assert (helmet.status, helmet.payment_status) == ("completed", PaymentStatus.PAID)
    assert [(p.amount, p.method) for p in helmet.payments] == [(D("317.10"), "Cash")]
    # A bell has no custom SKU: its system SKU stands in.
    assert [(ln.sku, ln.amount) for ln in mixed.lines] == [
        ("210000000007", D("28.47")), ("TUBE-700", D("24.98"))]
    assert (mixed.tax, mixed.total, mixed.computed_total) == (D("7.08"), D("60.53"), D("60.53"))
    # Tax-inclusive prices: the tax comes out of the line, so any company books it.
    assert not gross.prices_include_tax
    assert [(ln.quantity, ln.unit_price, ln.amount) for ln in gross.lines] == [
        (D(3), D("7.0533"), D("21.16"))]
    assert (gross.tax, gross.total, gross.computed_total) == (D("2.81"), D("23.97"), D("23.97"))


def test_pages_follow_attributes_next_verbatim_with_the_filters_in_the_value():
    clock = Clock()
    sales = [lsr_sale(str(n), [lsr_line("6", 1, "10")]) for n in range(10, 15)]
    since = datetime(2026, 11, 19, 6, tzinfo=UTC)
    with FakeLightspeedR(sales, clock=clock) as store:
        got = fetch(make_source(store, clock, page_size=2), OrderQuery(modified_since=since))
    assert sorted(o.number for o in got) == ["10", "11", "12", "13", "14"]
    pages = sales_listed(store)
    assert len(pages) == 3
    assert pages[0].param("after") is None and all(r.param("after") for r in pages[1:])
    for page in pages:   # each next page keeps the first page's filters
        assert page.param("timeStamp") == ">=,2026-11-19T06:00:00+00:00"
        assert (page.param("completed"), page.param("archived")) == ("true", "true")


def test_the_created_range_asks_for_complete_times_between_the_store_days():
    clock = Clock()
    early = lsr_sale("20", [lsr_line("6", 1, "10")], when="2026-11-18T15:00:00+00:00")
    late = lsr_sale("21", [lsr_line("6", 1, "10")], when="2026-11-21T03:00:00+00:00")
    with FakeLightspeedR([early, late], clock=clock) as store:
        got = fetch(make_source(store, clock), OrderQuery(created_from=date(2026, 11, 20),
                                                          created_to=date(2026, 11, 20)))
    # 03:00 UTC on the 21st is the evening of the 20th in Chicago.
    assert [o.number for o in got] == ["21"]
    assert sales_listed(store)[0].param("completeTime") == (
        "><,2026-11-20T06:00:00+00:00,2026-11-21T06:00:00+00:00")


def test_open_sales_only_when_asked_and_voided_or_archived_ones_are_no_sale():
    clock = Clock()
    open_sale = lsr_sale("30", [lsr_line("6", 1, "10")], completed=False, paid="0")
    voided = lsr_sale("31", [lsr_line("6", 1, "10")], voided=True)
    archived = lsr_sale("32", [lsr_line("6", 1, "10")], archived="true")
    with FakeLightspeedR([open_sale, voided, archived], clock=clock) as store:
        plain = {o.number: o for o in fetch(make_source(store, clock))}
        asked = fetch(make_source(store, clock), OrderQuery(statuses=("open",)))
    assert sorted(plain) == ["31", "32"]
    assert (plain["31"].status, plain["31"].payment_status) == ("voided", PaymentStatus.VOIDED)
    assert plain["32"].status == "archived"
    assert "30" in [o.number for o in asked]
    assert set(LightspeedRSource.skipped_statuses()) == {"voided", "archived"}
    assert LightspeedRSource.unfinished_statuses == ("open",)


def test_a_refund_sale_is_a_refund_of_the_sale_it_returns_whenever_it_was_made():
    clock = Clock()
    sale = mixed_sale()
    bells = sale["_lines"][0]["saleLineID"]
    first = lsr_refund("40", sale, {bells: 1}, "2026-11-22T17:00:00+00:00")
    second = lsr_refund("41", sale, {bells: 1}, "2026-11-25T17:00:00+00:00")
    with FakeLightspeedR([sale, first, second], clock=clock) as store:
        # Only the second refund changed since: the sale comes back with both refunds.
        got = fetch(make_source(store, clock),
                    OrderQuery(modified_since=datetime(2026, 11, 24, tzinfo=UTC)))
        by_number = fetch(make_source(store, clock), OrderQuery(numbers=("3", "41", "99")))
    [order] = got
    assert order.number == "3"
    assert [(r.amount, r.reference, r.refunded_on) for r in order.refunds] == [
        (D("11.31"), "refund 40", date(2026, 11, 22)),
        (D("11.31"), "refund 41", date(2026, 11, 25))]
    assert [(type(i).__name__, i.number) for i in by_number] == [
        ("Order", "3"), ("FailedOrder", "41"), ("FailedOrder", "99")]
    assert len(by_number[0].refunds) == 2 and by_number[1].field == "saleID"


def test_a_bad_record_fails_only_its_sale_naming_the_field():
    clock = Clock()
    bad = lsr_sale("50", [lsr_line("6", 1, "10")])
    bad["_lines"][0]["unitQuantity"] = "a few"
    with FakeLightspeedR([helmet_sale(), bad], clock=clock) as store:
        got = fetch(make_source(store, clock))
    failed = [i for i in got if isinstance(i, FailedOrder)]
    assert [(f.number, f.field) for f in failed] == [("50", "unitQuantity")]
    assert "line 1" in failed[0].message


def test_the_bucket_headers_pace_requests_before_they_overflow():
    clock = Clock()
    sales = [lsr_sale(str(n), [lsr_line("6", 1, "10")]) for n in range(60, 66)]
    # A small bucket draining half a unit a second; a listing with relations costs 2.
    with FakeLightspeedR(sales, clock=clock, bucket_size=5, drip_per_s="0.5") as store:
        got = fetch(make_source(store, clock, page_size=1))
    assert len(got) == 6
    assert store.throttled == 0            # never refused: the source waited first
    # Each wait lets exactly the next request's cost drain: (level + cost - size) / drip.
    assert clock.sleeps == [2.0, 4.0, 4.0, 4.0, 4.0]


def test_a_429_is_waited_out_as_retry_after_says():
    clock = Clock()
    with FakeLightspeedR([helmet_sale()], clock=clock, drip_per_s="0.25") as store:
        store.level = store.bucket_size        # other apps filled the bucket
        got = fetch(make_source(store, clock))
    assert [o.number for o in got] == ["2"] and store.throttled == 1
    assert clock.sleeps[0] == 8.0              # a cost of 2 at a quarter unit a second


def test_bucket_reads_whatever_size_and_drip_the_headers_give():
    bucket = LeakyBucket()
    assert bucket.wait_s() == 0.0
    response = type("R", (), {"headers": {"X-LS-API-Bucket-Level": "178.5/180",
                                          "X-LS-API-Drip-Rate": "3",
                                          "X-LS-API-Request-Cost": "4"}})()
    bucket.observe(response)
    assert bucket.wait_s() == pytest.approx(2.5 / 3)


def test_the_refresh_token_rotates_and_the_new_one_is_kept_before_use():
    clock = Clock()
    saved: dict[str, str] = {}
    with FakeLightspeedR([helmet_sale(), mixed_sale()], clock=clock) as store:
        source = make_source(store, clock, saved=saved, page_size=1)
        walk = source.fetch_orders(OrderQuery(), CancelToken())
        next(walk)
        store.expire_access()                  # the access token ends mid-walk
        rest = list(walk)
        assert saved["refresh_token"] == store.refresh_token != LSR_REFRESH
        assert source.secrets["refresh_token"] == store.refresh_token
        # The revoked first token no longer works; the kept one does.
        with pytest.raises(ReconnectError):
            fetch(make_source(store, clock, refresh=LSR_REFRESH))
    assert len(rest) == 1
    assert sum(r.path == "/auth/oauth/token" for r in store.received) == 2


def test_a_refused_refresh_token_asks_to_reconnect_without_showing_it():
    clock = Clock()
    refused = "lsr_rt_refused_0000000000000000000000"
    with FakeLightspeedR([], clock=clock) as store, pytest.raises(ReconnectError) as caught:
        make_source(store, clock, refresh=refused).check()
    words = f"{caught.value.message} {caught.value.detail}"
    assert "reconnect" in words.lower() and "revoked" in words
    assert refused not in words and LSR_CLIENT_SECRET not in words


def test_a_rotated_token_that_cannot_be_saved_names_the_setting():
    clock = Clock()

    def refuse(_name: str, _value: str) -> None:
        raise OSError("org.freedesktop.DBus.Error.NoReply")

    with FakeLightspeedR([helmet_sale()], clock=clock) as store, \
            pytest.raises(SetupError) as caught:
        source = make_source(store, clock)
        source.secret_saver = refuse
        fetch(source)
    assert caught.value.field == "refresh_token"
    assert caught.value.detail == "OSError: org.freedesktop.DBus.Error.NoReply"
    assert store.refresh_token not in f"{caught.value.message} {caught.value.detail}"


def test_check_and_settings():
    clock = Clock()
    with FakeLightspeedR([], clock=clock) as store:
        assert LSR_ACCOUNT in make_source(store, clock).check()
    with pytest.raises(SetupError) as caught:
        LightspeedRSource({"account_id": "my shop", "client_id": "x"},
                          {"client_secret": "s", "refresh_token": "r"}).check()
    assert caught.value.field == "account_id"
    with pytest.raises(SetupError) as caught:
        LightspeedRSource({"account_id": "1", "client_id": "x"}, {"client_secret": "s"}).check()
    assert caught.value.field == "refresh_token"
    assert {f.name for f in LightspeedRSource.settings_fields if f.secret} == {
        "client_secret", "refresh_token"}
    assert LightspeedRSource.keeps_own_purchase_orders


def purchases(source: LightspeedRSource, since: datetime | None = None,
              ids: tuple[str, ...] = ()) -> list:
    return list(source.purchase_orders(since, CancelToken(), ids))


def test_purchase_orders_with_received_counts_and_their_state():
    clock = Clock()
    ordered = "2026-11-18T16:00:00+00:00"
    orders = [lsr_order("70", [("6", 10, "140.00", 0), ("8", 24, "3.125", 0)], ordered=ordered,
                        ship="15.00"),
              lsr_order("71", [("8", 12, "3.10", 5)], ordered=ordered),
              lsr_order("72", [("8", 12, "3.10", 12)], ordered=ordered, complete=True),
              lsr_order("73", [("8", 1, "3.10", 0)]),
              lsr_order("74", [("8", 1, "3.10", 0)], ordered=ordered, archived=True)]
    with FakeLightspeedR(orders=orders, clock=clock) as store:
        got = {p.number: p for p in purchases(make_source(store, clock))}
    first = got["70"]
    assert isinstance(first, PurchaseOrder)
    assert (first.vendor, first.state, first.currency, first.order_date) == (
        "Bike Parts Inc", PurchaseOrderState.OPEN, "USD", date(2026, 11, 18))
    assert [(ln.sku, ln.quantity, ln.unit_cost, ln.amount) for ln in first.lines] == [
        ("HELM-L", D(10), D("140.00"), D("1400.00")), ("TUBE-700", D(24), D("3.125"), D("75.00"))]
    assert (first.other_costs, first.total) == (D("15.00"), D("1490.00"))
    assert "reference REF-70" in first.memo and first.expected_date == date(2026, 11, 30)
    assert (got["71"].state, got["71"].lines[0].received) == (
        PurchaseOrderState.PARTLY_RECEIVED, D(5))
    assert [got[n].state for n in ("72", "73", "74")] == [
        PurchaseOrderState.RECEIVED, PurchaseOrderState.DRAFT, PurchaseOrderState.CANCELLED]


def test_purchase_orders_changed_since_and_by_id_with_a_new_revision():
    clock = Clock()
    old = lsr_order("80", [("8", 12, "3.10", 0)], ordered="2026-10-01T16:00:00+00:00",
                    when="2026-10-01T16:00:00+00:00")
    new = lsr_order("81", [("8", 12, "3.10", 0)], when="2026-11-25T16:00:00+00:00")
    nameless = lsr_order("82", [("8", 1, "3.10", 0)], vendor="", when="2026-11-26T16:00:00+00:00")
    with FakeLightspeedR(orders=[old, new, nameless], clock=clock) as store:
        recent = purchases(make_source(store, clock), datetime(2026, 11, 20, tzinfo=UTC))
        [before] = purchases(make_source(store, clock), datetime(2026, 12, 1, tzinfo=UTC), ("80",))
        old["_lines"][0]["numReceived"] = "12"
        old["complete"] = "true"
        [after] = purchases(make_source(store, clock), datetime(2026, 12, 1, tzinfo=UTC), ("80",))
    assert [(type(p).__name__, p.number) for p in recent] == [
        ("PurchaseOrder", "81"), ("FailedOrder", "82")]
    assert recent[1].field == "vendorID"
    assert (before.state, after.state) == (PurchaseOrderState.OPEN, PurchaseOrderState.RECEIVED)
    assert before.revision != after.revision


def add_store(cli, sandbox, store: FakeLightspeedR, mode: str) -> None:
    cli("connection", "add", "rs", "--source", "lightspeed_r", "--mode", mode,
        "--set", f"account_id={LSR_ACCOUNT}", "--set", f"client_id={LSR_CLIENT_ID}",
        "--set", f"api_url={store.url}", "--set", "timezone=America/Chicago",
        "--secret", "client_secret", "--secret", "refresh_token",
        stdin=f"{LSR_CLIENT_SECRET}\n{LSR_REFRESH}\n")
    cli.connect_quickbooks("rs", sandbox)


def test_sales_booked_to_the_cent_then_a_refund_once_with_the_token_rotating(cli, sandbox):
    on_account = lsr_sale("5", [lsr_line("8", 4, "12.49")], paid="20.00", customer=CUSTOMER)
    sales = [helmet_sale(), mixed_sale(), on_account]
    with FakeLightspeedR(sales, clock=time.time) as store:
        add_store(cli, sandbox, store, "invoices-with-payments")
        first = cli.sync("rs")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"])) for n, i in invoices.items()} \
            == {"2": (D("317.10"), D("0.00")), "3": (D("60.53"), D("0.00")),
                "5": (D("56.58"), D("36.58"))}
        # Each sync refreshed with the token the last one left in the keyring.
        assert cli.sync("rs")["documents"] == []

        now = datetime.now(UTC).replace(microsecond=0).isoformat()
        store.put(lsr_refund("6", sales[1], {sales[1]["_lines"][0]["saleLineID"]: 1}, now))
        later = cli.sync("rs")
        assert later["status"] == "succeeded", later
        assert [(d["order"], d["kind"], d["total"]) for d in later["documents"]] == [
            ("3", "RefundReceipt", "11.31")]
        assert cli.sync("rs")["documents"] == []
        _, out = cli("sync", "rs", "--since", "2026-11-01", "--json")
        assert json.loads(out)["documents"] == []
        rotated = store.refresh_token
    assert len(documents(sandbox, "Invoice")) == 3
    assert [amount(r["TotalAmt"]) for r in documents(sandbox, "RefundReceipt")] == [D("11.31")]
    assert rotated != LSR_REFRESH
    for secret in (LSR_CLIENT_SECRET, LSR_REFRESH, rotated):
        assert_no_file_holds(cli.data_dir, secret)


@pytest.mark.parametrize("refusal", [PasswordSetError("Failed to create the item"),
                                     OSError("org.freedesktop.DBus.Error.NoReply")])
def test_a_rotated_token_the_keyring_refuses_stops_the_run_saying_what_to_do(
        cli, sandbox, monkeypatch, refusal):
    with FakeLightspeedR([helmet_sale()], clock=time.time) as store:
        add_store(cli, sandbox, store, "invoices")
        monkeypatch.setattr(ReadOnlyKeyring, "refusal", refusal)
        monkeypatch.setenv(BACKEND_ENV, f"{ReadOnlyKeyring.__module__}.ReadOnlyKeyring")
        monkeypatch.setattr(keyring.core, "_keyring_backend", None)
        result = cli.sync("rs", expect=2)
        rotated = store.refresh_token
    assert rotated != LSR_REFRESH            # Lightspeed rotated it: the saved one is revoked
    assert documents(sandbox, "Invoice") == []
    message = result["errors"][0]["message"]
    assert message.startswith("Lightspeed renewed the refresh token, but the keyring refused "
                              "to keep the new one"), message
    assert "authorise the app in Lightspeed again" in message
    assert "Refresh token" in message and "unexpected" not in message.lower()
    for secret in (LSR_CLIENT_SECRET, LSR_REFRESH, rotated):
        assert secret not in json.dumps(result)


def test_paid_sales_booked_as_sales_receipts_and_no_sale_left_out(cli, sandbox):
    inclusive = lsr_sale("7", [lsr_line("8", 3, "7.99", inclusive=True)], inclusive=True)
    voided = lsr_sale("8", [lsr_line("6", 1, "280")], voided=True)
    on_register = lsr_sale("9", [lsr_line("6", 1, "280")], completed=False, paid="0")
    with FakeLightspeedR([helmet_sale(), inclusive, voided, on_register],
                         clock=time.time) as store:
        add_store(cli, sandbox, store, "sales-receipts")
        first = cli.sync("rs")
        assert first["status"] == "succeeded", first
        assert cli.sync("rs")["documents"] == []
    receipts = {r["DocNumber"]: amount(r["TotalAmt"]) for r in documents(sandbox, "SalesReceipt")}
    assert receipts == {"2": D("317.10"), "7": D("23.97")}
