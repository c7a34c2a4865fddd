"""The shared store HTTP helpers: retries, Retry-After, credential errors without secrets."""

from __future__ import annotations

import base64
import email.utils

import pytest

from connex_desktop.core.errors import (
    Cancelled,
    ErrorKind,
    ReconnectError,
    RetryLaterError,
    SetupError,
)
from connex_desktop.core.progress import CancelToken
from connex_desktop.sources.base import OrderQuery
from connex_desktop.sources.bigcommerce import BigCommerceSource
from connex_desktop.sources.http import (
    RepeatGuard,
    RetryPolicy,
    StoreHttp,
    require_https,
    retry_after_s,
)
from connex_desktop.sources.shopify import ShopifySource
from connex_desktop.sources.woocommerce import WooCommerceSource
from tests.fakes.stores import FakeServer, Received, Reply

SECRET = "cs_supersecret_value_123"
NOW_S = 1_800_000_000.0


class Script:
    """Answers the queued replies in order, then 200 with `{"ok": true}`."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def __call__(self, _request: Received) -> Reply:
        return self.replies.pop(0) if self.replies else Reply(200, {"ok": True})


def make_http(sleeps: list[float], **kwargs) -> StoreHttp:
    return StoreHttp("Test", secrets=[SECRET], sleep=sleeps.append, clock=lambda: NOW_S,
                     **kwargs)


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_s("7", NOW_S) == 7.0
    http_date = email.utils.formatdate(NOW_S + 30, usegmt=True)
    assert retry_after_s(http_date, NOW_S) == pytest.approx(30.0)
    assert retry_after_s(email.utils.formatdate(NOW_S - 30, usegmt=True), NOW_S) == 0.0
    assert retry_after_s("soon", NOW_S) is None
    assert retry_after_s(None, NOW_S) is None


def test_429_with_retry_after_then_success_sleeps_as_asked():
    http_date = email.utils.formatdate(NOW_S + 4, usegmt=True)
    with FakeServer(Script(Reply(429, {"message": "slow down"}, {"Retry-After": "3"}),
                           Reply(503, None, {"Retry-After": http_date}),
                           Reply(500, {"message": "oops"}))) as server:
        sleeps: list[float] = []
        response = make_http(sleeps).get(server.url + "/x")
    assert response.json() == {"ok": True}
    assert sleeps == [3.0, pytest.approx(4.0), 4.0]  # the 500 has no header: back-off 1·2²
    assert len(server.received) == 4


def test_retries_run_out_as_retry_later():
    with FakeServer(Script(*[Reply(503, {"message": "down"})] * 5)) as server:
        sleeps: list[float] = []
        with pytest.raises(RetryLaterError) as caught:
            make_http(sleeps, policy=RetryPolicy(attempts=3)).get(server.url + "/x")
    assert caught.value.kind is ErrorKind.RETRY_LATER
    assert sleeps == [1.0, 2.0]
    assert len(server.received) == 3


def test_a_very_long_retry_after_is_left_to_the_next_run():
    with FakeServer(Script(Reply(429, None, {"Retry-After": "3600"}))) as server:
        sleeps: list[float] = []
        with pytest.raises(RetryLaterError):
            make_http(sleeps).get(server.url + "/x")
    assert sleeps == []


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_ask_to_reconnect_without_the_secret(status):
    body = {"code": "woocommerce_rest_authentication_error",
            "message": f"Invalid signature for {SECRET}", "data": {"status": status}}
    with FakeServer(Script(Reply(status, body))) as server, \
            pytest.raises(ReconnectError) as caught:
        make_http([]).get(server.url + "/orders", params={"consumer_secret": SECRET})
    error = caught.value
    assert error.kind is ErrorKind.RECONNECT
    assert "Reconnect the store" in str(error)
    for text in (str(error), error.detail, repr(error.args)):
        assert SECRET not in text
    assert "Invalid signature" in error.detail
    assert error.__cause__ is None


def test_unreachable_store_is_retry_later_and_hides_the_url_query():
    with FakeServer(Script()) as server:
        url = server.url
    sleeps: list[float] = []
    with pytest.raises(RetryLaterError) as caught:
        make_http(sleeps, policy=RetryPolicy(attempts=2)).get(
            url + "/orders", params={"consumer_secret": SECRET})
    assert sleeps == [1.0]
    assert SECRET not in caught.value.detail and SECRET not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_not_found_and_non_json_point_at_the_store_address():
    with FakeServer(Script(Reply(404, {"message": "No route"}))) as server:
        http = make_http([])
        with pytest.raises(SetupError) as caught:
            http.get(server.url + "/wp-json/wc/v3/orders")
        assert caught.value.field == "store_url"
        assert "/wp-json/wc/v3/orders" in str(caught.value)


def test_cancel_during_a_pause_stops_the_retries():
    cancel = CancelToken()

    def sleep_then_cancel(_seconds: float) -> None:
        cancel.cancel()

    with FakeServer(Script(Reply(429, None, {"Retry-After": "1"}))) as server:
        http = StoreHttp("Test", sleep=sleep_then_cancel)
        with pytest.raises(Cancelled):
            http.get(server.url + "/x", cancel=cancel)
    assert len(server.received) == 1


def test_store_specific_throttle_signal_wins():
    def reset_header(response) -> float | None:
        left = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        return int(left) / 1000 if response.status_code == 429 and left else None

    with FakeServer(Script(Reply(429, None, {"X-Rate-Limit-Time-Reset-Ms": "1500"}))) as server:
        sleeps: list[float] = []
        make_http(sleeps, throttle=reset_header).get(server.url + "/x")
    assert sleeps == [1.5]


@pytest.mark.parametrize("kind, addresses", [
    (WooCommerceSource, ["http://127.0.0.1:8080/shop/", "https://127.0.0.1:8080/Shop",
                         "HTTPS://127.0.0.1:8080/shop"]),
    (WooCommerceSource, ["https://Shop.Example.com/", "https://shop.example.com:443",
                         " https://shop.example.com "]),
    (ShopifySource, ["my-shop.myshopify.com", "https://My-Shop.myshopify.com/"]),
    (ShopifySource, ["http://localhost:80", "https://localhost/", "http://LOCALHOST"]),
])
def test_one_store_under_differently_written_addresses_is_one_store(kind, addresses):
    keys = {kind({"store_url": address}, {}).store_key for address in addresses}
    assert len(keys) == 1, keys
    assert kind({"store_url": "https://other.example.com"}, {}).store_key not in keys


def test_https_is_required_except_on_this_machine():
    assert require_https("https://shop.example.com/", "Test") == "https://shop.example.com"
    assert require_https("http://127.0.0.1:8080", "Test") == "http://127.0.0.1:8080"
    assert require_https("http://localhost:8080/", "Test") == "http://localhost:8080"
    with pytest.raises(SetupError, match="https://"):
        require_https("http://shop.example.com", "Test")
    with pytest.raises(SetupError):
        require_https("shop.example.com", "Test")


def test_repeat_guard_spots_a_page_seen_before():
    guard = RepeatGuard()
    assert not guard.repeated((1, 2, 3))
    assert not guard.repeated((4, 5))
    assert guard.repeated((1, 2, 3))


ECHOED_BASIC = base64.b64encode(b"ck_unknown_key:cs_unknown_secret").decode()
ECHOED_BEARER = "9f0e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e"


@pytest.mark.parametrize("status", [400, 401, 502])
def test_an_error_body_echoing_credentials_is_redacted_even_when_not_ours(status):
    """A proxy or a store error page that echoes the request's headers: the values are not the
    connection's known secrets, yet no credential may reach the message or the detail."""
    page = (f"<html><h1>Bad request</h1><pre>Authorization: Basic {ECHOED_BASIC}\n"
            f"X-Auth-Token: {ECHOED_BEARER}</pre><td>Authorization</td>"
            f"<td>Bearer {ECHOED_BEARER}</td></html>")
    with FakeServer(Script(*[Reply(status, page)] * 5)) as server, \
            pytest.raises((ReconnectError, SetupError, RetryLaterError)) as caught:
        make_http([], policy=RetryPolicy(attempts=1)).get(server.url + "/orders")
    error = caught.value
    shown = f"{error} {error.detail} {error.args!r}"
    assert ECHOED_BASIC not in shown and ECHOED_BEARER not in shown
    assert "Bad request" in error.detail


