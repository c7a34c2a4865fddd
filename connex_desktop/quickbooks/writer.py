"""The QuickBooks Online writer: request ids, batches of 30, a few in flight, typed outcomes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from connex_desktop.core.quickbooks_rules import BATCH_MAX_OPERATIONS
from connex_desktop.core.writing import (
    NameTaken,
    NumberTaken,
    Refused,
    SentRequest,
    StaleReference,
    Stored,
    Unanswered,
    Write,
    WriteOutcome,
)
from connex_desktop.quickbooks.client import (
    BatchOperation,
    BatchOutcome,
    QuickBooksClient,
    quoted,
)
from connex_desktop.quickbooks.errors import QuickBooksCode, QuickBooksFault

IN_FLIGHT_REQUESTS = 4   # requests sent at once (QuickBooks allows 10 concurrent per company)
PLAIN_REQUESTS_MAX = 3   # rounds this small go as plain requests, not a batch
# A reference QuickBooks no longer takes: made inactive (610, 6250) or gone (2500, 610).
STALE_REFERENCE_CODES = frozenset({QuickBooksCode.NOT_FOUND, QuickBooksCode.MISSING_REFERENCE,
                                   QuickBooksCode.CUSTOMER_GONE})


def name_field(entity: str) -> str:
    """The field that holds a list record's name: unique across customers, vendors and
    employees, and across items."""
    return "DisplayName" if entity in ("Customer", "Vendor", "Employee") else "Name"


class QuickBooksOnlineWriter:
    """Creates records in one QuickBooks Online company through its client.

    A write's request id is "<batch id>/<bId>" inside a batch and the batch id alone for a
    plain request, so a write read back from the ledger is sent again the way it went first.
    """

    operations_per_request = BATCH_MAX_OPERATIONS

    def __init__(self, client: QuickBooksClient, *,
                 in_flight: int = IN_FLIGHT_REQUESTS) -> None:
        self.client = client
        self.in_flight = in_flight

    def with_request_ids(self, writes: Sequence[Write]) -> list[Write]:
        # A few writes go as plain requests: a batch of one would spend one of the company's
        # 40 batches a minute for nothing.
        plain = len(writes) <= PLAIN_REQUESTS_MAX
        size = 1 if plain else self.operations_per_request
        given: list[Write] = []
        for start in range(0, len(writes), size):
            batch_id = str(uuid.uuid4())
            for index, write in enumerate(writes[start:start + size]):
                request_id = batch_id if plain else f"{batch_id}/b{index}"
                given.append(replace(write, request_id=request_id))
        return given

    def send(self, writes: Sequence[Write]) -> list[SentRequest]:
        requests: dict[str, list[Write]] = {}
        for write in writes:
            batch_id, bid = _split_request_id(write.request_id)
            requests.setdefault(batch_id if bid else write.request_id, []).append(write)
        with ThreadPoolExecutor(max_workers=self.in_flight) as pool:
            return list(pool.map(self._send_request, requests.values()))

    def holders_of_numbers(self, wanted: Iterable[tuple[str, str]]
                           ) -> dict[tuple[str, str], dict[str, Any]]:
        by_kind: dict[str, set[str]] = {}
        for kind, number in wanted:
            by_kind.setdefault(kind, set()).add(number)
        return {(kind, str(document.get("DocNumber", ""))): document
                for kind, numbers in by_kind.items()
                for document in self.client.query_in(kind, "DocNumber", numbers)}

    def holders_of_name(self, entity: str, name: str) -> list[dict[str, Any]]:
        # A plain query returns active records only.
        return self.client.query_all(
            entity, f"{name_field(entity)} = {quoted(name)} AND Active IN (true, false)")

    def reactivate(self, entity: str, record: Mapping[str, Any]) -> dict[str, Any]:
        body = {"Id": record["Id"], "SyncToken": record["SyncToken"], "sparse": True,
                "Active": True}
        return self.client.update(entity, body, request_id=str(uuid.uuid4()))

    def delete(self, entity: str, record: Mapping[str, Any]) -> None:
        try:
            self.client.delete(entity, str(record.get("Id", "")),
                               str(record.get("SyncToken", "0")), request_id=str(uuid.uuid4()))
        except QuickBooksFault as fault:
            if fault.code != QuickBooksCode.NOT_FOUND:
                raise

    def _send_request(self, writes: list[Write]) -> SentRequest:
        batch_id, bid = _split_request_id(writes[0].request_id)
        if not bid:
            write = writes[0]
            send = self.client.update if write.is_update else self.client.create
            try:
                created = send(write.entity, dict(write.body), request_id=write.request_id)
            except QuickBooksFault as fault:
                return SentRequest((_not_stored(write, fault),))
            return SentRequest((Stored(write, created),))
        operations = [BatchOperation(_split_request_id(write.request_id)[1],
                                     "update" if write.is_update else "create", write.entity,
                                     dict(write.body)) for write in writes]
        try:
            answers = self.client.batch(operations, request_id=batch_id)
        except QuickBooksFault as fault:
            return SentRequest(tuple(Unanswered(write, fault) for write in writes), fault)
        return SentRequest(tuple(_outcome(write, answer)
                                 for write, answer in zip(writes, answers, strict=True)))


def _outcome(write: Write, answer: BatchOutcome) -> WriteOutcome:
    if answer.fault is not None:
        return _not_stored(write, answer.fault)
    return Stored(write, answer.entity or {})


def _not_stored(write: Write, fault: QuickBooksFault) -> WriteOutcome:
    if fault.code == QuickBooksCode.DUPLICATE_NUMBER and write.body.get("DocNumber"):
        return NumberTaken(write, fault)
    if fault.code == QuickBooksCode.NAME_TAKEN:
        return NameTaken(write, fault)
    if fault.code in STALE_REFERENCE_CODES:
        return StaleReference(write, fault)
    return Refused(write, fault)


def _split_request_id(request_id: str) -> tuple[str, str]:
    """(batch id, operation id) of a request id; the operation id is "" for a plain request."""
    batch_id, _, bid = request_id.partition("/")
    return batch_id, bid
