"""The QuickBooks Online writer against the local sandbox: request ids, batches, typed outcomes."""

from __future__ import annotations

import threading
from decimal import Decimal

from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.writing import (
    NameTaken,
    NumberTaken,
    Refused,
    StaleReference,
    Stored,
    Unanswered,
    Write,
)
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.quickbooks.writer import QuickBooksOnlineWriter
from connex_desktop.sandbox.server import SandboxServer
from tests.quickbooks.conftest import make_client


def invoice(client: QuickBooksClient, customer_id: str, number: str) -> Write:
    item = next(item for item in client.query_all("Item") if item.get("UnitPrice"))
    price = Decimal(str(item["UnitPrice"]))
    return Write("Invoice", {
        "CustomerRef": {"value": customer_id}, "DocNumber": number,
        "PrivateNote": f"Web order {number}",
        "Line": [{"DetailType": "SalesItemLineDetail", "Amount": price,
                  "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1,
                                          "UnitPrice": price}}]})


def customers(count: int, prefix: str = "Buyer") -> list[Write]:
    return [Write("Customer", {"DisplayName": f"{prefix} {n:02d}"}) for n in range(count)]


def test_a_few_writes_go_as_plain_requests_more_in_batches_of_30(
        sandbox: SandboxServer, client: QuickBooksClient):
    writer = QuickBooksOnlineWriter(client)
    few = writer.with_request_ids(customers(3, "Few"))
    assert all("/" not in write.request_id for write in few)
    assert len({write.request_id for write in few}) == 3
    many = writer.with_request_ids(customers(31, "Many"))
    batch_ids = [write.request_id.partition("/")[0] for write in many]
    assert len(set(batch_ids[:30])) == 1 and batch_ids[30] != batch_ids[0]
    assert [write.request_id.partition("/")[2] for write in many[:2]] == ["b0", "b1"]

    sent_before = client.request_count
    requests = writer.send(few) + writer.send(many)
    assert client.request_count - sent_before == 3 + 2      # three plain, two batches
    outcomes = [outcome for request in requests for outcome in request.outcomes]
    assert [outcome.write for outcome in outcomes] == few + many
    assert all(isinstance(outcome, Stored) for outcome in outcomes)
    names = sorted(record["DisplayName"] for record in sandbox.company.all("Customer")
                   if record["DisplayName"].startswith(("Few", "Many")))
    assert len(names) == 34 and len(set(names)) == 34


def test_writes_sent_again_with_their_request_ids_book_nothing_twice(
        sandbox: SandboxServer, client: QuickBooksClient):
    writer = QuickBooksOnlineWriter(client)
    buyer = client.create("Customer", {"DisplayName": "Jane Doe"}, request_id="jane-1")
    writes = writer.with_request_ids([invoice(client, buyer["Id"], f"W-{n}") for n in range(5)])
    first = [outcome for request in writer.send(writes) for outcome in request.outcomes]
    again = [outcome for request in writer.send(writes) for outcome in request.outcomes]
    assert all(isinstance(outcome, Stored) for outcome in first + again)
    assert [o.record["Id"] for o in again if isinstance(o, Stored)] == \
        [o.record["Id"] for o in first if isinstance(o, Stored)]
    numbers = sorted(doc["DocNumber"] for doc in sandbox.company.all("Invoice"))
    assert numbers == ["W-0", "W-1", "W-2", "W-3", "W-4"]


def test_a_write_naming_a_record_changes_it_alone_or_in_a_batch(
        sandbox: SandboxServer, client: QuickBooksClient):
    writer = QuickBooksOnlineWriter(client)
    created = [outcome.record for request in writer.send(writer.with_request_ids(
        customers(5, "Changed"))) for outcome in request.outcomes if isinstance(outcome, Stored)]
    changes = [Write("Customer", {"Id": record["Id"], "SyncToken": record["SyncToken"],
                                  "sparse": True, "CompanyName": f"Firm {n}"})
               for n, record in enumerate(created)]
    assert all(change.is_update for change in changes)
    for some in (changes[:1], changes[1:]):      # one plain request, then one batch of four
        for request in writer.send(writer.with_request_ids(some)):
            assert all(isinstance(outcome, Stored) for outcome in request.outcomes)
    stored = {record["Id"]: record for record in sandbox.company.all("Customer")}
    assert [(stored[r["Id"]]["CompanyName"], stored[r["Id"]]["SyncToken"]) for r in created] == [
        (f"Firm {n}", "1") for n in range(5)]
    assert len([r for r in stored.values() if r["DisplayName"].startswith("Changed")]) == 5


