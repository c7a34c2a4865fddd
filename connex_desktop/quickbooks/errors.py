"""QuickBooks faults in plain words, grouped by what the user can do about them."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from connex_desktop.core.errors import ConnexError, ErrorKind
from connex_desktop.core.redaction import redact
from connex_desktop.core.retry_after import RETRYABLE_STATUSES

RECONNECT_PREFIX = "Reconnect to QuickBooks: "

class QuickBooksCode(StrEnum):
    """The QuickBooks error codes the app acts on, beyond telling the user what went wrong."""

    NOT_FOUND = "610"            # Object Not Found: deleted already, or never there
    MISSING_REFERENCE = "2500"   # a reference to a record QuickBooks does not have (deleted)
    TOKEN_REFUSED = "3200"       # the access token is stale: refresh it and ask again
    DUPLICATE_NUMBER = "6140"    # another document of the kind already has this DocNumber
    NAME_TAKEN = "6240"          # another customer, vendor, employee or item has this name
    CUSTOMER_GONE = "6250"       # the customer is inactive or no longer there


# Words more than one code or status shares.
_AUTHORISATION_GONE = (ErrorKind.RECONNECT,
                       "QuickBooks no longer accepts this app's authorisation.")
_TOKEN_REFUSED = (ErrorKind.RECONNECT, "QuickBooks did not accept the access token.")
_THROTTLED = (ErrorKind.RETRY_LATER,
              "QuickBooks is busy (too many requests for this company).")
_INTERNAL_ERROR = (ErrorKind.RETRY_LATER, "QuickBooks had an internal error.")
_BOOKS_CLOSED = (ErrorKind.FIX_DATA, "The books are closed for this document's date.")
_READS_USED_UP = (ErrorKind.QUOTA,
                  "QuickBooks' monthly allowance of data reads for this app is used up; syncing "
                  "resumes next month, or sooner once the app's allowance is raised (its Intuit "
                  "App Partner Program tier) and you sync by hand.")
# The monthly CorePlus quota's 429 shares the throttle's code 3001; only its words tell it apart.
_MONTHLY_QUOTA_WORDS = re.compile(r"month|coreplus|quota", re.IGNORECASE)

# QuickBooks error codes → (what the user can do, the problem in plain words).
_CODES: dict[str, tuple[ErrorKind, str]] = {
    "100": _AUTHORISATION_GONE,
    "110": _AUTHORISATION_GONE,
    "120": (ErrorKind.RECONNECT,
            "the QuickBooks user who connected this app no longer has access to the company."),
    "3100": _AUTHORISATION_GONE,
    QuickBooksCode.TOKEN_REFUSED: _TOKEN_REFUSED,
    "3001": _THROTTLED,
    "10000": _INTERNAL_ERROR,
    "500": (ErrorKind.FIX_DATA, "QuickBooks does not support this operation on this record."),
    "600": (ErrorKind.FIX_DATA, "QuickBooks saw this request id before for a different request."),
    QuickBooksCode.NOT_FOUND: (ErrorKind.FIX_DATA,
            "Something this document refers to does not exist in QuickBooks or is inactive."),
    "620": (ErrorKind.FIX_DATA, "QuickBooks cannot link this document to the one it refers to."),
    "1040": (ErrorKind.FIX_DATA, "Too many operations in one QuickBooks batch."),
    "2010": (ErrorKind.FIX_DATA, "QuickBooks does not know one of the fields sent."),
    "2020": (ErrorKind.FIX_DATA, "A field QuickBooks requires is missing."),
    "2030": (ErrorKind.FIX_DATA, "An id sent to QuickBooks is not valid."),
    "2050": (ErrorKind.FIX_DATA, "A value is longer than QuickBooks allows."),
    "2070": (ErrorKind.FIX_DATA, "A date is not valid for QuickBooks."),
    "2210": (ErrorKind.FIX_DATA, "An email address is not valid for QuickBooks."),
    QuickBooksCode.MISSING_REFERENCE: (ErrorKind.FIX_DATA,
                                       "A reference points to a record QuickBooks does not have."),
    "4000": (ErrorKind.FIX_DATA, "QuickBooks could not read a query."),
    "4001": (ErrorKind.FIX_DATA, "QuickBooks refused a query."),
    "4002": (ErrorKind.FIX_DATA, "QuickBooks could not run a query."),
    "5010": (ErrorKind.FIX_DATA,
             "The record was changed in QuickBooks meanwhile; it has to be read again."),
    "6000": (ErrorKind.FIX_DATA, "QuickBooks refused the document."),
    "6070": (ErrorKind.FIX_DATA, "A line's amount is not its quantity times its unit price."),
    "6090": (ErrorKind.FIX_DATA, "A discount line has neither an amount nor a percentage."),
    "6100": (ErrorKind.FIX_DATA, "A line's tax code is not valid for this company."),
    QuickBooksCode.DUPLICATE_NUMBER: (ErrorKind.FIX_DATA,
                                      "QuickBooks already has a document with this number."),
    "6170": (ErrorKind.FIX_DATA, "Tax details were sent on a document that takes no tax."),
    "6190": (ErrorKind.FIX_SETUP, "The QuickBooks company's subscription has ended."),
    "6200": _BOOKS_CLOSED,
    "6210": _BOOKS_CLOSED,
    "6220": (ErrorKind.FIX_DATA, "QuickBooks cannot delete a record that has a balance."),
    QuickBooksCode.NAME_TAKEN: (ErrorKind.FIX_DATA,
             "The name is already used by another customer, vendor, employee or item."),
    QuickBooksCode.CUSTOMER_GONE: (ErrorKind.FIX_DATA,
                                   "The customer does not exist in QuickBooks or is inactive."),
    "6270": (ErrorKind.FIX_DATA, "The document is dated before an item's inventory start date."),
    "6430": (ErrorKind.FIX_SETUP, "An item uses an account of the wrong type."),
    "6540": (ErrorKind.FIX_DATA, "A deposited transaction cannot be changed."),
    "10200": (ErrorKind.FIX_SETUP, "The QuickBooks company was reset; sync it again from scratch."),
}

_STATUS_WORDS: dict[int, tuple[ErrorKind, str]] = {
    401: _TOKEN_REFUSED,
    403: (ErrorKind.RECONNECT, "QuickBooks refused this app access to the company."),
    404: (ErrorKind.FIX_SETUP,
          "QuickBooks has no such address; check the company (realm) id and the environment."),
    413: (ErrorKind.FIX_DATA, "The request was too large for QuickBooks."),
    429: _THROTTLED,
    500: _INTERNAL_ERROR,
    502: (ErrorKind.RETRY_LATER, "QuickBooks is not reachable right now (bad gateway)."),
    503: (ErrorKind.RETRY_LATER, "QuickBooks is unavailable right now."),
    504: (ErrorKind.RETRY_LATER, "QuickBooks did not answer in time (gateway timeout)."),
}

_EXISTING_TXN_ID = re.compile(r"TxnId=(\w+)")


class QuickBooksFault(ConnexError):
    """A request QuickBooks refused or could not answer.

    `message` says in plain words what is wrong (and, for RECONNECT, starts with
    "Reconnect to QuickBooks: "); `detail` holds QuickBooks' own Message and Detail; `code` is
    QuickBooks' error code as a string (compare it with `QuickBooksCode`), or "" when the failure
    was not a QuickBooks fault (a timeout, a lost connection, an HTTP status without a body we
    read).
    """

    def __init__(self, message: str, *, kind: ErrorKind, code: str = "", detail: str = "",
                 element: str = "", status: int | None = None, order: str = "",
                 field: str = "") -> None:
        super().__init__(message, detail=detail, order=order, field=field or element, kind=kind)
        self.code = code
        self.element = element
        self.status = status

    @property
    def existing_id(self) -> str:
        """For a duplicate number (6140): the Id of the document that already has it, if named."""
        match = _EXISTING_TXN_ID.search(self.detail)
        return match.group(1) if match else ""

    def __repr__(self) -> str:
        return (f"QuickBooksFault(kind={self.kind.value!r}, code={self.code!r}, "
                f"status={self.status!r}, message={self.message!r})")


def reconnect_fault(reason: str, *, code: str = "", detail: str = "",
                    status: int | None = None) -> QuickBooksFault:
    """A fault the user fixes by connecting the QuickBooks company again."""
    return QuickBooksFault(RECONNECT_PREFIX + reason, kind=ErrorKind.RECONNECT, code=code,
                           detail=detail, status=status)


def fault_from_error(error: Mapping[str, Any], *, status: int | None = None,
                     extra_detail: str = "") -> QuickBooksFault:
    """One entry of a Fault's `Error` list (either envelope: `Message` or lower-case `message`)."""
    code = str(error.get("code") or error.get("Code") or "").lstrip("0")
    qb_message = str(error.get("Message") or error.get("message") or "")
    qb_detail = str(error.get("Detail") or error.get("detail") or "")
    element = str(error.get("element") or error.get("Element") or "")
    detail = "; ".join(part for part in (qb_message, qb_detail, extra_detail) if part)
    if _is_monthly_quota(status, detail):
        kind, words = _READS_USED_UP
    elif status in RETRYABLE_STATUSES:
        kind, words = _STATUS_WORDS[status]
    elif code in _CODES:
        kind, words = _CODES[code]
    elif status in _STATUS_WORDS:
        kind, words = _STATUS_WORDS[status]
    else:
        kind, words = ErrorKind.FIX_DATA, f"QuickBooks refused the request: {qb_message or code}."
    if element and kind is ErrorKind.FIX_DATA:
        words = f"{words.rstrip('.')} (field {element})."
    return _fault(kind, words, code=code, detail=detail, element=element, status=status)


