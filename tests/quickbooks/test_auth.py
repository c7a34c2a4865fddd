"""Tokens against the sandbox: refresh once, rotation saved first, reconnect errors, connect."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import urllib3.util.connection

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.quickbooks_rules import DISCOVERY_PATH
from connex_desktop.core.transport import is_loopback
from connex_desktop.quickbooks.auth import (
    ACCESS_TOKEN,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    QuickBooksAuth,
    api_base_url,
    authorization_url,
    discovery_url,
    exchange_code,
    new_state,
    parse_callback,
    save_credentials,
)
from connex_desktop.quickbooks.client import QuickBooksClient
from connex_desktop.quickbooks.errors import QuickBooksFault
from connex_desktop.quickbooks.ratelimit import RateLimiter
from connex_desktop.sandbox.server import SandboxServer
from tests.fakes.stores import FakeServer, Received, Reply
from tests.quickbooks.conftest import (
    PREFIX,
    RecordingSecretStore,
    assert_no_secrets,
    company_of,
    connected_store,
    make_client,
)

REFRESH_KEY = f"{PREFIX}/{REFRESH_TOKEN}"
ACCESS_KEY = f"{PREFIX}/{ACCESS_TOKEN}"


def test_environments_name_their_discovery_document_and_api():
    assert discovery_url("production") == \
        "https://developer.intuit.com/.well-known/openid_configuration/"
    assert discovery_url("Sandbox") == \
        "https://developer.intuit.com/.well-known/openid_sandbox_configuration/"
    assert api_base_url("production") == "https://quickbooks.api.intuit.com/v3"
    assert api_base_url("sandbox") == "https://sandbox-quickbooks.api.intuit.com/v3"
    assert discovery_url("http://127.0.0.1:8000/") == \
        "http://127.0.0.1:8000/.well-known/openid_configuration"
    assert api_base_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/v3"
    with pytest.raises(QuickBooksFault) as caught:
        api_base_url("staging")
    assert caught.value.kind is ErrorKind.FIX_SETUP


def test_an_expired_access_token_is_refreshed_once_and_the_rotated_token_saved_first(
        sandbox: SandboxServer, secrets: RecordingSecretStore):
    with make_client(sandbox, secrets) as client:
        assert client.count("Item") > 0
        assert client.auth.refresh_count == 0          # the stored access token was used
        sandbox.inject("expire_tokens")
        sent_before = client.request_count
        assert client.count("Item") > 0
        assert client.request_count - sent_before == 2  # refused once, then accepted
        assert client.auth.refresh_count == 1
    assert secrets.writes == [REFRESH_KEY, ACCESS_KEY]  # rotated refresh token saved first
    assert secrets.values[REFRESH_KEY] != sandbox.refresh_token
    assert secrets.values[ACCESS_KEY] != sandbox.access_token
    # The saved refresh token is the live one: the next run (a new auth) refreshes with it.
    del secrets.values[ACCESS_KEY]
    assert QuickBooksAuth(company_of(sandbox), secrets, PREFIX).access_token()


def test_many_threads_refused_together_refresh_once(sandbox: SandboxServer,
                                                    secrets: RecordingSecretStore):
    with make_client(sandbox, secrets) as client:
        client.count("Item")
        sandbox.inject("expire_tokens")
        start = threading.Barrier(8)

        def count_items(_: int) -> int:
            start.wait()
            return client.count("Item")

        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = list(pool.map(count_items, range(8)))
        assert len(set(counts)) == 1 and counts[0] > 0
        assert client.auth.refresh_count == 1


def test_no_stored_access_token_refreshes_before_the_first_request(sandbox: SandboxServer):
    secrets = connected_store(sandbox, with_access_token=False)
    with make_client(sandbox, secrets) as client:
        client.preferences()
        client.company_info()
        assert client.auth.refresh_count == 1
        assert client.request_count == 2
    assert secrets.writes == [REFRESH_KEY, ACCESS_KEY]


def test_an_access_token_past_its_lifetime_is_refreshed_without_a_refusal(
        sandbox: SandboxServer):
    now = [0.0]
    secrets = connected_store(sandbox, with_access_token=False)
    auth = QuickBooksAuth(company_of(sandbox), secrets, PREFIX, clock=lambda: now[0])
    first = auth.access_token()
    assert auth.access_token() == first
    now[0] += 3600
    assert auth.access_token() != first
    assert auth.refresh_count == 2


def test_a_dead_refresh_token_means_reconnect_without_secrets_in_the_message(
        sandbox: SandboxServer):
    secrets = connected_store(sandbox, with_access_token=False)
    secrets.values[REFRESH_KEY] = "RT-not-a-real-token-0123456789"
    with make_client(sandbox, secrets) as client, pytest.raises(QuickBooksFault) as caught:
        client.query_all("Customer")
    fault = caught.value
    assert fault.kind is ErrorKind.RECONNECT and fault.code == "invalid_grant"
    assert str(fault).startswith("Reconnect to QuickBooks: ")
    assert "no longer valid" in str(fault)
    assert_no_secrets(f"{fault} {fault!r} {fault.detail} {fault.__cause__}", sandbox, secrets)
    assert fault.__cause__ is None and fault.__suppress_context__
    assert client.request_count == 0


def test_a_wrong_client_secret_means_reconnect(sandbox: SandboxServer):
    secrets = connected_store(sandbox, with_access_token=False)
    secrets.values[f"{PREFIX}/{CLIENT_SECRET}"] = "wrong-secret-value"
    with pytest.raises(QuickBooksFault) as caught:
        QuickBooksAuth(company_of(sandbox), secrets, PREFIX).access_token()
    assert caught.value.kind is ErrorKind.RECONNECT
    assert "client id or client secret" in str(caught.value)
    assert_no_secrets(f"{caught.value} {caught.value.detail}", sandbox, secrets)


def test_not_connected_means_reconnect(sandbox: SandboxServer):
    with pytest.raises(QuickBooksFault) as caught:
        QuickBooksAuth(company_of(sandbox), RecordingSecretStore(), PREFIX).access_token()
    assert caught.value.kind is ErrorKind.RECONNECT
    assert "no saved QuickBooks" in str(caught.value)


class RefusedAuth(QuickBooksAuth):
    """An auth whose refreshed tokens QuickBooks does not accept either."""

    def refresh(self, stale_token: str | None = None) -> str:
        self.refresh_count += 1
        return "refused-token"

    def access_token(self) -> str:
        return "refused-token" if self.refresh_count else "expired-token"


def test_refused_again_after_the_refresh_means_reconnect(sandbox: SandboxServer):
    company = company_of(sandbox)
    auth = RefusedAuth(company, connected_store(sandbox), PREFIX)
    with QuickBooksClient(company, auth, limiter=RateLimiter()) as client, \
            pytest.raises(QuickBooksFault) as caught:
        client.preferences()
    assert caught.value.kind is ErrorKind.RECONNECT
    assert str(caught.value).startswith("Reconnect to QuickBooks: ")
    assert auth.refresh_count == 1 and client.request_count == 2


def test_revoke_forgets_the_tokens_and_quickbooks_refuses_them(sandbox: SandboxServer,
                                                                secrets: RecordingSecretStore):
    with make_client(sandbox, secrets) as client:
        client.preferences()
        client.auth.revoke()
        assert REFRESH_KEY not in secrets.values and ACCESS_KEY not in secrets.values
        assert f"{PREFIX}/{CLIENT_SECRET}" in secrets.values
        with pytest.raises(QuickBooksFault) as caught:
            client.preferences()
    assert caught.value.kind is ErrorKind.RECONNECT
    assert str(caught.value).startswith("Reconnect to QuickBooks: ")
    # The revoked refresh token is dead at QuickBooks too, not only forgotten here.
    with pytest.raises(QuickBooksFault) as caught:
        QuickBooksAuth(company_of(sandbox), connected_store(sandbox, with_access_token=False),
                       PREFIX).access_token()
    assert caught.value.kind is ErrorKind.RECONNECT


def test_connect_to_quickbooks_from_the_browser_round_trip(sandbox: SandboxServer):
    company = company_of(sandbox)
    unconnected = type(company)(environment=company.environment, client_id=company.client_id,
                                redirect_uri="http://127.0.0.1:8765/callback")
    state = new_state()
    url = authorization_url(unconnected, state)
    assert "scope=com.intuit.quickbooks.accounting" in url and f"state={state}" in url
    answer = requests.get(url, allow_redirects=False, timeout=10)
    callback = answer.headers["Location"]
    with pytest.raises(QuickBooksFault) as caught:
        parse_callback(callback, new_state())
    assert caught.value.kind is ErrorKind.RECONNECT
    code, realm_id = parse_callback(callback, state)
    assert realm_id == sandbox.realm_id
    secrets = RecordingSecretStore()
    connected = exchange_code(unconnected, secrets, PREFIX, client_secret=sandbox.client_secret,
                              code=code, realm_id=realm_id)
    assert connected.realm_id == sandbox.realm_id and connected.connected
    assert set(secrets.values) == {f"{PREFIX}/{CLIENT_SECRET}", REFRESH_KEY, ACCESS_KEY}
    auth = QuickBooksAuth(connected, secrets, PREFIX)
    with QuickBooksClient(connected, auth, limiter=RateLimiter()) as client:
        assert client.company_info()["CompanyName"]
    assert auth.refresh_count == 0
    with pytest.raises(QuickBooksFault) as caught:     # a code works once
        exchange_code(unconnected, RecordingSecretStore(), PREFIX,
                      client_secret=sandbox.client_secret, code=code, realm_id=realm_id)
    assert caught.value.kind is ErrorKind.RECONNECT


def test_a_denied_authorisation_says_so():
    with pytest.raises(QuickBooksFault) as caught:
        parse_callback("http://127.0.0.1:8765/callback?error=access_denied&state=x", "x")
    assert "did not grant access (access_denied)" in str(caught.value)


def test_the_state_is_checked_before_anything_else_in_the_answer():
    with pytest.raises(QuickBooksFault) as caught:
        parse_callback("http://127.0.0.1:8765/callback?error=access_denied&state=forged", "x")
    assert "does not belong to this attempt" in str(caught.value)
    with pytest.raises(QuickBooksFault) as caught:
        parse_callback("http://127.0.0.1:8765/callback?code=AB1&realmId=1", "x")   # no state
    assert "does not belong to this attempt" in str(caught.value)


@pytest.fixture
def remote_hosts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hosts other than this computer the code tried to reach (refused, so nothing leaves)."""
    tried: list[str] = []
    real = urllib3.util.connection.create_connection

    def only_loopback(address, *args, **kwargs):
        if not is_loopback(f"http://{address[0]}"):
            tried.append(address[0])
            raise ConnectionRefusedError(f"test: no network to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", only_loopback)
    return tried


