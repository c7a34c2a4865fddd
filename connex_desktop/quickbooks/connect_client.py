"""The app's side of the connect service: start a sign-in, collect its tokens once, refresh."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets as token_generator
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests

from connex_desktop.core.errors import ConnexError, ErrorKind
from connex_desktop.core.retry_after import RETRYABLE_STATUSES
from connex_desktop.core.transport import is_secure_address, refuse_unsafe_redirect
from connex_desktop.quickbooks.auth import seconds_left, token_refusal
from connex_desktop.quickbooks.errors import QuickBooksFault, connection_fault, reconnect_fault

# Which connect service a new sign-in goes through: this variable (tests, self-hosting), else
# the settings', else the build's default (empty: this build has no service of its own). A
# connection keeps refreshing through the service it signed in with (its Intuit app).
SERVICE_ENV = "CONNEX_CONNECT_SERVICE"
DEFAULT_SERVICE_URL = ""
TIMEOUT_S = 30.0
POLL_S = 1.0
# What to do in a copy with no service (DEFAULT_SERVICE_URL empty and none set): the window's
# Connect dialog and `qb connect` say it alike.
NO_SERVICE = (
    "This copy of Connex Desktop has no connect service set up, so Connect to QuickBooks cannot "
    f"sign in yet. Point it at one: set {SERVICE_ENV} to the service's https:// address before "
    "starting Connex Desktop, or connect once with `connex-desktop qb connect NAME --service "
    "https://…`, which remembers it (README, \"Run your own connect service\", says how to run "
    "one).")
log = logging.getLogger(__name__)


def service_url(configured: str = "", *, required: bool = True) -> str:
    """The connect service a new sign-in goes through: the environment's, the settings', or
    the build's default; with none, "" or (`required`) a fault saying what to do."""
    url = os.environ.get(SERVICE_ENV, "").strip() or configured.strip() or DEFAULT_SERVICE_URL
    if not url and required:
        raise QuickBooksFault(f"{NO_SERVICE} Or use your own Intuit app's keys: `--client-id "
                              "ID --environment production`.", kind=ErrorKind.FIX_SETUP)
    return url


def _checked(url: str) -> str:
    url = url.strip().rstrip("/")
    if not is_secure_address(url):
        raise QuickBooksFault(f"The connect service must start with https:// (plain http only "
                              f"on this computer): {url!r}.", kind=ErrorKind.FIX_SETUP)
    return url


def s256(verifier: str) -> str:
    """RFC 7636's S256 challenge of a verifier: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class PendingSignIn:
    """A sign-in waiting for the user in the browser; only this app knows the verifier."""

    sign_in_id: str
    authorization_url: str
    verifier: str = field(repr=False)
    expires_at: float


@dataclass(frozen=True)
class SignedIn:
    environment: str        # where the company's API is: production, sandbox or a base URL
    realm_id: str
    company_name: str
    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    ends_in: float | None = None     # the authorisation's seconds left, when Intuit said


class ConnectClient:
    """Talks JSON to one connect service (https, or http on this computer); the tokens never
    pass through the browser."""

    def __init__(self, url: str, *, session: requests.Session | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = _checked(url)
        self._session = session or requests.Session()
        self._session.hooks["response"].append(refuse_unsafe_redirect)
        self._clock, self._sleep = clock, sleep

    def start(self) -> PendingSignIn:
        """A new sign-in: the address to open in the browser, and its verifier kept here."""
        verifier = token_generator.token_urlsafe(48)
        status, body = self._post("/v1/sign-ins", {"code_challenge": s256(verifier),
                                                   "code_challenge_method": "S256"})
        if status != 201:
            raise _sign_in_refusal(status, body)
        return PendingSignIn(str(body["sign_in_id"]), str(body["authorization_url"]), verifier,
                             self._clock() + float(body.get("expires_in", 600)))

    def claim(self, pending: PendingSignIn) -> SignedIn | None:
        """The sign-in's tokens once the user approved; None while they have not yet."""
        status, body = self._post(f"/v1/sign-ins/{pending.sign_in_id}/claim",
                                  {"code_verifier": pending.verifier})
        if status == 202:
            return None
        if status != 200:
            raise _sign_in_refusal(status, body)
        return SignedIn(str(body["environment"]), str(body["realm_id"]),
                        str(body.get("company_name") or ""),
                        str(body["refresh_token"]), str(body.get("access_token") or ""),
                        seconds_left(body))

    def wait(self, pending: PendingSignIn, *,
             cancelled: Callable[[], bool] = lambda: False) -> SignedIn | None:
        """Poll until the user approved (the tokens), cancelled (None) or the sign-in expired."""
        while not cancelled():
            if self._clock() >= pending.expires_at:
                raise reconnect_fault("the sign-in was not completed in time; start again.")
            signed_in = self.claim(pending)
            if signed_in is not None:
                return signed_in
            self._sleep(POLL_S)
        return None

    def confirm(self, pending: PendingSignIn, *, failure: str = "") -> None:
        """Tell the service the claimed tokens are stored (its page then says Connected), or
        why they could not be."""
        status, body = self._post(f"/v1/sign-ins/{pending.sign_in_id}/confirm",
                                  {"code_verifier": pending.verifier, "failure": failure})
        if status != 200:
            raise _sign_in_refusal(status, body)

    @contextmanager
    def storing(self, pending: PendingSignIn) -> Iterator[None]:
        """Around storing the claimed tokens: confirms when the block succeeds, reports its
        failure when it raises. The app's outcome stands even if the service cannot be told."""
        try:
            yield
        except Exception as error:
            reason = (str(error) if isinstance(error, ConnexError)
                      else f"an unexpected error ({type(error).__name__})")
            self._tell(pending, f"Connex Desktop could not store the connection: {reason}")
            raise
        self._tell(pending, "")

    def _tell(self, pending: PendingSignIn, failure: str) -> None:
        try:
            self.confirm(pending, failure=failure)
        except QuickBooksFault as fault:
            log.warning("The connect service could not be told how the sign-in ended: %s", fault)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Intuit's answer through the service: access_token, refresh_token (maybe rotated)…"""
        status, body = self._post("/v1/tokens/refresh", {"refresh_token": refresh_token})
        if status != 200 or "refresh_token" not in body or "access_token" not in body:
            raise token_refusal(status, body)
        return body

    def revoke(self, token: str) -> None:
        """Ask Intuit, through the service, to forget the authorisation (gone already: fine)."""
        status, body = self._post("/v1/tokens/revoke", {"token": token})
        if status not in (200, 400, 401):
            raise token_refusal(status, body)

    def _post(self, path: str, payload: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            reply = self._session.post(self.url + path, json=payload, timeout=TIMEOUT_S,
                                       allow_redirects=False)
        except requests.RequestException as error:
            raise connection_fault(f"the connect service is unreachable "
                                   f"({type(error).__name__})") from None
        try:
            body = reply.json()
        except ValueError:
            body = {}
        return reply.status_code, body if isinstance(body, dict) else {}


def _sign_in_refusal(status: int, body: dict[str, Any]) -> QuickBooksFault:
    """The service refusing a sign-in step (expired, already handed over, a forged verifier,
    access denied at Intuit…), in the service's plain words."""
    if status in RETRYABLE_STATUSES:
        return token_refusal(status, body)
    error, description = str(body.get("error", "")), str(body.get("error_description", ""))
    return reconnect_fault(description or f"the connect service refused the sign-in ({status}).",
                           code=error, detail=f"{error}: {description}".strip(": "),
                           status=status)
