"""The QuickBooks Desktop writer: each write its own message set, built once, kept in the ledger
with the document, and sent again byte for byte after any doubt."""

from __future__ import annotations

import contextlib
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from connex_desktop.core.errors import ConnexError, ErrorKind, OrderDataError
from connex_desktop.core.money import ZERO
from connex_desktop.core.plan import PlannedDocument
from connex_desktop.core.result import DocumentKind
from connex_desktop.core.writing import (
    NameTaken,
    Refused,
    SentRequest,
    StaleReference,
    Stored,
    Unanswered,
    Write,
    WriteOutcome,
)
from connex_desktop.qbdesktop.qbxml import message_set, message_set_id
from connex_desktop.qbdesktop.records import txn_record
from connex_desktop.qbdesktop.requests import (
    document_request,
    entity_request,
    purchase_order_mod,
    reactivate_request,
    refund_requests,
)
from connex_desktop.qbdesktop.responses import (
    Outcome,
    RequestResult,
    parse_response,
    result_error,
)
from connex_desktop.quickbooks.client import BatchOperation
from connex_desktop.quickbooks.errors import QuickBooksCode, QuickBooksFault
from connex_desktop.sync.desktop_company import (
    MESSAGE,
    UNBUILT,
    QuickBooksDesktop,
    as_faults,
    content,
    desktop_fault,
)

NAME_IN_USE = 3100
INVALID_REFERENCE = 3140
# The lists the engine creates records in, and the request that changes one of them.
MOD_REQUESTS = {"Customer": "CustomerMod", "Vendor": "VendorMod",
                "Item": "ItemNonInventoryMod"}