def redirect_to(url: str, status: int = 302) -> Script:
    return Script(Reply(status, None, {"Location": url}))


@pytest.mark.parametrize(("headers", "params"), [
    ({"X-Shopify-Access-Token": SECRET}, None),
    ({"X-Auth-Token": SECRET}, None),
    (None, {"consumer_key": SECRET}),
])
def test_a_redirect_to_another_host_is_refused_and_the_credentials_stay(headers, params):
    """127.0.0.1 and localhost are two hosts to requests: the second is the other server."""
    with FakeServer(Script()) as elsewhere:
        other = elsewhere.url.replace("127.0.0.1", "localhost") + "/orders"
        with FakeServer(redirect_to(other)) as store, pytest.raises(SetupError) as caught:
            make_http([]).get(store.url + "/orders", headers=headers, params=params)
    assert elsewhere.received == []
    assert caught.value.field == "store_url"
    assert "redirected the request to http://localhost" in str(caught.value)
    assert "does not send passwords or tokens on to another address" in str(caught.value)


def test_a_redirect_to_https_of_the_same_host_is_refused_too():
    with FakeServer(redirect_to("https://127.0.0.1:1/orders", 301)) as store, \
            pytest.raises(SetupError) as caught:
        make_http([]).get(store.url + "/orders", headers={"Authorization": f"Bearer {SECRET}"})
    assert "redirected the request to https://127.0.0.1" in str(caught.value)