def discovery_document(token_endpoint: str) -> dict[str, str]:
    return {"authorization_endpoint": "https://appcenter.intuit.com/connect/oauth2",
            "token_endpoint": token_endpoint, "revocation_endpoint": token_endpoint,
            "issuer": "https://oauth.platform.intuit.com/op/v1", "jwks_uri": token_endpoint,
            "userinfo_endpoint": token_endpoint}


def refreshing_auth(environment: str) -> tuple[QuickBooksAuth, RecordingSecretStore]:
    """An auth with a refresh token and no access token: its first use refreshes."""
    secrets = RecordingSecretStore()
    save_credentials(secrets, PREFIX, client_secret="client-secret-3e2d1c",
                     refresh_token="AB11refresh-token-to-keep")
    secrets.writes.clear()
    company = QuickBooksCompany(environment=environment, client_id="client-id", realm_id="9130")
    return QuickBooksAuth(company, secrets, PREFIX), secrets


@pytest.mark.parametrize("environment", ["http://quickbooks.example.com",
                                         "http://192.0.2.10:8000/"])
def test_plain_http_to_another_computer_is_refused_before_anything_is_sent(environment,
                                                                          remote_hosts):
    auth, secrets = refreshing_auth(environment)
    for attempt in (auth.access_token, lambda: QuickBooksClient(auth.company, auth),
                    lambda: api_base_url(environment)):
        with pytest.raises(QuickBooksFault) as caught:
            attempt()
        assert caught.value.kind is ErrorKind.FIX_SETUP
        assert "must start with https://" in caught.value.message
        assert "in clear text" in caught.value.message
    assert remote_hosts == [] and secrets.writes == []


