"""The sandbox's OAuth 2: discovery, refresh with rotation, code flow, revoke, 401s."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks.exceptions import AuthorizationException
from quickbooks.objects import Customer

from connex_desktop.sandbox.server import SandboxServer
from tests.sandbox.conftest import connect

REDIRECT_URI = "http://127.0.0.1:8765/callback"


def _auth(sandbox: SandboxServer, **tokens: str) -> AuthClient:
    return AuthClient(sandbox.client_id, sandbox.client_secret, REDIRECT_URI,
                      sandbox.discovery_url, **tokens)


def test_discovery_names_all_endpoints_intuit_oauth_reads(sandbox):
    document = requests.get(sandbox.discovery_url, timeout=5).json()
    for key in ("issuer", "authorization_endpoint", "token_endpoint", "revocation_endpoint",
                "jwks_uri", "userinfo_endpoint"):
        assert document[key].startswith(sandbox.base_url)
    auth = _auth(sandbox)
    assert auth.token_endpoint == sandbox.base_url + "/oauth2/v1/tokens/bearer"


def test_refresh_rotates_and_the_old_token_dies_once_the_new_one_is_used(sandbox):
    auth = _auth(sandbox)
    auth.refresh(refresh_token=sandbox.refresh_token)
    first_new = auth.refresh_token
    assert first_new != sandbox.refresh_token
    assert auth.expires_in == 3600
    # The new token is not used yet, so the old one still works (a retry after a lost reply).
    _auth(sandbox).refresh(refresh_token=sandbox.refresh_token)
    auth.refresh(refresh_token=first_new)
    with pytest.raises(AuthClientError) as raised:
        _auth(sandbox).refresh(refresh_token=sandbox.refresh_token)
    assert raised.value.status_code == 400
    assert b"invalid_grant" in raised.value.content


def test_bad_client_secret_is_invalid_client(sandbox):
    auth = AuthClient(sandbox.client_id, "wrong", REDIRECT_URI, sandbox.discovery_url)
    with pytest.raises(AuthClientError) as raised:
        auth.refresh(refresh_token=sandbox.refresh_token)
    assert raised.value.status_code == 401
    assert b"invalid_client" in raised.value.content


def test_authorization_code_flow_through_a_loopback_redirect(sandbox):
    auth = _auth(sandbox)
    url = auth.get_authorization_url([Scopes.ACCOUNTING], state_token="s-123")
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    callback = urlsplit(response.headers["Location"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == REDIRECT_URI
    query = {k: v[0] for k, v in parse_qs(callback.query).items()}
    assert query["state"] == "s-123"
    assert query["realmId"] == sandbox.realm_id
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])
    client = connect(sandbox, refresh_token=auth.refresh_token, access_token=auth.access_token)
    assert Customer.count(qb=client) == 0
    with pytest.raises(AuthClientError):  # a code is good once
        _auth(sandbox).get_bearer_token(query["code"])


def test_pkce_is_neither_advertised_nor_enforced_as_at_intuit(sandbox):
    """Intuit's discovery documents name no `code_challenge_methods_supported` and its own
    clients send no PKCE; like any OAuth server (RFC 6749 3.1), unknown parameters are ignored."""
    document = requests.get(sandbox.discovery_url, timeout=5).json()
    assert "code_challenge_methods_supported" not in document
    auth = _auth(sandbox)
    url = (auth.get_authorization_url([Scopes.ACCOUNTING], state_token="s-pkce")
           + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
           + "&code_challenge_method=S256")
    response = requests.get(url, allow_redirects=False, timeout=5)
    query = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    auth.get_bearer_token(query["code"], realm_id=query["realmId"])     # no code_verifier
    assert auth.refresh_token


def test_api_without_a_valid_bearer_is_401_with_the_lower_case_envelope(sandbox, api):
    api.session.headers["Authorization"] = "Bearer not-a-token"
    response = api.get("companyinfo/" + sandbox.realm_id)
    assert response.status_code == 401
    body = response.json()
    assert body["fault"]["type"] == "AUTHENTICATION"
    assert body["fault"]["error"][0]["code"] == "3200"
    del api.session.headers["Authorization"]
    assert api.get("preferences").status_code == 401


def test_access_tokens_expire_after_an_hour_of_server_time(sandbox, qb):
    assert Customer.count(qb=qb) == 0
    sandbox.advance_clock(3599)
    assert Customer.count(qb=qb) == 0
    sandbox.advance_clock(2)
    with pytest.raises(AuthorizationException) as raised:
        Customer.count(qb=qb)
    assert raised.value.error_code == 401
    # Refreshing gives a working client again.
    assert Customer.count(qb=connect(sandbox, refresh_token=qb.refresh_token)) == 0


def test_injected_expiry_expires_every_current_token(sandbox, qb):
    sandbox.inject("expire_tokens")
    with pytest.raises(AuthorizationException):
        Customer.count(qb=qb)


def test_revoke_ends_the_grant(sandbox):
    grant = sandbox.new_grant()
    auth = _auth(sandbox, access_token=grant["access_token"],
                 refresh_token=grant["refresh_token"])
    assert auth.revoke(token=grant["refresh_token"]) is True
    with pytest.raises(AuthClientError):
        _auth(sandbox).refresh(refresh_token=grant["refresh_token"])
    client = connect(sandbox, refresh_token="unused", access_token=grant["access_token"])
    with pytest.raises(AuthorizationException):
        Customer.count(qb=client)


def test_wrong_realm_is_refused(sandbox, api):
    response = api.session.get(f"{sandbox.api_url}/company/123/preferences", timeout=5)
    assert response.status_code == 403


def _refreshed(sandbox: SandboxServer, token: str, **headers: str) -> requests.Response:
    return requests.post(sandbox.base_url + "/oauth2/v1/tokens/bearer", timeout=5,
                         auth=(sandbox.client_id, sandbox.client_secret), headers=headers,
                         data={"grant_type": "refresh_token", "refresh_token": token})


def test_the_authorisations_end_is_told_only_when_asked_and_refused_after_it(sandbox):
    plain = _refreshed(sandbox, sandbox.refresh_token).json()
    assert "x_refresh_token_hard_expires_in" not in plain
    asked = _refreshed(sandbox, plain["refresh_token"],
                       **{"X-Include-Refresh-Token-Hard-Expires-In": "true"}).json()
    five_years = 5 * 365 * 86_400
    assert five_years <= asked["x_refresh_token_hard_expires_in"] <= five_years + 2 * 86_400

    sandbox.end_authorisations_in(3 * 86_400)   # signed in nearly five years ago
    near = _refreshed(sandbox, asked["refresh_token"],
                      **{"x-include-refresh-token-hard-expires-in": "true"}).json()
    assert 3 * 86_400 - 60 <= near["x_refresh_token_hard_expires_in"] <= 3 * 86_400
    assert near["x_refresh_token_expires_in"] <= 3 * 86_400   # the rolling life stops there too
    sandbox.advance_clock(3 * 86_400 + 1)
    over = _refreshed(sandbox, near["refresh_token"])
    assert over.status_code == 400 and over.json()["error"] == "invalid_grant"
