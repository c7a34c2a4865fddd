"""The sandbox meters reads (CorePlus) and writes (Core) per company and month, and can be given
a monthly read quota, past which every read gets Intuit's 429 and writes still pass."""

from __future__ import annotations

import signal
import uuid

import requests

from connex_desktop.sandbox.metering import Usage
from connex_desktop.sandbox.server import SandboxServer
from tests.sandbox.conftest import RawApi, first_id, sandbox_command

MONTH_S = 31 * 24 * 3600


def customer(name: str) -> dict[str, str]:
    return {"DisplayName": name}


def test_reads_and_writes_are_counted_per_kind_and_a_batch_per_operation(sandbox, api: RawApi):
    assert sandbox.usage() == Usage()
    api.query("SELECT * FROM Customer")                                 # read
    api.session.post(api.url("query"), data="SELECT * FROM Item", timeout=10,
                     headers={"Content-Type": "application/text"})       # read (POST query)
    api.get(f"item/{first_id(sandbox, 'Item', 'Active = true')}")       # read by id
    api.get("preferences")                                              # read
    api.get(f"companyinfo/{sandbox.realm_id}")                          # read
    api.get("cdc", entities="Customer", changedSince="2025-06-01T00:00:00Z")   # read
    created = api.post("customer", customer("Ann Metered"))             # write
    assert created.status_code == 200
    batch = api.post("batch", {"BatchItemRequest": [
        {"bId": "c1", "operation": "create", "Customer": customer("Bo Metered")},
        {"bId": "c2", "operation": "create", "Customer": customer("Cy Metered")},
        {"bId": "q1", "Query": "SELECT * FROM TaxCode"}]})              # 2 writes + 1 read
    assert batch.status_code == 200
    assert sandbox.usage() == Usage(reads=7, writes=3, requests=8)
    answer = requests.get(sandbox.base_url + "/__sandbox/usage", timeout=10).json()
    assert answer["read_quota"] is None
    assert answer["companies"] == {sandbox.realm_id: {"reads": 7, "writes": 3, "requests": 8,
                                                      "refused_reads": 0}}


def test_past_the_read_quota_every_read_gets_429_and_writes_still_pass():
    with SandboxServer(rate_limits=False, read_quota=3) as sandbox:
        api = RawApi(sandbox)
        for _ in range(3):
            assert api.get("preferences").status_code == 200
        refused = [api.get("preferences"), api.get("query", query="SELECT * FROM Item"),
                   api.get(f"companyinfo/{sandbox.realm_id}")]
        for answer in refused:
            assert answer.status_code == 429
            assert "errorCode=003001" in answer.text and "monthly limit" in answer.text
        written = api.post("customer", customer("Dee Quota"), requestid=str(uuid.uuid4()))
        assert written.status_code == 200, written.text
        assert sandbox.company.query("SELECT * FROM Customer WHERE DisplayName = 'Dee Quota'")
        assert sandbox.usage() == Usage(reads=3, writes=1, requests=4, refused_reads=3)
        # A new month: the reads are allowed again, and counted afresh.
        sandbox.advance_clock(MONTH_S)
        api.session.headers["Authorization"] = f"Bearer {sandbox.new_grant()['access_token']}"
        assert api.get("preferences").status_code == 200
        assert sandbox.usage() == Usage(reads=1, requests=1)


def test_the_sandbox_command_takes_a_read_quota():
    with sandbox_command("--read-quota", "0") as (process, details):
        api_url = f"{details['base_url']}/v3/company/{details['realm_id']}/preferences"
        token = requests.post(
            details["base_url"] + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": details["refresh_token"]},
            auth=(details["client_id"], details["client_secret"]), timeout=10).json()
        answer = requests.get(api_url, headers={
            "Authorization": f"Bearer {token['access_token']}"}, timeout=10)
        assert answer.status_code == 429 and "CorePlus" in answer.text
        usage = requests.get(details["base_url"] + "/__sandbox/usage", timeout=10).json()
        assert usage["read_quota"] == 0
        assert usage["companies"][details["realm_id"]]["refused_reads"] == 1
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
