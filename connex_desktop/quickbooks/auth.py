"""QuickBooks OAuth 2.0 on intuit-oauth: connect, refresh with rotation saved first, revoke."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import secrets as token_generator
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import requests

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.quickbooks_rules import DISCOVERY_PATH
from connex_desktop.core.secret_store import SecretStore
from connex_desktop.core.token_life import HARD_EXPIRY_FIELD, HARD_EXPIRY_HEADER, end_after
from connex_desktop.core.transport import UnsafeRedirect, is_secure_address, refuse_unsafe_redirect
from connex_desktop.quickbooks.errors import QuickBooksFault, connection_fault, reconnect_fault

# intuit-oauth (with jwt and cryptography) and python-quickbooks are imported where they are
# used: the window and the CLI's --help start without them.
if TYPE_CHECKING:
    from intuitlib.client import AuthClient
    from intuitlib.exceptions import AuthClientError

    from connex_desktop.quickbooks.connect_client import ConnectClient

CLIENT_SECRET = "qb_client_secret"
REFRESH_TOKEN = "qb_refresh_token"
ACCESS_TOKEN = "qb_access_token"

# Refresh a little before QuickBooks' one-hour expiry so no request goes out with a dying token.
EXPIRY_MARGIN_S = 120.0
_NAMED_ENVIRONMENTS = {"production": "production", "prod": "production",
                       "sandbox": "sandbox", "sand": "sandbox"}


def discovery_url(environment: str) -> str:
    """The OpenID discovery document for "production", "sandbox" or a custom base URL."""
    from intuitlib.config import DISCOVERY_URL

    named = _NAMED_ENVIRONMENTS.get(environment.strip().lower())
    if named:
        return DISCOVERY_URL[named]
    base = _custom_base(environment)
    return base if base.endswith(DISCOVERY_PATH) else base + DISCOVERY_PATH


def api_base_url(environment: str) -> str:
    """The v3 API root (`…/v3`) for "production", "sandbox" or a custom base URL."""
    from quickbooks import QuickBooks

    named = _NAMED_ENVIRONMENTS.get(environment.strip().lower())
    if named == "production":
        return QuickBooks.api_url_v3
    if named == "sandbox":
        return QuickBooks.sandbox_api_url_v3
    base = _custom_base(environment)
    if base.endswith(DISCOVERY_PATH):
        base = base[:-len(DISCOVERY_PATH)]
    return base + "/v3"


def _custom_base(environment: str) -> str:
    base = environment.strip().rstrip("/")
    if not base.startswith(("http://", "https://")):
        raise QuickBooksFault(
            f"The QuickBooks environment must be production, sandbox or an http(s) address, "
            f"not {environment!r}.", kind=ErrorKind.FIX_SETUP)
    _require_secure(base, "The QuickBooks environment address")
    return base


def _require_secure(url: str, what: str) -> None:
    """Refuse an address the client secret and tokens would cross a network to in clear text;
    checked before anything is sent, so no refresh token is spent on a refused request."""
    if not is_secure_address(url):
        raise QuickBooksFault(
            f"{what} must start with https:// so the client secret and tokens are never sent "
            f"in clear text (plain http is allowed only to this computer): {url!r}.",
            kind=ErrorKind.FIX_SETUP)


def new_state() -> str:
    """An unguessable `state` for one "Connect to QuickBooks" attempt (checked on the callback)."""
    return token_generator.token_urlsafe(24)


def authorization_url(company: QuickBooksCompany, state: str) -> str:
    """The address to open in the browser: QuickBooks asks the user to allow access."""
    from intuitlib.enums import Scopes

    client = _auth_client(company, client_secret="")
    return str(client.get_authorization_url([Scopes.ACCOUNTING], state_token=state))


def state_matches(callback_url: str, expected_state: str) -> bool:
    """Whether a redirect carries this attempt's `state` (compared in constant time)."""
    state = parse_qs(urlsplit(callback_url).query).get("state", [""])[0]
    return bool(expected_state) and token_generator.compare_digest(state, expected_state)


def parse_callback(callback_url: str, expected_state: str) -> tuple[str, str]:
    """(code, realm id) from the redirect QuickBooks sends back; refuses a foreign `state`."""
    if not state_matches(callback_url, expected_state):
        raise reconnect_fault("the answer from QuickBooks does not belong to this attempt.")
    query = parse_qs(urlsplit(callback_url).query)
    if "error" in query:
        raise reconnect_fault(f"QuickBooks did not grant access ({query['error'][0]}).")
    code = query.get("code", [""])[0]
    realm_id = query.get("realmId", [""])[0]
    if not code or not realm_id:
        raise reconnect_fault("the answer from QuickBooks has no code or company id.")
    return code, realm_id


