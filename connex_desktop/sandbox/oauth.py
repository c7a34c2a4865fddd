"""The sandbox's OAuth 2 provider: discovery, authorization, rotating refresh tokens, revoke."""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from connex_desktop.core.token_life import HARD_EXPIRY_FIELD, authorisation_ends
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
            return self._issue(self._new_grant_id(), predecessor=None)

    def _new_grant_id(self) -> str:
        """A new authorisation, ending at most five years from now however often refreshed."""
        grant_id = secrets.token_hex(8)
        self._store.execute("INSERT INTO oauth_grant (grant_id, ends_at) VALUES (?, ?)",
                            (grant_id, self._five_years_on()))
        return grant_id

    def _five_years_on(self) -> float:
        return authorisation_ends(datetime.fromtimestamp(self._clock(), UTC)).timestamp()

    def _grant_ends_at(self, grant_id: str) -> float:
        rows = self._store.execute("SELECT ends_at FROM oauth_grant WHERE grant_id = ?",
                                   (grant_id,))
        if rows:
            return float(rows[0][0])
        # A grant of a company file from before grants had an end: five years from now on.
        ends_at = self._five_years_on()
        self._store.execute("INSERT INTO oauth_grant (grant_id, ends_at) VALUES (?, ?)",
                            (grant_id, ends_at))
        return ends_at

    def end_grants_in(self, seconds: float) -> None:
        """Every authorisation ends `seconds` from now (as if signed in nearly five years ago)."""
        with self._store.lock:
            ends_at = self._clock() + seconds
            self._store.execute("UPDATE oauth_grant SET ends_at = ?", (ends_at,))
            self._store.execute("UPDATE refresh_token SET expires_at = MIN(expires_at, ?)",
                                (ends_at,))

    def _issue(self, grant_id: str, predecessor: str | None, *,
               tell_end: bool = False) -> dict[str, Any]:
        now = self._clock()
        ends_at = self._grant_ends_at(grant_id)
        access = "eyJ" + secrets.token_urlsafe(60)
        refresh = "RT1-" + secrets.token_urlsafe(36)
        # The rolling life of a refresh token never reaches past its authorisation's end.
        refresh_expires_at = min(now + REFRESH_TOKEN_LIFETIME_S, ends_at)
        self._store.execute(
            "INSERT INTO access_token (token, grant_id, expires_at) VALUES (?, ?, ?)",
            (access, grant_id, now + ACCESS_TOKEN_LIFETIME_S))
        self._store.execute(
            "INSERT INTO refresh_token (token, grant_id, predecessor, expires_at) "
            "VALUES (?, ?, ?, ?)", (refresh, grant_id, predecessor, refresh_expires_at))
        tokens: dict[str, Any] = {
            "token_type": "bearer", "access_token": access, "refresh_token": refresh,
            "expires_in": ACCESS_TOKEN_LIFETIME_S,
            "x_refresh_token_expires_in": int(refresh_expires_at - now)}
        if tell_end:   # only when asked, as Intuit does (HARD_EXPIRY_HEADER)
            tokens[HARD_EXPIRY_FIELD] = int(ends_at - now)
        return tokens

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

    def token(self, form: Mapping[str, str], authorization: str | None, *,
              tell_end: bool = False) -> OAuthReply:
        """The token endpoint; `tell_end`: the request asked for the authorisation's end."""
        if not self._client_authenticated(authorization, form):
            return OAuthReply(401, {"error": "invalid_client"})
        grant_type = form.get("grant_type")
        with self._store.lock:
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""), tell_end)
            if grant_type == "authorization_code":
                return self._exchange_code(form.get("code", ""), form.get("redirect_uri", ""),
                                           tell_end)
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

    def _refresh(self, token: str, tell_end: bool) -> OAuthReply:
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
        return OAuthReply(200, self._issue(grant_id, predecessor=token, tell_end=tell_end))

    def _exchange_code(self, code: str, redirect_uri: str, tell_end: bool) -> OAuthReply:
        with self._codes_lock:
            issued = self._codes.pop(code, None)
        if issued is None or issued[1] <= self._clock():
            return _invalid_grant("Invalid authorization code")
        if issued[0] != redirect_uri:
            return _invalid_grant("redirect_uri does not match the authorization request")
        return OAuthReply(200, self._issue(self._new_grant_id(), predecessor=None,
                                           tell_end=tell_end))

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