def test_taken_numbers_and_names_and_refusals_come_back_typed(client: QuickBooksClient):
    writer = QuickBooksOnlineWriter(client)
    buyer = client.create("Customer", {"DisplayName": "Jane Doe"}, request_id="jane-1")
    held = client.create("Invoice", dict(invoice(client, buyer["Id"], "T-1").body),
                         request_id="held-1")
    writes = writer.with_request_ids([
        invoice(client, buyer["Id"], "T-1"),                  # the number is taken
        Write("Customer", {"DisplayName": "Jane Doe"}),        # the name is taken
        invoice(client, "999999", "T-2"),                      # no such customer
        Write("Customer", {"DisplayName": "New Buyer"})])
    (request,) = writer.send(writes)
    taken, clash, refused, stored = request.outcomes
    assert request.fault is None
    assert isinstance(taken, NumberTaken) and taken.write == writes[0]
    assert isinstance(clash, NameTaken) and clash.write == writes[1]
    assert isinstance(refused, StaleReference) and refused.fault.kind is ErrorKind.FIX_DATA
    assert isinstance(stored, Stored) and stored.record["DisplayName"] == "New Buyer"
    holders = writer.holders_of_numbers([("Invoice", "T-1"), ("Invoice", "T-9")])
    assert list(holders) == [("Invoice", "T-1")] and holders["Invoice", "T-1"]["Id"] == held["Id"]
    assert [record["Id"] for record in writer.holders_of_name("Customer", "Jane Doe")] == \
        [buyer["Id"]]


def test_an_inactive_record_is_found_by_name_and_reactivated(client: QuickBooksClient):
    writer = QuickBooksOnlineWriter(client)
    buyer = client.create("Customer", {"DisplayName": "O'Brien"}, request_id="obrien-1")
    client.update("Customer", {"Id": buyer["Id"], "SyncToken": buyer["SyncToken"],
                               "sparse": True, "Active": False}, request_id="obrien-2")
    (inactive,) = writer.holders_of_name("Customer", "O'Brien")
    assert inactive["Active"] is False
    assert writer.reactivate("Customer", inactive)["Active"] is True
    assert client.read("Customer", buyer["Id"])["Active"] is True


def test_deleting_a_document_already_gone_counts_as_deleted(client: QuickBooksClient):
    writer = QuickBooksOnlineWriter(client)
    buyer = client.create("Customer", {"DisplayName": "Jane Doe"}, request_id="jane-1")
    document = client.create("Invoice", dict(invoice(client, buyer["Id"], "D-1").body),
                             request_id="d-1")
    writer.delete("Invoice", document)
    writer.delete("Invoice", document)      # gone already: no fault
    assert client.query_all("Invoice", "DocNumber = 'D-1'") == []


def test_a_batch_without_an_answer_leaves_each_of_its_writes_unanswered(
        sandbox: SandboxServer, secrets):
    with make_client(sandbox, secrets, max_retries=0) as client:
        writer = QuickBooksOnlineWriter(client)
        writes = writer.with_request_ids(customers(5))
        sandbox.inject("503")
        (request,) = writer.send(writes)
        assert request.fault is not None and request.fault.kind is ErrorKind.RETRY_LATER
        assert [type(outcome) for outcome in request.outcomes] == [Unanswered] * 5
        plain = writer.with_request_ids(customers(1, "Plain"))
        sandbox.inject("503")
        (alone,) = writer.send(plain)
        # A plain request's failure is its one write's: refused for now, not the round's.
        assert alone.fault is None and isinstance(alone.outcomes[0], Refused)
        assert alone.outcomes[0].fault.kind is ErrorKind.RETRY_LATER


def test_no_more_requests_are_in_flight_than_allowed(sandbox: SandboxServer, secrets):
    sandbox.latency_ms = 50
    with make_client(sandbox, secrets) as client:
        writer = QuickBooksOnlineWriter(client, in_flight=2)
        lock = threading.Lock()
        in_flight, most = 0, 0
        send = writer._send_request

        def counting(writes: list[Write]):  # type: ignore[no-untyped-def]
            nonlocal in_flight, most
            with lock:
                in_flight += 1
                most = max(most, in_flight)
            try:
                return send(writes)
            finally:
                with lock:
                    in_flight -= 1

        writer._send_request = counting  # type: ignore[method-assign]
        requests = writer.send(writer.with_request_ids(customers(150)))
    assert len(requests) == 5 and most == 2
