"""The local QuickBooks Online sandbox: a threaded HTTP server speaking the v3 API and OAuth 2."""

from __future__ import annotations

import contextlib
import json
import random
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict

from connex_desktop.core.quickbooks_rules import (
    BATCH_REQUEST_ID_MAX_CHARS,
    BATCH_REQUESTS_PER_MINUTE,
    DISCOVERY_PATH,
    MAX_CONCURRENT_REQUESTS,
    REQUEST_ID_MAX_CHARS,
    REQUESTS_PER_MINUTE,
    REQUESTS_PER_SECOND,
)
from connex_desktop.core.token_life import HARD_EXPIRY_HEADER
from connex_desktop.sandbox import faults
from connex_desktop.sandbox.api_routes import ApiRoutes
from connex_desktop.sandbox.document_pages import ENTITY_BY_PAGE, document_page
from connex_desktop.sandbox.faults import QBFault
from connex_desktop.sandbox.kinds import DEFAULT_KIND
from connex_desktop.sandbox.metering import Meter, Usage, metered_calls
from connex_desktop.sandbox.oauth import (
    AUTHORIZE_PATH,
    JWKS_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    OAuthProvider,
    OAuthReply,
)
from connex_desktop.sandbox.qbo_company import Company
from connex_desktop.sandbox.store import dumps

SHUTDOWN_POLL_S = 0.05
# Arrival times jitter by a few milliseconds against the client's send times; windows this much
# shorter keep a client that paces itself exactly at the limit from being throttled by jitter.
WINDOW_TOLERANCE_S = 0.1

FAULT_KINDS = ("drop_after_write", "429", "500", "503", "expire_tokens")
JSON = "application/json;charset=UTF-8"
HTML = "text/html;charset=UTF-8"
DOCUMENT_PAGES_PATH = "/app/"
USAGE_PATH = "/__sandbox/usage"
GRANT_PATH = "/__sandbox/grant"     # tokens for another connection, for a sandbox in a process
FAULT_PATH = "/__sandbox/fault"     # inject() for a sandbox in a process: {"fault", "count"}


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    location: str | None = None
    drop: bool = False  # close the connection without answering


@dataclass
class _InjectedFault:
    kind: str
    remaining: int


def _json_reply(status: int, body: object) -> Reply:
    return Reply(status, dumps(body).encode())