def test_an_http_token_address_in_the_discovery_document_is_refused_before_the_refresh(
        remote_hosts):
    document = discovery_document("http://oauth.example.com/oauth2/v1/tokens/bearer")
    with FakeServer(lambda _request: Reply(200, document)) as sign_in:
        auth, secrets = refreshing_auth(sign_in.url)
        with pytest.raises(QuickBooksFault) as caught:
            auth.access_token()
    assert caught.value.kind is ErrorKind.FIX_SETUP
    assert "token address must start with https://" in caught.value.message
    assert remote_hosts == [] and secrets.writes == []


def test_a_token_request_redirected_to_another_host_keeps_the_refresh_token():
    with FakeServer(lambda _request: Reply(200, {})) as elsewhere:
        other = elsewhere.url.replace("127.0.0.1", "localhost") + "/token"

        def sign_in_service(request: Received) -> Reply:
            if request.path == DISCOVERY_PATH:
                return Reply(200, discovery_document(f"{service.url}/token"))
            return Reply(307, None, {"Location": other})    # a 307 re-sends the POSTed body

        with FakeServer(sign_in_service) as service:
            auth, secrets = refreshing_auth(service.url)
            with pytest.raises(QuickBooksFault) as caught:
                auth.access_token()
    assert elsewhere.received == []
    assert caught.value.kind is ErrorKind.FIX_SETUP
    assert "redirected the request to http://localhost" in caught.value.message
    assert secrets.writes == []


