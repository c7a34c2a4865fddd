"""qbXML responses: each request's status as a typed outcome, and as the app's plain errors."""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from connex_desktop.core.errors import (
    ConnexError,
    OrderDataError,
    ReconnectError,
    RetryLaterError,
    SetupError,
)

EMPTY_QUERY = 1               # "A query request did not find a matching object"
LINKED_TXN_CLOSED = 570       # cannot link: the sales order is closed already
NO_STORED_STATE = 600         # error recovery: nothing kept under that message set id
CHECKSUM_MISMATCH = 9001      # error recovery: that message set id, sent with another body
# Someone is editing the record or list, or QuickBooks could not save: the same request
# usually goes through a little later.
BUSY = frozenset({1000, 3170, 3171, 3172, 3173, 3174, 3175, 3176, 3180, 3200})
SETUP = frozenset({530, 531, 1030, 3250, 3260, 3261, 3262})
# HRESULTs the Web Connector or the request processor report instead of a response.
HRESULT_PARSE_ERROR = 0x80040400
HRESULT_NO_ACCESS = 0x80040401           # could not access QuickBooks
HRESULT_COULD_NOT_START = 0x80040408     # file in use in another mode, another file open, moved
HRESULT_FILE_VERSION = 0x80040409        # this QuickBooks cannot open that company file
HRESULT_NOT_RUNNING = 0x80040416         # QuickBooks closed and no company file path given
HRESULT_NO_COMPANY_OPEN = 0x80040417     # QuickBooks open without a company, no path given
HRESULT_ACCESS_DENIED = 0x80040420
HRESULT_CLASS_NOT_REGISTERED = 0x80040154   # no request processor of this bitness installed
HRESULT_INVALID_CLASS_STRING = 0x800401F3   # no request processor installed at all
NOT_INSTALLED = ("QuickBooks Desktop's request processor is not installed for this app: "
                 "QuickBooks 2022 and later take this app directly; for an older (32-bit) "
                 "QuickBooks, install the 32-bit QuickBooks helper or use the Web Connector.")
# What the user does about each, in QuickBooks (Configure holds the company file's path).
HRESULT_ADVICE: dict[int, tuple[type[ConnexError], str]] = {
    HRESULT_NO_ACCESS: (SetupError, "QuickBooks Desktop could not be reached: open it, close "
                        "any window it shows (an update or backup prompt blocks other "
                        "programs), and try again."),
    HRESULT_COULD_NOT_START: (SetupError, "QuickBooks Desktop could not open the company file: "
                              "another company file is open, the file is open in another mode "
                              "(single-user on another computer), or it was moved or renamed: "
                              "open QuickBooks with the company file (and no other), switch it "
                              "to multi-user mode if others use it, check the path in "
                              "Configure, and try again."),
    HRESULT_FILE_VERSION: (SetupError, "This QuickBooks Desktop cannot open the company file: "
                           "it belongs to another QuickBooks version. Open it once in the "
                           "QuickBooks version you use (it offers to update the file)."),
    HRESULT_NOT_RUNNING: (SetupError, "QuickBooks Desktop is not running. Open it with the "
                          "company file, or enter the company file's full path in Configure "
                          "(QuickBooks then opens it itself, once its Administrator allowed "
                          "this app to sign in while QuickBooks is closed)."),
    HRESULT_NO_COMPANY_OPEN: (SetupError, "QuickBooks Desktop has no company file open. Open "
                              "the company file in QuickBooks, or enter its full path in "
                              "Configure."),
    HRESULT_ACCESS_DENIED: (ReconnectError, "QuickBooks Desktop refused this app: as the "
                            "QuickBooks Administrator, allow Connex Desktop under Edit, "
                            "Preferences, Integrated Applications (or answer Yes when "
                            "QuickBooks asks), then try again."),
    HRESULT_CLASS_NOT_REGISTERED: (SetupError, NOT_INSTALLED),
    HRESULT_INVALID_CLASS_STRING: (SetupError, NOT_INSTALLED),
    HRESULT_PARSE_ERROR: (OrderDataError, "QuickBooks Desktop could not read a request the "
                          "app sent."),
}
# QuickBooks' words when a 3140 is about an account in another currency (multicurrency).
WRONG_CURRENCY = ("The currency of the account must be either in home currency or the "
                  "transaction currency.")
# Which field an invalid-reference (3140) message is about, by the list it names.
REFERENCE_FIELDS = (("Customer", "Customer"), ("Vendor", "Vendor"), ("Item", "SKU"),
                    ("Account", "Account"), ("PaymentMethod", "Payment Method"),
                    ("Payment Method", "Payment Method"))


class Outcome(enum.StrEnum):
    OK = "ok"              # done
    EMPTY = "empty"        # a query that found nothing: not a failure
    WARNING = "warning"    # done, with something to check (500-999)
    ERROR = "error"


