"""The sandbox's OAuth 2 provider: discovery, authorization, rotating refresh tokens, revoke."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from connex_desktop.sandbox.store import Store

ACCESS_TOKEN_LIFETIME_S = 3600
REFRESH_TOKEN_LIFETIME_S = 8_726_400  # 101 days, what Intuit reports in x_refresh_token_expires_in
AUTHORIZATION_CODE_LIFETIME_S = 300

AUTHORIZE_PATH = "/connect/oauth2"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/v2/oauth2/tokens/revoke"
USERINFO_PATH = "/v1/openid_connect/userinfo"
JWKS_PATH = "/op/v1/jwks"


@dataclass(frozen=True)
class OAuthReply:
    status: int
    body: dict[str, Any] | None = None
    location: str | None = None


def _invalid_grant(description: str) -> OAuthReply:
    return OAuthReply(400, {"error": "invalid_grant", "error_description": description})


class OAuthProvider:
    """Issues and checks tokens for one app (client id and secret) and one company."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._codes: dict[str, tuple[str, float]] = {}  # code -> (redirect_uri, expires_at)
        self._codes_lock = threading.Lock()
        with store.lock:
            self.client_id = self._meta_or_new("client_id", lambda: "AB" + secrets.token_hex(23))
            self.client_secret = self._meta_or_new("client_secret",
                                                   lambda: secrets.token_urlsafe(30))
            self.realm_id = self._meta_or_new(
                "realm_id", lambda: "9130" + str(secrets.randbelow(10**12)).zfill(12))

    def _meta_or_new(self, key: str, make: Callable[[], str]) -> str:
        value = self._store.meta(key)
        if value is None:
            value = make()
            self._store.set_meta(key, value)
        return value

    @staticmethod
    def discovery(base_url: str) -> dict[str, Any]:
        # Intuit's documents name no code_challenge_methods_supported: no PKCE, and its
        # authorization and token endpoints take code_challenge/code_verifier as unknown
        # parameters, which an OAuth server ignores (RFC 6749 3.1). The sandbox does the same.
        return {
            "issuer": base_url + "/op/v1",
            "authorization_endpoint": base_url + AUTHORIZE_PATH,
            "token_endpoint": base_url + TOKEN_PATH,
            "userinfo_endpoint": base_url + USERINFO_PATH,
            "revocation_endpoint": base_url + REVOKE_PATH,
            "jwks_uri": base_url + JWKS_PATH,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile", "address", "phone",
                                 "com.intuit.quickbooks.accounting",
                                 "com.intuit.quickbooks.payment"],
            "token_endpoint_auth_methods_supported": ["client_secret_post",
                                                      "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    # --- grants ---------------------------------------------------------------------------

    def new_grant(self) -> dict[str, Any]:
        """Tokens for a fresh connection, as if the user had just approved the app."""
        with self._store.lock:
            return self._issue(secrets.token_hex(8), predecessor=None)

    def _issue(self, grant_id: str, predecessor: str | None) -> dict[str, Any]:
        now = self._clock()
        access = "eyJ" + secrets.token_urlsafe(60)
        refresh = "RT1-" + secrets.token_urlsafe(36)
        self._store.execute(
            "INSERT INTO access_token (token, grant_id, expires_at) VALUES (?, ?, ?)",
            (access, grant_id, now + ACCESS_TOKEN_LIFETIME_S))
        self._store.execute(
            "INSERT INTO refresh_token (token, grant_id, predecessor, expires_at) "
            "VALUES (?, ?, ?, ?)", (refresh, grant_id, predecessor, now + REFRESH_TOKEN_LIFETIME_S))
        return {"token_type": "bearer", "access_token": access, "refresh_token": refresh,
                "expires_in": ACCESS_TOKEN_LIFETIME_S,
                "x_refresh_token_expires_in": REFRESH_TOKEN_LIFETIME_S}

    def access_token_valid(self, token: str) -> bool:
        with self._store.lock:
            rows = self._store.execute("SELECT expires_at FROM access_token WHERE token = ?",
                                       (token,))
        return bool(rows) and rows[0][0] > self._clock()

    def expire_access_tokens(self) -> None:
        with self._store.lock:
            self._store.execute("UPDATE access_token SET expires_at = ?", (self._clock() - 1,))

    # --- endpoints ------------------------------------------------------------------------

    def authorize(self, params: Mapping[str, str]) -> OAuthReply:
        """Approve at once and send the browser back with code, state and realmId."""
        redirect_uri = params.get("redirect_uri", "")
        if params.get("client_id") != self.client_id or not redirect_uri:
            return OAuthReply(400, {"error": "invalid_request",
                                    "error_description": "unknown client_id or no redirect_uri"})
        if params.get("response_type") != "code":
            return OAuthReply(400, {"error": "unsupported_response_type"})
        code = "AB" + secrets.token_urlsafe(30)
        with self._codes_lock:
            self._codes[code] = (redirect_uri, self._clock() + AUTHORIZATION_CODE_LIFETIME_S)
        query = {"code": code, "realmId": self.realm_id}
        if "state" in params:
            query["state"] = params["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return OAuthReply(302, location=redirect_uri + separator + urlencode(query))

    def token(self, form: Mapping[str, str], authorization: str | None) -> OAuthReply:
        if not self._client_authenticated(authorization, form):
            return OAuthReply(401, {"error": "invalid_client"})
        grant_type = form.get("grant_type")
        with self._store.lock:
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""))
            if grant_type == "authorization_code":
                return self._exchange_code(form.get("code", ""), form.get("redirect_uri", ""))
        return OAuthReply(400, {"error": "unsupported_grant_type"})

    def _client_authenticated(self, authorization: str | None,
                              form: Mapping[str, str]) -> bool:
        if authorization and authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:]).decode()
            except (ValueError, UnicodeDecodeError):
                return False
            client_id, _, secret = decoded.partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return (secrets.compare_digest(client_id, self.client_id)
                and secrets.compare_digest(secret, self.client_secret))

    def _refresh(self, token: str) -> OAuthReply:
        rows = self._store.execute(
            "SELECT grant_id, predecessor, expires_at, retired FROM refresh_token "
            "WHERE token = ?", (token,))
        if not rows:
            return _invalid_grant("Incorrect or invalid refresh token")
        grant_id, predecessor, expires_at, retired = rows[0]
        if retired or expires_at <= self._clock():
            return _invalid_grant("Incorrect or invalid refresh token")
        if predecessor is not None:
            # The new token has now been used: the one it replaced is stale from here on.
            self._store.execute("UPDATE refresh_token SET retired = 1 WHERE token = ?",
                                (predecessor,))
        return OAuthReply(200, self._issue(grant_id, predecessor=token))

    def _exchange_code(self, code: str, redirect_uri: str) -> OAuthReply:
        with self._codes_lock:
            issued = self._codes.pop(code, None)
        if issued is None or issued[1] <= self._clock():
            return _invalid_grant("Invalid authorization code")
        if issued[0] != redirect_uri:
            return _invalid_grant("redirect_uri does not match the authorization request")
        return OAuthReply(200, self._issue(secrets.token_hex(8), predecessor=None))

    def revoke(self, body: Mapping[str, Any], authorization: str | None) -> OAuthReply:
        if not self._client_authenticated(authorization, {}):
            return OAuthReply(401, {"error": "invalid_client"})
        token = str(body.get("token", ""))
        with self._store.lock:
            grants = self._store.execute(
                "SELECT grant_id FROM refresh_token WHERE token = ? UNION "
                "SELECT grant_id FROM access_token WHERE token = ?", (token, token))
            if not grants:
                return OAuthReply(400, {"error": "invalid_request"})
            for (grant_id,) in grants:
                self._store.execute("UPDATE refresh_token SET retired = 1 WHERE grant_id = ?",
                                    (grant_id,))
                self._store.execute("DELETE FROM access_token WHERE grant_id = ?", (grant_id,))
        return OAuthReply(200, None)

    def userinfo(self, access_token: str) -> OAuthReply:
        if not self.access_token_valid(access_token):
            return OAuthReply(401, {"error": "invalid_token"})
        return OAuthReply(200, {
            "sub": "sandbox-user-" + self.realm_id, "givenName": "Sandbox", "familyName": "User",
            "email": "owner@maple-pine.example", "emailVerified": True})
