"""The client counts what it sends as Intuit meters it: reads (CorePlus), writes (Core), HTTP
requests; and the monthly-quota 429 on reads ends the request at once, without retries."""

from __future__ import annotations

import uuid

import pytest

from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.result import QuickBooksUsage
from connex_desktop.quickbooks.client import BatchOperation
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.sandbox.metering import Usage
from connex_desktop.sandbox.server import SandboxServer
from tests.quickbooks.conftest import SleepRecorder, connected_store, make_client
from tests.quickbooks.test_client import first_item, invoice_body


def rid() -> str:
    return str(uuid.uuid4())


def test_the_client_counts_reads_writes_and_requests_as_the_sandbox_meters_them(sandbox, client):
    client.query_all("Customer")
    client.count("Item")
    item = first_item(client)                                    # a query
    client.read("Item", item["Id"])
    client.preferences()
    client.company_info()
    customer = client.create("Customer", {"DisplayName": "Mo Meter"}, request_id=rid())
    renamed = client.update("Customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"],
                                         "sparse": True, "CompanyName": "Meters Ltd"},
                            request_id=rid())
    invoice = client.create("Invoice", invoice_body(renamed["Id"], item, "M-1"),
                            request_id=rid())
    client.void("Invoice", invoice["Id"], invoice["SyncToken"], request_id=rid())
    outcomes = client.batch([
        BatchOperation(f"c{n}", "create", "Customer", {"DisplayName": f"Batch Buyer {n}"})
        for n in range(3)], request_id=rid())
    assert all(outcome.ok for outcome in outcomes)
    assert client.usage() == QuickBooksUsage(reads=6, writes=7, requests=11)
    metered = sandbox.usage()
    assert client.usage() == QuickBooksUsage(metered.reads, metered.writes, metered.requests)


def test_retried_requests_count_each_time_they_are_sent(sandbox, client):
    sandbox.inject("503", count=2)
    client.preferences()
    assert client.usage() == QuickBooksUsage(reads=3, writes=0, requests=3)
    # The sandbox meters only what reached the company: the two refused at the gateway are not.
    assert sandbox.usage() == Usage(reads=1, requests=1)


def test_the_monthly_quota_429_stops_a_read_at_once_and_writes_still_pass():
    with SandboxServer(read_quota=0) as sandbox:
        sleep = SleepRecorder()
        with make_client(sandbox, connected_store(sandbox), sleep=sleep) as client:
            with pytest.raises(QuickBooksFault) as caught:
                client.query_all("Item")
            assert caught.value.kind is ErrorKind.QUOTA and caught.value.status == 429
            assert client.request_count == 1 and sleep.delays == []   # no retry, no wait
            created = client.create("Customer", {"DisplayName": "Quota Kept"}, request_id=rid())
            assert created["DisplayName"] == "Quota Kept"
            assert client.usage() == QuickBooksUsage(reads=1, writes=1, requests=2)
        assert sandbox.usage() == Usage(writes=1, requests=1, refused_reads=1)