def test_an_api_request_redirected_to_another_host_is_refused(sandbox: SandboxServer):
    with FakeServer(lambda _request: Reply(200, {})) as elsewhere:
        other = elsewhere.url.replace("127.0.0.1", "localhost") + "/v3/company/1/query"
        with FakeServer(lambda _request: Reply(307, None, {"Location": other})) as api:
            company = QuickBooksCompany(environment=api.url, client_id="client-id",
                                        realm_id="9130")
            auth = QuickBooksAuth(company, connected_store(sandbox), PREFIX)
            with QuickBooksClient(company, auth, limiter=RateLimiter()) as client, \
                    pytest.raises(QuickBooksFault) as caught:
                client.query("SELECT * FROM Item")
    assert elsewhere.received == []
    assert caught.value.kind is ErrorKind.FIX_SETUP
    assert "QuickBooks at http://127.0.0.1 redirected the request" in caught.value.message


def test_a_client_python_quickbooks_would_refuse_spends_no_refresh_token(
        sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch):
    """Without OAUTHLIB_INSECURE_TRANSPORT the API session refuses plain http even on this
    computer: that is said before the refresh, not after the rotated token was spent."""
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT")
    secrets = connected_store(sandbox, with_access_token=False)
    with pytest.raises(QuickBooksFault) as caught, make_client(sandbox, secrets) as client:
        client.count("Item")
    assert caught.value.kind is ErrorKind.FIX_SETUP
    assert "must be reached over https" in caught.value.message
    assert secrets.writes == []
