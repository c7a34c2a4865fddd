"""The service's side of Intuit OAuth 2: consent address, code exchange, refresh, revoke."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlencode

import requests

from connex_desktop.connect_service.settings import ServiceSettings
from connex_desktop.core.token_life import HARD_EXPIRY_FIELD, HARD_EXPIRY_HEADER
from connex_desktop.core.transport import is_secure_address
from connex_desktop.quickbooks.auth import api_base_url, discovery_url

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
TIMEOUT_S = 30.0
# What of Intuit's token answer is passed on to the app: the tokens, their lifetimes (the
# refresh token's rolling one and its hard limit of five years) and their type.
TOKEN_FIELDS = ("token_type", "access_token", "refresh_token", "expires_in",
                "x_refresh_token_expires_in", HARD_EXPIRY_FIELD)
ERROR_FIELDS = ("error", "error_description")


class IntuitUnavailable(Exception):
    """Intuit could not be reached, or answered with something that is not OAuth."""


class IntuitApp:
    """The product's Intuit app: its client id and secret, used only from this service."""

    def __init__(self, settings: ServiceSettings, session: requests.Session | None = None):
        self._settings = settings
        self._session = session or requests.Session()
        self._endpoints: dict[str, str] | None = None
        self._lock = threading.Lock()

    @property
    def environment(self) -> str:
        """Where the app's API calls go: production, sandbox, or a stand-in's base URL."""
        return self._settings.environment

    def authorization_url(self, state: str) -> str:
        query = {"client_id": self._settings.client_id, "response_type": "code",
                 "scope": ACCOUNTING_SCOPE, "redirect_uri": self._settings.redirect_uri,
                 "state": state}
        return self._endpoint("authorization_endpoint") + "?" + urlencode(query)

    def exchange(self, code: str) -> tuple[int, dict[str, Any]]:
        """Intuit's answer to trading a callback's code for tokens: (status, fields)."""
        return self._token({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": self._settings.redirect_uri})

    def refresh(self, refresh_token: str) -> tuple[int, dict[str, Any]]:
        """Intuit's answer to a refresh: new access token and the (maybe rotated) refresh one."""
        return self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str) -> tuple[int, dict[str, Any]]:
        reply = self._post("revocation_endpoint", json={"token": token})
        return reply.status_code, _fields(reply, ERROR_FIELDS)

    def company_name(self, realm_id: str, access_token: str) -> str:
        """The company's name for the "Connected to …" page; its id when it cannot be read."""
        url = (f"{api_base_url(self._settings.environment)}/company/{realm_id}"
               f"/companyinfo/{realm_id}")
        try:
            reply = self._session.get(url, timeout=TIMEOUT_S, headers={
                "Authorization": f"Bearer {access_token}", "Accept": "application/json"})
            info = reply.json().get("CompanyInfo", {}) if reply.ok else {}
        except (requests.RequestException, ValueError, AttributeError):
            info = {}
        return str(info.get("CompanyName") or info.get("LegalName") or realm_id)

    def _token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        # Asked, Intuit says how long the authorisation has left (its five-year end).
        reply = self._post("token_endpoint", data=form, headers={HARD_EXPIRY_HEADER: "true"})
        wanted = TOKEN_FIELDS if reply.status_code == 200 else ERROR_FIELDS
        return reply.status_code, _fields(reply, wanted)

    def _post(self, endpoint: str, *, headers: dict[str, str] | None = None,
              **body: Any) -> requests.Response:
        try:
            reply = self._session.post(
                self._endpoint(endpoint), timeout=TIMEOUT_S, allow_redirects=False,
                auth=(self._settings.client_id, self._settings.client_secret),
                headers={"Accept": "application/json", **(headers or {})}, **body)
        except requests.RequestException as error:
            raise IntuitUnavailable(type(error).__name__) from None
        if reply.status_code >= 500:
            raise IntuitUnavailable(f"HTTP {reply.status_code} from the {endpoint}")
        return reply

    def _endpoint(self, name: str) -> str:
        with self._lock:
            if self._endpoints is None:
                self._endpoints = self._discover()
        return self._endpoints[name]

    def _discover(self) -> dict[str, str]:
        url = discovery_url(self._settings.environment)
        try:
            reply = self._session.get(url, timeout=TIMEOUT_S)
            document = reply.json()
            endpoints = {name: str(document[name]) for name in (
                "authorization_endpoint", "token_endpoint", "revocation_endpoint")}
        except (requests.RequestException, ValueError, KeyError, TypeError) as error:
            raise IntuitUnavailable(f"no discovery document at {url} "
                                    f"({type(error).__name__})") from None
        for name, address in endpoints.items():
            # The client secret goes to these: never in clear text across a network.
            if not is_secure_address(address):
                raise IntuitUnavailable(f"the {name} {address!r} is not https")
        return endpoints


def _fields(reply: requests.Response, wanted: tuple[str, ...]) -> dict[str, Any]:
    try:
        body = reply.json() if reply.content else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return {name: body[name] for name in wanted if name in body}
