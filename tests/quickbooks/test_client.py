"""The client against the local sandbox: queries, writes, batches, faults, retries, tokens."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from requests_oauthlib import OAuth2Session

from connex_desktop.core.errors import ErrorKind
from connex_desktop.quickbooks.client import BatchOperation, QuickBooksClient
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.quickbooks.references import REFERENCE_ENTITIES, ReferenceCache
from connex_desktop.sandbox.server import SandboxServer
from tests.quickbooks.conftest import (
    SleepRecorder,
    assert_no_secrets,
    connected_store,
    make_client,
)


def rid() -> str:
    return str(uuid.uuid4())


def first_item(client: QuickBooksClient) -> dict:
    return next(item for item in client.query_all("Item") if item.get("UnitPrice"))


def invoice_body(customer_id: str, item: dict, number: str, qty: int = 2) -> dict:
    price = Decimal(str(item.get("UnitPrice") or "19.99"))
    return {"CustomerRef": {"value": customer_id}, "DocNumber": number,
            "Line": [{"DetailType": "SalesItemLineDetail", "Amount": price * qty,
                      "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": qty,
                                              "UnitPrice": price}}]}


@pytest.fixture
def customer(client: QuickBooksClient) -> dict:
    return client.create("Customer", {"DisplayName": "Jane Doe",
                                      "PrimaryEmailAddr": {"Address": "jane@example.com"}},
                         request_id=rid())


def docs_numbered(client: QuickBooksClient, entity: str, number: str) -> list[dict]:
    return client.query_all(entity, f"DocNumber = '{number}'")


def test_query_all_pages_past_1000_and_count_agrees(sandbox: SandboxServer,
                                                    client: QuickBooksClient):
    for n in range(1050):
        sandbox.company.create("Customer", {"DisplayName": f"Buyer {n:04d}"})
    before = client.request_count
    customers = client.query_all("Customer")
    assert len(customers) == 1050
    assert len({c["Id"] for c in customers}) == 1050
    assert client.request_count - before == 2          # two pages of at most 1000
    assert client.count("Customer") == 1050
    assert client.query_all("Customer", "DisplayName = 'Buyer 0042'")[0]["DisplayName"] \
        == "Buyer 0042"
    assert client.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'") == []


def test_items_come_with_their_sku(client: QuickBooksClient):
    items = client.query_all("Item")
    assert items and all("Sku" in item for item in items if item["Type"] != "Category")


def test_create_read_update_and_decimal_amounts(client: QuickBooksClient, customer: dict):
    item = first_item(client)
    created = client.create("Invoice", invoice_body(customer["Id"], item, "WEB-1001"),
                            request_id=rid())
    price = Decimal(str(item["UnitPrice"]))
    assert created["DocNumber"] == "WEB-1001"
    assert Decimal(str(created["TotalAmt"])) == price * 2
    read = client.read("Invoice", created["Id"])
    assert read["Id"] == created["Id"] and read["SyncToken"] == created["SyncToken"]
    updated = client.update("Invoice", {"Id": read["Id"], "SyncToken": read["SyncToken"],
                                        "sparse": True, "PrivateNote": "Web order 1001"},
                            request_id=rid())
    assert updated["PrivateNote"] == "Web order 1001"
    assert updated["SyncToken"] != read["SyncToken"]
    assert Decimal(str(updated["TotalAmt"])) == price * 2      # sparse kept the lines


def test_amounts_beyond_a_float_reach_quickbooks_and_come_back_to_the_cent(
        sandbox: SandboxServer, client: QuickBooksClient, customer: dict):
    price = Decimal("12345678901234567.89")     # a float would make it ...568.00
    item = dict(first_item(client), UnitPrice=price)
    created = client.create("Invoice", invoice_body(customer["Id"], item, "BIG-1", qty=1),
                            request_id=rid())
    (batched,) = client.batch([BatchOperation(
        "b1", "create", "Invoice", invoice_body(customer["Id"], item, "BIG-2", qty=1))],
        request_id=rid())
    for answer in (created, batched.entity):
        assert answer["TotalAmt"] == price
        stored = sandbox.company.read("Invoice", answer["Id"])
        assert Decimal(str(stored["TotalAmt"])) == price
        assert Decimal(str(stored["Line"][0]["SalesItemLineDetail"]["UnitPrice"])) == price
    assert client.read("Invoice", created["Id"])["Balance"] == price


def test_same_request_id_books_one_document(client: QuickBooksClient, customer: dict):
    item = first_item(client)
    request_id = rid()
    first = client.create("Invoice", invoice_body(customer["Id"], item, "WEB-2001"),
                          request_id=request_id)
    again = client.create("Invoice", invoice_body(customer["Id"], item, "WEB-2001"),
                          request_id=request_id)
    assert again["Id"] == first["Id"]
    assert len(docs_numbered(client, "Invoice", "WEB-2001")) == 1


def test_duplicate_number_is_6140_naming_the_existing_document(client: QuickBooksClient,
                                                               customer: dict):
    item = first_item(client)
    first = client.create("Invoice", invoice_body(customer["Id"], item, "WEB-3001"),
                          request_id=rid())
    with pytest.raises(QuickBooksFault) as caught:
        client.create("Invoice", invoice_body(customer["Id"], item, "WEB-3001"),
                      request_id=rid())
    fault = caught.value
    assert fault.code == "6140" and fault.kind is ErrorKind.FIX_DATA
    assert str(fault).startswith("QuickBooks already has a document with this number")
    assert "WEB-3001" in fault.detail
    assert fault.existing_id == first["Id"]


def test_batch_answers_every_operation_in_order_with_item_faults(client: QuickBooksClient,
                                                                 customer: dict):
    item = first_item(client)
    operations = [
        BatchOperation("c1", "create", "Customer", {"DisplayName": "Batch Buyer"}),
        BatchOperation("c2", "create", "Customer", {"DisplayName": "Jane Doe"}),   # name taken
        BatchOperation("i1", "create", "Invoice", invoice_body(customer["Id"], item, "B-1")),
        BatchOperation("i2", "create", "Invoice", invoice_body("999999", item, "B-2")),
    ]
    outcomes = client.batch(operations, request_id=rid())
    assert [o.bid for o in outcomes] == ["c1", "c2", "i1", "i2"]
    assert outcomes[0].ok and outcomes[0].entity["DisplayName"] == "Batch Buyer"
    assert outcomes[1].fault.code == "6240" and outcomes[1].entity is None
    assert outcomes[2].ok and outcomes[2].entity["DocNumber"] == "B-1"
    assert not outcomes[3].ok and outcomes[3].fault.kind is ErrorKind.FIX_DATA
    assert client.count("Customer", "DisplayName = 'Batch Buyer'") == 1
    assert docs_numbered(client, "Invoice", "B-2") == []


def test_batch_limits_are_checked_before_sending(client: QuickBooksClient):
    one = {"DisplayName": "X"}
    too_many = [BatchOperation(f"c{n}", "create", "Customer", one) for n in range(31)]
    with pytest.raises(ValueError, match="at most 30"):
        client.batch(too_many, request_id=rid())
    with pytest.raises(ValueError, match="10 characters"):
        client.batch([BatchOperation("far-too-long-id", "create", "Customer", one)],
                     request_id=rid())
    with pytest.raises(ValueError, match="36 characters"):
        client.batch([BatchOperation("c1", "create", "Customer", one)], request_id="x" * 37)
    with pytest.raises(ValueError, match="unique"):
        client.batch([BatchOperation("c1", "create", "Customer", one)] * 2, request_id=rid())
    assert client.request_count == 0


@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_throttling_and_server_errors_are_retried(sandbox: SandboxServer,
                                                  client: QuickBooksClient, customer: dict,
                                                  fault: str):
    item = first_item(client)
    sent_before = client.request_count
    sandbox.inject(fault, count=2)
    created = client.create("Invoice", invoice_body(customer["Id"], item, f"R-{fault}"),
                            request_id=rid())
    assert created["DocNumber"] == f"R-{fault}"
    assert client.request_count - sent_before == 3
    assert client.retry_count == 2
    assert len(docs_numbered(client, "Invoice", f"R-{fault}")) == 1


def test_retry_waits_follow_retry_after_or_grow(sandbox: SandboxServer, secrets):
    sleep = SleepRecorder()
    with make_client(sandbox, secrets, sleep=sleep) as client:
        sandbox.inject("503", count=3)
        assert client.query_all("TaxCode")
    assert len(sleep.delays) == 3
    assert 0.5 <= sleep.delays[0] <= 1.0 and 1.0 <= sleep.delays[1] <= 2.0
    assert 2.0 <= sleep.delays[2] <= 4.0


def test_after_a_429_the_client_waits_a_minute_before_trying_again(sandbox: SandboxServer,
                                                                   secrets):
    sleep = SleepRecorder()
    with make_client(sandbox, secrets, sleep=sleep) as client:
        sandbox.inject("429", count=2)
        assert client.query_all("TaxCode")
        sandbox.inject("503")
        assert client.preferences()
    throttled, unavailable = sleep.delays[:2], sleep.delays[2:]
    assert all(delay >= 60 for delay in throttled) and len(throttled) == 2
    assert unavailable and unavailable[0] <= 1.0     # a 503 is not a throttle


def test_a_request_may_run_as_long_as_quickbooks_allows_it(sandbox: SandboxServer, secrets,
                                                           monkeypatch):
    timeouts: list[float] = []
    send = OAuth2Session.request

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        timeouts.append(kwargs["timeout"])
        return send(self, *args, **kwargs)

    monkeypatch.setattr(OAuth2Session, "request", request)
    with make_client(sandbox, secrets) as client:
        client.count("Item")
        client.create("Customer", {"DisplayName": "Patient Pat"}, request_id=rid())
    assert timeouts == [120, 120]


def test_query_all_pages_in_id_order(client: QuickBooksClient, monkeypatch):
    sent: list[str] = []
    query = client.query

    def recording(sql: str) -> list[dict]:
        sent.append(sql)
        return query(sql)

    monkeypatch.setattr(client, "query", recording)
    client.query_all("Item")
    client.query_all("Customer", "Active IN (true, false)")
    assert sent == [
        "SELECT *, Sku FROM Item ORDERBY Id STARTPOSITION 1 MAXRESULTS 1000",
        "SELECT * FROM Customer WHERE Active IN (true, false) ORDERBY Id STARTPOSITION 1 "
        "MAXRESULTS 1000"]


def test_gives_up_after_max_retries_with_retry_later(sandbox: SandboxServer, secrets):
    with make_client(sandbox, secrets, max_retries=2) as client:
        sandbox.inject("503", count=5)
        with pytest.raises(QuickBooksFault) as caught:
            client.preferences()
    assert caught.value.kind is ErrorKind.RETRY_LATER
    assert "Gave up after 3 attempts" in str(caught.value)
    assert client.request_count == 3


def test_giving_up_on_throttling_says_so_in_plain_words(sandbox: SandboxServer, secrets):
    with make_client(sandbox, secrets, max_retries=1) as client:
        sandbox.inject("429", count=3)
        with pytest.raises(QuickBooksFault) as caught:
            client.preferences()
    fault = caught.value
    assert fault.kind is ErrorKind.RETRY_LATER and fault.status == 429
    assert "too many requests" in fault.message
    assert "The request limit was reached. Try again later" in fault.detail
    assert "<" not in f"{fault.message} {fault.detail}"


def test_lost_connection_after_a_write_is_retried_without_a_duplicate(
        sandbox: SandboxServer, client: QuickBooksClient, customer: dict):
    item = first_item(client)
    sandbox.inject("drop_after_write")
    created = client.create("Invoice", invoice_body(customer["Id"], item, "D-1"),
                            request_id=rid())
    assert created["DocNumber"] == "D-1"
    sandbox.inject("drop_after_write")
    outcomes = client.batch([
        BatchOperation("a", "create", "Invoice", invoice_body(customer["Id"], item, "D-2")),
        BatchOperation("b", "create", "Invoice", invoice_body(customer["Id"], item, "D-3"))],
        request_id=rid())
    assert all(o.ok for o in outcomes)
    for number in ("D-1", "D-2", "D-3"):
        assert len(docs_numbered(client, "Invoice", number)) == 1


def test_a_timeout_is_retry_later():
    with SandboxServer(latency_ms=400) as slow, \
            make_client(slow, connected_store(slow), timeout_s=0.1, max_retries=1) as client, \
            pytest.raises(QuickBooksFault) as caught:
        client.count("Item")
    assert caught.value.kind is ErrorKind.RETRY_LATER
    assert "no answer within 0.1 s" in str(caught.value)
    assert client.request_count == 2


def test_void_and_delete(client: QuickBooksClient, customer: dict):
    item = first_item(client)
    invoice = client.create("Invoice", invoice_body(customer["Id"], item, "V-1"),
                            request_id=rid())
    voided = client.void("Invoice", invoice["Id"], invoice["SyncToken"], request_id=rid())
    assert Decimal(str(voided["TotalAmt"])) == 0
    receipt = client.create("SalesReceipt", invoice_body(customer["Id"], item, "V-2"),
                            request_id=rid())
    voided_receipt = client.void("SalesReceipt", receipt["Id"], receipt["SyncToken"],
                                 request_id=rid())
    assert Decimal(str(voided_receipt["TotalAmt"])) == 0
    doomed = client.create("Invoice", invoice_body(customer["Id"], item, "V-3"),
                           request_id=rid())
    client.delete("Invoice", doomed["Id"], doomed["SyncToken"], request_id=rid())
    assert docs_numbered(client, "Invoice", "V-3") == []


def test_preferences_and_company_info(client: QuickBooksClient):
    assert "SalesFormsPrefs" in client.preferences()
    assert client.company_info()["CompanyName"]


def test_missing_record_is_610(client: QuickBooksClient):
    with pytest.raises(QuickBooksFault) as caught:
        client.read("Invoice", "987654")
    assert caught.value.code == "610" and caught.value.kind is ErrorKind.FIX_DATA


def test_concurrent_batches_from_many_threads_book_each_document_once(
        sandbox: SandboxServer, client: QuickBooksClient, customer: dict):
    item = first_item(client)
    sent_before = client.request_count

    def book(group: int) -> list:
        operations = [BatchOperation(f"o{n}", "create", "Invoice",
                                     invoice_body(customer["Id"], item, f"T-{group}-{n}"))
                      for n in range(30)]
        return client.batch(operations, request_id=rid())

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(book, range(16)))
    assert all(o.ok for outcomes in results for o in outcomes)
    # One request per batch, plus any the gateway throttled (arrival jitter on a busy machine).
    assert client.request_count - sent_before == 16 + client.retry_count
    assert client.count("Invoice", "DocNumber LIKE 'T-%'") == 16 * 30


def test_no_secret_appears_in_reprs_or_faults(sandbox: SandboxServer, client: QuickBooksClient,
                                              secrets):
    faults = []
    for call in (lambda: client.read("Invoice", "1"),
                 lambda: client.query("SELECT * FROM Nonsense"),
                 lambda: client.create("Customer", {}, request_id=rid())):
        with pytest.raises(QuickBooksFault) as caught:
            call()
        faults.append(caught.value)
    text = " ".join(f"{f} {f!r} {f.detail}" for f in faults) + repr(client) + repr(client.auth)
    assert_no_secrets(text, sandbox, secrets)


def test_no_token_reaches_the_logs_even_at_debug_level(sandbox: SandboxServer, secrets,
                                                       caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    with make_client(sandbox, secrets) as client:
        sandbox.inject("expire_tokens")
        sandbox.inject("503")
        client.query_all("TaxCode")
        assert client.auth.refresh_count == 1
    assert "Bearer [redacted]" in caplog.text     # the library did log its headers
    assert_no_secrets(caplog.text, sandbox, secrets)


def test_reference_cache_loads_each_list_with_one_query(client: QuickBooksClient):
    refs = ReferenceCache(client)
    refs.preload()
    assert client.request_count == len(REFERENCE_ENTITIES)
    item = next(i for i in refs.all("Item") if i.get("Sku"))
    assert refs.item_by_sku(item["Sku"].lower())["Id"] == item["Id"]
    assert refs.account_by_type("Bank", "Checking")["Name"] == "Checking"
    assert refs.tax_code_by_name("tax")["Name"] == "TAX"
    with_vendor = next(i for i in refs.all("Item") if i.get("PrefVendorRef"))
    assert refs.vendor(with_vendor["PrefVendorRef"]["value"])["DisplayName"]
    assert client.request_count == len(REFERENCE_ENTITIES)


def test_plain_http_outside_tests_is_a_setup_error(client: QuickBooksClient,
                                                   monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT")
    with pytest.raises(QuickBooksFault) as caught:
        client.preferences()
    assert caught.value.kind is ErrorKind.FIX_SETUP and "https" in str(caught.value)
    assert client.request_count == 1
