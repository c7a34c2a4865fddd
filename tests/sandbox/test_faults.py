"""Injected and random faults, throttling, latency, persistence and the command line."""

from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from quickbooks.exceptions import QuickbooksException, SevereException
from quickbooks.objects import Customer

from connex_desktop.sandbox.server import GatewayLimits, SandboxServer
from tests.sandbox.conftest import RawApi, connect, sandbox_command

CUSTOMER = {"DisplayName": "Dropped Dora"}


def test_drop_after_write_stores_the_write_and_the_reply(sandbox, api):
    sandbox.inject("drop_after_write")
    with pytest.raises(requests.ConnectionError):
        api.post("customer", CUSTOMER, requestid="drop-1")
    stored = sandbox.company.all("Customer")
    assert [c["DisplayName"] for c in stored] == ["Dropped Dora"]
    retry = api.post("customer", CUSTOMER, requestid="drop-1")
    assert retry.status_code == 200 and retry.json()["Customer"]["Id"] == stored[0]["Id"]
    assert len(sandbox.company.all("Customer")) == 1
    # Reads are not dropped: the fault waits for the next write.
    sandbox.inject("drop_after_write")
    assert api.get("preferences").status_code == 200
    with pytest.raises(requests.ConnectionError):
        api.post("customer", {"DisplayName": "Second"})


def test_injected_status_faults_apply_to_the_next_requests_only(sandbox, qb, api):
    sandbox.inject("500", count=2)
    for _ in range(2):
        with pytest.raises(SevereException) as raised:
            Customer.count(qb=qb)
        assert raised.value.error_code == 10000
    assert Customer.count(qb=qb) == 0
    sandbox.inject("503")
    unavailable = api.get("preferences")
    assert unavailable.status_code == 503 and "text/html" in unavailable.headers["Content-Type"]
    sandbox.inject("429")
    with pytest.raises(QuickbooksException) as raised:  # python-quickbooks cannot read the XML
        Customer.count(qb=qb)
    assert raised.value.error_code == 10000 and "ThrottleExceeded" in raised.value.message
    assert sandbox.company.all("Customer") == []
    with pytest.raises(ValueError):
        sandbox.inject("404")


def test_fail_rate_answers_500_503_or_drops():
    with SandboxServer(fail_rate=1.0, rate_limits=False) as sandbox:
        api = RawApi(sandbox)
        outcomes = set()
        for n in range(30):
            try:
                outcomes.add(api.post("customer", {"DisplayName": f"C{n}"}).status_code)
            except requests.ConnectionError:
                outcomes.add("dropped")
        assert outcomes == {500, 503, "dropped"}
        # Every dropped write was stored: only 500/503 answers left nothing behind.
        assert 0 < len(sandbox.company.all("Customer")) < 30


def test_more_than_ten_requests_a_second_or_at_once_are_throttled():
    with SandboxServer(rate_limits=True, latency_ms=500) as sandbox:
        clients = [RawApi(sandbox) for _ in range(12)]
        start_together = threading.Barrier(12)

        def get(client: RawApi) -> int:
            start_together.wait()
            return client.get("preferences").status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = list(pool.map(get, clients))
        assert statuses.count(200) == 10 and statuses.count(429) == 2
        api = clients[0]
        throttled = api.get("preferences")
        assert throttled.status_code == 429
        assert throttled.text.startswith("<?xml") and 'code="3001"' in throttled.text
        assert sandbox.request_count == 13


def test_gateway_limits_per_minute_and_for_batches():
    now = [0.0]
    limits = GatewayLimits(clock=lambda: now[0])

    def admit(is_batch: bool = False) -> bool:
        admitted = limits.admit(is_batch=is_batch, enforce=True)
        if admitted:
            limits.done()
        return admitted

    for _ in range(500):  # 500 requests spread evenly over 55 seconds are fine
        assert admit()
        now[0] += 0.11
    assert not admit()  # the 501st within the minute
    now[0] += 6
    assert admit()
    later = GatewayLimits(clock=lambda: now[0])
    for _ in range(40):
        assert later.admit(is_batch=True, enforce=True)
        later.done()
        now[0] += 1.2
    assert not later.admit(is_batch=True, enforce=True)
    assert later.admit(is_batch=False, enforce=True)  # other requests still pass


def test_latency_does_not_serialise_requests():
    with SandboxServer(rate_limits=False, latency_ms=300) as sandbox:
        api = RawApi(sandbox)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda _: api.get("preferences").status_code, range(6)))
        elapsed = time.monotonic() - started
        assert statuses == [200] * 6
        assert 0.3 <= elapsed < 1.5  # six in series would take 1.8 s


def test_a_database_file_keeps_company_app_and_tokens(tmp_path):
    db = tmp_path / "new folder" / "company.sqlite"
    with SandboxServer(db, rate_limits=False) as first:
        qb = connect(first)
        customer = Customer()
        customer.DisplayName = "Persistent Pat"
        customer.save(qb=qb)
        rotated = qb.refresh_token
        identity = (first.realm_id, first.client_id, first.client_secret)
    with SandboxServer(db, rate_limits=False) as second:
        assert (second.realm_id, second.client_id, second.client_secret) == identity
        qb = connect(second, refresh_token=rotated)
        assert [c.DisplayName for c in Customer.all(qb=qb)] == ["Persistent Pat"]
        assert len(second.company.all("Item")) == 58  # seeded once, not twice


def test_concurrent_writes_with_one_requestid_write_once(sandbox, api):
    barrier = threading.Barrier(4)

    def post(_: int) -> str:
        barrier.wait()
        return api.post("customer", {"DisplayName": "Racing Rae"}, requestid="race-1").text

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = set(pool.map(post, range(4)))
    assert len(answers) == 1
    assert len(sandbox.company.all("Customer")) == 1


def test_cli_prints_one_json_line_and_stops_on_sigterm(tmp_path):
    with sandbox_command("--db", str(tmp_path / "cli.sqlite")) as (process, details):
        assert set(details) >= {"base_url", "realm_id", "client_id", "client_secret",
                                "refresh_token"}
        discovery = requests.get(details["base_url"] + "/.well-known/openid_configuration",
                                 timeout=5)
        assert discovery.json()["token_endpoint"].startswith(details["base_url"])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_an_unexpected_error_inside_the_sandbox_is_a_500_system_fault(sandbox, api, monkeypatch,
                                                                      capsys):
    def broken(text: str) -> dict:
        raise RuntimeError("a bug")

    monkeypatch.setattr(sandbox.company, "run_query", broken)
    response = api.get("query", query="SELECT * FROM Item")
    assert response.status_code == 500
    assert response.json()["Fault"]["type"] == "SystemFault"
    assert "RuntimeError: a bug" in capsys.readouterr().err
    assert api.get("preferences").status_code == 200  # the server keeps serving