def save_credentials(secrets: SecretStore, key_prefix: str, *, client_secret: str,
                     refresh_token: str, access_token: str = "") -> None:
    """Store the app's client secret and the company's tokens (e.g. from `--token-stdin`);
    no client secret (a connect service's sign-in, which keeps it) deletes a saved one."""
    if client_secret:
        secrets.set(f"{key_prefix}/{CLIENT_SECRET}", client_secret)
    else:
        secrets.delete(f"{key_prefix}/{CLIENT_SECRET}")
    secrets.set(f"{key_prefix}/{REFRESH_TOKEN}", refresh_token)
    if access_token:
        secrets.set(f"{key_prefix}/{ACCESS_TOKEN}", access_token)
    else:
        secrets.delete(f"{key_prefix}/{ACCESS_TOKEN}")


def exchange_code(company: QuickBooksCompany, secrets: SecretStore, key_prefix: str, *,
                  client_secret: str, code: str, realm_id: str) -> QuickBooksCompany:
    """Trade the callback's code for tokens, store them, and return the company with its realm."""
    client = _auth_client(company, client_secret=client_secret)
    with _token_request():
        client.get_bearer_token(code, realm_id=realm_id)
    save_credentials(secrets, key_prefix, client_secret=client_secret,
                     refresh_token=client.refresh_token, access_token=client.access_token)
    ends_in = seconds_left({HARD_EXPIRY_FIELD: getattr(client, HARD_EXPIRY_FIELD, None)})
    return dataclasses.replace(company, realm_id=realm_id, authorisation_ends_at="" if (
        ends_in is None) else end_after(ends_in, datetime.now(UTC)))


class QuickBooksAuth:
    """The tokens of one connected company, kept in the secret store and shared by its clients.

    Thread-safe: refreshes happen under one lock, so many workers hitting a 401 together
    refresh once. The rotated refresh token is saved before the new access token is used.
    """

    def __init__(self, company: QuickBooksCompany, secrets: SecretStore, key_prefix: str, *,
                 clock: Callable[[], float] = time.monotonic,
                 on_refused: Callable[[], None] | None = None,
                 on_end_told: Callable[[float], None] | None = None) -> None:
        self.company = company
        # Told when QuickBooks refuses the refresh token (invalid_grant): only a sign-in helps;
        # and the seconds left of the authorisation when a refresh says (its five-year end).
        self._on_refused = on_refused
        self._on_end_told = on_end_told
        self._secrets = secrets
        self._prefix = key_prefix
        self._clock = clock
        self._lock = threading.RLock()
        self._client: AuthClient | None = None
        self._access_token: str | None = None
        self._expires_at: float | None = None    # unknown for a token read back from the store
        self.refresh_count = 0

    def __repr__(self) -> str:
        return f"QuickBooksAuth(realm_id={self.company.realm_id!r}, prefix={self._prefix!r})"

    def access_token(self) -> str:
        """A usable access token: the cached or stored one, else a freshly refreshed one."""
        with self._lock:
            if self._access_token is None:
                self._access_token = self._secrets.get(self._key(ACCESS_TOKEN)) or None
                self._expires_at = None
            expired = self._expires_at is not None and self._clock() >= self._expires_at
            if self._access_token is None or expired:
                return self._refresh_locked()
            return self._access_token

    def refresh(self, stale_token: str | None = None) -> str:
        """Refresh once and return the new access token.

        With `stale_token` (the token a request was refused with), a refresh that another thread
        already did is not repeated: the newer token is returned instead.
        """
        with self._lock:
            if stale_token is not None and self._access_token not in (None, stale_token):
                return self._access_token
            return self._refresh_locked()

    def revoke(self) -> None:
        """Tell QuickBooks to forget the authorisation, and delete the tokens from the store."""
        from intuitlib.exceptions import AuthClientError

        with self._lock:
            token = self._secrets.get(self._key(REFRESH_TOKEN))
            try:
                if token and self.company.connect_service:
                    self._connect_client().revoke(token)
                elif token:
                    self._auth_client().revoke(token=token)
            except AuthClientError as error:
                if error.status_code not in (400, 401):     # already invalid: nothing to revoke
                    raise _token_endpoint_fault(error) from None
            except requests.RequestException as error:
                raise connection_fault(type(error).__name__) from None
            finally:
                self._secrets.delete(self._key(REFRESH_TOKEN))
                self._secrets.delete(self._key(ACCESS_TOKEN))
                self._access_token = None
                self._expires_at = None

    def _refresh_locked(self) -> str:
        refresh_token = self._secrets.get(self._key(REFRESH_TOKEN))
        if not refresh_token:
            raise reconnect_fault("this connection has no saved QuickBooks authorisation.")
        try:
            new_refresh, access, expires_in, ends_in = self._refreshed(refresh_token)
        except QuickBooksFault as fault:
            if fault.code == "invalid_grant" and self._on_refused is not None:
                self._on_refused()
            raise
        self.refresh_count += 1
        # The old refresh token may already be dead: the rotated one must be safe before use.
        self._secrets.set(self._key(REFRESH_TOKEN), new_refresh)
        self._secrets.set(self._key(ACCESS_TOKEN), access)
        self._access_token = access
        self._expires_at = self._clock() + max(expires_in - EXPIRY_MARGIN_S, expires_in / 2)
        if ends_in is not None and self._on_end_told is not None:
            self._on_end_told(ends_in)
        return self._access_token

    def _refreshed(self, refresh_token: str) -> tuple[str, str, float, float | None]:
        """(refresh token, access token, its seconds, the authorisation's seconds left when
        told) from Intuit or the connect service."""
        if self.company.connect_service:
            answer = self._connect_client().refresh(refresh_token)
        else:
            client = self._auth_client()
            with _token_request():
                client.refresh(refresh_token=refresh_token)
            # intuit-oauth keeps every field of the answer as an attribute of its client.
            answer = {name: getattr(client, name, None) for name in (
                "refresh_token", "access_token", "expires_in", HARD_EXPIRY_FIELD)}
        return (str(answer["refresh_token"]), str(answer["access_token"]),
                float(answer.get("expires_in") or 3600), seconds_left(answer))

    def _connect_client(self) -> ConnectClient:
        from connex_desktop.quickbooks.connect_client import ConnectClient

        return ConnectClient(self.company.connect_service)

    def _auth_client(self) -> AuthClient:
        if self._client is None:
            client_secret = self._secrets.get(self._key(CLIENT_SECRET))
            if not client_secret:
                raise reconnect_fault("this connection has no saved QuickBooks client secret.")
            self._client = _auth_client(self.company, client_secret=client_secret)
        return self._client

    def _key(self, name: str) -> str:
        return f"{self._prefix}/{name}"