class DesktopWriter:
    """Creates records in one QuickBooks Desktop company file, one message set a write."""

    operations_per_request = 1

    def __init__(self, company: QuickBooksDesktop) -> None:
        self.company = company

    def with_request_ids(self, writes: Sequence[Write]) -> list[Write]:
        return [self._sealed(write, message_set_id(str(uuid.uuid4()))) for write in writes]

    def send(self, writes: Sequence[Write]) -> list[SentRequest]:
        sent = []
        for write in writes:
            outcome = self._send(write)
            fault = outcome.fault if isinstance(outcome, Unanswered) else None
            sent.append(SentRequest((outcome,), fault))
        return sent

    def holders_of_numbers(self, wanted: Iterable[tuple[str, str]]
                           ) -> dict[tuple[str, str], dict[str, Any]]:
        found = {}
        for kind, number in dict.fromkeys(wanted):
            document = self.company.holder_of_number(kind, number)
            if document is not None:
                found[(kind, number)] = document
        return found

    def holders_of_name(self, entity: str, name: str) -> list[dict[str, Any]]:
        """By full name, which finds inactive records too."""
        return [self.company.list_record(ret)
                for ret in self.company.query(entity, full_names=(name,))]

    def reactivate(self, entity: str, record: Mapping[str, Any]) -> dict[str, Any]:
        request = reactivate_request(MOD_REQUESTS[entity], str(record["Id"]),
                                     str(record["SyncToken"]), "1")
        result = parse_response(self.company.send(message_set([request]), write=True)).results[0]
        if result.outcome is Outcome.ERROR:
            raise desktop_fault(result_error(result, what=f"Reactivating {entity}"))
        return self.company.list_record(result.rets[0])

    def delete(self, entity: str, record: Mapping[str, Any]) -> None:
        operation = BatchOperation("d0", "delete", entity, {"Id": record.get("Id", "")})
        fault = self.company.batch([operation], request_id="")[0].fault
        if fault is not None and fault.code != QuickBooksCode.NOT_FOUND:
            raise fault

    # ---- one write -----------------------------------------------------------------------

    def _sealed(self, write: Write, request_id: str) -> Write:
        """The write with its message set built into its body, or why it cannot be. QuickBooks
        keeps the outcome of a message set under its id: the ledger keeps these bytes, and
        after any doubt they go again as they are, answered with what QuickBooks kept."""
        try:
            document = message_set(self._requests(write, request_id), new_id=request_id)
        except ConnexError as error:
            return Write(write.entity, dict(write.body, **{UNBUILT: [error.message, error.field]}),
                         request_id)
        return Write(write.entity, dict(write.body, **{MESSAGE: document}), request_id)

    def _requests(self, write: Write, request_id: str) -> list[ET.Element]:
        body = self.company.currencies.in_desktop_terms(write.entity, content(write.body))
        if write.entity in MOD_REQUESTS:
            return [entity_request(write.entity, body, request_id).element]
        kind = DocumentKind(write.entity)
        if write.is_update and kind is DocumentKind.PURCHASE_ORDER:
            return [purchase_order_mod(body, request_id, items=self.company.items)]
        planned = PlannedDocument(request_id, kind, body, ZERO, body.get("DocNumber"))
        build = refund_requests if kind is DocumentKind.REFUND_RECEIPT else document_request
        built = build(planned, "", request_id, items=self.company.items, external_key=request_id)
        return [request.element for request in
                (built if isinstance(built, list) else [built])]

    def _send(self, write: Write) -> WriteOutcome:
        document = write.body.get(MESSAGE)
        if not isinstance(document, str):
            message, field = write.body.get(UNBUILT) or ["it could not be written as qbXML.", ""]
            return Refused(write, desktop_fault(OrderDataError(message, field=field)))
        if write.entity == DocumentKind.PURCHASE_ORDER.value:
            try:
                with as_faults():
                    self.company.ensure_freight_item(write.body)
            except QuickBooksFault as refused:    # nothing of the purchase order was sent
                return Refused(write, refused)
        try:
            answer = parse_response(self.company.send(document, write=True))
        except QuickBooksFault as unanswered:
            return Unanswered(write, unanswered)
        except ConnexError as error:
            return Unanswered(write, desktop_fault(error))
        if answer.sent_changed:
            return Refused(write, QuickBooksFault(
                "it was sent again changed under the id of a message QuickBooks Desktop booked "
                "already; nothing was booked. Report this.", kind=ErrorKind.FIX_SETUP))
        if answer.kept_nothing:
            return Unanswered(write, QuickBooksFault(
                "QuickBooks Desktop kept no answer for it.", kind=ErrorKind.RETRY_LATER))
        result = next((each for each in answer.results if each.outcome is Outcome.ERROR),
                      answer.results[0])
        ret = answer.results[0].rets[0] if answer.results[0].rets else None
        if result.outcome is not Outcome.ERROR and ret is not None:
            if write.entity in MOD_REQUESTS:
                return Stored(write, self.company.list_record(ret))
            return Stored(write, self._closed_as_planned(write, txn_record(ret)))
        return self._refused(write, result, ret if result is not answer.results[0] else None)

    def _refused(self, write: Write, result: RequestResult,
                 booked_first: ET.Element | None) -> WriteOutcome:
        """A write QuickBooks refused, nothing of it left booked."""
        if booked_first is not None:
            # A refund's credit memo was booked but not the refund of it: the credit memo
            # alone would leave the customer a credit the store never gave.
            self.delete(write.entity, txn_record(booked_first))
        fault = desktop_fault(result_error(result), str(result.status_code))
        if fault.kind is ErrorKind.RETRY_LATER:
            self._forget_answer(write.request_id)
        if result.status_code == NAME_IN_USE:
            return NameTaken(write, fault)
        if result.status_code == INVALID_REFERENCE:
            return StaleReference(write, fault)
        return Refused(write, fault)

    def _forget_answer(self, message_set_id: str) -> None:
        """QuickBooks keeps its answer to a message set, a refusal too: a busy company file's
        is cleared, so that the same bytes, sent again by the next sync, are booked instead of
        answered busy again. Should the clearing go unanswered, that refusal clears again."""
        with contextlib.suppress(QuickBooksFault):
            self.company.send(message_set([], old_id=message_set_id))

    def _closed_as_planned(self, write: Write, record: dict[str, Any]) -> dict[str, Any]:
        """PurchaseOrderAdd cannot close a purchase order (the schema has no IsManuallyClosed
        there): one received or cancelled before it was booked is closed by a Mod right after,
        naming the EditSequence just answered. Booked it is either way; the record says if
        it is still open."""
        if (write.entity != DocumentKind.PURCHASE_ORDER.value or write.is_update
                or write.body.get("POStatus") != "Closed" or record.get("POStatus") == "Closed"):
            return record
        try:
            return self.company.update(write.entity, {"Id": record["Id"], "POStatus": "Closed",
                                                      "SyncToken": record["SyncToken"]},
                                       request_id=write.request_id)
        except QuickBooksFault:
            return record