def test_a_redirect_within_the_store_is_followed():
    def route(request: Received) -> Reply:
        if request.path == "/old":
            return Reply(302, None, {"Location": "/new"})
        return Reply(200, {"path": request.path, "token": request.headers.get("x-auth-token")})

    with FakeServer(route) as store:
        response = make_http([]).get(store.url + "/old", headers={"X-Auth-Token": SECRET})
    assert response.json() == {"path": "/new", "token": SECRET}


HTML_PAGE = Reply(200, raw=b"<!DOCTYPE html><html><body>Down for maintenance</body></html>",
                  headers={"Content-Type": "text/html; charset=utf-8"})
CUT_OFF_JSON = Reply(200, raw=b'[{"id": 1, "total": "10.0',
                     headers={"Content-Type": "application/json"})
# The connection closes before the length the answer announced.
BROKEN_OFF = Reply(200, raw=b'[{"id": 1', headers={"Content-Type": "application/json",
                                                     "Content-Length": "4000"})


def test_a_web_page_or_a_cut_off_answer_is_retried_then_read():
    with FakeServer(Script(HTML_PAGE, CUT_OFF_JSON, BROKEN_OFF)) as server:
        sleeps: list[float] = []
        http = make_http(sleeps)
        response = http.get(server.url + "/orders")
        assert http.json(response) == {"ok": True}
    assert sleeps == [1.0, 2.0, 4.0]   # the usual back-off
    assert len(server.received) == 4