def fault_from_fault(fault: Mapping[str, Any], *, status: int | None = None) -> QuickBooksFault:
    """A whole `Fault` object: its first error decides; the others are kept in `detail`."""
    errors = fault.get("Error") or fault.get("error") or []
    if not errors:
        return fault_from_status(status, body=str(fault.get("type") or ""))
    others = "; ".join(
        str(e.get("Message") or e.get("message") or "") + f" ({e.get('code', '')})"
        for e in errors[1:])
    return fault_from_error(errors[0], status=status, extra_detail=others)


def fault_from_status(status: int | None, *, body: str = "") -> QuickBooksFault:
    """An HTTP failure without a JSON Fault (e.g. a 429 with an XML body, an HTML 502)."""
    if status == 200:   # an answer that could not be read: asking again is safe (requestid)
        kind, words = ErrorKind.RETRY_LATER, "QuickBooks sent an answer that could not be read."
    else:
        kind, words = _STATUS_WORDS.get(
            status or 0, (ErrorKind.FIX_DATA, f"QuickBooks answered with HTTP status {status}."))
    return _fault(kind, words, detail=_shorten(redact(_without_markup(body))), status=status)


def fault_from_response(status: int, body: str) -> QuickBooksFault:
    """Any failed response: the Fault when there is one (either JSON envelope, or XML, as the
    throttling answer is), else the status."""
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        fault = parsed.get("Fault") or parsed.get("fault")
        if isinstance(fault, dict):
            return fault_from_fault(fault, status=status)
    xml_fault = _xml_fault(body)
    if xml_fault is not None:
        return fault_from_fault(xml_fault, status=status)
    return fault_from_status(status, body=body)


