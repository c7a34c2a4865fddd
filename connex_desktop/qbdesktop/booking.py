"""Writes that book once: each in its own message set QuickBooks keeps the outcome of, and a
look-up by number that recognises a document as ours."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from connex_desktop.core.connection import QuickBooksProduct
from connex_desktop.core.errors import SetupError
from connex_desktop.core.plan import names_order
from connex_desktop.core.result import DocumentKind
from connex_desktop.qbdesktop.qbxml import external_guid, message_set
from connex_desktop.qbdesktop.requests import TXN_TYPES, query_request
from connex_desktop.qbdesktop.responses import (
    Outcome,
    RequestResult,
    parse_response,
    result_error,
)
from connex_desktop.qbdesktop.transport import QbXmlProcessor


def write_document(requests: Sequence[ET.Element], message_set_id: str) -> str:
    """One write in a message set of its own that QuickBooks keeps the outcome of. Build it
    once, keep it (the ledger's payload), and send exactly these bytes again after any doubt:
    QuickBooks then answers what it kept instead of booking twice."""
    return message_set(requests, new_id=message_set_id)


def write(processor: QbXmlProcessor, document: str, *, order: str = "",
          what: str = "") -> RequestResult:
    """Send one write's document; its result, or the error the user can act on."""
    answer = parse_response(processor.process(document))
    if answer.sent_changed:
        raise SetupError(f"{what or 'A document'} was sent again changed, under the id of one "
                         "QuickBooks booked already; nothing was booked. Report this.",
                         order=order)
    if answer.kept_nothing:
        raise SetupError(f"QuickBooks Desktop kept no answer for {what or 'the document'}; look "
                         "it up before sending it again.", order=order)
    result = answer.results[0]
    if result.outcome is Outcome.ERROR:
        raise result_error(result, order=order, what=what)
    return result


def find_booked(processor: QbXmlProcessor, kind: DocumentKind, ref_number: str, order: str,
                external_key: str) -> RequestResult | None:
    """The document this app booked for `order` under `ref_number`, if QuickBooks has it.
    RefNumber is not unique in QuickBooks, so a match must carry our ExternalGUID, or (booked
    before it had one, or imported) name the order in its memo."""
    query = query_request(TXN_TYPES[kind], "1", ref_number=ref_number)
    result = parse_response(processor.process(message_set([query]))).results[0]
    if result.outcome is Outcome.ERROR:
        raise result_error(result, order=order, what=f"Looking up "
                           f"{kind.label_in(QuickBooksProduct.DESKTOP)} {ref_number}")
    guid = external_guid(external_key)
    for ret in result.rets:
        theirs = ret.findtext("ExternalGUID")
        if theirs == guid or (not theirs and names_order(ret.findtext("Memo", ""), order)):
            return RequestResult(result.name, result.request_id, 0, "Info", "", (ret,))
    return None