@pytest.mark.parametrize(("reply", "words"), [
    (HTML_PAGE, "The Test store answered with a web page instead of order data (at /orders), "
                "3 times in a row: usually a maintenance or error page in front of the store. "
                "Try again later; if it lasts, check the store address."),
    (CUT_OFF_JSON, "The Test store's answer was cut off (at /orders), 3 times in a row; try "
                   "again later."),
    (BROKEN_OFF, "The Test store's answer was cut off; try again later."),
])
def test_an_answer_that_stays_unreadable_is_retry_later_not_a_wrong_address(reply, words):
    with FakeServer(Script(*[reply] * 3)) as server:
        sleeps: list[float] = []
        with pytest.raises(RetryLaterError) as caught:
            make_http(sleeps, policy=RetryPolicy(attempts=3)).get(
                server.url + "/orders", params={"consumer_secret": SECRET})
    assert caught.value.kind is ErrorKind.RETRY_LATER
    assert str(caught.value) == words
    assert sleeps == [1.0, 2.0] and len(server.received) == 3
    assert SECRET not in caught.value.detail


def test_while_the_settings_are_tried_a_web_page_means_a_wrong_address():
    with FakeServer(Script(HTML_PAGE, CUT_OFF_JSON)) as server:
        sleeps: list[float] = []
        http = make_http(sleeps, checking=True)
        with pytest.raises(SetupError) as caught:
            http.get(server.url + "/wp-json/wc/v3/orders")
        assert str(caught.value) == ("The Test store address answered with a web page, not "
                                     "the store's API (at /wp-json/wc/v3/orders); check the "
                                     "store address.")
        assert caught.value.field == "store_url" and "maintenance" in caught.value.detail
        assert sleeps == []   # said at once: no one waits to hear the address is wrong
        # A cut-off answer is passing even then: it is retried.
        assert http.json(http.get(server.url + "/x")) == {"ok": True}
        assert sleeps == [1.0]


STORES = [
    (WooCommerceSource, lambda url: {"store_url": url},
     {"consumer_key": "ck_1", "consumer_secret": "cs_1"}),
    (BigCommerceSource, lambda url: {"api_url": url, "store_hash": "abc123"},
     {"access_token": "token-1"}),
    (ShopifySource, lambda url: {"store_url": url}, {"access_token": "shpat_1"}),
]


@pytest.mark.parametrize(("kind", "settings", "secrets"), STORES)
def test_each_store_checks_its_settings_as_setup_and_syncs_through_a_page(kind, settings,
                                                                          secrets):
    with FakeServer(lambda _request: HTML_PAGE) as server:
        sleeps: list[float] = []
        source = kind(settings(server.url), secrets, sleep=sleeps.append)
        with pytest.raises(SetupError) as caught:
            source.check()
        assert caught.value.field == "store_url" and "web page" in str(caught.value)
        assert sleeps == []
        with pytest.raises(RetryLaterError):
            list(source.fetch_orders(OrderQuery(), CancelToken()))
        assert sleeps == [1.0, 2.0, 4.0, 8.0]


class HeardPauses:
    """A run watching the fetch: the pauses it is told of."""

    def __init__(self) -> None:
        self.pauses: list[tuple[float, str]] = []

    def expect_orders(self, count: int) -> None:
        pass

    def pausing(self, seconds: float, reason: str) -> None:
        self.pauses.append((seconds, reason))

    def cancelling(self) -> None:
        pass


def test_a_store_throttling_is_told_to_the_run_as_a_pause_with_its_seconds():
    with FakeServer(Script(Reply(429, {"message": "slow down"}, {"Retry-After": "12"}),
                           Reply(503, {"message": "down"}, {"Retry-After": "5"}),
                           Reply(500, {"message": "oops"}))) as server:
        sleeps: list[float] = []
        heard = HeardPauses()
        cancel = CancelToken()
        cancel.watch(heard)
        make_http(sleeps).get(server.url + "/x", cancel=cancel)
    assert sleeps == [12.0, 5.0, 4.0]
    # Each pause as it begins and ends; the 500's back-off too, the 503's as an outage.
    assert heard.pauses == [(12.0, "the Test store's limit"), (0, ""),
                            (5.0, "the Test store to answer again"), (0, ""),
                            (4.0, "the Test store to answer again"), (0, "")]