def connection_fault(problem: str) -> QuickBooksFault:
    """No answer at all: a timeout or a lost connection. Safe to retry (requestid)."""
    return QuickBooksFault(f"Could not reach QuickBooks: {problem}", kind=ErrorKind.RETRY_LATER)


def _is_monthly_quota(status: int | None, detail: str) -> bool:
    """A 429 that says the month's CorePlus calls are used up: asking again before next month
    only adds refusals, unlike the per-minute throttle's 429."""
    return status == 429 and _MONTHLY_QUOTA_WORDS.search(detail) is not None


def _fault(kind: ErrorKind, words: str, *, code: str = "", detail: str = "", element: str = "",
           status: int | None = None) -> QuickBooksFault:
    """A fault of `kind` in `words`; a RECONNECT one is worded as `reconnect_fault` words it."""
    if kind is ErrorKind.RECONNECT:
        return reconnect_fault(words, code=code, detail=detail, status=status)
    return QuickBooksFault(words, kind=kind, code=code, detail=detail, element=element,
                           status=status)


def _xml_fault(body: str) -> dict[str, Any] | None:
    """An XML `<Fault><Error code=…><Message/><Detail/></Error></Fault>` as the JSON Fault
    object it stands for; None when the body holds no such Fault."""
    try:
        root = ElementTree.fromstring(body.strip())
    except ElementTree.ParseError:
        return None
    fault = next((element for element in root.iter() if _local_name(element.tag) == "Fault"),
                 None)
    if fault is None:
        return None
    errors = []
    for error in fault:
        if _local_name(error.tag) == "Error":
            entry: dict[str, Any] = {"code": error.get("code", ""),
                                     "element": error.get("element", "")}
            for part in error:
                entry[_local_name(part.tag)] = " ".join("".join(part.itertext()).split())
            errors.append(entry)
    return {"Error": errors, "type": fault.get("type", "")}


def _local_name(tag: str) -> str:
    """`{http://schema.intuit.com/finance/v3}Fault` → `Fault`."""
    return tag.rpartition("}")[2]


def _without_markup(body: str) -> str:
    """The text of an HTML or XML body, so no markup reaches a message the user reads."""
    return re.sub(r"<[^>]*>", " ", body)


def _shorten(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