@dataclass(frozen=True)
class RequestResult:
    """One request's answer: its status and the records it returned (…Ret elements)."""

    name: str              # e.g. "InvoiceAddRs"
    request_id: str
    status_code: int
    severity: str
    message: str
    rets: tuple[ET.Element, ...] = ()
    iterator_id: str = ""
    remaining: int = 0

    @property
    def outcome(self) -> Outcome:
        if self.status_code == 0:
            return Outcome.OK
        if self.status_code == EMPTY_QUERY:
            return Outcome.EMPTY
        if self.severity.lower() != "error" and self.status_code < 1000:
            return Outcome.WARNING
        return Outcome.ERROR

    @property
    def ret(self) -> ET.Element | None:
        return self.rets[0] if self.rets else None

    def value(self, path: str) -> str:
        """A field of the first record, e.g. "TxnID" or "CustomerRef/FullName" ("" if none)."""
        ret = self.ret
        found = ret.findtext(path) if ret is not None else None
        return found or ""


@dataclass(frozen=True)
class MessageSetResult:
    """A whole response document; `status_code` is the message-set status (error recovery)."""

    results: tuple[RequestResult, ...] = ()
    status_code: int | None = None
    new_message_set_id: str = ""
    by_request: dict[str, RequestResult] = field(default_factory=dict, compare=False)

    def result(self, request_id: str) -> RequestResult:
        return self.by_request[request_id]

    @property
    def sent_changed(self) -> bool:
        """A message set sent again under its id with another body: nothing was booked."""
        return self.status_code == CHECKSUM_MISMATCH

    @property
    def kept_nothing(self) -> bool:
        """No result to read: QuickBooks kept no answer under the message set's id."""
        return self.status_code == NO_STORED_STATE or not self.results


def parse_response(document: str) -> MessageSetResult:
    """Parse a QBXMLMsgsRs document. Raises RetryLaterError when it is not qbXML at all."""
    try:
        root = ET.fromstring(document.encode("utf-8"))
    except ET.ParseError as error:
        raise RetryLaterError("QuickBooks Desktop sent an answer that could not be read.",
                              detail=str(error)) from error
    msgs = root.find("QBXMLMsgsRs")
    if msgs is None:
        raise RetryLaterError("QuickBooks Desktop sent an answer without any results.")
    results = tuple(_request_result(element) for element in msgs)
    code = msgs.get("messageSetStatusCode")
    return MessageSetResult(results, int(code) if code is not None else None,
                            msgs.get("newMessageSetID", ""),
                            {result.request_id: result for result in results})


def _request_result(element: ET.Element) -> RequestResult:
    rets = tuple(child for child in element if child.tag.endswith("Ret"))
    return RequestResult(element.tag, element.get("requestID", ""),
                         int(element.get("statusCode", "0")),
                         element.get("statusSeverity", ""), element.get("statusMessage", ""),
                         rets, element.get("iteratorID", ""),
                         int(element.get("iteratorRemainingCount", "0")))


def result_error(result: RequestResult, *, order: str = "", what: str = "") -> ConnexError:
    """A failed request as the error the user can act on; `what` names the document."""
    code = result.status_code
    words = f"QuickBooks Desktop said: {result.message} (status {code})"
    subject = what or "the request"
    if code in BUSY:
        return RetryLaterError(f"{subject} was not saved: someone is working on the same record "
                               "in QuickBooks, or it could not save just now. It is sent again "
                               "on the next sync.", detail=words, order=order)
    if code in SETUP:
        return SetupError(f"{subject} cannot be booked in this QuickBooks company: a feature it "
                          "needs is off, this edition does not have it, or the QuickBooks user "
                          "the app signs in as may not do it. Turn it on in QuickBooks "
                          "(Edit, Preferences) or use another user.", detail=words, order=order)
    if code == 3100:
        return OrderDataError(f"{subject}: the name is used already by another customer, vendor, "
                              "employee or other name in QuickBooks.", detail=words,
                              order=order, field="Customer Name")
    if code == 3140 and WRONG_CURRENCY.casefold() in result.message.casefold():
        return OrderDataError(f"{subject} names an account in another currency than its own: "
                              f"{result.message} A document books on accounts in its "
                              "customer's currency or the home currency: choose such an "
                              "account (in Configure, or by a rule on the order's currency).",
                              detail=words, order=order, field="Currency")
    if code == 3140:
        return OrderDataError(f"{subject} names something QuickBooks does not have: "
                              f"{result.message}", detail=words, order=order,
                              field=_reference_field(result.message))
    if code == LINKED_TXN_CLOSED:
        return OrderDataError(f"{subject}: its sales order is closed already (invoiced in "
                              "full or closed by hand), so it cannot be invoiced again.",
                              detail=words, order=order, field="Order Number")
    if code == 3210 and "pay more" in result.message.lower():
        return OrderDataError(f"{subject} pays more than the invoice still owes.",
                              detail=words, order=order, field="Amount Paid")
    return OrderDataError(f"{subject} was refused. {words}", detail=words, order=order)


def _reference_field(message: str) -> str:
    for word, field_name in REFERENCE_FIELDS:
        if f"QuickBooks {word}" in message or f"{word}Ref" in message:
            return field_name
    return ""


def hresult_error(hresult: int | str, message: str) -> ConnexError:
    """What the Web Connector or the request processor reported instead of an answer, as the
    error saying what to do; the raw HRESULT and QuickBooks' words stay in the detail."""
    code = int(hresult, 16) if isinstance(hresult, str) else hresult
    code &= 0xFFFFFFFF
    words = f"{message} (HRESULT 0x{code:08X})"
    error_class, advice = HRESULT_ADVICE.get(code, (RetryLaterError,
                                                    "QuickBooks Desktop did not answer."))
    return error_class(advice, detail=words)
