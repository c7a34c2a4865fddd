"""The SkuVault connector against a local server that answers as SkuVault's API does."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from connex_desktop.core.errors import Cancelled, ReconnectError, SetupError
from connex_desktop.core.model import Address, Buyer, Order, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.purchase_order import PurchaseOrder, PurchaseOrderState
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.skuvault import SkuVaultSource
from tests.fakes.skuvault import (
    SV_EMAIL,
    SV_PASSWORD,
    TENANT_TOKEN,
    USER_TOKEN,
    FakeSkuVault,
    sv_item,
    sv_purchase,
    sv_sale,
)
from tests.sources.store_cli import (  # the fixtures are used by name
    amount,
    assert_no_file_holds,
    cli_fixture,  # noqa: F401
    documents,
    sandbox_fixture,  # noqa: F401
)

D = Decimal
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
BY_DATE = "/api/sales/getSalesByDate"


def fake(sales: list[dict], **options) -> FakeSkuVault:
    return FakeSkuVault(sales, clock_ms=lambda: NOW.timestamp() * 1000, **options)


def make_source(store: FakeSkuVault, *, password: str = SV_PASSWORD, currency: str = "USD",
                page_size: int = 1000, sleeps: list | None = None) -> SkuVaultSource:
    slept = sleeps if sleeps is not None else []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        store.advance(seconds)

    settings = {"email": SV_EMAIL, "currency": currency, "api_url": f"{store.url}/api",
                "timezone": "America/Chicago"}
    return SkuVaultSource(settings, {"password": password}, page_size=page_size, sleep=sleep,
                          clock=lambda: NOW.timestamp() + store.offset_ms / 1000)


def fetch(source: SkuVaultSource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def since(days: float) -> OrderQuery:
    return OrderQuery(modified_since=NOW - timedelta(days=days))


def shipped_sale() -> dict:
    """Two tees and a kit, 7.50 shipping, shipped (paid)."""
    return sv_sale("1-7731-1042", [sv_item("TEE-BLK-M", 2, "25.00")], shipping="7.50",
                   kits=[sv_item("GIFT-KIT", 1, "19.99")],
                   sale_date="2026-11-28T03:10:00.0000000Z")


def unpaid_sale() -> dict:
    return sv_sale("1-7731-1043", [sv_item("MUG-1", 3, "8.333")], status="ShippedUnpaid",
                   sale_date="2026-11-29T18:00:00.0000000Z")


def test_items_kits_and_shipping_add_up_to_the_cent_in_the_connections_currency():
    with fake([shipped_sale(), unpaid_sale()]) as store:
        got = {o.number: o for o in fetch(make_source(store), since(5))}
    shipped, unpaid = got["1-7731-1042"], got["1-7731-1043"]
    assert isinstance(shipped, Order) and isinstance(unpaid, Order)
    # 03:10 UTC on the 28th is the evening of the 27th in Chicago.
    assert (shipped.order_date, shipped.status, shipped.currency) == (
        date(2026, 11, 27), "Completed", "USD")
    assert [(line.sku, line.quantity, line.unit_price, line.amount) for line in shipped.lines] \
        == [("TEE-BLK-M", D(2), D("25.00"), D("50.00")), ("GIFT-KIT", D(1), D("19.99"),
                                                          D("19.99"))]
    assert (shipped.shipping, shipped.tax, shipped.total) == (D("7.50"), D("0.00"), D("77.49"))
    assert [(p.amount, p.paid_on) for p in shipped.payments] == [(D("77.49"),
                                                                  date(2026, 11, 27))]
    assert shipped.payment_status is PaymentStatus.PAID
    assert shipped.buyer == Buyer("Jane Doe", "jane@example.com", "Acme LLC", "555-0100")
    assert shipped.shipping_address == Address("1 Main St", "", "Austin", "TX", "78701", "US")
    assert shipped.notes == "Shopify order 1042"
    # 3 × 8.333 is 24.999: booked as 25.00, the unit price kept as SkuVault gave it.
    assert (unpaid.total, unpaid.payments, unpaid.payment_status) == (
        D("25.00"), (), PaymentStatus.UNPAID)


def test_seven_day_windows_by_modified_date_each_sale_once():
    sales = [sv_sale(f"1-1-{n}", [sv_item("W", 1, "5.00")],
                     sale_date=(NOW - timedelta(days=n * 3)).isoformat()) for n in range(1, 6)]
    with fake(sales) as store:
        # Sale 1-1-5 was edited a moment ago: its modified date, not its sale date, counts.
        store.put(sales[4], modified=(NOW - timedelta(hours=1)).isoformat())
        got = fetch(make_source(store), since(10))
        asked = store.bodies(BY_DATE)
    assert sorted(o.number for o in got) == ["1-1-1", "1-1-2", "1-1-3", "1-1-5"]
    assert [(b["FromDate"], b["ToDate"], b["DateField"]) for b in asked] == [
        ("2026-11-21T12:00:00Z", "2026-11-28T12:00:00Z", "Modified"),
        ("2026-11-28T12:00:00Z", "2026-12-01T12:00:00Z", "Modified")]
    assert all(b["TenantToken"] == TENANT_TOKEN and b["UserToken"] == USER_TOKEN
               for b in asked)


def test_pages_start_at_zero_and_end_on_a_short_page():
    sales = [sv_sale(f"2-1-{n}", [sv_item("W", 1, "1.00")],
                     sale_date="2026-11-30T10:00:00Z") for n in range(1001)]
    with fake(sales) as store:
        got = fetch(make_source(store, page_size=1000), since(2))
        pages = [(b["PageNumber"], b["PageSize"]) for b in store.bodies(BY_DATE)]
    assert len(got) == 1001 and pages == [(0, 1000), (1, 1000)]


def test_created_range_reads_by_sale_date_and_first_sync_looks_back_thirty_days():
    with fake([shipped_sale(), unpaid_sale()]) as store:
        ranged = fetch(make_source(store), OrderQuery(created_from=date(2026, 11, 29),
                                                      created_to=date(2026, 11, 29)))
        first = fetch(make_source(store))
        asked = store.bodies(BY_DATE)
    assert [o.number for o in ranged] == ["1-7731-1043"]
    assert (asked[0]["DateField"], asked[0]["FromDate"], asked[0]["ToDate"]) == (
        "Sale", "2026-11-29T06:00:00Z", "2026-11-30T06:00:00Z")
    assert sorted(o.number for o in first) == ["1-7731-1042", "1-7731-1043"]
    assert [b["FromDate"][:10] for b in asked[1:]] == [
        "2026-11-01", "2026-11-08", "2026-11-15", "2026-11-22", "2026-11-29",
        "2026-11-29"]     # the sixth Heavy call of the minute was throttled, then asked again


def test_one_sale_by_id_and_a_missing_one_reported():
    with fake([shipped_sale(), unpaid_sale()]) as store:
        got = fetch(make_source(store), OrderQuery(numbers=("1-7731-1043", "1-0-404")))
        [asked] = store.bodies("/api/sales/getSales")
    assert [(type(r).__name__, r.number) for r in got] == [
        ("Order", "1-7731-1043"), ("FailedOrder", "1-0-404")]
    assert asked["OrderIds"] == ["1-7731-1043", "1-0-404"]


def test_a_bad_record_fails_alone_naming_the_sale_and_field():
    euros = sv_sale("3-1-1", [sv_item("W", 1, "5.00", symbol="€")])
    garbled = sv_sale("3-1-2", [sv_item("W", 1, "5.00")])
    garbled["MerchantItems"][0]["Quantity"] = "several"
    undated = sv_sale("3-1-3", [sv_item("W", 1, "5.00")])
    with fake([euros, garbled, undated, shipped_sale()]) as store:
        store.put(undated, modified="2026-11-28T00:00:00Z")
        undated["SaleDate"] = "0001-01-01T00:00:00"
        got = {r.number: r for r in fetch(make_source(store), since(20))}
    assert isinstance(got["1-7731-1042"], Order)
    failed = {n: (r.field, r.message) for n, r in got.items() if isinstance(r, FailedOrder)}
    assert {n: field for n, (field, _) in failed.items()} == {
        "3-1-1": "UnitPrice", "3-1-2": "Quantity", "3-1-3": "SaleDate"}
    assert "'€'" in failed["3-1-1"][1] and "USD" in failed["3-1-1"][1]
    assert "MerchantItems 1 (W)" in failed["3-1-2"][1]


def test_the_heavy_throttle_is_waited_out_as_x_ratelimit_reset_says():
    # Five Heavy calls a minute: the sixth 7-day window waits for the minute to pass.
    with fake([shipped_sale()]) as store:
        sleeps: list[float] = []
        got = fetch(make_source(store, sleeps=sleeps), since(40))
        windows = store.bodies(BY_DATE)
    assert [o.number for o in got] == ["1-7731-1042"]
    assert sleeps == [60.0] and len(windows) == 7     # six windows, one asked twice


def test_refused_credentials_ask_to_reconnect_and_never_show_them():
    with fake([shipped_sale()], password="a-new-password") as store:
        source = make_source(store)
        with pytest.raises(ReconnectError) as caught:
            fetch(source, since(1))
        with pytest.raises(ReconnectError):
            source.check()
    error = caught.value
    assert "Reconnect the store" in str(error) and "Invalid email or password" in error.detail
    for text in (str(error), error.detail, repr(error)):
        assert SV_PASSWORD not in text


def test_tokens_refused_later_ask_to_reconnect_without_showing_them():
    with fake([shipped_sale()]) as store:
        source = make_source(store)
        answer = store.route

        def tokens_revoked(request):
            if request.path == BY_DATE:    # the user's tokens were reset in SkuVault
                return answer(dataclasses.replace(request, body=request.body.replace(
                    USER_TOKEN.encode(), b"reset")))
            return answer(request)

        store.route = tokens_revoked
        with pytest.raises(ReconnectError) as caught:
            fetch(source, since(1))
    for text in (str(caught.value), caught.value.detail):
        assert USER_TOKEN not in text and TENANT_TOKEN not in text


def test_cancel_is_honoured_between_windows():
    with fake([shipped_sale()]) as store:
        cancel = CancelToken()
        answer = store.route

        def cancelled_with_the_first_window(request):
            reply = answer(request)
            if request.path == BY_DATE:
                cancel.cancel()
            return reply

        store.route = cancelled_with_the_first_window
        with pytest.raises(Cancelled):
            list(make_source(store).fetch_orders(since(20), cancel))
        assert len(store.bodies(BY_DATE)) == 1


def test_check_and_settings():
    with fake([]) as store:
        assert make_source(store).check() == f"Connected to SkuVault as {SV_EMAIL}."
        with pytest.raises(SetupError) as caught:
            fetch(make_source(store, currency="dollars"))
        assert caught.value.field == "currency" and len(store.received) == 1
    with pytest.raises(SetupError) as caught:
        SkuVaultSource({"email": SV_EMAIL}, {}).check()
    assert caught.value.field == "password"
    assert {f.name for f in SkuVaultSource.settings_fields if f.secret} == {"password"}
    assert SkuVaultSource.keeps_own_purchase_orders
    assert set(SkuVaultSource.skipped_statuses()) == {"Cancelled", "Invalid"}


def test_purchase_orders_changed_since_with_the_completed_ones_asked_apart():
    open_po = sv_purchase("PO-42", [("TEE-BLK-M", 100, "5.00"), ("MUG-1", 3, "2.333")])
    partial = sv_purchase("PO-43", [("SOCK-3", 10, "1.10")], received=4)
    done = sv_purchase("PO-44", [("SOCK-3", 10, "1.10")], status="Completed", received=10)
    costly = sv_purchase("PO-45", [("W", 1, "1.00")], Costs=[{"Name": "Freight"}])
    old = sv_purchase("PO-41", [("W", 1, "1.00")], created="2026-09-01T00:00:00Z")
    with fake([], purchases=[open_po, partial, done, costly, old]) as store:
        source = make_source(store)
        got = {p.number: p for p in source.purchase_orders(NOW - timedelta(days=40),
                                                           CancelToken())}
        asked = store.bodies("/api/purchaseorders/getPOs")
        [again] = source.purchase_orders(NOW, CancelToken(), ids=["PO-41"])
    assert sorted(got) == ["PO-42", "PO-43", "PO-44", "PO-45"]
    assert [b.get("Status") for b in asked] == [None, "Completed"]
    first = got["PO-42"]
    assert isinstance(first, PurchaseOrder) and first.vendor == "Cotton Supply Co"
    assert [(line.sku, line.unit_cost, line.amount) for line in first.lines] == [
        ("TEE-BLK-M", D("5.00"), D("500.00")), ("MUG-1", D("2.3333"), D("7.00"))]
    assert (first.total, first.currency, first.state) == (
        D("507.00"), "USD", PurchaseOrderState.OPEN)
    assert got["PO-43"].state is PurchaseOrderState.PARTLY_RECEIVED
    assert got["PO-44"].state is PurchaseOrderState.RECEIVED
    assert isinstance(got["PO-45"], FailedOrder) and got["PO-45"].field == "Costs"
    assert again.number == "PO-41" and again.expected_date == date(2026, 11, 9)


def add_skuvault(cli, sandbox, store: FakeSkuVault, mode: str) -> None:
    cli("connection", "add", "sv", "--source", "skuvault", "--mode", mode,
        "--set", f"email={SV_EMAIL}", "--set", "currency=USD",
        "--set", f"api_url={store.url}/api", "--set", "timezone=UTC",
        "--secret", "password", stdin=f"{SV_PASSWORD}\n")
    cli.connect_quickbooks("sv", sandbox)


def test_booked_in_quickbooks_to_the_cent_then_only_what_changed(cli, sandbox):
    today = datetime.now(UTC).replace(microsecond=0)
    paid = sv_sale("1-7731-2001", [sv_item("TEE-BLK-M", 2, "25.00")], shipping="7.50",
                   sale_date=(today - timedelta(days=2)).isoformat())
    owed = sv_sale("1-7731-2002", [sv_item("MUG-1", 3, "8.333")], status="ShippedUnpaid",
                   sale_date=(today - timedelta(days=1)).isoformat())
    with FakeSkuVault([paid, owed]) as store:
        add_skuvault(cli, sandbox, store, "invoices-with-payments")
        first = cli.sync("sv")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"]))
                for n, i in invoices.items()} == {
            "1-7731-2001": (D("57.50"), D("0.00")), "1-7731-2002": (D("25.00"), D("25.00"))}
        store.advance(60)    # a minute between syncs: SkuVault's Heavy calls are 5 a minute
        assert cli.sync("sv")["documents"] == []
        # The next sync asks only for what changed since the last one (less the overlap).
        last = store.bodies(BY_DATE)[-1]
        assert datetime.fromisoformat(last["FromDate"]) > today - timedelta(hours=2)

        # The unpaid sale is paid and marked Completed.
        store.put(dict(owed, Status="Completed"), modified=today.isoformat())
        store.advance(60)
        later = cli.sync("sv")
        assert [(d["order"], d["kind"], d["total"]) for d in later["documents"]] == [
            ("1-7731-2002", "Payment", "25.00")], later
        store.advance(60)
        _, out = cli("sync", "sv", "--since", (today - timedelta(days=3)).date().isoformat(),
                     "--json")
        assert json.loads(out)["documents"] == []
    assert len(documents(sandbox, "Invoice")) == 2
    assert_no_file_holds(cli.data_dir, SV_PASSWORD)
    assert_no_file_holds(cli.data_dir, USER_TOKEN)
