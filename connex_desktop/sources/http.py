"""Shared HTTP for store connectors: timeouts, retries with back-off, errors a user can act on."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from connex_desktop import __version__
from connex_desktop.core.errors import (
    Cancelled,
    ConnexError,
    ErrorKind,
    ReconnectError,
    RetryLaterError,
    SetupError,
)
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.redaction import redact
from connex_desktop.core.retry_after import RETRYABLE_STATUSES, retry_after_s
from connex_desktop.core.transport import UnsafeRedirect, is_secure_address, refuse_unsafe_redirect
from connex_desktop.sources.base import Source

CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 1.0
BACKOFF_MAX_S = 32.0
# A store that asks for a longer pause than this is better retried by the next scheduled run
# than by a sync that sits silent for many minutes.
MAX_WAIT_S = 120.0
AUTH_STATUSES = frozenset({401, 403})
DETAIL_MAX_CHARS = 300
# Failures of the connection itself, passing by nature: unreachable, too slow, or broken off in
# the middle of an answer.
TRANSPORT_FAULTS = (requests.ConnectionError, requests.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError)

Sleep = Callable[[float], None]
Clock = Callable[[], float]
# Given a response, the seconds to wait before retrying it, or None when it is not throttled.
ThrottleSignal = Callable[[requests.Response], float | None]


def make_session(*, accept: str = "application/json") -> requests.Session:
    """A requests Session that names the app and asks for JSON; timeouts come from StoreHttp."""
    session = requests.Session()
    session.headers.update({"User-Agent": f"connex-desktop/{__version__}", "Accept": accept})
    return session


def require_https(url: str, store: str) -> str:
    """Return `url` without a trailing slash; refuse plain http except to this machine."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise SetupError(f"The {store} store address must be a full web address, "
                         f"like https://shop.example.com (got {url!r}).", field="store_url")
    if not is_secure_address(url):
        raise SetupError(f"The {store} store address must start with https:// so the "
                         "credentials are never sent in clear text.", field="store_url")
    return url.strip().rstrip("/")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a request that failed for a passing reason."""

    attempts: int = MAX_ATTEMPTS
    base_s: float = BACKOFF_BASE_S
    max_s: float = BACKOFF_MAX_S
    max_wait_s: float = MAX_WAIT_S

    def backoff_s(self, attempt: int) -> float:
        """Exponential back-off for the `attempt`-th failure (1-based)."""
        # No jitter: one desktop app runs one request at a time per store, so there is no herd.
        return float(min(self.max_s, self.base_s * 2 ** (attempt - 1)))


class StoreHttp:
    """Requests to one store, with timeouts, retries and the store's errors made plain.

    `sleep` and `clock` are injectable so tests can record pauses instead of waiting.
    `throttle` recognises a store's own throttling signal (a header or a body) on any response.
    `secrets` are scrubbed from every message this class raises. `checking` is set while a
    connection's settings are tried, where an answer that is not the API means a wrong address.
    """

    def __init__(
        self,
        store: str,
        *,
        session: requests.Session | None = None,
        secrets: Iterable[str] = (),
        policy: RetryPolicy | None = None,
        throttle: ThrottleSignal | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.time,
        timeout_s: tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        checking: bool = False,
    ) -> None:
        self.store = store
        self.session = session or make_session()
        self.session.hooks["response"].append(refuse_unsafe_redirect)
        self.secrets = tuple(s for s in secrets if s)
        self.policy = policy or RetryPolicy()
        self.throttle = throttle
        self.sleep = sleep
        self.clock = clock
        self.timeout_s = timeout_s
        self.checking = checking
        # Each answer's body, parsed once while deciding whether to retry it.
        self._bodies: weakref.WeakKeyDictionary[requests.Response, Any] = (
            weakref.WeakKeyDictionary())

    def close(self) -> None:
        """Release the pooled connections."""
        self.session.close()

    def __enter__(self) -> StoreHttp:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get(self, url: str, *, params: Mapping[str, Any] | None = None,
            headers: Mapping[str, str] | None = None, cancel: CancelToken | None = None,
            allow: Collection[int] = ()) -> requests.Response:
        """GET `url`; see `request`."""
        return self.request("GET", url, params=params, headers=headers, cancel=cancel,
                            allow=allow)

    def request(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
                headers: Mapping[str, str] | None = None, json: Any = None,
                cancel: CancelToken | None = None, allow: Collection[int] = (),
                data: Mapping[str, Any] | None = None) -> requests.Response:
        """Send a request, retrying throttling, 5xx, network failures and answers that are not
        JSON (a web page in front of the store, a reply cut off) with back-off. `data` is sent
        as a form (for APIs that take their parameters, credentials among them, in the body).

        Returns a 2xx response with a JSON (or empty) body, or one whose status is in `allow`.
        Raises UnsafeRedirect (a SetupError) for a redirect to another host or scheme,
        ReconnectError for a refused credential, RetryLaterError when retries run out,
        SetupError for other 4xx (and, when `checking`, for a web page instead of the API), and
        Cancelled when `cancel` is set during a pause.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(method, url, params=params, headers=headers,
                                                json=json, data=data, timeout=self.timeout_s)
            except TRANSPORT_FAULTS as exc:
                fault: ConnexError = self._transport_fault(exc)
                wait_s = self.policy.backoff_s(attempt)
                limited = False
            except UnsafeRedirect as refused:
                raise UnsafeRedirect(f"The {self.store} store at {refused.message}",
                                     field="store_url") from None
            else:
                throttled_s = self._throttle_wait_s(response, attempt)
                if throttled_s is None:
                    response = self._checked(response, allow)
                    unreadable = self._answer_fault(response, attempt)
                    if unreadable is None:
                        return response
                    fault = unreadable
                    wait_s = self.policy.backoff_s(attempt)
                    limited = False
                else:
                    fault = RetryLaterError(
                        f"The {self.store} store is busy (HTTP {response.status_code}); "
                        "try again later.", detail=self._detail(response))
                    wait_s = throttled_s
                    limited = response.status_code < 500
            if (attempt >= self.policy.attempts or wait_s > self.policy.max_wait_s
                    or fault.kind is not ErrorKind.RETRY_LATER):
                # `from None`: the library's text carries the full URL, which may hold keys.
                raise fault from None
            self.pause(wait_s, cancel, limited=limited)

    def _transport_fault(self, exc: requests.RequestException) -> RetryLaterError:
        if isinstance(exc, requests.ConnectionError | requests.Timeout):
            words = f"Could not reach the {self.store} store; try again later."
        else:   # the connection broke off in the middle of the answer
            words = f"The {self.store} store's answer was cut off; try again later."
        return RetryLaterError(words, detail=self.scrub(f"{type(exc).__name__}: {exc}"))

    def _answer_fault(self, response: requests.Response, attempt: int) -> ConnexError | None:
        """None when the answer is JSON, empty or an allowed error; else what is wrong with it.

        A body that is meant to be JSON but does not parse was cut off on the way: passing. A
        web page (HTML) at the API's address is usually passing too (a maintenance or error
        page in front of the store) — except while the settings are being tried (`checking`),
        where a page that is not the store's API means the address is wrong.
        """
        if not 200 <= response.status_code < 300 or not response.content:
            return None
        try:
            self._bodies[response] = response.json(parse_float=Decimal)
            return None
        except ValueError:
            pass
        where = self._where(response)
        detail = self.scrub(response.text or "")[:DETAIL_MAX_CHARS]
        meant_as_json = ("json" in response.headers.get("Content-Type", "").lower()
                         or response.content.lstrip()[:1] in (b"{", b"["))
        times = f", {attempt} times in a row" if attempt > 1 else ""
        if meant_as_json:
            return RetryLaterError(f"The {self.store} store's answer was cut off (at {where})"
                                   f"{times}; try again later.", detail=detail)
        if self.checking:
            return SetupError(f"The {self.store} store address answered with a web page, not "
                              f"the store's API (at {where}); check the store address.",
                              detail=detail, field="store_url")
        return RetryLaterError(
            f"The {self.store} store answered with a web page instead of order data (at "
            f"{where}){times}: usually a maintenance or error page in front of the store. Try "
            "again later; if it lasts, check the store address.", detail=detail)

    def _throttle_wait_s(self, response: requests.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying `response`, or None when it should not be retried."""
        signalled = self.throttle(response) if self.throttle else None
        if signalled is not None:
            return signalled
        if response.status_code not in RETRYABLE_STATUSES:
            return None
        asked = retry_after_s(response.headers.get("Retry-After"), self.clock())
        return asked if asked is not None else self.policy.backoff_s(attempt)

    def pause(self, wait_s: float, cancel: CancelToken | None, *, limited: bool = True) -> None:
        """Wait before the next request, for the store's limit (`limited`) or for it to
        answer again, saying so through `cancel`; raises Cancelled when cancelled."""
        if cancel is not None and cancel.cancelled:
            raise Cancelled()
        if cancel is not None:
            cancel.pausing(wait_s, f"the {self.store} store's limit" if limited
                           else f"the {self.store} store to answer again")
        try:
            self.sleep(wait_s)
        finally:
            if cancel is not None:
                cancel.pausing(0, "")
        if cancel is not None and cancel.cancelled:
            raise Cancelled()

    def _checked(self, response: requests.Response, allow: Collection[int]) -> requests.Response:
        status = response.status_code
        if status < 400 or status in allow:
            return response
        detail = self._detail(response)
        if status in AUTH_STATUSES:
            raise ReconnectError(
                f"Reconnect the store: {self.store} refused the saved credentials "
                f"(HTTP {status}). Enter new keys in the connection's settings.",
                detail=detail)
        if status == 404:
            raise SetupError(
                f"The {self.store} store answered 'not found' at {self._where(response)}; "
                "check the store address.", detail=detail, field="store_url")
        raise SetupError(f"The {self.store} store refused the request (HTTP {status}).",
                         detail=detail)

    def _where(self, response: requests.Response) -> str:
        # The path only: query strings can carry credentials.
        return self.scrub(urlsplit(response.url or "").path or "/")

    def _detail(self, response: requests.Response) -> str:
        """The store's own words from an error body, shortened and scrubbed of secrets."""
        text = ""
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            for key in ("message", "title", "detail", "error", "errors"):
                if body.get(key):
                    text = str(body[key])
                    break
        elif isinstance(body, list) and body and isinstance(body[0], dict):
            text = str(body[0].get("message", ""))
        if not text:
            text = (response.text or "").strip()
        return self.scrub(text)[:DETAIL_MAX_CHARS]

    def scrub(self, text: str) -> str:
        """`text` with this store's secrets and anything that looks like a credential masked
        (masked before it is cut short, so no part of a secret is left)."""
        return redact(text, self.secrets)

    def json(self, response: requests.Response) -> Any:
        """The JSON body of a response `request` returned (numbers with a fraction as Decimal,
        never float); raises what `request` would for a body that is not JSON."""
        if response in self._bodies:
            return self._bodies[response]
        try:
            return response.json(parse_float=Decimal)
        except ValueError:
            fault = self._answer_fault(response, 1)
            raise (fault or RetryLaterError(
                f"The {self.store} store sent an empty answer (at {self._where(response)}); "
                "try again later.")) from None


class RepeatGuard:
    """Remembers pages (by a key such as their ids or cursor) so a walk never loops."""

    def __init__(self) -> None:
        self._seen: set[Hashable] = set()

    def repeated(self, key: Hashable) -> bool:
        """True when `key` was seen before; records it otherwise."""
        if key in self._seen:
            return True
        self._seen.add(key)
        return False


class PagedStoreSource(Source):
    """A store read page by page over HTTP; tests pass a fake sleep and clock and small pages."""

    max_page_size: ClassVar[int]

    def __init__(self, settings: Mapping[str, str], secrets: Mapping[str, str], *,
                 sleep: Sleep = time.sleep, clock: Clock = time.time,
                 page_size: int | None = None) -> None:
        super().__init__(settings, secrets)
        self._sleep = sleep
        self._clock = clock
        self.page_size = page_size or self.max_page_size


def override_address(settings: Mapping[str, str], store: str) -> str:
    """The `api_url` setting: the one address every call goes to when set (a proxy), checked
    as https; blank when not set."""
    given = settings.get("api_url", "").strip()
    if not given:
        return ""
    try:
        return require_https(given, store)
    except SetupError as error:
        raise SetupError(error.message, field="api_url") from None


def address_key(url: str) -> str:
    """A store's address as the ledger names the store: http://Shop.example.com:443/ and
    https://shop.example.com are one store (scheme, case, default port, trailing slash and any
    user name in the address do not count)."""
    parts = urlsplit(url.strip().lower())
    host = parts.netloc.rpartition("@")[2].removesuffix(":443").removesuffix(":80")
    return f"https://{host}{parts.path.rstrip('/')}"


def chunks(ids: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """`ids` in runs of at most `size`, for APIs that take a bounded list of ids per request."""
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
