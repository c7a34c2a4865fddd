"""QuickBooks Online faults: the error the company raises and the bodies the service sends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VALIDATION_FAULT = "ValidationFault"
SYSTEM_FAULT = "SystemFault"

OBJECT_NOT_FOUND_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields "
    "with accounts, customers, items, vendors or employees.")
BUSINESS_VALIDATION = "A business validation error has occurred while processing your request"


@dataclass
class QBError:
    message: str
    detail: str
    code: str
    element: str = ""

    def as_json(self) -> dict[str, str]:
        return {"Message": self.message, "Detail": self.detail, "code": self.code,
                "element": self.element}


@dataclass
class QBFault(Exception):
    """A fault the service answers with: HTTP status, fault type and one or more errors."""

    errors: list[QBError]
    type: str = VALIDATION_FAULT
    status: int = 400
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"{e.code} {e.message}: {e.detail}" for e in self.errors)

    def fault_json(self) -> dict[str, Any]:
        return {"Error": [e.as_json() for e in self.errors], "type": self.type}


def fault(code: str, message: str, detail: str, element: str = "", *,
          type_: str = VALIDATION_FAULT, status: int = 400) -> QBFault:
    return QBFault([QBError(message, detail, code, element)], type_, status)


def required_missing(element: str) -> QBFault:
    return fault("2020", "Required param missing, need to supply the required value for the API",
                 f"Required parameter {element} is missing in the request", element)


def not_found(element: str = "") -> QBFault:
    return fault("610", "Object Not Found", OBJECT_NOT_FOUND_DETAIL, element)


def business_validation(detail: str, element: str = "") -> QBFault:
    return fault("6000", BUSINESS_VALIDATION, f"Business Validation Error: {detail}", element)


def string_too_long(element: str, max_length: int, supplied: int) -> QBFault:
    return fault("2050",
                 "String length is either shorter or longer than supported by specification",
                 f"String length specified does not match the supported length. Min:0 "
                 f"Max:{max_length} supported. Supplied length:{supplied}", element)


def unsupported_operation(operation: str) -> QBFault:
    return fault("500", "Unsupported Operation", f"Operation {operation} is not supported.")


def invalid_value(element: str, value: object) -> QBFault:
    return fault("2010", "Request has invalid or unsupported property",
                 f"Property Name:{element} specified is unsupported or invalid: {value!r}",
                 element)


def stale_object() -> QBFault:
    return fault("5010", "Stale Object Error",
                 "Stale Object Error : You and sandbox were working on this at the same time. "
                 "sandbox finished before you did, so your work was not saved.")


def query_parse_error(detail: str) -> QBFault:
    return fault("4000", "Error parsing query", f"QueryParserError: {detail}")


def query_validation_error(detail: str) -> QBFault:
    return fault("4001", "Invalid query", f"QueryValidationError: {detail}")


def system_failure() -> QBFault:
    return fault("10000", "An application error has occurred while processing your request",
                 "System Failure Error: An unexpected error occurred while accessing or saving "
                 "your data. Please wait a few minutes and try again. If the problem persists, "
                 "contact customer support.", type_=SYSTEM_FAULT, status=500)


def fault_body(error: QBFault, time_text: str) -> dict[str, Any]:
    return {"Fault": error.fault_json(), "time": time_text}


def auth_failed_body(time_text: str, *, status: int = 401, code: str = "3200",
                     reason: str = "AuthenticationFailed") -> dict[str, Any]:
    """The lower-case envelope the gateway sends for 401/403, as a live company answers."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {"error": [{
            "message": f"message={reason}; errorCode=00{code}; statusCode={status}",
            "detail": None, "code": code, "element": None}],
            "type": "AUTHENTICATION"},
        "time": time_text,
    }


# The throttle answer is XML even when JSON was asked for, as live companies answer.
_THROTTLE_ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="{{time}}">'
    '<Fault type="SERVICE"><Error code="3001">'
    "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
    "<Detail>{detail}</Detail>"
    "</Error></Fault></IntuitResponse>")
THROTTLE_XML = _THROTTLE_ENVELOPE.format(detail="The request limit was reached.  Try again later")
# The monthly CorePlus quota answers with the throttle's code 003001 (a third-party account:
# Rutter's help centre); Intuit documents no body for it, so this Detail is the sandbox's own.
QUOTA_XML = _THROTTLE_ENVELOPE.format(
    detail="The monthly limit of CorePlus API calls for this app was reached.  "
           "CorePlus calls are blocked until next month")

SERVICE_UNAVAILABLE_HTML = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>")