class GatewayLimits:
    """The gateway's throttle: sliding windows of accepted requests, and those in flight."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._batches: deque[float] = deque()
        self.in_flight = 0

    def admit(self, *, is_batch: bool, enforce: bool) -> bool:
        """Count one request in; False when it is over a limit (and `enforce` is on)."""
        now = self._clock()
        with self._lock:
            for window in (self._requests, self._batches):
                while window and window[0] <= now - 60 + WINDOW_TOLERANCE_S:
                    window.popleft()
            if enforce:
                second_ago = now - 1 + WINDOW_TOLERANCE_S
                last_second = 0
                for sent in reversed(self._requests):
                    if sent <= second_ago:
                        break
                    last_second += 1
                if (self.in_flight >= MAX_CONCURRENT_REQUESTS
                        or len(self._requests) >= REQUESTS_PER_MINUTE
                        or last_second >= REQUESTS_PER_SECOND
                        or (is_batch and len(self._batches) >= BATCH_REQUESTS_PER_MINUTE)):
                    return False
            self._requests.append(now)
            if is_batch:
                self._batches.append(now)
            self.in_flight += 1
            return True

    def done(self) -> None:
        with self._lock:
            self.in_flight -= 1


class SandboxServer(ApiRoutes):
    """A QuickBooks Online company on 127.0.0.1, served from a daemon thread.

    `db_path` keeps the company (and the app's credentials and tokens) in a SQLite file;
    None keeps it in memory. `latency_ms` delays every API request without serialising
    others; `fail_rate` answers that share of API requests with a 500 or 503, or stores a
    write and drops the connection. `rate_limits` enforces the company's limits with 429:
    500 requests a minute, 10 a second, 10 at once, 40 batch requests a minute. `seed`
    loads the demo company's lists into a new company; `custom_txn_numbers` is the new
    company's SalesFormsPrefs.CustomTxnNumbers; `kind` ("us", "us-ast", "uk", "ca", "au")
    and `multicurrency` say what kind of company it is (see kinds.py). Metered calls are
    counted per company and month (`usage()`, `GET /__sandbox/usage`); with `read_quota`, reads
    past that many in a month are answered 429 as Intuit answers them, and writes still pass.

    Clients connect with `discovery_url`, `client_id`, `client_secret`, `realm_id` and
    `refresh_token` (or `new_grant()`), and call the API at `api_url` (base_url + "/v3").
    Tests read and change the company directly through `company`, and steer the server with
    `inject`, `set_preference` and `advance_clock`.
    """

    def __init__(self, db_path: str | Path | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, latency_ms: int = 0, fail_rate: float = 0.0,
                 rate_limits: bool = True, seed: bool = True,
                 custom_txn_numbers: bool = True, kind: str = DEFAULT_KIND,
                 multicurrency: bool = False, read_quota: int | None = None) -> None:
        self._clock_offset_s = 0.0
        self.meter = Meter(self._now, read_quota)
        self.company = Company(db_path, seed=seed, custom_txn_numbers=custom_txn_numbers,
                               kind=kind, multicurrency=multicurrency, clock=self._now)
        self.oauth = OAuthProvider(self.company.store, self._now)
        self.latency_ms = latency_ms
        self.fail_rate = fail_rate
        self.rate_limits = rate_limits
        self._host, self._port = host, port
        self._httpd: _ThreadedServer | None = None
        self._thread: threading.Thread | None = None
        self._limiter = GatewayLimits()
        self._random = random.Random()
        self._faults: list[_InjectedFault] = []
        self._faults_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._request_count = 0
        self._grant = self.oauth.new_grant()

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> SandboxServer:
        handler = type("BoundHandler", (_Handler,), {"sandbox": self})
        self._httpd = _ThreadedServer((self._host, self._port), handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(SHUTDOWN_POLL_S,),
                                        name="qbo-sandbox",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.company.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- what clients connect with --------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the sandbox is not running; call start() first")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + "/v3"

    @property
    def discovery_url(self) -> str:
        return self.base_url + DISCOVERY_PATH

    @property
    def realm_id(self) -> str:
        return self.oauth.realm_id

    @property
    def client_id(self) -> str:
        return self.oauth.client_id

    @property
    def client_secret(self) -> str:
        return self.oauth.client_secret

    @property
    def refresh_token(self) -> str:
        """The refresh token issued when this server object was made (rotates once used)."""
        return str(self._grant["refresh_token"])

    @property
    def access_token(self) -> str:
        """The access token issued with `refresh_token`, valid for an hour of server time."""
        return str(self._grant["access_token"])

    def new_grant(self) -> dict[str, Any]:
        """Tokens for another connection: access_token, refresh_token, expires_in…"""
        return self.oauth.new_grant()

    def end_authorisations_in(self, seconds: float) -> None:
        """Every authorisation given so far ends `seconds` from now, as one given nearly five
        years ago does: refreshes are refused after it, and say so when asked."""
        self.oauth.end_grants_in(seconds)

    def usage(self) -> Usage:
        """This month's metered calls of the company (see metering.py)."""
        return self.meter.usage(self.realm_id)

    @property
    def request_count(self) -> int:
        """API requests received under /v3 (throttled and failed ones included)."""
        return self._request_count

    # --- test controls --------------------------------------------------------------------

    def inject(self, fault: str, count: int = 1) -> None:
        """Apply `fault` to the next `count` matching API requests (writes for drop_after_write).

        "expire_tokens" takes effect at once: every access token issued so far is expired.
        """
        if fault not in FAULT_KINDS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULT_KINDS)}")
        if fault == "expire_tokens":
            self.oauth.expire_access_tokens()
            return
        with self._faults_lock:
            self._faults.append(_InjectedFault(fault, count))

    def set_preference(self, **preferences: bool | str) -> None:
        """E.g. set_preference(custom_txn_numbers=False); see Company.set_preference."""
        self.company.set_preference(**preferences)  # type: ignore[arg-type]

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock forward (token expiry, MetaData times)."""
        self._clock_offset_s += seconds

    def _now(self) -> float:
        return time.time() + self._clock_offset_s

    def _take_fault(self, is_write: bool) -> str | None:
        with self._faults_lock:
            for entry in self._faults:
                if entry.kind != "drop_after_write" or is_write:
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        self._faults.remove(entry)
                    return entry.kind
        if self.fail_rate and self._random.random() < self.fail_rate:
            choices = ["500", "503"] + (["drop_after_write"] if is_write else [])
            return self._random.choice(choices)
        return None

    # --- request handling -----------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str],
               body: bytes) -> Reply:
        url = urlsplit(target)
        params = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        path = url.path.rstrip("/") or "/"
        if path.startswith("/v3/"):
            return self._api(method, path, params, headers, body)
        if path in (USAGE_PATH, GRANT_PATH, FAULT_PATH):
            return _testing_reply(self, method, path, body)
        if path == DISCOVERY_PATH and method == "GET":
            return _json_reply(200, OAuthProvider.discovery(self.base_url))
        if path == AUTHORIZE_PATH and method == "GET":
            return self._oauth_reply(self.oauth.authorize(params))
        if path == TOKEN_PATH and method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            return self._oauth_reply(self.oauth.token(
                form, headers.get("Authorization"),
                tell_end=(headers.get(HARD_EXPIRY_HEADER) or "").lower() == "true"))
        if path == REVOKE_PATH and method == "POST":
            return self._oauth_reply(self.oauth.revoke(_json_object(body),
                                                       headers.get("Authorization")))
        if path == USERINFO_PATH and method == "GET":
            return self._oauth_reply(self.oauth.userinfo(_bearer(headers) or ""))
        if path == JWKS_PATH and method == "GET":
            return _json_reply(200, {"keys": []})
        if path.startswith(DOCUMENT_PAGES_PATH) and method == "GET":
            return self._document_page(path.removeprefix(DOCUMENT_PAGES_PATH),
                                       params.get("txnId", ""))
        return Reply(404, b"Not Found", "text/plain")

    def _document_page(self, page: str, txn_id: str) -> Reply:
        """A document's page, where QuickBooks Online shows it (`/app/invoice?txnId=12`): the
        sandbox's stand-in, so "Open in QuickBooks" opens something in the demo."""
        entity = ENTITY_BY_PAGE.get(page)
        try:
            document = self.company.read(entity, txn_id) if entity else None
        except QBFault:
            document = None
        if entity is None or document is None:
            return Reply(404, b"<!doctype html><title>Not found</title><h1>No such document"
                              b"</h1>", HTML)
        return Reply(200, document_page(entity, document).encode(), HTML)

    @staticmethod
    def _oauth_reply(reply: OAuthReply) -> Reply:
        if reply.location is not None:
            return Reply(reply.status, b"", "text/plain", location=reply.location)
        body = json.dumps(reply.body).encode() if reply.body is not None else b""
        return Reply(reply.status, body, "application/json")

    def _api(self, method: str, path: str, params: dict[str, str], headers: Mapping[str, str],
             body: bytes) -> Reply:
        with self._count_lock:
            self._request_count += 1
        is_batch = path.endswith("/batch")
        if not self._limiter.admit(is_batch=is_batch, enforce=self.rate_limits):
            return self._throttled()
        try:
            if self.latency_ms:
                time.sleep(self.latency_ms / 1000)
            is_write = method == "POST" and not path.endswith("/query")
            fault = self._take_fault(is_write)
            if fault == "429":
                return self._throttled()
            if fault == "500":
                return self.system_failure_reply()
            if fault == "503":
                return Reply(503, faults.SERVICE_UNAVAILABLE_HTML.encode(), "text/html")
            reply = self._authorized_api(method, path, params, headers, body)
            reply.drop = fault == "drop_after_write"
            return reply
        finally:
            self._limiter.done()

    def _throttled(self) -> Reply:
        body = faults.THROTTLE_XML.format(time=self.company.response_time())
        return Reply(429, body.encode(), "application/xml")

    def system_failure_reply(self) -> Reply:
        return self._fault_reply(faults.system_failure())

    def _fault_reply(self, error: QBFault) -> Reply:
        return _json_reply(error.status, faults.fault_body(error, self.company.response_time()))

    def _authorized_api(self, method: str, path: str, params: dict[str, str],
                        headers: Mapping[str, str], body: bytes) -> Reply:
        token = _bearer(headers)
        now_text = self.company.response_time()
        if token is None or not self.oauth.access_token_valid(token):
            return _json_reply(401, faults.auth_failed_body(now_text))
        parts = path.split("/")  # ["", "v3", "company", realm, resource, id?]
        if len(parts) < 5 or parts[2] != "company":
            return Reply(404, b"Not Found", "text/plain")
        if parts[3] != self.realm_id:
            return _json_reply(403, faults.auth_failed_body(
                now_text, status=403, code="3100", reason="ApplicationAuthorizationFailed"))
        resource, rest = parts[4], parts[5:]
        if not self.meter.admit(self.realm_id, *metered_calls(method, resource, body)):
            return Reply(429, faults.QUOTA_XML.format(time=now_text).encode(), "application/xml")
        request_id = params.get("requestid")
        is_write = method == "POST" and resource != "query"
        if not (is_write and request_id is not None):
            return self._route(method, resource, rest, params, body)
        limit = BATCH_REQUEST_ID_MAX_CHARS if resource == "batch" else REQUEST_ID_MAX_CHARS
        if len(request_id) > limit:
            return self._fault_reply(faults.business_validation(
                f"You cannot enter more than {limit} characters in the request_id field."))
        # The company lock makes check-run-remember one step, so a concurrent repeat waits
        # for the first answer instead of writing twice.
        with self.company.lock:
            replayed = self.company.store.replay(request_id)
            if replayed is not None:
                status, stored, content_type = replayed
                return Reply(status, stored, content_type)
            reply = self._route(method, resource, rest, params, body, batch_request_id=True)
            if reply.status in (200, 400):
                self.company.store.remember_reply(request_id, reply.status, reply.body,
                                                  reply.content_type)
            return reply

    def _route(self, method: str, resource: str, rest: list[str], params: dict[str, str],
               body: bytes, *, batch_request_id: bool = False) -> Reply:
        try:
            result = self._dispatch(method, resource, rest, params, body, batch_request_id)
        except QBFault as error:
            return self._fault_reply(error)
        result["time"] = self.company.response_time()
        return _json_reply(200, result)