def _auth_client(company: QuickBooksCompany, *, client_secret: str) -> AuthClient:
    """intuit-oauth's client; its constructor fetches the discovery document."""
    from intuitlib.client import AuthClient
    from intuitlib.exceptions import AuthClientError

    if not company.client_id:
        raise QuickBooksFault("The QuickBooks connection has no client id.",
                              kind=ErrorKind.FIX_SETUP)
    try:
        client = AuthClient(company.client_id, client_secret, company.redirect_uri,
                            discovery_url(company.environment), realm_id=company.realm_id or None)
    except UnsafeRedirect as refused:
        raise QuickBooksFault(f"The QuickBooks sign-in service at {refused.message}",
                              kind=ErrorKind.FIX_SETUP) from None
    except AuthClientError as error:
        raise QuickBooksFault(
            "The QuickBooks sign-in service could not be found at this environment's address.",
            kind=ErrorKind.FIX_SETUP, status=error.status_code) from None
    except requests.RequestException as error:
        raise connection_fault(f"the sign-in service is unreachable ({type(error).__name__})") \
            from None
    # The discovery document names where the secret and tokens go: hold those to the same rule.
    _require_secure(client.token_endpoint, "The QuickBooks sign-in service's token address")
    _require_secure(client.revoke_endpoint, "The QuickBooks sign-in service's revoke address")
    client.hooks["response"].append(refuse_unsafe_redirect)
    client.headers[HARD_EXPIRY_HEADER] = "true"   # token answers then say when it all ends
    return client


def seconds_left(answer: Mapping[str, object]) -> float | None:
    """The authorisation's seconds left, as a token answer gives them (None when it does not)."""
    value = answer.get(HARD_EXPIRY_FIELD)
    if not isinstance(value, int | float | str) or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds > 0 else None


@contextlib.contextmanager
def _token_request() -> Iterator[None]:
    """A request to the token endpoint, its failures turned into faults that echo no token."""
    from intuitlib.exceptions import AuthClientError

    try:
        yield
    except UnsafeRedirect as refused:
        raise QuickBooksFault(f"The QuickBooks sign-in service at {refused.message}",
                              kind=ErrorKind.FIX_SETUP) from None
    except AuthClientError as error:
        raise _token_endpoint_fault(error) from None
    except requests.RequestException as error:
        raise connection_fault(type(error).__name__) from None


def _token_endpoint_fault(error: AuthClientError) -> QuickBooksFault:
    """A refused token request. Only the OAuth error name and description are kept, never the
    request or the whole body (which could echo a token)."""
    try:
        body = json.loads(error.content or b"{}")
    except ValueError:
        body = {}
    return token_refusal(error.status_code, body if isinstance(body, dict) else {})


def token_refusal(status: int, body: dict[str, object]) -> QuickBooksFault:
    """A token endpoint's (or the connect service's) refusal, from its OAuth error fields."""
    oauth_error = str(body.get("error", ""))
    description = str(body.get("error_description", ""))
    detail = f"{oauth_error}: {description}".strip(": ")
    if status in (429, 500, 502, 503, 504):
        return QuickBooksFault("The QuickBooks sign-in service is unavailable right now.",
                               kind=ErrorKind.RETRY_LATER, detail=detail, status=status)
    if oauth_error == "invalid_grant":
        reason = ("the saved authorisation is no longer valid "
                  "(it was revoked, expired or replaced).")
    elif oauth_error == "invalid_client" or status == 401:
        reason = "QuickBooks did not accept the app's client id or client secret."
    else:
        reason = "QuickBooks refused to issue an access token."
    return reconnect_fault(reason, code=oauth_error, detail=detail, status=status)
