"""The QuickBooks Online client: python-quickbooks requests with limits, retries, token refresh."""

from __future__ import annotations

import functools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from oauthlib.oauth2 import is_secure_transport
from oauthlib.oauth2.rfc6749.errors import InsecureTransportError
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.mixins import DecimalEncoder
from requests_oauthlib import OAuth2Session

from connex_desktop.core.connection import QuickBooksCompany
from connex_desktop.core.errors import ErrorKind
from connex_desktop.core.progress import CancelToken
from connex_desktop.core.quickbooks_rules import (
    BATCH_ID_MAX_CHARS,
    BATCH_MAX_OPERATIONS,
    BATCH_REQUEST_ID_MAX_CHARS,
    QUERY_MAX_RESULTS,
    REQUEST_ID_MAX_CHARS,
)
from connex_desktop.core.redaction import redact
from connex_desktop.core.result import QuickBooksUsage
from connex_desktop.core.transport import UnsafeRedirect, refuse_unsafe_redirect
from connex_desktop.core.writing import DocumentWriter
from connex_desktop.quickbooks.auth import QuickBooksAuth, api_base_url
from connex_desktop.quickbooks.errors import (
    QuickBooksCode,
    QuickBooksFault,
    connection_fault,
    fault_from_fault,
    fault_from_response,
    reconnect_fault,
)
from connex_desktop.quickbooks.ratelimit import (
    BackoffPolicy,
    RateLimiter,
    limiter_for_realm,
    parse_retry_after,
)

log = logging.getLogger(__name__)

MINOR_VERSION = 75
# QuickBooks lets a request run up to 120 s before it times out: a shorter wait gives up on
# writes that may still commit.
REQUEST_TIMEOUT_S = 120.0
THROTTLED_STATUS = 429
# Whom a pause waits for, as the window says it: "Waiting for QuickBooks' limit".
QUICKBOOKS_LIMIT = "QuickBooks' limit"
QUICKBOOKS_TO_ANSWER = "QuickBooks to answer again"
# Values listed in one `IN (…)` of a query (our own choice): each query text stays short.
QUERY_IN_MAX_VALUES = 100
BATCH_OPERATIONS = frozenset({"create", "update", "delete"})
# Voiding: an Invoice has its own operation; the others are a sparse update with include=void.
_VOID_OWN_OPERATION = frozenset({"Invoice"})
# What one request costs in Intuit's metering (reads, writes): reads are CorePlus calls, metered
# and capped per month; writes are Core calls, free.
_READ = (1, 0)
_WRITE = (0, 1)

_T = TypeVar("_T")


@dataclass(frozen=True)
class BatchOperation:
    """One item of a batch: create, update or delete one entity (e.g. "Invoice")."""

    bid: str
    operation: str
    entity: str
    body: dict[str, Any]


@dataclass(frozen=True)
class BatchOutcome:
    """What QuickBooks answered for one batch item: the entity it stored, or its fault."""

    bid: str
    entity: dict[str, Any] | None
    fault: QuickBooksFault | None

    @property
    def ok(self) -> bool:
        return self.fault is None


class _Transport(QuickBooks):
    """python-quickbooks' client with a request timeout, a bearer token set per request, and
    the last HTTP response kept (the library drops the status and Retry-After on errors)."""

    timeout_s: float = REQUEST_TIMEOUT_S
    bearer_token: str = ""
    last_response: requests.Response | None = None

    def process_request(self, request_type: str, url: str, headers: Any = None,
                        params: Any = None, data: Any = None) -> requests.Response:
        if self.session is None:
            raise QuickbooksException("No session manager")
        headers = dict(headers or {})
        headers["Authorization"] = "Bearer " + self.bearer_token
        self.last_response = None
        response = self.session.request(request_type, url, headers=headers, params=params,
                                        data=data, timeout=self.timeout_s)
        self.last_response = response
        return response