def _bearer(headers: Mapping[str, str]) -> str | None:
    value = headers.get("Authorization") or ""
    return value[7:].strip() if value.lower().startswith("bearer ") else None


class _ThreadedServer(ThreadingHTTPServer):
    """A thread per connection; a listen backlog deep enough for bursts of parallel clients."""

    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (or writes dropped on purpose) are not errors worth a trace."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "QBOSandbox/1.0"
    # Headers and body go out in two writes; with Nagle on, the body waits for the client's
    # delayed ACK (about 40 ms), which would add that to every request on keep-alive.
    disable_nagle_algorithm = True
    sandbox: SandboxServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = CaseInsensitiveDict(self.headers.items())  # as HTTP requires
        try:
            reply = self.sandbox.handle(method, self.path, headers, body)
        except Exception:
            # A sandbox bug: answer as the service does for its own failures, and show it.
            traceback.print_exc()
            reply = self.sandbox.system_failure_reply()
        if reply.drop:
            # The write is stored; the client never hears back, as after a network failure.
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("intuit_tid", str(uuid.uuid4()))
        if reply.location is not None:
            self.send_header("Location", reply.location)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read stdout; nothing here is worth a line per request."""


def _testing_reply(server: SandboxServer, method: str, path: str, body: bytes) -> Reply:
    """The sandbox's own routes for tests and the demo: usage, new tokens, faults."""
    if path == USAGE_PATH and method == "GET":
        return _json_reply(200, server.meter.as_json())
    if path == GRANT_PATH and method == "POST":
        return _json_reply(200, server.new_grant())
    if path == FAULT_PATH and method == "POST":
        wanted = json.loads(body or b"{}")
        server.inject(str(wanted.get("fault")), int(wanted.get("count", 1)))
        return _json_reply(200, {})
    return _json_reply(405, {"error": f"{method} {path} is not allowed"})


def _json_object(body: bytes) -> dict[str, Any]:
    """The JSON object a request carries; {} for anything else."""
    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}
