"""The Erply connector against a local server that answers as the classic JSON API does."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connex_desktop.__main__ import main
from connex_desktop.core.errors import Cancelled, ReconnectError, RetryLaterError, SetupError
from connex_desktop.core.model import Buyer, Order, PaymentStatus
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.amounts import ROUNDING_SKU
from connex_desktop.sources.base import FailedOrder, OrderQuery
from connex_desktop.sources.erply import ErplySource
from tests.fakes.erply import (
    ERPLY_CODE,
    ERPLY_PASSWORD,
    ERPLY_USER,
    NOW,
    FakeErply,
    erply_document,
    erply_payment,
    erply_row,
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


def make_source(store: FakeErply, *, password: str = ERPLY_PASSWORD, page_size: int = 100,
                sleeps: list | None = None) -> ErplySource:
    settings = {"client_code": ERPLY_CODE, "username": ERPLY_USER,
                "api_url": f"{store.url}/api/"}
    return ErplySource(settings, {"password": password}, page_size=page_size,
                       sleep=(sleeps if sleeps is not None else []).append)


def fetch(source: ErplySource, query: OrderQuery | None = None) -> list:
    return list(source.fetch_orders(query or OrderQuery(), CancelToken()))


def vat_exclusive_invoice() -> dict:
    """Invoice 10004421: two rows with net prices, one 10% off, 20% VAT; paid by card."""
    return erply_document(5521, "10004421", [
        erply_row("TEE-BLK-M", "Tee black M", "2", "22.00", discount="10"),
        erply_row("MUG-1", "Mug", "1", "8.50")], paid="0")


def vat_inclusive_receipt() -> dict:
    """POS receipt 20000017: prices entered with VAT (3 × 10.00 incl. 20%), cash rounding."""
    return erply_document(5522, "20000017", [
        erply_row("SOCK-3", "Socks", "3", "10.00", with_vat=True)],
        doc_type="CASHINVOICE", rounding="0.02", paid="30.02", paymentType="CASH")


def payments() -> list[dict]:
    return [erply_payment(1, 5521, "CARD", "57.72", cardType="VISA", referenceNumber="A-77"),
            erply_payment(2, 5521, "TIP", "3.00"), erply_payment(3, 5522, "CASH", "30.02")]


def test_vat_exclusive_and_inclusive_documents_map_to_the_cent():
    with FakeErply([vat_exclusive_invoice(), vat_inclusive_receipt()],
                   payments=payments()) as store:
        invoice, receipt = fetch(make_source(store))
    assert isinstance(invoice, Order) and isinstance(receipt, Order)
    assert (invoice.source, invoice.source_id, invoice.number) == ("erply", "5521", "10004421")
    assert (invoice.order_date, invoice.status, invoice.currency) == (
        date(2026, 11, 20), "READY", "USD")
    assert invoice.buyer == Buyer("Mari Tamm", "mari@example.com", "", "555-0100")
    assert invoice.billing_address.city == "Austin"
    tee, mug = invoice.lines
    assert (tee.sku, tee.quantity, tee.unit_price, tee.discount, tee.amount) == (
        "TEE-BLK-M", D(2), D("22.00"), D("4.40"), D("39.60"))
    assert (mug.sku, mug.amount, mug.taxable) == ("MUG-1", D("8.50"), True)
    assert (invoice.tax, invoice.total) == (D("9.62"), D("57.72"))
    assert invoice.computed_total == invoice.total
    # The tip is paid on top of the total: no payment of the invoice.
    [card] = invoice.payments
    assert (card.amount, card.method, card.reference) == (D("57.72"), "VISA", "A-77")
    assert invoice.updated_at == datetime.fromtimestamp(NOW - 86_400, UTC)

    [socks, rounding] = receipt.lines
    assert (socks.quantity, socks.amount, socks.discount) == (D(3), D("25.00"), D("0.00"))
    assert (rounding.sku, rounding.amount, rounding.taxable) == (ROUNDING_SKU, D("0.02"), False)
    assert (receipt.tax, receipt.total, receipt.computed_total) == (
        D("5.00"), D("30.02"), D("30.02"))
    assert receipt.payment_status is PaymentStatus.PAID
    assert [(p.amount, p.method) for p in receipt.payments] == [(D("30.02"), "Cash")]


def test_a_credit_invoice_is_a_refund_of_the_invoice_it_credits():
    sale = vat_inclusive_receipt()
    credit = erply_document(6001, "30000002", [
        erply_row("SOCK-3", "Socks", "-1", "10.00", with_vat=True)], doc_type="CREDITINVOICE",
        day="2026-11-22", changed=NOW, baseDocuments=[
            {"id": 5522, "number": "20000017", "type": "CASHINVOICE", "date": "2026-11-20"}])
    orphan = erply_document(6002, "30000003", [erply_row("X", "X", "-1", "1.00")],
                            doc_type="CREDITINVOICE", changed=NOW)
    with FakeErply([sale, credit, orphan], payments=payments()) as store:
        # Only the credit invoices changed lately: the receipt they credit is read by id.
        got = fetch(make_source(store), OrderQuery(
            modified_since=datetime.fromtimestamp(NOW - 60, UTC)))
    failed = [r for r in got if isinstance(r, FailedOrder)]
    orders = [r for r in got if isinstance(r, Order)]
    assert [(f.number, f.field) for f in failed] == [("30000003", "baseDocuments")]
    [order] = orders
    assert order.number == "20000017" and order.total == D("30.02")
    [refund] = order.refunds
    assert (refund.amount, refund.reference, refund.refunded_on) == (
        D("10.00"), "credit invoice 30000002", date(2026, 11, 22))


def test_pages_are_walked_to_the_last_one_and_changed_since_and_dates_sent():
    docs = [erply_document(i, str(100 + i), [erply_row("W", "Widget", "1", "10.00")],
                           paid="12.00") for i in range(1, 8)]
    docs[6]["date"] = "2026-12-01"
    query = OrderQuery(created_from=date(2026, 11, 1), created_to=date(2026, 11, 30),
                       modified_since=datetime(2026, 11, 1, tzinfo=UTC))
    with FakeErply(docs) as store:
        got = fetch(make_source(store, page_size=3), query)
        lists = [f for f in store.forms() if f.get("request") == "getSalesDocuments"]
    assert [o.number for o in got] == [str(100 + i) for i in range(1, 7)]
    assert [f["pageNo"] for f in lists] == ["1", "2"]
    assert {k: lists[0][k] for k in ("changedSince", "dateFrom", "dateTo", "recordsOnPage",
                                     "types", "confirmed", "getRowsForAllInvoices")} == {
        "changedSince": str(int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())),
        "dateFrom": "2026-11-01", "dateTo": "2026-11-30", "recordsOnPage": "3",
        "types": "INVWAYBILL,CASHINVOICE,CREDITINVOICE", "confirmed": "1",
        "getRowsForAllInvoices": "1"}


def test_one_order_by_number_and_missing_ones_reported():
    with FakeErply([vat_exclusive_invoice(), vat_inclusive_receipt()],
                   payments=payments()) as store:
        got = fetch(make_source(store), OrderQuery(numbers=("20000017", "999", "INV-1")))
    assert [(type(r).__name__, r.number) for r in got] == [
        ("FailedOrder", "999"), ("FailedOrder", "INV-1"), ("Order", "20000017")]


def test_a_bad_record_fails_only_its_order_naming_the_field():
    broken = erply_document(7, "107", [erply_row("W", "Widget", "1", "10.00")])
    broken["total"] = 99.0
    garbled = erply_document(8, "108", [erply_row("W", "Widget", "1", "10.00")])
    garbled["rows"][0]["amount"] = "lots"
    wrong_net = erply_document(9, "109", [erply_row("W", "Widget", "1", "10.00")])
    wrong_net["netTotal"] = 11.0
    good = erply_document(10, "110", [erply_row("W", "Widget", "1", "10.00")])
    with FakeErply([broken, garbled, wrong_net, good]) as store:
        got = fetch(make_source(store))
    assert [(type(r).__name__, r.number, getattr(r, "field", "")) for r in got] == [
        ("FailedOrder", "107", "total"), ("FailedOrder", "108", "amount"),
        ("FailedOrder", "109", "netTotal"), ("Order", "110", "")]
    assert "99.0" in got[0].message


def test_unconfirmed_documents_only_when_asked_for_by_state():
    draft = erply_document(11, "", [erply_row("W", "Widget", "1", "10.00")], confirmed="0")
    with FakeErply([draft, vat_exclusive_invoice()], payments=payments()) as store:
        source = make_source(store)
        assert [o.number for o in fetch(source)] == ["10004421"]
        [unconfirmed] = fetch(source, OrderQuery(statuses=("unconfirmed",)))
        with pytest.raises(SetupError) as caught:
            fetch(source, OrderQuery(statuses=("shipped-ish",)))
    assert (unconfirmed.number, unconfirmed.status) == ("id 11", "UNCONFIRMED")
    assert caught.value.field == "statuses"


def test_the_hourly_quota_says_try_later_without_retrying():
    with FakeErply([vat_exclusive_invoice()], quota=2) as store:
        sleeps: list[float] = []
        with pytest.raises(RetryLaterError) as caught:
            fetch(make_source(store, sleeps=sleeps))
        calls = len(store.received)
    assert "hourly request limit" in caught.value.message and "1002" in caught.value.message
    assert sleeps == [] and calls == 3


def test_one_sign_in_serves_the_whole_run():
    docs = [erply_document(i, str(100 + i), [erply_row("W", "Widget", "1", "10.00")])
            for i in range(1, 5)]
    with FakeErply(docs) as store:
        got = fetch(make_source(store, page_size=2))
        requests = [f["request"] for f in store.forms()]
        keys = {f.get("sessionKey") for f in store.forms()[1:]}
    assert [o.number for o in got] == ["101", "102", "103", "104"]
    # Signing in before each call would spend the hourly quota twice as fast.
    assert requests == ["verifyUser", "getSalesDocuments", "getSalesDocuments", "getPayments",
                        "getCustomers"]
    assert len(keys) == 1


def test_an_expired_session_met_mid_walk_is_renewed_once():
    docs = [erply_document(i, str(100 + i), [erply_row("W", "Widget", "1", "10.00")])
            for i in range(1, 5)]
    with FakeErply(docs) as store:
        store.expire_after = {"getSalesDocuments"}
        got = fetch(make_source(store, page_size=2))
        requests = [f["request"] for f in store.forms()]
    assert [o.number for o in got] == ["101", "102", "103", "104"]
    assert requests[:5] == ["verifyUser", "getSalesDocuments", "getSalesDocuments",
                            "verifyUser", "getSalesDocuments"]


def test_a_session_refused_again_after_renewal_is_renewed_only_once():
    with FakeErply([vat_exclusive_invoice()]) as store:
        store.expire_after = {"verifyUser"}
        with pytest.raises(ReconnectError) as caught:
            fetch(make_source(store))
        requests = [f["request"] for f in store.forms()]
    assert requests == ["verifyUser", "getSalesDocuments", "verifyUser", "getSalesDocuments"]
    assert "1054" in caught.value.detail


def test_an_http_403_is_an_expired_session_too():
    with FakeErply([vat_exclusive_invoice()], payments=payments()) as store:
        source = make_source(store)
        store.queued = [Reply(200, None, raw=b'{"status": {"errorCode": 0}, "records": '
                              b'[{"sessionKey": "old-key-1234567890"}]}'),
                        Reply(403, {"error": "Forbidden"})]
        [order] = fetch(source)
        requests = [f["request"] for f in store.forms()]
    assert order.number == "10004421"
    assert requests[:3] == ["verifyUser", "getSalesDocuments", "verifyUser"]


def test_a_wrong_password_asks_to_reconnect_and_never_shows_it():
    with FakeErply([vat_exclusive_invoice()], password="the-new-one") as store:
        source = make_source(store)
        with pytest.raises(ReconnectError) as caught:
            fetch(source)
        with pytest.raises(ReconnectError):
            source.check()
    error = caught.value
    assert "Reconnect the store" in str(error) and "1050" in error.detail
    for text in (str(error), error.detail, repr(error)):
        assert ERPLY_PASSWORD not in text


@pytest.mark.parametrize(("status", "words"), [
    ({"responseStatus": "error", "errorCode": 1016, "errorField": "types"},
     "Erply refused the request getSalesDocuments (error 1016)"),
    ({"responseStatus": "error", "errorCode": 0}, "Erply refused the request getSalesDocuments."),
    ({"responseStatus": "error", "errorCode": 1061}, "may not read what this app needs")])
def test_errors_inside_http_200_are_read_from_the_status_block(status, words):
    with FakeErply([vat_exclusive_invoice()]) as store:
        source = make_source(store)
        store.queued = [Reply(200, {"status": {"request": "verifyUser", "errorCode": 0},
                                    "records": [{"sessionKey": "k-1234567890"}]}),
                        Reply(200, {"status": status, "records": None})]
        with pytest.raises(SetupError) as caught:
            fetch(source)
    assert words in caught.value.message


def test_the_per_address_block_waits_ten_seconds_then_goes_on():
    with FakeErply([vat_exclusive_invoice()], payments=payments()) as store:
        store.queued = [Reply(429, {"error": "Too many requests"})]
        sleeps: list[float] = []
        [order] = fetch(make_source(store, sleeps=sleeps))
    assert order.number == "10004421" and sleeps == [10.0]


def test_cancel_is_honoured_between_pages():
    cancel = CancelToken()
    docs = [erply_document(i, str(i), [erply_row("W", "W", "1", "1.00")]) for i in range(1, 6)]
    with FakeErply(docs) as store:
        walk = make_source(store, page_size=2).fetch_orders(OrderQuery(), cancel)
        cancel.cancel()
        with pytest.raises(Cancelled):
            next(walk)
        assert store.received == []


def test_check_and_settings():
    with FakeErply([vat_exclusive_invoice()]) as store:
        assert make_source(store).check() == (
            f"Connected to the Erply account {ERPLY_CODE}: 1 sales documents.")
    with pytest.raises(SetupError) as caught:
        ErplySource({"client_code": "51 23", "username": "u"}, {"password": "p"}).check()
    assert caught.value.field == "client_code"
    with pytest.raises(SetupError) as caught:
        ErplySource({"client_code": "512345", "username": "u",
                     "api_url": "http://erply.example.com/api/"}, {"password": "p"}).check()
    assert caught.value.field == "api_url"
    source = ErplySource({"client_code": "512345", "username": "u"}, {})
    assert source.api_url() == "https://512345.erply.com/api/"
    assert {f.name for f in ErplySource.settings_fields if f.secret} == {"password"}
    assert ErplySource.keeps_own_purchase_orders
    assert "CANCELLED" in ErplySource.skipped_statuses()


def test_the_mode_with_purchase_orders_is_refused_with_its_reason(cli, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--data-dir", str(cli.data_dir), "connection", "add", "po", "--source", "erply",
              "--mode", "sales-orders-invoices-pos", "--set", f"client_code={ERPLY_CODE}",
              "--set", f"username={ERPLY_USER}"])
    assert exited.value.code == 2
    assert "Erply keeps its own purchase orders" in capsys.readouterr().err


def add_erply(cli, sandbox, store: FakeErply, name: str, mode: str) -> None:
    cli("connection", "add", name, "--source", "erply", "--mode", mode,
        "--set", f"client_code={ERPLY_CODE}", "--set", f"username={ERPLY_USER}",
        "--set", f"api_url={store.url}/api/", "--secret", "password",
        stdin=f"{ERPLY_PASSWORD}\n")
    cli.connect_quickbooks(name, sandbox)


def test_booked_as_invoices_with_payments_through_the_cli_exactly_once(cli, sandbox):
    unpaid = erply_document(5530, "10004430", [erply_row("MUG-1", "Mug", "4", "8.50")])
    with FakeErply([vat_exclusive_invoice(), vat_inclusive_receipt(), unpaid],
                   payments=payments()) as store:
        add_erply(cli, sandbox, store, "erply", "invoices-with-payments")
        first = cli.sync("erply")
        assert first["status"] == "succeeded", first
        invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
        assert {n: (amount(i["TotalAmt"]), amount(i["Balance"]))
                for n, i in invoices.items()} == {
            "10004421": (D("57.72"), D("0.00")), "20000017": (D("30.02"), D("0.00")),
            "10004430": (D("40.80"), D("40.80"))}
        # The customer pays invoice 10004430 later: a payment record, the invoice unchanged.
        store.payments.append(erply_payment(
            4, 5530, "TRANSFER", "40.80", day="2026-11-25",
            lastModified=int(datetime.now(UTC).timestamp())))
        later = cli.sync("erply")
        assert [(d["order"], d["kind"], d["total"]) for d in later["documents"]] == [
            ("10004430", "Payment", "40.80")], later
        _, out = cli("sync", "erply", "--since", "2026-11-01", "--json")
        assert cli.sync("erply")["documents"] == [] and json.loads(out)["documents"] == []
    invoices = {i["DocNumber"]: i for i in documents(sandbox, "Invoice")}
    assert len(invoices) == 3 and amount(invoices["10004430"]["Balance"]) == D("0.00")
    assert sorted(amount(p["TotalAmt"]) for p in documents(sandbox, "Payment")) == [
        D("30.02"), D("40.80"), D("57.72")]
    assert_no_file_holds(cli.data_dir, ERPLY_PASSWORD)


def test_booked_as_sales_receipts_with_a_credit_invoice_refunded_once(cli, sandbox):
    with FakeErply([vat_inclusive_receipt()], payments=payments()) as store:
        add_erply(cli, sandbox, store, "pos", "sales-receipts")
        first = cli.sync("pos")
        assert [(d["kind"], d["total"]) for d in first["documents"]] == [
            ("SalesReceipt", "30.02")], first
        # Two days later one pair of socks comes back: a credit invoice on the receipt.
        store.documents.append(erply_document(
            6001, "30000002", [erply_row("SOCK-3", "Socks", "-1", "10.00", with_vat=True)],
            doc_type="CREDITINVOICE", day="2026-11-22",
            changed=int(datetime.now(UTC).timestamp()),
            baseDocuments=[{"id": 5522, "type": "CASHINVOICE"}]))
        second = cli.sync("pos")
        assert [(d["kind"], d["total"]) for d in second["documents"]] == [
            ("RefundReceipt", "10.00")], second
        _, out = cli("sync", "pos", "--since", "2026-11-01", "--json")
        assert json.loads(out)["documents"] == []
    [receipt] = documents(sandbox, "SalesReceipt")
    assert amount(receipt["TotalAmt"]) == D("30.02") and receipt["DocNumber"] == "20000017"
    [refund] = documents(sandbox, "RefundReceipt")
    assert amount(refund["TotalAmt"]) == D("10.00")