class QuickBooksClient:
    """Requests to one QuickBooks company, safe to share between threads.

    Every thread gets its own python-quickbooks client and HTTP session; all share the auth
    (one refresh at a time) and the company's rate limiter. Retryable failures (429, 5xx,
    timeouts, lost connections) are retried with back-off, honouring Retry-After; writes carry
    the caller's requestid so a retried write is answered, not repeated, by QuickBooks.
    """

    lists_kept = True   # change data capture keeps lists read in earlier runs current

    def __init__(self, company: QuickBooksCompany, auth: QuickBooksAuth, *,
                 limiter: RateLimiter | None = None, timeout_s: float = REQUEST_TIMEOUT_S,
                 max_retries: int = 5, sleep: Callable[[float], None] = time.sleep,
                 backoff: BackoffPolicy | None = None) -> None:
        if not company.connected:
            raise QuickBooksFault("This connection is not connected to a QuickBooks company.",
                                  kind=ErrorKind.FIX_SETUP)
        self.company = company
        self.auth = auth
        self._limiter = limiter or limiter_for_realm(company.realm_id)
        self._api_url = api_base_url(company.environment)
        if not is_secure_transport(self._api_url):
            # Said now, before a refresh spends the refresh token on a request that is refused.
            raise _insecure_transport()
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._sleep = sleep
        self._backoff = backoff or BackoffPolicy()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._transports: list[_Transport] = []
        self.request_count = 0      # HTTP requests actually sent to the API (retries included)
        self.retry_count = 0
        self._reads = 0             # metered reads sent (CorePlus), retries included
        self._writes = 0            # writes sent (Core), each operation of a batch
        # Told when a wait for a limit or a retry begins (its seconds) and ends (0); see heed.
        self.on_pause: Callable[[float, str], None] = _nobody_listens

    def heed(self, cancel: CancelToken) -> None:
        self.on_pause = cancel.pausing

    def usage(self) -> QuickBooksUsage:
        """The metered reads, writes and HTTP requests this client has sent."""
        with self._lock:
            return QuickBooksUsage(self._reads, self._writes, self.request_count)

    def writer(self, *, in_flight: int) -> DocumentWriter:
        """The writer that books through this client."""
        # Imported here: the writer is built on this module.
        from connex_desktop.quickbooks.writer import QuickBooksOnlineWriter
        return QuickBooksOnlineWriter(self, in_flight=in_flight)

    def __repr__(self) -> str:
        return f"QuickBooksClient(realm_id={self.company.realm_id!r}, api={self._api_url!r})"

    def __enter__(self) -> QuickBooksClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every thread's HTTP session."""
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.session.close()
        self._local = threading.local()

    # ---- reading -------------------------------------------------------------------------

    def query(self, sql: str) -> list[dict[str, Any]]:
        """One page of a query: the list of entities (empty when there are none)."""
        response = self._call(lambda qb: qb.query(sql))
        return _entity_list(response.get("QueryResponse") or {})

    def query_all(self, entity: str, where: str = "") -> list[dict[str, Any]]:
        """Every matching entity, paged by 1000 until a page comes back short; ordered by Id,
        so records written meanwhile cannot shift a page and skip or repeat one."""
        select = "SELECT *, Sku FROM Item" if entity == "Item" else f"SELECT * FROM {entity}"
        if where:
            select += f" WHERE {where}"
        select += " ORDERBY Id"
        found: list[dict[str, Any]] = []
        start = 1
        while True:
            page = self.query(f"{select} STARTPOSITION {start} MAXRESULTS {QUERY_MAX_RESULTS}")
            found.extend(page)
            if len(page) < QUERY_MAX_RESULTS:
                return found
            start += QUERY_MAX_RESULTS

    def query_in(self, entity: str, field: str, values: Iterable[str]) -> list[dict[str, Any]]:
        """Every entity whose `field` is one of `values`, asked for a hundred values at a time."""
        ordered = sorted(set(values))
        found: list[dict[str, Any]] = []
        for start in range(0, len(ordered), QUERY_IN_MAX_VALUES):
            chunk = ordered[start:start + QUERY_IN_MAX_VALUES]
            listed = ", ".join(quoted(value) for value in chunk)
            found.extend(self.query_all(entity, f"{field} IN ({listed})"))
        return found

    def count(self, entity: str, where: str = "") -> int:
        sql = f"SELECT COUNT(*) FROM {entity}" + (f" WHERE {where}" if where else "")
        response = self._call(lambda qb: qb.query(sql))
        return int((response.get("QueryResponse") or {}).get("totalCount", 0))

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        _check_entity(entity)
        response = self._call(lambda qb: qb.get_single_object(entity, entity_id))
        return dict(response[entity])

    def cdc(self, entities: Sequence[str],
            changed_since: datetime) -> tuple[dict[str, list[dict[str, Any]]], datetime]:
        """Change data capture: per entity, its records changed since then (deleted ones as
        stubs with status "Deleted"), in one metered read; and QuickBooks' time of the answer."""
        params = {"entities": ",".join(entities),
                  "changedSince": changed_since.isoformat(timespec="seconds")}
        response = self._call(lambda qb: qb.get(self._company_url(qb, "cdc"),
                                                params=dict(params)))
        changes: dict[str, list[dict[str, Any]]] = {entity: [] for entity in entities}
        for answer in response.get("CDCResponse") or []:
            for query_response in answer.get("QueryResponse") or []:
                for entity, records in query_response.items():
                    if isinstance(records, list):
                        changes.setdefault(entity, []).extend(records)
        return changes, _answer_time(response)

    def preferences(self) -> dict[str, Any]:
        response = self._call(lambda qb: qb.get(self._company_url(qb, "preferences")))
        return dict(response["Preferences"])

    @functools.cached_property
    def _company_info(self) -> dict[str, Any]:
        response = self._call(
            lambda qb: qb.get_single_object("CompanyInfo", self.company.realm_id))
        return dict(response["CompanyInfo"])

    def company_info(self) -> dict[str, Any]:
        """The company's info, read once per client (a run): it is a metered read."""
        return dict(self._company_info)

    # ---- writing (every write carries the caller's requestid) ----------------------------

    def create(self, entity: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        _check_entity(entity)
        _check_request_id(request_id, REQUEST_ID_MAX_CHARS)
        data = _to_json(body)
        response = self._call(lambda qb: qb.create_object(entity, data, request_id=request_id),
                              cost=_WRITE)
        return dict(response[entity])

    def update(self, entity: str, body: dict[str, Any], *, request_id: str) -> dict[str, Any]:
        """A full update, or a sparse one when `body["sparse"]` is true; needs Id and SyncToken."""
        _check_entity(entity)
        _check_request_id(request_id, REQUEST_ID_MAX_CHARS)
        if not body.get("Id") or "SyncToken" not in body:
            raise ValueError(f"An update of a {entity} needs its Id and SyncToken.")
        data = _to_json(body)
        response = self._call(lambda qb: qb.update_object(entity, data, request_id=request_id),
                              cost=_WRITE)
        return dict(response[entity])

    def void(self, entity: str, entity_id: str, sync_token: str, *,
             request_id: str) -> dict[str, Any]:
        _check_entity(entity)
        _check_request_id(request_id, REQUEST_ID_MAX_CHARS)
        body: dict[str, Any] = {"Id": entity_id, "SyncToken": sync_token}
        if entity in _VOID_OWN_OPERATION:
            params = {"operation": "void"}
        else:
            params = {"operation": "update", "include": "void"}
            body["sparse"] = True
        data = _to_json(body)
        # python-quickbooks adds to the params dict it is given: a fresh copy per attempt.
        response = self._call(lambda qb: qb.post(
            self._company_url(qb, entity.lower()), data, params=dict(params),
            request_id=request_id), cost=_WRITE)
        return dict(response[entity])

    def delete(self, entity: str, entity_id: str, sync_token: str, *, request_id: str) -> None:
        """Delete a transaction (name-list entities cannot be deleted, only made inactive)."""
        _check_entity(entity)
        _check_request_id(request_id, REQUEST_ID_MAX_CHARS)
        data = _to_json({"Id": entity_id, "SyncToken": sync_token})
        self._call(lambda qb: qb.delete_object(entity, data, request_id=request_id),
                   cost=_WRITE)

    def batch(self, operations: Sequence[BatchOperation], *,
              request_id: str) -> list[BatchOutcome]:
        """Up to 30 independent operations in one request; one outcome per operation, in order.

        Items cannot see what earlier items of the same batch created, and some may fail while
        others succeed: each outcome has the stored entity or the item's own fault.
        """
        _check_batch(operations, request_id)
        data = _to_json({"BatchItemRequest": [
            {"bId": op.bid, "operation": op.operation, op.entity: op.body} for op in operations]})
        response = self._call(lambda qb: qb.post(
            self._company_url(qb, "batch"), data, request_id=request_id), batch=True,
            cost=(0, len(operations)))
        answers = {str(item.get("bId")): item for item in response.get("BatchItemResponse", [])}
        return [_batch_outcome(op, answers.get(op.bid)) for op in operations]

    # ---- the request loop ----------------------------------------------------------------

    def _call(self, send: Callable[[_Transport], _T], *, batch: bool = False,
              cost: tuple[int, int] = _READ) -> _T:
        qb = self._transport()
        retries = 0
        refreshed = False
        while True:
            token = self.auth.access_token()
            qb.bearer_token = token
            self._count_sent(cost)
            outcome = self._attempt(qb, send, batch)
            if not isinstance(outcome, QuickBooksFault):
                return outcome
            fault = outcome
            if fault.status == 401 or fault.code == QuickBooksCode.TOKEN_REFUSED:
                if refreshed:
                    raise reconnect_fault(
                        "QuickBooks refused the access token even after a refresh.",
                        code=fault.code, detail=fault.detail, status=fault.status)
                self.auth.refresh(stale_token=token)
                refreshed = True
                continue
            if fault.kind is not ErrorKind.RETRY_LATER:
                raise fault
            if retries >= self.max_retries:
                raise _gave_up(fault, retries + 1)
            response = qb.last_response
            retry_after = parse_retry_after(
                response.headers.get("Retry-After") if response is not None else None)
            throttled = fault.status == THROTTLED_STATUS
            delay_s = self._backoff.delay_s(retries, retry_after, throttled=throttled)
            retries += 1
            with self._lock:
                self.retry_count += 1
            log.warning("QuickBooks: %s Retry %d of %d in %.1f s.",
                        fault.message, retries, self.max_retries, delay_s)
            self.on_pause(delay_s, QUICKBOOKS_LIMIT if throttled or retry_after is not None
                          else QUICKBOOKS_TO_ANSWER)
            self._sleep(delay_s)
            self.on_pause(0, "")

    def _on_limiter_pause(self, seconds: float) -> None:
        self.on_pause(seconds, QUICKBOOKS_LIMIT if seconds else "")

    def _count_sent(self, cost: tuple[int, int]) -> None:
        reads, writes = cost
        with self._lock:
            self._reads += reads
            self._writes += writes

    def _attempt(self, qb: _Transport, send: Callable[[_Transport], _T],
                 batch: bool) -> _T | QuickBooksFault:
        """Send once under the limiter; the answer, or the fault it ended in."""
        with self._limiter.slot(batch=batch, on_pause=self._on_limiter_pause):
            with self._lock:
                self.request_count += 1
            try:
                return send(qb)
            except QuickbooksException as error:
                response = qb.last_response
                if response is None:
                    return QuickBooksFault(f"QuickBooks client error: {error.message}",
                                           kind=ErrorKind.FIX_SETUP)
                return fault_from_response(response.status_code, response.text)
            except requests.Timeout:
                return connection_fault(f"no answer within {self.timeout_s:g} s.")
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                return connection_fault("the connection was lost before the answer arrived.")
            except InsecureTransportError:
                return _insecure_transport()
            except UnsafeRedirect as refused:
                return QuickBooksFault(f"QuickBooks at {refused.message}",
                                       kind=ErrorKind.FIX_SETUP)

    def _transport(self) -> _Transport:
        qb: _Transport | None = getattr(self._local, "qb", None)
        if qb is None:
            # Built without an auth_client: python-quickbooks would otherwise refresh (and
            # rotate) the tokens itself whenever it has no access token.
            qb = _Transport(company_id=self.company.realm_id, minorversion=MINOR_VERSION,
                            use_decimal=True)
            qb.sandbox = False
            qb.api_url_v3 = self._api_url
            qb.session = OAuth2Session(self.company.client_id)
            qb.session.hooks["response"].append(refuse_unsafe_redirect)
            qb.timeout_s = self.timeout_s
            self._local.qb = qb
            with self._lock:
                self._transports.append(qb)
        return qb

    @staticmethod
    def _company_url(qb: _Transport, path: str) -> str:
        return f"{qb.api_url}/company/{qb.company_id}/{path}"


def _entity_list(query_response: dict[str, Any]) -> list[dict[str, Any]]:
    for value in query_response.values():
        if isinstance(value, list):
            return value
    return []


def _answer_time(response: Mapping[str, Any]) -> datetime:
    """The time QuickBooks stamped on its answer (this computer's clock when it has none)."""
    try:
        return datetime.fromisoformat(str(response["time"]))
    except (KeyError, ValueError):
        return datetime.now(UTC)


def _batch_outcome(op: BatchOperation, answer: dict[str, Any] | None) -> BatchOutcome:
    if answer is None:
        fault = QuickBooksFault(
            "QuickBooks gave no answer for this item of the batch; look the document up "
            "before sending it again.", kind=ErrorKind.RETRY_LATER)
        return BatchOutcome(op.bid, None, fault)
    if "Fault" in answer:
        return BatchOutcome(op.bid, None, fault_from_fault(answer["Fault"]))
    entity = answer.get(op.entity)
    if entity is None:
        entity = next((v for k, v in answer.items() if k != "bId" and isinstance(v, dict)), {})
    return BatchOutcome(op.bid, dict(entity), None)


def _insecure_transport() -> QuickBooksFault:
    return QuickBooksFault(
        "QuickBooks must be reached over https (plain http only to a sandbox on this computer, "
        "with OAUTHLIB_INSECURE_TRANSPORT=1).", kind=ErrorKind.FIX_SETUP)


def _gave_up(fault: QuickBooksFault, attempts: int) -> QuickBooksFault:
    return QuickBooksFault(f"{fault.message} Gave up after {attempts} attempts; try again later.",
                           kind=ErrorKind.RETRY_LATER, code=fault.code, detail=fault.detail,
                           status=fault.status)


def _check_entity(entity: str) -> None:
    if entity not in QuickBooks._BUSINESS_OBJECTS:
        raise ValueError(f"{entity!r} is not a QuickBooks Online entity.")


def _check_request_id(request_id: str, max_chars: int) -> None:
    if not request_id or len(request_id) > max_chars:
        raise ValueError(f"A requestid must have 1 to {max_chars} characters: {request_id!r}.")


def _check_batch(operations: Sequence[BatchOperation], request_id: str) -> None:
    _check_request_id(request_id, BATCH_REQUEST_ID_MAX_CHARS)
    if not operations:
        raise ValueError("A batch needs at least one operation.")
    if len(operations) > BATCH_MAX_OPERATIONS:
        raise ValueError(f"A batch holds at most {BATCH_MAX_OPERATIONS} operations, "
                         f"not {len(operations)}.")
    bids = [op.bid for op in operations]
    if len(set(bids)) != len(bids):
        raise ValueError("Batch ids (bId) must be unique within a batch.")
    for op in operations:
        if not op.bid or len(op.bid) > BATCH_ID_MAX_CHARS:
            raise ValueError(f"A batch id must have 1 to {BATCH_ID_MAX_CHARS} characters: "
                             f"{op.bid!r}.")
        if op.operation not in BATCH_OPERATIONS:
            raise ValueError(f"Batch operations are create, update or delete, "
                             f"not {op.operation!r}.")
        _check_entity(op.entity)


def quoted(text: str) -> str:
    """`text` as a string literal of QuickBooks' query language."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _to_json(body: Any) -> str:
    # Amounts as their exact decimal text, the way python-quickbooks sends its own objects:
    # a float would turn 12345678901234567.89 into ...568.
    return json.dumps(body, cls=DecimalEncoder)


class _RedactTokens(logging.Filter):
    """requests-oauthlib logs request headers at DEBUG level; keep tokens out of any log."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        redacted = redact(text)
        if redacted != text:
            record.msg, record.args = redacted, ()
        return True


logging.getLogger("requests_oauthlib.oauth2_session").addFilter(_RedactTokens())


def _nobody_listens(_seconds: float, _reason: str) -> None:
    """The pause listener of a client outside a sync run."""
